// One planar slice of a volume's voxels: the shape the viewer's quick preview and `cases.sliceData` use.
import type { Vec3, VoxelArray } from './volume';

export type SliceAxis = 0 | 1 | 2;

/**
 * Width and height of the slice with voxel axis `axis` fixed: the two other axes in order, the lower
 * one fastest (axis 2: i × j; axis 1: i × k; axis 0: j × k).
 */
export function sliceShape(dims: Vec3, axis: SliceAxis): { width: number; height: number } {
  if (axis === 2) return { width: dims[0], height: dims[1] };
  if (axis === 1) return { width: dims[0], height: dims[2] };
  return { width: dims[1], height: dims[2] };
}

/** Copies the slice at `index` along `axis` out of `data` (i fastest), in the layout of sliceShape. */
export function extractSlice<T extends VoxelArray>(data: T, dims: Vec3, axis: SliceAxis, index: number): T {
  const [ni, nj, nk] = dims;
  if (!Number.isInteger(index) || index < 0 || index >= dims[axis])
    throw new RangeError(`slice ${index} is outside 0..${dims[axis] - 1} along axis ${axis}`);
  const { width, height } = sliceShape(dims, axis);
  const Ctor = data.constructor as new (n: number) => T;
  const out = new Ctor(width * height);
  if (axis === 2) {
    out.set(data.subarray(index * ni * nj, (index + 1) * ni * nj));
  } else if (axis === 1) {
    for (let k = 0; k < nk; k++) {
      const from = (k * nj + index) * ni;
      out.set(data.subarray(from, from + ni), k * ni);
    }
  } else {
    let n = 0;
    for (let k = 0; k < nk; k++) for (let j = 0; j < nj; j++) out[n++] = data[(k * nj + j) * ni + index];
  }
  return out;
}
