// Test helpers for phantom checks: voxel positions, 6-connected components and masked statistics.
import { faceNeighbours } from '../../src-main/imaging/volume';
import type { Volume } from '../../src-main/imaging/volume';

/** LPS world x, y, z (mm) of a flat voxel index on an axis-aligned grid (checked by the caller). */
export function worldOf(v: Volume, idx: number): [number, number, number] {
  const [ni, nj] = v.dims;
  const i = idx % ni;
  const j = Math.floor(idx / ni) % nj;
  const k = Math.floor(idx / (ni * nj));
  return [v.originMm[0] + i * v.spacingMm[0], v.originMm[1] + j * v.spacingMm[1], v.originMm[2] + k * v.spacingMm[2]];
}

/** Labels 6-connected components of `mask`; returns the component id per voxel (0 = none) and sizes. */
export function components6(mask: Uint8Array, dims: [number, number, number]): { ids: Int32Array; sizes: number[] } {
  const [ni, nj, nk] = dims;
  const ids = new Int32Array(mask.length);
  const sizes: number[] = [0];
  const stack: number[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || ids[start]) continue;
    const id = sizes.length;
    sizes.push(0);
    ids[start] = id;
    stack.push(start);
    while (stack.length) {
      const q = stack.pop()!;
      sizes[id]++;
      const i = q % ni;
      const j = Math.floor(q / ni) % nj;
      const k = Math.floor(q / (ni * nj));
      const neighbours = [
        i > 0 ? q - 1 : -1,
        i < ni - 1 ? q + 1 : -1,
        j > 0 ? q - ni : -1,
        j < nj - 1 ? q + ni : -1,
        k > 0 ? q - ni * nj : -1,
        k < nk - 1 ? q + ni * nj : -1,
      ];
      for (const n of neighbours) {
        if (n >= 0 && mask[n] && !ids[n]) {
          ids[n] = id;
          stack.push(n);
        }
      }
    }
  }
  return { ids, sizes };
}

/** Flat indices of the 6 face neighbours of q (inside the grid). */
export const neighbours6 = (q: number, dims: [number, number, number]): number[] => faceNeighbours(q, dims);

/**
 * Mean image value over voxels of `labelValue` whose 6 neighbours all have that label too (the
 * interior, away from partial-volume edges). Returns the mean and how many voxels it used.
 */
export function interiorMean(image: Volume, label: Volume, labelValue: number): { mean: number; count: number } {
  const lab = label.data;
  const img = image.data;
  let sum = 0;
  let count = 0;
  for (let q = 0; q < lab.length; q++) {
    if (lab[q] !== labelValue) continue;
    if (neighbours6(q, label.dims).every((n) => lab[n] === labelValue) && neighbours6(q, label.dims).length === 6) {
      sum += img[q];
      count++;
    }
  }
  return { mean: count ? sum / count : NaN, count };
}

/** Flat index of the voxel nearest to an LPS world point, or -1 when outside the grid. */
export function voxelAt(v: Volume, p: [number, number, number]): number {
  const idx = [0, 1, 2].map((a) => Math.round((p[a] - v.originMm[a]) / v.spacingMm[a]));
  if (idx.some((n, a) => n < 0 || n >= v.dims[a])) return -1;
  return idx[0] + v.dims[0] * (idx[1] + v.dims[1] * idx[2]);
}
