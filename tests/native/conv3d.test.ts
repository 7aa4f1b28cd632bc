// Native dense conv3d kernels (Conv3D, Conv3DBackpropInputV2, Conv3DBackpropFilterV2) vs tfjs's own kernels,
import type { Tensor, Tensor5D } from '@tensorflow/tfjs';
// through the public ops and their gradients; plus the gradient of conv3dTranspose that tfjs lacks.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../../src-main/engine/tf';
import { nativeAddon, withOriginalConv3dKernels } from '../../src-main/engine/kernels';
import { expectClose, seeded } from './helpers';

beforeAll(async () => {
  const info = await initEngine({ device: 'cpu' });
  expect(info.native).toBe(true);
});

type Pad = 'same' | 'valid';

const CASES: [number[], number, number, number, Pad][] = [
  // x shape, k, Cout, stride, pad
  [[1, 6, 7, 8, 16], 3, 16, 1, 'same'],
  [[2, 5, 6, 7, 5], 3, 20, 2, 'same'],
  [[1, 8, 8, 8, 16], 2, 32, 2, 'valid'],
  [[1, 9, 10, 11, 1], 7, 16, 2, 'same'],
  [[1, 12, 12, 12, 1], 7, 8, 2, 'same'],
  [[1, 5, 6, 7, 8], 1, 24, 1, 'same'],
  [[1, 7, 7, 7, 3], 3, 5, 1, 'valid'],
  [[1, 6, 6, 6, 4], 2, 4, 1, 'same'],
  [[1, 7, 6, 5, 6], 1, 3, 2, 'valid'],
  [[1, 9, 9, 9, 4], 7, 6, 1, 'valid'],
  // Lines longer than the windowed kernel's tile and not a multiple of it (45 = 24 + 8 + 4 + 2 + 1 on AVX-512):
  // the partial tile at the end of each line runs in 8/4/2/1-row chunks; forward with Co = VW and Co < VW,
  // and (third case) backprop-input through the windowed kernel with 10 output channels.
  [[1, 3, 4, 45, 16], 3, 16, 1, 'same'],
  [[1, 2, 3, 29, 16], 3, 10, 1, 'same'],
  [[1, 3, 3, 45, 10], 3, 16, 1, 'same'],
  // 16 -> 32 and 16 -> 20 channels: the windowed kernel once per panel of output channels (full, partial).
  [[1, 2, 3, 40, 16], 3, 32, 1, 'same'],
  [[1, 2, 2, 27, 16], 3, 20, 1, 'same'],
  // These lines are read in place through virtual padding (forward, and backprop-input at unit stride):
  // planes and rows at the borders skip their outside taps. The filter gradient of lines >= 24 voxels copies
  // per-block source windows with their padding: stride 2 with 8 channels, and valid padding, 24 -> 40.
  [[2, 5, 6, 50, 8], 3, 16, 2, 'same'],
  [[1, 4, 5, 30, 24], 3, 40, 1, 'valid'],
  // 32 source channels on the windowed kernel (forward and backprop-input), with a partial tile per line.
  [[1, 3, 2, 30, 32], 3, 32, 1, 'same'],
  // 64 source channels with four output vectors, and 32 -> 48 (three), on lines of 17 and 16 rows: lines
  // shorter than a tile run the windowed kernel in 8/4/2/1-row chunks.
  [[1, 3, 2, 17, 64], 3, 64, 1, 'same'],
  [[1, 2, 3, 16, 32], 3, 48, 1, 'same'],
  // k = 2, stride 2: backprop-input (the decoders' transposed conv) by the one-tap-per-voxel kernel, with
  // two cases, odd channel counts and tiles of dy rows that span lines (13 voxels per line).
  [[2, 4, 6, 26, 5], 2, 7, 2, 'valid'],
];

