// Patch sampling: crops copy the right voxels, small volumes are padded, foreground is oversampled, seeds repeat.
import { describe, expect, it } from 'vitest';
import { tf } from '../../src-main/engine/tf';
import { Rng } from '../../src-main/engine/model/rng';
import { foregroundByClass, foregroundIndices, sampleBatch } from '../../src-main/train/sampler';
import type { TrainCase } from '../../src-main/train/sampler';

/** [D, H, W] = [20, 40, 36]; image value encodes its own index; one small foreground cube. */
function makeCase(dimsDhw: [number, number, number]): TrainCase {
  const [D, H, W] = dimsDhw;
  const n = D * H * W;
  const image = Float32Array.from({ length: n }, (_, i) => i);
  const labels = new Uint8Array(n);
  for (let z = 2; z < 5; z++) for (let y = 30; y < 33; y++) for (let x = 3; x < 6; x++) labels[(z * H + y) * W + x] = 2;
  return { name: 'c', image, labels, dimsDhw, foreground: foregroundIndices(labels), padValue: -7 };
}

describe('sampleBatch', () => {
  it('copies the voxels at the reported start, labels included (x=[20,40,36] patch=[16,16,16])', () => {
    const c = makeCase([20, 40, 36]);
    const { image, labels, picked } = sampleBatch([c], 3, [16, 16, 16], new Rng(1), 0.5);
    const img = image.dataSync();
    const lab = labels.dataSync();
    picked.forEach((p, b) => {
      const [z0, y0, x0] = p.split('@')[1].split(',').map(Number);
      expect(z0 >= 0 && z0 <= 4 && y0 >= 0 && y0 <= 24 && x0 >= 0 && x0 <= 20).toBe(true);
      for (const [z, y, x] of [
        [0, 0, 0],
        [15, 15, 15],
        [3, 7, 11],
      ]) {
        const o = b * 4096 + (z * 16 + y) * 16 + x;
        const i = ((z0 + z) * 40 + (y0 + y)) * 36 + (x0 + x);
        expect(img[o]).toBe(i);
        expect(lab[o]).toBe(c.labels[i]);
      }
    });
    tf.dispose([image, labels]);
  });

  it('pads a volume smaller than the patch with the pad value and label 0', () => {
    const c = makeCase([8, 40, 36]);
    c.foreground = new Int32Array(0);
    const { image, labels, picked } = sampleBatch([c], 1, [16, 16, 16], new Rng(2), 0);
    const z0 = Number(picked[0].split('@')[1].split(',')[0]);
    expect(z0).toBe(-4); // centred: 4 padded slices before, 4 after
    const img = image.dataSync();
    expect(img[0]).toBe(-7);
    expect(img[4 * 256]).toBeGreaterThanOrEqual(0);
    expect(img[12 * 256]).toBe(-7);
    expect(labels.dataSync()[0]).toBe(0);
    tf.dispose([image, labels]);
  });

  it('oversamples foreground: every patch hits it at p=1, few do at p=0; same seed, same patches', () => {
    const c = makeCase([20, 40, 36]);
    const hits = (prob: number, seed: number): number => {
      const { labels, image } = sampleBatch([c], 40, [16, 16, 16], new Rng(seed), prob);
      const lab = labels.dataSync();
      let n = 0;
      for (let b = 0; b < 40; b++) if (lab.subarray(b * 4096, (b + 1) * 4096).some((v) => v > 0)) n++;
      tf.dispose([image, labels]);
      return n;
    };
    expect(hits(1, 3)).toBe(40);
    expect(hits(0, 3)).toBeLessThan(30);
    expect(sampleBatch([c], 4, [16, 16, 16], new Rng(9)).picked).toEqual(
      sampleBatch([c], 4, [16, 16, 16], new Rng(9)).picked,
    );
  });
});

describe('class-balanced foreground centres', () => {
  /** A big class 1 block (2 000 voxels) and a single class-3 voxel far from it, in a [30, 30, 30] volume. */
  function twoClassCase(): TrainCase {
    const dims: [number, number, number] = [30, 30, 30];
    const n = 30 * 30 * 30;
    const labels = new Uint8Array(n);
    for (let z = 0; z < 20; z++)
      for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) labels[(z * 30 + y) * 30 + x] = 1;
    labels[(25 * 30 + 25) * 30 + 25] = 3;
    const image = new Float32Array(n);
    return { name: 'two', image, labels, dimsDhw: dims, foreground: foregroundIndices(labels), padValue: 0 };
  }
  const hitsRare = (balanced: boolean): number => {
    const c = twoClassCase();
    const { labels } = sampleBatch([c], 200, [4, 4, 4], new Rng(11), 1, balanced);
    const lab = labels.dataSync();
    let hits = 0;
    for (let b = 0; b < 200; b++) if (lab.subarray(b * 64, (b + 1) * 64).includes(3)) hits++;
    labels.dispose();
    return hits;
  };

  it('centres about half the patches on a one-voxel class beside a 2 000-voxel class (plain: almost never)', () => {
    const balanced = hitsRare(true);
    const plain = hitsRare(false);
    expect(balanced).toBeGreaterThan(70); // expected 100 of 200 (binomial sd ~7)
    expect(balanced).toBeLessThan(130);
    expect(plain).toBeLessThan(5); // expected 0.1
  });

  it('splits the foreground by class, classes in label order, every voxel once', () => {
    const c = twoClassCase();
    const lists = foregroundByClass(c);
    expect(lists.map((l) => l.length)).toEqual([2000, 1]);
    expect(lists[1][0]).toBe((25 * 30 + 25) * 30 + 25);
    expect(lists[0].every((i) => c.labels[i] === 1)).toBe(true);
    expect(foregroundByClass(c)).toBe(lists); // cached
  });
});
