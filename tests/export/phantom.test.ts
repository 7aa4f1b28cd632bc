// Exports of a synthetic phantom case (realistic organ shapes) given an oblique grid, read back by
// nibabel and pydicom; and the per-case statistics after a simulated correction.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeDicomSeg } from '../../src-main/export/dicom/seg';
import { slicePositionMm } from '../../src-main/export/dicom/seg-frames';
import { newUid } from '../../src-main/export/dicom/uid';
import { exportLabelNifti } from '../../src-main/export/nifti-label';
import { writeFileAtomic } from '../../src-main/util/atomic';
import type { Volume } from '../../src-main/imaging/volume';
import { compareLabels, voxelsPerClass } from '../../src-main/labels/metrics';
import { LABEL_SCHEMAS } from '../../src-main/labels/schemas';
import { generatePhantom } from '../../src-main/phantom';
import { hasPythonModules, makeTempDir, obliqueDirection, runPythonJson } from './helpers';

const tmp = makeTempDir('phantom');
afterAll(() => tmp.cleanup());

/** A small kidney phantom (seed 2 has kidney, tumor and cyst) moved onto an oblique grid (same voxels). */
function obliquePhantom(): { image: Volume; label: Volume } {
  const c = generatePhantom({ seed: 2, schema: 'kidney', dims: [48, 40, 24] });
  const geometry = { originMm: [-150.5, 120.25, -310] as Volume['originMm'], direction: obliqueDirection(5, -8, 12) };
  return { image: { ...c.image, ...geometry }, label: { ...c.label, ...geometry } };
}

describe('phantom case exports', () => {
  it('reports changed voxels and per-class Dice after erasing the tumor of the pre-label', () => {
    const { label } = obliquePhantom();
    const counts = voxelsPerClass(label.data);
    expect(counts[1]).toBeGreaterThan(0);
    expect(counts[2]).toBeGreaterThan(0);
    const corrected = Uint8Array.from(label.data, (v) => (v === 2 ? 1 : v));
    const stats = compareLabels(label.data, corrected, [1, 2, 3]);
    expect(stats.changedVoxels).toBe(counts[2]);
    expect(stats.classes[1]).toMatchObject({ voxelsA: counts[2], voxelsB: 0, dice: 0 });
    expect(stats.classes[0].dice).toBeCloseTo((2 * counts[1]) / (2 * counts[1] + counts[2]), 12);
  });

  it.skipIf(!hasPythonModules('nibabel', 'pydicom', 'numpy'))(
    'NIfTI and DICOM SEG of the phantom decode to its label voxels',
    async () => {
      const { image, label } = obliquePhantom();
      const nii = join(tmp.dir, 'phantom-label.nii.gz');
      await exportLabelNifti(nii, label, image);
      const [lab] = runPythonJson<{ voxels: number[] }[]>('nib_read.py', [nii]);
      expect(lab.voxels).toEqual(Array.from(label.data));

      const [ni, nj, nk] = image.dims;
      const source = {
        studyInstanceUid: newUid(),
        seriesInstanceUid: newUid(),
        frameOfReferenceUid: newUid(),
        instances: Array.from({ length: nk }, (_, k) => ({
          sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
          sopInstanceUid: newUid(),
          positionMm: slicePositionMm(image, k),
        })),
      };
      const { bytes } = encodeDicomSeg(label, image, source, { schema: LABEL_SCHEMAS.kidney, algorithmType: 'MANUAL' });
      const file = join(tmp.dir, 'phantom.seg.dcm');
      await writeFileAtomic(file, bytes);
      const seg = runPythonJson<{
        segments: { number: number; label: string }[];
        frames: { segment: number; source: string; pixels: string }[];
      }>('seg_read.py', [file]);
      const valueOf = new Map(
        seg.segments.map((s) => [s.number, LABEL_SCHEMAS.kidney.classes.find((c) => c.name === s.label)!.value]),
      );
      const rebuilt = new Uint8Array(label.data.length);
      for (const f of seg.frames) {
        const k = source.instances.findIndex((i) => i.sopInstanceUid === f.source);
        Buffer.from(f.pixels, 'base64').forEach((bit, p) => {
          if (bit) rebuilt[k * ni * nj + p] = valueOf.get(f.segment)!;
        });
      }
      expect(Buffer.from(rebuilt).equals(Buffer.from(label.data as Uint8Array))).toBe(true);
    },
  );
});
