// The starters' synthetic recipe as fine-tuning cases: replay mixed into every batch (so a fine-tune on one
// patient keeps what generalised) and a replay holdout scored before and after (forgetting shows there even
// when the project has no real holdout case yet).
import { allocVoxels, voxelTypeOf } from '../imaging/volume';
import type { Vec3, Volume } from '../imaging/volume';
import { DEFAULT_FIELD_OF_VIEW_MM, generatePhantom } from './generate';
import type { PhantomCase, PhantomDomain, PhantomSchema, SynthVersion } from './generate';
import type { PhaseWeights } from './hu';

/** The starters' training seeds start at 1 and their held-out seeds at 100001 (jobs/train-starter.ts). */
export const REPLAY_TRAIN_SEED0 = 1;
export const REPLAY_HOLDOUT_SEED0 = 100_001;

/**
 * How a starter drew its training phantoms, as its model.json records them (`starterSettings`); every field
 * optional (absent: the portal-venous 'standard' domain of the current generator, lesions in every phantom,
 * seeds 1..96).
 */
export interface PhantomRecipe {
  domain?: PhantomDomain;
  /** Share of phantoms without lesions: the first `lesionFreeShare` of every ten seeds. */
  lesionFreeShare?: number;
  /** Share of phantoms in the portal-venous 'standard' domain: the first `standardShare` of every hundred seeds, in tens. */
  standardShare?: number;
  /** An earlier generator's synth draws (generate.ts synthVersion); absent: the current generator's. */
  synthVersion?: SynthVersion;
  /** Weights of the contrast phases in synth-domain phantoms (absent: the four alike). */
  phaseWeights?: PhaseWeights;
  /**
   * Share of phantoms drawn with metal forced in, in any domain (generate.ts `metal`): seeds whose golden-ratio
   * fraction (seed · 0.618…, mod 1) is below it, spread evenly over the seeds and across the lesion-free and
   * standard patterns (which follow the seed's digits). The others keep the generator's own draw (metal in a share of
   * synth-domain v5 cases). Absent: the generator's draw only.
   */
  metalShare?: number;
  /** The renal pelvis drawn out through the hilum in every phantom, any domain (generate.ts `renalPelvis`). */
  renalPelvis?: boolean;
  trainSeeds?: number[];
}

export interface RecipeDraw {
  domain: PhantomDomain;
  lesionFree: boolean;
  /** Metal forced in (recipe metalShare); absent: the generator's own draw. */
  metal?: true;
}

const GOLDEN_FRACTION = (Math.sqrt(5) - 1) / 2;

/** The domain, lesions and metal of recipe phantom `seed`, by the starters' fixed seed patterns. */
export function recipeDraw(seed: number, r: PhantomRecipe): RecipeDraw {
  const lesionFree = r.lesionFreeShare !== undefined && seed % 10 < Math.round(r.lesionFreeShare * 10);
  const standard = r.standardShare !== undefined && Math.floor(seed / 10) % 10 < Math.round(r.standardShare * 10);
  const metal = r.metalShare !== undefined && (seed * GOLDEN_FRACTION) % 1 < r.metalShare;
  return { domain: standard ? 'standard' : (r.domain ?? 'standard'), lesionFree, ...(metal ? { metal: true } : {}) };
}

/** One phantom of a recipe: `dims` voxels of `spacingMm`, in `domain`, with or without lesions. */
export function recipePhantom(
  schema: PhantomSchema,
  r: PhantomRecipe,
  seed: number,
  draw: RecipeDraw,
  dims: Vec3,
  spacingMm: Vec3,
  signal?: AbortSignal,
): PhantomCase {
  return generatePhantom({
    seed,
    schema,
    dims,
    spacingMm,
    domain: draw.domain,
    signal,
    ...(r.synthVersion ? { synthVersion: r.synthVersion } : {}),
    ...(r.phaseWeights ? { phaseWeights: r.phaseWeights } : {}),
    ...(draw.lesionFree ? { domainShift: { lesions: false } } : {}),
    ...(draw.metal ? { metal: true } : {}),
    ...(r.renalPelvis ? { renalPelvis: true } : {}),
  });
}

/**
 * `count` seeds spread evenly over the recipe's training seeds, so a few replay cases keep the mix of domains
 * and lesion-free phantoms the starter trained on (seeds 1..8 alone would all be portal-venous with lesions).
 */
export function replaySeeds(r: PhantomRecipe, count: number): number[] {
  const seeds = r.trainSeeds?.length ? r.trainSeeds : Array.from({ length: 96 }, (_, i) => REPLAY_TRAIN_SEED0 + i);
  const n = Math.min(count, seeds.length);
  return Array.from({ length: n }, (_, k) => seeds[Math.floor((k * seeds.length) / n)]);
}