describe('native conv3d vs tfjs kernels', () => {
  for (const [xs, k, cout, stride, pad] of CASES) {
    it(`x=[${xs}] k=${k} Cout=${cout} stride=${stride} pad=${pad}: forward and both gradients`, () => {
      const rnd = seeded(xs[4] * 100 + k * 10 + stride);
      const x = tf.tensor5d(rnd(xs.reduce((a, b) => a * b)), xs as [number, number, number, number, number]);
      const f = tf.tensor5d(rnd(k ** 3 * xs[4] * cout), [k, k, k, xs[4], cout]);
      const y = tf.conv3d(x, f, stride, pad);
      const dy = tf.tensor5d(rnd(y.size), y.shape);
      const lossGrads = () =>
        tf.grads((a, b) => tf.sum(tf.mul(tf.conv3d(a as Tensor5D, b as Tensor5D, stride, pad), dy)))([x, f]);
      const [yRef, gRef] = withOriginalConv3dKernels(tf, () => [tf.conv3d(x, f, stride, pad), lossGrads()] as const);
      const scale = Math.sqrt(k ** 3 * xs[4]);
      // Every instruction set this CPU has (the AVX2 and scalar builds block and dispatch differently).
      const addon = nativeAddon()!;
      const best = addon.isa;
      try {
        for (const isa of ['avx512', 'avx2', 'scalar']) {
          if (addon.setIsa(isa) !== isa) continue; // this CPU lacks it
          const yi = isa === best ? y : tf.conv3d(x, f, stride, pad);
          const g = lossGrads();
          expectClose(yi.dataSync(), yRef.dataSync(), 1e-4 * scale, 1e-4, `y (${isa})`);
          expectClose(g[0].dataSync(), gRef[0].dataSync(), 1e-4 * scale, 1e-4, `dx (${isa})`);
          expectClose(g[1].dataSync(), gRef[1].dataSync(), 1e-3 * scale, 1e-4, `dfilter (${isa})`);
        }
      } finally {
        addon.setIsa(best);
      }
    });
  }

  it("the registered kernels are the native ones, and tfjs's come back inside withOriginalConv3dKernels", () => {
    // (Results can be bit-identical: both accumulate in the same order with one rounding per step.)
    for (const name of ['Conv3D', 'Conv3DBackpropInputV2', 'Conv3DBackpropFilterV2']) {
      const mine = tf.getKernel(name, 'cpu');
      const theirs = withOriginalConv3dKernels(tf, () => tf.getKernel(name, 'cpu'));
      expect(mine).toBeTruthy();
      expect(theirs).toBeTruthy();
      expect(mine.kernelFunc).not.toBe(theirs.kernelFunc);
      expect(tf.getKernel(name, 'cpu')).toBe(mine);
    }
  });

  it('conv3dTranspose k=2 s=2 (decoder upsampling) matches tfjs and is trainable', () => {
    const rnd = seeded(9);
    const x = tf.tensor5d(rnd(4 * 4 * 4 * 8), [1, 4, 4, 4, 8]);
    const f = tf.tensor5d(rnd(8 * 4 * 8), [2, 2, 2, 4, 8]);
    const up = (a: Tensor, b: Tensor) => tf.conv3dTranspose(a as Tensor5D, b as Tensor5D, [1, 8, 8, 8, 4], 2, 'same');
    const y = up(x, f);
    const yRef = withOriginalConv3dKernels(tf, () => up(x, f));
    expectClose(y.dataSync(), yRef.dataSync(), 1e-4, 1e-4, 'y');
    // Gradients (registered by deformux) vs central finite differences of sum(y * dy).
    const dy = tf.tensor5d(rnd(8 ** 3 * 4), [1, 8, 8, 8, 4]);
    const [gx, gf] = tf.grads((a, b) => tf.sum(tf.mul(up(a, b), dy)))([x, f]);
    const loss = (a: Tensor, b: Tensor) => tf.tidy(() => tf.sum(tf.mul(up(a, b), dy)).dataSync()[0]);
    const h = 1e-2;
    for (const [t, g, which] of [
      [x, gx, 0],
      [f, gf, 1],
    ] as const) {
      const base = t.dataSync();
      for (const i of [0, 7, 100, base.length - 1]) {
        const p = base.slice();
        const m = base.slice();
        p[i] += h;
        m[i] -= h;
        const tp = tf.tensor(p, t.shape),
          tm = tf.tensor(m, t.shape);
        const fd = which === 0 ? (loss(tp, f) - loss(tm, f)) / (2 * h) : (loss(x, tp) - loss(x, tm)) / (2 * h);
        expect(Math.abs(g.dataSync()[i] - fd)).toBeLessThan(2e-2 * (1 + Math.abs(fd)));
      }
    }
  });

  it('async forward equals the sync result', async () => {
    const addon = nativeAddon()!;
    const p = [1, 6, 6, 6, 4, 6, 6, 6, 8, 3, 3, 3, 1, 1, 1, 1, 1, 1];
    const rnd = seeded(12);
    const x = rnd(6 ** 3 * 4),
      f = rnd(27 * 32);
    const a = new Float32Array(6 ** 3 * 8),
      b = new Float32Array(6 ** 3 * 8);
    addon.conv3dForward(a, x, f, p);
    await addon.conv3dForwardAsync(b, x, f, p);
    expect(Buffer.compare(Buffer.from(a.buffer), Buffer.from(b.buffer))).toBe(0);
  });
});
