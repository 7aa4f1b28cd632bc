// Noise on the model grid, and smoothing of a scan too noisy for the network.
//
// Measured (2026-12-06) with the kidney starter on held-out synth phantoms at 3 mm, the same cases at several noise
// levels: kidney class 0.93-0.96 up to 24 HU of noise, then a cliff: at 32 HU three of four cases came out with no
// kidney at all (Dice 0), the network calling the whole scan background, though its training drew noise up to 36
// HU. A slim or heavy patient on a low-dose protocol reconstructed at 3 mm or thicker reads like that; a thin-slice
// scan does not (resampling it to the model's 3 mm averages its noise down). Above the threshold the grid is
// smoothed (3-tap passes, a Gaussian of growing width) until its noise is at most the target: the same cases then
// scored 0.83-0.93.
import type { Vec3 } from '../imaging/volume';
import { blurAxis } from '../util/blur';

/**
 * Grids the estimate and thresholds hold for (mm, every axis): they were measured at 3 mm, where the starters run.
 * On coarser grids each voxel pair spans so much anatomy that tissue edges read as noise (8 HU of noise reads 21 HU
 * at 8 mm, 11.5 at 3 mm), so those are never smoothed.
 */
export const DENOISE_SPACING_MM: [number, number] = [2, 4];
/** Smooth a model-grid scan whose estimated noise is above this (HU). */
export const DENOISE_ABOVE_HU = 28;
/** ... until its estimated noise is at most this (HU). */
export const DENOISE_TARGET_HU = 20;
/** At most this many smoothing passes (each a 3-tap blur along the three axes; the Gaussian σ grows as √passes). */
const MAX_PASSES = 6;
/** Weight of each pass's 3-tap kernel [w, 1-2w, w]: variance 2w = 0.36 voxel² per pass. */
const PASS_WEIGHT = 0.18;

/** Differences between neighbours are read only between soft-tissue and fat values (edges with air or bone are not noise). */
const TISSUE_HU: [number, number] = [-200, 200];
const BIN_HU = 0.5;
const MAX_DIFF_HU = 400;

/**
 * The image noise's standard deviation (HU) of a grid stored i-fastest with `dims` [i, j, k]: from differences
 * between neighbours along i where both lie in soft tissue or fat, robustly (1.4826 × the median absolute
 * difference, over √2). Edges between tissues inflate it a little (about 2 HU on the phantoms); NaN when no pair
 * of neighbours lies in that range.
 */
export function estimateNoiseHu(hu: ArrayLike<number>, dims: Vec3): number {
  const [ni] = dims;
  const bins = new Uint32Array(Math.round(MAX_DIFF_HU / BIN_HU) + 1);
  let n = 0;
  for (let q = 0; q + 1 < hu.length; q++) {
    if ((q + 1) % ni === 0) continue;
    const a = hu[q];
    const b = hu[q + 1];
    if (!(a > TISSUE_HU[0] && a < TISSUE_HU[1] && b > TISSUE_HU[0] && b < TISSUE_HU[1])) continue;
    bins[Math.min(bins.length - 1, Math.round(Math.abs(a - b) / BIN_HU))]++;
    n++;
  }
  if (n === 0) return NaN;
  // The differences are symmetric about 0: their median absolute value is the MAD.
  const half = (n - 1) / 2;
  let acc = 0;
  for (let b = 0; b < bins.length; b++) {
    acc += bins[b];
    if (acc > half) return (1.4826 * b * BIN_HU) / Math.SQRT2;
  }
  return (1.4826 * MAX_DIFF_HU) / Math.SQRT2;
}

export interface DenoiseResult {
  /** Estimated noise before and after (HU). */
  noiseHu: number;
  noiseAfterHu: number;
  /** Smoothing passes applied (0: the grid was left as it was). */
  passes: number;
}

/**
 * Smooths `hu` (i-fastest, `dims` [i, j, k], voxels `spacingMm`) in place when its estimated noise is above
 * `aboveHu`, pass by pass, until it is at most `targetHu` (or MAX_PASSES); never on a grid outside
 * DENOISE_SPACING_MM.
 */
export function denoiseInPlace(
  hu: Float32Array,
  dims: Vec3,
  spacingMm: Vec3,
  aboveHu = DENOISE_ABOVE_HU,
  targetHu = DENOISE_TARGET_HU,
): DenoiseResult {
  const noiseHu = estimateNoiseHu(hu, dims);
  let after = noiseHu;
  let passes = 0;
  const calibrated = spacingMm.every((s) => s >= DENOISE_SPACING_MM[0] && s <= DENOISE_SPACING_MM[1]);
  if (!calibrated || !(noiseHu > aboveHu)) return { noiseHu, noiseAfterHu: after, passes };
  while (passes < MAX_PASSES && !(after <= targetHu)) {
    for (const axis of [0, 1, 2] as const) if (dims[axis] > 1) blurAxis(hu, dims, axis, PASS_WEIGHT);
    passes++;
    after = estimateNoiseHu(hu, dims);
  }
  return { noiseHu, noiseAfterHu: after, passes };
}
