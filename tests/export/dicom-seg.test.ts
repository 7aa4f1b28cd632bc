// DICOM SEG export read back by pydicom (geometry, segments, decoded frames) and checked by dciodvfy/dcmdump.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportDicomSeg, encodeDicomSeg, type DicomSegOptions } from '../../src-main/export/dicom/seg';
import { slicePositionMm } from '../../src-main/export/dicom/seg-frames';
import type { SourceSeriesRef } from '../../src-main/export/dicom/source-ref';
import { newUid } from '../../src-main/export/dicom/uid';
import { srgbToDicomLab } from '../../src-main/export/dicom/cielab';
import { LABEL_SCHEMAS, CODES } from '../../src-main/labels/schemas';
import type { Volume } from '../../src-main/imaging/volume';
import {
  OBLIQUE_GRID,
  hasCommand,
  hasPythonModules,
  indexImage,
  lcg,
  makeTempDir,
  patternLabel,
  runPythonJson,
} from './helpers';

interface SegRead {
  transferSyntax: string;
  sopClassUid: string;
  sopInstanceUid: string;
  mediaSopInstanceUid: string;
  modality: string;
  segmentationType: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  frameOfReferenceUid: string;
  patientName: string;
  patientId: string;
  rows: number;
  columns: number;
  bitsAllocated: number;
  numberOfFrames: number;
  orientation: number[];
  pixelSpacing: number[];
  sliceThickness: number;
  referencedSeries: { seriesInstanceUid: string; instances: string[] }[];
  segments: {
    number: number;
    label: string;
    algorithmType: string;
    algorithmName: string | null;
    cielab: number[];
    category: { value: string; scheme: string; meaning: string };
    type: { value: string; scheme: string; meaning: string };
    region: { value: string } | null;
  }[];
  frames: { position: number[]; segment: number; dimensionIndex: number[]; source: string; pixels: string }[];
}

const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

/** A source series for `image` as the DICOM reader would describe it: positions rounded like DS, shuffled order. */
function sourceFor(image: Volume): SourceSeriesRef {
  const rnd = lcg(3);
  const instances = Array.from({ length: image.dims[2] }, (_, k) => ({
    sopClassUid: CT_IMAGE_STORAGE,
    sopInstanceUid: newUid(),
    positionMm: slicePositionMm(image, k).map((x) => Number(x.toFixed(4))) as [number, number, number],
  }));
  instances.sort(() => rnd() - 0.5);
  return {
    studyInstanceUid: newUid(),
    seriesInstanceUid: newUid(),
    frameOfReferenceUid: newUid(),
    patientName: 'Phantom^Synthetic',
    patientId: 'SYN-0001',
    patientSex: 'O',
    studyDate: '20261126',
    studyTime: '101500',
    instances,
  };
}

const tmp = makeTempDir('seg');
afterAll(() => tmp.cleanup());

const kidneyOpts: DicomSegOptions = {
  schema: LABEL_SCHEMAS.kidney,
  algorithmType: 'SEMIAUTOMATIC',
  algorithmName: 'DeformUX-Net kidney v3',
  contentCreatorName: 'Annotator^Ann',
};

