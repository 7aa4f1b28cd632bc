// Training patches from image/label volumes: random crops with foreground oversampling (nnU-Net style), seeded.
import type { Tensor4D, Tensor5D } from '@tensorflow/tfjs';
import { tf } from '../engine/tf';
import type { Rng } from '../engine/model/rng';
import { augmentAppearance, augmentIntensity, drawAugment, finishEdgePad, IDENTITY3, warpPatch } from './augment';
import type { AugmentSettings } from './augment';

export interface TrainCase {
  name: string;
  /** Normalised intensities, [D, H, W] row-major (W fastest; the Volume's i-fastest order). */
  image: Float32Array;
  /** Class per voxel, same grid. */
  labels: Uint8Array;
  dimsDhw: [number, number, number];
  /** Flat indices of foreground voxels (label > 0 and not ignored), for oversampling. */
  foreground: Int32Array;
  /** Image value used outside the volume (the normalised value of air). */
  padValue: number;
  /** Optional per-voxel loss weights on the same grid (e.g. extra weight where an annotator corrected the pre-label). */
  weights?: Float32Array;
  /** Voxel spacing in tensor order [D, H, W] (mm), so augmentation rotates in physical space; default isotropic. */
  spacingDhwMm?: [number, number, number];
}

export function foregroundIndices(labels: Uint8Array, ignoreLabel?: number): Int32Array {
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] > 0 && labels[i] !== ignoreLabel) n++;
  const out = new Int32Array(n);
  let j = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] > 0 && labels[i] !== ignoreLabel) out[j++] = i;
  return out;
}

/** Start of a crop of size p in an axis of size n, around `centre` (or uniformly when centre < 0). */
export function cropStart(n: number, p: number, centre: number, rng: Rng): number {
  // Allowed starts keep the crop inside the volume; a volume smaller than the patch is centred and padded.
  const lo = Math.min(0, Math.floor((n - p) / 2));
  const hi = Math.max(lo, n - p);
  if (centre < 0) return lo + rng.int(hi - lo + 1);
  return Math.min(hi, Math.max(lo, centre - Math.floor(p / 2)));
}

/** Copies one patch into `img`/`lab` at offset `at` (values outside the volume: padValue / 0). */
export function cropPatch(
  c: TrainCase,
  patch: [number, number, number],
  start: [number, number, number],
  img: Float32Array,
  lab: Int32Array,
  at: number,
): void {
  const [D, H, W] = c.dimsDhw;
  const [pd, ph, pw] = patch;
  let o = at;
  for (let z = 0; z < pd; z++) {
    const sz = start[0] + z;
    for (let y = 0; y < ph; y++) {
      const sy = start[1] + y;
      const rowInside = sz >= 0 && sz < D && sy >= 0 && sy < H;
      for (let x = 0; x < pw; x++, o++) {
        const sx = start[2] + x;
        if (rowInside && sx >= 0 && sx < W) {
          const i = (sz * H + sy) * W + sx;
          img[o] = c.image[i];
          lab[o] = c.labels[i];
        } else {
          img[o] = c.padValue;
          lab[o] = 0;
        }
      }
    }
  }
}

const byClassCache = new WeakMap<TrainCase, Int32Array[]>();

/** The case's foreground indices split by class (classes present only, in label order); cached per case. */
export function foregroundByClass(c: TrainCase): Int32Array[] {
  const hit = byClassCache.get(c);
  if (hit) return hit;
  const counts = new Int32Array(256); // labels are bytes
  for (const i of c.foreground) counts[c.labels[i]]++;
  const present = [...counts.keys()].filter((k) => counts[k] > 0);
  const lists = new Map(present.map((k) => [k, new Int32Array(counts[k])]));
  counts.fill(0);
  for (const i of c.foreground) lists.get(c.labels[i])![counts[c.labels[i]]++] = i;
  const out = present.map((k) => lists.get(k)!);
  byClassCache.set(c, out);
  return out;
}

/**
 * One patch placement: a case drawn uniformly, then a centre on a random foreground voxel with
 * probability `foregroundProb` (when the case has any), else a uniform start. The order of the RNG
 * draws is part of the reproducibility contract (shipped starter models are reruns of it).
 */
function pickCrop(
  cases: TrainCase[],
  patch: [number, number, number],
  rng: Rng,
  foregroundProb: number,
  classBalanced = false,
): { c: TrainCase; start: [number, number, number] } {
  const c = cases[rng.int(cases.length)];
  const [D, H, W] = c.dimsDhw;
  let centre: [number, number, number] = [-1, -1, -1];
  if (c.foreground.length > 0 && rng.next() < foregroundProb) {
    let i: number;
    if (classBalanced) {
      // nnU-Net's rule: a class drawn uniformly among those present, then one of its voxels, so a small
      // class (a tumour beside its kidney) is centred as often as a large one.
      const byClass = foregroundByClass(c);
      const list = byClass[rng.int(byClass.length)];
      i = list[rng.int(list.length)];
    } else {
      i = c.foreground[rng.int(c.foreground.length)];
    }
    centre = [Math.floor(i / (H * W)), Math.floor(i / W) % H, i % W];
  }
  const start: [number, number, number] = [
    cropStart(D, patch[0], centre[0], rng),
    cropStart(H, patch[1], centre[1], rng),
    cropStart(W, patch[2], centre[2], rng),
  ];
  return { c, start };
}

