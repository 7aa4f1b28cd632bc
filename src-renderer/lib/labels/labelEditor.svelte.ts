// The label editor's state and its one edit path: every tool stroke, undo, redo, restore and
// worker result goes through #changed (each pushes its undo step first), which syncs the overlay and
// fires onEdited. Whole-volume actions run in a Web Worker on a copy; editing waits while one runs.
import type { LabelClass } from '../../../src-main/api/contract';
import { clearSegment } from './clearSegment';
import { diffLabels } from './diffLabels';
import { fillCircle } from './fillCircle';
import { fillPolygon } from './fillPolygon';
import { fillRectangle } from './fillRectangle';
import { floodFill } from './floodFill';
import {
  countClasses,
  NO_CLASSES,
  StrokeRecorder,
  toggled,
  type LabelChange,
  type LabelGrid,
  type PaintRules,
  type Vec3,
} from './labelGrid';
import { LabelHistory } from './labelHistory';
import type { LabelmapOverlay } from './labelmapOverlay';
import { paintBrush } from './paintBrush';
import { relabelSegment } from './relabelSegment';
import type { SmoothMethod } from './smoothSegment';
import type { LabelToolOp } from '../workers/labelTools';
import { startLabelTool, type LabelToolJob, type ToolWorkerFactory } from '../workers/labelToolRunner';
import { browserToolWorker } from '../workers/browserToolWorker';

import type { EditTool, SegmentAction } from './editTools';

export type { EditTool, SegmentAction };
/** Tools that paint dabs along a drag (the others act on release or click). */
export const BRUSH_TOOLS: readonly EditTool[] = ['brush', 'eraser', 'threshold'];
export const BRUSH_RADIUS_MM = { min: 0.5, max: 50 } as const;
export type FillHuMode = 'seed' | 'range' | 'off';
/** Default HU window of paint-fill around the clicked voxel: keeps a fill inside one tissue. */
export const FILL_TOLERANCE_HU = 100;

/** A whole-volume action running in the worker, and how far it is (0..1). */
export interface ToolRun {
  action: SegmentAction;
  fraction: number;
}

/** Why the labels changed, for listeners (autosave counts strokes, restores are edits too). */
export type EditEvent = { kind: 'stroke' | 'undo' | 'redo' | 'restore'; voxels: number; indices: Int32Array };

export class LabelEditor {
  tool = $state<EditTool | null>(null);
  brushRadiusMm = $state(4);
  /** 3D ball instead of a disc on the shown plane. */
  sphere = $state(false);
  huLow = $state(-100);
  huHigh = $state(300);
  /** Scissors (rectangle, circle, lasso) erase instead of fill. */
  scissorsErase = $state(false);
  /** Circle and lasso scissors cut through every slice along the view axis. */
  scissors3d = $state(false);
  /**
   * What bounds paint-fill besides the clicked label: 'seed' (default) voxels within
   * ±fillToleranceHu of the clicked voxel's HU, 'range' the threshold brush's HU range, 'off' nothing.
   */
  fillHuMode = $state<FillHuMode>('seed');
  fillToleranceHu = $state(FILL_TOLERANCE_HU);
  /** "Remove small islands": components under this many voxels go. */
  islandMinVoxels = $state(100);
  smoothMethod = $state<SmoothMethod>('median');
  relabelFrom = $state(3);
  relabelTo = $state(2);
  /** What the last segment action did (or why it did nothing), for the panel. */
  actionMessage = $state('');
  activeSegment = $state(1);
  locked = $state.raw<ReadonlySet<number>>(NO_CLASSES);
  hidden = $state.raw<ReadonlySet<number>>(NO_CLASSES);
  outline = $state(true);
  fillAlpha = $state(0.45);
  /** Voxels per class value (index = class). */
  counts = $state.raw<number[]>([]);
  canUndo = $state(false);
  canRedo = $state(false);
  /** Bumped on every change of the labels: autosave compares it with the last saved one. */
  editSeq = $state(0);
  /**
   * Bumped whenever the label array's content may have changed, edits or not (a case attached or detached, a
   * finished pre-label replacing the map): views that copy the labels (the 3D view) follow it.
   */
  labelsRevision = $state(0);
  classes = $state.raw<LabelClass[]>([]);
  /** A case's labels are loaded and editable. */
  attached = $state(false);
  /** The whole-volume action running in the worker (strokes, undo and other actions wait), or null. */
  toolRun = $state.raw<ToolRun | null>(null);

