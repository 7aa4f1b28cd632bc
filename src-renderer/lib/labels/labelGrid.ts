// Shared types of the label editing operations: the voxel grid, paint rules and the stroke recorder
// that collects every changed voxel once (its value before the stroke) for undo and overlay sync.

export type Vec3 = [number, number, number];

/**
 * Progress of a long whole-volume operation, as a fraction 0..1 (optional argument of the
 * operations that loop over the volume; the label-tool worker forwards it to the UI).
 */
export type Progress = (fraction: number) => void;

/** The label voxels of a case: uint8 class values, i fastest (the source of truth for saving). */
export interface LabelGrid {
  dims: [number, number, number];
  spacingMm: [number, number, number];
  labels: Uint8Array;
}

/** What a tool may write: the value, protected classes, and an optional HU window on the image. */
export interface PaintRules {
  value: number;
  /** Classes whose voxels no tool may change. */
  locked: ReadonlySet<number>;
  /** Threshold brush: only voxels whose image value lies in [low, high] (inclusive). */
  huRange?: [number, number];
  image?: ArrayLike<number>;
}

/** One undo step: the voxels a stroke changed, with their values before and after. */
export interface LabelChange {
  indices: Int32Array;
  before: Uint8Array;
  after: Uint8Array;
}

/** Applies writes to a grid during one stroke, remembering each voxel's first value. */
export class StrokeRecorder {
  readonly #labels: Uint8Array;
  readonly #before = new Map<number, number>();
  /** Voxels changed since the last takeDirty(): the overlay copies only these. */
  #dirty: number[] = [];
  /** Voxel counts per class, kept in step with every write. */
  readonly counts: number[];

  constructor(labels: Uint8Array, counts: number[]) {
    this.#labels = labels;
    this.counts = counts;
  }

  /** Writes one voxel if the rules allow it; returns whether it changed. */
  paint(index: number, rules: PaintRules): boolean {
    const current = this.#labels[index];
    if (current === rules.value || rules.locked.has(current)) return false;
    if (rules.huRange && rules.image) {
      const hu = rules.image[index];
      if (!(hu >= rules.huRange[0] && hu <= rules.huRange[1])) return false;
    }
    if (!this.#before.has(index)) this.#before.set(index, current);
    this.#labels[index] = rules.value;
    this.counts[current]--;
    this.counts[rules.value] = (this.counts[rules.value] ?? 0) + 1;
    this.#dirty.push(index);
    return true;
  }

  takeDirty(): number[] {
    const d = this.#dirty;
    this.#dirty = [];
    return d;
  }

  /** The stroke's net change (voxels back at their first value drop out), or null if none. */
  finish(): LabelChange | null {
    const idx: number[] = [];
    for (const [i, b] of this.#before) if (this.#labels[i] !== b) idx.push(i);
    if (idx.length === 0) return null;
    const indices = Int32Array.from(idx);
    const before = new Uint8Array(indices.length);
    const after = new Uint8Array(indices.length);
    for (let n = 0; n < indices.length; n++) {
      before[n] = this.#before.get(indices[n])!;
      after[n] = this.#labels[indices[n]];
    }
    return { indices, before, after };
  }
}

/** Voxel count per class value 0..255. */
export function countClasses(labels: Uint8Array): number[] {
  const counts = new Array<number>(256).fill(0);
  for (let n = 0; n < labels.length; n++) counts[labels[n]]++;
  return counts;
}

/** A copy of `set` with `value` added or removed (sets in the editor's state are replaced, never mutated). */
export function toggled(set: ReadonlySet<number>, value: number): ReadonlySet<number> {
  const next = new Set(set);
  if (next.has(value)) next.delete(value);
  else next.add(value);
  return next;
}

export const NO_CLASSES: ReadonlySet<number> = new Set();
