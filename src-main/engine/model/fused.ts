// Fused channels-last LayerNorm, InstanceNorm and grouped 1x1x1 expansion with hand-written gradients (tf.customGrad).
//
// Why: tfjs's cpu backend runs every broadcasting binary op ([..., C] with [..., 1], the shape of
// norm statistics) through a per-element index-conversion path that is ~50x slower than its plain
// loop; a LayerNorm built from ops costs ~10 such passes. These single-pass loops keep norms cheap.
// They are checked against the op-built versions (layers.ts *Ops functions) in tests/engine/fused.test.ts.
// When the addon is loaded, each runs as a multithreaded native kernel (fused_native.ts, native/src/fused_ops.cc);
// these JS loops stay as the reference and fallback (tests/native/fused_ops.test.ts compares the two).
import type { Tensor } from '@tensorflow/tfjs';
import { tf } from '../tf';
import { currentEngine } from '../engine';
import { outputF32 } from '../kernels/io';
import { gradientRecording } from '../tfjs-internals';
import { nativeFor } from './fused_native';

export { addBias, addLeakyRelu, geluFused, scaledResidual } from './fused_elementwise';

function f32(t: Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

/** Whether a gradient tape is recording (inside tf.grad / variableGrads): only then must forwards keep xhat. */
function recording(): boolean {
  return gradientRecording(tf.engine());
}

// Inference keeps no xhat (the normalised values a gradient needs): the native kernels then skip writing it
// (at 96^3 x 16 channels, 56 MB per norm); the JS loops write it to one reused buffer, the engine's scratch.
function xhatScratch(n: number): Float32Array {
  const engine = currentEngine();
  if (engine.scratch.length < n) engine.scratch = new Float32Array(n);
  return engine.scratch.subarray(0, n);
}

/** LayerNorm over the last axis: y = (x - mean) / sqrt(var + eps) * w + b, biased variance. */
export const layerNormLast = (eps: number) =>
  tf.customGrad((...args: unknown[]) => {
    const [x, w, b, save] = args as [Tensor, Tensor, Tensor, (t: Tensor[]) => void];
    const C = x.shape[x.shape.length - 1] as number;
    const xv = f32(x);
    const wv = f32(w);
    const bv = f32(b);
    const rows = xv.length / C;
    const y = outputF32(xv.length);
    const rec = recording();
    const nat = nativeFor(xv.length);
    const xhat = rec ? outputF32(xv.length) : null;
    const rstd = new Float32Array(rows);
    if (nat) nat.fusedLayerNormForward(y, xhat, rstd, xv, wv, bv, rows, C, eps);
    else {
      const xh = xhat ?? xhatScratch(xv.length);
      for (let r = 0, o = 0; r < rows; r++, o += C) {
        let mean = 0;
        for (let c = 0; c < C; c++) mean += xv[o + c];
        mean /= C;
        let v = 0;
        for (let c = 0; c < C; c++) v += (xv[o + c] - mean) ** 2;
        const rs = 1 / Math.sqrt(v / C + eps);
        rstd[r] = rs;
        for (let c = 0; c < C; c++) {
          const h = (xv[o + c] - mean) * rs;
          xh[o + c] = h;
          y[o + c] = h * wv[c] + bv[c];
        }
      }
    }
    if (rec && xhat) save([tf.tensor(xhat, x.shape), tf.tensor(rstd, [rows]), w]);
    return {
      value: tf.tensor(y, x.shape),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const dyv = f32(dy);
        const hv = f32(saved[0]);
        const rsv = f32(saved[1]);
        const wv2 = f32(saved[2]);
        const dx = outputF32(dyv.length);
        const nat = nativeFor(dyv.length);
        if (nat) {
          const dwN = new Float32Array(C);
          const dbN = new Float32Array(C);
          nat.fusedLayerNormBackward(dx, dwN, dbN, dyv, hv, rsv, wv2, rows, C);
          return [tf.tensor(dx, dy.shape), tf.tensor(dwN, [C]), tf.tensor(dbN, [C])];
        }
        const dw = new Float64Array(C);
        const db = new Float64Array(C);
        for (let r = 0, o = 0; r < rows; r++, o += C) {
          let m1 = 0;
          let m2 = 0;
          for (let c = 0; c < C; c++) {
            const g = dyv[o + c] * wv2[c];
            m1 += g;
            m2 += g * hv[o + c];
            dw[c] += dyv[o + c] * hv[o + c];
            db[c] += dyv[o + c];
          }
          m1 /= C;
          m2 /= C;
          for (let c = 0; c < C; c++) dx[o + c] = rsv[r] * (dyv[o + c] * wv2[c] - m1 - hv[o + c] * m2);
        }
        return [tf.tensor(dx, dy.shape), tf.tensor(Float32Array.from(dw), [C]), tf.tensor(Float32Array.from(db), [C])];
      },
    };
  }) as (x: Tensor, w: Tensor, b: Tensor) => Tensor;

