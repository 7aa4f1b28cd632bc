// The fused norm / expansion ops against the same layers built from tfjs ops: values and gradients for every input.
import type { Tensor, Tensor5D } from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { tf } from '../../src-main/engine/tf';
import {
  expand4Ops,
  reduce4Ops,
  gelu,
  geluOps,
  instanceNorm,
  instanceNormOps,
  layerNormC,
  layerNormCOps,
} from '../../src-main/engine/model/layers';
import {
  addBias,
  addLeakyRelu,
  expand4,
  instanceNormLast,
  reduce4,
  scaledResidual,
  sliceInChannels,
} from '../../src-main/engine/model/fused';
import { Rng } from '../../src-main/engine/model/rng';
import { maxRelErr } from './compare';

const rng = new Rng(11);
const rand = (shape: number[], scale = 1, offset = 0): Tensor =>
  tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => offset + scale * rng.normal()),
    shape,
  );

/** Value and gradients of sum(f(inputs) * G) for fused and reference f; all must agree to 1e-4 relative. */
function agree(fused: (...t: Tensor[]) => Tensor, ref: (...t: Tensor[]) => Tensor, inputs: Tensor[]): void {
  const g = tf.tidy(() => tf.randomNormal(fused(...inputs).shape, 0, 1, 'float32', 3));
  const run = (f: (...t: Tensor[]) => Tensor): { y: Float32Array; grads: Float32Array[] } => {
    const y = tf.tidy(() => f(...inputs).dataSync() as Float32Array);
    const grads = tf
      .grads((...t: Tensor[]) => tf.sum(tf.mul(f(...t), g)))(inputs)
      .map((t) => t.dataSync() as Float32Array);
    return { y, grads };
  };
  const a = run(fused);
  const b = run(ref);
  expect(maxRelErr(a.y, b.y)).toBeLessThan(1e-4);
  a.grads.forEach((ga, i) => expect(maxRelErr(ga, b.grads[i]), `gradient ${i}`).toBeLessThan(1e-4));
}

describe('fused layers match op-built layers', () => {
  it('LayerNorm over channels x=[2,2,3,4,5] (offset mean, affine)', () => {
    agree(
      (x, w, b) => layerNormC(x as Tensor5D, (n) => (n.endsWith('weight') ? w : b), 'n'),
      (x, w, b) => layerNormCOps(x as Tensor5D, (n) => (n.endsWith('weight') ? w : b), 'n'),
      [rand([2, 2, 3, 4, 5], 2, 3), rand([5], 0.5, 1), rand([5])],
    );
  });

  it('InstanceNorm x=[2,2,3,4,3]', () => {
    agree(
      (x) => instanceNorm(x as Tensor5D),
      (x) => instanceNormOps(x as Tensor5D),
      [rand([2, 2, 3, 4, 3], 1.5, -1)],
    );
  });

  it('InstanceNorm + leaky ReLU x=[1,2,3,4,3]', () => {
    agree(
      (x) => instanceNormLast(1e-5, 0.01)(x),
      (x) => tf.leakyRelu(instanceNormOps(x as Tensor5D), 0.01),
      [rand([1, 2, 3, 4, 3], 1.5, -1)],
    );
  });

  it('GELU (exact erf form) on x in [-6, 6]', () => {
    const x = tf.linspace(-6, 6, 1001);
    agree(
      (t) => gelu(t),
      (t) => geluOps(t),
      [x],
    );
  });

  it('leaky_relu(a + b) with gradients to both', () => {
    agree(
      (a, b) => addLeakyRelu(0.01)(a, b),
      (a, b) => tf.leakyRelu(tf.add(a, b), 0.01),
      [rand([2, 3, 4, 5]), rand([2, 3, 4, 5])],
    );
  });

  it('grouped expansion C -> 4C x=[1,2,2,3,3]', () => {
    agree(
      (x, w, b) => expand4(x, w, b),
      (x, w, b) => expand4Ops(x as Tensor5D, w, b),
      [rand([1, 2, 2, 3, 3]), rand([3, 4]), rand([12])],
    );
  });

  it('grouped reduction 4C -> C x=[1,2,2,3,12]', () => {
    agree(
      (x, w, b) => reduce4(x, w, b),
      (x, w, b) => reduce4Ops(x as Tensor5D, w, b),
      [rand([1, 2, 2, 3, 12]), rand([3, 4]), rand([3])],
    );
  });

  it('bias add and layer-scaled residual x + gamma*y', () => {
    agree(
      (x, b) => addBias(x, b),
      (x, b) => tf.add(x, b),
      [rand([2, 3, 4, 5]), rand([5])],
    );
    agree(
      (x, y, g) => scaledResidual(x, y, g),
      (x, y, g) => tf.add(x, tf.mul(y, g)),
      [rand([2, 3, 4, 5]), rand([2, 3, 4, 5]), rand([5])],
    );
  });

  it('input-channel slice of a conv weight [3,3,3,6,2] channels 2..5', () => {
    agree(
      (w) => sliceInChannels(w, 2, 3),
      (w) => tf.slice(w, [0, 0, 0, 2, 0], [3, 3, 3, 3, 2]),
      [rand([3, 3, 3, 6, 2])],
    );
  });
});
