// The network against PyTorch goldens (tools/reference/model_goldens.py): logits, and gradients of sum(logits*G)
// for every parameter and the input, plus proofs that the tolerances catch real bugs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor5D } from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../../src-main/engine/tf';
import { readSafetensors } from '../../src-main/engine/io/safetensors';
import type { TensorMap } from '../../src-main/engine/io/safetensors';
import { parseConfig } from '../../src-main/engine/model/config';
import type { ModelConfig } from '../../src-main/engine/model/config';
import { DeformUXNet } from '../../src-main/engine/model/network';
import { forwardWithGrads } from '../../src-main/engine/model/grads';
import { GRAD_L2_TOL, LOGITS_REL_TOL, maxRelErr, worstGradErr } from './compare';

const GOLD = join(__dirname, '..', 'goldens', 'model', 'tiny');
let config: ModelConfig;
let weights: TensorMap;
let io: TensorMap;
let grads64: TensorMap;

function tensor5(t: TensorMap, name: string): Tensor5D {
  const e = t.get(name)!;
  return tf.tensor5d(Float32Array.from(e.data), e.shape as [number, number, number, number, number]);
}

function logitsOf(w: TensorMap): Float32Array {
  const net = DeformUXNet.fromTorch(config, w, 'weights');
  const x = tensor5(io, 'input');
  const y = net.forwardNcdhw(x);
  const out = y.dataSync() as Float32Array;
  tf.dispose([x, y]);
  net.dispose();
  return out;
}

/** A copy of the weights with one tensor replaced by f(data, shape). */
function perturbed(name: string, f: (d: Float32Array, s: number[]) => Float32Array): TensorMap {
  const w: TensorMap = new Map(weights);
  const t = weights.get(name)!;
  w.set(name, { shape: t.shape, data: f(Float32Array.from(t.data), t.shape) });
  return w;
}

beforeAll(async () => {
  await initEngine();
  config = parseConfig(JSON.parse(readFileSync(join(GOLD, 'config.json'), 'utf8')), 'config.json');
  weights = await readSafetensors(join(GOLD, 'weights.safetensors'));
  io = await readSafetensors(join(GOLD, 'io.safetensors'));
  grads64 = await readSafetensors(join(GOLD, 'grads_f64.safetensors'));
});

describe('tiny DeformUX-Net vs PyTorch (x=[1,1,16,32,48] G=2 offsets=random gamma=random)', () => {
  it('logits: max |err| / max |ref| <= 1e-4', () => {
    const err = maxRelErr(logitsOf(weights), io.get('logits')!.data);
    expect(err).toBeLessThanOrEqual(LOGITS_REL_TOL);
  });

  it('gradients of sum(logits*G) for every parameter and the input: per-tensor L2-rel <= tolerance', () => {
    const net = DeformUXNet.fromTorch(config, weights, 'weights');
    const x = tensor5(io, 'input');
    const g = tensor5(io, 'grad_output');
    const { logits, grads } = forwardWithGrads(net, x, g);
    tf.dispose([x, g]);
    net.dispose();
    expect(maxRelErr(logits.data, io.get('logits')!.data)).toBeLessThanOrEqual(LOGITS_REL_TOL);
    expect(grads.size).toBe(grads64.size);
    const worst = worstGradErr(grads, grads64);
    console.log(`engine gradients: worst per-tensor L2-rel ${worst.err.toExponential(2)} (${worst.name})`);
    expect(worst.err, worst.name).toBeLessThanOrEqual(GRAD_L2_TOL);
  });

  it('the gradient tolerance passes float32 PyTorch and fails a transposed axis, wrong groups, wrong border', async () => {
    const f32 = worstGradErr(await readSafetensors(join(GOLD, 'grads_f32.safetensors')), grads64);
    expect(f32.err).toBeLessThanOrEqual(GRAD_L2_TOL);
    for (const variant of ['swap_hw', 'group_rev', 'border']) {
      const bad = worstGradErr(await readSafetensors(join(GOLD, `grads_${variant}.safetensors`)), grads64);
      expect(bad.err, variant).toBeGreaterThan(GRAD_L2_TOL * 10);
    }
  });

  it('the logits tolerance fails when the engine reads a DDC kernel with H and W transposed', () => {
    const name = 'deformuxnet_3d.stages.1.0.ddc.weight'; // [C, 1, 3, 3, 3]
    const swapped = perturbed(name, (d, s) => {
      const out = new Float32Array(d.length);
      const k = s[2];
      for (let c = 0; c < s[0]; c++)
        for (let i = 0; i < k; i++)
          for (let j = 0; j < k; j++)
            for (let l = 0; l < k; l++) out[((c * k + i) * k + l) * k + j] = d[((c * k + i) * k + j) * k + l];
      return out;
    });
    expect(maxRelErr(logitsOf(swapped), io.get('logits')!.data)).toBeGreaterThan(LOGITS_REL_TOL * 10);
  });

  it('the logits tolerance fails when offset groups are exchanged (pw2 rows of group 0 and 1 swapped)', () => {
    const name = 'deformuxnet_3d.stages.0.0.ddc.offset.pw2.weight'; // [G*27*3, C, 1, 1, 1]
    const swapped = perturbed(name, (d, s) => {
      const half = (s[0] / 2) * s[1];
      return Float32Array.from([...d.subarray(half), ...d.subarray(0, half)]);
    });
    expect(maxRelErr(logitsOf(swapped), io.get('logits')!.data)).toBeGreaterThan(LOGITS_REL_TOL * 10);
  });

  it('loading names the missing, extra or mis-shaped tensor', () => {
    const missing: TensorMap = new Map(weights);
    missing.delete('decoder1.layer.conv2.conv.weight');
    expect(() => DeformUXNet.fromTorch(config, missing, 'w.safetensors')).toThrow(
      /w\.safetensors: is missing the tensor 'decoder1\.layer\.conv2\.conv\.weight'/,
    );
    const extra: TensorMap = new Map(weights);
    extra.set('decoder1.layer.conv3.conv.weight', { shape: [4, 4, 1, 1, 1], data: new Float32Array(16) });
    expect(() => DeformUXNet.fromTorch(config, extra, 'w.safetensors')).toThrow(
      /does not use, first 'decoder1\.layer\.conv3\.conv\.weight'/,
    );
    const shaped: TensorMap = new Map(weights);
    shaped.set('out.conv.conv.bias', { shape: [4], data: new Float32Array(4) });
    expect(() => DeformUXNet.fromTorch(config, shaped, 'w.safetensors')).toThrow(
      /'out\.conv\.conv\.bias' has shape \[4\]; this config needs \[3\]/,
    );
  });

  it('toTorch returns exactly the loaded tensors (layout round trip)', () => {
    const net = DeformUXNet.fromTorch(config, weights, 'weights');
    const back = net.toTorch();
    net.dispose();
    for (const [name, t] of weights) expect([...back.get(name)!.data], name).toEqual([...t.data]);
  });
});
