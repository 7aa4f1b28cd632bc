// Reorientation to the canonical frame and back: exact round trips, same physical voxels, every
// signed axis permutation and oblique grids.
import { describe, expect, it } from 'vitest';
import { voxelToWorld } from '../../src-main/imaging/volume';
import type { Direction, Vec3 } from '../../src-main/imaging/volume';
import { canonicalTransform, isIdentityTransform, reorientVolume, restoreVolume } from '../../src-main/imaging/orient';
import { makeVolume, rng, rotated, signedPermutations } from './helpers';

const dims: Vec3 = [5, 4, 3];

function randomVolume(direction: Direction, seed: number) {
  const r = rng(seed);
  const data = new Int16Array(dims[0] * dims[1] * dims[2]);
  for (let n = 0; n < data.length; n++) data[n] = Math.floor(r() * 2000) - 1000;
  return makeVolume(dims, data, { spacingMm: [0.7, 1.3, 2.9], originMm: [-10, 20, 33], direction });
}

function expectFrameAligned(d: Direction, frame: 'RAS' | 'LPS', minCos: number): void {
  const sign = frame === 'RAS' ? -1 : 1;
  expect(d[0] * sign).toBeGreaterThanOrEqual(minCos);
  expect(d[4] * sign).toBeGreaterThanOrEqual(minCos);
  expect(d[8]).toBeGreaterThanOrEqual(minCos);
}

describe('canonical reorientation', () => {
  const cases = signedPermutations();

  it.each(['RAS', 'LPS'] as const)('brings all 48 signed permutations onto %s axes and back exactly', (frame) => {
    cases.forEach((direction, idx) => {
      const v = randomVolume(direction, idx + 1);
      const { volume: c, transform } = reorientVolume(v, frame);
      expectFrameAligned(c.direction, frame, 1 - 1e-12);
      // Same physical voxels: every canonical voxel sits where its original voxel sits.
      for (let k = 0; k < c.dims[2]; k++) {
        for (let j = 0; j < c.dims[1]; j++) {
          for (let i = 0; i < c.dims[0]; i++) {
            const off =
              transform.baseOffset + i * transform.strides[0] + j * transform.strides[1] + k * transform.strides[2];
            const oi = off % dims[0];
            const oj = Math.floor(off / dims[0]) % dims[1];
            const ok = Math.floor(off / (dims[0] * dims[1]));
            expect(c.data[i + c.dims[0] * (j + c.dims[1] * k)]).toBe(v.data[off]);
            const wc = voxelToWorld(c, i, j, k);
            const wo = voxelToWorld(v, oi, oj, ok);
            for (let a = 0; a < 3; a++) expect(wc[a]).toBeCloseTo(wo[a], 9);
          }
        }
      }
      const back = restoreVolume(c, transform, v);
      expect(back.dims).toEqual(v.dims);
      expect(back.spacingMm).toEqual(v.spacingMm);
      expect(back.originMm).toEqual(v.originMm);
      expect(back.direction).toEqual(v.direction);
      expect(Array.from(back.data)).toEqual(Array.from(v.data));
    });
  });

  it('treats an already-canonical grid as the identity', () => {
    const ras: Direction = [-1, 0, 0, 0, -1, 0, 0, 0, 1];
    expect(isIdentityTransform(canonicalTransform({ dims, direction: ras }, 'RAS'))).toBe(true);
    expect(isIdentityTransform(canonicalTransform({ dims, direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] }, 'LPS'))).toBe(true);
    expect(isIdentityTransform(canonicalTransform({ dims, direction: ras }, 'LPS'))).toBe(false);
  });

  it('picks the nearest canonical axes for oblique grids and still round-trips exactly', () => {
    const r = rng(7);
    for (let t = 0; t < 24; t++) {
      const base = signedPermutations()[Math.floor(r() * 48)];
      // Up to 40° about two axes: still unambiguous (nearest axis within 45°).
      const d = rotated(
        rotated(base, (t % 3) as 0 | 1 | 2, (r() - 0.5) * 60),
        ((t + 1) % 3) as 0 | 1 | 2,
        (r() - 0.5) * 40,
      );
      const v = randomVolume(d, 100 + t);
      const { volume: c, transform } = reorientVolume(v, 'RAS');
      expectFrameAligned(c.direction, 'RAS', 0.5);
      // Nearest axes: each canonical axis is closer to its own frame axis than to any other.
      const sign = [-1, -1, 1];
      for (let a = 0; a < 3; a++) {
        for (let b = 0; b < 3; b++)
          if (b !== a) expect(c.direction[a * 3 + a] * sign[a]).toBeGreaterThan(Math.abs(c.direction[a * 3 + b]));
      }
      const w0 = voxelToWorld(c, 0, 0, 0);
      const off = transform.baseOffset;
      const wo = voxelToWorld(
        v,
        off % dims[0],
        Math.floor(off / dims[0]) % dims[1],
        Math.floor(off / (dims[0] * dims[1])),
      );
      for (let a = 0; a < 3; a++) expect(w0[a]).toBeCloseTo(wo[a], 9);
      const back = restoreVolume(c, transform, v);
      expect(Array.from(back.data)).toEqual(Array.from(v.data));
    }
  });
});
