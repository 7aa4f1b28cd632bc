// `deformux phantom`: writes readable image/label NIfTI pairs (checked by our reader and by nibabel) and a manifest.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../src-main/cli/commands/phantom';
import { readNifti } from '../../src-main/imaging/nifti';
import { generatePhantom } from '../../src-main/phantom/generate';

const dir = mkdtempSync(join(tmpdir(), 'deformux-phantom-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Debian's python3-nibabel is the independent oracle (CI installs it); the system python has it.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const hasNibabel = spawnSync(PYTHON, ['-c', 'import nibabel'], { stdio: 'ignore' }).status === 0;

function total(data: ArrayLike<number>): number {
  let sum = 0;
  for (let q = 0; q < data.length; q++) sum += data[q];
  return sum;
}

async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    return await fn();
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

describe('deformux phantom', () => {
  const out = join(dir, 'set');
  const dims: [number, number, number] = [48, 40, 24];
  const spacingMm: [number, number, number] = [8, 9.5, 13];

  it('writes image + label pairs and a manifest that read back exactly', async () => {
    const rc = await quietly(() =>
      run([
        '--out',
        out,
        '--cases',
        '2',
        '--seed',
        '11',
        '--schema',
        'pancreas',
        '--dims',
        dims.join(','),
        '--spacing',
        spacingMm.join(','),
      ]),
    );
    expect(rc).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.synthetic).toBe(true);
    expect(manifest.schema).toBe('pancreas');
    expect(manifest.dims).toEqual(dims);
    expect(manifest.spacingMm).toEqual(spacingMm);
    expect(manifest.cases.map((c: { id: string }) => c.id)).toEqual(['case_000', 'case_001']);
    for (const [n, entry] of manifest.cases.entries()) {
      expect(entry.image).toBe(`case_00${n}_image.nii.gz`);
      expect(entry.label).toBe(`case_00${n}_label.nii.gz`);
      expect(entry.meta.seed).toBe(11 + n);
      const expected = generatePhantom({ seed: 11 + n, schema: 'pancreas', dims, spacingMm });
      const image = await readNifti(join(out, entry.image));
      const label = await readNifti(join(out, entry.label));
      expect(image.dims).toEqual(dims);
      expect(label.dims).toEqual(dims);
      for (const v of [image, label]) {
        for (let a = 0; a < 3; a++) {
          expect(v.spacingMm[a]).toBeCloseTo(spacingMm[a], 4);
          expect(v.originMm[a]).toBeCloseTo(expected.image.originMm[a], 3);
        }
      }
      expect(Array.from(image.data)).toEqual(Array.from(expected.image.data));
      expect(Array.from(label.data)).toEqual(Array.from(expected.label.data));
    }
  });

  it.runIf(hasNibabel)('writes files nibabel reads with the same voxels and an LPS-consistent RAS affine', async () => {
    const script = `
import json, sys, nibabel as nib, numpy as np
im = nib.load(sys.argv[1]); lb = nib.load(sys.argv[2])
a = np.asarray(im.dataobj); l = np.asarray(lb.dataobj)
print(json.dumps({"shape": list(im.shape), "dtype": str(a.dtype), "ldtype": str(l.dtype), "affine": im.affine.tolist(),
  "laffine": lb.affine.tolist(), "sum": int(a.astype(np.int64).sum()), "lsum": int(l.astype(np.int64).sum()),
  "codes": list(nib.aff2axcodes(im.affine))}))`;
    const scriptPath = join(dir, 'check.py');
    writeFileSync(scriptPath, script);
    const result = JSON.parse(
      execFileSync(PYTHON, [scriptPath, join(out, 'case_000_image.nii.gz'), join(out, 'case_000_label.nii.gz')], {
        encoding: 'utf8',
      }),
    );
    const expected = generatePhantom({ seed: 11, schema: 'pancreas', dims, spacingMm });
    expect(result.shape).toEqual(dims);
    expect(result.dtype).toBe('int16');
    expect(result.ldtype).toBe('uint8');
    expect(result.sum).toBe(total(expected.image.data));
    expect(result.lsum).toBe(total(expected.label.data));
    // Identity LPS direction is RAS diag(-1, -1, 1): i runs to patient left, j to posterior.
    expect(result.codes).toEqual(['L', 'P', 'S']);
    const o = expected.image.originMm;
    const want = [
      [-spacingMm[0], 0, 0, -o[0]],
      [0, -spacingMm[1], 0, -o[1]],
      [0, 0, spacingMm[2], o[2]],
      [0, 0, 0, 1],
    ];
    for (const affine of [result.affine, result.laffine]) {
      for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) expect(affine[r][c]).toBeCloseTo(want[r][c], 3);
    }
  });

  it('writes shifted-domain phantoms (non-contrast unless --phase overrides) and records the domain', async () => {
    const shifted = join(dir, 'shifted');
    const args = ['--out', shifted, '--seed', '5', '--dims', dims.join(','), '--spacing', spacingMm.join(',')];
    expect(await quietly(() => run([...args, '--domain', 'shifted']))).toBe(0);
    const meta = JSON.parse(readFileSync(join(shifted, 'manifest.json'), 'utf8')).cases[0].meta;
    expect(meta.domain).toBe('shifted');
    expect(meta.contrastPhase).toBe('noncontrast');
    expect(
      await quietly(() =>
        run([...args, '--out', join(dir, 'shifted-art'), '--domain', 'shifted', '--phase', 'arterial']),
      ),
    ).toBe(0);
    const meta2 = JSON.parse(readFileSync(join(dir, 'shifted-art', 'manifest.json'), 'utf8')).cases[0].meta;
    expect(meta2.contrastPhase).toBe('arterial');
    expect(meta2.domain).toBe('shifted');
    expect(await quietly(() => run([...args, '--out', join(dir, 'std')]))).toBe(0);
    const meta3 = JSON.parse(readFileSync(join(dir, 'std', 'manifest.json'), 'utf8')).cases[0].meta;
    expect(meta3.domain).toBeUndefined();
    expect(meta3.contrastPhase).not.toBe('noncontrast');
  });

  it('puts metal in every case with --metal always, in none with --metal never', async () => {
    const args = ['--seed', '5', '--cases', '2', '--dims', '64,64,54', '--schema', 'pancreas'];
    expect(await quietly(() => run([...args, '--out', join(dir, 'metal'), '--metal', 'always']))).toBe(0);
    expect(await quietly(() => run([...args, '--out', join(dir, 'no-metal'), '--metal', 'never']))).toBe(0);
    const cases = (d: string) => JSON.parse(readFileSync(join(dir, d, 'manifest.json'), 'utf8')).cases;
    for (const [n, c] of cases('metal').entries()) {
      expect(['clips', 'biliary stent']).toContain(c.meta.metal.kind);
      expect(cases('no-metal')[n].meta.metal).toBeUndefined();
      const a = (await readNifti(join(dir, 'metal', c.image))).data;
      const b = (await readNifti(join(dir, 'no-metal', c.image))).data;
      let brighter = 0;
      for (let q = 0; q < a.length; q++) brighter = Math.max(brighter, a[q] - b[q]);
      expect(brighter).toBeGreaterThan(100);
    }
    await expect(run([...args, '--out', join(dir, 'metal'), '--metal', 'sometimes'])).rejects.toThrow(/--metal/);
  });

  it('refuses bad arguments with one clear message', async () => {
    await expect(run(['--cases', '2'])).rejects.toThrow(/--out/);
    await expect(run(['--out', out, '--schema', 'liver'])).rejects.toThrow(/--schema/);
    await expect(run(['--out', out, '--cases', '0'])).rejects.toThrow(/--cases/);
    await expect(run(['--out', out, '--dims', '10,10'])).rejects.toThrow(/--dims/);
    await expect(run(['--out', out, '--spacing', '1,x,1'])).rejects.toThrow(/--spacing/);
    await expect(run(['--out', out, '--phase', 'venous'])).rejects.toThrow(/--phase/);
    await expect(run(['--out', out, '--domain', 'arterial'])).rejects.toThrow(/--domain/);
    await expect(run(['--out', out, 'extra'])).rejects.toThrow(/unknown argument/);
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    await expect(run(['--out', file])).rejects.toThrow(/not a folder/);
  });
});
