// The starter-model trainer (npm run train:starter) at its smoke settings: recorded settings, synthetic
// provenance, held-out metrics, and bit-identical weights when run twice (reproducible).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { starterSettings, trainingPhantomDraw, trainStarter } from '../../src-main/jobs/train-starter';
import { loadModelFolder } from '../../src-main/engine/io/model_folder';
import { modelRecipe } from '../../src-main/train/recipe';
import { PHANTOM_GENERATOR_VERSION } from '../../src-main/phantom';
import { readSafetensors } from '../../src-main/engine/io/safetensors';
import { finetuneAugmentSettings, synthAugmentSettings } from '../../src-main/train/augment';

const dir = mkdtempSync(join(tmpdir(), 'deformux-starter-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('train:starter (smoke settings)', () => {
  it('writes a loadable model folder with synthetic provenance, settings and held-out Dice, reproducibly', async () => {
    // Smaller phantoms than the smoke settings (12 mm voxels) keep this test quick on a shared 2-core machine.
    const s = {
      ...starterSettings('smoke', 'kidney'),
      trainSeeds: [1],
      phantomDims: [32, 32, 27] as [number, number, number],
      targetSpacingMm: [12, 12, 12] as [number, number, number],
    };
    const log: string[] = [];
    const a = await trainStarter('kidney', s, join(dir, 'a', 'kidney-lite'), join(dir, 'work-a'), (l) => log.push(l));
    const b = await trainStarter('kidney', s, join(dir, 'b', 'kidney-lite'), join(dir, 'work-b'), () => undefined);
    expect(log.some((l) => l.includes('step 2/2'))).toBe(true);

    const json = JSON.parse(readFileSync(join(a.outDir, 'model.json'), 'utf8')) as Record<string, unknown>;
    expect(json.syntheticTrainingData).toBe(true);
    expect(String(json.provenance)).toMatch(/SYNTHETIC phantoms/);
    expect((json.starterSettings as { trainSeeds: number[] }).trainSeeds).toEqual([1]);
    expect((json.training as { data: string }[]).at(-1)!.data).toBe('1 synthetic phantom (seeds 1..1)');
    for (const k of ['heldout_dice_kidney', 'heldout_dice_tumor']) {
      const v = a.metrics[k];
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect((json.metrics as Record<string, number>).heldout_cases).toBe(1);
    // Lesions called in the lesion-free twins of the held-out phantoms (mL per case; a random tiny network calls some).
    expect(Number.isFinite(a.metrics.heldout_lesion_free_lesion_ml)).toBe(true);
    expect(a.metrics.heldout_lesion_free_lesion_ml).toBeGreaterThanOrEqual(0);
    // Same seeds and settings → the same weights, byte for byte, and the same metrics.
    const wa = readFileSync(join(a.outDir, 'weights.safetensors'));
    const wb = readFileSync(join(b.outDir, 'weights.safetensors'));
    expect(wa.equals(wb)).toBe(true);
    expect(b.metrics).toEqual(a.metrics);
    const loaded = await loadModelFolder(a.outDir);
    expect(loaded.meta.classes).toEqual(['background', 'kidney', 'tumor', 'cyst']);
    expect(loaded.meta.inference.maxPatchSize).toEqual(s.maxInferencePatch ?? undefined);
    expect(loaded.meta.inference.patchSize).toEqual(s.inferencePatch);
    loaded.net.dispose();

    // A run stopped early (stopAt < steps) ships the checkpoint of step stopAt and records it.
    const c = await trainStarter(
      'kidney',
      { ...s, steps: 3, stopAt: 1 },
      join(dir, 'c', 'kidney-lite'),
      join(dir, 'work-c'),
      () => undefined,
    );
    const jc = JSON.parse(readFileSync(join(c.outDir, 'model.json'), 'utf8')) as {
      starterSettings: { stepsDone: number };
      training: { steps: number; base: string }[];
    };
    expect(jc.starterSettings.stepsDone).toBe(1);
    expect(jc.training.at(-1)!.steps).toBe(1);
    expect(jc.training.at(-1)!.base).toMatch(/stopped at step 1 of a 3-step schedule/);
    expect(existsSync(join(c.outDir, 'checkpoint'))).toBe(false);
    expect(readFileSync(join(c.outDir, 'weights.safetensors')).equals(wa)).toBe(false);

    // A phase from a warm start, shipped as the half-way weight average with that start (averageWithStart).
    const before = process.env.DEFORMUX_STARTER_INIT_DIR;
    process.env.DEFORMUX_STARTER_INIT_DIR = join(dir, 'a');
    try {
      const phase = { ...s, initFrom: { folder: 'resources/models/kidney-lite', commit: 'run a of this test' } };
      const trained = await trainStarter('kidney', phase, join(dir, 'e', 'kidney-lite'), join(dir, 'work-e'), () => {});
      const averaged = await trainStarter(
        'kidney',
        { ...phase, averageWithStart: 0.5 },
        join(dir, 'd', 'kidney-lite'),
        join(dir, 'work-d'),
        () => {},
      );
      const start = await readSafetensors(join(a.outDir, 'weights.safetensors'));
      const end = await readSafetensors(join(trained.outDir, 'weights.safetensors'));
      const got = await readSafetensors(join(averaged.outDir, 'weights.safetensors'));
      let moved = 0;
      for (const [name, t] of got) {
        const s0 = start.get(name)!.data;
        const s1 = end.get(name)!.data;
        for (let i = 0; i < t.data.length; i++) {
          expect(t.data[i]).toBe(Math.fround(s0[i] + 0.5 * (s1[i] - s0[i])));
          if (s1[i] !== s0[i]) moved++;
        }
      }
      expect(moved).toBeGreaterThan(0);
      const jd = JSON.parse(readFileSync(join(averaged.outDir, 'model.json'), 'utf8')) as {
        training: { base: string }[];
        starterSettings: { averageWithStart: number };
      };
      expect(jd.training.at(-1)!.base).toMatch(/run a of this test.*start \+ 0\.5 · \(trained − start\)/);
      expect(jd.starterSettings.averageWithStart).toBe(0.5);
      // The held-out figures are the averaged model's.
      expect(averaged.metrics).not.toEqual(trained.metrics);
    } finally {
      if (before === undefined) delete process.env.DEFORMUX_STARTER_INIT_DIR;
      else process.env.DEFORMUX_STARTER_INIT_DIR = before;
    }
  }, 180_000);
});

describe('training phantom draws', () => {
  it("the kidney starter's set mixes portal-venous and synth phantoms, lesion-free in both", () => {
    const s = starterSettings('full', 'kidney');
    const draws = s.trainSeeds.map((seed) => trainingPhantomDraw(seed, s));
    const standard = draws.filter((d) => d.domain === 'standard');
    const synth = draws.filter((d) => d.domain === 'synth');
    expect(standard.length + synth.length).toBe(s.trainSeeds.length);
    // standardShare of every hundred seeds in whole tens (0.5: seeds 1..49).
    const tens = Math.round(s.standardShare! * 10);
    expect(standard.length).toBe(s.trainSeeds.filter((seed) => Math.floor(seed / 10) < tens).length);
    expect(standard.length / s.trainSeeds.length).toBeCloseTo(s.standardShare!, 1);
    // lesionFreeShare of every ten seeds (the seed's last digit below it), in both domains.
    for (const d of [standard, synth]) {
      const free = d.filter((x) => x.lesionFree).length / d.length;
      expect(free).toBeGreaterThan(s.lesionFreeShare! - 0.1);
      expect(free).toBeLessThan(s.lesionFreeShare! + 0.1);
    }
    // Without the shares every phantom is in the settings' domain, with its lesions.
    const plain = { ...s, standardShare: undefined, lesionFreeShare: undefined };
    expect(s.trainSeeds.every((seed) => trainingPhantomDraw(seed, plain).domain === 'synth')).toBe(true);
    expect(s.trainSeeds.some((seed) => trainingPhantomDraw(seed, plain).lesionFree)).toBe(false);
  });

  it('the shipped starters record the generator they trained on, as their settings do, and replay it', () => {
    for (const schema of ['kidney', 'pancreas'] as const) {
      const meta = JSON.parse(
        readFileSync(
          join(import.meta.dirname, '..', '..', 'resources', 'models', `${schema}-lite`, 'model.json'),
          'utf8',
        ),
      ) as { starterSettings: Record<string, unknown>; inference: { shortScanPad?: string } };
      // Short scans: the kidney starter's windows read the end slices past a short scan's ends, the pancreas's air
      // (measured per model); its model.json says what its settings say.
      expect(meta.inference.shortScanPad).toBe(schema === 'kidney' ? 'edge' : undefined);
      expect(meta.starterSettings.shortScanPad).toBe(starterSettings('full', schema).shortScanPad);
      // The pancreas starter trained on generator v2 (before oral contrast), the kidney's last phase on v4 (renal
      // sinus detail); the current generator may be newer than either.
      const version = schema === 'kidney' ? 4 : 2;
      expect(meta.starterSettings.synthVersion).toBe(version);
      expect(starterSettings('full', schema).synthVersion).toBe(version);
      expect(PHANTOM_GENERATOR_VERSION).toBeGreaterThanOrEqual(version);
      expect(modelRecipe(meta.starterSettings).synthVersion).toBe(version);
      // The kidney's ninth to eleventh phases trained with generator v7's renal pelvis on v4's draws; its replay draws it too.
      const pelvis = schema === 'kidney' ? true : undefined;
      expect(meta.starterSettings.renalPelvis).toBe(pelvis);
      expect(starterSettings('full', schema).renalPelvis).toBe(pelvis);
      expect(modelRecipe(meta.starterSettings).renalPelvis).toBe(pelvis);
      // The blur its last phase trained with (60 % of patches up to σ 1.6, against the recipe's 25 %), and
      // fine-tuning it blurs the same.
      expect(meta.starterSettings.blur).toEqual(starterSettings('full', schema).blur);
      const ft = finetuneAugmentSettings(schema, meta.starterSettings);
      const recipe = synthAugmentSettings(schema);
      expect([ft.blurProb, ft.maxBlurSigma]).toEqual([0.6, 1.6]);
      expect(recipe.blurProb).toBe(0.25);
    }
    // A malformed record is ignored.
    const bad = finetuneAugmentSettings('pancreas', { blur: { prob: 3, maxSigma: 1 } });
    expect(bad.blurProb).toBe(synthAugmentSettings('pancreas').blurProb);
    // The short fields of view a starter trained with (starterSettings.fov) are followed too; a malformed one is not.
    const fov = finetuneAugmentSettings('kidney', { fov: { prob: 0.35, mm: [30, 240], offsetMm: 72 } });
    expect([fov.fovProb, fov.fovMm, fov.fovOffsetMm]).toEqual([0.35, [30, 240], 72]);
    const badFov = finetuneAugmentSettings('kidney', { fov: { prob: 0.35, mm: [240, 30], offsetMm: 72 } });
    expect([badFov.fovProb, badFov.fovMm, badFov.fovOffsetMm]).toEqual([0.25, [75, 240], undefined]);
  });
});
