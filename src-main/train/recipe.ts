// Replay cases for a fine-tune of a model folder: the phantoms its starter trained on (domains, lesion-free share,
// generator version, as model.json's starterSettings records them), at its spacing. A replay that differs from
// the starter's recipe teaches something else: replay with lesions in every synth phantom made a fine-tune on
// one plain native kidney call 1,400 of its voxels tumour on the full scan.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Vec3 } from '../imaging/volume';
import { recipeCases } from '../phantom/replay';
import type { PhantomRecipe } from '../phantom/replay';
import { CONTRAST_PHASES } from '../phantom/hu';
import { SYNTH_VERSIONS } from '../phantom/generate';
import type { SynthVersion } from '../phantom/generate';
import type { PhaseWeights } from '../phantom/hu';
import type { FinetuneCase } from './finetune';

/** Schemas the phantom generator can draw (custom schemas fine-tune without replay). */
const RECIPE_SCHEMAS = new Set(['kidney', 'pancreas']);

/**
 * `counts.cases` replay cases (the starters' training seeds) and `counts.holdout` replay holdout cases (their
 * held-out seeds) for the model in `modelDir`; empty lists for a schema the generator does not know.
 */
export async function recipeForModel(
  modelDir: string,
  counts: { cases: number; holdout: number },
  signal?: AbortSignal,
): Promise<{ replay: FinetuneCase[]; replayHoldout: FinetuneCase[] }> {
  const meta = JSON.parse(await fs.readFile(join(modelDir, 'model.json'), 'utf8')) as {
    schema?: string;
    inference?: { targetSpacingMm?: Vec3 };
    starterSettings?: Record<string, unknown>;
  };
  const spacing = meta.inference?.targetSpacingMm;
  if (!meta.schema || !RECIPE_SCHEMAS.has(meta.schema) || !spacing) return { replay: [], replayHoldout: [] };
  const schema = meta.schema as 'kidney' | 'pancreas';
  const recipe = modelRecipe(meta.starterSettings);
  return {
    replay: recipeCases(schema, spacing, counts.cases, recipe, { signal }),
    replayHoldout: recipeCases(schema, spacing, counts.holdout, recipe, { holdout: true, signal }),
  };
}

/** A model.json's recorded phase weights when they are a usable table (known phases, finite, >= 0, not all 0). */
function recordedPhaseWeights(x: unknown): PhaseWeights | undefined {
  if (!x || typeof x !== 'object' || Array.isArray(x)) return undefined;
  const entries = Object.entries(x as Record<string, unknown>);
  const ok = entries.every(
    ([k, v]) =>
      (CONTRAST_PHASES as readonly string[]).includes(k) && typeof v === 'number' && Number.isFinite(v) && v >= 0,
  );
  if (!ok || !entries.some(([, v]) => (v as number) > 0)) return undefined;
  return Object.fromEntries(entries) as PhaseWeights;
}

/**
 * The phantom recipe fields of a model.json's starterSettings (anything else in them is ignored); a model that
 * records none replays the synth domain with lesions in every phantom.
 */
export function modelRecipe(s: Record<string, unknown> | undefined): PhantomRecipe {
  if (!s) return { domain: 'synth' };
  const domain = s.domain === 'standard' || s.domain === 'shifted' || s.domain === 'synth' ? s.domain : undefined;
  const isShare = (x: unknown): x is number => typeof x === 'number' && x >= 0 && x <= 1;
  const seeds =
    Array.isArray(s.trainSeeds) && s.trainSeeds.every((x) => Number.isInteger(x))
      ? (s.trainSeeds as number[])
      : undefined;
  const phaseWeights = recordedPhaseWeights(s.phaseWeights);
  return {
    ...(domain ? { domain } : {}),
    ...(isShare(s.lesionFreeShare) ? { lesionFreeShare: s.lesionFreeShare } : {}),
    ...(isShare(s.standardShare) ? { standardShare: s.standardShare } : {}),
    ...(SYNTH_VERSIONS.includes(s.synthVersion as SynthVersion)
      ? { synthVersion: s.synthVersion as SynthVersion }
      : {}),
    ...(phaseWeights ? { phaseWeights } : {}),
    ...(isShare(s.metalShare) ? { metalShare: s.metalShare } : {}),
    ...(s.renalPelvis === true ? { renalPelvis: true } : {}),
    ...(seeds ? { trainSeeds: seeds } : {}),
  };
}
