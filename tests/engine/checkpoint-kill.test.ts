// A checkpoint is one atomic unit: SIGKILL at random moments of repeated saves, then load gives weights,
// moments and step of one and the same save, never older than the last acknowledged one.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src-main/engine/tf';
import { DeformUXNet } from '../../src-main/engine/model/network';
import { Trainer } from '../../src-main/train/trainer';
import { Rng } from '../../src-main/engine/model/rng';
import { WRITER_CONFIG, valuesAt } from './fixtures/checkpoint-writer';

const ROOT = join(__dirname, '..', '..');
const WRITER = join(__dirname, 'fixtures', 'checkpoint-writer.ts');
const dir = mkdtempSync(join(tmpdir(), 'deformux-ckpt-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await initEngine();
});

/** Runs the writer from `first`, kills it `afterMs` after its first acknowledged save; the last step it acknowledged. */
function writeThenKill(ckpt: string, first: number, afterMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, ckpt, String(first)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!timer && out.includes('\n')) timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`writer ended by itself (${code}): ${err}`));
      const acked = out.split('\n').filter((l) => /^\d+$/.test(l));
      resolve(Number(acked[acked.length - 1]));
    });
  });
}

function expectAll(values: ArrayLike<number>, want: number, what: string): void {
  for (let p = 0; p < values.length; p++) if (values[p] !== want) expect(values[p], `${what}[${p}]`).toBe(want);
}

describe('checkpoint atomicity under SIGKILL', () => {
  it('load after each of 8 random kills gives one consistent step, at least the last acknowledged', async () => {
    const ckpt = join(dir, 'ckpt');
    const rng = new Rng(16);
    let next = 1;
    const seen: string[] = [];
    for (let cycle = 0; cycle < 8; cycle++) {
      const acked = await writeThenKill(ckpt, next, Math.floor(rng.uniform(0, 400)));
      const net = DeformUXNet.create(WRITER_CONFIG, 2);
      const trainer = new Trainer(net, { lr: 1e-3 });
      const extra = await trainer.loadCheckpoint(ckpt);
      const step = trainer.step;
      seen.push(`acked ${acked}, loaded ${step}`);
      expect(step, seen.join('; ')).toBeGreaterThanOrEqual(acked);
      expect(step).toBeLessThanOrEqual(acked + 1);
      expect(extra).toEqual({ step });
      const x = valuesAt(step);
      for (const [name, variable] of net.params) expectAll(variable.dataSync(), x.w, `weights ${name}`);
      for (const [name, s] of trainer.optimizer.getState()) {
        expectAll(s.m, x.m, `m ${name}`);
        expectAll(s.v, x.v, `v ${name}`);
      }
      trainer.dispose();
      net.dispose();
      next = step + 1;
    }
    console.log(`checkpoint kill cycles: ${seen.join('; ')}`);
    // Files of older checkpoints do not pile up: the state, its two files, and at most one interrupted save's
    // (its two tensor files and the state's temp file, when the kill lands just before the commit).
    expect(readdirSync(ckpt).length).toBeLessThanOrEqual(6);
  });

  it('refuses a checkpoint whose files no longer match its state.json, naming the file', async () => {
    const ckpt = join(dir, 'ckpt');
    const state = JSON.parse(readFileSync(join(ckpt, 'state.json'), 'utf8')) as {
      files: { weights: { name: string } };
    };
    const referenced = state.files.weights.name;
    expect(readdirSync(ckpt)).toContain(referenced);
    writeFileSync(join(ckpt, referenced), Buffer.alloc(64));
    const net = DeformUXNet.create(WRITER_CONFIG, 2);
    const trainer = new Trainer(net, { lr: 1e-3 });
    await expect(trainer.loadCheckpoint(ckpt)).rejects.toThrow(
      new RegExp(`${referenced.replace('.', '\\.')}: does not match the step-\\d+ checkpoint's state\\.json`),
    );
    trainer.dispose();
    net.dispose();
  });
});
