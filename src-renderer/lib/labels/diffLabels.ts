// Whole-map replacement as one undoable change (restoring an earlier version, clearing).
import type { LabelChange } from './labelGrid';

/** The change that turns `current` into `next` (same length), or null when they are equal. */
export function diffLabels(current: Uint8Array, next: Uint8Array): LabelChange | null {
  if (current.length !== next.length) {
    throw new Error(`label maps differ in size: ${current.length} and ${next.length} voxels`);
  }
  const idx: number[] = [];
  for (let n = 0; n < current.length; n++) if (current[n] !== next[n]) idx.push(n);
  if (idx.length === 0) return null;
  const indices = Int32Array.from(idx);
  const before = new Uint8Array(indices.length);
  const after = new Uint8Array(indices.length);
  for (let n = 0; n < indices.length; n++) {
    before[n] = current[indices[n]];
    after[n] = next[indices[n]];
  }
  return { indices, before, after };
}
