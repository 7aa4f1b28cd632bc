// Reuse of kernel output arrays inside one network run (src-main/engine/kernels/output_pool.ts): the same
// numbers as without reuse, arrays really reused, and never an array a live tensor (or a view of it) still uses.
import type { Tensor4D, Tensor5D } from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../../src-main/engine/tf';
import {
  createOutputReuse,
  outputReuseStats,
  setOutputReuse,
  withOutputReuse,
} from '../../src-main/engine/kernels/output_pool';
import { presetConfig } from '../../src-main/engine/model/config';
import type { ModelConfig } from '../../src-main/engine/model/config';
import { DeformUXNet } from '../../src-main/engine/model/network';
import { Rng } from '../../src-main/engine/model/rng';
import { Trainer } from '../../src-main/train/trainer';

beforeAll(async () => {
  const info = await initEngine({ device: 'cpu' });
  expect(info.native).toBe(true);
});

// 16 channels at full resolution, as lite: the native kernels and their outputF32 arrays are all in play.
const SMALL: ModelConfig = {
  ...presetConfig('lite'),
  out_channels: 3,
  feature_sizes: [16, 32, 32, 64],
  hidden_size: 64,
};

function input(seed: number, shape: [number, number, number, number, number]): Tensor5D {
  const rng = new Rng(seed);
  return tf.tensor5d(
    Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.normal()),
    shape,
  );
}

describe('output array reuse', () => {
  it('gives bit-identical logits with reuse, and reuses most arrays', () => {
    const net = DeformUXNet.create(SMALL, 3);
    const x = input(1, [2, 32, 32, 48, 1]);
    const logits = (reuse: boolean): Float32Array => {
      let out: Float32Array | undefined;
      tf.tidy(() => {
        out = (reuse ? withOutputReuse(() => net.forward(x)) : net.forward(x)).dataSync() as Float32Array;
      });
      return Float32Array.from(out!);
    };
    const plain = logits(false);
    const before = outputReuseStats();
    const reused = logits(true);
    const after = outputReuseStats();
    expect(reused).toEqual(plain);
    expect(after.reused - before.reused).toBeGreaterThan(0.3 * (after.fresh - before.fresh));
    tf.dispose(x);
    net.dispose();
  });

  it('a persistent pool serves later runs with the arrays of earlier ones, with the same logits', () => {
    const net = DeformUXNet.create(SMALL, 4);
    const xs = [input(6, [1, 32, 32, 32, 1]), input(7, [1, 32, 32, 32, 1])];
    const run = (x: Tensor5D, f: (g: () => Tensor5D) => Tensor5D): Float32Array => {
      let out: Float32Array | undefined;
      tf.tidy(() => {
        out = f(() => net.forward(x)).dataSync() as Float32Array;
      });
      return Float32Array.from(out!); // the copy right after the result's tensor is disposed (as predictPatch does)
    };
    const plain = xs.map((x) => run(x, (g) => g()));
    const reuse = createOutputReuse();
    const first = run(xs[0], (g) => reuse.run(g));
    const mid = outputReuseStats();
    const second = run(xs[1], (g) => reuse.run(g));
    const end = outputReuseStats();
    reuse.release();
    expect(first).toEqual(plain[0]);
    expect(second).toEqual(plain[1]);
    // The second run found nearly all its arrays in the pool.
    expect(end.reused - mid.reused).toBeGreaterThan(5 * (end.fresh - mid.fresh));
    tf.dispose(xs);
    net.dispose();
  });

  it('trains bit-identically with reuse on and off (Trainer runs forward and backward inside a scope)', () => {
    const rng = new Rng(5);
    const image = input(2, [1, 32, 32, 32, 1]);
    const labels = tf.tensor4d(
      Int32Array.from({ length: 32 ** 3 }, () => rng.int(3)),
      [1, 32, 32, 32],
      'int32',
    ) as Tensor4D;
    const weights = (reuse: boolean) => {
      const was = setOutputReuse(reuse);
      try {
        const net = DeformUXNet.create(SMALL, 11);
        const trainer = new Trainer(net, { lr: 1e-3 });
        const losses = [0, 1].map(() => trainer.trainStep(image, labels).loss);
        const w = net.toTorch();
        trainer.dispose();
        net.dispose();
        return { losses, w };
      } finally {
        setOutputReuse(was);
      }
    };
    const off = weights(false);
    const on = weights(true);
    expect(on.losses).toEqual(off.losses);
    for (const [name, t] of off.w) expect(on.w.get(name)!.data, name).toEqual(t.data);
    tf.dispose([image, labels]);
  });

  it('never hands out an array that a live tensor or a view of it still uses, nor one from outside the scope', () => {
    const outside = tf.add(tf.ones([4, 32, 32, 16]), tf.ones([4, 32, 32, 16])); // native Add: an outputF32 array
    // An output of an earlier scope, still alive when the next scope starts and disposed inside it.
    const earlier = withOutputReuse(() => tf.add(outside, outside));
    const earlierArray = earlier.dataSync();
    withOutputReuse(() => {
      earlier.dispose();
      const fresh = tf.add(outside, outside);
      expect(fresh.dataSync()).not.toBe(earlierArray);
      fresh.dispose();
    });
    withOutputReuse(() => {
      const a = tf.add(outside, outside);
      const view = tf.slice(a, [1, 0, 0, 0], [2, 32, 32, 16]); // contiguous: a subarray of a's memory
      const viewBefore = Float32Array.from(view.dataSync());
      a.dispose(); // a's memory is still the view's
      const b = tf.add(outside, tf.mul(outside, 3)); // same length as a: would take a's array if it were free
      expect(Float32Array.from(view.dataSync())).toEqual(viewBefore);
      expect(b.dataSync()[0]).toBe(8);
      const c = tf.add(b, b);
      b.dispose(); // b's array is free now, and was made in this scope
      outside.dispose(); // made outside: must never come back
      const d = tf.add(c, c);
      expect(d.dataSync()[0]).toBe(32);
      expect(c.dataSync()[0]).toBe(16);
      tf.dispose([view, c, d]);
    });
  });
});
