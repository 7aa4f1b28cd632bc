// Replay cases for a fine-tune of a model folder: its schema's synthetic recipe at its spacing.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Vec3 } from '../../imaging/volume';
import { recipeCases, REPLAY_HOLDOUT_SEED0, REPLAY_TRAIN_SEED0 } from '../../phantom/replay';
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
  };
  const spacing = meta.inference?.targetSpacingMm;
  if (!meta.schema || !RECIPE_SCHEMAS.has(meta.schema) || !spacing) return { replay: [], replayHoldout: [] };
  const schema = meta.schema as 'kidney' | 'pancreas';
  return {
    replay: recipeCases(schema, spacing, counts.cases, REPLAY_TRAIN_SEED0, signal),
    replayHoldout: recipeCases(schema, spacing, counts.holdout, REPLAY_HOLDOUT_SEED0, signal),
  };
}
