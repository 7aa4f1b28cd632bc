// Smoke tests on the real CT in ../shared/data/real (skipped when absent): NIfTI label export on a real
// grid read back by nibabel, and a DICOM SEG referencing the real DICOM series checked by dciodvfy/pydicom.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportDicomSeg } from '../../src-main/export/dicom/seg';
import type { SourceSeriesRef } from '../../src-main/export/dicom/source-ref';
import { newUid } from '../../src-main/export/dicom/uid';
import { exportLabelNifti } from '../../src-main/export/nifti-label';
import { readNifti } from '../../src-main/imaging/nifti';
import type { Direction, Vec3, Volume } from '../../src-main/imaging/volume';
import { LABEL_SCHEMAS } from '../../src-main/labels/schemas';
import { compareLabels } from '../../src-main/labels/metrics';
import { REAL_DIR, hasCommand, hasPythonModules, makeTempDir, runPythonJson } from './helpers';

const CT = join(REAL_DIR, 'totalseg_example_ct_sm_kidney_pancreas_3mm.nii.gz');
const LABELS = join(REAL_DIR, 'totalseg_example_seg_sm_labels.nii.gz');
const DICOM_DIR = join(REAL_DIR, 'totalseg_example_ct_dicom');
const haveReal = existsSync(CT) && existsSync(LABELS) && existsSync(DICOM_DIR);
const havePython = hasPythonModules('nibabel', 'pydicom', 'numpy');

const tmp = makeTempDir('real');
afterAll(() => tmp.cleanup());

describe.skipIf(!haveReal || !havePython)('exports on real CT', () => {
  it('writes TotalSegmentator kidneys as a kidney label on the real CT grid, read back by nibabel', async () => {
    const image = await readNifti(CT);
    const ts = await readNifti(LABELS);
    // TotalSegmentator: 2 right kidney, 3 left kidney → our class 1 (kidney).
    const kidney = new Uint8Array(ts.data.length);
    for (let p = 0; p < kidney.length; p++) kidney[p] = ts.data[p] === 2 || ts.data[p] === 3 ? 1 : 0;
    const label: Volume = { ...ts, data: kidney };
    const out = join(tmp.dir, 'kidney.nii.gz');
    await exportLabelNifti(out, label, image);
    const [img, lab] = runPythonJson<{ affine: number[][]; voxels: number[]; shape: number[] }[]>('nib_read.py', [
      CT,
      out,
    ]);
    expect(lab.shape).toEqual(img.shape);
    for (let r = 0; r < 4; r++)
      for (let c = 0; c < 4; c++) expect(Math.abs(lab.affine[r][c] - img.affine[r][c])).toBeLessThan(1e-4);
    expect(lab.voxels).toEqual(Array.from(kidney));
    const stats = compareLabels(kidney, kidney, [1]);
    expect(stats.classes[0].voxelsA).toBeGreaterThan(1000);
    expect(stats.classes[0].dice).toBe(1);
  });

  it('writes a SEG that references the real DICOM series, passes dciodvfy and lands on its slices', async () => {
    const ref = runPythonJson<{
      studyInstanceUid: string;
      seriesInstanceUid: string;
      frameOfReferenceUid: string;
      rows: number;
      columns: number;
      orientation: number[];
      pixelSpacing: number[];
      instances: SourceSeriesRef['instances'];
    }>('dicom_series_ref.py', [DICOM_DIR]);
    // The example is anonymised down to blank study/series UIDs; a SEG must still name some.
    const source: SourceSeriesRef = {
      ...ref,
      studyInstanceUid: ref.studyInstanceUid || newUid(),
      seriesInstanceUid: ref.seriesInstanceUid || newUid(),
    };
    const o = ref.orientation;
    const normal: Vec3 = [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]];
    const along = (p: Vec3): number => p[0] * normal[0] + p[1] * normal[1] + p[2] * normal[2];
    const sorted = [...ref.instances].sort((a, b) => along(a.positionMm) - along(b.positionMm));
    const nk = sorted.length;
    const stepMm = (along(sorted[nk - 1].positionMm) - along(sorted[0].positionMm)) / (nk - 1);
    const grid = {
      dims: [ref.columns, ref.rows, nk] as Vec3,
      spacingMm: [ref.pixelSpacing[1], ref.pixelSpacing[0], stepMm] as Vec3,
      originMm: sorted[0].positionMm,
      direction: [...o, ...normal] as Direction,
    };
    const image: Volume = {
      ...grid,
      data: new Int16Array(0),
      modality: 'CT',
      description: 'real series',
      source: DICOM_DIR,
    };
    const data = new Uint8Array(ref.columns * ref.rows * nk);
    // A kidney block on slices 3..12 and a tumor block inside it on slices 6..8.
    for (let k = 3; k <= 12; k++)
      for (let j = 300; j < 340; j++)
        for (let i = 100; i < 150; i++)
          data[i + ref.columns * (j + ref.rows * k)] = k >= 6 && k <= 8 && i > 120 ? 2 : 1;
    const label: Volume = { ...grid, data, modality: 'SEG', description: 'test label', source: 'test' };
    const file = join(tmp.dir, 'real.seg.dcm');
    const summary = await exportDicomSeg(file, label, image, source, {
      schema: LABEL_SCHEMAS.kidney,
      algorithmType: 'MANUAL',
    });
    expect(summary.segments.map((s) => s.frames)).toEqual([10, 3]);
    if (hasCommand('dciodvfy')) {
      const res = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
      expect(`${res.stdout}\n${res.stderr}`.split('\n').filter((l) => /^Error/.test(l))).toEqual([]);
    }
    const seg = runPythonJson<{ frames: { position: number[]; segment: number; source: string; pixels: string }[] }>(
      'seg_read.py',
      [file],
    );
    expect(seg.frames).toHaveLength(13);
    for (const f of seg.frames) {
      const inst = source.instances.find((i) => i.sopInstanceUid === f.source)!;
      expect(Math.hypot(...inst.positionMm.map((x, a) => x - f.position[a]))).toBeLessThan(0.01);
      // Segment 1 is kidney (value 1), segment 2 tumor (value 2): the frame must equal that slice's mask.
      const k = sorted.indexOf(inst);
      const slice = data.subarray(k * ref.columns * ref.rows, (k + 1) * ref.columns * ref.rows);
      const want = Buffer.from(Uint8Array.from(slice, (v) => (v === f.segment ? 1 : 0)));
      expect(Buffer.from(f.pixels, 'base64').equals(want)).toBe(true);
    }
  });
});
