// The one build config: main, preload and renderer bundles (electron-vite). Packaging options live
// in electron-builder.config.cjs beside it.
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const root = import.meta.dirname;

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          index: resolve(root, 'src-main/electron/main.ts'),
          // The engine worker thread (src-main/jobs/worker-entry.ts finds it beside index.js).
          'predict-worker': resolve(root, 'src-main/worker/predict-worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: resolve(root, 'src-main/electron/preload.ts') },
        // A sandboxed preload cannot `require` ESM: emit CommonJS.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'src-renderer'),
    base: './',
    plugins: [svelte()],
    worker: { format: 'es' },
    optimizeDeps: {
      // The Cornerstone tools' compute worker needs these CommonJS packages pre-bundled (FACTS.md).
      include: ['lodash.get', 'fast-deep-equal', 'seedrandom'],
    },
    build: {
      outDir: resolve(root, 'out/renderer'),
      emptyOutDir: true,
      target: 'es2022',
      chunkSizeWarningLimit: 8000,
      rollupOptions: { input: { index: resolve(root, 'src-renderer/index.html') } },
    },
  },
});
