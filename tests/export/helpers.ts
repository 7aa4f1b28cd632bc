// Test helpers for exports: small oblique, asymmetric volumes and the Debian oracle tools (nibabel, pydicom).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Direction, Vec3, Volume, VoxelArray } from '../../src-main/imaging/volume';

const HERE = dirname(fileURLToPath(import.meta.url));
/** Debian's python3 (python3-nibabel, python3-pydicom), not a pyenv shim that lacks them. */
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export function hasPythonModules(...mods: string[]): boolean {
  return spawnSync(PYTHON, ['-c', `import ${mods.join(', ')}`]).status === 0;
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

export function runPythonJson<T>(script: string, args: string[]): T {
  const out = execFileSync(PYTHON, [join(HERE, 'fixtures', script), ...args], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  return JSON.parse(out) as T;
}

export function makeTempDir(tag: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `deformux-export-${tag}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const REAL_DIR = resolve(HERE, '../../../shared/data/real');

/** Rotation Rz·Ry·Rx (degrees); its columns are the i, j, k axes. */
export function obliqueDirection(rxDeg: number, ryDeg: number, rzDeg: number): Direction {
  const [a, b, c] = [rxDeg, ryDeg, rzDeg].map((d) => (d * Math.PI) / 180);
  const rx = [1, 0, 0, 0, Math.cos(a), -Math.sin(a), 0, Math.sin(a), Math.cos(a)];
  const ry = [Math.cos(b), 0, Math.sin(b), 0, 1, 0, -Math.sin(b), 0, Math.cos(b)];
  const rz = [Math.cos(c), -Math.sin(c), 0, Math.sin(c), Math.cos(c), 0, 0, 0, 1];
  const mul = (p: number[], q: number[]): number[] => {
    const o = new Array<number>(9).fill(0);
    for (let r = 0; r < 3; r++)
      for (let col = 0; col < 3; col++) for (let t = 0; t < 3; t++) o[r * 3 + col] += p[r * 3 + t] * q[t * 3 + col];
    return o;
  };
  const m = mul(rz, mul(ry, rx));
  // Direction lists axis vectors one after another: axis a = column a of m.
  return [m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]];
}

/** Deterministic pseudo-random numbers in [0, 1) (a small LCG; tests must be reproducible). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export interface TestGrid {
  dims: Vec3;
  spacingMm: Vec3;
  originMm: Vec3;
  direction: Direction;
}

/** An odd-sized, anisotropic, oblique grid: any flip or transpose of i/j/k changes what readers see. */
export const OBLIQUE_GRID: TestGrid = {
  dims: [7, 5, 6],
  spacingMm: [0.7, 0.9, 2.5],
  originMm: [-12.5, 30.25, -200],
  direction: obliqueDirection(-15, 10, 20),
};

export function volumeOn(grid: TestGrid, data: VoxelArray, modality: string, description: string): Volume {
  return {
    ...grid,
    dims: [...grid.dims],
    spacingMm: [...grid.spacingMm],
    originMm: [...grid.originMm],
    direction: [...grid.direction],
    data,
    modality,
    description,
    source: 'test',
  };
}

/** A CT-like image whose voxel values encode their own index (so transposes are visible). */
export function indexImage(grid: TestGrid): Volume {
  const n = grid.dims[0] * grid.dims[1] * grid.dims[2];
  const data = new Int16Array(n);
  for (let p = 0; p < n; p++) data[p] = p - 100;
  return volumeOn(grid, data, 'CT', 'index image');
}

/**
 * A label with classes 1..maxClass laid out asymmetrically: class c fills a region that depends on
 * (i, j, k) differently per class, plus random speckle; slice 0 is empty and the last class only
 * appears in two slices.
 */
export function patternLabel(grid: TestGrid, maxClass: number, seed = 7): Volume {
  const [ni, nj, nk] = grid.dims;
  const data = new Uint8Array(ni * nj * nk);
  const rnd = lcg(seed);
  for (let k = 1; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      for (let i = 0; i < ni; i++) {
        let v = 0;
        if (i + 2 * j < 6 + k) v = 1;
        if (maxClass >= 2 && i > 4 && j < 3) v = 2;
        if (maxClass >= 3 && (k === 2 || k === 4) && i === 0 && j >= 3) v = maxClass;
        if (rnd() < 0.1) v = 0;
        data[i + ni * (j + nj * k)] = v;
      }
    }
  }
  return volumeOn(grid, data, 'SEG', 'pattern label');
}