  onEdited: ((e: EditEvent) => void) | null = null;
  #grid: LabelGrid | null = null;
  #image: ArrayLike<number> | null = null;
  #overlay: LabelmapOverlay | null = null;
  #history = new LabelHistory();
  #counts: number[] = [];
  #stroke: StrokeRecorder | null = null;
  #job: LabelToolJob | null = null;
  readonly #workers: ToolWorkerFactory;

  constructor(workers: ToolWorkerFactory = browserToolWorker) {
    this.#workers = workers;
  }

  /** The live label array (read-only use: save copies it). */
  get labels(): Uint8Array | null {
    return this.#grid?.labels ?? null;
  }

  attach(grid: LabelGrid, image: ArrayLike<number>, overlay: LabelmapOverlay, classes: LabelClass[]): void {
    this.detach();
    this.#grid = grid;
    this.#image = image;
    this.#overlay = overlay;
    this.classes = classes;
    if (!classes.some((c) => c.value === this.activeSegment)) this.activeSegment = classes[0]?.value ?? 1;
    this.#counts = countClasses(grid.labels);
    this.#history.clear();
    this.attached = true;
    this.#publish();
    this.applyStyle();
  }

  detach(): void {
    this.cancelTool();
    this.#stroke = null;
    this.#overlay?.destroy();
    this.#overlay = null;
    this.#grid = null;
    this.#image = null;
    this.attached = false;
    this.#history.clear();
    this.#counts = [];
    this.#publish();
  }

  applyStyle(): void {
    this.#overlay?.setStyle({ fillAlpha: this.fillAlpha, outline: this.outline, hidden: this.hidden }, this.classes);
  }

  toggleSet(which: 'locked' | 'hidden', value: number): void {
    this[which] = toggled(this[which], value);
    if (which === 'hidden') this.applyStyle();
  }

  setBrushRadius(mm: number): void {
    this.brushRadiusMm = Math.round(Math.min(BRUSH_RADIUS_MM.max, Math.max(BRUSH_RADIUS_MM.min, mm)) * 100) / 100;
  }

