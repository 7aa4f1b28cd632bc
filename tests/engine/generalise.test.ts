// What makes pre-labels and fine-tunes generalise: the synth phantom domain (deterministic per seed, varied
// across seeds), augmentation that keeps image and labels aligned, the short field of view, replay in every
// fine-tune batch, L2-SP toward the parent, and `deformux train --model` on a case off the model's grid.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePhantom } from '../../src-main/phantom';
import { recipeCases, recipeDims } from '../../src-main/phantom/replay';
import { initEngine, tf } from '../../src-main/engine/tf';
import { Rng } from '../../src-main/engine/model/rng';
import {
  augmentAppearance,
  drawAugment,
  finishEdgePad,
  IDENTITY3,
  PAD_COPY,
  synthAugmentSettings,
  warpPatch,
} from '../../src-main/train/augment';
import type { AugmentDraw } from '../../src-main/train/augment';
import { EDGE_PAD_IGNORE, foregroundIndices, sampleAugmentedBatch } from '../../src-main/train/sampler';
import type { TrainCase } from '../../src-main/train/sampler';
import { replaySlots, sampleMixedBatch } from '../../src-main/train/finetune';
import { finetuneClassBalanced, finetuneEdgePad } from '../../src-main/train/finetune-defaults';
import { AdamW } from '../../src-main/train/adamw';
import { writeNifti } from '../../src-main/imaging/nifti';
import type { Volume } from '../../src-main/imaging/volume';
import { writeTinyModel } from '../predict-cli/tiny-model';
import { TINY_TRAIN_CONFIG, writeTrainCase } from './fixtures/train-cases';
import { trainRun } from '../../src-main/train/run';
import { DeformUXNet } from '../../src-main/engine/model/network';
import { defaultMeta } from '../../src-main/engine/io/model_folder';
import { settleCandidate } from '../../src-main/cli/commands/train';

