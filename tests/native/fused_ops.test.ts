// The native fused block kernels (native/src/fused_ops.cc) against the JS reference loops of fused.ts: values and
// gradients of every op at odd sizes, multi-block sizes, thread-count independence, GELU accuracy, bad arguments.
import type { Tensor } from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../../src-main/engine/tf';
import { nativeAddon } from '../../src-main/engine/kernels';
import {
  addBias,
  addLeakyRelu,
  expand4,
  geluFused,
  instanceNormLast,
  layerNormLast,
  reduce4,
  scaledResidual,
} from '../../src-main/engine/model/fused';
import { fusedNative, setFusedMode, type FusedNative } from '../../src-main/engine/model/fused_native';
import { expectClose, seeded } from './helpers';

let nat: FusedNative;

beforeAll(async () => {
  const info = await initEngine({ device: 'cpu' });
  expect(info.native).toBe(true);
  const n = fusedNative();
  expect(n, 'the addon has no fused* kernels: rebuild it (npm run build:native)').not.toBeNull();
  nat = n!;
});

afterAll(() => {
  setFusedMode('auto');
});

const rand = seeded(4242);
const t = (shape: number[], scale = 1, offset = 0): Tensor => {
  const v = rand(shape.reduce((a, b) => a * b, 1), scale);
  for (let i = 0; i < v.length; i++) v[i] += offset;
  return tf.tensor(v, shape);
};

/** Value and gradients of sum(f(inputs) * G) in the given mode. */
function run(mode: 'auto' | 'js', f: (...x: Tensor[]) => Tensor, inputs: Tensor[], g: Tensor): Float32Array[] {
  const prev = setFusedMode(mode);
  try {
    const y = tf.tidy(() => f(...inputs).dataSync() as Float32Array);
    const grads = tf.grads((...x: Tensor[]) => tf.sum(tf.mul(f(...x), g)))(inputs);
    const out = [y, ...grads.map((d) => d.dataSync() as Float32Array)];
    tf.dispose(grads);
    return out;
  } finally {
    setFusedMode(prev);
  }
}

// Native and JS do the same double-precision arithmetic per element; only reduction order differs (blocked
// partial sums vs one running sum), so values agree to ~1 float32 ulp: tolerance 1e-6 absolute + 2e-6 relative
// (weight/bias gradients, sums of thousands of terms, get 1e-5 relative).
function agree(name: string, f: (...x: Tensor[]) => Tensor, inputs: Tensor[]): void {
  const outShape = tf.tidy(() => f(...inputs).shape);
  const g = t(outShape);
  const js = run('js', f, inputs, g);
  const na = run('auto', f, inputs, g);
  expect(na.length).toBe(js.length);
  for (let i = 0; i < js.length; i++) {
    const reduced = i > 0 && inputs[i - 1].rank === 1 ? 1e-5 : 2e-6;
    expectClose(na[i], js[i], 1e-6, reduced, `${name} ${i === 0 ? 'value' : `grad ${i - 1}`}`);
  }
  g.dispose();
}

// Shapes: an odd small one (one block, serial) and one of 40 392 values / 5 049 rows (several blocks, threaded).
const shapes: [string, number[]][] = [
  ['odd small', [1, 3, 5, 7, 6]],
  ['multi-block', [1, 9, 17, 33, 8]],
];

describe.each(shapes)('native fused ops vs JS loops (%s)', (_label, shape) => {
  const C = shape[4];
  it('LayerNorm over channels (eps 1e-6)', () => {
    agree('layerNorm', layerNormLast(1e-6), [t(shape, 2, 0.5), t([C], 1, 1), t([C], 0.5)]);
  });
  it('InstanceNorm (eps 1e-5) with and without LeakyReLU 0.01, batch 2', () => {
    const x = t([2, ...shape.slice(1)], 3, 1.5);
    agree('instanceNorm+lrelu', instanceNormLast(1e-5, 0.01), [x]);
    agree('instanceNorm', instanceNormLast(1e-5), [x]);
  });
  it('exact GELU', () => agree('gelu', geluFused, [t(shape, 4)]));
  it('grouped 1x1 expand C->4C and reduce 4C->C', () => {
    agree('expand4', expand4, [t(shape), t([C, 4]), t([4 * C])]);
    agree('reduce4', reduce4, [t([...shape.slice(0, 4), 4 * C]), t([C, 4]), t([C])]);
  });
  it('bias add, layer-scaled residual, add + LeakyReLU', () => {
    agree('addBias', addBias, [t(shape), t([C])]);
    agree('scaledResidual', scaledResidual, [t(shape), t(shape), t([C], 0.1)]);
    agree('addLeakyRelu', addLeakyRelu(0.01), [t(shape), t(shape)]);
  });
});

