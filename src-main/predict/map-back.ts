// Maps model-grid probabilities back onto the input's own voxel grid: trilinear interpolation of
// every class, argmax, written straight into the original voxel order (through the canonical
// transform's strides), one canonical slice at a time.
//
// Memory stays bounded: besides the uint8 label (and optional uncertainty) on the full grid, only a
// model-grid argmax map and one uncertainty plane are held, never full-resolution float probability
// maps.
//
// Shortcut, exact: if all 8 model voxels around an output voxel share the argmax c, every convex
// combination of them has argmax c too (p_c - p_other is a weighted sum of positive terms), so the
// per-class trilinear interpolation is only done inside cells where the model's answer changes.
import type { Vec3 } from '../imaging/volume';
import type { AxisTransform } from '../imaging/orient';
import { linearAxisMap } from '../imaging/resample';
import { Yielder } from './progress';

export interface MapBackInput {
  /** Softmax probabilities [C, D, H, W] on the model grid (canonical axes). */
  probs: Float32Array;
  classes: number;
  /** Model-grid dims, canonical axes (i, j, k). */
  modelDims: Vec3;
  /** Optional [D, H, W] values in [0, 1] on the model grid. */
  uncertainty?: Float32Array;
}

export interface MapBackOutput {
  /** Argmax label in the ORIGINAL voxel order, original dims. */
  label: Uint8Array;
  /** Interpolated uncertainty in original order: float32 in [0, 1] or uint8 scaled to 0..255. */
  uncertainty?: Float32Array | Uint8Array;
}

export interface MapBackOptions {
  uncertaintyFormat?: 'float32' | 'uint8';
  signal?: AbortSignal;
  onProgress?: (fraction: number, message: string) => void;
}

export async function mapBackToOriginal(
  input: MapBackInput,
  t: AxisTransform,
  opts: MapBackOptions = {},
): Promise<MapBackOutput> {
  const { probs, classes: C, modelDims } = input;
  const [m0, m1, m2] = modelDims;
  const [n0, n1, n2] = t.dims;
  const M = m0 * m1 * m2;
  if (probs.length !== C * M)
    throw new Error(`map-back: ${probs.length} probabilities for ${C} classes on ${modelDims.join('×')}`);
  if (C > 255) throw new Error(`map-back: at most 255 classes, got ${C}`);
  const total = t.srcDims[0] * t.srcDims[1] * t.srcDims[2];
  const label = new Uint8Array(total);
  const unc = input.uncertainty;
  const uFloat = unc && opts.uncertaintyFormat === 'float32' ? new Float32Array(total) : undefined;
  const uByte = unc && !uFloat ? new Uint8Array(total) : undefined;
  const cell = uniformCells(probs, C, modelDims);

  const mx = linearAxisMap(m0, n0);
  const my = linearAxisMap(m1, n1);
  const mz = linearAxisMap(m2, n2);
  const pm = m0 * m1;
  // Uncertainty is needed everywhere: separable (plane along z, row along y, then x).
  const uplane = unc ? new Float32Array(pm) : undefined;
  const urow = new Float32Array(m0);
  const ufull = new Float32Array(n0);
  const xl = mx.lo;
  const xh = mx.hi;
  const xw = mx.w;
  const [s0, s1, s2] = t.strides;
  const xOff = new Int32Array(n0);
  for (let x = 0; x < n0; x++) xOff[x] = x * s0;
  const yielder = new Yielder(opts.signal);

  for (let z = 0; z < n2; z++) {
    await yielder.maybeYield();
    const zl = mz.lo[z] * pm;
    const zh = mz.hi[z] * pm;
    const wz = mz.w[z];
    if (unc && uplane) for (let n = 0; n < pm; n++) uplane[n] = unc[zl + n] + wz * (unc[zh + n] - unc[zl + n]);
    for (let y = 0; y < n1; y++) {
      const yl = my.lo[y] * m0;
      const yh = my.hi[y] * m0;
      const wy = my.w[y];
      const cellRow = zl + yl;
      const base = t.baseOffset + z * s2 + y * s1;
      for (let x = 0; x < n0; x++) {
        const a = xl[x];
        let best = cell[cellRow + a];
        if (best === MIXED) {
          // The answer changes inside this cell: full trilinear of every class.
          const b = xh[x];
          const w = xw[x];
          best = 0;
          let bv = -Infinity;
          for (let c = 0; c < C; c++) {
            const o = c * M;
            const p00 = probs[o + zl + yl + a] + w * (probs[o + zl + yl + b] - probs[o + zl + yl + a]);
            const p01 = probs[o + zl + yh + a] + w * (probs[o + zl + yh + b] - probs[o + zl + yh + a]);
            const p10 = probs[o + zh + yl + a] + w * (probs[o + zh + yl + b] - probs[o + zh + yl + a]);
            const p11 = probs[o + zh + yh + a] + w * (probs[o + zh + yh + b] - probs[o + zh + yh + a]);
            const p0 = p00 + wy * (p01 - p00);
            const v = p0 + wz * (p10 + wy * (p11 - p10) - p0);
            if (v > bv) {
              bv = v;
              best = c;
            }
          }
        }
        label[base + xOff[x]] = best;
      }
      if (uplane) {
        for (let x = 0; x < m0; x++) urow[x] = uplane[yl + x] + wy * (uplane[yh + x] - uplane[yl + x]);
        for (let x = 0; x < n0; x++) ufull[x] = urow[xl[x]] + xw[x] * (urow[xh[x]] - urow[xl[x]]);
        if (uFloat) for (let x = 0; x < n0; x++) uFloat[base + xOff[x]] = ufull[x];
        // Convex combinations of [0, 1] values: u * 255 + 0.5 stays in [0, 256), so truncation rounds.
        else for (let x = 0; x < n0; x++) uByte![base + xOff[x]] = (ufull[x] * 255 + 0.5) | 0;
      }
    }
    opts.onProgress?.((z + 1) / n2, `mapping back slice ${z + 1} of ${n2}`);
  }
  return { label, uncertainty: uFloat ?? uByte };
}

const MIXED = 255;

/**
 * Per model voxel (x, y, z): the argmax shared by the 2×2×2 block (x..x+1, y..y+1, z..z+1), clamped
 * at the far faces, or MIXED where it differs. Ties resolve to the lowest class, as in the argmax.
 */
export function uniformCells(probs: Float32Array, C: number, dims: Vec3): Uint8Array {
  const [m0, m1, m2] = dims;
  const M = m0 * m1 * m2;
  const arg = new Uint8Array(M);
  for (let n = 0; n < M; n++) {
    let best = 0;
    let bv = probs[n];
    for (let c = 1; c < C; c++) {
      const v = probs[c * M + n];
      if (v > bv) {
        bv = v;
        best = c;
      }
    }
    arg[n] = best;
  }
  // Separable: same along x, then y, then z (each pass compares a voxel with its +1 neighbour).
  const out = arg;
  const pass = (stride: number, n: number, inner: (idx: number) => number) => {
    for (let idx = 0; idx < M; idx++) {
      if (inner(idx) + 1 >= n) continue;
      const a = out[idx];
      const b = out[idx + stride];
      if (a !== b) out[idx] = MIXED;
    }
  };
  pass(1, m0, (idx) => idx % m0);
  pass(m0, m1, (idx) => Math.floor(idx / m0) % m1);
  pass(m0 * m1, m2, (idx) => Math.floor(idx / (m0 * m1)));
  return out;
}
