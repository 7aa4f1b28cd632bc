// Starts one whole-volume label operation in its own Web Worker, forwards its progress, and
// cancels by terminating the worker (the editor's labels are never touched by the worker).
import type { Progress } from '../labels/labelGrid';
import type { LabelToolMessage, LabelToolRequest, LabelToolResult } from './labelTools';

/** The part of a Web Worker the runner uses (no DOM types: the unit tests pass a stand-in). */
export interface ToolWorker {
  onmessage: ((e: { data: LabelToolMessage }) => void) | null;
  onerror: ((e: { message?: string }) => void) | null;
  postMessage(message: LabelToolRequest, transfer: ArrayBuffer[]): void;
  terminate(): void;
}

export type ToolWorkerFactory = () => ToolWorker;

export interface LabelToolJob {
  /** The result, or null once cancelled; rejects with the worker's error. */
  readonly done: Promise<LabelToolResult | null>;
  cancel(): void;
}

/** Sends `req` (its labels buffer is transferred, so pass a copy) to a fresh worker. */
export function startLabelTool(req: LabelToolRequest, onProgress: Progress, factory: ToolWorkerFactory): LabelToolJob {
  const worker = factory();
  let settle: ((r: LabelToolResult | null) => void) | null = null;
  let fail: ((e: Error) => void) | null = null;
  const done = new Promise<LabelToolResult | null>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  let finished = false;
  const finish = (): void => {
    finished = true;
    worker.onmessage = null;
    worker.onerror = null;
    worker.terminate();
  };
  worker.onmessage = (e) => {
    if (finished) return;
    const m = e.data;
    if (m.type === 'progress') onProgress(m.fraction);
    else if (m.type === 'done') {
      finish();
      settle?.(m.result);
    } else {
      finish();
      fail?.(new Error(m.message));
    }
  };
  worker.onerror = (e) => {
    if (finished) return;
    finish();
    fail?.(new Error(`the label tool worker failed: ${e.message || 'could not start'}`));
  };
  worker.postMessage(req, [req.labels.buffer as ArrayBuffer]);
  return {
    done,
    cancel(): void {
      if (finished) return;
      finish();
      settle?.(null);
    },
  };
}
