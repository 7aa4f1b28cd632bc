// Slice and neighbourhood helpers shared by the correction operations (in-plane axes of a view,
// voxel index arithmetic, the values a segment-level action may write).
import type { LabelGrid } from './labelGrid';

export type Axis = 0 | 1 | 2;

/** The two in-plane axes of a slice whose normal is `normalAxis`, lower axis first. */
export function planeAxes(normalAxis: Axis): [Axis, Axis] {
  return normalAxis === 0 ? [1, 2] : normalAxis === 1 ? [0, 2] : [0, 1];
}

/** Index strides of the i, j, k axes in the flat label array. */
export function strides(grid: LabelGrid): [number, number, number] {
  const [ni, nj] = grid.dims;
  return [1, ni, ni * nj];
}

/** The slices a scissors shape reaches: the shown one, or every slice along the axis ("3D"). */
export function sliceRange(grid: LabelGrid, normalAxis: Axis, sliceIndex: number, throughVolume: boolean): number[] {
  const n = grid.dims[normalAxis];
  if (throughVolume) return Array.from({ length: n }, (_, s) => s);
  return sliceIndex >= 0 && sliceIndex < n ? [sliceIndex] : [];
}

/** Throws unless `value` is a class value 0..255 (segment ids come from the UI and the schema). */
export function checkClass(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 255) {
    throw new Error(`${what} must be a class value 0..255, got ${value}`);
  }
}
