// Depthwise conv3d ("same", stride 1): native (every ISA) vs the JS reference, PyTorch goldens, finite
import type { Tensor4D, Tensor5D } from '@tensorflow/tfjs';
// differences, and the tfjs op with autograd.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../../src-main/engine/tf';
import { depthwiseConv3d, nativeAddon } from '../../src-main/engine/kernels';
import type { NativeAddon } from '../../src-main/engine/kernels/addon';
import {
  depthwiseConv3dBackwardRef,
  depthwiseConv3dForwardRef,
  type DepthwiseShape,
} from '../../src-main/engine/kernels/reference/depthwise_conv3d_ref';
import { expectClose, goldenArray, loadGoldens, seeded } from './helpers';

let addon: NativeAddon;

beforeAll(async () => {
  const info = await initEngine({ device: 'cpu' });
  expect(info.native).toBe(true);
  addon = nativeAddon()!;
});

function run(s: DepthwiseShape, x: Float32Array, w: Float32Array, b: Float32Array | null, dy: Float32Array) {
  const dims = [s.N, s.D, s.H, s.W, s.C, s.k];
  const y = new Float32Array(x.length);
  addon.depthwiseForward(y, x, w, b, dims);
  const dx = new Float32Array(x.length),
    dw = new Float32Array(w.length),
    db = b ? new Float32Array(s.C) : null;
  addon.depthwiseBackward(dx, dw, db, dy, x, w, dims);
  return { y, dx, dweight: dw, dbias: db };
}

function ref(s: DepthwiseShape, x: Float32Array, w: Float32Array, b: Float32Array | null, dy: Float32Array) {
  const f = (a: Float32Array) => Float64Array.from(a);
  const y = new Float64Array(x.length);
  depthwiseConv3dForwardRef(y, f(x), f(w), b ? f(b) : null, s);
  const dx = new Float64Array(x.length),
    dw = new Float64Array(w.length),
    db = b ? new Float64Array(s.C) : null;
  depthwiseConv3dBackwardRef(dx, dw, db, f(dy), f(x), f(w), s);
  return { y, dx, dweight: dw, dbias: db };
}

describe('native depthwise conv3d vs the JS reference', () => {
  const cases: DepthwiseShape[] = [
    { N: 1, D: 5, H: 6, W: 9, C: 16, k: 3 },
    { N: 2, D: 4, H: 5, W: 11, C: 12, k: 5 },
    { N: 1, D: 7, H: 8, W: 9, C: 20, k: 7 },
    { N: 1, D: 3, H: 4, W: 5, C: 3, k: 1 },
    { N: 1, D: 2, H: 3, W: 2, C: 35, k: 5 },
  ];
  for (const s of cases) {
    for (const isa of ['avx512', 'avx2', 'scalar']) {
      for (const withBias of [true, false]) {
        it(`x=[${s.N},${s.D},${s.H},${s.W},${s.C}] k=${s.k} bias=${withBias} isa=${isa}`, () => {
          if (addon.setIsa(isa) !== isa) return;
          try {
            const rnd = seeded(s.C * 31 + s.k);
            const nx = s.N * s.D * s.H * s.W * s.C;
            const x = rnd(nx),
              w = rnd(s.k ** 3 * s.C),
              b = withBias ? rnd(s.C) : null,
              dy = rnd(nx);
            const got = run(s, x, w, b, dy);
            const want = ref(s, x, w, b, dy);
            expectClose(got.y, want.y, 1e-4, 1e-4, 'y');
            expectClose(got.dx, want.dx, 1e-4, 1e-4, 'dx');
            expectClose(got.dweight, want.dweight, 2e-4, 1e-4, 'dweight');
            if (b) expectClose(got.dbias!, want.dbias!, 1e-4, 1e-4, 'dbias');
          } finally {
            addon.setIsa('avx512');
          }
        });
      }
    }
  }
});

