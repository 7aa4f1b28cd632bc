// Noise on the model grid: a robust estimate, smoothing only above the threshold, and the pipeline using it.
import { describe, expect, it } from 'vitest';
import type { Vec3 } from '../../src-main/imaging/volume';
import { DENOISE_ABOVE_HU, DENOISE_TARGET_HU, denoiseInPlace, estimateNoiseHu } from '../../src-main/predict/denoise';

const MM3: Vec3 = [3, 3, 3];
import { predictVolume } from '../../src-main/predict/predict';
import { fakeModel, makeVolume, pointwise, rng } from './helpers';

/** Standard normal draws (Box-Muller) from the seeded uniform generator. */
function normals(seed: number): () => number {
  const u = rng(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** A grid of two tissues (fat -100 HU at i < ni/2, soft tissue 60 HU beyond) plus white noise of sigma HU. */
function tissues(dims: Vec3, sigma: number, seed: number): Float32Array {
  const n = normals(seed);
  const out = new Float32Array(dims[0] * dims[1] * dims[2]);
  for (let q = 0; q < out.length; q++) out[q] = (q % dims[0] < dims[0] / 2 ? -100 : 60) + sigma * n();
  return out;
}

describe('noise on the model grid', () => {
  const dims: Vec3 = [48, 40, 30];

  it('estimates white noise within 10 %, an edge between tissues included', () => {
    for (const sigma of [5, 15, 30]) {
      const e = estimateNoiseHu(tissues(dims, sigma, sigma), dims);
      expect(Math.abs(e - sigma) / sigma).toBeLessThan(0.1);
    }
    // Air and bone only: nothing to measure.
    expect(estimateNoiseHu(new Float32Array(100).fill(-1000), [10, 10, 1])).toBeNaN();
  });

  it('smooths only a grid noisier than the threshold, down to the target, keeping its mean', () => {
    const quiet = tissues(dims, DENOISE_ABOVE_HU - 6, 1);
    const copy = quiet.slice();
    const q = denoiseInPlace(quiet, dims, MM3);
    expect(q.passes).toBe(0);
    expect(Buffer.from(quiet.buffer).equals(Buffer.from(copy.buffer))).toBe(true);

    const loud = tissues(dims, 40, 2);
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    const before = mean(loud);
    // On an 8 mm grid (outside the calibrated spacing, where tissue edges read as noise) it is never smoothed.
    const coarse = loud.slice();
    expect(denoiseInPlace(coarse, dims, [8, 8, 8]).passes).toBe(0);
    expect(Buffer.from(coarse.buffer).equals(Buffer.from(loud.buffer))).toBe(true);
    const r = denoiseInPlace(loud, dims, MM3);
    expect(r.noiseHu).toBeGreaterThan(DENOISE_ABOVE_HU);
    expect(r.passes).toBeGreaterThan(0);
    expect(r.noiseAfterHu).toBeLessThanOrEqual(DENOISE_TARGET_HU);
    expect(r.noiseAfterHu).toBeCloseTo(estimateNoiseHu(loud, dims), 6);
    expect(Math.abs(mean(loud) - before)).toBeLessThan(0.5);
  });

  it('lets a noisy scan be read as the quiet one would be, and says so in its stats', async () => {
    // A 60 HU organ block in -20 HU fat; the model calls anything above 20 HU organ, voxel by voxel.
    const size: Vec3 = [40, 40, 30];
    const organ = (i: number, j: number, k: number) => i >= 10 && i < 30 && j >= 10 && j < 30 && k >= 8 && k < 22;
    const scan = (sigma: number) => {
      const n = normals(7);
      const data = new Float32Array(size[0] * size[1] * size[2]);
      let q = 0;
      for (let k = 0; k < size[2]; k++)
        for (let j = 0; j < size[1]; j++)
          for (let i = 0; i < size[0]; i++) data[q++] = (organ(i, j, k) ? 60 : -20) + sigma * n();
      return makeVolume(size, data, { spacingMm: [3, 3, 3] });
    };
    const model = fakeModel(
      pointwise(2, (x, c) => (c === 1 ? (x > 20 ? 5 : -5) : 0)),
      { classes: 2, patchSize: [16, 16, 16], targetSpacingMm: [3, 3, 3] },
    );
    const wrong = (label: ArrayLike<number>) => {
      let w = 0;
      let q = 0;
      for (let k = 0; k < size[2]; k++)
        for (let j = 0; j < size[1]; j++)
          for (let i = 0; i < size[0]; i++) if ((label[q++] === 1) !== organ(i, j, k)) w++;
      return w;
    };
    const loud = scan(45);
    const raw = await predictVolume(loud, model, { postprocess: false, denoise: false });
    const smoothed = await predictVolume(loud, model, { postprocess: false });
    expect(raw.stats.denoise).toBeUndefined();
    expect(raw.stats.settings.denoised).toBe(false);
    expect(smoothed.stats.denoise!.passes).toBeGreaterThan(0);
    expect(smoothed.stats.settings.denoised).toBe(true);
    expect(wrong(smoothed.label.data)).toBeLessThan(wrong(raw.label.data) / 4);
    // A quiet scan is not touched: the same labels with and without.
    const quiet = scan(10);
    const a = await predictVolume(quiet, model, { postprocess: false });
    const b = await predictVolume(quiet, model, { postprocess: false, denoise: false });
    expect(a.stats.denoise!.passes).toBe(0);
    expect(Array.from(a.label.data)).toEqual(Array.from(b.label.data));
  });
});
