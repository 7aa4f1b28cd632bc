// The browser's label-tool worker (Vite bundles labelTools.worker.ts from this exact
// `new Worker(new URL(...))` form); kept apart so the runner needs no DOM types.
import type { ToolWorker, ToolWorkerFactory } from './labelToolRunner';

export const browserToolWorker: ToolWorkerFactory = () =>
  new Worker(new URL('./labelTools.worker.ts', import.meta.url), { type: 'module' }) as unknown as ToolWorker;
