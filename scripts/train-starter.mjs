#!/usr/bin/env node
// `npm run train:starter`: trains the starter models resources/models/<schema>-lite on synthetic
// phantoms with recorded seeds and settings (src-main/jobs/train-starter.ts), then prints a JSON summary.
//
//   node scripts/train-starter.mjs [--schema kidney|pancreas] [--smoke] [--out DIR] [--work DIR] [--finish]
//
// The full settings take about 30 minutes per schema on a 2-core CPU (--finish: re-evaluate the trained model
// folder already in --out and rewrite its model.json, without training). --smoke runs a tiny network for two steps on small
// phantoms (seconds) and writes to a temporary folder unless --out is given.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { register } from 'tsx/esm/api';

register();
const { starterSettings, trainStarter } = await import('../src-main/jobs/train-starter.ts');

const { values } = parseArgs({
  options: {
    schema: { type: 'string' },
    smoke: { type: 'boolean' },
    out: { type: 'string' },
    work: { type: 'string' },
    // Skip training: re-evaluate the trained folder in --out (inference settings, held-out metrics).
    finish: { type: 'boolean' },
  },
});
const schemas = values.schema ? [values.schema] : ['kidney', 'pancreas'];
for (const s of schemas) {
  if (s !== 'kidney' && s !== 'pancreas') {
    console.error(`train-starter: --schema must be kidney or pancreas, got '${s}'`);
    process.exit(2);
  }
}
const name = values.smoke ? 'smoke' : 'full';
const root = resolve(import.meta.dirname, '..');
const outRoot = values.out
  ? resolve(values.out)
  : values.smoke
    ? mkdtempSync(join(tmpdir(), 'deformux-starter-smoke-'))
    : join(root, 'resources', 'models');
const ownWork = !values.work;
const work = values.work ? resolve(values.work) : mkdtempSync(join(tmpdir(), 'deformux-starter-work-'));
const abort = new AbortController();
process.once('SIGINT', () => abort.abort());
const results = [];
try {
  for (const schema of schemas) {
    const settings = starterSettings(name, schema);
    const r = await trainStarter(
      schema,
      settings,
      join(outRoot, `${schema}-lite`),
      work,
      (l) => console.error(l),
      abort.signal,
      { finishOnly: !!values.finish },
    );
    results.push(r);
  }
} finally {
  if (ownWork) rmSync(work, { recursive: true, force: true });
}
console.log(JSON.stringify({ settings: name, out: outRoot, results }));
