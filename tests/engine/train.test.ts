// Training: DiceCE against a plain-loop reference, AdamW against its formula, overfitting one phantom patch, exact resume.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor, Tensor4D, Tensor5D } from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../../src-main/engine/tf';
import type { ModelConfig } from '../../src-main/engine/model/config';
import { DeformUXNet } from '../../src-main/engine/model/network';
import { Rng } from '../../src-main/engine/model/rng';
import { diceCeLoss, diceCeLossOps } from '../../src-main/train/loss';
import { AdamW, clipGradsByGlobalNorm, clipScale, gradGlobalNorm } from '../../src-main/train/adamw';
import { Trainer } from '../../src-main/train/trainer';
import { setFusedMode } from '../../src-main/engine/model/fused_native';
import { TINY_TRAIN_CONFIG } from './fixtures/train-cases';

const TINY: ModelConfig = TINY_TRAIN_CONFIG;
const dir = mkdtempSync(join(tmpdir(), 'deformux-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await initEngine();
});

/** A phantom patch: a bright off-centre ellipsoid (label 1) in noisy background, [1, D, H, W]. */
function phantomPatch(d: number, h: number, w: number, seed: number): { image: Tensor5D; labels: Tensor4D } {
  const rng = new Rng(seed);
  const img = new Float32Array(d * h * w);
  const lab = new Int32Array(d * h * w);
  for (let z = 0; z < d; z++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const i = (z * h + y) * w + x;
        const inside =
          ((z - d * 0.45) / (d * 0.3)) ** 2 + ((y - h * 0.55) / (h * 0.25)) ** 2 + ((x - w * 0.4) / (w * 0.3)) ** 2 < 1;
        lab[i] = inside ? 1 : 0;
        img[i] = (inside ? 1 : -0.5) + 0.3 * rng.normal();
      }
  return { image: tf.tensor5d(img, [1, d, h, w, 1]), labels: tf.tensor4d(lab, [1, d, h, w], 'int32') };
}

/** Plain-loop DiceCE in float64: the reference for the tensor implementation. */
function diceCeRef(
  logits: Float32Array,
  labels: Int32Array,
  weights: Float32Array,
  n: number,
  c: number,
  ignore: number,
): number {
  const vox = labels.length / n;
  let ce = 0;
  let wsum = 0;
  let diceSum = 0;
  for (let b = 0; b < n; b++) {
    const inter = new Float64Array(c);
    const sums = new Float64Array(c);
    for (let v = 0; v < vox; v++) {
      const i = b * vox + v;
      const label = labels[i];
      const w = label === ignore ? 0 : weights[i];
      let mx = -Infinity;
      for (let k = 0; k < c; k++) mx = Math.max(mx, logits[i * c + k]);
      let se = 0;
      for (let k = 0; k < c; k++) se += Math.exp(logits[i * c + k] - mx);
      for (let k = 0; k < c; k++) {
        const p = Math.exp(logits[i * c + k] - mx) / se;
        const t = k === label ? 1 : 0;
        inter[k] += w * p * t;
        sums[k] += w * (p + t);
        if (t) ce -= w * (logits[i * c + k] - mx - Math.log(se));
      }
      wsum += w;
    }
    for (let k = 0; k < c; k++) diceSum += (2 * inter[k] + 1e-5) / (sums[k] + 1e-5);
  }
  return ce / wsum + 1 - diceSum / (n * c);
}

