// Segment-level action: relabel every voxel of one class into another (e.g. cyst → tumor).
import type { LabelGrid, StrokeRecorder } from './labelGrid';
import { checkClass } from './sliceGeometry';

/**
 * Writes `to` into every voxel of class `from`. A locked `from` is left alone; relabelling into a
 * locked class is refused, since that would grow a segment the annotator protected.
 * Returns voxels changed.
 */
export function relabelSegment(
  grid: LabelGrid,
  from: number,
  to: number,
  locked: ReadonlySet<number>,
  rec: StrokeRecorder,
): number {
  checkClass(from, 'class to relabel');
  checkClass(to, 'new class');
  if (from === to || locked.has(to)) return 0;
  const rules = { value: to, locked };
  const labels = grid.labels;
  let changed = 0;
  for (let idx = 0; idx < labels.length; idx++) if (labels[idx] === from && rec.paint(idx, rules)) changed++;
  return changed;
}