/**
 * Instance norm of [N, D, H, W, C]: statistics per (sample, channel) over D, H, W; no affine; followed
 * by a leaky ReLU of slope `slope` when given (the ResBlock's IN + lrelu pair in one pass).
 */
export const instanceNormLast = (eps: number, slope?: number) =>
  tf.customGrad((...args: unknown[]) => {
    const [x, save] = args as [Tensor, (t: Tensor[]) => void];
    const N = x.shape[0];
    const C = x.shape[x.shape.length - 1] as number;
    const xv = f32(x);
    const S = xv.length / (N * C);
    const y = outputF32(xv.length);
    const rstd = new Float32Array(N * C);
    const nat = nativeFor(xv.length);
    if (nat) {
      // With the activation, xhat is only kept for the gradient: outside a tape the kernel does not write it.
      const act = slope === undefined ? null : y;
      const rec = recording();
      const xhat = act === null ? y : rec ? outputF32(y.length) : null;
      nat.fusedInstanceNormForward(act, xhat, rstd, xv, N, S, C, eps, slope ?? null);
      const value = tf.tensor(y, x.shape);
      if (rec) save([act === null || xhat === null ? value : tf.tensor(xhat, x.shape), tf.tensor(rstd, [N, C])]);
      return { value, gradFunc: instanceNormGrad(N, S, C, slope) };
    }
    const mean = new Float64Array(C);
    const sq = new Float64Array(C);
    for (let n = 0; n < N; n++) {
      const base = n * S * C;
      mean.fill(0);
      sq.fill(0);
      for (let s = 0, o = base; s < S; s++, o += C) for (let c = 0; c < C; c++) mean[c] += xv[o + c];
      for (let c = 0; c < C; c++) mean[c] /= S;
      for (let s = 0, o = base; s < S; s++, o += C)
        for (let c = 0; c < C; c++) {
          const d = xv[o + c] - mean[c];
          sq[c] += d * d;
        }
      for (let c = 0; c < C; c++) rstd[n * C + c] = 1 / Math.sqrt(sq[c] / S + eps);
      for (let s = 0, o = base; s < S; s++, o += C)
        for (let c = 0; c < C; c++) y[o + c] = (xv[o + c] - mean[c]) * rstd[n * C + c];
    }
    const xhatT = tf.tensor(y, x.shape);
    save([xhatT, tf.tensor(rstd, [N, C])]);
    let value = xhatT;
    if (slope !== undefined) {
      const out = outputF32(y.length);
      for (let i = 0; i < y.length; i++) out[i] = y[i] > 0 ? y[i] : slope * y[i];
      value = tf.tensor(out, x.shape);
    }
    return { value, gradFunc: instanceNormGrad(N, S, C, slope) };
  }) as (x: Tensor) => Tensor;

