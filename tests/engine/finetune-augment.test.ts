// Patch augmentation: identity and 90° rotations against index arithmetic, labels preserved, schema flips, seeded determinism.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src-main/engine/tf';
import { Rng } from '../../src-main/engine/model/rng';
import {
  axisRotation,
  defaultAugmentSettings,
  drawAugment,
  IDENTITY3,
  spatialMatrix,
  warpPatch,
} from '../../src-main/train/augment';
import { cropPatch, foregroundIndices, sampleAugmentedBatch } from '../../src-main/train/sampler';
import { mirrorAxesForSchema } from '../../src-main/domain/label-schemas';
import type { TrainCase } from '../../src-main/train/sampler';

beforeAll(async () => {
  await initEngine();
});

/** A case of random intensities and labels 0..3, [D, H, W] = dims. */
function randomCase(dims: [number, number, number], seed: number): TrainCase {
  const rng = new Rng(seed);
  const n = dims[0] * dims[1] * dims[2];
  const image = Float32Array.from({ length: n }, () => rng.normal());
  const labels = Uint8Array.from({ length: n }, () => (rng.next() < 0.7 ? 0 : 1 + rng.int(3)));
  const weights = Float32Array.from({ length: n }, () => 1 + rng.int(3));
  return {
    name: `c${seed}`,
    image,
    labels,
    weights,
    dimsDhw: dims,
    foreground: foregroundIndices(labels),
    padValue: -9,
  };
}

describe('warpPatch', () => {
  it('with the identity matrix copies exactly what cropPatch copies', () => {
    const c = randomCase([12, 10, 9], 1);
    const patch: [number, number, number] = [8, 8, 8];
    const start: [number, number, number] = [3, -1, 2]; // partly outside: padding too
    const n = 8 * 8 * 8;
    const a = new Float32Array(n);
    const al = new Int32Array(n);
    cropPatch(c, patch, start, a, al, 0);
    const b = new Float32Array(n);
    const bl = new Int32Array(n);
    const centre = start.map((s, i) => s + (patch[i] - 1) / 2) as [number, number, number];
    warpPatch(c, patch, centre, IDENTITY3, b, bl, undefined, 0);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(bl)).toEqual(Array.from(al));
  });

  it('a 90° axial rotation is an index permutation: out[d][h][w] = in[d][7-w][h]', () => {
    const c = randomCase([8, 8, 8], 2);
    const n = 512;
    const img = new Float32Array(n);
    const lab = new Int32Array(n);
    const wts = new Float32Array(n);
    warpPatch(c, [8, 8, 8], [3.5, 3.5, 3.5], axisRotation(0, Math.PI / 2), img, lab, wts, 0);
    let mismatches = 0;
    for (let d = 0; d < 8; d++)
      for (let h = 0; h < 8; h++)
        for (let w = 0; w < 8; w++) {
          const o = (d * 8 + h) * 8 + w;
          const i = (d * 8 + (7 - w)) * 8 + h;
          if (Math.abs(img[o] - c.image[i]) > 1e-6 || lab[o] !== c.labels[i] || wts[o] !== c.weights![i]) mismatches++;
        }
    expect(mismatches).toBe(0);
  });

  it('keeps label values: any rotation/scale only copies labels that exist', () => {
    const c = randomCase([16, 16, 16], 3);
    const rng = new Rng(4);
    const lab = new Int32Array(12 * 12 * 12);
    const img = new Float32Array(lab.length);
    for (let t = 0; t < 5; t++) {
      const m = spatialMatrix([rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3)], 1.1, [
        false,
        false,
        t % 2 === 0,
      ]);
      warpPatch(c, [12, 12, 12], [7.3, 8.1, 7.9], m, img, lab, undefined, 0);
      expect(new Set(lab).size).toBeGreaterThan(2);
      for (const v of lab) expect([0, 1, 2, 3]).toContain(v);
      for (const v of img) expect(Number.isFinite(v)).toBe(true);
    }
  });

  it('a scale > 1 reads a larger region (zoom out): the patch corner reads further from the centre', () => {
    const m = spatialMatrix([0, 0, 0], 1.15, [false, false, false], [2, 1, 1]);
    // Physical scaling on an anisotropic grid stays diagonal.
    expect(m[0]).toBeCloseTo(1.15, 12);
    expect(m[4]).toBeCloseTo(1.15, 12);
    expect(m[1]).toBe(0);
  });
});

