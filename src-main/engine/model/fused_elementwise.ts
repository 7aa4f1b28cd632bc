// Fused elementwise block ops with hand-written gradients (tf.customGrad): exact GELU, add + leaky ReLU, bias add,
// layer-scaled residual. Native multithreaded kernels when the addon has them (fused_native.ts), else these JS
// loops (the reference; tests/native/fused_ops.test.ts compares the two). Re-exported by fused.ts.
import type { Tensor } from '@tensorflow/tfjs';
import { tf } from '../tf';
import { outputF32 } from '../kernels/io';
import { nativeFor } from './fused_native';

function f32(t: Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

/** Exact GELU 0.5 x (1 + erf(x / sqrt 2)) in one pass; gradient Phi(x) + x phi(x). */
export const geluFused = tf.customGrad((...args: unknown[]) => {
  const [x, save] = args as [Tensor, (t: Tensor[]) => void];
  const xv = f32(x);
  const y = outputF32(xv.length);
  const nat = nativeFor(xv.length);
  if (nat) nat.fusedGeluForward(y, xv);
  else for (let i = 0; i < xv.length; i++) y[i] = xv[i] * normalCdf(xv[i]);
  save([x]);
  return {
    value: tf.tensor(y, x.shape),
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const dyv = f32(dy);
      const xs = f32(saved[0]);
      const dx = outputF32(xs.length);
      const k = 1 / Math.sqrt(2 * Math.PI);
      const nat = nativeFor(xs.length);
      if (nat) nat.fusedGeluBackward(dx, dyv, xs);
      else
        for (let i = 0; i < xs.length; i++) {
          const v = xs[i];
          dx[i] = dyv[i] * (normalCdf(v) + v * k * Math.exp(-0.5 * v * v));
        }
      return [tf.tensor(dx, dy.shape)];
    },
  };
}) as (x: Tensor) => Tensor;

/**
 * erf to ~1e-7 absolute (float32 level): Abramowitz-Stegun 7.1.26 is only 1.5e-7 *relative to 1*, which is
 * not enough near 0 where GELU's gradient needs erf(x)/x; so use the Taylor series for |x| < 0.5 and a
 * continued-fraction-free complementary form (Numerical Recipes' erfc Chebyshev fit, 1.2e-7) beyond.
 */
function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 0.5) {
    const x2 = x * x;
    // x * (2/sqrt(pi)) * sum (-1)^n x^(2n) / (n! (2n+1)), n = 0..6: error < 1e-9 for |x| < 0.5.
    return (
      1.1283791670955126 *
      x *
      (1 - x2 / 3 + (x2 * x2) / 10 - (x2 * x2 * x2) / 42 + (x2 * x2 * x2 * x2) / 216 - x2 ** 5 / 1320 + x2 ** 6 / 9360)
    );
  }
  const erfc = erfcFit(a);
  return x >= 0 ? 1 - erfc : erfc - 1;
}

/** Numerical Recipes' erfc Chebyshev fit for a >= 0 (fractional error < 1.2e-7). */
function erfcFit(a: number): number {
  const t = 1 / (1 + 0.5 * a);
  return (
    t *
    Math.exp(
      -a * a -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  );
}

/** Phi(v) = (1 + erf(v / sqrt 2)) / 2, from erfc directly in the left tail, where 1 + erf would cancel to 0. */
function normalCdf(v: number): number {
  const z = v * Math.SQRT1_2;
  if (Math.abs(z) < 0.5) return 0.5 * (1 + erf(z));
  const tail = 0.5 * erfcFit(Math.abs(z));
  return z >= 0 ? 1 - tail : tail;
}

/** leaky_relu(a + b) in one pass (the ResBlock's output), gradient to both inputs. */
export const addLeakyRelu = (slope: number) =>
  tf.customGrad((...args: unknown[]) => {
    const [a, b, save] = args as [Tensor, Tensor, (t: Tensor[]) => void];
    const av = f32(a);
    const bv = f32(b);
    const y = outputF32(av.length);
    const nat = nativeFor(av.length);
    if (nat) nat.fusedAddLeakyReluForward(y, av, bv, slope);
    else
      for (let i = 0; i < av.length; i++) {
        const s = av[i] + bv[i];
        y[i] = s > 0 ? s : slope * s;
      }
    const yT = tf.tensor(y, a.shape);
    save([yT]);
    return {
      value: yT,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const dyv = f32(dy);
        const yv = f32(saved[0]);
        const dx = outputF32(dyv.length);
        const nat = nativeFor(dyv.length);
        if (nat) nat.fusedLeakyReluBackward(dx, dyv, yv, slope);
        else for (let i = 0; i < dyv.length; i++) dx[i] = yv[i] > 0 ? dyv[i] : slope * dyv[i];
        const g = tf.tensor(dx, dy.shape);
        return [g, g.clone()];
      },
    };
  }) as (a: Tensor, b: Tensor) => Tensor;