/** The gradient of instanceNormLast (saved: xhat, rstd); native when available. */
function instanceNormGrad(N: number, S: number, C: number, slope: number | undefined) {
  return (dyIn: Tensor, saved: Tensor[]): Tensor[] => {
    let dyv = f32(dyIn);
    const dy = dyIn;
    const hv = f32(saved[0]);
    const rsv = f32(saved[1]);
    const nat = nativeFor(dyv.length);
    if (nat) {
      const dxN = outputF32(dyv.length);
      nat.fusedInstanceNormBackward(dxN, dyv, hv, rsv, N, S, C, slope ?? null);
      return [tf.tensor(dxN, dy.shape)];
    }
    if (slope !== undefined) {
      const masked = outputF32(dyv.length);
      for (let i = 0; i < dyv.length; i++) masked[i] = hv[i] > 0 ? dyv[i] : slope * dyv[i];
      dyv = masked;
    }
    const dx = outputF32(dyv.length);
    const m1 = new Float64Array(C);
    const m2 = new Float64Array(C);
    for (let n = 0; n < N; n++) {
      const base = n * S * C;
      m1.fill(0);
      m2.fill(0);
      for (let s = 0, o = base; s < S; s++, o += C)
        for (let c = 0; c < C; c++) {
          m1[c] += dyv[o + c];
          m2[c] += dyv[o + c] * hv[o + c];
        }
      for (let c = 0; c < C; c++) {
        m1[c] /= S;
        m2[c] /= S;
      }
      for (let s = 0, o = base; s < S; s++, o += C)
        for (let c = 0; c < C; c++) dx[o + c] = rsv[n * C + c] * (dyv[o + c] - m1[c] - hv[o + c] * m2[c]);
    }
    return [tf.tensor(dx, dy.shape)];
  };
}

/** Grouped 1x1x1 conv C -> 4C with bias: y[..., 4c + j] = x[..., c] * w[c, j] + b[4c + j]; w [C, 4]. */
export const expand4 = tf.customGrad((...args: unknown[]) => {
  const [x, w, b, save] = args as [Tensor, Tensor, Tensor, (t: Tensor[]) => void];
  const C = x.shape[x.shape.length - 1] as number;
  const xv = f32(x);
  const wv = f32(w);
  const bv = f32(b);
  const rows = xv.length / C;
  const y = outputF32(xv.length * 4);
  const nat = nativeFor(xv.length);
  if (nat) nat.fusedExpand4Forward(y, xv, wv, bv, rows, C);
  else
    for (let r = 0; r < rows; r++) {
      const xo = r * C;
      const yo = r * 4 * C;
      for (let c = 0; c < C; c++) {
        const v = xv[xo + c];
        for (let j = 0; j < 4; j++) y[yo + 4 * c + j] = v * wv[4 * c + j] + bv[4 * c + j];
      }
    }
  save([x, w]);
  const outShape = [...x.shape.slice(0, -1), 4 * C];
  return {
    value: tf.tensor(y, outShape),
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const dyv = f32(dy);
      const xs = f32(saved[0]);
      const ws = f32(saved[1]);
      const dx = outputF32(xs.length);
      const nat = nativeFor(xs.length);
      if (nat) {
        const dwN = new Float32Array(4 * C);
        const dbN = new Float32Array(4 * C);
        nat.fusedExpand4Backward(dx, dwN, dbN, dyv, xs, ws, rows, C);
        return [tf.tensor(dx, saved[0].shape), tf.tensor(dwN, [C, 4]), tf.tensor(dbN, [4 * C])];
      }
      const dw = new Float64Array(4 * C);
      const db = new Float64Array(4 * C);
      for (let r = 0; r < rows; r++) {
        const xo = r * C;
        const yo = r * 4 * C;
        for (let c = 0; c < C; c++) {
          let acc = 0;
          const v = xs[xo + c];
          for (let j = 0; j < 4; j++) {
            const g = dyv[yo + 4 * c + j];
            acc += g * ws[4 * c + j];
            dw[4 * c + j] += g * v;
            db[4 * c + j] += g;
          }
          dx[xo + c] = acc;
        }
      }
      return [
        tf.tensor(dx, saved[0].shape),
        tf.tensor(Float32Array.from(dw), [C, 4]),
        tf.tensor(Float32Array.from(db), [4 * C]),
      ];
    },
  };
}) as (x: Tensor, w: Tensor, b: Tensor) => Tensor;