const ROOT = join(__dirname, '..', '..');
const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'deformux-generalise-'));
beforeAll(async () => {
  await initEngine();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A draw that changes nothing (identity, no shift, no noise). */
const NO_CHANGE: AugmentDraw = {
  matrix: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  intensityScale: 1,
  intensityShift: 0,
  noiseSigma: 0,
};

const SMALL = { dims: [48, 48, 40] as [number, number, number], spacingMm: [8, 8, 8] as [number, number, number] };

/** A case whose image is its label × 100 (so every image value says which label it belongs to). */
function labelledBlocks(): TrainCase {
  const [D, H, W] = [32, 32, 32];
  const labels = new Uint8Array(D * H * W);
  for (let z = 0; z < D; z++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const r = Math.hypot(z - 16, y - 14, x - 17);
        labels[(z * H + y) * W + x] = r < 6 ? 2 : r < 11 ? 1 : 0;
      }
  const image = Float32Array.from(labels, (l) => l * 100);
  return { name: 'blocks', image, labels, dimsDhw: [D, H, W], foreground: foregroundIndices(labels), padValue: -50 };
}

describe('synth phantom domain', () => {
  it('is deterministic per seed and differs between seeds (phase, kidney HU, noise)', () => {
    const a = generatePhantom({ seed: 11, schema: 'kidney', ...SMALL, domain: 'synth' });
    const b = generatePhantom({ seed: 11, schema: 'kidney', ...SMALL, domain: 'synth' });
    expect(
      Buffer.from((a.image.data as Int16Array).buffer).equals(Buffer.from((b.image.data as Int16Array).buffer)),
    ).toBe(true);
    expect(Buffer.from(a.label.data as Uint8Array).equals(Buffer.from(b.label.data as Uint8Array))).toBe(true);
    expect(a.meta.domain).toBe('synth');
    const phases = new Set<string>();
    const kidneyMedians: number[] = [];
    for (let seed = 1; seed <= 12; seed++) {
      const c = generatePhantom({ seed, schema: 'kidney', ...SMALL, domain: 'synth' });
      phases.add(c.meta.contrastPhase);
      const vals: number[] = [];
      (c.label.data as Uint8Array).forEach((l, i) => {
        if (l === 1) vals.push((c.image.data as Int16Array)[i]);
      });
      vals.sort((x, y) => x - y);
      kidneyMedians.push(vals[vals.length >> 1]);
    }
    // All four phases occur in 12 seeds, and kidneys range from native-like to strongly enhanced.
    expect(phases.size).toBeGreaterThanOrEqual(3);
    expect(Math.min(...kidneyMedians)).toBeLessThan(80);
    expect(Math.max(...kidneyMedians)).toBeGreaterThan(140);
  });

  it("leaves the standard domain's cases as they were", () => {
    const a = generatePhantom({ seed: 5, schema: 'pancreas', ...SMALL });
    const b = generatePhantom({ seed: 5, schema: 'pancreas', ...SMALL, domain: 'standard' });
    expect(a.meta.contrastPhase).toBe('portal');
    expect(
      Buffer.from((a.image.data as Int16Array).buffer).equals(Buffer.from((b.image.data as Int16Array).buffer)),
    ).toBe(true);
  });
});

describe('synth augmentation', () => {
  it('keeps image and labels aligned through rotation and scale (label voxels read their own intensity)', () => {
    const c = labelledBlocks();
    const s = { ...synthAugmentSettings('kidney'), spatialProb: 1, fovProb: 0 };
    const rng = new Rng(3);
    const patch: [number, number, number] = [24, 24, 24];
    const vox = 24 ** 3;
    for (let t = 0; t < 8; t++) {
      const draw = drawAugment(s, rng);
      const img = new Float32Array(vox);
      const lab = new Int32Array(vox);
      warpPatch(c, patch, [16, 14, 17], draw.matrix, img, lab, undefined, 0);
      let kidney = 0;
      let agree = 0;
      for (let i = 0; i < vox; i++) {
        if (lab[i] !== 1) continue;
        kidney++;
        if (Math.abs(img[i] - 100) <= 50) agree++;
      }
      // The shell's volume follows the drawn scale (det of the matrix), and its voxels read shell intensities.
      const m = draw.matrix;
      const det =
        m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
      const shellVoxels = c.labels.reduce((n, l) => n + (l === 1 ? 1 : 0), 0);
      expect(kidney * Math.abs(det)).toBeGreaterThan(shellVoxels * 0.85);
      expect(kidney * Math.abs(det)).toBeLessThan(shellVoxels * 1.15);
      expect(agree / kidney).toBeGreaterThan(0.97);
    }
  });

  it('a short field of view pads the planes outside it and labels them background', () => {
    const c = labelledBlocks();
    const patch: [number, number, number] = [32, 32, 32];
    const vox = 32 ** 3;
    const img = new Float32Array(vox);
    const lab = new Int32Array(vox);
    // Source planes ceil(15.5-4) = 12 .. floor(15.5+3) = 18 hold the scan; the patch reads plane z at z.
    warpPatch(c, patch, [15.5, 15.5, 15.5], [1, 0, 0, 0, 1, 0, 0, 0, 1], img, lab, undefined, 0, [4, 3]);
    for (let z = 0; z < 32; z++) {
      const inside = z >= 12 && z <= 18;
      let pad = 0;
      let fg = 0;
      for (let i = z * 1024; i < (z + 1) * 1024; i++) {
        if (img[i] === c.padValue) pad++;
        if (lab[i] > 0) fg++;
      }
      if (inside) expect(pad).toBe(0);
      else expect([pad, fg]).toEqual([1024, 0]);
    }
  });
});

describe('training patches padded as the sliding window pads a short scan (edge)', () => {
  it('past the scan ends and past a short field of view: the end planes, labelled for the loss to ignore', () => {
    const c = labelledBlocks();
    const patch: [number, number, number] = [32, 32, 32];
    const vox = 32 ** 3;
    const I = IDENTITY3;
    for (const fov of [undefined, [4, 3] as [number, number]]) {
      // Without a field of view the patch centre sits 10 planes below the volume's start: planes 0..9 are past it.
      const centre: [number, number, number] = fov ? [15.5, 15.5, 15.5] : [5.5, 15.5, 15.5];
      const [zLo, zHi] = fov ? [12, 18] : [0, 31];
      const plane = (z: number) => Math.min(zHi, Math.max(zLo, z + Math.round(centre[0] - 15.5)));
      const img = new Float32Array(vox);
      const lab = new Int32Array(vox);
      warpPatch(c, patch, centre, I, img, lab, undefined, 0, fov, true);
      const air = new Float32Array(vox);
      const labAir = new Int32Array(vox);
      warpPatch(c, patch, centre, I, air, labAir, undefined, 0, fov, false);
      finishEdgePad(lab, 0, vox, EDGE_PAD_IGNORE);
      let copied = 0;
      for (let z = 0; z < 32; z++) {
        const src = z + Math.round(centre[0] - 15.5);
        const inside = src >= zLo && src <= zHi;
        for (let y = 0; y < 32; y++)
          for (let x = 0; x < 32; x++) {
            const o = (z * 32 + y) * 32 + x;
            const i = (plane(z) * 32 + y) * 32 + x;
            expect(img[o]).toBe(c.image[i]);
            if (inside) expect([lab[o], labAir[o]]).toEqual([c.labels[i], c.labels[i]]);
            else {
              expect([lab[o], air[o], labAir[o]]).toEqual([EDGE_PAD_IGNORE, c.padValue, 0]);
              copied++;
            }
          }
      }
      expect(copied).toBe(fov ? 25 * 1024 : 10 * 1024);
    }
  });

  it('a field of view that misses the case (drawn past one of its ends) reads its nearest plane, never outside it', () => {
    const c = labelledBlocks();
    const vox = 32 ** 3;
    // Centred 2 planes into the case, the field of view covers 20 planes below the centre down to 15 below it (all
    // before plane 0); centred 2 planes before its end, 15 to 20 planes above it (all past plane 31).
    for (const [centreZ, fov, plane] of [
      [2, [20, -15], 0],
      [29, [-15, 20], 31],
    ] as [number, [number, number], number][]) {
      const img = new Float32Array(vox);
      const lab = new Int32Array(vox);
      warpPatch(c, [32, 32, 32], [centreZ, 15.5, 15.5], IDENTITY3, img, lab, undefined, 0, fov, true);
      for (let o = 0; o < vox; o++) {
        const i = plane * 1024 + (o % 1024);
        expect(img[o]).toBe(c.image[i]);
        const z = Math.floor(o / 1024) + centreZ - 15.5;
        // Only the one plane the scan holds keeps its label; the rest are copies, left out of the loss.
        expect(lab[o]).toBe(Math.round(z) === plane ? c.labels[i] : PAD_COPY + c.labels[i]);
      }
      // With air the patch is all padding, labelled background.
      const air = new Float32Array(vox);
      const labAir = new Int32Array(vox);
      warpPatch(c, [32, 32, 32], [centreZ, 15.5, 15.5], IDENTITY3, air, labAir, undefined, 0, fov, false);
      expect(air.every((v) => v === c.padValue)).toBe(true);
      expect(labAir.every((v) => v === 0)).toBe(true);
    }
  });

  it('a copied plane shifts with the class it copies; sampleAugmentedBatch leaves only the ignore label there', () => {
    const c = labelledBlocks();
    const vox = 32 ** 3;
    const img = new Float32Array(vox);
    const lab = new Int32Array(vox);
    // The field of view ends at plane 18, through the sphere (class 1 shell, class 2 core): copies of both classes.
    warpPatch(c, [32, 32, 32], [15.5, 15.5, 15.5], [1, 0, 0, 0, 1, 0, 0, 0, 1], img, lab, undefined, 0, [4, 3], true);
    const before = img.slice();
    augmentAppearance(img, lab, 0, [32, 32, 32], { ...NO_CHANGE, classShift: [0, 7, -13] });
    for (let o = 0; o < vox; o++) {
      const cls = lab[o] >= PAD_COPY ? lab[o] - PAD_COPY : lab[o];
      expect(img[o] - before[o]).toBeCloseTo(cls === 1 ? 7 : cls === 2 ? -13 : 0, 4);
    }
    // The batch sampler: voxels of the patch past a short case's ends carry EDGE_PAD_IGNORE, nothing else ≥ PAD_COPY.
    const short: TrainCase = {
      ...c,
      image: c.image.slice(0, 8 * 1024),
      labels: c.labels.slice(0, 8 * 1024),
      dimsDhw: [8, 32, 32],
    };
    short.foreground = foregroundIndices(short.labels);
    const b = sampleAugmentedBatch([short], 1, [16, 16, 16], new Rng(3), { edgePadIgnore: EDGE_PAD_IGNORE });
    const l = b.labels.dataSync();
    const ignored = l.filter((v) => v === EDGE_PAD_IGNORE).length;
    expect(ignored).toBe(8 * 256); // 16 planes read from 8: 4 past each end
    expect(l.every((v) => v === EDGE_PAD_IGNORE || v < PAD_COPY)).toBe(true);
    tf.dispose([b.image, b.labels]);
  });

  it('trainRun with edgePad trains on a case shorter than its patches (the padded voxels left out of the loss)', async () => {
    const data = join(dir, 'edge-data');
    mkdirSync(data, { recursive: true });
    await writeTrainCase(data, 'a', 1, 12); // 18 slices; the patches below are 32 deep
    const config = { ...TINY_TRAIN_CONFIG, out_channels: 3 };
    const net = DeformUXNet.create(config, 0);
    try {
      const r = await trainRun({
        dataDir: data,
        outDir: join(dir, 'edge-out'),
        net,
        meta: defaultMeta(config, 'kidney', ['background', 'kidney', 'tumor']),
        base: 'test',
        steps: 2,
        batch: 1,
        patch: [32, 16, 16],
        lr: 1e-3,
        seed: 0,
        edgePad: true,
      });
      expect(r.losses).toHaveLength(2);
      expect(r.losses.every(Number.isFinite)).toBe(true);
    } finally {
      net.dispose();
    }
  });

  it('a fine-tune pads so only when its model pads short scans with edge and its starter trained so', () => {
    expect(finetuneEdgePad({ trainShortScanPad: 'edge' }, 'edge')).toBe(true);
    expect(finetuneEdgePad({ trainShortScanPad: 'edge' }, 'air')).toBe(false);
    expect(finetuneEdgePad({}, 'edge')).toBe(false);
    expect(finetuneEdgePad(undefined, undefined)).toBe(false);
  });
});

describe('short fields of view off the patch centre (fovOffsetMm)', () => {
  const spacing: [number, number, number] = [3, 3, 3];
  const fovs = (offsetMm: number | undefined) => {
    const s = {
      ...synthAugmentSettings('kidney'),
      fovProb: 1,
      fovMm: [30, 90] as [number, number],
      fovOffsetMm: offsetMm,
    };
    const rng = new Rng(11);
    return Array.from({ length: 400 }, () => drawAugment(s, rng, spacing).fovVox!);
  };
  it('without it every field of view holds the patch centre', () => {
    for (const [below, above] of fovs(undefined)) {
      expect(below).toBeGreaterThanOrEqual(0);
      expect(above).toBeGreaterThanOrEqual(0);
    }
  });
  it('with it the centre spreads over ±offset and a share of the fields of view miss the patch centre', () => {
    const all = fovs(72);
    let missing = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (const [below, above] of all) {
      const lengthMm = (below + above) * 3;
      expect(lengthMm).toBeGreaterThanOrEqual(30 - 1e-9);
      expect(lengthMm).toBeLessThanOrEqual(90 + 1e-9);
      const centreOffMm = ((above - below) / 2) * 3;
      expect(Math.abs(centreOffMm)).toBeLessThanOrEqual(72 + 1e-9);
      lo = Math.min(lo, centreOffMm);
      hi = Math.max(hi, centreOffMm);
      if (below < 0 || above < 0) missing++;
    }
    expect(lo).toBeLessThan(-60);
    expect(hi).toBeGreaterThan(60);
    // The centre is outside when |offset| > length / 2: about 55 % for lengths 30-90 mm and offsets up to 72 mm.
    expect(missing / all.length).toBeGreaterThan(0.35);
    expect(missing / all.length).toBeLessThan(0.75);
  });
  it('a field of view above the centre leaves the patch centre padding and background', () => {
    const c = labelledBlocks();
    const vox = 32 ** 3;
    const img = new Float32Array(vox);
    const lab = new Int32Array(vox);
    // below = -3, above = 9: source planes ceil(15.5 + 3) = 19 .. floor(15.5 + 9) = 24 only.
    warpPatch(c, [32, 32, 32], [15.5, 15.5, 15.5], [1, 0, 0, 0, 1, 0, 0, 0, 1], img, lab, undefined, 0, [-3, 9]);
    for (let z = 0; z < 32; z++) {
      let pad = 0;
      for (let i = z * 1024; i < (z + 1) * 1024; i++) if (img[i] === c.padValue) pad++;
      if (z >= 19 && z <= 24) expect(pad).toBe(0);
      else expect(pad).toBe(1024);
    }
    for (let i = 0; i < 19 * 1024; i++) expect(lab[i]).toBe(0);
  });
});

describe('lesion contrast under per-class shifts', () => {
  it('lesions move with their organ within the jitter; without it every class shifts on its own', () => {
    const grouped = { ...synthAugmentSettings('kidney'), classShiftProb: 1, lesionShiftJitter: 0.1 };
    const free = { ...synthAugmentSettings('kidney'), classShiftProb: 1 };
    let apartFree = 0;
    for (let seed = 0; seed < 200; seed++) {
      const g = drawAugment(grouped, new Rng(seed), [3, 3, 3]).classShift!;
      const f = drawAugment(free, new Rng(seed), [3, 3, 3]).classShift!;
      expect(g[0]).toBe(0);
      // The organ's own shift is the same draw either way; lesions stay within ±0.1 of it.
      expect(g[1]).toBe(f[1]);
      expect(Math.abs(g[1])).toBeLessThanOrEqual(0.6);
      for (const c of [2, 3]) expect(Math.abs(g[c] - g[1])).toBeLessThanOrEqual(0.1 + 1e-9);
      if (Math.abs(f[2] - f[1]) > 0.3) apartFree++;
    }
    // Independent shifts often move a tumour far from its kidney (that is what the grouping prevents).
    expect(apartFree).toBeGreaterThan(40);
  });
});

describe('fine-tune replay and L2-SP', () => {
  it('every batch of two or more holds replay and own patches; batch 1 alternates', () => {
    for (let step = 0; step < 6; step++) {
      for (const batch of [2, 3, 4]) {
        const slots = replaySlots(step, batch, 0.5);
        expect(slots.some(Boolean)).toBe(true);
        expect(slots.some((x) => !x)).toBe(true);
      }
      expect(replaySlots(step, 1, 0.5)).toEqual([step % 2 === 1]);
      expect(replaySlots(step, 2, 0)).toEqual([false, false]);
    }
  });

  it('a fine-tune samples lesions as its starter did, unless told otherwise', () => {
    expect(finetuneClassBalanced(undefined, { classBalanced: false })).toBe(false);
    expect(finetuneClassBalanced(undefined, { classBalanced: true })).toBe(true);
    // Nothing recorded (or not a boolean): the default, class by class.
    expect(finetuneClassBalanced(undefined, undefined)).toBe(true);
    expect(finetuneClassBalanced(undefined, { classBalanced: 'no' })).toBe(true);
    expect(finetuneClassBalanced(true, { classBalanced: false })).toBe(true);
    expect(finetuneClassBalanced(false, { classBalanced: true })).toBe(false);
  });

  it('sampleMixedBatch draws the replay slots from the replay cases', () => {
    const own = labelledBlocks();
    const replay = { ...labelledBlocks(), name: 'recipe' };
    const rng = new Rng(1);
    for (let step = 0; step < 4; step++) {
      const b = sampleMixedBatch([own], [replay], replaySlots(step, 2, 0.5), [16, 16, 16], rng, {
        foregroundProb: 0.5,
        augment: synthAugmentSettings('kidney'),
      });
      expect(b.image.shape).toEqual([2, 16, 16, 16, 1]);
      expect(b.picked[0]).toMatch(/^blocks@/);
      expect(b.picked[1]).toMatch(/^replay:recipe@/);
      tf.dispose([b.image, b.labels]);
    }
  });

  it('recipe cases are the synth phantoms of the schema at the given spacing, cropped around the organ in place', () => {
    const [a] = recipeCases('pancreas', [8, 8, 8], 1, { domain: 'synth' });
    const p = generatePhantom({
      seed: 1,
      schema: 'pancreas',
      dims: recipeDims([8, 8, 8]),
      spacingMm: [8, 8, 8],
      domain: 'synth',
    });
    expect(a.id).toBe('synth-pancreas-1');
    const count = (v: Uint8Array) => v.reduce((n, x) => n + (x > 0 ? 1 : 0), 0);
    // Every organ voxel kept, fewer voxels in all, and each kept voxel where it was in patient space.
    expect(count(a.label.data as Uint8Array)).toBe(count(p.label.data as Uint8Array));
    expect(a.image.data.length).toBeLessThan(p.image.data.length);
    const [ni, nj] = a.image.dims;
    const [pi, pj] = p.image.dims;
    const off = [0, 1, 2].map((k) => Math.round((a.image.originMm[k] - p.image.originMm[k]) / 8));
    for (const q of [0, 1234, a.image.data.length - 1]) {
      const i = q % ni;
      const j = Math.floor(q / ni) % nj;
      const k = Math.floor(q / (ni * nj));
      const src = i + off[0] + pi * (j + off[1] + pj * (k + off[2]));
      expect(a.image.data[q]).toBe(p.image.data[src]);
    }
  });

  it('AdamW anchorDecay pulls toward the parent weights, plain decay toward zero', () => {
    const run = (anchorDecay: number): number[] => {
      const v = tf.variable(tf.tensor1d([1, -1, 0.5]));
      const anchor = new Map([['w', Float32Array.from([1, -1, 0.5])]]);
      const opt = new AdamW([{ name: 'w', variable: v, lrMult: 1, decay: true }], {
        lr: 0.01,
        weightDecay: 0,
        anchor,
        anchorDecay,
      });
      // A constant gradient pushing every weight up.
      for (let s = 0; s < 200; s++) opt.apply(new Map([['w', tf.ones([3])]]));
      const out = Array.from(v.dataSync());
      opt.dispose();
      v.dispose();
      return out.map((x, i) => x - [1, -1, 0.5][i]);
    };
    const free = run(0);
    const held = run(50);
    for (let i = 0; i < 3; i++) {
      expect(free[i]).toBeLessThan(-1.5); // 200 steps of lr 0.01 against the gradient
      expect(Math.abs(held[i])).toBeLessThan(Math.abs(free[i]) / 5);
    }
  });
});

describe('deformux train --model', () => {
  it('fine-tunes on a case off the model grid through the app loop: replay holdout scored, record written', async () => {
    const models = join(dir, 'models');
    mkdirSync(models, { recursive: true });
    const base = await writeTinyModel(models, 'kidney', 'kidney-lite', [8, 8, 8]);
    const data = join(dir, 'data');
    mkdirSync(data, { recursive: true });
    // A phantom at 4 mm in LPS: the model runs at 8 mm RAS, so the case must be reoriented and resampled.
    const c = generatePhantom({ seed: 2, schema: 'kidney', dims: [96, 96, 40], spacingMm: [4, 4, 8] });
    await writeNifti(join(data, 'p_image.nii.gz'), c.image as Volume);
    await writeNifti(join(data, 'p_label.nii.gz'), c.label as Volume);
    const out = join(dir, 'tuned');
    const run = exec(
      process.execPath,
      [
        join(ROOT, 'bin', 'deformux.mjs'),
        'train',
        '--data',
        data,
        '--schema',
        'kidney',
        '--model',
        base,
        '--out',
        out,
        '--steps',
        '4',
      ],
      { cwd: ROOT, timeout: 120_000 },
    );
    const { stderr } = await run.catch((err: { stderr: string }) => {
      throw new Error(`train failed: ${err.stderr}`, { cause: err });
    });
    expect(stderr).toMatch(
      /replay holdout \(6 synthetic cases never trained on\) Dice pooled per class \d\.\d{3} -> \d\.\d{3}/,
    );
    // As the app promotes: OUT is the candidate, or the base with the candidate beside it; finetune.json says which.
    const outcome = JSON.parse(readFileSync(join(out, 'finetune.json'), 'utf8'));
    expect(stderr).toContain(outcome.reason);
    const cand = outcome.candidate === '.' ? out : join(out, 'candidate');
    expect(outcome.candidate === '.' || outcome.candidate === 'candidate').toBe(true);
    if (outcome.candidate === 'candidate') {
      expect(outcome.promoted).toBe(false);
      expect(
        readFileSync(join(out, 'weights.safetensors')).equals(readFileSync(join(base, 'weights.safetensors'))),
      ).toBe(true);
    }
    const meta = JSON.parse(readFileSync(join(cand, 'model.json'), 'utf8'));
    expect(meta.finetune.settings).toMatchObject({
      replayCases: 8,
      replayShare: 0.5,
      anchorDecay: 100,
      encoderLrMult: 0.1,
    });
    expect(meta.finetune.settings.lr).toBe(2e-4);
    expect(meta.metrics.replay_holdout_dice).toBeGreaterThanOrEqual(0);
    // The patch trained on is the model's grid's (16³ at 8 mm), whatever the case's own grid was.
    expect(meta.training.at(-1).patchSize).toEqual([16, 16, 16]);
  }, 150_000);
});

describe('deformux train --model: what --out holds', () => {
  const holdout = (replayBase: number, replayCand: number, trained?: [number, number]) => ({
    base: null,
    candidate: null,
    perCase: [],
    notWorse: null,
    replay: { base: replayBase, candidate: replayCand, cases: 6 },
    ...(trained ? { trained: { base: trained[0], candidate: trained[1], cases: 1 } } : {}),
  });
  const folders = (name: string) => {
    const baseDir = join(dir, `${name}-base`);
    const outDir = join(dir, `${name}-out`);
    for (const [d, tag] of [
      [baseDir, 'base'],
      [outDir, 'candidate'],
    ]) {
      mkdirSync(d, { recursive: true });
      for (const f of ['config.json', 'model.json', 'weights.safetensors']) writeFileSync(join(d, f), `${tag} ${f}`);
    }
    return { baseDir, outDir };
  };
  const read = (d: string, f: string) => readFileSync(join(d, f), 'utf8');

  it('a candidate that forgets leaves the base in --out and moves itself to --out/candidate', async () => {
    const { baseDir, outDir } = folders('forgets');
    const o = await settleCandidate(baseDir, outDir, holdout(0.54, 0.49, [0.77, 0.88]), false);
    expect(o).toMatchObject({ promoted: false, candidate: 'candidate' });
    expect(o.reason).toMatch(/forgets/);
    for (const f of ['config.json', 'model.json', 'weights.safetensors']) {
      expect(read(outDir, f)).toBe(`base ${f}`);
      expect(read(join(outDir, 'candidate'), f)).toBe(`candidate ${f}`);
    }
    expect(JSON.parse(read(outDir, 'finetune.json'))).toEqual(o);
    expect(readdirSync(dir).filter((n) => n.includes('forgets-out.base-'))).toEqual([]);
  });

  it('worse on the case it trained on: also the base', async () => {
    const { baseDir, outDir } = folders('trained');
    const o = await settleCandidate(baseDir, outDir, holdout(0.54, 0.545, [0.77, 0.62]), false);
    expect(o).toMatchObject({ promoted: false, candidate: 'candidate' });
    expect(read(outDir, 'weights.safetensors')).toBe('base weights.safetensors');
  });

  it('a candidate that is not worse stays in --out; --keep-candidate keeps any', async () => {
    const ok = folders('ok');
    const o = await settleCandidate(ok.baseDir, ok.outDir, holdout(0.54, 0.535, [0.77, 0.8]), false);
    expect(o).toMatchObject({ promoted: true, candidate: '.' });
    expect(read(ok.outDir, 'weights.safetensors')).toBe('candidate weights.safetensors');
    const kept = folders('kept');
    const k = await settleCandidate(kept.baseDir, kept.outDir, holdout(0.54, 0.3), true);
    expect(k).toMatchObject({ promoted: false, candidate: '.' });
    expect(read(kept.outDir, 'weights.safetensors')).toBe('candidate weights.safetensors');
    expect(JSON.parse(read(kept.outDir, 'finetune.json')).reason).toMatch(/forgets/);
  });
});
