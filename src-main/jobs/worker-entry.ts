// Starts the engine worker thread: the .ts source through tsx (dev, tests, web shell), or the bundled .js beside Electron's main.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

export function startPredictWorker(): Worker {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    // Node 20 does not apply `--import tsx` to a worker's entry file, so the worker registers tsx's
    // loader itself before importing the TypeScript entry.
    const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
    const api = pathToFileURL(join(tsxDir, 'dist', 'esm', 'api', 'index.mjs')).href;
    const entry = pathToFileURL(join(dirname(here), '..', 'worker', 'predict-worker.ts')).href;
    const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(boot, { eval: true });
  }
  // electron.config.ts emits out/main/predict-worker.js; this module may sit in a chunk folder below it.
  for (const dir of [dirname(here), join(dirname(here), '..')]) {
    const file = join(dir, 'predict-worker.js');
    if (existsSync(file)) return new Worker(file);
  }
  throw new Error(`the engine worker (predict-worker.js) is missing beside ${here}; the build is incomplete`);
}
