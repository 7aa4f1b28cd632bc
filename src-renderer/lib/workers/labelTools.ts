// The whole-volume label operations that run in a Web Worker (islands, smoothing, interpolation):
// the messages between the editor and the worker, and the pure function the worker runs on its
// copy of the labels, returning the change as one undo step.
import { countClasses, StrokeRecorder, type LabelChange, type Progress } from '../labels/labelGrid';
import { interpolateSlices } from '../labels/interpolateSlices';
import { removeIslands } from '../labels/removeIslands';
import { smoothSegment, type SmoothMethod } from '../labels/smoothSegment';

/** What to run; each names the active segment and the classes no tool may change. */
export type LabelToolOp =
  | { kind: 'keepLargest' }
  | { kind: 'removeSmall'; minVoxels: number }
  | { kind: 'smooth'; method: SmoothMethod }
  | { kind: 'interpolate'; normalAxis: 0 | 1 | 2 };

export interface LabelToolRequest {
  op: LabelToolOp;
  dims: [number, number, number];
  spacingMm: [number, number, number];
  /** A copy of the labels (transferred to the worker; the editor keeps its own array). */
  labels: Uint8Array;
  segment: number;
  locked: number[];
}

export interface LabelToolResult {
  /** Voxels the operation wrote (as the pure functions count them). */
  changed: number;
  /** The net change, or null when nothing changed. */
  change: LabelChange | null;
}

/** Worker → editor messages. */
export type LabelToolMessage =
  | { type: 'progress'; fraction: number }
  | { type: 'done'; result: LabelToolResult }
  | { type: 'error'; message: string };

/** Runs one operation on `req.labels` (which it changes) and returns the net change. */
export function runLabelTool(req: LabelToolRequest, onProgress?: Progress): LabelToolResult {
  const n = req.dims[0] * req.dims[1] * req.dims[2];
  if (req.labels.length !== n) {
    throw new Error(`label tool: ${req.labels.length} label voxels for a ${req.dims.join('×')} grid`);
  }
  const grid = { dims: req.dims, spacingMm: req.spacingMm, labels: req.labels };
  const rec = new StrokeRecorder(req.labels, countClasses(req.labels));
  const locked: ReadonlySet<number> = new Set(req.locked);
  const op = req.op;
  let changed: number;
  switch (op.kind) {
    case 'keepLargest':
      changed = removeIslands(grid, req.segment, { keep: 'largest' }, locked, rec, onProgress);
      break;
    case 'removeSmall':
      changed = removeIslands(grid, req.segment, { minVoxels: op.minVoxels }, locked, rec, onProgress);
      break;
    case 'smooth':
      changed = smoothSegment(grid, req.segment, op.method, locked, rec, onProgress);
      break;
    case 'interpolate':
      changed = interpolateSlices(grid, req.segment, op.normalAxis, locked, rec, onProgress);
      break;
  }
  return { changed, change: rec.finish() };
}

/** Passes fractions (clamped to 0..1) to `report` at most every `minIntervalMs`; the final 1 always. */
export function throttled(report: Progress, minIntervalMs: number, now: () => number = () => performance.now()) {
  let last = -Infinity;
  return (fraction: number): void => {
    const t = now();
    if (t - last < minIntervalMs && fraction < 1) return;
    last = t;
    report(Math.min(1, Math.max(0, fraction)));
  };
}
