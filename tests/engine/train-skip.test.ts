// A batch whose gradients overflow (finite loss, non-finite gradient norm) is skipped, not applied: clipping cannot
// scale an infinite norm, and applying it turned every weight into NaN in a starter run. Five in a row end the run.
import type { Tensor } from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { initEngine, tf } from '../../src-main/engine/tf';
import { DeformUXNet } from '../../src-main/engine/model/network';
import { MAX_SKIPPED_STEPS, Trainer } from '../../src-main/train/trainer';
import { runSteps } from '../../src-main/train/steps';
import { TINY_TRAIN_CONFIG } from './fixtures/train-cases';

// The next `poison` gradient norms read as infinite (what an overflow in the backward pass gives).
const state = vi.hoisted(() => ({ poison: 0 }));
vi.mock('../../src-main/train/adamw', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src-main/train/adamw')>();
  return {
    ...real,
    gradGlobalNorm: (g: Map<string, Tensor>) => (state.poison-- > 0 ? Infinity : real.gradGlobalNorm(g)),
  };
});

beforeAll(async () => {
  await initEngine();
});

function batch(seed: number) {
  const n = 16 * 16 * 16;
  const img = new Float32Array(n);
  const lab = new Int32Array(n);
  for (let v = 0; v < n; v++) {
    const inside = (v % 16) - 8 + ((v >> 4) % 16) - 8 < 3 && v >> 8 > 4;
    lab[v] = inside ? 1 : 0;
    img[v] = (inside ? 1 : 0) + 0.1 * Math.sin(v * 12.9898 + seed);
  }
  return { image: tf.tensor5d(img, [1, 16, 16, 16, 1]), labels: tf.tensor4d(lab, [1, 16, 16, 16], 'int32') };
}

const weights = (net: DeformUXNet) => [...net.params.values()].map((p) => (p.dataSync() as Float32Array).slice());
const same = (a: Float32Array[], b: Float32Array[]) =>
  a.every((x, i) => Buffer.from(x.buffer).equals(Buffer.from(b[i].buffer)));

describe('non-finite gradients', () => {
  it('skip the batch (weights and step count unchanged), then training goes on', () => {
    const net = DeformUXNet.create(TINY_TRAIN_CONFIG, 3);
    const trainer = new Trainer(net, { lr: 1e-2 });
    const { image, labels } = batch(1);
    const before = weights(net);
    state.poison = 1;
    const r = trainer.trainStep(image, labels);
    expect(r.skipped).toBe(true);
    expect(r.step).toBe(0);
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(same(weights(net), before)).toBe(true);
    const next = trainer.trainStep(image, labels);
    expect(next.skipped).toBeUndefined();
    expect(next.step).toBe(1);
    const after = weights(net);
    expect(same(after, before)).toBe(false);
    expect(after.every((w) => w.every(Number.isFinite))).toBe(true);
    // Four in a row are skipped; the fifth ends the run, weights still finite.
    state.poison = MAX_SKIPPED_STEPS;
    for (let k = 1; k < MAX_SKIPPED_STEPS; k++) expect(trainer.trainStep(image, labels).skipped).toBe(true);
    expect(() => trainer.trainStep(image, labels)).toThrow(/diverged at step 2: the gradients were not finite/);
    expect(same(weights(net), after)).toBe(true);
    tf.dispose([image, labels]);
    trainer.dispose();
    net.dispose();
  });

  it('the step loop draws another batch for a skipped one and saves checkpoints only for real steps', async () => {
    const net = DeformUXNet.create(TINY_TRAIN_CONFIG, 4);
    const trainer = new Trainer(net, { lr: 1e-2 });
    let drawn = 0;
    const saves: number[] = [];
    const steps: number[] = [];
    state.poison = 0;
    await runSteps({
      trainer,
      end: 4,
      sample: () => {
        drawn++;
        // The batch drawn third overflows: step 2 is taken on the fourth.
        if (drawn === 3) state.poison = 1;
        return batch(drawn);
      },
      onStep: (r, perStepS) => {
        steps.push(r.step);
        expect(Number.isFinite(perStepS)).toBe(true);
      },
      checkpointEvery: 2,
      save: async () => void saves.push(trainer.step),
    });
    expect(trainer.step).toBe(4);
    expect(drawn).toBe(5);
    expect(steps).toEqual([1, 2, 2, 3, 4]);
    expect(saves).toEqual([2]);
    trainer.dispose();
    net.dispose();
  });
});
