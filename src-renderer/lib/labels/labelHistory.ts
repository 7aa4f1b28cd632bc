// Undo/redo of label edits: a bounded stack of per-stroke voxel diffs (not snapshots), so 100
// steps of brush work cost kilobytes, not volumes.
import type { LabelChange } from './labelGrid';

export const HISTORY_STEPS = 100;

export class LabelHistory {
  readonly #done: LabelChange[] = [];
  readonly #undone: LabelChange[] = [];

  get canUndo(): boolean {
    return this.#done.length > 0;
  }
  get canRedo(): boolean {
    return this.#undone.length > 0;
  }

  push(change: LabelChange): void {
    this.#done.push(change);
    if (this.#done.length > HISTORY_STEPS) this.#done.shift();
    this.#undone.length = 0;
  }

  /** Puts the last change's voxels back; returns it (for overlay sync and counts), or null. */
  undo(labels: Uint8Array, counts: number[]): LabelChange | null {
    const c = this.#done.pop();
    if (!c) return null;
    apply(labels, counts, c.indices, c.before);
    this.#undone.push(c);
    return c;
  }

  redo(labels: Uint8Array, counts: number[]): LabelChange | null {
    const c = this.#undone.pop();
    if (!c) return null;
    apply(labels, counts, c.indices, c.after);
    this.#done.push(c);
    return c;
  }

  clear(): void {
    this.#done.length = 0;
    this.#undone.length = 0;
  }
}

function apply(labels: Uint8Array, counts: number[], indices: Int32Array, values: Uint8Array): void {
  for (let n = 0; n < indices.length; n++) {
    const i = indices[n];
    counts[labels[i]]--;
    labels[i] = values[n];
    counts[values[n]]++;
  }
}
