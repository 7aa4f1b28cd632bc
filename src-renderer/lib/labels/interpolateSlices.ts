// Shape-based interpolation of one segment between edited slices along the view axis: each edited
// slice's signed distance map (mm, negative inside), blended linearly, thresholded at 0, fills
// the slices between two edited slices that hold none of the segment. Only background is written.
import { squaredDistanceMm } from './distanceTransform';
import type { LabelGrid, Progress, StrokeRecorder } from './labelGrid';
import { checkClass, planeAxes, strides, type Axis } from './sliceGeometry';

/**
 * Fills the gaps of `segment` between slices that contain it. The segment is written only into
 * background voxels (other segments are kept; a locked segment is not interpolated).
 * Returns voxels changed; `onProgress` hears fractions 0..1 (per slice filled).
 */
export function interpolateSlices(
  grid: LabelGrid,
  segment: number,
  normalAxis: Axis,
  locked: ReadonlySet<number>,
  rec: StrokeRecorder,
  onProgress?: Progress,
): number {
  checkClass(segment, 'segment');
  if (segment === 0 || locked.has(segment)) return 0;
  const [a, b] = planeAxes(normalAxis);
  const st = strides(grid);
  const nu = grid.dims[a];
  const nv = grid.dims[b];
  const ns = grid.dims[normalAxis];
  const spacing: [number, number] = [grid.spacingMm[a], grid.spacingMm[b]];
  // Flat-index offset of each in-plane pixel p = u + v·nu, computed once for all slices.
  const offset = new Int32Array(nu * nv);
  for (let v = 0, p = 0; v < nv; v++) for (let u = 0; u < nu; u++, p++) offset[p] = u * st[a] + v * st[b];
  const labels = grid.labels;
  const index = (s: number, p: number) => s * st[normalAxis] + offset[p];
  const mask = (s: number): Uint8Array => {
    const m = new Uint8Array(nu * nv);
    const base = s * st[normalAxis];
    for (let p = 0; p < m.length; p++) m[p] = labels[base + offset[p]] === segment ? 1 : 0;
    return m;
  };
  const edited: number[] = [];
  for (let s = 0; s < ns; s++) {
    onProgress?.((0.2 * s) / ns);
    const base = s * st[normalAxis];
    for (let p = 0; p < offset.length; p++)
      if (labels[base + offset[p]] === segment) {
        edited.push(s);
        break;
      }
  }
  const rules = { value: segment, locked };
  let changed = 0;
  for (let e = 0; e + 1 < edited.length; e++) {
    const s0 = edited[e];
    const s1 = edited[e + 1];
    if (s1 - s0 < 2) continue;
    const d0 = signedDistance(mask(s0), nu, nv, spacing);
    const d1 = signedDistance(mask(s1), nu, nv, spacing);
    for (let s = s0 + 1; s < s1; s++) {
      onProgress?.(0.2 + (0.8 * s) / ns);
      const t = (s - s0) / (s1 - s0);
      for (let p = 0; p < d0.length; p++) {
        if ((1 - t) * d0[p] + t * d1[p] >= 0) continue;
        const idx = index(s, p);
        if (labels[idx] === 0 && rec.paint(idx, rules)) changed++;
      }
    }
  }
  onProgress?.(1);
  return changed;
}

/** Inside pixels: −(mm to the nearest outside pixel); outside: +(mm to the nearest inside pixel). */
function signedDistance(m: Uint8Array, nu: number, nv: number, spacing: [number, number]): Float64Array {
  const toInside = squaredDistanceMm(m, nu, nv, spacing);
  const outside = m.map((x) => 1 - x);
  const toOutside = squaredDistanceMm(outside, nu, nv, spacing);
  const d = new Float64Array(m.length);
  for (let p = 0; p < m.length; p++) d[p] = m[p] ? -Math.sqrt(toOutside[p]) : Math.sqrt(toInside[p]);
  return d;
}
