// Fine-tune replay follows the recipe the model's starter trained on (model.json starterSettings): its domains,
// its lesion-free share, its generator version and its lesion-shift augmentation; the replay holdout includes a
// lesion-free case.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatePhantom } from '../../src-main/phantom';
import {
  cropToLabels,
  recipeCases,
  recipeDims,
  recipeDraw,
  recipePhantom,
  replayHoldoutDraw,
  replaySeeds,
} from '../../src-main/phantom/replay';
import { REPLAY_MARGIN_MM } from '../../src-main/phantom/replay';
import { modelRecipe } from '../../src-main/train/recipe';
import { finetuneAugmentSettings } from '../../src-main/train/augment';
import type { Vec3 } from '../../src-main/imaging/volume';

const SPACING: Vec3 = [8, 8, 8];
const lesionVoxels = (v: ArrayLike<number>) => Array.from(v).filter((x) => x >= 2).length;

describe('replay recipe', () => {
  it('reads the shipped kidney starter recipe from its model.json', () => {
    const meta = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', '..', 'resources', 'models', 'kidney-lite', 'model.json'), 'utf8'),
    );
    const r = modelRecipe(meta.starterSettings);
    expect(r).toMatchObject({
      domain: meta.starterSettings.domain,
      lesionFreeShare: meta.starterSettings.lesionFreeShare,
      standardShare: meta.starterSettings.standardShare,
    });
    // Its last phase trained on generator v4's synth draws (renal sinus detail) and records so, and replays them; a
    // model that records an earlier generator replays that one (below), one that records none the current generator.
    expect(meta.starterSettings.synthVersion).toBe(4);
    expect(r.synthVersion).toBe(4);
    expect(modelRecipe({ ...meta.starterSettings, synthVersion: 1 }).synthVersion).toBe(1);
    expect(modelRecipe({ ...meta.starterSettings, synthVersion: 3 }).synthVersion).toBe(3);
    expect(modelRecipe({ ...meta.starterSettings, synthVersion: undefined }).synthVersion).toBeUndefined();
    expect(modelRecipe({ ...meta.starterSettings, synthVersion: 9 }).synthVersion).toBeUndefined();
    // The renal pelvis (generator v7's, asked for at v4) replays as recorded.
    expect(r.renalPelvis).toBe(true);
    expect(modelRecipe({ ...meta.starterSettings, renalPelvis: undefined }).renalPelvis).toBeUndefined();
    expect(modelRecipe({ ...meta.starterSettings, renalPelvis: 'yes' }).renalPelvis).toBeUndefined();
    const draw = { domain: 'standard' as const, lesionFree: true };
    expect(recipePhantom('kidney', { renalPelvis: true }, 3, draw, [40, 40, 34], SPACING).meta.renalPelvis).toBe(true);
    expect(recipePhantom('kidney', {}, 3, draw, [40, 40, 34], SPACING).meta.renalPelvis).toBeUndefined();
    expect(r.trainSeeds).toEqual(meta.starterSettings.trainSeeds);
    // The fine-tune augments as the starter did: lesions shift with their organ.
    expect(finetuneAugmentSettings('kidney', meta.starterSettings).lesionShiftJitter).toBe(
      meta.starterSettings.lesionShiftJitter,
    );
    expect(meta.starterSettings.lesionShiftJitter).toBeGreaterThan(0);
    expect(finetuneAugmentSettings('kidney', undefined).lesionShiftJitter).toBeUndefined();
    // Nothing recorded: the synth domain with lesions in every phantom, as replay always drew before.
    expect(modelRecipe(undefined)).toEqual({ domain: 'synth' });
    expect(modelRecipe({ domain: 'bogus' as never, lesionFreeShare: 7 })).toEqual({});
  });

  it('a few replay cases keep the starter mix: both domains and lesion-free phantoms, spread over its seeds', () => {
    const recipe = { domain: 'synth' as const, lesionFreeShare: 0.3, standardShare: 0.5, synthVersion: 1 as const };
    const seeds = replaySeeds({ ...recipe, trainSeeds: Array.from({ length: 96 }, (_, i) => i + 1) }, 8);
    expect(seeds).toEqual([1, 13, 25, 37, 49, 61, 73, 85]);
    const cases = recipeCases('kidney', SPACING, 8, recipe);
    const ids = cases.map((c) => c.id);
    expect(ids.filter((id) => id.startsWith('standard')).length).toBe(5);
    expect(ids.filter((id) => id.startsWith('synth')).length).toBe(3);
    const plain = cases.filter((c) => c.id.includes('-plain-'));
    expect(plain.map((c) => c.id)).toEqual(['standard-plain-kidney-1', 'synth-plain-kidney-61']);
    for (const c of plain) expect(lesionVoxels(c.label.data)).toBe(0);
    // (On this coarse 8 mm grid a small lesion may fall between voxel centres.)
    const withLesions = cases.filter((c) => !c.id.includes('-plain-') && lesionVoxels(c.label.data) > 0);
    expect(withLesions.length).toBeGreaterThanOrEqual(4);
    // The recorded generator version: synth seed 73 is generator v1's draw, not the current one's.
    const c73 = cases.find((c) => c.id === 'synth-kidney-73')!;
    const draw = (synthVersion?: 1) =>
      cropToLabels(
        ...((p) => [p.image, p.label] as const)(
          generatePhantom({
            seed: 73,
            schema: 'kidney',
            dims: recipeDims(SPACING),
            spacingMm: SPACING,
            domain: 'synth',
            ...(synthVersion ? { synthVersion } : {}),
          }),
        ),
        REPLAY_MARGIN_MM,
      );
    expect(Buffer.from(c73.image.data.buffer).equals(Buffer.from(draw(1).image.data.buffer))).toBe(true);
    expect(Buffer.from(c73.image.data.buffer).equals(Buffer.from(draw().image.data.buffer))).toBe(false);
  });

  it('a metal share forces metal into its share of seeds, in any domain, apart from the other patterns', () => {
    const recipe = { domain: 'synth' as const, lesionFreeShare: 0.3, standardShare: 0.5, metalShare: 0.5 };
    const draws = Array.from({ length: 100 }, (_, i) => ({ seed: i + 1, ...recipeDraw(i + 1, recipe) }));
    expect(draws.filter((d) => d.metal).length).toBe(50);
    // Every combination of domain and lesions gets its part of the metal (the patterns are independent).
    for (const domain of ['synth', 'standard'])
      for (const lesionFree of [false, true]) {
        const group = draws.filter((d) => d.domain === domain && d.lesionFree === lesionFree);
        const share = group.filter((d) => d.metal).length / group.length;
        expect(share).toBeGreaterThan(0.3);
        expect(share).toBeLessThan(0.7);
      }
    expect(draws.some((d) => recipeDraw(d.seed, { ...recipe, metalShare: undefined }).metal)).toBe(false);
    expect(modelRecipe({ ...recipe }).metalShare).toBe(0.5);
    expect(modelRecipe({ ...recipe, metalShare: 2 }).metalShare).toBeUndefined();
    // Forced metal reaches the generator even in the portal-venous domain, which never draws it on its own.
    const dims = recipeDims(SPACING);
    const seed = draws.find((d) => d.metal && d.domain === 'standard')!.seed;
    const withMetal = recipePhantom('pancreas', recipe, seed, recipeDraw(seed, recipe), dims, SPACING);
    const without = recipePhantom(
      'pancreas',
      { ...recipe, metalShare: 0 },
      seed,
      recipeDraw(seed, { ...recipe, metalShare: 0 }),
      dims,
      SPACING,
    );
    expect(withMetal.meta.metal).toBeDefined();
    expect(without.meta.metal).toBeUndefined();
    expect(Buffer.from(withMetal.image.data.buffer).equals(Buffer.from(without.image.data.buffer))).toBe(false);
  });

  it('the replay holdout alternates the domains and holds a lesion-free case', () => {
    const recipe = { domain: 'synth' as const, lesionFreeShare: 0.3, standardShare: 0.5 };
    expect([0, 1, 2].map((k) => replayHoldoutDraw(k, recipe))).toEqual([
      { domain: 'synth', lesionFree: false },
      { domain: 'standard', lesionFree: false },
      { domain: 'synth', lesionFree: true },
    ]);
    const held = recipeCases('pancreas', SPACING, 3, recipe, { holdout: true });
    expect(held.map((c) => c.id)).toEqual([
      'synth-pancreas-100001',
      'standard-pancreas-100002',
      'synth-plain-pancreas-100003',
    ]);
    expect(lesionVoxels(held[2].label.data)).toBe(0);
    // Without a recorded recipe: the synth domain, lesions everywhere.
    expect([0, 1, 2].map((k) => replayHoldoutDraw(k, { domain: 'synth' }).lesionFree)).toEqual([false, false, false]);
  });
});
