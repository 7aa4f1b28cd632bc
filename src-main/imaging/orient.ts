// Reorientation between a volume's own voxel grid and the model's canonical frame, by axis
// permutation and flips only (never interpolation), so the round trip is exact.
//
// For oblique scans the nearest canonical axes are chosen (the permutation that maximises the sum
// of |cosines|); the canonical grid keeps the exact oblique direction cosines, so it still describes
// the same physical voxels. The pipeline uses the strides directly (no copy of the full-resolution
// image); reorientVolume/restoreVolume materialise the permuted grid for other users and tests.
import { allocVoxels, voxelCount, voxelTypeOf } from './volume';
import type { Direction, Vec3, Volume, VoxelArray } from './volume';
import type { CanonicalFrame } from '../domain/segmentation-model';

/** How the canonical grid indexes the original data. */
export interface AxisTransform {
  /** Original axis (0 = i, 1 = j, 2 = k) that feeds canonical axis a. */
  srcAxis: Vec3;
  /** Whether canonical axis a runs against its original axis. */
  flip: [boolean, boolean, boolean];
  /** Original dims [ni, nj, nk]. */
  srcDims: Vec3;
  /** Canonical dims. */
  dims: Vec3;
  /** Offset in the original data array of canonical voxel (0, 0, 0). */
  baseOffset: number;
  /** Step in the original data array for +1 along each canonical axis (may be negative). */
  strides: Vec3;
}

const PERMUTATIONS: Vec3[] = [
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
];

/** LPS unit vectors of the frame's +x, +y, +z. */
function frameAxes(frame: CanonicalFrame): number[][] {
  const s = frame === 'RAS' ? -1 : 1;
  return [
    [s, 0, 0],
    [0, s, 0],
    [0, 0, 1],
  ];
}

/** Finds the permutation and flips that bring a grid closest to the canonical frame. */
export function canonicalTransform(
  v: Pick<Volume, 'dims' | 'direction'>,
  frame: CanonicalFrame = 'RAS',
): AxisTransform {
  const e = frameAxes(frame);
  const d = v.direction;
  // dot[s][a]: cosine between original axis s and canonical axis a.
  const dot = [0, 1, 2].map((s) => e.map((ea) => d[s * 3] * ea[0] + d[s * 3 + 1] * ea[1] + d[s * 3 + 2] * ea[2]));
  let best = PERMUTATIONS[0];
  let bestScore = -1;
  for (const p of PERMUTATIONS) {
    const score = Math.abs(dot[p[0]][0]) + Math.abs(dot[p[1]][1]) + Math.abs(dot[p[2]][2]);
    // Strictly greater (with a tolerance), so exact ties keep the earlier, less permuted order.
    if (score > bestScore + 1e-9) {
      best = p;
      bestScore = score;
    }
  }
  const srcDims = v.dims.slice() as Vec3;
  const srcStrides = [1, srcDims[0], srcDims[0] * srcDims[1]];
  const flip: [boolean, boolean, boolean] = [false, false, false];
  const strides: Vec3 = [0, 0, 0];
  const dims: Vec3 = [0, 0, 0];
  let baseOffset = 0;
  for (let a = 0; a < 3; a++) {
    const s = best[a];
    flip[a] = dot[s][a] < 0;
    dims[a] = srcDims[s];
    strides[a] = flip[a] ? -srcStrides[s] : srcStrides[s];
    if (flip[a]) baseOffset += (srcDims[s] - 1) * srcStrides[s];
  }
  return { srcAxis: best.slice() as Vec3, flip, srcDims, dims, baseOffset, strides };
}

export function isIdentityTransform(t: AxisTransform): boolean {
  return t.srcAxis[0] === 0 && t.srcAxis[1] === 1 && t.srcAxis[2] === 2 && !t.flip[0] && !t.flip[1] && !t.flip[2];
}

/** Geometry of the canonical grid: same physical voxel centres as the original. */
export function canonicalGeometry(
  v: Pick<Volume, 'spacingMm' | 'originMm' | 'direction'>,
  t: AxisTransform,
): Pick<Volume, 'dims' | 'spacingMm' | 'originMm' | 'direction'> {
  const spacingMm: Vec3 = [0, 0, 0];
  const direction = new Array<number>(9).fill(0) as Direction;
  const cornerIndex = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    const s = t.srcAxis[a];
    spacingMm[a] = v.spacingMm[s];
    const sign = t.flip[a] ? -1 : 1;
    for (let c = 0; c < 3; c++) direction[a * 3 + c] = sign * v.direction[s * 3 + c];
    if (t.flip[a]) cornerIndex[s] = t.srcDims[s] - 1;
  }
  const originMm = v.originMm.slice() as Vec3;
  for (let s = 0; s < 3; s++) {
    for (let c = 0; c < 3; c++) originMm[c] += cornerIndex[s] * v.spacingMm[s] * v.direction[s * 3 + c];
  }
  return { dims: t.dims.slice() as Vec3, spacingMm, originMm, direction };
}

/** Copies original-order voxels into canonical order. */
export function toCanonicalOrder<T extends VoxelArray>(src: T, t: AxisTransform): T {
  const out = allocVoxels(voxelTypeOf(src), voxelCount(t.dims)) as T;
  const [n0, n1, n2] = t.dims;
  const [s0, s1, s2] = t.strides;
  let o = 0;
  for (let z = 0; z < n2; z++) {
    for (let y = 0; y < n1; y++) {
      let p = t.baseOffset + z * s2 + y * s1;
      for (let x = 0; x < n0; x++, p += s0) out[o++] = src[p];
    }
  }
  return out;
}

/** Copies canonical-order voxels back into the original order (the exact inverse of toCanonicalOrder). */
export function fromCanonicalOrder<T extends VoxelArray>(src: T, t: AxisTransform): T {
  const out = allocVoxels(voxelTypeOf(src), voxelCount(t.srcDims)) as T;
  const [n0, n1, n2] = t.dims;
  const [s0, s1, s2] = t.strides;
  let o = 0;
  for (let z = 0; z < n2; z++) {
    for (let y = 0; y < n1; y++) {
      let p = t.baseOffset + z * s2 + y * s1;
      for (let x = 0; x < n0; x++, p += s0) out[p] = src[o++];
    }
  }
  return out;
}

/** The volume on its canonical grid, plus the transform that undoes it. */
export function reorientVolume(v: Volume, frame: CanonicalFrame = 'RAS'): { volume: Volume; transform: AxisTransform } {
  const transform = canonicalTransform(v, frame);
  const geometry = canonicalGeometry(v, transform);
  return { volume: { ...v, ...geometry, data: toCanonicalOrder(v.data, transform) }, transform };
}

/** Brings data on the canonical grid back onto `original`'s grid (its exact geometry). */
export function restoreVolume(canonical: Volume, transform: AxisTransform, original: Volume): Volume {
  return {
    ...canonical,
    dims: original.dims.slice() as Vec3,
    spacingMm: original.spacingMm.slice() as Vec3,
    originMm: original.originMm.slice() as Vec3,
    direction: original.direction.slice() as Direction,
    data: fromCanonicalOrder(canonical.data, transform),
  };
}
