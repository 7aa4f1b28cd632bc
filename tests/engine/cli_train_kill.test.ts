// `deformux train --checkpoint-every 2` SIGKILLed at random moments and resumed each time ends with
// weights bit-identical to an uninterrupted run.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src-main/engine/io/safetensors';
import { Rng } from '../../src-main/engine/model/rng';
import { writeNifti } from '../../src-main/imaging/nifti';

const ROOT = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'deformux-train-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const STEPS = 8;

/** A 24x20x18 CT-like case with a blob (1) around a core (2). */
async function writeCase(data: string, name: string, seed: number): Promise<void> {
  const dims: [number, number, number] = [24, 20, 18];
  const rng = new Rng(seed);
  const n = dims[0] * dims[1] * dims[2];
  const hu = new Int16Array(n);
  const lab = new Uint8Array(n);
  for (let k = 0; k < dims[2]; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++) {
        const v = (k * dims[1] + j) * dims[0] + i;
        const r = Math.hypot(i - 11 - seed, j - 9, k - 8);
        lab[v] = r < 3 ? 2 : r < 6 ? 1 : 0;
        hu[v] = Math.round((lab[v] === 2 ? 60 : lab[v] === 1 ? 180 : -50) + 20 * rng.normal());
      }
  const geom = {
    dims,
    spacingMm: [1.5, 1.5, 2] as [number, number, number],
    originMm: [0, 0, 0] as [number, number, number],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as [number, number, number, number, number, number, number, number, number],
    description: 'test',
    source: 'synthetic',
  };
  await writeNifti(join(data, `${name}_image.nii.gz`), { ...geom, data: hu, modality: 'CT' });
  await writeNifti(join(data, `${name}_label.nii.gz`), { ...geom, data: lab, modality: 'SEG' });
}

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
    await writeCase(data, 'case_000', 1);
    await writeCase(data, 'case_001', 2);
    const cfg = join(dir, 'tiny.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        in_channels: 1,
        out_channels: 2,
        feature_sizes: [4, 4, 8, 8],
        depths: [1, 1, 1, 1],
        hidden_size: 8,
        kernel_size: 3,
        offset_kernel_size: 3,
        deform_groups: 1,
      }),
    );
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
