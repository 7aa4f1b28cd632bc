// Smoothing of one segment with a 3×3×3 neighbourhood (radius 1): binary opening (removes specks
// and thin spurs), closing (fills pinholes and cracks) or majority (median) filter. Voxels outside
// the volume are ignored, so a segment touching the border is not eaten from that side. Voxels the
// smoothing adds are taken only from background; removed voxels become background.
import type { LabelGrid, Progress, StrokeRecorder } from './labelGrid';
import { checkClass } from './sliceGeometry';

export type SmoothMethod = 'open' | 'close' | 'median';

/**
 * Smooths `segment` in place through the recorder; a locked segment is left alone. Returns voxels
 * changed; `onProgress` hears fractions 0..1 (one step per 1D filter pass).
 */
export function smoothSegment(
  grid: LabelGrid,
  segment: number,
  method: SmoothMethod,
  locked: ReadonlySet<number>,
  rec: StrokeRecorder,
  onProgress?: Progress,
): number {
  checkClass(segment, 'segment');
  if (segment === 0 || locked.has(segment)) return 0;
  const labels = grid.labels;
  const mask = new Uint8Array(labels.length);
  for (let n = 0; n < labels.length; n++) mask[n] = labels[n] === segment ? 1 : 0;
  // Opening and closing are two filters of three passes each; the majority filter is one.
  const filters = method === 'median' ? 1 : 2;
  const stage = (n: number) => onProgress && ((f: number) => onProgress((0.95 * (n + f)) / filters));
  let out: Uint8Array;
  if (method === 'open') out = boxFilter(grid.dims, boxFilter(grid.dims, mask, 'min', stage(0)), 'max', stage(1));
  else if (method === 'close') out = boxFilter(grid.dims, boxFilter(grid.dims, mask, 'max', stage(0)), 'min', stage(1));
  else out = boxFilter(grid.dims, mask, 'majority', stage(0));
  let changed = 0;
  const add = { value: segment, locked };
  const remove = { value: 0, locked };
  for (let n = 0; n < labels.length; n++) {
    if (out[n] === mask[n]) continue;
    if (out[n] === 1 ? labels[n] === 0 && rec.paint(n, add) : rec.paint(n, remove)) changed++;
  }
  onProgress?.(1);
  return changed;
}

/**
 * Min, max or majority of a 0/1 mask over each voxel's in-volume 3×3×3 neighbourhood, by three
 * separable 1D passes (sums for the majority: more than half of the in-volume neighbours).
 */
function boxFilter(
  dims: [number, number, number],
  src: Uint8Array,
  op: 'min' | 'max' | 'majority',
  onProgress?: Progress,
): Uint8Array {
  const [ni, nj, nk] = dims;
  const stride = [1, ni, ni * nj];
  // One element type per filter keeps the inner loop monomorphic (sums need 16 bits).
  let cur: Uint8Array | Uint16Array = op === 'majority' ? Uint16Array.from(src) : src;
  for (let axis = 0; axis < 3; axis++) {
    const n = dims[axis];
    const st = stride[axis];
    // Lines along `axis` start at every voxel whose coordinate on that axis is 0.
    const starts: number[] = [];
    for (let k = 0; k < (axis === 2 ? 1 : nk); k++)
      for (let j = 0; j < (axis === 1 ? 1 : nj); j++)
        for (let i = 0; i < (axis === 0 ? 1 : ni); i++) starts.push((k * nj + j) * ni + i);
    const next: Uint8Array | Uint16Array = op === 'majority' ? new Uint16Array(src.length) : new Uint8Array(src.length);
    for (let line = 0; line < starts.length; line++) {
      // Every 1024 lines: a few hundred reports per pass on a CT-sized volume.
      if (onProgress && (line & 1023) === 0) onProgress((axis + line / starts.length) / 3);
      const s0 = starts[line];
      // Out-of-volume neighbours are ignored: the ends compare with one neighbour only.
      for (let pos = 0, idx = s0; pos < n; pos++, idx += st) {
        const c = cur[idx];
        const lo = pos > 0 ? cur[idx - st] : c;
        const hi = pos + 1 < n ? cur[idx + st] : c;
        if (op === 'majority') next[idx] = c + (pos > 0 ? lo : 0) + (pos + 1 < n ? hi : 0);
        else if (op === 'min') next[idx] = c < lo ? (c < hi ? c : hi) : lo < hi ? lo : hi;
        else next[idx] = c > lo ? (c > hi ? c : hi) : lo > hi ? lo : hi;
      }
    }
    cur = next;
  }
  if (op !== 'majority') return cur as Uint8Array;
  const out = new Uint8Array(src.length);
  for (let k = 0, idx = 0; k < nk; k++) {
    const ck = (k > 0 ? 1 : 0) + 1 + (k + 1 < nk ? 1 : 0);
    for (let j = 0; j < nj; j++) {
      const cj = (j > 0 ? 1 : 0) + 1 + (j + 1 < nj ? 1 : 0);
      for (let i = 0; i < ni; i++, idx++) {
        const ci = (i > 0 ? 1 : 0) + 1 + (i + 1 < ni ? 1 : 0);
        out[idx] = 2 * cur[idx] > ci * cj * ck ? 1 : 0;
      }
    }
  }
  return out;
}