describe.skipIf(!hasPythonModules('pydicom', 'numpy'))('DICOM SEG read back by pydicom', () => {
  const image = indexImage(OBLIQUE_GRID);
  const label = patternLabel(OBLIQUE_GRID, 3);
  const source = sourceFor(image);
  const path = join(tmp.dir, 'kidney.seg.dcm');
  let seg: SegRead;
  let summary: Awaited<ReturnType<typeof exportDicomSeg>>;

  beforeAll(async () => {
    summary = await exportDicomSeg(path, label, image, source, kidneyOpts);
    seg = runPythonJson<SegRead>('seg_read.py', [path]);
  });

  it('is a binary Segmentation object in explicit VR little endian referencing its series', () => {
    expect(seg.transferSyntax).toBe('1.2.840.10008.1.2.1');
    expect(seg.sopClassUid).toBe('1.2.840.10008.5.1.4.1.1.66.4');
    expect(seg.mediaSopInstanceUid).toBe(seg.sopInstanceUid);
    expect(seg.sopInstanceUid).toBe(summary.sopInstanceUid);
    expect(seg.modality).toBe('SEG');
    expect(seg.segmentationType).toBe('BINARY');
    expect(seg.bitsAllocated).toBe(1);
    expect(seg.studyInstanceUid).toBe(source.studyInstanceUid);
    expect(seg.frameOfReferenceUid).toBe(source.frameOfReferenceUid);
    expect(seg.seriesInstanceUid).not.toBe(source.seriesInstanceUid);
    expect(seg.patientName).toBe('Phantom^Synthetic');
    expect(seg.patientId).toBe('SYN-0001');
    expect(seg.referencedSeries).toHaveLength(1);
    expect(seg.referencedSeries[0].seriesInstanceUid).toBe(source.seriesInstanceUid);
    expect(new Set(seg.referencedSeries[0].instances)).toEqual(new Set(source.instances.map((i) => i.sopInstanceUid)));
  });

  it('carries the grid: rows along j, columns along i, orientation and spacing of the image', () => {
    expect(seg.rows).toBe(5);
    expect(seg.columns).toBe(7);
    const d = image.direction;
    seg.orientation.forEach((x, p) => expect(Math.abs(x - d[p])).toBeLessThan(1e-9));
    expect(seg.pixelSpacing).toEqual([0.9, 0.7]);
    expect(seg.sliceThickness).toBe(2.5);
  });

  it('has one segment per non-empty class with schema names, colours, codes and algorithm', () => {
    expect(seg.segments.map((s) => [s.number, s.label])).toEqual([
      [1, 'kidney'],
      [2, 'tumor'],
      [3, 'cyst'],
    ]);
    for (const s of seg.segments) {
      const cls = LABEL_SCHEMAS.kidney.classes.find((c) => c.name === s.label)!;
      expect(s.cielab).toEqual(srgbToDicomLab(cls.color));
      expect(s.algorithmType).toBe('SEMIAUTOMATIC');
      expect(s.algorithmName).toBe('DeformUX-Net kidney v3');
    }
    expect(seg.segments[0].type).toEqual(CODES.kidney);
    expect(seg.segments[0].category).toEqual(CODES.anatomicalStructure);
    expect(seg.segments[1].type).toEqual(CODES.neoplasm);
    expect(seg.segments[2].type).toEqual(CODES.cyst);
    expect(seg.segments[2].category).toEqual(CODES.morphologicallyAbnormal);
    expect(seg.segments[2].region?.value).toBe(CODES.kidney.value);
  });

  it('decodes to exactly the label voxels when frames are placed by their plane positions', () => {
    const [ni, nj, nk] = image.dims;
    const d = image.direction;
    const rebuilt = new Uint8Array(ni * nj * nk);
    const segValue = new Map(
      seg.segments.map((s) => [s.number, LABEL_SCHEMAS.kidney.classes.find((c) => c.name === s.label)!.value]),
    );
    expect(seg.numberOfFrames).toBe(seg.frames.length);
    const sliceOf = (f: SegRead['frames'][number]): number => {
      const rel = [0, 1, 2].map((a) => f.position[a] - image.originMm[a]);
      return Math.round((rel[0] * d[6] + rel[1] * d[7] + rel[2] * d[8]) / image.spacingMm[2]);
    };
    // Dimension index values number the distinct positions the frames use (slice 0 is empty here).
    const usedSlices = [...new Set(seg.frames.map(sliceOf))].sort((a, b) => a - b);
    expect(usedSlices[0]).toBe(1);
    for (const f of seg.frames) {
      // Where does this frame sit? Project its position onto the image axes (independent of frame order).
      const rel = [0, 1, 2].map((a) => f.position[a] - image.originMm[a]);
      const along = (axis: number): number =>
        (rel[0] * d[axis * 3] + rel[1] * d[axis * 3 + 1] + rel[2] * d[axis * 3 + 2]) / image.spacingMm[axis];
      expect(Math.abs(along(0))).toBeLessThan(1e-6);
      expect(Math.abs(along(1))).toBeLessThan(1e-6);
      const k = Math.round(along(2));
      expect(Math.abs(along(2) - k)).toBeLessThan(1e-6);
      expect(f.dimensionIndex).toEqual([f.segment, usedSlices.indexOf(k) + 1]);
      const inst = source.instances.find((i) => i.sopInstanceUid === f.source)!;
      expect(Math.hypot(...inst.positionMm.map((x, a) => x - f.position[a]))).toBeLessThan(1e-3);
      const value = segValue.get(f.segment)!;
      Buffer.from(f.pixels, 'base64').forEach((bit, p) => {
        if (bit) {
          expect(rebuilt[k * ni * nj + p]).toBe(0);
          rebuilt[k * ni * nj + p] = value;
        }
      });
    }
    expect(Array.from(rebuilt)).toEqual(Array.from(label.data));
    // Empty slices get no frames: slice 0 is empty and the cyst sits in two slices only.
    expect(seg.frames.filter((f) => f.segment === 3)).toHaveLength(2);
  });

  it.skipIf(!hasCommand('dciodvfy'))('passes dciodvfy without errors', () => {
    const res = spawnSync('dciodvfy', [path], { encoding: 'utf8' });
    const lines = `${res.stdout}\n${res.stderr}`.split('\n');
    const errors = lines.filter((l) => /^Error/.test(l));
    expect(errors).toEqual([]);
    expect(lines.join('\n')).toMatch(/Segmentation/);
  });

  it.skipIf(!hasCommand('dcmdump'))('parses with dcmtk dcmdump', () => {
    const out = execFileSync('dcmdump', ['+L', path], { encoding: 'utf8' });
    expect(out).toMatch(/SegmentationStorage/);
    expect(out).toMatch(/\(0062,0005\) LO \[kidney\]/);
  });

  it('writes MANUAL segments without an algorithm name, pancreas codes, only present classes', async () => {
    const pancreas = patternLabel(OBLIQUE_GRID, 2, 9);
    for (let p = 0; p < pancreas.data.length; p++) if (pancreas.data[p] === 1) pancreas.data[p] = 0;
    const file = join(tmp.dir, 'pancreas.seg.dcm');
    await exportDicomSeg(file, pancreas, image, source, { schema: LABEL_SCHEMAS.pancreas, algorithmType: 'MANUAL' });
    const got = runPythonJson<SegRead>('seg_read.py', [file]);
    expect(got.segments.map((s) => [s.number, s.label, s.algorithmType, s.algorithmName])).toEqual([
      [1, 'tumor', 'MANUAL', null],
    ]);
    expect(got.segments[0].region?.value).toBe(CODES.pancreas.value);
  });
});