describe('native fused kernels: determinism and accuracy', () => {
  it('give bit-identical results with 1 thread and with the whole pool (fixed reduction order)', () => {
    const addon = nativeAddon()!;
    const rows = 6000;
    const C = 8;
    const x = rand(rows * C, 2);
    const dy = rand(rows * C);
    const w = rand(C);
    const outs = (): Float32Array[] => {
      const y = new Float32Array(rows * C), h = new Float32Array(rows * C), rs = new Float32Array(rows);
      nat.fusedLayerNormForward(y, h, rs, x, w, w, rows, C, 1e-6);
      const dx = new Float32Array(rows * C), dw = new Float32Array(C), db = new Float32Array(C);
      nat.fusedLayerNormBackward(dx, dw, db, dy, h, rs, w, rows, C);
      const ih = new Float32Array(rows * C), irs = new Float32Array(C), iy = new Float32Array(rows * C);
      nat.fusedInstanceNormForward(iy, ih, irs, x, 1, rows, C, 1e-5, 0.01);
      return [y, dx, dw, db, iy, irs];
    };
    const before = addon.threads;
    addon.setThreads(1);
    const one = outs();
    addon.setThreads(Math.max(2, before));
    const many = outs();
    addon.setThreads(before);
    for (let i = 0; i < one.length; i++) expect(Buffer.from(many[i].buffer).equals(Buffer.from(one[i].buffer))).toBe(true);
  });

  it('the scalar, AVX2 and AVX-512 builds give bit-identical results (no reassociation, no FMA contraction)', () => {
    const addon = nativeAddon()!;
    const rows = 3000;
    const C = 12;
    const x = rand(rows * C, 3);
    const dy = rand(rows * C);
    const w = rand(4 * C);
    const outs = (): Float32Array[] => {
      const y = new Float32Array(rows * C), h = new Float32Array(rows * C), rs = new Float32Array(rows);
      nat.fusedLayerNormForward(y, h, rs, x, w.subarray(0, C), w.subarray(C, 2 * C), rows, C, 1e-6);
      const dx = new Float32Array(rows * C), dw = new Float32Array(C), db = new Float32Array(C);
      nat.fusedLayerNormBackward(dx, dw, db, dy, h, rs, w.subarray(0, C), rows, C);
      const ih = new Float32Array(rows * C), irs = new Float32Array(C), iy = new Float32Array(rows * C);
      nat.fusedInstanceNormForward(iy, ih, irs, x, 1, rows, C, 1e-5, 0.01);
      const idx = new Float32Array(rows * C);
      nat.fusedInstanceNormBackward(idx, dy, ih, irs, 1, rows, C, 0.01);
      const g = new Float32Array(rows * C), gd = new Float32Array(rows * C);
      nat.fusedGeluForward(g, x);
      nat.fusedGeluBackward(gd, dy, x);
      const e = new Float32Array(4 * rows * C), edx = new Float32Array(rows * C), edw = new Float32Array(4 * C);
      nat.fusedExpand4Forward(e, x, w, w, rows, C);
      nat.fusedExpand4Backward(edx, edw, new Float32Array(4 * C), e, x, w, rows, C);
      return [y, dx, dw, db, iy, idx, g, gd, e, edx, edw];
    };
    const before = addon.isa;
    expect(addon.setIsa('scalar')).toBe('scalar');
    const scalar = outs();
    // Every vector build this machine runs (each ISA up to its own), against the scalar one.
    const isas = ['avx2', 'avx512'].slice(0, ['scalar', 'avx2', 'avx512'].indexOf(addon.machineIsa));
    for (const isa of isas) {
      expect(addon.setIsa(isa)).toBe(isa);
      const vec = outs();
      for (let i = 0; i < vec.length; i++)
        expect(Buffer.from(scalar[i].buffer).equals(Buffer.from(vec[i].buffer)), `${isa} output ${i}`).toBe(true);
    }
    addon.setIsa(before);
  });

  it('GELU and its gradient are within 1e-6 relative of a high-precision erf on [-9, 9]', () => {
    const xs = new Float32Array(18001).map((_, i) => -9 + i * 0.001);
    const y = new Float32Array(xs.length);
    const dx = new Float32Array(xs.length);
    nat.fusedGeluForward(y, xs);
    nat.fusedGeluBackward(dx, new Float32Array(xs.length).fill(1), xs);
    let worstY = 0;
    let worstD = 0;
    for (let i = 0; i < xs.length; i++) {
      const v = xs[i];
      const cdf = 0.5 * erfcRef(-v * Math.SQRT1_2); // Phi(v), accurate in the far left tail too
      const refY = v * cdf;
      const pdfTerm = (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI);
      const refD = cdf + pdfTerm;
      if (refY !== 0) worstY = Math.max(worstY, Math.abs(y[i] - refY) / Math.abs(refY));
      // The gradient Phi(v) + v phi(v) crosses zero near -0.75, where its two terms cancel: its error is taken
      // relative to the terms' magnitude |Phi| + |v phi| (the condition of the sum), not to the sum itself.
      worstD = Math.max(worstD, Math.abs(dx[i] - refD) / (cdf + Math.abs(pdfTerm)));
    }
    expect(worstY).toBeLessThanOrEqual(1e-6);
    expect(worstD).toBeLessThanOrEqual(1e-6);
  });

  it('inference forwards without xhat (IN + lrelu, LayerNorm) give the same values as with it', () => {
    const rows = 5000;
    const C = 16;
    const x = rand(rows * C, 3);
    const w = rand(C);
    const y1 = new Float32Array(rows * C),
      y2 = new Float32Array(rows * C),
      h = new Float32Array(rows * C);
    const r1 = new Float32Array(C),
      r2 = new Float32Array(C);
    nat.fusedInstanceNormForward(y1, h, r1, x, 1, rows, C, 1e-5, 0.01);
    nat.fusedInstanceNormForward(y2, null, r2, x, 1, rows, C, 1e-5, 0.01);
    expect(y2).toEqual(y1);
    expect(r2).toEqual(r1);
    const l1 = new Float32Array(rows * C),
      l2 = new Float32Array(rows * C),
      s1 = new Float32Array(rows),
      s2 = new Float32Array(rows);
    nat.fusedLayerNormForward(l1, h, s1, x, w, w, rows, C, 1e-6);
    nat.fusedLayerNormForward(l2, null, s2, x, w, w, rows, C, 1e-6);
    expect(l2).toEqual(l1);
  });

  it('rejects wrong lengths and sizes with the op and argument named', () => {
    const a = new Float32Array(12);
    expect(() => nat.fusedLayerNormForward(a, a, new Float32Array(3), a, new Float32Array(4), new Float32Array(3), 3, 4, 1e-6)).toThrow(
      /fusedLayerNormForward: b has 3 values, expected 4/,
    );
    expect(() => nat.fusedExpand4Forward(a, a, a, a, 0, 3)).toThrow(/fusedExpand4Forward: rows must be a positive integer/);
    expect(() => nat.fusedInstanceNormForward(null, a, a, a, 1, 12, 1, 1e-5, 0.01)).toThrow(/y must be given exactly when slope is/);
    expect(() => nat.fusedInstanceNormForward(null, null, a, a, 1, 12, 1, 1e-5, null)).toThrow(/xhat must be given/);
    const stats = new Float64Array(2 * 3 + 2);
    const lab = Int32Array.from([0, 1, 2, 5]);
    expect(() => nat.fusedDiceCeForward(a, stats, a, lab, null, 1, 4, 3, null)).toThrow(
      /fusedDiceCeForward: label value 5 is outside the 3 classes/,
    );
    nat.fusedDiceCeForward(a, stats, a, lab, null, 1, 4, 3, 5); // the ignore label may be out of range
    expect(() => nat.fusedDiceCeForward(a, stats, a, new Float32Array(4) as unknown as Int32Array, null, 1, 4, 3, null)).toThrow(
      /labels must be an Int32Array/,
    );
    expect(() => nat.fusedGeluForward(a, new Float64Array(12) as unknown as Float32Array)).toThrow(/fusedGeluForward/);
  });
});

/** erfc(z) in double: Taylor series of erf for |z| < 2.5, Laplace continued fraction (evaluated backwards) beyond. */
function erfcRef(z: number): number {
  if (Math.abs(z) < 2.5) {
    let term = z;
    let sum = z;
    for (let n = 1; n < 200; n++) {
      term *= (-z * z) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-18 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (z < 0) return 2 - erfcRef(-z);
  let k = 0;
  for (let n = 120; n >= 1; n--) k = n / 2 / (z + k);
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / (z + k);
}
