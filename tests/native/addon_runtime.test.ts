// The addon at run time: JS fallback (loud) when it cannot load, and safe use from worker threads.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { loadAddon } from '../../src-main/engine/kernels/addon';
import { seeded } from './helpers';

const here = dirname(fileURLToPath(import.meta.url));

describe('addon loading', () => {
  it('DEFORMUX_NATIVE=off: initEngine falls back to the JS kernels with a loud warning', () => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'fixtures', 'js_fallback.ts')], {
      env: { ...process.env, DEFORMUX_NATIVE: 'off' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(res.status, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/native kernel addon did not load \(disabled by DEFORMUX_NATIVE=off\)/);
    expect(res.stderr).toMatch(/\*{20}/);
    const out = JSON.parse(res.stdout.trim().split('\n').pop()!);
    expect(out.native).toBe(false);
    // All-ones input, all-ones 3x3x3 kernel, zero offsets on a 2x2x2 volume: each output sums its 8 voxels.
    expect(out.sum).toBe(8 * 2 * 8);
  });
});

describe('worker threads', () => {
  it('a worker and the main thread run kernels at the same time and get the same results', async () => {
    const addonPath = loadAddon().path!;
    const dims = [1, 12, 12, 12, 16, 3, 1];
    const rnd = seeded(99);
    const nx = 12 ** 3 * 16;
    const x = rnd(nx),
      off = rnd((nx / 16) * 81),
      w = rnd(27 * 16),
      b = rnd(16);
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const addon = require(workerData.addonPath);
      const { x, off, w, b, dims } = workerData;
      const y = new Float32Array(x.length);
      for (let i = 0; i < 20; i++) addon.deformForward(y, x, off, w, b, dims);
      addon.deformForwardAsync(y, x, off, w, b, dims).then(() => parentPort.postMessage(y));
    `;
    const worker = new Worker(code, { eval: true, workerData: { addonPath, x, off, w, b, dims } });
    const fromWorker = new Promise<Float32Array>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const addon = loadAddon().addon!;
    const y = new Float32Array(nx);
    for (let i = 0; i < 20; i++) addon.deformForward(y, x, off, w, b, dims);
    const other = await fromWorker;
    await worker.terminate();
    expect(Buffer.compare(Buffer.from(other.buffer), Buffer.from(y.buffer))).toBe(0);
  });
});
