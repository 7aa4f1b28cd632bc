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

// binding.cc reserve_huge_heap: the heap grows once by an untouched block advised for huge pages, so a pre-label's
// fresh activations fault in 2 MB at a time. Run in a child so the numbers are this load's alone.
describe.runIf(process.platform === 'linux')('huge-page heap reserve (glibc)', () => {
  const probe = `
    const fs = require('node:fs');
    const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
    const advisedMb = () => {
      let bytes = 0;
      for (const blk of fs.readFileSync('/proc/self/smaps', 'utf8').split(/\\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
        const m = /^([0-9a-f]+)-([0-9a-f]+)/.exec(blk);
        if (m && /VmFlags:[^\\n]*\\bhg\\b/.test(blk)) bytes += parseInt(m[2], 16) - parseInt(m[1], 16);
      }
      return bytes / 2 ** 20;
    };
    const before = { rss: rss(), advised: advisedMb() };
    const a = require(process.argv[1]);
    const loaded = { reserved: a.heapReservedMb, rss: rss(), advised: advisedMb() };
    a.trimMemory();
    const trimmed = { reserved: a.heapReservedMb, advised: advisedMb() };
    console.log(JSON.stringify({ before, loaded, trimmed }));
  `;
  const run = (env: Record<string, string>) => {
    const res = spawnSync(process.execPath, ['-e', probe, loadAddon().path!], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(res.status, res.stderr).toBe(0);
    return JSON.parse(res.stdout.trim().split('\n').pop()!);
  };

  it('loading grows the heap by an advised, untouched block, and trimMemory grows it again', () => {
    const r = run({ DEFORMUX_HEAP_RESERVE_MB: '512' });
    expect(r.loaded.reserved).toBe(512);
    // Advised for huge pages (VmFlags 'hg'): all of it but the unaligned ends.
    expect(r.loaded.advised - r.before.advised).toBeGreaterThanOrEqual(512 - 4);
    // Address space only: resident memory does not grow by the reserve.
    expect(r.loaded.rss - r.before.rss).toBeLessThan(64);
    expect(r.trimmed.reserved).toBe(512);
    expect(r.trimmed.advised - r.before.advised).toBeGreaterThanOrEqual(512 - 4);
  });

  it('DEFORMUX_HEAP_RESERVE_MB=0 turns it off; the default is capped at 1536 MB', () => {
    const off = run({ DEFORMUX_HEAP_RESERVE_MB: '0' });
    expect(off.loaded.reserved).toBe(0);
    expect(off.loaded.advised - off.before.advised).toBeLessThan(64);
    const dflt = run({ DEFORMUX_HEAP_RESERVE_MB: '' });
    expect(dflt.loaded.reserved).toBeGreaterThan(0);
    expect(dflt.loaded.reserved).toBeLessThanOrEqual(1536);
  });
});