/**
 * The draw of replay holdout case `k` (seed 100001 + k): the recipe's domain and, when it mixed in portal-venous
 * phantoms, 'standard' in turn; every third case lesion-free when the recipe had lesion-free phantoms, so a
 * candidate that calls lesions in a plain organ loses there.
 */
export function replayHoldoutDraw(k: number, r: PhantomRecipe): { domain: PhantomDomain; lesionFree: boolean } {
  const own = r.domain ?? 'standard';
  const domain = r.standardShare && k % 2 === 1 ? 'standard' : own;
  return { domain, lesionFree: !!r.lesionFreeShare && k % 3 === 2 };
}

export interface RecipeCase {
  id: string;
  image: Volume;
  label: Volume;
}

/** The standard 384×384×320 mm field of view on a grid of `spacingMm`. */
export function recipeDims(spacingMm: Vec3): Vec3 {
  return [0, 1, 2].map((a) => Math.max(8, Math.round(DEFAULT_FIELD_OF_VIEW_MM[a] / spacingMm[a]))) as Vec3;
}

/**
 * The box around the labelled organ with `marginMm` of context on each side (the phantom's grid is axis-aligned,
 * so the crop is a sub-block with a shifted origin). Replay patches are drawn around the organ anyway, and the
 * replay holdout is scored on this box: a quarter of the whole scan's voxels at most.
 */
export function cropToLabels(image: Volume, label: Volume, marginMm: number): { image: Volume; label: Volume } {
  const [ni, nj, nk] = label.dims;
  const lo = [ni, nj, nk];
  const hi = [-1, -1, -1];
  const lab = label.data;
  for (let k = 0, q = 0; k < nk; k++)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++, q++) {
        if (lab[q] === 0) continue;
        const ijk = [i, j, k];
        for (let a = 0; a < 3; a++) {
          if (ijk[a] < lo[a]) lo[a] = ijk[a];
          if (ijk[a] > hi[a]) hi[a] = ijk[a];
        }
      }
  if (hi[0] < 0) return { image, label };
  const from = [0, 1, 2].map((a) => Math.max(0, lo[a] - Math.ceil(marginMm / label.spacingMm[a])));
  const to = [0, 1, 2].map((a) => Math.min(label.dims[a] - 1, hi[a] + Math.ceil(marginMm / label.spacingMm[a])));
  const dims = [0, 1, 2].map((a) => to[a] - from[a] + 1) as Vec3;
  const cut = (v: Volume): Volume => {
    const out = allocVoxels(voxelTypeOf(v.data), dims[0] * dims[1] * dims[2]);
    for (let k = 0; k < dims[2]; k++)
      for (let j = 0; j < dims[1]; j++) {
        const src = from[0] + ni * (from[1] + j + nj * (from[2] + k));
        out.set(v.data.subarray(src, src + dims[0]), dims[0] * (j + dims[1] * k));
      }
    // Identity direction (the generator's grid): the origin moves by the cut-off voxels along each axis.
    const originMm = [0, 1, 2].map((a) => v.originMm[a] + from[a] * v.spacingMm[a]) as Vec3;
    return { ...v, data: out, dims: [...dims], originMm, spacingMm: [...v.spacingMm], direction: [...v.direction] };
  };
  return { image: cut(image), label: cut(label) };
}

/** Context kept around the organ in replay cases: a 64³ window at 3 mm reaches 96 mm from its centre. */
export const REPLAY_MARGIN_MM = 72;

/**
 * Replay cases of `schema` at the model's spacing (so preparing them is a reorientation, not a resampling), cropped
 * to their organ with context: `count` training draws of the recipe (replaySeeds) or, with `holdout`, `count`
 * holdout draws (replayHoldoutDraw). Deterministic: the same arguments give the same voxels.
 */
export function recipeCases(
  schema: PhantomSchema,
  spacingMm: Vec3,
  count: number,
  recipe: PhantomRecipe,
  opts: { holdout?: boolean; signal?: AbortSignal } = {},
): RecipeCase[] {
  const dims = recipeDims(spacingMm);
  const draws = opts.holdout
    ? Array.from({ length: count }, (_, k) => ({ seed: REPLAY_HOLDOUT_SEED0 + k, ...replayHoldoutDraw(k, recipe) }))
    : replaySeeds(recipe, count).map((seed) => ({ seed, ...recipeDraw(seed, recipe) }));
  return draws.map(({ seed, ...draw }) => {
    const { domain, lesionFree } = draw;
    const c = recipePhantom(schema, recipe, seed, draw, dims, spacingMm, opts.signal);
    const tag = `${domain}${lesionFree ? '-plain' : ''}`;
    return { id: `${tag}-${schema}-${seed}`, ...cropToLabels(c.image, c.label, REPLAY_MARGIN_MM) };
  });
}
