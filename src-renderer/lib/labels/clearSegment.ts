// Segment-level action: erase every voxel of one segment (a locked segment is left alone).
import type { LabelGrid, StrokeRecorder } from './labelGrid';
import { checkClass } from './sliceGeometry';

/** Sets every voxel of `segment` to background; returns voxels changed. */
export function clearSegment(
  grid: LabelGrid,
  segment: number,
  locked: ReadonlySet<number>,
  rec: StrokeRecorder,
): number {
  checkClass(segment, 'segment');
  const rules = { value: 0, locked };
  const labels = grid.labels;
  let changed = 0;
  for (let idx = 0; idx < labels.length; idx++) if (labels[idx] === segment && rec.paint(idx, rules)) changed++;
  return changed;
}