describe('drawAugment', () => {
  it('flips only the axes the schema allows (kidney: left-right; pancreas: none)', () => {
    expect(mirrorAxesForSchema('kidney')).toEqual([2]);
    expect(mirrorAxesForSchema('pancreas')).toEqual([]);
    const rng = new Rng(9);
    let kidneyFlips = 0;
    for (let t = 0; t < 50; t++) {
      const k = drawAugment({ ...defaultAugmentSettings('kidney'), spatialProb: 0 }, rng);
      const p = drawAugment({ ...defaultAugmentSettings('pancreas'), spatialProb: 0 }, rng);
      expect(p.matrix).toEqual(IDENTITY3);
      expect([k.matrix[0], k.matrix[4]]).toEqual([1, 1]);
      if (k.matrix[8] === -1) kidneyFlips++;
    }
    expect(kidneyFlips).toBeGreaterThan(10);
    expect(kidneyFlips).toBeLessThan(40);
  });

  it('stays within the configured ranges', () => {
    const s = defaultAugmentSettings('kidney');
    const rng = new Rng(11);
    for (let t = 0; t < 200; t++) {
      const d = drawAugment(s, rng);
      expect(d.intensityScale).toBeGreaterThanOrEqual(0.9);
      expect(d.intensityScale).toBeLessThanOrEqual(1.1);
      expect(Math.abs(d.intensityShift)).toBeLessThanOrEqual(0.1);
      expect(d.noiseSigma).toBeLessThanOrEqual(0.05);
      // Rows of a rotation times a scale: |row| within the scale range.
      const row = Math.hypot(d.matrix[0], d.matrix[1], d.matrix[2]);
      expect(row).toBeGreaterThan(0.85 - 1e-9);
      expect(row).toBeLessThan(1.15 + 1e-9);
    }
  });
});

describe('sampleAugmentedBatch', () => {
  const c = randomCase([20, 20, 20], 5);
  const settings = defaultAugmentSettings('kidney');

  it('is deterministic by seed and differs between seeds', () => {
    const a = sampleAugmentedBatch([c], 2, [16, 16, 16], new Rng(7), { augment: settings, weights: true });
    const b = sampleAugmentedBatch([c], 2, [16, 16, 16], new Rng(7), { augment: settings, weights: true });
    const d = sampleAugmentedBatch([c], 2, [16, 16, 16], new Rng(8), { augment: settings, weights: true });
    expect(Array.from(a.image.dataSync())).toEqual(Array.from(b.image.dataSync()));
    expect(Array.from(a.labels.dataSync())).toEqual(Array.from(b.labels.dataSync()));
    expect(Array.from(a.weights!.dataSync())).toEqual(Array.from(b.weights!.dataSync()));
    expect(Array.from(a.image.dataSync())).not.toEqual(Array.from(d.image.dataSync()));
    expect(a.weights!.shape).toEqual([2, 16, 16, 16]);
  });

  it('without augmentation reads the same crops as sampleBatch would (plain copies of the case)', () => {
    const r = sampleAugmentedBatch([c], 1, [16, 16, 16], new Rng(3), { foregroundProb: 0 });
    const [, at] = r.picked[0].split('@');
    const start = at.split(',').map(Number) as [number, number, number];
    const img = new Float32Array(16 ** 3);
    const lab = new Int32Array(16 ** 3);
    cropPatch(c, [16, 16, 16], start, img, lab, 0);
    expect(Array.from(r.image.dataSync())).toEqual(Array.from(img));
    expect(Array.from(r.labels.dataSync())).toEqual(Array.from(lab));
  });
});
