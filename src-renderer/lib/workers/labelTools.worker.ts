// Web Worker entry of the whole-volume label operations: runs one request on the transferred copy
// of the labels, posting progress, then the change (its arrays transferred back).
import { runLabelTool, throttled, type LabelToolMessage, type LabelToolRequest } from './labelTools';

// The renderer's tsconfig has the DOM library, not WebWorker: name only what this file uses.
const scope = self as unknown as {
  onmessage: ((e: MessageEvent<LabelToolRequest>) => void) | null;
  postMessage(message: LabelToolMessage, transfer?: Transferable[]): void;
};

scope.onmessage = (e) => {
  try {
    const progress = throttled((fraction) => scope.postMessage({ type: 'progress', fraction }), 50);
    const result = runLabelTool(e.data, progress);
    const c = result.change;
    scope.postMessage({ type: 'done', result }, c ? [c.indices.buffer, c.before.buffer, c.after.buffer] : []);
  } catch (err) {
    scope.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};