describe('depthwise conv3d vs PyTorch goldens (conv3d groups=C)', () => {
  const goldens = loadGoldens();
  for (const c of goldens.cases.filter((g) => g.op === 'depthwiseConv3d')) {
    it(`${c.name} (torch ${goldens.torch})`, () => {
      const [N, D, H, W, C] = c.shape;
      const s = { N, D, H, W, C, k: c.k };
      const got = run(s, goldenArray(c, 'x'), goldenArray(c, 'weight'), goldenArray(c, 'bias'), goldenArray(c, 'dy'));
      for (const name of c.compare) expectClose(got[name as keyof typeof got]!, goldenArray(c, name), 2e-4, 2e-4, name);
    });
  }
});

describe('depthwise JS reference backward vs finite differences (float64)', () => {
  it('x=[1,3,3,4,2] k=3', () => {
    const s = { N: 1, D: 3, H: 3, W: 4, C: 2, k: 3 };
    const rnd = seeded(5);
    const nx = 72;
    const x = Float64Array.from(rnd(nx)),
      w = Float64Array.from(rnd(54)),
      b = Float64Array.from(rnd(2)),
      dy = Float64Array.from(rnd(nx));
    const loss = () => {
      const y = new Float64Array(nx);
      depthwiseConv3dForwardRef(y, x, w, b, s);
      return y.reduce((a, v, i) => a + v * dy[i], 0);
    };
    const g = [new Float64Array(nx), new Float64Array(54), new Float64Array(2)];
    depthwiseConv3dBackwardRef(g[0], g[1], g[2], dy, x, w, s);
    [x, w, b].forEach((arr, which) => {
      const fd = Float64Array.from(arr, (v, i) => {
        arr[i] = v + 1e-6;
        const lp = loss();
        arr[i] = v - 1e-6;
        const lm = loss();
        arr[i] = v;
        return (lp - lm) / 2e-6;
      });
      expectClose(g[which], fd, 1e-6, 1e-6, ['dx', 'dweight', 'dbias'][which]);
    });
  });
});

describe('depthwiseConv3d tfjs op', () => {
  it('x=[1,5,6,7,16] k=5: forward equals tfjs conv3d per channel, gradients match the reference', () => {
    const rnd = seeded(77);
    const x = tf.tensor5d(rnd(5 * 6 * 7 * 16), [1, 5, 6, 7, 16]);
    const w = tf.tensor4d(rnd(125 * 16), [5, 5, 5, 16]);
    const b = tf.tensor1d(rnd(16));
    const y = depthwiseConv3d(x, w, b);
    // Oracle: tfjs's dense conv3d with a block-diagonal filter.
    const dense = tf.tidy(() => {
      const eye = tf.reshape(tf.eye(16), [1, 1, 1, 16, 16]);
      return tf.mul(tf.expandDims(w, 3), eye) as Tensor5D;
    });
    const want = tf.add(tf.conv3d(x, dense, 1, 'same'), b);
    expectClose(y.dataSync(), want.dataSync(), 1e-4, 1e-4, 'y');
    const dy = tf.tensor5d(rnd(5 * 6 * 7 * 16), [1, 5, 6, 7, 16]);
    const g = tf.grads((a, ww, bb) => tf.sum(tf.mul(depthwiseConv3d(a, ww, bb), dy)))([x, w, b]);
    const r = ref(
      { N: 1, D: 5, H: 6, W: 7, C: 16, k: 5 },
      x.dataSync() as Float32Array,
      w.dataSync() as Float32Array,
      b.dataSync() as Float32Array,
      dy.dataSync() as Float32Array,
    );
    expectClose(g[0].dataSync(), r.dx, 1e-4, 1e-4, 'dx');
    expectClose(g[1].dataSync(), r.dweight, 2e-4, 1e-4, 'dweight');
    expectClose(g[2].dataSync(), r.dbias!, 1e-4, 1e-4, 'dbias');
  });

  it('works without bias, with gradients', () => {
    const x = tf.randomNormal([1, 3, 4, 5, 4]) as Tensor5D;
    const w = tf.randomNormal([3, 3, 3, 4]) as Tensor4D;
    const [gx, gw] = tf.grads((a, ww) => tf.sum(depthwiseConv3d(a, ww)))([x, w]);
    expect(gx.shape).toEqual([1, 3, 4, 5, 4]);
    expect(gw.shape).toEqual([3, 3, 3, 4]);
  });
});
