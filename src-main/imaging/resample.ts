// Trilinear resampling between the canonical full-resolution grid and the model's grid.
//
// Both directions use the same half-voxel-aligned map (the grids cover the same extent): output
// index o on an axis of n_out samples reads source coordinate (o + 0.5) * n_src / n_out - 0.5,
// clamped to the source. Equal sizes therefore give the identity exactly (weight 0).
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

/**
 * Reads the original data through the canonical transform (no reoriented copy) and resamples it
 * trilinearly onto `outDims` (canonical axes, i fastest). Returns float32 in tensor order [D, H, W].
 */
export function resampleToGrid(src: VoxelArray, t: AxisTransform, outDims: Vec3): Float32Array {
  const [o0, o1, o2] = outDims;
  if (o0 === t.dims[0] && o1 === t.dims[1] && o2 === t.dims[2]) return stridedCopy(src, t);
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
