// Dice + cross-entropy over softmax (the nnU-Net / MONAI DiceCE), with optional voxel weights and an ignore label.
import type { Scalar, Tensor, Tensor4D, Tensor5D } from '@tensorflow/tfjs';
import { tf } from '../engine/tf';
import { outputF32 } from '../engine/kernels/io';
import { nativeFor } from '../engine/model/fused_native';

export interface DiceCeOptions {
  /** Voxels with this label count for nothing (neither CE nor Dice). */
  ignoreLabel?: number;
  /** Added to numerator and denominator of each Dice ratio (MONAI's smooth_nr = smooth_dr = 1e-5). */
  smooth?: number;
  /** Weight of the Dice term and of the CE term (both 1 by default). */
  diceWeight?: number;
  ceWeight?: number;
}

/**
 * Built from tfjs ops (the reference for the fused version below; slow on the cpu backend because
 * the [..., 1] voxel-weight broadcasts take tfjs's per-element index path).
 * loss = ceWeight * CE + diceWeight * (1 - mean over (sample, class) of soft Dice), all classes
 * including background. `logits` [N, D, H, W, C] channels-last, `labels` int32 [N, D, H, W] with values
 * in [0, C) or the ignore label, `voxelWeights` [N, D, H, W] >= 0 (multiplies each voxel's CE term and
 * its contribution to the Dice sums). CE is the weighted mean over the counted voxels.
 */
export function diceCeLossOps(
  logits: Tensor5D,
  labels: Tensor4D,
  voxelWeights?: Tensor4D,
  opts: DiceCeOptions = {},
): Scalar {
  const smooth = opts.smooth ?? 1e-5;
  const numClasses = logits.shape[4];
  return tf.tidy(() => {
    let weight: Tensor = voxelWeights ? tf.cast(voxelWeights, 'float32') : tf.cast(tf.onesLike(labels), 'float32');
    let safeLabels: Tensor = labels;
    if (opts.ignoreLabel !== undefined) {
      const keep = tf.notEqual(labels, opts.ignoreLabel);
      weight = tf.mul(weight, tf.cast(keep, 'float32'));
      safeLabels = tf.where(keep, labels, tf.zerosLike(labels)); // any in-range class; its weight is 0
    }
    const onehot = tf.reshape(tf.oneHot(tf.cast(tf.reshape(safeLabels, [-1]), 'int32'), numClasses), logits.shape);
    const w = tf.expandDims(weight, -1); // [N, D, H, W, 1]
    const logp = tf.logSoftmax(logits, -1);
    const prob = tf.exp(logp);
    const weightSum = tf.maximum(tf.sum(weight), 1e-8);
    const ce = tf.div(tf.neg(tf.sum(tf.mul(tf.mul(onehot, logp), w))), weightSum);
    const inter = tf.sum(tf.mul(tf.mul(prob, onehot), w), [1, 2, 3]); // [N, C]
    const sums = tf.sum(tf.mul(tf.add(prob, onehot), w), [1, 2, 3]);
    const dice = tf.div(tf.add(tf.mul(inter, 2), smooth), tf.add(sums, smooth));
    const diceLoss = tf.sub(1, tf.mean(dice));
    return tf.add(tf.mul(ce, opts.ceWeight ?? 1), tf.mul(diceLoss, opts.diceWeight ?? 1)) as Scalar;
  });
}

/**
 * The same loss in one pass over the voxels with a hand-written gradient (what training uses).
 * d/dz of CE: w (p - t) / sum(w); of Dice: through softmax, p_k (g_k - sum_c p_c g_c) with
 * g_c = -(1/(N*C)) * w * (2 t_c (S_c + s) - (2 I_c + s)) / (S_c + s)^2.
 */
