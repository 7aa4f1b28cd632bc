// `deformux train` end to end on tiny NIfTI pairs: JSON progress, a loadable model folder, and an exact --resume.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTinyConfig, writeTrainCase } from './fixtures/train-cases';
import { readSafetensors } from '../../src-main/engine/io/safetensors';

const exec = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'deformux-cli-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [join(ROOT, 'bin', 'deformux.mjs'), ...args], {
      cwd: ROOT,
      timeout: 45_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A 24x20x18 CT-like case (HU) with a kidney-ish blob (1) and a tumour (2). */
describe('deformux train', () => {
  it('trains from a config, prints JSON lines, writes a model folder, and --resume continues exactly', async () => {
    const data = join(dir, 'data');
    mkdirSync(data);
    await writeTrainCase(data, 'case_000', 1, 12);
    await writeTrainCase(data, 'case_001', 2, 12);
    const cfg = writeTinyConfig(dir);
    const common = [
      '--data',
      data,
      '--schema',
      'kidney',
      '--config',
      cfg,
      '--steps',
      '3',
      '--patch',
      '16',
      '--batch',
      '1',
      '--lr',
      '0.01',
      '--seed',
      '5',
    ];

    const a = await cli('train', ...common, '--out', join(dir, 'a'), '--json', '--checkpoint-every', '2');
    expect(a.code, a.stderr).toBe(0);
    const lines = a.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number; steps: number; loss: number; eta_s: number });
    expect(lines.map((l) => l.step)).toEqual([1, 2, 3]);
    expect(lines.every((l) => Number.isFinite(l.loss) && l.steps === 3 && l.eta_s >= 0)).toBe(true);
    const meta = JSON.parse(readFileSync(join(dir, 'a', 'model.json'), 'utf8')) as {
      classes: string[];
      training: { steps: number }[];
    };
    expect(meta.classes).toEqual(['background', 'kidney', 'tumor', 'cyst']);
    expect(meta.training[0].steps).toBe(3);
    const config = JSON.parse(readFileSync(join(dir, 'a', 'config.json'), 'utf8')) as { out_channels: number };
    expect(config.out_channels).toBe(4);

    // Resume: the step-2 checkpoint of run a, copied into b, finishes with bit-identical weights.
    cpSync(join(dir, 'a', 'checkpoint'), join(dir, 'b', 'checkpoint'), { recursive: true });
    const b = await cli('train', ...common, '--out', join(dir, 'b'), '--resume');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/step 3\/3 {2}loss \d+\.\d{4} {2}lr .* {2}(\d+ (s|min) left|time left unknown)/);
    expect(b.stderr).not.toMatch(/step 1\/3/);
    const wa = await readSafetensors(join(dir, 'a', 'weights.safetensors'));
    const wb = await readSafetensors(join(dir, 'b', 'weights.safetensors'));
    for (const [name, t] of wa) expect(wb.get(name)!.data, name).toEqual(t.data);
  });

  it('refuses bad arguments and bad data with one clear line', async () => {
    const r = await cli(
      'train',
      '--data',
      join(dir, 'nothing'),
      '--schema',
      'kidney',
      '--config',
      'lite',
      '--out',
      join(dir, 'x'),
      '--steps',
      '1',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nothing: cannot be listed/);
    const s = await cli('train', '--data', dir, '--schema', 'liver', '--config', 'lite', '--out', join(dir, 'x'));
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/--schema must be one of kidney, pancreas/);
    const p = await cli(
      'train',
      '--data',
      dir,
      '--schema',
      'kidney',
      '--config',
      'lite',
      '--out',
      join(dir, 'x'),
      '--patch',
      '20',
    );
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(/--patch must be one or three positive multiples of 16/);
  });
});