describe('DiceCE loss', () => {
  it('matches a plain-loop reference with voxel weights and an ignore label (N=2, C=3)', () => {
    const rng = new Rng(5);
    const [n, d, h, w, c] = [2, 3, 4, 5, 3];
    const logits = Float32Array.from({ length: n * d * h * w * c }, () => 3 * rng.normal());
    const labels = Int32Array.from({ length: n * d * h * w }, () => [0, 1, 2, 255][rng.int(4)]);
    const weights = Float32Array.from({ length: n * d * h * w }, () => rng.uniform(0.2, 2));
    const got = tf.tidy(
      () =>
        diceCeLoss(
          tf.tensor5d(logits, [n, d, h, w, c]),
          tf.tensor4d(labels, [n, d, h, w], 'int32'),
          tf.tensor4d(weights, [n, d, h, w]),
          { ignoreLabel: 255 },
        ).dataSync()[0],
    );
    const ref = diceCeRef(logits, labels, weights, n, c, 255);
    expect(Math.abs(got - ref)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref)));
    // The ignored voxels really are ignored: changing their logits changes nothing.
    const changed = Float32Array.from(logits);
    labels.forEach((l, i) => {
      if (l === 255) for (let k = 0; k < c; k++) changed[i * c + k] += 50;
    });
    const got2 = tf.tidy(
      () =>
        diceCeLoss(
          tf.tensor5d(changed, [n, d, h, w, c]),
          tf.tensor4d(labels, [n, d, h, w], 'int32'),
          tf.tensor4d(weights, [n, d, h, w]),
          { ignoreLabel: 255 },
        ).dataSync()[0],
    );
    expect(Math.abs(got2 - got)).toBeLessThan(1e-6);
  });

  it('native kernels equal the JS loops, value and gradient, over several blocks (N=2, C=4, weights, ignore)', () => {
    const rng = new Rng(12);
    const [n, d, h, w, c] = [2, 12, 14, 16, 4]; // 2688 voxels per sample: three blocks of the native reduction
    const z = tf.tensor5d(
      Float32Array.from({ length: n * d * h * w * c }, () => 3 * rng.normal()),
      [n, d, h, w, c],
    );
    const lab = tf.tensor4d(
      Int32Array.from({ length: n * d * h * w }, () => [0, 1, 2, 3, 9][rng.int(5)]),
      [n, d, h, w],
      'int32',
    );
    const wt = tf.tensor4d(
      Float32Array.from({ length: n * d * h * w }, () => (rng.int(10) === 0 ? 0 : rng.uniform(0.5, 1.5))),
      [n, d, h, w],
    );
    const opts = { ignoreLabel: 9, diceWeight: 0.6, ceWeight: 1.4 };
    const run = (mode: 'auto' | 'js') => {
      const prev = setFusedMode(mode);
      try {
        const value = tf.tidy(() => diceCeLoss(z, lab, wt, opts).dataSync()[0]);
        const g = tf.grad((x: Tensor) => tf.mul(diceCeLoss(x as Tensor5D, lab, wt, opts), 1.7))(z);
        const grad = Float32Array.from(g.dataSync());
        g.dispose();
        return { value, grad };
      } finally {
        setFusedMode(prev);
      }
    };
    const js = run('js');
    const na = run('auto');
    expect(Math.abs(na.value - js.value)).toBeLessThan(1e-9 * Math.max(1, Math.abs(js.value)));
    let worst = 0;
    for (let i = 0; i < js.grad.length; i++) worst = Math.max(worst, Math.abs(na.grad[i] - js.grad[i]));
    const big = js.grad.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(worst).toBeLessThanOrEqual(1e-6 * big);
    expect(big).toBeGreaterThan(0);
    tf.dispose([z, lab, wt]);
  });

  it('fused gradient matches the op-built loss gradient (N=2, C=3, weights, ignore)', () => {
    const rng = new Rng(8);
    const [n, d, h, w, c] = [2, 2, 3, 4, 3];
    const z = tf.tensor5d(
      Float32Array.from({ length: n * d * h * w * c }, () => 2 * rng.normal()),
      [n, d, h, w, c],
    );
    const lab = tf.tensor4d(
      Int32Array.from({ length: n * d * h * w }, () => [0, 1, 2, 7][rng.int(4)]),
      [n, d, h, w],
      'int32',
    );
    const wt = tf.tensor4d(
      Float32Array.from({ length: n * d * h * w }, () => rng.uniform(0.5, 1.5)),
      [n, d, h, w],
    );
    const opts = { ignoreLabel: 7, diceWeight: 0.7, ceWeight: 1.3 };
    const fused = tf
      .grad((x: Tensor) => tf.mul(diceCeLoss(x as Tensor5D, lab, wt, opts), 2.5))(z)
      .dataSync();
    const ref = tf
      .grad((x: Tensor) => tf.mul(diceCeLossOps(x as Tensor5D, lab, wt, opts), 2.5))(z)
      .dataSync();
    let worst = 0;
    let big = 0;
    for (let i = 0; i < ref.length; i++) {
      worst = Math.max(worst, Math.abs(fused[i] - ref[i]));
      big = Math.max(big, Math.abs(ref[i]));
    }
    expect(worst / big).toBeLessThan(1e-4);
    tf.dispose([z, lab, wt]);
  });
});

