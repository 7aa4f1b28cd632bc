// Resampling between the canonical full-resolution grid and the model's grid.
//
// Both directions use the same half-voxel-aligned map (the grids cover the same extent): output
// index o on an axis of n_out samples reads source coordinate (o + 0.5) * n_src / n_out - 0.5,
// clamped to the source. Equal sizes therefore give the identity exactly (weight 0).
//
// Upsampling (and equal sizes) interpolate trilinearly. Downsampling an axis by a factor s > 1 (a 0.7 mm scan onto
// the 3 mm model grid: s ≈ 4) first averages over each output voxel's footprint: a triangle filter s source
// voxels wide each side, the linear interpolation kernel stretched by s (the antialiased "bilinear" of image
// libraries). Point sampling would keep nearly all of a thin-slice scan's per-voxel noise and alias its edges; the
// average is what a scan reconstructed at the model's spacing shows, and what the model trained on.
import type { Vec3, VoxelArray } from './volume';
import type { AxisTransform } from './orient';

/** Per output index: the two source indices and the weight of the upper one. */
export interface AxisMap {
  lo: Int32Array;
  hi: Int32Array;
  w: Float32Array;
}

export function linearAxisMap(nSrc: number, nOut: number): AxisMap {
  const lo = new Int32Array(nOut);
  const hi = new Int32Array(nOut);
  const w = new Float32Array(nOut);
  const scale = nSrc / nOut;
  for (let o = 0; o < nOut; o++) {
    let x = nSrc === nOut ? o : (o + 0.5) * scale - 0.5;
    if (x < 0) x = 0;
    if (x > nSrc - 1) x = nSrc - 1;
    const l = Math.floor(x);
    lo[o] = l;
    hi[o] = Math.min(l + 1, nSrc - 1);
    w[o] = x - l;
  }
  return { lo, hi, w };
}

/** Model-grid dims for a grid of `dims` at `spacingMm` resampled to `targetSpacingMm` (at least 1). */
export function resampledDims(dims: Vec3, spacingMm: Vec3, targetSpacingMm: Vec3): Vec3 {
  return [0, 1, 2].map((a) => Math.max(1, Math.round((dims[a] * spacingMm[a]) / targetSpacingMm[a]))) as Vec3;
}

/** Per output index: its first source index and its taps' normalised weights (`taps` per output, zero-padded). */
export interface AxisFilter {
  start: Int32Array;
  taps: number;
  weights: Float32Array;
}

/**
 * The antialiasing filter of an axis downsampled from nSrc to nOut samples: per output index, a triangle of half-width
 * s = nSrc / nOut source voxels around the output's source coordinate, weights normalised to 1; taps beyond the
 * ends read the end voxel (their weight moves onto it).
 */
export function antialiasAxisFilter(nSrc: number, nOut: number): AxisFilter {
  const s = nSrc / nOut;
  const support = Math.max(1, s);
  // The window covers every source index the triangle reaches; a row holds at most the whole source.
  const window = Math.ceil(2 * support) + 1;
  const taps = Math.min(window, nSrc);
  const start = new Int32Array(nOut);
  const weights = new Float32Array(nOut * taps);
  const w = new Float64Array(window);
  for (let o = 0; o < nOut; o++) {
    const c = (o + 0.5) * s - 0.5;
    const j0 = Math.ceil(c - support);
    let sum = 0;
    for (let q = 0; q < window; q++) {
      const v = Math.max(0, 1 - Math.abs(j0 + q - c) / support);
      w[q] = v;
      sum += v;
    }
    // Clamp the row into the source: weight outside moves onto the end voxel it would read.
    const lo = Math.max(0, Math.min(j0, nSrc - taps));
    start[o] = lo;
    const row = o * taps;
    for (let q = 0; q < window; q++) {
      if (w[q] === 0) continue;
      const j = Math.min(nSrc - 1, Math.max(0, j0 + q));
      weights[row + (j - lo)] += w[q] / sum;
    }
  }
  return { start, taps, weights };
}

/**
 * Reads the original data through the canonical transform (no reoriented copy) and resamples it onto `outDims`
 * (canonical axes, i fastest): trilinear, with the antialiasing filter on every axis that is downsampled (see the
 * top of this file; `antialias: false` forces plain trilinear). Returns float32 in tensor order [D, H, W].
 */
