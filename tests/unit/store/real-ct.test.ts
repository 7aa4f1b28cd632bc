// Real CT through the API (skips when ../shared/data/real is absent): import a NIfTI and a DICOM
// folder, then check voxels and geometry against nibabel (NIfTI) and against the file itself.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandlers } from '../../../src-main/api/handlers';
import type { ApiHandlers } from '../../../src-main/api/handlers';
import type { CaseSummary } from '../../../src-main/api/contract';
import { ProjectStore } from '../../../src-main/store/project';
import { tempDir } from '../helpers';

const REAL = resolve(import.meta.dirname, '../../../../shared/data/real');
const NIFTI = join(REAL, 'totalseg_example_ct_sm_kidney_pancreas_3mm.nii.gz');
const DICOM = join(REAL, 'totalseg_example_ct_dicom');
const PYTHON = '/usr/bin/python3';
const haveData = existsSync(NIFTI) && existsSync(DICOM);
const haveNibabel = haveData && spawnSync(PYTHON, ['-c', 'import nibabel']).status === 0;

let t: ReturnType<typeof tempDir>;
let store: ProjectStore;
let api: ApiHandlers;
let imported: CaseSummary[] = [];

beforeAll(async () => {
  if (!haveData) return;
  t = tempDir('real');
  store = ProjectStore.create(join(t.dir, 'p'), { schema: 'kidney' });
  api = createApiHandlers({ store });
  const result = await api.call('cases.import', { paths: [NIFTI, DICOM] });
  expect(result.errors).toEqual([]);
  imported = result.imported;
});

afterAll(() => {
  store?.close();
  t?.cleanup();
});

describe.skipIf(!haveData)('real CT import', () => {
  it('imports the NIfTI file and the DICOM folder as two cases', () => {
    expect(imported.map((c) => c.dims)).toEqual([
      [122, 101, 30],
      [512, 512, 20],
    ]);
    expect(imported[0].name).toBe('totalseg_example_ct_sm_kidney_pancreas_3mm');
  });

  it.skipIf(!haveNibabel)('serves the NIfTI case voxel for voxel and with the affine nibabel reads', async () => {
    // nibabel: RAS affine and a few voxels by (i, j, k), plus the sum as a whole-volume check.
    const script = `
import json, sys, nibabel as nib, numpy as np
img = nib.load(sys.argv[1]); a = np.asanyarray(img.dataobj).astype(np.int64)
pts = [[0,0,0],[121,0,0],[0,100,0],[0,0,29],[61,50,15],[100,20,7]]
print(json.dumps({"affine": img.affine.tolist(), "sum": int(a.sum()), "pts": [int(a[i,j,k]) for i,j,k in pts]}))`;
    const run = spawnSync(PYTHON, ['-c', script, NIFTI], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const ref = JSON.parse(run.stdout) as { affine: number[][]; sum: number; pts: number[] };
    const c = imported[0];
    const header = await api.call('cases.open', { caseId: c.id });
    expect(header.dataType).toBe('int16');
    const bytes = await api.binary('cases.volumeData', { caseId: c.id });
    const hu = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
    const [ni, nj] = header.dims;
    const at = (i: number, j: number, k: number) => hu[i + ni * (j + nj * k)];
    const pts = [
      [0, 0, 0],
      [121, 0, 0],
      [0, 100, 0],
      [0, 0, 29],
      [61, 50, 15],
      [100, 20, 7],
    ];
    expect(pts.map(([i, j, k]) => at(i, j, k))).toEqual(ref.pts);
    expect(hu.reduce((s, x) => s + x, 0)).toBe(ref.sum);
    // LPS = RAS with the first two rows negated; columns are direction × spacing (tolerance 1e-4 mm).
    for (let row = 0; row < 3; row++) {
      const sign = row < 2 ? -1 : 1;
      for (let col = 0; col < 3; col++) {
        expect(header.direction[col * 3 + row] * header.spacingMm[col]).toBeCloseTo(sign * ref.affine[row][col], 4);
      }
      expect(header.originMm[row]).toBeCloseTo(sign * ref.affine[row][3], 4);
    }
  });

  it('keeps the DICOM series geometry and voxels through the stored .nii.gz', async () => {
    const c = imported[1];
    const header = await api.call('cases.open', { caseId: c.id });
    expect(header.spacingMm[0]).toBeCloseTo(0.977, 3);
    expect(header.spacingMm[2]).toBeCloseTo(2, 3);
    const io = await store.io();
    const direct = await io.read(DICOM);
    const bytes = await api.binary('cases.volumeData', { caseId: c.id });
    const stored =
      header.dataType === 'int16' ? new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2) : null;
    expect(stored).not.toBeNull();
    expect(stored!.length).toBe(direct.data.length);
    let differing = 0;
    for (let n = 0; n < stored!.length; n++) if (stored![n] !== direct.data[n]) differing++;
    expect(differing).toBe(0);
    direct.originMm.forEach((x, n) => expect(header.originMm[n]).toBeCloseTo(x, 4));
    direct.direction.forEach((x, n) => expect(header.direction[n]).toBeCloseTo(x, 6));
  });
});
