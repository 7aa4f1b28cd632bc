// Body crop before the sliding window (src-main/predict/body-crop.ts): the box of the tissue on the model grid,
// robust to specks; the windows cover only it and the result is the same as running the whole grid for a model
// that labels tissue only.
import { describe, expect, it } from 'vitest';
import { bodyBox, cropGrid, uncropProbabilities } from '../../src-main/predict/body-crop';
import type { Vec3 } from '../../src-main/imaging/volume';
import { predictVolume } from '../../src-main/predict/predict';
import { fakeModel, makeVolume, pointwise } from './helpers';

/** Air (-1000 HU) with a box of soft tissue (40 HU) at [z0, y0, x0] of size [d, h, w], tensor order. */
function bodyGrid(dims: Vec3, start: Vec3, size: Vec3): Float32Array {
  const [nd, nh, nw] = dims;
  const out = new Float32Array(nd * nh * nw).fill(-1000);
  for (let z = start[0]; z < start[0] + size[0]; z++)
    for (let y = start[1]; y < start[1] + size[1]; y++)
      for (let x = start[2]; x < start[2] + size[2]; x++) out[(z * nh + y) * nw + x] = 40;
  return out;
}

describe('bodyBox', () => {
  it('finds the tissue box plus the margin, clamped to the grid', () => {
    const dims: Vec3 = [30, 40, 50];
    const hu = bodyGrid(dims, [2, 10, 20], [20, 12, 15]);
    expect(bodyBox(hu, dims)).toEqual({ start: [0, 6, 16], size: [26, 20, 23] });
    expect(bodyBox(hu, dims, { margin: 0 })).toEqual({ start: [2, 10, 20], size: [20, 12, 15] });
  });

  it('ignores isolated specks, and declines when the box would be (nearly) the whole grid or there is no tissue', () => {
    const dims: Vec3 = [30, 40, 50];
    const hu = bodyGrid(dims, [5, 10, 20], [10, 12, 15]);
    hu[(29 * 40 + 39) * 50 + 49] = 500; // one bright voxel in a far corner (noise, a marker)
    expect(bodyBox(hu, dims, { margin: 0 })).toEqual({ start: [5, 10, 20], size: [10, 12, 15] });
    expect(bodyBox(bodyGrid(dims, [0, 1, 0], [30, 39, 50]), dims)).toBeNull();
    expect(bodyBox(new Float32Array(30 * 40 * 50).fill(-1000), dims)).toBeNull();
    expect(() => bodyBox(new Float32Array(5), dims)).toThrow(/5 values for a 30×40×50 grid/);
  });

  it('crops and un-crops: box values in place, background with certainty and zero uncertainty outside', () => {
    const dims: Vec3 = [4, 5, 6];
    const box = { start: [1, 2, 3] as Vec3, size: [2, 3, 2] as Vec3 };
    const grid = Float32Array.from({ length: 120 }, (_, i) => i);
    const sub = cropGrid(grid, dims, box);
    expect(Array.from(sub.subarray(0, 4))).toEqual([
      (1 * 5 + 2) * 6 + 3,
      (1 * 5 + 2) * 6 + 4,
      (1 * 5 + 3) * 6 + 3,
      (1 * 5 + 3) * 6 + 4,
    ]);
    const probs = new Float32Array(2 * 12);
    for (let v = 0; v < 12; v++) {
      probs[v] = 0.25;
      probs[12 + v] = 0.75;
    }
    const unc = new Float32Array(12).fill(0.5);
    const full = uncropProbabilities(probs, unc, 2, dims, box);
    const inBox = (z: number, y: number, x: number) => z >= 1 && z < 3 && y >= 2 && y < 5 && x >= 3 && x < 5;
    for (let z = 0; z < 4; z++)
      for (let y = 0; y < 5; y++)
        for (let x = 0; x < 6; x++) {
          const v = (z * 5 + y) * 6 + x;
          expect([full.probs[v], full.probs[120 + v], full.uncertainty![v]]).toEqual(
            inBox(z, y, x) ? [0.25, 0.75, 0.5] : [1, 0, 0],
          );
        }
  });
});

describe('predictVolume with the body crop', () => {
  it('runs fewer windows and labels the same as the whole grid for a model that labels tissue only', async () => {
    // 48 x 40 x 36 voxels of air with a 20 x 14 x 12 body holding a brighter 'organ'.
    const dims: Vec3 = [48, 40, 36]; // i, j, k
    const data = new Float32Array(48 * 40 * 36).fill(-1000);
    for (let k = 10; k < 22; k++)
      for (let j = 12; j < 26; j++)
        for (let i = 14; i < 34; i++) data[(k * 40 + j) * 48 + i] = i > 20 && i < 27 && j > 15 ? 150 : 30;
    const model = fakeModel(
      pointwise(2, (x, c) => (c === 0 ? 0 : (x - 100) / 10)),
      { patchSize: [8, 8, 8], targetSpacingMm: [1, 1, 1] },
    );
    const v = makeVolume(dims, data);
    const whole = await predictVolume(v, model, { postprocess: false, cropToBody: false });
    const cropped = await predictVolume(v, model, { postprocess: false });
    expect(whole.stats.bodyBox).toBeUndefined();
    expect(cropped.stats.bodyBox).toBeDefined();
    expect(cropped.stats.patches).toBeLessThan(whole.stats.patches / 3);
    expect(cropped.label.data).toEqual(whole.label.data);
    expect(cropped.stats.voxelsPerClass[1]).toBe(6 * 10 * 12);
  });
});
