// nnU-Net v2 dataset export: layout, dataset.json, images/labels read back by nibabel, atomicity, cancel.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportNnunetDataset, type NnunetCase } from '../../src-main/export/nnunet';
import { LABEL_SCHEMAS } from '../../src-main/labels/schemas';
import type { Volume } from '../../src-main/imaging/volume';
import {
  OBLIQUE_GRID,
  hasPythonModules,
  indexImage,
  makeTempDir,
  patternLabel,
  runPythonJson,
  volumeOn,
  type TestGrid,
} from './helpers';

interface NibInfo {
  shape: number[];
  dtype: string;
  affine: number[][];
  voxels: number[];
}

const tmp = makeTempDir('nnunet');
afterAll(() => tmp.cleanup());

const OTHER_GRID: TestGrid = { ...OBLIQUE_GRID, dims: [6, 4, 3], spacingMm: [0.8, 0.8, 3], originMm: [10, -5, 40] };

function caseOf(caseId: string, image: Volume, label: Volume): NnunetCase {
  return { caseId, loadImage: async () => image, loadLabel: async () => label };
}

function twoCases(): { cases: NnunetCase[]; volumes: [Volume, Volume][] } {
  const a: [Volume, Volume] = [indexImage(OBLIQUE_GRID), patternLabel(OBLIQUE_GRID, 3, 1)];
  const b: [Volume, Volume] = [indexImage(OTHER_GRID), patternLabel(OTHER_GRID, 3, 2)];
  return { cases: [caseOf('case_0001', ...a), caseOf('case_0002', ...b)], volumes: [a, b] };
}

