#!/usr/bin/env node
// Builds the engine's tfjs: tfjs-core with its gradients and chained ops and the cpu backend, as one CommonJS file
// (node_modules/.deformux/tfjs-core-cpu.cjs, with a stamp of the versions it was built from). Runs as part of
// `postinstall` and always rebuilds (under a second); src-main/engine/tf.ts (freshTfjsBundle) loads the file while
// its stamp matches the installed packages, else the whole '@tensorflow/tfjs' bundle. The engine uses nothing of
// tfjs but core and cpu: the whole bundle (layers, converter, data, webgl) took 0.72-0.78 s to load on this 2-core
// machine, this file about 0.1 s, at every start of the CLI, the web shell's engine and each test file.
//
//   node scripts/build-tfjs.mjs
// A failure only warns: the engine then loads the whole bundle (slower to start, same results).
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const outDir = join(root, 'node_modules', '.deformux');
const outFile = join(outDir, 'tfjs-core-cpu.cjs');
const stampFile = join(outDir, 'tfjs-core-cpu.json');

function log(msg) {
  console.log(`[build-tfjs] ${msg}`);
}

/** The versions the bundle is built from, for its stamp (tf.ts compares it with the installed packages). */
function installedVersions() {
  const v = (name) => JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version;
  return { core: v('@tensorflow/tfjs-core'), cpu: v('@tensorflow/tfjs-backend-cpu') };
}

try {
  const want = installedVersions();
  const esbuild = require('esbuild');
  mkdirSync(outDir, { recursive: true });
  const entry = join(outDir, `entry-${process.pid}.mjs`);
  // The ESM builds ('module' field) carry the side-effect modules that the CommonJS build of tfjs-core leaves out.
  writeFileSync(
    entry,
    [
      "export * from '@tensorflow/tfjs-core';",
      "import '@tensorflow/tfjs-core/dist/register_all_gradients';",
      "import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';",
      "import '@tensorflow/tfjs-backend-cpu';",
      '',
    ].join('\n'),
  );
  const tmp = `${outFile}.${process.pid}.tmp`;
  const t0 = Date.now();
  try {
    esbuild.buildSync({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      mainFields: ['module', 'main'],
      absWorkingDir: root,
      nodePaths: [join(root, 'node_modules')],
      outfile: tmp,
      logLevel: 'warning',
      legalComments: 'inline',
    });
  } finally {
    rmSync(entry, { force: true });
  }
  renameSync(tmp, outFile);
  writeFileSync(`${stampFile}.tmp`, JSON.stringify(want) + '\n');
  renameSync(`${stampFile}.tmp`, stampFile);
  log(
    `built ${outFile} in ${((Date.now() - t0) / 1000).toFixed(1)} s (tfjs-core ${want.core}, tfjs-backend-cpu ${want.cpu})`,
  );
} catch (err) {
  console.warn(
    `[build-tfjs] could not build the core+cpu bundle (${err.message}); the engine will load all of @tensorflow/tfjs`,
  );
}
