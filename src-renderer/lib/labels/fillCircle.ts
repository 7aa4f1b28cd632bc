// Circle scissors: fills (or, with value 0, erases) the voxels inside an in-plane circle on the
// shown slice, or on every slice along the view axis when `throughVolume` ("3D").
import type { LabelGrid, PaintRules, StrokeRecorder, Vec3 } from './labelGrid';
import { planeAxes, sliceRange, strides, type Axis } from './sliceGeometry';

/**
 * Writes every voxel whose centre lies within radiusMm of `centerIjk` in the plane normal to
 * `normalAxis` (in-plane distance only), on slice `sliceIndex` or through the whole volume.
 * Returns the number of voxels changed.
 */
export function fillCircle(
  grid: LabelGrid,
  rules: PaintRules,
  centerIjk: Vec3,
  radiusMm: number,
  normalAxis: Axis,
  sliceIndex: number,
  throughVolume: boolean,
  rec: StrokeRecorder,
): number {
  if (!(radiusMm >= 0)) return 0;
  const [a, b] = planeAxes(normalAxis);
  const st = strides(grid);
  const sa = grid.spacingMm[a];
  const sb = grid.spacingMm[b];
  const uLo = Math.max(0, Math.ceil(centerIjk[a] - radiusMm / sa));
  const uHi = Math.min(grid.dims[a] - 1, Math.floor(centerIjk[a] + radiusMm / sa));
  const vLo = Math.max(0, Math.ceil(centerIjk[b] - radiusMm / sb));
  const vHi = Math.min(grid.dims[b] - 1, Math.floor(centerIjk[b] + radiusMm / sb));
  const r2 = radiusMm * radiusMm;
  // The in-plane offsets inside the circle, computed once for all slices.
  const offsets: number[] = [];
  for (let v = vLo; v <= vHi; v++) {
    const dv = (v - centerIjk[b]) * sb;
    for (let u = uLo; u <= uHi; u++) {
      const du = (u - centerIjk[a]) * sa;
      if (du * du + dv * dv <= r2) offsets.push(u * st[a] + v * st[b]);
    }
  }
  let changed = 0;
  for (const s of sliceRange(grid, normalAxis, sliceIndex, throughVolume)) {
    const base = s * st[normalAxis];
    for (const o of offsets) if (rec.paint(base + o, rules)) changed++;
  }
  return changed;
}
