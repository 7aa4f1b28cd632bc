// Small hand-made volumes and temporary project folders for the store, API and web shell tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Direction, Vec3, Volume, VoxelArray } from '../../src-main/imaging/volume';

/** A CT-like volume whose voxel at (i, j, k) is `value(i, j, k)`; oblique-free but flipped axes. */
export function makeVolume(
  dims: Vec3,
  value: (i: number, j: number, k: number) => number,
  opts: {
    type?: 'int16' | 'float32' | 'uint8';
    spacingMm?: Vec3;
    originMm?: Vec3;
    direction?: Direction;
    description?: string;
  } = {},
): Volume {
  const n = dims[0] * dims[1] * dims[2];
  const data: VoxelArray =
    opts.type === 'float32' ? new Float32Array(n) : opts.type === 'uint8' ? new Uint8Array(n) : new Int16Array(n);
  for (let k = 0; k < dims[2]; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++) data[i + dims[0] * (j + dims[1] * k)] = value(i, j, k);
  return {
    data,
    dims,
    spacingMm: opts.spacingMm ?? [0.8, 0.9, 2.5],
    originMm: opts.originMm ?? [-120.5, 80.25, -300],
    direction: opts.direction ?? [1, 0, 0, 0, -1, 0, 0, 0, 1],
    modality: 'CT',
    description: opts.description ?? 'test volume',
    source: 'test',
  };
}

/** A distinct, asymmetric HU pattern: any transposition or flip changes some voxel. */
export const huPattern = (i: number, j: number, k: number): number => -1000 + i * 7 + j * 131 + k * 977;

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `deformux-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
