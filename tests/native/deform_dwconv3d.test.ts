// DeformDwConv3D: native CPU kernels (every ISA) vs the JS reference, PyTorch goldens and finite differences,
import type { Scalar, Tensor1D, Tensor4D, Tensor5D } from '@tensorflow/tfjs';
// and the tfjs op with autograd.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../../src-main/engine/tf';
import { deformDwConv3d, nativeAddon } from '../../src-main/engine/kernels';
import type { NativeAddon } from '../../src-main/engine/kernels/addon';
import {
  deformDwConv3dBackwardRef,
  deformDwConv3dForwardRef,
  type DeformShape,
} from '../../src-main/engine/kernels/reference/deform_dwconv3d_ref';
import { depthwiseConv3dForwardRef } from '../../src-main/engine/kernels/reference/depthwise_conv3d_ref';
import { expectClose, goldenArray, loadGoldens, seeded } from './helpers';

let addon: NativeAddon;

beforeAll(async () => {
  const info = await initEngine({ device: 'cpu' });
  expect(info.native, `native addon must load (warnings: ${info.warnings.join('; ')})`).toBe(true);
  addon = nativeAddon()!;
});

type OffsetKind = 'zero' | 'integer' | 'fractional' | 'far';

function makeCase(s: DeformShape, kind: OffsetKind, seed: number) {
  const rnd = seeded(seed);
  const K = s.k ** 3;
  const nx = s.N * s.D * s.H * s.W * s.C;
  const noff = s.N * s.D * s.H * s.W * s.G * K * 3;
  let offset = rnd(noff, 1.5);
  if (kind === 'zero') offset = new Float32Array(noff);
  if (kind === 'integer') offset = offset.map((v) => Math.round(v * 1.4));
  if (kind === 'far') offset = offset.map((v, i) => (i % 7 < 3 ? v + (i % 2 ? 1e4 : -1e4) : v));
  return { x: rnd(nx), offset, weight: rnd(K * s.C), bias: rnd(s.C), dy: rnd(nx) };
}

function nativeRun(s: DeformShape, d: ReturnType<typeof makeCase>) {
  const K = s.k ** 3;
  const dims = [s.N, s.D, s.H, s.W, s.C, s.k, s.G];
  const y = new Float32Array(d.x.length);
  addon.deformForward(y, d.x, d.offset, d.weight, d.bias, dims);
  const g = [
    new Float32Array(d.x.length),
    new Float32Array(d.offset.length),
    new Float32Array(K * s.C),
    new Float32Array(s.C),
  ] as const;
  addon.deformBackward(g[0], g[1], g[2], g[3], d.dy, d.x, d.offset, d.weight, dims);
  return { y, dx: g[0], doffset: g[1], dweight: g[2], dbias: g[3] };
}

function refRun(s: DeformShape, d: ReturnType<typeof makeCase>) {
  const f64 = (a: Float32Array) => Float64Array.from(a);
  const K = s.k ** 3;
  const y = new Float64Array(d.x.length);
  deformDwConv3dForwardRef(y, f64(d.x), f64(d.offset), f64(d.weight), f64(d.bias), s);
  const g = [
    new Float64Array(d.x.length),
    new Float64Array(d.offset.length),
    new Float64Array(K * s.C),
    new Float64Array(s.C),
  ] as const;
  deformDwConv3dBackwardRef(g[0], g[1], g[2], g[3], f64(d.dy), f64(d.x), f64(d.offset), f64(d.weight), s);
  return { y, dx: g[0], doffset: g[1], dweight: g[2], dbias: g[3] };
}

const CASES: [DeformShape, OffsetKind][] = [
  [{ N: 1, D: 4, H: 5, W: 6, C: 16, k: 3, G: 1 }, 'fractional'],
  [{ N: 2, D: 3, H: 4, W: 5, C: 12, k: 3, G: 3 }, 'fractional'],
  [{ N: 1, D: 4, H: 4, W: 5, C: 24, k: 5, G: 2 }, 'fractional'],
  [{ N: 1, D: 3, H: 5, W: 4, C: 8, k: 3, G: 2 }, 'integer'],
  [{ N: 1, D: 4, H: 3, W: 5, C: 20, k: 3, G: 1 }, 'zero'],
  [{ N: 1, D: 3, H: 4, W: 4, C: 6, k: 5, G: 3 }, 'far'],
  [{ N: 1, D: 2, H: 3, W: 3, C: 3, k: 1, G: 1 }, 'fractional'],
  [{ N: 1, D: 5, H: 4, W: 3, C: 4, k: 7, G: 1 }, 'fractional'],
];

