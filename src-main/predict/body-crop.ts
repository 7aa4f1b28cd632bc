// Crop to the body before the sliding window: the network only runs where there is tissue.
//
// A CT's field of view is mostly air around the patient (and the table); kidneys and pancreas are never there.
// Like nnU-Net's crop to the non-zero region and TotalSegmentator's body crop, the windows are laid over the
// bounding box of the voxels above an air threshold (plus a margin) instead of the whole grid, and everything
// outside the box is background with certainty. The box is found on the model grid in HU, per axis from plane
// counts, so isolated specks (noise, a stray marker) do not stretch it.
import type { Vec3 } from '../imaging/volume';

export interface BodyBox {
  /** First voxel of the box, tensor order [z, y, x] (D, H, W). */
  start: Vec3;
  /** Box size, tensor order [D, H, W]. */
  size: Vec3;
}

export interface BodyBoxOptions {
  /** Voxels above this are tissue (default -500 HU: air is about -1000, lung about -850 .. -500, fat about -100). */
  thresholdHu?: number;
  /** Voxels added on every side, clamped to the grid (default 4). */
  margin?: number;
  /** A plane counts as inside the body when at least this share of its voxels are tissue (default 0.002). */
  minPlaneShare?: number;
  /** No crop (null) when the box would keep more than this share of the grid's voxels (default 0.9). */
  maxKeptShare?: number;
}

/**
 * The body's bounding box on a [D, H, W] HU grid, or null when cropping would not pay (the box is nearly the
 * whole grid) or finds no tissue at all (then the whole grid is run, as without cropping).
 */
export function bodyBox(hu: Float32Array, dims: Vec3, opts: BodyBoxOptions = {}): BodyBox | null {
  const [nd, nh, nw] = dims;
  if (hu.length !== nd * nh * nw) throw new Error(`bodyBox: ${hu.length} values for a ${dims.join('×')} grid`);
  const thr = opts.thresholdHu ?? -500;
  const margin = opts.margin ?? 4;
  const share = opts.minPlaneShare ?? 0.002;
  const cz = new Float64Array(nd);
  const cy = new Float64Array(nh);
  const cx = new Float64Array(nw);
  let n = 0;
  for (let z = 0; z < nd; z++)
    for (let y = 0; y < nh; y++)
      for (let x = 0; x < nw; x++, n++)
        if (hu[n] > thr) {
          cz[z]++;
          cy[y]++;
          cx[x]++;
        }
  const range = (counts: Float64Array, planeVoxels: number): [number, number] | null => {
    const need = Math.max(1, share * planeVoxels);
    let lo = 0;
    while (lo < counts.length && counts[lo] < need) lo++;
    if (lo === counts.length) return null;
    let hi = counts.length - 1;
    while (counts[hi] < need) hi--;
    return [Math.max(0, lo - margin), Math.min(counts.length - 1, hi + margin)];
  };
  const rz = range(cz, nh * nw);
  const ry = range(cy, nd * nw);
  const rx = range(cx, nd * nh);
  if (!rz || !ry || !rx) return null;
  const size: Vec3 = [rz[1] - rz[0] + 1, ry[1] - ry[0] + 1, rx[1] - rx[0] + 1];
  if (size[0] * size[1] * size[2] > (opts.maxKeptShare ?? 0.9) * nd * nh * nw) return null;
  return { start: [rz[0], ry[0], rx[0]], size };
}

/** Calls f(gridRow, boxRow) with the first voxel of every row of the box in the grid and in the box, in order. */
function forEachBoxRow(dims: Vec3, box: BodyBox, f: (gridRow: number, boxRow: number) => void): void {
  const [, nh, nw] = dims;
  const [z0, y0, x0] = box.start;
  const [d, h, w] = box.size;
  for (let z = 0; z < d; z++) for (let y = 0; y < h; y++) f(((z0 + z) * nh + y0 + y) * nw + x0, (z * h + y) * w);
}

/** The box's voxels of a [D, H, W] grid as a new [d, h, w] array. */
export function cropGrid(data: Float32Array, dims: Vec3, box: BodyBox): Float32Array {
  const w = box.size[2];
  const out = new Float32Array(box.size[0] * box.size[1] * w);
  forEachBoxRow(dims, box, (g, b) => out.set(data.subarray(g, g + w), b));
  return out;
}

/**
 * Probabilities [C, d, h, w] of the box placed in a [C, D, H, W] grid that is background (class 0, probability 1)
 * outside it; the uncertainty [d, h, w] likewise, 0 outside.
 */
export function uncropProbabilities(
  probs: Float32Array,
  uncertainty: Float32Array | undefined,
  classes: number,
  dims: Vec3,
  box: BodyBox,
): { probs: Float32Array; uncertainty?: Float32Array } {
  const N = dims[0] * dims[1] * dims[2];
  const M = box.size[0] * box.size[1] * box.size[2];
  const w = box.size[2];
  const full = new Float32Array(classes * N);
  full.fill(1, 0, N); // class 0 everywhere; the box overwrites its part of every class plane below
  for (let c = 0; c < classes; c++)
    forEachBoxRow(dims, box, (g, b) => full.set(probs.subarray(c * M + b, c * M + b + w), c * N + g));
  const unc = uncertainty ? new Float32Array(N) : undefined;
  if (unc && uncertainty) forEachBoxRow(dims, box, (g, b) => unc.set(uncertainty.subarray(b, b + w), g));
  return { probs: full, uncertainty: unc };
}
