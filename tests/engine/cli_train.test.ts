// `deformux train` end to end on tiny NIfTI pairs: JSON progress, a loadable model folder, and an exact --resume.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { writeNifti } from '../../src-main/imaging/nifti';
import type { Volume } from '../../src-main/imaging/volume';
import { readSafetensors } from '../../src-main/engine/io/safetensors';
import { Rng } from '../../src-main/engine/model/rng';

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
        const r = Math.hypot(i - 12, j - 9, k - 8);
        lab[v] = r < 3 ? 2 : r < 6 ? 1 : 0;
        hu[v] = Math.round((lab[v] === 2 ? 60 : lab[v] === 1 ? 180 : -50) + 20 * rng.normal());
      }
  const geom = {
    dims,
    spacingMm: [1.5, 1.5, 2] as [number, number, number],
    originMm: [0, 0, 0] as [number, number, number],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as Volume['direction'],
  };
  await writeNifti(join(data, `${name}_image.nii.gz`), {
    ...geom,
    data: hu,
    modality: 'CT',
    description: 'test',
    source: 'synthetic',
  });
  await writeNifti(join(data, `${name}_label.nii.gz`), {
    ...geom,
    data: lab,
    modality: 'SEG',
    description: 'test',
    source: 'synthetic',
  });
}

describe('deformux train', () => {
  it('trains from a config, prints JSON lines, writes a model folder, and --resume continues exactly', async () => {
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
