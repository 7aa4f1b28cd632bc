#!/usr/bin/env node
// Layers run one way: shells (web, electron) → cli/bench/demo → api → jobs → train · worker →
// predict → engine (network, kernels, weights) · store · export →
// phantom → imaging · labels · domain → util. Fails on an import (static, dynamic or type-only) from a lower layer
// into a higher one that is not in the recorded debt (scripts/layers-baseline.json), and says which recorded
// entries are gone so the list only shrinks. Part of `npm run lint`.
//
//   node scripts/check-layers.mjs [--write-baseline]
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src-main');
const BASELINE = join(import.meta.dirname, 'layers-baseline.json');

/** Each top-level folder of src-main and its layer (higher may import lower or equal). */
export const LAYERS = {
  util: 0,
  imaging: 1,
  labels: 1,
  /** Types and constants the layers share (the API contract re-exports them). */
  domain: 1,
  phantom: 2,
  /** The network, its kernels and weights: below the pipeline that runs it. */
  engine: 3,
  predict: 3.5,
  /** Training scores candidates and the worker runs pre-labels through the pipeline: above predict. */
  train: 3.6,
  worker: 3.6,
  store: 3,
  export: 3,
  dicomweb: 3,
  team: 4,
  jobs: 4,
  api: 5,
  bench: 6,
  cli: 6,
  demo: 6,
  web: 7,
  electron: 7,
};

function tsFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** The LAYERS key of a path relative to src-main: the longest folder prefix listed (a nested folder before its parent). */
function layerKey(rel) {
  const parts = rel.split('/');
  for (let n = parts.length - 1; n >= 1; n--) {
    const key = parts.slice(0, n).join('/');
    if (key in LAYERS) return key;
  }
  return parts[0];
}

/** Upward imports as "file -> folder" lines (file relative to src-main), sorted and unique. */
export function upwardImports(src = SRC) {
  const found = new Set();
  for (const file of tsFiles(src)) {
    const from = layerKey(relative(src, file));
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\bfrom\s+'(\.[^']+)'|\bimport\(\s*'(\.[^']+)'\s*\)/g)) {
      const target = layerKey(relative(src, resolve(dirname(file), m[1] ?? m[2])));
      if (!(from in LAYERS) || !(target in LAYERS)) {
        found.add(`${relative(src, file)} -> ${target} (folder without a layer: add it to LAYERS)`);
        continue;
      }
      if (LAYERS[target] > LAYERS[from]) found.add(`${relative(src, file)} -> ${target}`);
    }
  }
  return [...found].sort();
}

if (process.argv[1] === import.meta.filename) {
  const now = upwardImports();
  if (process.argv.includes('--write-baseline')) {
    writeFileSync(BASELINE, JSON.stringify(now, null, 2) + '\n');
    console.log(`layers: recorded ${now.length} upward imports as debt in ${relative(ROOT, BASELINE)}`);
  } else {
    const debt = new Set(JSON.parse(readFileSync(BASELINE, 'utf8')));
    const added = now.filter((l) => !debt.has(l));
    const gone = [...debt].filter((l) => !now.includes(l));
    for (const l of gone) console.log(`layers: paid off, remove from the baseline: ${l}`);
    if (added.length) {
      for (const l of added) console.error(`layers: upward import: ${l}`);
      console.error(
        `layers: ${added.length} import(s) against the layer order (shells → api → jobs → engine/predict/store → imaging → util)`,
      );
      process.exit(1);
    }
    console.log(`layers: no new upward imports (${now.length} recorded as debt)`);
  }
}