describe('DICOM SEG refusals', () => {
  const image = indexImage(OBLIQUE_GRID);
  const source = sourceFor(image);

  it('refuses a value outside the schema, naming it', () => {
    const label = patternLabel(OBLIQUE_GRID, 3);
    expect(() => encodeDicomSeg(label, image, source, { ...kidneyOpts, schema: LABEL_SCHEMAS.pancreas })).toThrow(
      /value 3 .*not a class of the label schema/,
    );
  });

  it('refuses a label whose slice has no source image', () => {
    const partial = {
      ...source,
      instances: source.instances.filter((i) => i.positionMm !== source.instances[0].positionMm),
    };
    expect(() => encodeDicomSeg(patternLabel(OBLIQUE_GRID, 3), image, partial, kidneyOpts)).toThrow(
      /has no image of series .* within 0.250 mm/,
    );
  });

  it('refuses a label off the image grid, an empty label and a missing algorithm name', () => {
    const shifted = { ...patternLabel(OBLIQUE_GRID, 3), originMm: [0, 0, 0] as [number, number, number] };
    expect(() => encodeDicomSeg(shifted, image, source, kidneyOpts)).toThrow(/origin .*differs/);
    const empty = { ...patternLabel(OBLIQUE_GRID, 3), data: new Uint8Array(7 * 5 * 6) };
    expect(() => encodeDicomSeg(empty, image, source, kidneyOpts)).toThrow(/label is empty/);
    expect(() =>
      encodeDicomSeg(patternLabel(OBLIQUE_GRID, 3), image, source, { ...kidneyOpts, algorithmName: undefined }),
    ).toThrow(/needs the algorithm's name/);
    expect(() =>
      encodeDicomSeg(patternLabel(OBLIQUE_GRID, 3), image, { ...source, studyInstanceUid: '1.02.3' }, kidneyOpts),
    ).toThrow(/study instance UID "1.02.3" is not a valid/);
  });

  it('writes nothing when refused', async () => {
    const file = join(tmp.dir, 'refused.dcm');
    const empty = { ...patternLabel(OBLIQUE_GRID, 3), data: new Uint8Array(7 * 5 * 6) };
    await expect(exportDicomSeg(file, empty, image, source, kidneyOpts)).rejects.toThrow(
      /refused.dcm: the label is empty/,
    );
    expect(existsSync(file)).toBe(false);
    expect(readFileSync.length).toBeGreaterThan(0);
  });
});