describe('native DeformDwConv3D vs the JS reference', () => {
  for (const [s, kind] of CASES) {
    for (const isa of ['avx512', 'avx2', 'scalar']) {
      it(`x=[${s.N},${s.D},${s.H},${s.W},${s.C}] k=${s.k} G=${s.G} offsets=${kind} isa=${isa}`, () => {
        if (addon.setIsa(isa) !== isa) return; // this CPU lacks it
        try {
          const d = makeCase(s, kind, 7 + s.C);
          const got = nativeRun(s, d);
          const ref = refRun(s, d);
          expectClose(got.y, ref.y, 1e-4, 1e-4, 'y');
          expectClose(got.dx, ref.dx, 1e-4, 1e-4, 'dx');
          expectClose(got.doffset, ref.doffset, 2e-4, 1e-4, 'doffset');
          expectClose(got.dweight, ref.dweight, 2e-4, 1e-4, 'dweight');
          expectClose(got.dbias, ref.dbias, 1e-4, 1e-4, 'dbias');
        } finally {
          addon.setIsa('avx512');
        }
      });
    }
  }

  it('zero offsets give the depthwise convolution (x=[1,4,5,6,8] k=3 G=2)', () => {
    const s: DeformShape = { N: 1, D: 4, H: 5, W: 6, C: 8, k: 3, G: 2 };
    const d = makeCase(s, 'zero', 3);
    const dw = new Float64Array(d.x.length);
    depthwiseConv3dForwardRef(dw, Float64Array.from(d.x), Float64Array.from(d.weight), Float64Array.from(d.bias), s);
    expectClose(nativeRun(s, d).y, dw, 1e-4, 1e-4, 'y');
  });

  it('an integer offset (1,-1,2) everywhere is the depthwise conv of the shifted volume (interior voxels)', () => {
    const s: DeformShape = { N: 1, D: 5, H: 6, W: 7, C: 4, k: 3, G: 1 };
    const d = makeCase(s, 'zero', 5);
    const shift = [1, -1, 2];
    d.offset = d.offset.map((_, i) => shift[i % 3]);
    // shifted[v] = x[v + shift] (zero outside)
    const shifted = new Float64Array(d.x.length);
    for (let z = 0; z < s.D; z++)
      for (let y = 0; y < s.H; y++)
        for (let x = 0; x < s.W; x++) {
          const [zz, yy, xx] = [z + shift[0], y + shift[1], x + shift[2]];
          if (zz < 0 || zz >= s.D || yy < 0 || yy >= s.H || xx < 0 || xx >= s.W) continue;
          for (let c = 0; c < s.C; c++)
            shifted[((z * s.H + y) * s.W + x) * s.C + c] = d.x[((zz * s.H + yy) * s.W + xx) * s.C + c];
        }
    const want = new Float64Array(d.x.length);
    depthwiseConv3dForwardRef(want, shifted, Float64Array.from(d.weight), Float64Array.from(d.bias), s);
    // Where every tap of the plain conv is inside the volume, zero padding plays no part and both agree.
    const got = nativeRun(s, d).y;
    const r = 1;
    let compared = 0;
    for (let z = r; z < s.D - r; z++)
      for (let y = r; y < s.H - r; y++)
        for (let x = r; x < s.W - r; x++)
          for (let c = 0; c < s.C; c++) {
            const i = ((z * s.H + y) * s.W + x) * s.C + c;
            expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-4);
            compared++;
          }
    expect(compared).toBeGreaterThan(0);
  });

  it('offsets far outside the volume: output is the bias, gradients of x and offset are zero', () => {
    const s: DeformShape = { N: 1, D: 3, H: 3, W: 4, C: 5, k: 3, G: 1 };
    const d = makeCase(s, 'zero', 9);
    d.offset = d.offset.map((_, i) => (i % 2 ? 1e6 : -3e7));
    const got = nativeRun(s, d);
    for (let i = 0; i < got.y.length; i++) expect(got.y[i]).toBe(d.bias[i % s.C]);
    expect(got.dx.every((v) => v === 0)).toBe(true);
    expect(got.doffset.every((v) => v === 0)).toBe(true);
    expect(got.dweight.every((v) => v === 0)).toBe(true);
  });

  it('backward is deterministic (same bits on every run) and the async variants agree', async () => {
    const s: DeformShape = { N: 1, D: 6, H: 7, W: 8, C: 16, k: 3, G: 1 };
    const d = makeCase(s, 'fractional', 11);
    const a = nativeRun(s, d);
    const b = nativeRun(s, d);
    expect(Buffer.compare(Buffer.from(a.dx.buffer), Buffer.from(b.dx.buffer))).toBe(0);
    expect(Buffer.compare(Buffer.from(a.dweight.buffer), Buffer.from(b.dweight.buffer))).toBe(0);
    const dims = [s.N, s.D, s.H, s.W, s.C, s.k, s.G];
    const y = new Float32Array(d.x.length);
    await addon.deformForwardAsync(y, d.x, d.offset, d.weight, d.bias, dims);
    expect(Buffer.compare(Buffer.from(y.buffer), Buffer.from(a.y.buffer))).toBe(0);
    const g = [
      new Float32Array(d.x.length),
      new Float32Array(d.offset.length),
      new Float32Array(27 * s.C),
      new Float32Array(s.C),
    ] as const;
    await addon.deformBackwardAsync(g[0], g[1], g[2], g[3], d.dy, d.x, d.offset, d.weight, dims);
    expect(Buffer.compare(Buffer.from(g[1].buffer), Buffer.from(a.doffset.buffer))).toBe(0);
  });
});

