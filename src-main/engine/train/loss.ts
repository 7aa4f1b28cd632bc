// Dice + cross-entropy over softmax (the nnU-Net / MONAI DiceCE), with optional voxel weights and an ignore label.
import type { Scalar, Tensor, Tensor4D, Tensor5D } from '@tensorflow/tfjs';
import { tf } from '../tf';

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
 * loss = ceWeight * CE + diceWeight * (1 - mean over (sample, class) of soft Dice), all classes
 * including background. `logits` [N, D, H, W, C] channels-last, `labels` int32 [N, D, H, W] with values
 * in [0, C) or the ignore label, `voxelWeights` [N, D, H, W] >= 0 (multiplies each voxel's CE term and
 * its contribution to the Dice sums). CE is the weighted mean over the counted voxels.
 */
export function diceCeLoss(logits: Tensor5D, labels: Tensor4D, voxelWeights?: Tensor4D, opts: DiceCeOptions = {}): Scalar {
  const smooth = opts.smooth ?? 1e-5;
  const numClasses = logits.shape[4];
  return tf.tidy(() => {
    let weight: Tensor = voxelWeights ? tf.cast(voxelWeights, 'float32') : tf.onesLike(labels).toFloat();
    let safeLabels: Tensor = labels;
    if (opts.ignoreLabel !== undefined) {
      const keep = tf.notEqual(labels, opts.ignoreLabel);
      weight = tf.mul(weight, tf.cast(keep, 'float32'));
      safeLabels = tf.where(keep, labels, tf.zerosLike(labels)); // any in-range class; its weight is 0
    }
    const onehot = tf.oneHot(tf.cast(tf.reshape(safeLabels, [-1]), 'int32'), numClasses).reshape(logits.shape);
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
