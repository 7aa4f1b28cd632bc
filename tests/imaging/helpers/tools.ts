// Test helpers for imaging: temp dirs, running the Debian oracle tools, and affine/voxel comparisons.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Mat4 } from '../../../src-main/imaging/volume';

/** Debian's python3 (with python3-nibabel/pydicom), not a pyenv shim that lacks them. */
const HERE = dirname(fileURLToPath(import.meta.url));

export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
export const FIXTURES = resolve(HERE, '../fixtures');
export const REAL_DIR = resolve(HERE, '../../../../shared/data/real');

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

export function hasPythonModules(...mods: string[]): boolean {
  return spawnSync(PYTHON, ['-c', `import ${mods.join(', ')}`]).status === 0;
}

export function makeTempDir(tag: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `deformux-${tag}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function runPython(script: string, args: string[]): string {
  return execFileSync(PYTHON, [join(FIXTURES, script), ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

export function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Largest absolute difference between two row-major 4x4 affines (given as 16 numbers or 4 rows). */
export function affineDiff(a: Mat4 | number[][], b: Mat4 | number[][]): number {
  const fa = (Array.isArray(a[0]) ? (a as number[][]).flat() : a) as number[];
  const fb = (Array.isArray(b[0]) ? (b as number[][]).flat() : b) as number[];
  let d = 0;
  for (let p = 0; p < 16; p++) d = Math.max(d, Math.abs(fa[p] - fb[p]));
  return d;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let p = 0; p < a.length; p++) {
    const x = Math.abs(a[p] - b[p]);
    if (!(x <= d)) d = Number.isNaN(x) ? Infinity : x;
  }
  return d;
}

/** Inverse of a row-major 4x4 affine (rotation/scale/shear + translation). */
export function invertAffine(a: Mat4): Mat4 {
  const [m00, m01, m02, t0, m10, m11, m12, t1, m20, m21, m22, t2] = a;
  const c00 = m11 * m22 - m12 * m21;
  const c01 = m02 * m21 - m01 * m22;
  const c02 = m01 * m12 - m02 * m11;
  const c10 = m12 * m20 - m10 * m22;
  const c11 = m00 * m22 - m02 * m20;
  const c12 = m02 * m10 - m00 * m12;
  const c20 = m10 * m21 - m11 * m20;
  const c21 = m01 * m20 - m00 * m21;
  const c22 = m00 * m11 - m01 * m10;
  const det = m00 * c00 + m01 * c10 + m02 * c20;
  const r = [c00, c01, c02, c10, c11, c12, c20, c21, c22].map((x) => x / det);
  const t = [t0, t1, t2];
  // prettier-ignore
  return [
    r[0], r[1], r[2], -(r[0] * t[0] + r[1] * t[1] + r[2] * t[2]),
    r[3], r[4], r[5], -(r[3] * t[0] + r[4] * t[1] + r[5] * t[2]),
    r[6], r[7], r[8], -(r[6] * t[0] + r[7] * t[1] + r[8] * t[2]),
    0, 0, 0, 1,
  ];
}

export function multiplyAffine(a: Mat4, b: Mat4): Mat4 {
  const out: number[] = [];
  for (let r = 0; r < 4; r++)
    for (let c = 0; c < 4; c++)
      out.push(a[r * 4] * b[c] + a[r * 4 + 1] * b[4 + c] + a[r * 4 + 2] * b[8 + c] + a[r * 4 + 3] * b[12 + c]);
  return out;
}

/**
 * Compares two volumes of the same voxels stored in possibly different axis orders/flips (e.g. ours
 * vs dcm2niix's): maps every voxel of `a` through its world position to `b`'s grid.
 * `gridError` is how far (in voxels) that map is from whole-voxel steps; `maxDiff` the largest value
 * difference; `outside` counts voxels of `a` that land outside `b`.
 */
export function compareOnGrid(
  a: { data: ArrayLike<number>; dims: number[]; affineLps: Mat4 },
  b: { data: ArrayLike<number>; dims: number[]; affineLps: Mat4 },
): { gridError: number; maxDiff: number; outside: number } {
  const m = multiplyAffine(invertAffine(b.affineLps), a.affineLps);
  let gridError = 0;
  for (let p = 0; p < 12; p++) gridError = Math.max(gridError, Math.abs(m[p] - Math.round(m[p])));
  const r = m.map(Math.round);
  const [ni, nj, nk] = a.dims;
  const [bi, bj] = b.dims;
  let maxDiff = 0;
  let outside = 0;
  for (let k = 0; k < nk; k++)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++) {
        const x = r[0] * i + r[1] * j + r[2] * k + r[3];
        const y = r[4] * i + r[5] * j + r[6] * k + r[7];
        const z = r[8] * i + r[9] * j + r[10] * k + r[11];
        if (x < 0 || y < 0 || z < 0 || x >= bi || y >= bj || z >= b.dims[2]) {
          outside++;
          continue;
        }
        const d = Math.abs(a.data[i + ni * (j + nj * k)] - b.data[x + bi * (y + bj * z)]);
        if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
      }
  return { gridError, maxDiff, outside };
}
