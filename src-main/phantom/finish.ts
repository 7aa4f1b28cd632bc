// Turns the clean HU canvas into a CT-like image: partial-volume blur, correlated noise, int16 HU.
import type { Vec3 } from '../imaging/volume';
import { blurAxis } from '../util/blur';
import { type Rng, normalTable } from './random';

export { blurAxis };

/** 3-tap weight whose variance (2w, in voxels²) matches a Gaussian of sigmaMm at this spacing. */
export function tapWeight(sigmaMm: number, spacingMm: number): number {
  const sigmaVox = sigmaMm / spacingMm;
  return Math.min(0.3, Math.max(0, (sigmaVox * sigmaVox) / 2));
}

export interface FinishOptions {
  /** Gaussian-equivalent blur of the scanner's point-spread function, in-plane and along z (mm). */
  blurSigmaMm: Vec3;
  /** Standard deviation of the image noise (HU). */
  noiseSigmaHu: number;
}

/**
 * Blurs `hu` in place (slice profile along z, then the in-plane point-spread function), adds Gaussian
 * noise before the in-plane blur so the same kernel correlates it as reconstruction does, and rounds
 * to int16 HU. One pass per axis and one for noise keeps a 256×256×128 case well under a second.
 */
export function finishImage(hu: Float32Array, dims: Vec3, spacingMm: Vec3, opts: FinishOptions, rng: Rng): Int16Array {
  const wz = tapWeight(opts.blurSigmaMm[2], spacingMm[2]);
  if (wz > 0) blurAxis(hu, dims, 2, wz);
  // A little in-plane blur always, so the noise is never pixel-white.
  const wi = Math.max(0.1, tapWeight(opts.blurSigmaMm[0], spacingMm[0]));
  const wj = Math.max(0.1, tapWeight(opts.blurSigmaMm[1], spacingMm[1]));
  // A 3-tap kernel keeps sqrt(2w² + (1-2w)²) of white noise's standard deviation per axis.
  const keep = Math.sqrt((2 * wi * wi + (1 - 2 * wi) ** 2) * (2 * wj * wj + (1 - 2 * wj) ** 2));
  const gain = opts.noiseSigmaHu / keep;
  const table = normalTable(rng);
  const mask = table.length - 1;
  let s = rng.nextUint32() | 1;
  const n = hu.length;
  for (let q = 0; q < n; q++) {
    // xorshift32 picks table entries: far cheaper than a transcendental per voxel.
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    hu[q] += gain * table[(s >>> 8) & mask];
  }
  blurAxis(hu, dims, 0, wi);
  blurAxis(hu, dims, 1, wj);
  const out = new Int16Array(n);
  for (let q = 0; q < n; q++) {
    const v = Math.round(hu[q]);
    out[q] = v < -1024 ? -1024 : v > 3071 ? 3071 : v;
  }
  return out;
}
