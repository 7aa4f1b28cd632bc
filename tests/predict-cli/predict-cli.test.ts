// `deformux predict` end to end with a tiny model: exact output geometry, uncertainty, bad input, worklists, missing starter model.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readNifti, writeNifti } from '../../src-main/imaging/nifti';
import { readVolume } from '../../src-main/imaging/read';
import type { Volume } from '../../src-main/imaging/volume';
import { smallCt, writeTinyModel } from './tiny-model';

const exec = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'deformux-predict-cli-'));
let modelDir = '';
let coarseModelDir = '';
const REAL_DICOM = join(__dirname, '..', '..', '..', 'shared', 'data', 'real', 'totalseg_example_ct_dicom');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  modelDir = await writeTinyModel(join(dir, 'models'), 'kidney');
  // 12 mm voxels: a full-size real CT becomes a few patches for the tiny network.
  coarseModelDir = await writeTinyModel(join(dir, 'models'), 'pancreas', 'coarse', [12, 12, 12]);
}, 30_000);

async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [join(ROOT, 'bin', 'deformux.mjs'), 'predict', ...args], {
      cwd: ROOT,
      timeout: 60_000,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function expectSameGrid(a: Volume, b: Volume): void {
  // NIfTI stores the affine as float32: compare within float32 rounding of the inputs.
  expect(a.dims).toEqual(b.dims);
  for (let n = 0; n < 3; n++) {
    expect(Math.abs(a.spacingMm[n] - b.spacingMm[n])).toBeLessThan(1e-5);
    expect(Math.abs(a.originMm[n] - b.originMm[n])).toBeLessThan(1e-4);
  }
  for (let n = 0; n < 9; n++) expect(Math.abs(a.direction[n] - b.direction[n])).toBeLessThan(1e-6);
}

describe('deformux predict', () => {
  it('pre-labels a NIfTI file onto its exact grid, with uncertainty in [0, 1] and a per-case summary', async () => {
    const ct = join(dir, 'ct.nii.gz');
    await writeNifti(ct, smallCt());
    const out = join(dir, 'label.nii.gz');
    const unc = join(dir, 'unc.nii.gz');
    const r = await cli([ct, '--schema', 'kidney', '--model', modelDir, '--out', out, '--uncertainty', unc, '--json']);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    const input = await readNifti(ct);
    const label = await readNifti(out);
    const u = await readNifti(unc);
    expectSameGrid(label, input);
    expectSameGrid(u, input);
    expect(label.data).toBeInstanceOf(Uint8Array);
    let max = 0;
    for (const v of label.data) max = Math.max(max, v);
    expect(max).toBeLessThanOrEqual(3);
    for (const v of u.data) expect(v >= 0 && v <= 1).toBe(true);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ok: boolean; voxelsPerClass: number[] };
    expect(summary.ok).toBe(true);
    // The summary's counts are the written label's counts.
    const counts = [0, 0, 0, 0];
    for (const v of label.data) counts[v]++;
    expect(summary.voxelsPerClass).toEqual(counts);
  }, 60_000);

  it('exits non-zero with a message naming an unreadable input', async () => {
    const bad = join(dir, 'broken.nii.gz');
    writeFileSync(bad, 'not a nifti at all');
    const r = await cli([bad, '--schema', 'kidney', '--model', modelDir, '--out', join(dir, 'x.nii.gz')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('broken.nii.gz');
    const missing = await cli([
      join(dir, 'nope.nii.gz'),
      '--schema',
      'kidney',
      '--model',
      modelDir,
      '--out',
      join(dir, 'y.nii.gz'),
    ]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('nope.nii.gz');
  }, 60_000);

  it('runs a worklist past a bad case and reports it at the end', async () => {
    const list = join(dir, 'worklist');
    mkdirSync(list);
    await writeNifti(join(list, 'a.nii.gz'), smallCt([24, 20, 12], 2));
    writeFileSync(join(list, 'b.nii.gz'), 'garbage');
    await writeNifti(join(list, 'c.nii'), smallCt([20, 22, 10], 3));
    const out = join(dir, 'labels');
    const r = await cli([list, '--schema', 'kidney', '--model', modelDir, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/2 of 3 cases pre-labelled/);
    expect(r.stderr).toMatch(/1 failed:\n\s+b\.nii\.gz: .*b\.nii\.gz/);
    expectSameGrid(await readNifti(join(out, 'a.nii.gz')), await readNifti(join(list, 'a.nii.gz')));
    expectSameGrid(await readNifti(join(out, 'c.nii.gz')), await readNifti(join(list, 'c.nii')));
  }, 60_000);

  it('takes linked scans in a worklist as the scans they point at, and names a dangling link', async () => {
    // A lab's worklist is often a folder of links into the archive.
    const store = join(dir, 'archive');
    mkdirSync(store);
    await writeNifti(join(store, 'p1.nii.gz'), smallCt([20, 18, 10], 4));
    const list = join(dir, 'linked');
    mkdirSync(list);
    symlinkSync(join(store, 'p1.nii.gz'), join(list, 'p1.nii.gz'));
    symlinkSync(join(store, 'gone.nii.gz'), join(list, 'gone.nii.gz'));
    writeFileSync(join(store, 'notes.txt'), 'not a scan');
    symlinkSync(join(store, 'notes.txt'), join(list, 'notes.txt'));
    const out = join(dir, 'linked-labels');
    const r = await cli([list, '--schema', 'kidney', '--model', modelDir, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/1 of 2 cases pre-labelled/);
    expect(r.stderr).toMatch(/1 failed:\n\s+gone\.nii\.gz: .*gone\.nii\.gz/);
    expectSameGrid(await readNifti(join(out, 'p1.nii.gz')), await readNifti(join(store, 'p1.nii.gz')));
  }, 60_000);

  it('says how to make the starter model when none is given or installed', async () => {
    const empty = join(dir, 'no-models');
    mkdirSync(empty);
    const ct = join(dir, 'ct2.nii.gz');
    await writeNifti(ct, smallCt([16, 16, 8]));
    const r = await cli([ct, '--schema', 'pancreas', '--out', join(dir, 'z.nii.gz')], { DEFORMUX_MODELS_DIR: empty });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('npm run train:starter');
    expect(r.stderr).toContain('pancreas-lite');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);

  it.skipIf(!existsSync(REAL_DICOM))(
    'pre-labels a real DICOM folder onto the series grid',
    async () => {
      const out = join(dir, 'dicom-label.nii.gz');
      const r = await cli([REAL_DICOM, '--model', coarseModelDir, '--out', out]);
      expect(r.stderr).not.toMatch(/Error/);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/voxels: pancreas \d+, tumor \d+/);
      expectSameGrid(await readNifti(out), await readVolume(REAL_DICOM));
    },
    90_000,
  );
});