/** Grouped 1x1x1 conv 4C -> C with bias: y[..., c] = sum_j x[..., 4c + j] * w[c, j] + b[c]; w [C, 4]. */
export const reduce4 = tf.customGrad((...args: unknown[]) => {
  const [x, w, b, save] = args as [Tensor, Tensor, Tensor, (t: Tensor[]) => void];
  const C4 = x.shape[x.shape.length - 1] as number;
  const C = C4 / 4;
  const xv = f32(x);
  const wv = f32(w);
  const bv = f32(b);
  const rows = xv.length / C4;
  const y = outputF32(rows * C);
  const nat = nativeFor(xv.length);
  if (nat) nat.fusedReduce4Forward(y, xv, wv, bv, rows, C);
  else
    for (let r = 0; r < rows; r++) {
      const xo = r * C4;
      for (let c = 0; c < C; c++) {
        let acc = bv[c];
        for (let j = 0; j < 4; j++) acc += xv[xo + 4 * c + j] * wv[4 * c + j];
        y[r * C + c] = acc;
      }
    }
  save([x, w]);
  return {
    value: tf.tensor(y, [...x.shape.slice(0, -1), C]),
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const dyv = f32(dy);
      const xs = f32(saved[0]);
      const ws = f32(saved[1]);
      const dx = outputF32(xs.length);
      const nat = nativeFor(xs.length);
      if (nat) {
        const dwN = new Float32Array(C4);
        const dbN = new Float32Array(C);
        nat.fusedReduce4Backward(dx, dwN, dbN, dyv, xs, ws, rows, C);
        return [tf.tensor(dx, saved[0].shape), tf.tensor(dwN, [C, 4]), tf.tensor(dbN, [C])];
      }
      const dw = new Float64Array(C4);
      const db = new Float64Array(C);
      for (let r = 0; r < rows; r++) {
        const xo = r * C4;
        for (let c = 0; c < C; c++) {
          const g = dyv[r * C + c];
          db[c] += g;
          for (let j = 0; j < 4; j++) {
            dx[xo + 4 * c + j] = g * ws[4 * c + j];
            dw[4 * c + j] += g * xs[xo + 4 * c + j];
          }
        }
      }
      return [
        tf.tensor(dx, saved[0].shape),
        tf.tensor(Float32Array.from(dw), [C, 4]),
        tf.tensor(Float32Array.from(db), [C]),
      ];
    },
  };
}) as (x: Tensor, w: Tensor, b: Tensor) => Tensor;

/**
 * Input channels [off, off + count) of a conv weight [kd, kh, kw, in, out] (axis 3), with its gradient
 * scattered back; a plain copy of rows (tfjs's 5-D slice converts every index and is ~100x slower).
 */
export function sliceInChannels(weight: Tensor, off: number, count: number): Tensor {
  const [k0, k1, k2, cin, cout] = weight.shape as number[];
  const taps = k0 * k1 * k2;
  const f = tf.customGrad((...args: unknown[]) => {
    const [w] = args as [Tensor];
    const wv = f32(w);
    const out = new Float32Array(taps * count * cout);
    for (let t = 0; t < taps; t++)
      out.set(wv.subarray((t * cin + off) * cout, (t * cin + off + count) * cout), t * count * cout);
    return {
      value: tf.tensor(out, [k0, k1, k2, count, cout]),
      gradFunc: (dy: Tensor) => {
        const dv = f32(dy);
        const dw = new Float32Array(taps * cin * cout);
        for (let t = 0; t < taps; t++)
          dw.set(dv.subarray(t * count * cout, (t + 1) * count * cout), (t * cin + off) * cout);
        return [tf.tensor(dw, [k0, k1, k2, cin, cout])];
      },
    };
  }) as (w: Tensor) => Tensor;
  return f(weight);
}