export function resampleToGrid(
  src: VoxelArray,
  t: AxisTransform,
  outDims: Vec3,
  opts: { antialias?: boolean } = {},
): Float32Array {
  const [o0, o1, o2] = outDims;
  if (o0 === t.dims[0] && o1 === t.dims[1] && o2 === t.dims[2]) return stridedCopy(src, t);
  if (opts.antialias !== false && [0, 1, 2].some((a) => t.dims[a] > outDims[a]))
    return separableResample(src, t, outDims);
  const mx = linearAxisMap(t.dims[0], o0);
  const my = linearAxisMap(t.dims[1], o1);
  const mz = linearAxisMap(t.dims[2], o2);
  // Offsets in the original array per canonical index, so the inner loop is adds and loads only.
  const xl = new Int32Array(o0);
  const xh = new Int32Array(o0);
  for (let x = 0; x < o0; x++) {
    xl[x] = mx.lo[x] * t.strides[0];
    xh[x] = mx.hi[x] * t.strides[0];
  }
  const xw = mx.w;
  const out = new Float32Array(o0 * o1 * o2);
  let o = 0;
  for (let z = 0; z < o2; z++) {
    const zl = t.baseOffset + mz.lo[z] * t.strides[2];
    const zh = t.baseOffset + mz.hi[z] * t.strides[2];
    const wz = mz.w[z];
    for (let y = 0; y < o1; y++) {
      const yl = my.lo[y] * t.strides[1];
      const yh = my.hi[y] * t.strides[1];
      const wy = my.w[y];
      const r00 = zl + yl;
      const r01 = zl + yh;
      const r10 = zh + yl;
      const r11 = zh + yh;
      for (let x = 0; x < o0; x++) {
        const a = xl[x];
        const b = xh[x];
        const wx = xw[x];
        const v00 = src[r00 + a] + wx * (src[r00 + b] - src[r00 + a]);
        const v01 = src[r01 + a] + wx * (src[r01 + b] - src[r01 + a]);
        const v10 = src[r10 + a] + wx * (src[r10 + b] - src[r10 + a]);
        const v11 = src[r11 + a] + wx * (src[r11 + b] - src[r11 + a]);
        const v0 = v00 + wy * (v01 - v00);
        const v1 = v10 + wy * (v11 - v10);
        out[o++] = v0 + wz * (v1 - v0);
      }
    }
  }
  return out;
}

/**
 * Downsampling: one filter pass per canonical axis (i, then j, then k), each over the previous pass's output; an
 * axis that is not downsampled gets its linear interpolation weights (the same filter with half-width 1).
 */
function separableResample(src: VoxelArray, t: AxisTransform, outDims: Vec3): Float32Array {
  const [n0, n1, n2] = t.dims;
  const [o0, o1, o2] = outDims;
  const [s0, s1, s2] = t.strides;
  const fx = antialiasAxisFilter(n0, o0);
  const fy = antialiasAxisFilter(n1, o1);
  const fz = antialiasAxisFilter(n2, o2);
  // Pass 1 (i): the source through its strides -> [n2][n1][o0].
  const a = new Float32Array(o0 * n1 * n2);
  const tx = fx.taps;
  let p = 0;
  for (let z = 0; z < n2; z++) {
    for (let y = 0; y < n1; y++) {
      const row = t.baseOffset + z * s2 + y * s1;
      for (let x = 0; x < o0; x++) {
        const base = row + fx.start[x] * s0;
        const wr = x * tx;
        let acc = 0;
        for (let q = 0; q < tx; q++) acc += fx.weights[wr + q] * src[base + q * s0];
        a[p++] = acc;
      }
    }
  }
  // Pass 2 (j): [n2][n1][o0] -> [n2][o1][o0].
  const b = new Float32Array(o0 * o1 * n2);
  const ty = fy.taps;
  p = 0;
  for (let z = 0; z < n2; z++) {
    const plane = z * n1 * o0;
    for (let y = 0; y < o1; y++) {
      const first = plane + fy.start[y] * o0;
      const wr = y * ty;
      for (let x = 0; x < o0; x++) {
        let acc = 0;
        for (let q = 0; q < ty; q++) acc += fy.weights[wr + q] * a[first + q * o0 + x];
        b[p++] = acc;
      }
    }
  }
  // Pass 3 (k): [n2][o1][o0] -> [o2][o1][o0].
  const out = new Float32Array(o0 * o1 * o2);
  const tz = fz.taps;
  const planeSize = o0 * o1;
  p = 0;
  for (let z = 0; z < o2; z++) {
    const first = fz.start[z] * planeSize;
    const wr = z * tz;
    for (let i = 0; i < planeSize; i++) {
      let acc = 0;
      for (let q = 0; q < tz; q++) acc += fz.weights[wr + q] * b[first + q * planeSize + i];
      out[p++] = acc;
    }
  }
  return out;
}

/** Same grid: a plain reordering copy into float32 (the common case of a scan already at model spacing). */
function stridedCopy(src: VoxelArray, t: AxisTransform): Float32Array {
  const [n0, n1, n2] = t.dims;
  const [s0, s1, s2] = t.strides;
  const out = new Float32Array(n0 * n1 * n2);
  let o = 0;
  for (let z = 0; z < n2; z++) {
    for (let y = 0; y < n1; y++) {
      const p = t.baseOffset + z * s2 + y * s1;
      if (s0 === 1) {
        for (let x = 0; x < n0; x++) out[o++] = src[p + x];
      } else {
        for (let x = 0; x < n0; x++) out[o++] = src[p + x * s0];
      }
    }
  }
  return out;
}
