// Paint-fill: writes the region of the shown slice that is 4-connected to the clicked voxel and
// holds the same label value (and, with an HU range, only voxels whose image value is in range).
import type { LabelGrid, PaintRules, StrokeRecorder, Vec3 } from './labelGrid';
import { planeAxes, strides, type Axis } from './sliceGeometry';

/**
 * Fills from the voxel nearest `seedIjk` on its slice along `normalAxis`. A seed whose label is
 * locked or already the fill value, or whose HU is out of range, fills nothing. Returns voxels changed.
 */
export function floodFill(
  grid: LabelGrid,
  rules: PaintRules,
  seedIjk: Vec3,
  normalAxis: Axis,
  rec: StrokeRecorder,
): number {
  const seed = seedIjk.map(Math.round);
  if (seed.some((x, a) => x < 0 || x >= grid.dims[a])) return 0;
  const [a, b] = planeAxes(normalAxis);
  const st = strides(grid);
  const nu = grid.dims[a];
  const nv = grid.dims[b];
  const base = seed[normalAxis] * st[normalAxis];
  const at = (u: number, v: number) => base + u * st[a] + v * st[b];
  const labels = grid.labels;
  const target = labels[at(seed[a], seed[b])];
  if (target === rules.value || rules.locked.has(target)) return 0;
  const range = rules.huRange && rules.image ? rules.huRange : null;
  const image = rules.image;
  const fits = (idx: number): boolean => {
    if (labels[idx] !== target) return false;
    if (!range || !image) return true;
    const hu = image[idx];
    return hu >= range[0] && hu <= range[1];
  };
  const seen = new Uint8Array(nu * nv);
  const stack: number[] = [seed[a] + seed[b] * nu];
  seen[stack[0]] = 1;
  if (!fits(at(seed[a], seed[b]))) return 0;
  // Collect the region first, then write: writing while growing would change what `fits` sees.
  const region: number[] = [];
  while (stack.length > 0) {
    const p = stack.pop()!;
    const u = p % nu;
    const v = (p - u) / nu;
    region.push(at(u, v));
    const next = [u > 0 ? p - 1 : -1, u + 1 < nu ? p + 1 : -1, v > 0 ? p - nu : -1, v + 1 < nv ? p + nu : -1];
    for (const q of next) {
      if (q < 0 || seen[q]) continue;
      seen[q] = 1;
      if (fits(at(q % nu, Math.floor(q / nu)))) stack.push(q);
    }
  }
  let changed = 0;
  for (const idx of region) if (rec.paint(idx, rules)) changed++;
  return changed;
}
