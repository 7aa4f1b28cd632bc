// Freehand (lasso) scissors: fills (or, with value 0, erases) the voxels inside a closed polygon
// drawn on the shown slice, on that slice or through the whole volume along the view axis ("3D").
import type { LabelGrid, PaintRules, StrokeRecorder, Vec3 } from './labelGrid';
import { planeAxes, sliceRange, strides, type Axis } from './sliceGeometry';

/**
 * Writes every voxel whose centre lies inside the polygon (even-odd rule; the last point joins the
 * first) given by continuous voxel coordinates, using only the in-plane axes. Returns voxels changed.
 */
export function fillPolygon(
  grid: LabelGrid,
  rules: PaintRules,
  points: readonly Vec3[],
  normalAxis: Axis,
  sliceIndex: number,
  throughVolume: boolean,
  rec: StrokeRecorder,
): number {
  if (points.length < 3) return 0;
  const [a, b] = planeAxes(normalAxis);
  const us = points.map((p) => p[a]);
  const vs = points.map((p) => p[b]);
  const st = strides(grid);
  const vLo = Math.max(0, Math.ceil(Math.min(...vs)));
  const vHi = Math.min(grid.dims[b] - 1, Math.floor(Math.max(...vs)));
  const offsets: number[] = [];
  const crossings: number[] = [];
  for (let v = vLo; v <= vHi; v++) {
    // Scanline: u where each edge crosses this row (half-open in v so vertices count once).
    crossings.length = 0;
    for (let e = 0, f = points.length - 1; e < points.length; f = e++) {
      const v0 = vs[f];
      const v1 = vs[e];
      if (v0 <= v === v1 <= v) continue;
      crossings.push(us[f] + ((v - v0) / (v1 - v0)) * (us[e] - us[f]));
    }
    crossings.sort((x, y) => x - y);
    for (let c = 0; c + 1 < crossings.length; c += 2) {
      // Centres strictly left of the right crossing and at or right of the left one.
      const uLo = Math.max(0, Math.ceil(crossings[c]));
      const uHi = Math.min(grid.dims[a] - 1, Math.ceil(crossings[c + 1]) - 1);
      for (let u = uLo; u <= uHi; u++) offsets.push(u * st[a] + v * st[b]);
    }
  }
  let changed = 0;
  for (const s of sliceRange(grid, normalAxis, sliceIndex, throughVolume)) {
    const base = s * st[normalAxis];
    for (const o of offsets) if (rec.paint(base + o, rules)) changed++;
  }
  return changed;
}
