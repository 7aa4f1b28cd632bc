// `deformux convert`: DICOM folder / NIfTI → NIfTI, series choice, and argument errors (exit codes 0 and 2).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src-main/cli/index';
import { readNifti, writeNifti } from '../../src-main/imaging/nifti';
import { listSeries, readVolume } from '../../src-main/imaging/read';
import { affineRas } from '../../src-main/imaging/volume';
import { affineDiff, hasPythonModules, makeTempDir, maxAbsDiff, runPython } from './helpers/tools';

const tmp = makeTempDir('cli');
afterAll(() => tmp.cleanup());

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await main(['convert', ...argv]);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('deformux convert', () => {
  it('prints help and refuses bad arguments with exit code 2', async () => {
    expect((await cli('--help')).out).toMatch(/Usage: deformux convert IN --out/);
    const noOut = await cli(tmp.dir);
    expect(noOut.code).toBe(2);
    expect(noOut.err).toMatch(/missing --out/);
    expect((await cli(tmp.dir, '--out', 'x.png')).err).toMatch(/must end in .nii or .nii.gz/);
    expect((await cli(tmp.dir, '--bogus')).err).toMatch(/unknown option --bogus/);
    const missing = await cli(join(tmp.dir, 'nope'), '--out', join(tmp.dir, 'o.nii.gz'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/does not exist/);
  });

  it('converts NIfTI to NIfTI keeping grid, affine and voxels', async () => {
    const data = new Int16Array(5 * 4 * 3).map((_, p) => p * 3 - 20);
    const src = join(tmp.dir, 'in.nii');
    await writeNifti(src, {
      data,
      dims: [5, 4, 3],
      spacingMm: [0.5, 0.7, 2],
      originMm: [1, 2, 3],
      direction: [0, 1, 0, -1, 0, 0, 0, 0, 1],
      modality: 'CT',
      description: 'x',
      source: 'x',
    });
    const dst = join(tmp.dir, 'out.nii.gz');
    const r = await cli(src, '--out', dst);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Wrote .*out.nii.gz: 5×4×3 voxels/);
    const a = await readNifti(src);
    const b = await readNifti(dst);
    expect(maxAbsDiff(a.data, b.data)).toBe(0);
    expect(affineDiff(affineRas(a), affineRas(b))).toBeLessThan(1e-5);
    expect(readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]); // atomic write left no temp file
  });

  describe.skipIf(!hasPythonModules('pydicom', 'numpy', 'nibabel'))('DICOM input', () => {
    let dir = '';
    beforeAll(() => {
      dir = join(tmp.dir, 'dicom');
      runPython('dicom_write.py', [dir]);
    });

    it('converts a series; nibabel reads the result with our affine and voxels', async () => {
      const dst = join(tmp.dir, 'ct12.nii.gz');
      expect((await cli(join(dir, 'ct12'), '--out', dst)).code).toBe(0);
      const ours = await readVolume(join(dir, 'ct12'));
      const [nib] = JSON.parse(runPython('nibabel_read.py', [dst])) as Array<{
        affine: number[][];
        data: number[];
        shape: number[];
      }>;
      expect(nib.shape).toEqual(ours.dims);
      expect(affineDiff(nib.affine, affineRas(ours))).toBeLessThan(1e-4);
      expect(maxAbsDiff(nib.data, ours.data)).toBe(0);
    });

    it('lists series, asks for a choice when there are several, and converts the chosen one', async () => {
      const listed = await cli(join(dir, 'two_series'), '--list');
      expect(listed.out.split('\n')).toHaveLength(2);
      const ask = await cli(join(dir, 'two_series'), '--out', join(tmp.dir, 'two.nii.gz'));
      expect(ask.code).toBe(2);
      expect(ask.err).toMatch(/holds 2 image series; choose one by its SeriesInstanceUID/);
      const [, second] = await listSeries(join(dir, 'two_series'));
      expect(ask.err).toContain(second.uid);
      const ok = await cli(join(dir, 'two_series'), '--series', second.uid, '--out', join(tmp.dir, 'two.nii.gz'));
      expect(ok.code).toBe(0);
      expect((await readNifti(join(tmp.dir, 'two.nii.gz'))).dims).toEqual([40, 32, 3]);
    });

    it('notes skipped localizers on stderr and refuses a broken series with one clear line', async () => {
      const loc = await cli(join(dir, 'localizer'), '--out', join(tmp.dir, 'loc.nii.gz'));
      expect(loc.code).toBe(0);
      expect(loc.err).toMatch(/note: skipped 1 localizer/);
      const gap = await cli(join(dir, 'gap'), '--out', join(tmp.dir, 'gap.nii.gz'));
      expect(gap.code).toBe(2);
      expect(gap.err).toMatch(/^deformux convert: .*gap: slices are missing/);
      expect(existsSync(join(tmp.dir, 'gap.nii.gz'))).toBe(false);
    });
  });
});
