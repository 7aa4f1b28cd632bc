// Turns edit-mode pointer events into label edits: brush dabs spaced along the drag on the slice
// the stroke started on, a scissors rectangle / circle / lasso applied on release, or a paint-fill click. Times each dab for the
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

/** The circle or lasso scissors shape being dragged, in canvas px of its view. */
export type ShapePreview<V extends string> =
  | { view: V; kind: 'circle'; cx: number; cy: number; r: number }
  | { view: V; kind: 'lasso'; points: [number, number][] };

export interface StrokeHost<V extends string> {
  /** The voxel axis a view's plane keeps fixed. */
  normalAxis(view: V): 0 | 1 | 2;
  spacingMm(): [number, number, number];
  showRect(rect: RectPreview<V> | null): void;
  showShape(shape: ShapePreview<V> | null): void;
}

export class StrokeController<V extends string> {
  readonly #editor: LabelEditor;
  readonly #host: StrokeHost<V>;
  #strokeSlice = 0;
  #lastDab: Vec3 | null = null;
  #rectStart: { ijk: Vec3; slice: number } | null = null;
  #rect: RectPreview<V> | null = null;
  #feedbackFrom: { view: V; t0: number } | null = null;
  /** Circle centre or lasso points (voxel coordinates) of the shape being dragged, and its slice. */
  #shape: { view: V; slice: number; ijk: Vec3[]; canvas: [number, number][] } | null = null;

  constructor(editor: LabelEditor, host: StrokeHost<V>) {
    this.#editor = editor;
    this.#host = host;
  }

  pointer(phase: PointerPhase, view: V, ijk: Vec3, canvas: [number, number]): void {
    const editor = this.#editor;
    if (!editor.tool) return;
    const axis = this.#host.normalAxis(view);
    if (editor.tool === 'scissors') this.#scissors(phase, view, ijk, canvas, axis);
    else if (editor.tool === 'circle' || editor.tool === 'lasso') this.#cut(phase, view, ijk, canvas, axis);
    else if (editor.tool === 'fill') {
      if (phase === 'down') editor.fill(ijk, axis);
    } else this.#brush(phase, view, ijk, axis);
  }

  /** Circle (centre then rim) and lasso (every pointer position) scissors, applied on release. */
  #cut(phase: PointerPhase, view: V, ijk: Vec3, canvas: [number, number], axis: 0 | 1 | 2): void {
    const circle = this.#editor.tool === 'circle';
    if (phase === 'down') {
      this.#shape = { view, slice: Math.round(ijk[axis]), ijk: [ijk], canvas: [canvas] };
    } else if (this.#shape) {
      if (circle) {
        this.#shape.ijk[1] = ijk;
        this.#shape.canvas[1] = canvas;
      } else {
        this.#shape.ijk.push(ijk);
        this.#shape.canvas.push(canvas);
      }
    }
    const s = this.#shape;
    if (!s) return;
    const sp = this.#host.spacingMm();
    const radiusMm = (a: Vec3, b: Vec3) =>
      Math.hypot(...[0, 1, 2].map((x) => (x === axis ? 0 : (b[x] - a[x]) * sp[x])));
    if (phase === 'up') {
      if (circle && s.ijk.length > 1) this.#editor.circle(s.ijk[0], radiusMm(s.ijk[0], s.ijk[1]), axis, s.slice);
      else if (!circle) this.#editor.lasso(s.ijk, axis, s.slice);
      this.#shape = null;
      this.#host.showShape(null);
      return;
    }
    if (circle) {
      const [c0, c1] = [s.canvas[0], s.canvas[1] ?? s.canvas[0]];
      this.#host.showShape({
        view: s.view,
        kind: 'circle',
        cx: c0[0],
        cy: c0[1],
        r: Math.hypot(c1[0] - c0[0], c1[1] - c0[1]),
      });
    } else this.#host.showShape({ view: s.view, kind: 'lasso', points: [...s.canvas] });
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