describe('AdamW and clipping', () => {
  it('follows the decoupled-decay formula with an lr multiplier over 3 steps', () => {
    const v = tf.variable(tf.tensor1d([0.5, -1, 2]));
    const opt = new AdamW([{ name: 'p', variable: v, lrMult: 0.1, decay: true }], { lr: 0.01, weightDecay: 0.1 });
    const p = [0.5, -1, 2];
    const m = [0, 0, 0];
    const s = [0, 0, 0];
    const gs = [
      [1, -2, 0.5],
      [0.3, 0.1, -1],
      [-2, 4, 1],
    ];
    for (let t = 1; t <= 3; t++) {
      tf.tidy(() => opt.apply(new Map([['p', tf.tensor1d(gs[t - 1])]])));
      for (let i = 0; i < 3; i++) {
        const g = gs[t - 1][i];
        m[i] = 0.9 * m[i] + 0.1 * g;
        s[i] = 0.999 * s[i] + 0.001 * g * g;
        const lr = 0.001;
        p[i] *= 1 - lr * 0.1;
        p[i] -= (lr * m[i]) / (1 - 0.9 ** t) / (Math.sqrt(s[i] / (1 - 0.999 ** t)) + 1e-8);
      }
    }
    const got = v.dataSync();
    for (let i = 0; i < 3; i++) expect(Math.abs(got[i] - p[i])).toBeLessThan(1e-6);
    opt.dispose();
    v.dispose();
  });

  it('apply(grads, scale) equals clipping the gradients first, bit for bit; getState returns copies', () => {
    const rnd = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + k) * 3);
    const run = (fold: boolean) => {
      const a = tf.variable(tf.tensor1d(rnd(37, 1)));
      const b = tf.variable(tf.tensor2d(rnd(12, 2), [3, 4]));
      const opt = new AdamW(
        [
          { name: 'a', variable: a, lrMult: 1, decay: true },
          { name: 'b', variable: b, lrMult: 0.1, decay: false },
        ],
        { lr: 0.01 },
      );
      let snapshot: Float32Array | null = null;
      for (let t = 0; t < 3; t++) {
        const grads = new Map<string, Tensor>([
          ['a', tf.tensor1d(rnd(37, 10 + t))],
          ['b', tf.tensor2d(rnd(12, 20 + t), [3, 4])],
        ]);
        if (fold) opt.apply(grads, clipScale(gradGlobalNorm(grads), 2));
        else {
          clipGradsByGlobalNorm(grads, 2);
          opt.apply(grads);
        }
        tf.dispose([...grads.values()]);
        if (t === 0) snapshot = opt.getState().get('a')!.m;
      }
      const before = Float32Array.from(snapshot!);
      const out = [a.dataSync().slice(), b.dataSync().slice(), opt.getState().get('b')!.v];
      // The moments are updated in place; a state taken earlier must not change with them.
      expect(snapshot).toEqual(before);
      expect(snapshot).not.toEqual(opt.getState().get('a')!.m);
      opt.dispose();
      tf.dispose([a, b]);
      return out;
    };
    const folded = run(true);
    const copied = run(false);
    for (let i = 0; i < folded.length; i++)
      expect(Buffer.from(folded[i].buffer).equals(Buffer.from(copied[i].buffer)), `output ${i}`).toBe(true);
    expect(clipScale(1, 2)).toBe(1);
    expect(clipScale(NaN, 2)).toBe(1);
  });

  it('clips the global norm and reports the norm before clipping', () => {
    const grads = new Map([
      ['a', tf.tensor1d([3, 0])],
      ['b', tf.tensor1d([0, 4])],
    ]);
    expect(clipGradsByGlobalNorm(grads, 1)).toBeCloseTo(5, 5);
    const after = Math.hypot(...grads.get('a')!.dataSync(), ...grads.get('b')!.dataSync());
    expect(after).toBeCloseTo(1, 4);
    tf.dispose([...grads.values()]);
  });
});

describe('training a tiny DeformUX-Net', () => {
  it('overfits one phantom patch: loss falls by >= 90 %', () => {
    const net = DeformUXNet.create(TINY, 1);
    const trainer = new Trainer(net, { lr: 3e-2, weightDecay: 0, clipNorm: 5 });
    const { image, labels } = phantomPatch(16, 16, 16, 3);
    const losses: number[] = [];
    for (let i = 0; i < 25; i++) losses.push(trainer.trainStep(image, labels).loss);
    console.log(`overfit losses: first ${losses[0].toFixed(4)}, last ${losses[losses.length - 1].toFixed(4)}`);
    expect(losses[losses.length - 1]).toBeLessThanOrEqual(0.1 * losses[0]);
    tf.dispose([image, labels]);
    trainer.dispose();
    net.dispose();
  });

  it('is deterministic for a seed and resumes exactly from a checkpoint', async () => {
    const { image, labels } = phantomPatch(16, 16, 16, 4);
    const run = (steps: number, net: DeformUXNet, trainer: Trainer): void => {
      for (let i = 0; i < steps; i++) trainer.trainStep(image, labels);
    };
    const netA = DeformUXNet.create(TINY, 7);
    const trainerA = new Trainer(netA, { lr: 5e-3 });
    run(3, netA, trainerA);
    const straight = netA.toTorch();

    const netB = DeformUXNet.create(TINY, 7);
    const trainerB = new Trainer(netB, { lr: 5e-3 });
    run(1, netB, trainerB);
    await trainerB.saveCheckpoint(join(dir, 'ckpt'), { samplerState: 42 });
    const netC = DeformUXNet.create(TINY, 99); // different init: everything must come from the checkpoint
    const trainerC = new Trainer(netC, { lr: 5e-3 });
    const extra = await trainerC.loadCheckpoint(join(dir, 'ckpt'));
    expect(extra).toEqual({ samplerState: 42 });
    expect(trainerC.step).toBe(1);
    run(2, netC, trainerC);
    const resumed = netC.toTorch();
    for (const [name, t] of straight) expect(resumed.get(name)!.data, name).toEqual(t.data);
    for (const x of [trainerA, trainerB, trainerC, netA, netB, netC]) x.dispose();
    tf.dispose([image, labels]);
  });
});