/**
 * A batch of `batch` patches: cases drawn uniformly; each patch is centred on a random foreground voxel
 * with probability `foregroundProb` (when the case has any; with `classBalanced`, a voxel of a class drawn
 * uniformly among those present), else placed uniformly.
 * Returns image [B, D, H, W, 1] and labels int32 [B, D, H, W].
 */
export function sampleBatch(
  cases: TrainCase[],
  batch: number,
  patch: [number, number, number],
  rng: Rng,
  foregroundProb = 0.33,
  classBalanced = false,
): { image: Tensor5D; labels: Tensor4D; picked: string[] } {
  const vox = patch[0] * patch[1] * patch[2];
  const img = new Float32Array(batch * vox);
  const lab = new Int32Array(batch * vox);
  const picked: string[] = [];
  for (let b = 0; b < batch; b++) {
    const { c, start } = pickCrop(cases, patch, rng, foregroundProb, classBalanced);
    cropPatch(c, patch, start, img, lab, b * vox);
    picked.push(`${c.name}@${start.join(',')}`);
  }
  return {
    image: tf.tensor5d(img, [batch, patch[0], patch[1], patch[2], 1]),
    labels: tf.tensor4d(lab, [batch, patch[0], patch[1], patch[2]], 'int32'),
    picked,
  };
}

/** The loss's ignore label for voxels read past a scan's end in edge mode (SampleOptions.edgePadIgnore). */
export const EDGE_PAD_IGNORE = 255;

export interface SampleOptions {
  foregroundProb?: number;
  /** Foreground centres: a present class drawn uniformly first, then its voxel (default: any foreground voxel). */
  classBalanced?: boolean;
  /** Augmentation per patch; absent: plain crops (the same voxels sampleBatch copies). */
  augment?: AugmentSettings;
  /** Also return per-voxel weights [B, D, H, W] (the cases' weights, 1 where a case has none). */
  weights?: boolean;
  /**
   * Pad as the sliding window pads a short scan (shortScanPad 'edge'): past a case's ends along D (or its drawn
   * short field of view's) each patch reads the end planes, and those voxels get this label, which the loss must
   * ignore (the pre-label is not kept there). Absent: air and label 0, as before.
   */
  edgePadIgnore?: number;
}

/**
 * sampleBatch with augmentation and voxel weights: the same case and centre choice, then each patch is
 * read through its drawn rotation/scale/flip (image trilinear, labels and weights nearest) and its
 * intensities scaled, shifted and optionally noised.
 */
export function sampleAugmentedBatch(
  cases: TrainCase[],
  batch: number,
  patch: [number, number, number],
  rng: Rng,
  opts: SampleOptions = {},
): { image: Tensor5D; labels: Tensor4D; weights?: Tensor4D; picked: string[] } {
  const vox = patch[0] * patch[1] * patch[2];
  const img = new Float32Array(batch * vox);
  const lab = new Int32Array(batch * vox);
  const wts = opts.weights ? new Float32Array(batch * vox) : undefined;
  const picked: string[] = [];
  const ignore = opts.edgePadIgnore;
  const edge = ignore !== undefined;
  for (let b = 0; b < batch; b++) {
    const { c, start } = pickCrop(cases, patch, rng, opts.foregroundProb ?? 0.33, opts.classBalanced ?? false);
    const mid = [0, 1, 2].map((a) => start[a] + (patch[a] - 1) / 2) as [number, number, number];
    const draw = opts.augment ? drawAugment(opts.augment, rng, c.spacingDhwMm) : undefined;
    warpPatch(c, patch, mid, draw ? draw.matrix : IDENTITY3, img, lab, wts, b * vox, draw?.fovVox, edge);
    if (draw) {
      augmentAppearance(img, lab, b * vox, patch, draw);
      augmentIntensity(img, b * vox, vox, draw, rng);
    }
    if (edge) finishEdgePad(lab, b * vox, vox, ignore);
    picked.push(`${c.name}@${start.join(',')}`);
  }
  const shape4: [number, number, number, number] = [batch, patch[0], patch[1], patch[2]];
  return {
    image: tf.tensor5d(img, [...shape4, 1]),
    labels: tf.tensor4d(lab, shape4, 'int32'),
    ...(wts ? { weights: tf.tensor4d(wts, shape4, 'float32') } : {}),
    picked,
  };
}
