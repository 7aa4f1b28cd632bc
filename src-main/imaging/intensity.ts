// HU clipping and normalisation exactly as model.json's `intensity` says: clip to [lo, hi], then (x - mean) / std.
import type { IntensityPreprocessing } from '../domain/segmentation-model';

export function checkIntensity(p: IntensityPreprocessing, where: string): void {
  const [lo, hi] = p.clipHu;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo >= hi) {
    throw new Error(`${where}: intensity.clipHu must be two finite numbers [lo, hi] with lo < hi, got [${lo}, ${hi}]`);
  }
  if (!Number.isFinite(p.mean)) throw new Error(`${where}: intensity.mean must be a finite number`);
  if (!Number.isFinite(p.std) || p.std <= 0) throw new Error(`${where}: intensity.std must be a positive number`);
}

/** Clips and normalises in place; returns the same array. */
export function normaliseInPlace(data: Float32Array, p: IntensityPreprocessing): Float32Array {
  const [lo, hi] = p.clipHu;
  const mean = p.mean;
  const inv = 1 / p.std;
  for (let n = 0; n < data.length; n++) {
    const x = data[n];
    // NaN (never expected from CT) becomes lo rather than poisoning the network.
    const c = x > lo ? (x < hi ? x : hi) : lo;
    data[n] = (c - mean) * inv;
  }
  return data;
}

/** The normalised value of `hu` (used for padding: air outside the scan). */
export function normalisedValue(hu: number, p: IntensityPreprocessing): number {
  const c = Math.min(Math.max(hu, p.clipHu[0]), p.clipHu[1]);
  return (c - p.mean) / p.std;
}