export function diceCeLoss(
  logits: Tensor5D,
  labels: Tensor4D,
  voxelWeights?: Tensor4D,
  opts: DiceCeOptions = {},
): Scalar {
  const smooth = opts.smooth ?? 1e-5;
  const wDice = opts.diceWeight ?? 1;
  const wCe = opts.ceWeight ?? 1;
  const [N, , , , C] = logits.shape;
  const lab = labels.dataSync();
  const vw = voxelWeights ? (voxelWeights.dataSync() as Float32Array) : undefined;
  const V = lab.length / N;
  const weightOf = (i: number): number =>
    opts.ignoreLabel !== undefined && lab[i] === opts.ignoreLabel ? 0 : vw ? vw[i] : 1;
  for (let i = 0; i < lab.length; i++) {
    if (weightOf(i) !== 0 && (lab[i] < 0 || lab[i] >= C || !Number.isInteger(lab[i]))) {
      throw new Error(`label value ${lab[i]} is outside the ${C} classes of the network`);
    }
  }
  // The native kernels (fused_ops.inc dicece_*) do these loops on both cores; the JS below is their reference.
  const ignore = opts.ignoreLabel;
  const nativeOk = lab instanceof Int32Array && (ignore === undefined || Number.isInteger(ignore));
  const f = tf.customGrad((...args: unknown[]) => {
    const [z, save] = args as [Tensor, (t: Tensor[]) => void];
    const zv = z.dataSync() as Float32Array;
    const nat = nativeOk ? nativeFor(zv.length) : null;
    const prob = nat ? outputF32(zv.length) : new Float32Array(zv.length);
    const stats = new Float64Array(2 * N * C + 2); // inter [N*C], sums [N*C], ce, weight sum
    const inter = stats.subarray(0, N * C);
    const sums = stats.subarray(N * C, 2 * N * C);
    let ce = 0;
    let wsum = 0;
    if (nat) {
      nat.fusedDiceCeForward(prob, stats, zv, lab as Int32Array, vw ?? null, N, V, C, ignore ?? null);
      ce = stats[2 * N * C];
      wsum = stats[2 * N * C + 1];
    } else
      for (let i = 0; i < lab.length; i++) {
        const o = i * C;
        let mx = -Infinity;
        for (let k = 0; k < C; k++) mx = Math.max(mx, zv[o + k]);
        let se = 0;
        for (let k = 0; k < C; k++) se += Math.exp(zv[o + k] - mx);
        const w = weightOf(i);
        const n = Math.floor(i / V);
        for (let k = 0; k < C; k++) {
          const p = Math.exp(zv[o + k] - mx) / se;
          prob[o + k] = p;
          sums[n * C + k] += w * p;
        }
        if (w !== 0) {
          const t = lab[i];
          ce -= w * (zv[o + t] - mx - Math.log(se));
          inter[n * C + t] += w * prob[o + t];
          sums[n * C + t] += w;
          wsum += w;
        }
      }
    wsum = Math.max(wsum, 1e-8);
    let dice = 0;
    for (let j = 0; j < N * C; j++) dice += (2 * inter[j] + smooth) / (sums[j] + smooth);
    const loss = wCe * (ce / wsum) + wDice * (1 - dice / (N * C));
    const probT = tf.tensor(prob, z.shape);
    save([probT]);
    return {
      value: tf.scalar(loss),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const scale = dy.dataSync()[0];
        const pv = saved[0].dataSync() as Float32Array;
        if (nat) {
          const dzN = outputF32(pv.length);
          nat.fusedDiceCeBackward(
            dzN,
            pv,
            lab as Int32Array,
            vw ?? null,
            stats,
            N,
            V,
            C,
            ignore ?? null,
            scale,
            wDice,
            wCe,
            wsum,
            smooth,
          );
          return tf.tensor(dzN, saved[0].shape);
        }
        const dz = new Float32Array(pv.length);
        const g = new Float64Array(C);
        for (let i = 0; i < lab.length; i++) {
          const w = weightOf(i);
          if (w === 0) continue;
          const o = i * C;
          const n = Math.floor(i / V);
          const t = lab[i];
          let pg = 0;
          for (let k = 0; k < C; k++) {
            const den = sums[n * C + k] + smooth;
            const dD = (w * (2 * (k === t ? 1 : 0) * den - (2 * inter[n * C + k] + smooth))) / (den * den);
            g[k] = (-wDice / (N * C)) * dD;
            pg += pv[o + k] * g[k];
          }
          for (let k = 0; k < C; k++) {
            const dce = (wCe * w * (pv[o + k] - (k === t ? 1 : 0))) / wsum;
            dz[o + k] = scale * (dce + pv[o + k] * (g[k] - pg));
          }
        }
        return tf.tensor(dz, saved[0].shape);
      },
    };
  });
  return (f as (z: Tensor) => Tensor)(logits) as Scalar;
}