describe('DeformDwConv3D vs PyTorch goldens (grid_sample formulation)', () => {
  const goldens = loadGoldens();
  for (const c of goldens.cases.filter((g) => g.op === 'deformDwConv3d')) {
    it(`${c.name} (torch ${goldens.torch})`, () => {
      const [N, D, H, W, C] = c.shape;
      const s: DeformShape = { N, D, H, W, C, k: c.k, G: c.groups! };
      const d = {
        x: goldenArray(c, 'x'),
        offset: goldenArray(c, 'offset'),
        weight: goldenArray(c, 'weight'),
        bias: goldenArray(c, 'bias'),
        dy: goldenArray(c, 'dy'),
      };
      const got = nativeRun(s, d);
      const js = refRun(s, d);
      for (const name of c.compare) {
        const want = goldenArray(c, name);
        expectClose(got[name as keyof typeof got], want, 2e-4, 2e-4, `native ${name}`);
        expectClose(js[name as keyof typeof js], want, 1e-4, 1e-4, `js ${name}`);
      }
    });
  }
});

describe('JS reference backward vs finite differences (float64)', () => {
  for (const [s, kind] of [
    [{ N: 1, D: 2, H: 3, W: 3, C: 2, k: 3, G: 1 }, 'fractional'],
    [{ N: 1, D: 2, H: 2, W: 3, C: 4, k: 3, G: 2 }, 'fractional'],
    [{ N: 1, D: 2, H: 2, W: 2, C: 1, k: 5, G: 1 }, 'fractional'],
  ] as [DeformShape, OffsetKind][]) {
    it(`x=[${s.N},${s.D},${s.H},${s.W},${s.C}] k=${s.k} G=${s.G} offsets=${kind}`, () => {
      const d32 = makeCase(s, kind, 21);
      // Keep positions away from integer cell borders, where the offset derivative jumps.
      const offset = Float64Array.from(d32.offset, (v) => (Math.abs(v - Math.round(v)) < 0.05 ? v + 0.2 : v));
      const x = Float64Array.from(d32.x),
        w = Float64Array.from(d32.weight),
        b = Float64Array.from(d32.bias),
        dy = Float64Array.from(d32.dy);
      const loss = () => {
        const y = new Float64Array(x.length);
        deformDwConv3dForwardRef(y, x, offset, w, b, s);
        let l = 0;
        for (let i = 0; i < y.length; i++) l += y[i] * dy[i];
        return l;
      };
      const K = s.k ** 3;
      const g = [
        new Float64Array(x.length),
        new Float64Array(offset.length),
        new Float64Array(K * s.C),
        new Float64Array(s.C),
      ];
      deformDwConv3dBackwardRef(g[0], g[1], g[2], g[3], dy, x, offset, w, s);
      const h = 1e-6;
      [x, offset, w, b].forEach((arr, which) => {
        const fd = new Float64Array(arr.length);
        for (let i = 0; i < arr.length; i++) {
          const v = arr[i];
          arr[i] = v + h;
          const lp = loss();
          arr[i] = v - h;
          const lm = loss();
          arr[i] = v;
          fd[i] = (lp - lm) / (2 * h);
        }
        expectClose(g[which], fd, 1e-6, 1e-5, ['dx', 'doffset', 'dweight', 'dbias'][which]);
      });
    });
  }
});

