// Rectangle scissors: fills (or, with value 0, erases) the voxels of one slice inside a rectangle
// given by two opposite corners, through the paint rules.
import type { LabelGrid, PaintRules, StrokeRecorder, Vec3 } from './labelGrid';

/**
 * Writes every voxel of slice `sliceIndex` along `normalAxis` whose centre lies inside the box
 * spanned by the corners (continuous voxel coordinates, in-plane axes only). Returns voxels changed.
 */
export function fillRectangle(
  grid: LabelGrid,
  rules: PaintRules,
  cornerA: Vec3,
  cornerB: Vec3,
  normalAxis: 0 | 1 | 2,
  sliceIndex: number,
  rec: StrokeRecorder,
): number {
  const lo: number[] = [];
  const hi: number[] = [];
  for (let a = 0; a < 3; a++) {
    if (a === normalAxis) {
      lo.push(sliceIndex);
      hi.push(sliceIndex);
    } else {
      lo.push(Math.max(0, Math.ceil(Math.min(cornerA[a], cornerB[a]))));
      hi.push(Math.min(grid.dims[a] - 1, Math.floor(Math.max(cornerA[a], cornerB[a]))));
    }
  }
  if (sliceIndex < 0 || sliceIndex >= grid.dims[normalAxis]) return 0;
  const [ni, nj] = grid.dims;
  let changed = 0;
  for (let k = lo[2]; k <= hi[2]; k++)
    for (let j = lo[1]; j <= hi[1]; j++)
      for (let i = lo[0]; i <= hi[0]; i++) if (rec.paint((k * nj + j) * ni + i, rules)) changed++;
  return changed;
}