describe('exportNnunetDataset', () => {
  it.skipIf(!hasPythonModules('nibabel', 'numpy'))(
    'writes imagesTr, labelsTr and dataset.json that nibabel reads on matching grids',
    async () => {
      const { cases, volumes } = twoCases();
      const progress: number[] = [];
      const res = await exportNnunetDataset({
        outDir: tmp.dir,
        datasetId: 7,
        datasetName: 'KidneySynthetic',
        schema: LABEL_SCHEMAS.kidney,
        cases,
        description: 'synthetic phantoms',
        onProgress: (f) => progress.push(f),
      });
      expect(res.datasetDir).toBe(join(tmp.dir, 'Dataset007_KidneySynthetic'));
      expect(res.numTraining).toBe(2);
      expect(readdirSync(res.datasetDir).sort()).toEqual(['dataset.json', 'imagesTr', 'labelsTr']);
      expect(readdirSync(join(res.datasetDir, 'imagesTr')).sort()).toEqual([
        'case_0001_0000.nii.gz',
        'case_0002_0000.nii.gz',
      ]);
      expect(readdirSync(join(res.datasetDir, 'labelsTr')).sort()).toEqual(['case_0001.nii.gz', 'case_0002.nii.gz']);
      const json = JSON.parse(readFileSync(join(res.datasetDir, 'dataset.json'), 'utf8'));
      expect(json).toMatchObject({
        channel_names: { '0': 'CT' },
        labels: { background: 0, kidney: 1, tumor: 2, cyst: 3 },
        numTraining: 2,
        file_ending: '.nii.gz',
      });
      expect(progress[0]).toBe(0);
      expect(progress.at(-1)).toBe(1);
      // No temp folder left beside the dataset.
      expect(readdirSync(tmp.dir).filter((n) => n.startsWith('.'))).toEqual([]);

      for (const [n, id] of ['case_0001', 'case_0002'].entries()) {
        const [img, lab] = runPythonJson<NibInfo[]>('nib_read.py', [
          join(res.datasetDir, 'imagesTr', `${id}_0000.nii.gz`),
          join(res.datasetDir, 'labelsTr', `${id}.nii.gz`),
        ]);
        expect(lab.affine).toEqual(img.affine);
        expect(lab.dtype).toBe('uint8');
        expect(img.dtype).toBe('int16');
        expect(img.shape).toEqual([...volumes[n][0].dims]);
        expect(img.voxels).toEqual(Array.from(volumes[n][0].data));
        expect(lab.voxels).toEqual(Array.from(volumes[n][1].data));
      }
    },
  );

  it('refuses to overwrite an existing dataset unless asked, then replaces it whole', async () => {
    const { cases } = twoCases();
    const opts = { outDir: tmp.dir, datasetId: 8, datasetName: 'Again', schema: LABEL_SCHEMAS.kidney, cases };
    await exportNnunetDataset(opts);
    await expect(exportNnunetDataset(opts)).rejects.toThrow(/Dataset008_Again already exists/);
    const res = await exportNnunetDataset({ ...opts, cases: cases.slice(0, 1), overwrite: true });
    expect(readdirSync(join(res.datasetDir, 'labelsTr'))).toEqual(['case_0001.nii.gz']);
    expect(JSON.parse(readFileSync(join(res.datasetDir, 'dataset.json'), 'utf8')).numTraining).toBe(1);
    expect(readdirSync(tmp.dir).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('stops when cancelled and leaves neither the dataset nor a temp folder', async () => {
    const { cases } = twoCases();
    const controller = new AbortController();
    const run = exportNnunetDataset({
      outDir: tmp.dir,
      datasetId: 9,
      datasetName: 'Cancelled',
      schema: LABEL_SCHEMAS.kidney,
      cases,
      signal: controller.signal,
      onProgress: (f) => {
        if (f > 0) controller.abort();
      },
    });
    await expect(run).rejects.toThrow(/cancelled|aborted/i);
    expect(existsSync(join(tmp.dir, 'Dataset009_Cancelled'))).toBe(false);
    expect(readdirSync(tmp.dir).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('refuses a case whose label is off its image grid, naming the case, and leaves nothing', async () => {
    const { cases } = twoCases();
    const bad = caseOf('case_0003', indexImage(OBLIQUE_GRID), patternLabel(OTHER_GRID, 3));
    await expect(
      exportNnunetDataset({
        outDir: tmp.dir,
        datasetId: 10,
        datasetName: 'Bad',
        schema: LABEL_SCHEMAS.kidney,
        cases: [...cases, bad],
      }),
    ).rejects.toThrow(/case case_0003: refusing to export a label that is not on its image's grid: the label is 6×4×3/);
    expect(existsSync(join(tmp.dir, 'Dataset010_Bad'))).toBe(false);
    expect(readdirSync(tmp.dir).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('refuses bad ids, names and duplicate or unsafe case ids', async () => {
    const { cases } = twoCases();
    const base = { outDir: tmp.dir, datasetName: 'X', schema: LABEL_SCHEMAS.pancreas, cases };
    await expect(exportNnunetDataset({ ...base, datasetId: 0 })).rejects.toThrow(/1\.\.999, got 0/);
    await expect(exportNnunetDataset({ ...base, datasetId: 11, datasetName: 'a b' })).rejects.toThrow(
      /"a b" may only hold/,
    );
    await expect(exportNnunetDataset({ ...base, datasetId: 11, cases: [cases[0], cases[0]] })).rejects.toThrow(
      /"case_0001" appears twice/,
    );
    await expect(
      exportNnunetDataset({ ...base, datasetId: 11, cases: [{ ...cases[0], caseId: '../x' }] }),
    ).rejects.toThrow(/"..\/x" may only hold/);
    await expect(exportNnunetDataset({ ...base, datasetId: 11, cases: [] })).rejects.toThrow(
      /at least one submitted case/,
    );
    const floaty = caseOf(
      'f',
      indexImage(OBLIQUE_GRID),
      volumeOn(OBLIQUE_GRID, new Float32Array(210).fill(0.5), 'SEG', 'x'),
    );
    await expect(exportNnunetDataset({ ...base, datasetId: 12, cases: [floaty] })).rejects.toThrow(
      /case f: the label holds the value 0.5/,
    );
  });
});