  #rules(): PaintRules {
    const tool = this.tool;
    const scissors = tool === 'scissors' || tool === 'circle' || tool === 'lasso';
    const erase = tool === 'eraser' || (scissors && this.scissorsErase);
    const rules: PaintRules = { value: erase ? 0 : this.activeSegment, locked: this.locked };
    if ((tool === 'threshold' || (tool === 'fill' && this.fillHuMode === 'range')) && this.#image) {
      rules.huRange = [Math.min(this.huLow, this.huHigh), Math.max(this.huLow, this.huHigh)];
      rules.image = this.#image;
    }
    return rules;
  }

  beginStroke(): void {
    if (!this.#grid || this.#job) return;
    this.#stroke = new StrokeRecorder(this.#grid.labels, this.#counts);
  }

  /** One brush dab at continuous voxel coordinates; `normalAxis` is the shown plane's axis. */
  dab(centerIjk: Vec3, normalAxis: 0 | 1 | 2): void {
    const g = this.#grid;
    const rec = this.#stroke;
    if (!g || !rec || this.tool === null || !BRUSH_TOOLS.includes(this.tool)) return;
    const shape = this.sphere ? ({ kind: 'sphere' } as const) : ({ kind: 'circle', normalAxis } as const);
    paintBrush(g, this.#rules(), centerIjk, this.brushRadiusMm, shape, rec);
    this.#overlay?.sync(g.labels, rec.takeDirty());
  }

  /** Scissors: the rectangle between two corners on slice `sliceIndex` of the shown plane. */
  rectangle(a: Vec3, b: Vec3, normalAxis: 0 | 1 | 2, sliceIndex: number): void {
    const g = this.#grid;
    const rec = this.#stroke;
    if (!g || !rec) return;
    fillRectangle(g, this.#rules(), a, b, normalAxis, sliceIndex, rec);
    this.#overlay?.sync(g.labels, rec.takeDirty());
  }

  /** Circle scissors: the in-plane circle on slice `sliceIndex`, or through the volume when 3D. */
  circle(centerIjk: Vec3, radiusMm: number, normalAxis: 0 | 1 | 2, sliceIndex: number): void {
    this.#oneStep((g, rec) =>
      fillCircle(g, this.#rules(), centerIjk, radiusMm, normalAxis, sliceIndex, this.scissors3d, rec),
    );
  }

  /** Lasso scissors: the closed freehand polygon (voxel coordinates) on the slice, or in 3D. */
  lasso(points: Vec3[], normalAxis: 0 | 1 | 2, sliceIndex: number): void {
    this.#oneStep((g, rec) => fillPolygon(g, this.#rules(), points, normalAxis, sliceIndex, this.scissors3d, rec));
  }

  /** Paint-fill of the region under `seedIjk` on the shown slice (see fillHuMode for its bounds). */
  fill(seedIjk: Vec3, normalAxis: 0 | 1 | 2): void {
    this.#oneStep((g, rec) => {
      const rules = this.#rules();
      const seed = seedIjk.map(Math.round);
      const inside = seed.every((x, a) => x >= 0 && x < g.dims[a]);
      if (this.fillHuMode === 'seed' && this.#image && inside) {
        const hu = this.#image[seed[0] + g.dims[0] * (seed[1] + g.dims[1] * seed[2])];
        const tol = Math.max(0, this.fillToleranceHu);
        rules.huRange = [hu - tol, hu + tol];
        rules.image = this.#image;
      }
      return floodFill(g, rules, seedIjk, normalAxis, rec);
    });
  }

  /**
   * Runs a whole-segment operation on the active segment as one undo step; `normalAxis` is the shown
   * view's. Islands, smoothing and interpolation run in a worker (resolves when applied or cancelled).
   */
  async segmentAction(action: SegmentAction, normalAxis: 0 | 1 | 2): Promise<void> {
    const seg = this.activeSegment;
    const locked = this.locked;
    if (!this.#grid || this.#stroke || this.#job) return;
    if (action !== 'relabel' && locked.has(seg)) {
      this.actionMessage = `${this.#className(seg)} is locked`;
      return;
    }
    const op = this.#workerOp(action, normalAxis);
    if (op) return this.#runInWorker(action, op);
    try {
      const n = this.#oneStep((g, rec) =>
        action === 'clear'
          ? clearSegment(g, seg, locked, rec)
          : relabelSegment(g, this.relabelFrom, this.relabelTo, locked, rec),
      );
      const what =
        action === 'relabel'
          ? `${this.#className(this.relabelFrom)} → ${this.#className(this.relabelTo)}`
          : this.#className(seg);
      this.actionMessage = `${ACTION_NAMES[action]} (${what}): ${n} voxels changed`;
    } catch (e) {
      this.actionMessage = e instanceof Error ? e.message : String(e);
    }
  }

  /** Stops the running worker action; the labels stay as they were. */
  cancelTool(): void {
    this.#job?.cancel();
  }

  #className(v: number): string {
    return this.classes.find((c) => c.value === v)?.name ?? `class ${v}`;
  }

  #workerOp(action: SegmentAction, normalAxis: 0 | 1 | 2): LabelToolOp | null {
    switch (action) {
      case 'keepLargest':
        return { kind: 'keepLargest' };
      case 'removeSmall':
        return { kind: 'removeSmall', minVoxels: this.islandMinVoxels };
      case 'smooth':
        return { kind: 'smooth', method: this.smoothMethod };
      case 'interpolate':
        return { kind: 'interpolate', normalAxis };
      default:
        return null;
    }
  }

  async #runInWorker(action: SegmentAction, op: LabelToolOp): Promise<void> {
    const g = this.#grid;
    if (!g) return;
    const seg = this.activeSegment;
    const title = `${ACTION_NAMES[action]} (${this.#className(seg)})`;
    const t0 = performance.now();
    let job: LabelToolJob;
    try {
      const req = {
        op,
        dims: g.dims,
        spacingMm: g.spacingMm,
        labels: g.labels.slice(),
        segment: seg,
        locked: [...this.locked],
      };
      job = startLabelTool(
        req,
        (fraction) => {
          if (this.#job === job) this.toolRun = { action, fraction };
        },
        this.#workers,
      );
      performance.measure('deformux.labels.toolCopy', { start: t0 });
    } catch (e) {
      this.actionMessage = `${title}: ${e instanceof Error ? e.message : String(e)}`;
      return;
    }
    this.#job = job;
    this.toolRun = { action, fraction: 0 };
    this.actionMessage = `${title}…`;
    try {
      const res = await job.done;
      if (this.#job !== job || this.#grid !== g) return; // The case was closed meanwhile.
      if (res === null) {
        this.actionMessage = `${title}: cancelled, labels unchanged`;
        return;
      }
      const t1 = performance.now();
      if (res.change) this.#apply(g, res.change);
      // Diagnostics read by tests/browser/labels-worker-bench.ts: whole run, and the main thread's part.
      performance.measure('deformux.labels.tool', { start: t0 });
      performance.measure('deformux.labels.toolApply', { start: t1 });
      this.actionMessage = `${title}: ${res.changed} voxels changed`;
    } catch (e) {
      if (this.#job === job) this.actionMessage = `${title}: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      if (this.#job === job) {
        this.#job = null;
        this.toolRun = null;
      }
    }
  }

  /** Applies a worker's change as one undo step (it was computed on a copy of these very labels). */
  #apply(g: LabelGrid, change: LabelChange): void {
    const { indices, before, after } = change;
    for (let n = 0; n < indices.length; n++) {
      if (g.labels[indices[n]] !== before[n]) throw new Error('the labels changed while the tool ran; nothing applied');
    }
    for (let n = 0; n < indices.length; n++) {
      const i = indices[n];
      this.#counts[before[n]]--;
      this.#counts[after[n]]++;
      g.labels[i] = after[n];
    }
    this.#history.push(change);
    this.#changed('stroke', change, true);
  }

  /** One operation as one undo step, through the stroke recorder (locks, counts, overlay). */
  #oneStep(op: (g: LabelGrid, rec: StrokeRecorder) => number): number {
    const g = this.#grid;
    if (!g || this.#stroke) return 0;
    this.beginStroke();
    const rec = this.#stroke as StrokeRecorder | null;
    if (!rec) return 0;
    try {
      return op(g, rec);
    } finally {
      // Whatever was written before a throw is still one undo step.
      this.#overlay?.sync(g.labels, rec.takeDirty());
      this.endStroke();
    }
  }

  endStroke(): void {
    const rec = this.#stroke;
    this.#stroke = null;
    const change = rec?.finish();
    if (!change) return;
    this.#history.push(change);
    this.#changed('stroke', change);
  }

  undo(): void {
    if (!this.#grid || this.#stroke || this.#job) return;
    const c = this.#history.undo(this.#grid.labels, this.#counts);
    if (c) this.#changed('undo', c, true);
  }

  redo(): void {
    if (!this.#grid || this.#stroke || this.#job) return;
    const c = this.#history.redo(this.#grid.labels, this.#counts);
    if (c) this.#changed('redo', c, true);
  }

  /** Replaces the whole map (an earlier version) as one undoable step; a running worker action is cancelled. */
  restore(next: Uint8Array): void {
    this.cancelTool();
    const g = this.#grid;
    if (!g || this.#stroke) return;
    const change = diffLabels(g.labels, next);
    if (!change) return;
    g.labels.set(next);
    this.#counts = countClasses(g.labels);
    this.#history.push(change);
    this.#changed('restore', change, true);
  }

  /**
   * Replaces the whole map with a saved version that now becomes the starting point (a finished
   * pre-label): not an edit, so no undo step and no autosave; earlier undo steps no longer apply.
   */
  replaceAll(next: Uint8Array): void {
    this.cancelTool();
    const g = this.#grid;
    if (!g || next.length !== g.labels.length) return;
    this.#stroke = null;
    g.labels.set(next);
    this.#counts = countClasses(g.labels);
    this.#history.clear();
    this.#overlay?.syncAll(g.labels);
    this.#publish();
  }

  #changed(kind: EditEvent['kind'], change: LabelChange, syncOverlay = false): void {
    if (syncOverlay && this.#grid) this.#overlay?.sync(this.#grid.labels, change.indices);
    this.editSeq++;
    this.#publish();
    this.onEdited?.({ kind, voxels: change.indices.length, indices: change.indices });
  }

  #publish(): void {
    this.labelsRevision++;
    this.counts = this.#counts.slice(0, 16);
    this.canUndo = this.#history.canUndo;
    this.canRedo = this.#history.canRedo;
  }

  /** Test hook: Cornerstone's copy counted per class. */
  overlayCounts(): number[] {
    return this.#overlay?.counts().slice(0, 16) ?? [];
  }
}

export const ACTION_NAMES: Record<SegmentAction, string> = {
  keepLargest: 'Keep largest island',
  removeSmall: 'Remove small islands',
  interpolate: 'Interpolate slices',
  smooth: 'Smooth',
  clear: 'Clear segment',
  relabel: 'Relabel',
};
