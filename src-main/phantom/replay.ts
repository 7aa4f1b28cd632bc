// The starters' synthetic recipe as fine-tuning cases: replay mixed into every batch (so a fine-tune on one
// patient keeps what generalised) and a replay holdout scored before and after (forgetting shows there even
// when the project has no real holdout case yet).
import { allocVoxels, voxelTypeOf } from '../imaging/volume';
import type { Vec3, Volume } from '../imaging/volume';
import { DEFAULT_FIELD_OF_VIEW_MM, generatePhantom } from './generate';
import type { PhantomSchema } from './generate';

/** The starters' training seeds start at 1 and their held-out seeds at 100001 (jobs/train-starter.ts). */
export const REPLAY_TRAIN_SEED0 = 1;
export const REPLAY_HOLDOUT_SEED0 = 100_001;

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
 * `count` synth-domain phantoms of `schema` from seed `seed0` on, at the model's spacing (so preparing them is a
 * reorientation, not a resampling), cropped to their organ with context. Deterministic: the same arguments give
 * the same voxels.
 */
export function recipeCases(
  schema: PhantomSchema,
  spacingMm: Vec3,
  count: number,
  seed0: number,
  signal?: AbortSignal,
): RecipeCase[] {
  const dims = recipeDims(spacingMm);
  const out: RecipeCase[] = [];
  for (let k = 0; k < count; k++) {
    const seed = seed0 + k;
    const c = generatePhantom({ seed, schema, dims, spacingMm, domain: 'synth', signal });
    out.push({ id: `synth-${schema}-${seed}`, ...cropToLabels(c.image, c.label, REPLAY_MARGIN_MM) });
  }
  return out;
}
