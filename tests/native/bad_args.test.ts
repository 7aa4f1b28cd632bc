// Bad arguments throw clear errors (never crash): shapes, kernel size, groups, NaN, and raw addon misuse.
import type { Tensor1D, Tensor4D, Tensor5D } from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../../src-main/engine/tf';
import { deformDwConv3d, depthwiseConv3d, nativeAddon } from '../../src-main/engine/kernels';
import { jsCompute } from '../../src-main/engine/kernels/compute';

beforeAll(async () => {
  await initEngine({ device: 'cpu' });
});

const x = () => tf.zeros([1, 3, 4, 5, 4]) as Tensor5D;
const off = (g = 1, k = 3) => tf.zeros([1, 3, 4, 5, g * k ** 3 * 3]) as Tensor5D;
const w = (k = 3, c = 4) => tf.zeros([k, k, k, c]) as Tensor4D;
const b = (c = 4) => tf.zeros([c]) as Tensor1D;

describe('deformDwConv3d argument errors', () => {
  it('rejects a 4-D x', () => {
    expect(() => deformDwConv3d(tf.zeros([3, 4, 5, 4]), off(), w(), b(), { groups: 1 })).toThrow(
      /x must be 5-D \[N,D,H,W,C\]/,
    );
  });
  it('rejects an even kernel size', () => {
    expect(() => deformDwConv3d(x(), tf.zeros([1, 3, 4, 5, 8 * 3]), w(2), b(), { groups: 1 })).toThrow(
      /kernel size must be odd/,
    );
  });
  it('rejects C % G != 0', () => {
    expect(() => deformDwConv3d(x(), off(3), w(), b(), { groups: 3 })).toThrow(/C=4 must be divisible by groups G=3/);
  });
  it('rejects NaN or fractional groups', () => {
    expect(() => deformDwConv3d(x(), off(), w(), b(), { groups: NaN })).toThrow(/groups must be a positive integer/);
    expect(() => deformDwConv3d(x(), off(), w(), b(), { groups: 1.5 })).toThrow(/groups must be a positive integer/);
  });
  it('rejects a mismatched offset shape, naming the expected one', () => {
    expect(() => deformDwConv3d(x(), off(2), w(), b(), { groups: 1 })).toThrow(/offset must be \[1,3,4,5,81\]/);
  });
  it('rejects a weight of the wrong channel count', () => {
    expect(() => deformDwConv3d(x(), off(), w(3, 5), b(), { groups: 1 })).toThrow(/weight must be \[3,3,3,4\]/);
  });
  it('rejects a bias of the wrong length', () => {
    expect(() => deformDwConv3d(x(), off(), w(), b(3), { groups: 1 })).toThrow(/bias must be \[4\]/);
  });
  it('rejects NaN offsets (native and JS)', () => {
    const o = tf.fill([1, 3, 4, 5, 81], NaN) as Tensor5D;
    expect(() => deformDwConv3d(x(), o, w(), b(), { groups: 1 }).dataSync()).toThrow(
      /offset contains a non-finite value/,
    );
    const data = new Float32Array(60 * 81);
    data[5] = Infinity;
    expect(() =>
      jsCompute.deformForward(
        new Float32Array(240),
        new Float32Array(240),
        data,
        new Float32Array(108),
        new Float32Array(4),
        { N: 1, D: 3, H: 4, W: 5, C: 4, k: 3, G: 1 },
      ),
    ).toThrow(/non-finite/);
  });
});

describe('depthwiseConv3d argument errors', () => {
  it('rejects an even or too large kernel', () => {
    expect(() => depthwiseConv3d(x(), w(4))).toThrow(/kernel size must be odd and between 1 and 7/);
    expect(() => depthwiseConv3d(x(), w(9))).toThrow(/kernel size must be odd and between 1 and 7/);
  });
  it('rejects a channel mismatch', () => {
    expect(() => depthwiseConv3d(x(), w(3, 2))).toThrow(/weight must be \[3,3,3,4\]/);
  });
});

describe('the raw addon checks every argument', () => {
  it('wrong array lengths, types and sizes throw with the file and line', () => {
    const a = nativeAddon()!;
    const f = (n: number) => new Float32Array(n);
    expect(() => a.deformForward(f(10), f(240), f(60 * 81), f(108), f(4), [1, 3, 4, 5, 4, 3, 1])).toThrow(
      /y has 10 values, expected 240 \(binding\.cc:\d+\)/,
    );
    expect(() => a.deformForward(f(240), f(240), f(60 * 81), f(108), f(4), [1, 3, 4, 5, 4, 4, 1])).toThrow(/odd/);
    expect(() => a.deformForward(f(240), f(240), f(60 * 81), f(108), f(4), [1, 3, 4, 5, 4, 3, 3])).toThrow(/divisible/);
    expect(() => a.deformForward(f(240), f(240), f(60 * 81), f(108), f(4), [1, 3, 4, 5, 4, 3])).toThrow(
      /expected 7 sizes/,
    );
    expect(() => a.deformForward(f(240), f(240), f(60 * 81), f(108), f(4), [1, 3, 4, 5, 4, 3, NaN])).toThrow(
      /non-negative integer/,
    );
    expect(() =>
      a.deformForward(
        new Float64Array(240) as unknown as Float32Array,
        f(240),
        f(60 * 81),
        f(108),
        f(4),
        [1, 3, 4, 5, 4, 3, 1],
      ),
    ).toThrow(/Float32Array/);
    expect(() => a.conv3dForward(f(1), f(1), f(1), [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0])).toThrow(
      /padding/,
    );
    expect(() => a.conv3dForward(f(3), f(8), f(1), [1, 2, 2, 2, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0])).toThrow(
      /y has 3 values, expected 8/,
    );
    expect(() => a.conv3dForward(f(125), f(8), f(8), [1, 2, 2, 2, 1, 5, 5, 5, 1, 2, 2, 2, 1, 1, 1, 0, 0, 0])).toThrow(
      /output size does not fit/,
    );
    expect(() => a.setIsa('sse9')).toThrow(/setIsa/);
  });
});
