// Island removal for one segment (3D, 6-connectivity): keep only the largest connected component,
// or remove the components smaller than a voxel count. Removed voxels become background (0).
import { connectedComponents } from './connectedComponents';
import type { LabelGrid, Progress, StrokeRecorder } from './labelGrid';
import { checkClass } from './sliceGeometry';

export type IslandMode = { keep: 'largest' } | { minVoxels: number };

/**
 * Erases the components of `segment` that the mode drops (ties for the largest keep the first in
 * index order). A locked segment is left alone. Returns voxels changed; `onProgress` hears 0..1.
 */
export function removeIslands(
  grid: LabelGrid,
  segment: number,
  mode: IslandMode,
  locked: ReadonlySet<number>,
  rec: StrokeRecorder,
  onProgress?: Progress,
): number {
  checkClass(segment, 'segment');
  if (segment === 0 || locked.has(segment)) return 0;
  if ('minVoxels' in mode && !(Number.isFinite(mode.minVoxels) && mode.minVoxels >= 0)) {
    throw new Error(`minimum island size must be a voxel count ≥ 0, got ${mode.minVoxels}`);
  }
  const { ids, sizes } = connectedComponents(grid, segment, onProgress && ((f) => onProgress(0.9 * f)));
  if (sizes.length === 0) return 0;
  const keep = new Uint8Array(sizes.length);
  if ('keep' in mode) {
    let best = 0;
    for (let c = 1; c < sizes.length; c++) if (sizes[c] > sizes[best]) best = c;
    keep[best] = 1;
  } else {
    for (let c = 0; c < sizes.length; c++) keep[c] = sizes[c] >= mode.minVoxels ? 1 : 0;
  }
  const rules = { value: 0, locked };
  let changed = 0;
  for (let idx = 0; idx < ids.length; idx++) {
    const c = ids[idx];
    if (c >= 0 && !keep[c] && rec.paint(idx, rules)) changed++;
  }
  onProgress?.(1);
  return changed;
}
