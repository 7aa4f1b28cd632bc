// `deformux forward` end to end: model folder + .npy in, logits .npy and gradient safetensors out, checked against the PyTorch goldens.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../../src-main/engine/io/npy';
import { readSafetensors } from '../../src-main/engine/io/safetensors';
import { defaultMeta } from '../../src-main/engine/io/model_folder';
import { parseConfig } from '../../src-main/engine/model/config';
import { GRAD_L2_TOL, LOGITS_REL_TOL, maxRelErr, worstGradErr } from './compare';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const GOLD = join(ROOT, 'tests', 'goldens', 'model', 'tiny');
const dir = mkdtempSync(join(tmpdir(), 'deformux-fwd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const r = await run(process.execPath, [join(ROOT, 'bin', 'deformux.mjs'), ...args], { cwd: ROOT, timeout: 60_000 });
    return { code: 0, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

describe('deformux forward', () => {
  it('writes logits and gradients that match PyTorch', async () => {
    const model = join(dir, 'model');
    mkdirSync(model);
    copyFileSync(join(GOLD, 'config.json'), join(model, 'config.json'));
    copyFileSync(join(GOLD, 'weights.safetensors'), join(model, 'weights.safetensors'));
    const config = parseConfig(JSON.parse(readFileSync(join(GOLD, 'config.json'), 'utf8')), 'config.json');
    writeFileSync(join(model, 'model.json'), JSON.stringify(defaultMeta(config)));
    const io = await readSafetensors(join(GOLD, 'io.safetensors'));
    const input = io.get('input')!;
    const g = io.get('grad_output')!;
    await writeNpy(join(dir, 'x.npy'), { shape: input.shape, data: Float32Array.from(input.data) });
    await writeNpy(join(dir, 'g.npy'), { shape: g.shape, data: Float32Array.from(g.data) });
    const r = await cli(
      'forward',
      '--model',
      model,
      '--input',
      join(dir, 'x.npy'),
      '--output',
      join(dir, 'y.npy'),
      '--grad-output',
      join(dir, 'g.npy'),
      '--grads-out',
      join(dir, 'grads.safetensors'),
    );
    expect(r.code, r.stderr).toBe(0);
    const y = await readNpy(join(dir, 'y.npy'));
    expect(y.shape).toEqual([1, 3, 16, 32, 48]);
    expect(maxRelErr(y.data, io.get('logits')!.data)).toBeLessThanOrEqual(LOGITS_REL_TOL);
    const grads = await readSafetensors(join(dir, 'grads.safetensors'));
    const ref = await readSafetensors(join(GOLD, 'grads_f64.safetensors'));
    expect([...grads.keys()].sort()).toEqual([...ref.keys()].sort());
    expect(worstGradErr(grads, ref).err).toBeLessThanOrEqual(GRAD_L2_TOL);
  });

  it('refuses a wrong input shape and a missing model with one clear line (exit 2)', async () => {
    await writeNpy(join(dir, 'bad.npy'), { shape: [1, 1, 16, 16, 20], data: new Float32Array(16 * 16 * 20) });
    const r = await cli(
      'forward',
      '--model',
      join(dir, 'model'),
      '--input',
      join(dir, 'bad.npy'),
      '--output',
      join(dir, 'o.npy'),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.npy: spatial size \[16, 16, 20\] must be three positive multiples of 16/);
    const m = await cli(
      'forward',
      '--model',
      join(dir, 'nope'),
      '--input',
      join(dir, 'bad.npy'),
      '--output',
      join(dir, 'o.npy'),
    );
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/nope[/\\]config\.json: cannot be read/);
    const u = await cli('forward', '--input', 'x.npy');
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/--model, --input and --output are required/);
  });
});

describe('model folder', () => {
  it('saves and loads (PyTorch layouts on disk), and serves the prediction pipeline as a SegmentationModel', async () => {
    const { DeformUXNet } = await import('../../src-main/engine/model/network');
    const { loadModelFolder, saveModelFolder } = await import('../../src-main/engine/io/model_folder');
    const { segmentationModelOf } = await import('../../src-main/engine/model/segmentation_model');
    const { initEngine } = await import('../../src-main/engine/tf');
    await initEngine();
    const config = parseConfig(JSON.parse(readFileSync(join(GOLD, 'config.json'), 'utf8')), 'config.json');
    const net = DeformUXNet.fromTorch(config, await readSafetensors(join(GOLD, 'weights.safetensors')), 'w');
    const meta = {
      ...defaultMeta(config, 'kidney'),
      inference: { ...defaultMeta(config).inference, patchSize: [16, 32, 48] as [number, number, number] },
    };
    await saveModelFolder(join(dir, 'saved'), net, meta);
    net.dispose();
    const loaded = await loadModelFolder(join(dir, 'saved'));
    const seg = segmentationModelOf(loaded);
    const io = await readSafetensors(join(GOLD, 'io.safetensors'));
    const logitsDhwc = await seg.predictPatch(Float32Array.from(io.get('input')!.data));
    // Golden logits are [1, 3, D, H, W]; compare channel-last against channel-first.
    const ref = io.get('logits')!.data;
    const vox = 16 * 32 * 48;
    const asCdhw = new Float32Array(3 * vox);
    for (let v = 0; v < vox; v++) for (let c = 0; c < 3; c++) asCdhw[c * vox + v] = logitsDhwc[v * 3 + c];
    expect(maxRelErr(asCdhw, ref)).toBeLessThanOrEqual(LOGITS_REL_TOL);
    expect(seg.logitsLayout).toBe('DHWC');
    // A batch of windows gives each window's own logits (per-sample instance norms), in order.
    const other = Float32Array.from(io.get('input')!.data, (v, i) => v * 0.5 + Math.sin(i));
    const [b0, b1, b2] = await seg.predictPatches!([Float32Array.from(io.get('input')!.data), other, other]);
    const single = await seg.predictPatch(other);
    expect(maxRelErr(b0, logitsDhwc)).toBeLessThanOrEqual(1e-5);
    expect(maxRelErr(b1, single)).toBeLessThanOrEqual(1e-5);
    expect(maxRelErr(b2, single)).toBeLessThanOrEqual(1e-5);
    expect(maxRelErr(b1, logitsDhwc)).toBeGreaterThan(1e-2);
    expect(seg.batchFor!([64, 64, 64])).toBe(3);
    expect(seg.batchFor!([96, 96, 96])).toBe(1);
    // TTA mirrors: the schema's training flips (kidney left-right), or what model.json records.
    expect(seg.mirrorAxes).toEqual([2]);
    expect(segmentationModelOf({ ...loaded, meta: { ...loaded.meta, schema: 'pancreas' } }).mirrorAxes).toEqual([]);
    const recorded = { ...loaded.meta, inference: { ...loaded.meta.inference, mirrorAxes: [0, 2] } };
    expect(segmentationModelOf({ ...loaded, meta: recorded }).mirrorAxes).toEqual([0, 2]);
    loaded.net.dispose();
    writeFileSync(join(dir, 'saved', 'model.json'), JSON.stringify({ ...meta, classes: ['background', 'a'] }));
    await expect(loadModelFolder(join(dir, 'saved'))).rejects.toThrow(
      /model\.json: lists 2 classes but the network has 3 outputs/,
    );
  });
});
