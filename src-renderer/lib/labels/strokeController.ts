// Turns edit-mode pointer events into label edits: brush dabs spaced along the drag on the slice
// the stroke started on, or a scissors rectangle applied on release. Times each dab for the
// benchmark (performance measures deformux.brush.dab / deformux.brush.feedback).
import type { LabelEditor } from './labelEditor.svelte';
import type { Vec3 } from './labelGrid';

export type PointerPhase = 'down' | 'move' | 'up';

/** The scissors rectangle being dragged, in canvas px of its view. */
export interface RectPreview<V extends string> {
  view: V;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface StrokeHost<V extends string> {
  /** The voxel axis a view's plane keeps fixed. */
  normalAxis(view: V): 0 | 1 | 2;
  spacingMm(): [number, number, number];
  showRect(rect: RectPreview<V> | null): void;
}

export class StrokeController<V extends string> {
  readonly #editor: LabelEditor;
  readonly #host: StrokeHost<V>;
  #strokeSlice = 0;
  #lastDab: Vec3 | null = null;
  #rectStart: { ijk: Vec3; slice: number } | null = null;
  #rect: RectPreview<V> | null = null;
  #feedbackFrom: { view: V; t0: number } | null = null;

  constructor(editor: LabelEditor, host: StrokeHost<V>) {
    this.#editor = editor;
    this.#host = host;
  }

  pointer(phase: PointerPhase, view: V, ijk: Vec3, canvas: [number, number]): void {
    const editor = this.#editor;
    if (!editor.tool) return;
    const axis = this.#host.normalAxis(view);
    if (editor.tool === 'scissors') this.#scissors(phase, view, ijk, canvas, axis);
    else this.#brush(phase, view, ijk, axis);
  }

  #scissors(phase: PointerPhase, view: V, ijk: Vec3, canvas: [number, number], axis: 0 | 1 | 2): void {
    if (phase === 'down') {
      this.#rectStart = { ijk, slice: Math.round(ijk[axis]) };
      this.#rect = { view, x0: canvas[0], y0: canvas[1], x1: canvas[0], y1: canvas[1] };
    } else if (this.#rectStart && this.#rect) {
      this.#rect = { ...this.#rect, x1: canvas[0], y1: canvas[1] };
      if (phase === 'up') {
        this.#editor.beginStroke();
        this.#editor.rectangle(this.#rectStart.ijk, ijk, axis, this.#rectStart.slice);
        this.#editor.endStroke();
        this.#rectStart = null;
        this.#rect = null;
      }
    }
    this.#host.showRect(this.#rect);
  }

  #brush(phase: PointerPhase, view: V, ijk: Vec3, axis: 0 | 1 | 2): void {
    const editor = this.#editor;
    if (phase === 'down') {
      this.#strokeSlice = Math.round(ijk[axis]);
      editor.beginStroke();
      this.#lastDab = null;
    } else if (!this.#lastDab) {
      return; // No stroke under way (it began outside the volume or before edit mode).
    }
    // The stroke stays on the slice it started on (the plane cannot move during a drag anyway).
    const at: Vec3 = [ijk[0], ijk[1], ijk[2]];
    at[axis] = this.#strokeSlice;
    // Dabs at most half a radius apart, so fast drags leave no gaps.
    const from = this.#lastDab ?? at;
    const sp = this.#host.spacingMm();
    const mm = Math.hypot((at[0] - from[0]) * sp[0], (at[1] - from[1]) * sp[1], (at[2] - from[2]) * sp[2]);
    const steps = Math.max(1, Math.ceil(mm / Math.max(0.25, editor.brushRadiusMm / 2)));
    const t0 = performance.now();
    for (let n = this.#lastDab ? 1 : 0; n <= steps; n++) {
      const t = n / steps;
      editor.dab(
        [from[0] + (at[0] - from[0]) * t, from[1] + (at[1] - from[1]) * t, from[2] + (at[2] - from[2]) * t],
        axis,
      );
    }
    performance.measure('deformux.brush.dab', { start: t0 });
    this.#feedbackFrom = { view, t0 };
    this.#lastDab = at;
    if (phase === 'up') {
      editor.endStroke();
      this.#lastDab = null;
    }
  }

  /** Call on each view's IMAGE_RENDERED: closes the dab-to-pixels measure. */
  rendered(view: V): void {
    if (this.#feedbackFrom?.view !== view) return;
    performance.measure('deformux.brush.feedback', { start: this.#feedbackFrom.t0 });
    this.#feedbackFrom = null;
  }
}