/** x + b with b [C] on the last axis; the bias gradient is a plain column sum (tfjs would transpose first). */
export const addBias = tf.customGrad((...args: unknown[]) => {
  const [x, b] = args as [Tensor, Tensor];
  const C = b.size;
  const xv = f32(x);
  const bv = f32(b);
  const y = outputF32(xv.length);
  const nat = nativeFor(xv.length);
  if (nat) nat.fusedBiasForward(y, xv, bv, xv.length / C, C);
  else for (let o = 0; o < xv.length; o += C) for (let c = 0; c < C; c++) y[o + c] = xv[o + c] + bv[c];
  return {
    value: tf.tensor(y, x.shape),
    gradFunc: (dy: Tensor) => {
      const dyv = f32(dy);
      const nat = nativeFor(dyv.length);
      if (nat) {
        const dbN = new Float32Array(C);
        nat.fusedColumnSum(dbN, dyv, dyv.length / C, C);
        return [dy.clone(), tf.tensor(dbN, [C])];
      }
      const db = new Float64Array(C);
      for (let o = 0; o < dyv.length; o += C) for (let c = 0; c < C; c++) db[c] += dyv[o + c];
      return [dy.clone(), tf.tensor(Float32Array.from(db), [C])];
    },
  };
}) as (x: Tensor, b: Tensor) => Tensor;

/** The block's layer-scaled residual x + gamma * y, gamma [C] on the last axis. */
export const scaledResidual = tf.customGrad((...args: unknown[]) => {
  const [x, y, gamma, save] = args as [Tensor, Tensor, Tensor, (t: Tensor[]) => void];
  const C = gamma.size;
  const xv = f32(x);
  const yv = f32(y);
  const gv = f32(gamma);
  const out = outputF32(xv.length);
  const nat = nativeFor(xv.length);
  if (nat) nat.fusedResidualForward(out, xv, yv, gv, xv.length / C, C);
  else for (let o = 0; o < xv.length; o += C) for (let c = 0; c < C; c++) out[o + c] = xv[o + c] + gv[c] * yv[o + c];
  save([y, gamma]);
  return {
    value: tf.tensor(out, x.shape),
    gradFunc: (dout: Tensor, saved: Tensor[]) => {
      const dv = f32(dout);
      const ys = f32(saved[0]);
      const gs = f32(saved[1]);
      const dy = outputF32(dv.length);
      const nat = nativeFor(dv.length);
      if (nat) {
        const dgN = new Float32Array(C);
        nat.fusedResidualBackward(dy, dgN, dv, ys, gs, dv.length / C, C);
        return [dout.clone(), tf.tensor(dy, dout.shape), tf.tensor(dgN, [C])];
      }
      const dg = new Float64Array(C);
      for (let o = 0; o < dv.length; o += C)
        for (let c = 0; c < C; c++) {
          dy[o + c] = dv[o + c] * gs[c];
          dg[c] += dv[o + c] * ys[o + c];
        }
      return [dout.clone(), tf.tensor(dy, dout.shape), tf.tensor(Float32Array.from(dg), [C])];
    },
  };
}) as (x: Tensor, y: Tensor, gamma: Tensor) => Tensor;
