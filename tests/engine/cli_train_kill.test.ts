// `deformux train --checkpoint-every 2` SIGKILLed at random moments and resumed each time ends with
// weights bit-identical to an uninterrupted run.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src-main/engine/model/rng';
import { writeTinyConfig, writeTrainCase } from './fixtures/train-cases';
import { readSafetensors } from '../../src-main/engine/io/safetensors';

const ROOT = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'deformux-train-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const STEPS = 8;

/** A 24x20x18 CT-like case with a blob (1) around a core (2). */
/** When to SIGKILL a run: a while after its first progress line, or as a checkpoint's weights file lands. */
type Kill = { afterMs: number } | { checkpointIn: string };

function train(args: string[], kill?: Kill): Promise<{ code: number | null; killed: boolean; steps: number[] }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'deformux.mjs'), 'train', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let timer: NodeJS.Timeout | undefined;
    // The moment a checkpoint is half-written over an earlier complete one: its weights landed, the rest not yet.
    const watcher =
      kill && 'checkpointIn' in kill
        ? watch(kill.checkpointIn, (_event, name) => {
            if (name?.startsWith('weights') && existsSync(join(kill.checkpointIn, 'state.json'))) child.kill('SIGKILL');
          })
        : null;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (kill && 'afterMs' in kill && !timer && out.includes('\n'))
        timer = setTimeout(() => child.kill('SIGKILL'), kill.afterMs);
    });
    child.stderr.resume();
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      watcher?.close();
      const steps = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => (JSON.parse(l) as { step: number }).step);
      resolve({ code, killed: signal === 'SIGKILL', steps });
    });
  });
}

describe('deformux train under SIGKILL', () => {
  it('killed at random moments and resumed each time, ends bit-identical to an uninterrupted run', async () => {
    const data = join(dir, 'data');
    mkdirSync(data);
    await writeTrainCase(data, 'case_000', 1, 12);
    await writeTrainCase(data, 'case_001', 2, 13);
    const cfg = writeTinyConfig(dir);
    const common = ['--data', data, '--schema', 'kidney', '--config', cfg, '--steps', String(STEPS)];
    const opts = [...common, '--patch', '16', '--batch', '1', '--lr', '0.01', '--seed', '5', '--json'];
    const straight = await train([...opts, '--out', join(dir, 'straight'), '--checkpoint-every', '2']);
    expect(straight.code).toBe(0);

    const out = join(dir, 'killed');
    const ckpt = join(out, 'checkpoint');
    mkdirSync(ckpt, { recursive: true });
    const rng = new Rng(7);
    const log: string[] = [];
    let finished = false;
    for (let cycle = 0; cycle < 12 && !finished; cycle++) {
      // The first four runs are killed, alternately at a random moment and mid-checkpoint; the rest run to the end.
      const kill: Kill | undefined =
        cycle >= 4
          ? undefined
          : cycle % 2 === 0
            ? { afterMs: Math.floor(rng.uniform(0, 250)) }
            : { checkpointIn: ckpt };
      const r = await train([...opts, '--out', out, '--checkpoint-every', '2', '--resume'], kill);
      log.push(`${r.killed ? 'killed' : `exit ${r.code}`} after steps [${r.steps.join(',')}]`);
      if (!r.killed) {
        expect(r.code, log.join('; ')).toBe(0);
        finished = true;
      }
    }
    console.log(`train kill cycles: ${log.join('; ')}`);
    expect(finished).toBe(true);
    const wa = await readSafetensors(join(dir, 'straight', 'weights.safetensors'));
    const wb = await readSafetensors(join(out, 'weights.safetensors'));
    expect([...wb.keys()].sort()).toEqual([...wa.keys()].sort());
    for (const [name, t] of wa) expect(wb.get(name)!.data, name).toEqual(t.data);
  }, 300_000);
});