describe('deformDwConv3d tfjs op', () => {
  it('x=[1,4,5,6,8] k=3 G=2 offsets=random: tf.grads matches the reference backward', () => {
    const s: DeformShape = { N: 1, D: 4, H: 5, W: 6, C: 8, k: 3, G: 2 };
    const d = makeCase(s, 'fractional', 31);
    const K = 27;
    const x = tf.tensor5d(d.x, [1, 4, 5, 6, 8]);
    const off = tf.tensor5d(d.offset, [1, 4, 5, 6, 2 * K * 3]);
    const w = tf.tensor4d(d.weight, [3, 3, 3, 8]);
    const b = tf.tensor1d(d.bias);
    const dy = tf.tensor5d(d.dy, [1, 4, 5, 6, 8]);
    const grads = tf.grads((a, o, ww, bb) =>
      tf.sum(tf.mul(deformDwConv3d(a as Tensor5D, o as Tensor5D, ww as Tensor4D, bb as Tensor1D, { groups: 2 }), dy)),
    )([x, off, w, b]);
    const ref = refRun(s, d);
    expectClose(grads[0].dataSync(), ref.dx, 1e-4, 1e-4, 'dx');
    expectClose(grads[1].dataSync(), ref.doffset, 2e-4, 1e-4, 'doffset');
    expectClose(grads[2].dataSync(), ref.dweight, 2e-4, 1e-4, 'dweight');
    expectClose(grads[3].dataSync(), ref.dbias, 1e-4, 1e-4, 'dbias');
  });

  it('trains with tf.variableGrads and an optimizer without leaking tensors', () => {
    const rnd = seeded(41);
    const x = tf.tensor5d(rnd(2 * 4 * 4 * 4 * 4), [2, 4, 4, 4, 4]);
    const target = tf.tensor5d(rnd(2 * 4 * 4 * 4 * 4), [2, 4, 4, 4, 4]);
    const off = tf.variable(tf.tensor5d(rnd(2 * 64 * 81, 0.3), [2, 4, 4, 4, 81]));
    const w = tf.variable(tf.tensor4d(rnd(27 * 4, 0.2), [3, 3, 3, 4]));
    const b = tf.variable(tf.zeros([4]) as Tensor1D);
    const opt = tf.train.adam(0.01);
    const lossOf = () =>
      tf.mean(
        tf.square(tf.sub(deformDwConv3d(x, off as Tensor5D, w as Tensor4D, b as Tensor1D, { groups: 1 }), target)),
      ) as Scalar;
    const before = tf.tidy(() => lossOf().dataSync()[0]);
    opt.minimize(lossOf); // warm-up creates the optimizer's slots
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) opt.minimize(lossOf);
    expect(tf.memory().numTensors).toBe(tensors);
    const after = tf.tidy(() => lossOf().dataSync()[0]);
    expect(after).toBeLessThan(before);
    const { grads } = tf.variableGrads(lossOf);
    expect(Object.keys(grads).length).toBe(3);
    tf.dispose(grads);
  });
});
