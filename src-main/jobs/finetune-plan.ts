// Plans a fine-tune job before it queues: base model (registered as the first active version on first
// use), holdout and training cases, the candidate's folder, and the promotion rule it ends with.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { SchemaName } from '../domain/label-schemas';
import { RequestError } from '../domain/errors';
import type { ProjectStore } from '../store/project';
import { activeModel, getModel, listModels, nextModelVersion, promoteModel, registerModel } from '../store/model-rows';
import { submittedCases, updateHoldout } from '../store/training-rows';
import { replayClassDrop } from '../train/holdout';

export const FINETUNE_KIND = 'finetune';
export const DEFAULT_FINETUNE_STEPS = 200;
/**
 * One corrected case is enough to fine-tune: replay of the synthetic recipe, L2-SP and the replay holdout keep
 * the candidate honest until real holdout cases exist.
 */
export const MIN_TRAIN_CASES = 1;

/** What a fine-tune job runs with; stored as the job's params so a resume uses exactly the same. */
export interface FinetuneParams {
  schema: SchemaName;
  steps: number;
  correctionWeight: number;
  baseModelId: string;
  baseModelDir: string;
  /** The candidate folder <project>/models/<schema>-v<version>. */
  outDir: string;
  version: number;
  /** Case, submitted label version and pre-label version (null: none) of each training case. */
  train: { caseId: string; labelVersion: number; prelabelVersion: number | null }[];
  holdout: { caseId: string; labelVersion: number; prelabelVersion: number | null }[];
  /** True once the job was paused or interrupted: the next run continues from the checkpoint. */
  resume: boolean;
}

/** The id a model folder gets in provenance (same rule as the worker's modelIdOf): schema:folder@steps. */
export function modelIdOfFolder(dir: string): string {
  const file = join(dir, 'model.json');
  let meta: { schema?: unknown; training?: unknown };
  try {
    meta = JSON.parse(readFileSync(file, 'utf8')) as typeof meta;
  } catch (err) {
    throw new RequestError(`${file}: cannot read the model description (${(err as Error).message}).`);
  }
  const training = Array.isArray(meta.training) ? (meta.training as { steps?: unknown }[]) : [];
  const steps = training.reduce((s, t) => s + (typeof t.steps === 'number' ? t.steps : 0), 0);
  return `${String(meta.schema)}:${basename(dir)}@${steps}`;
}

/**
 * The model fine-tuning starts from: the active one, else the folder pre-labels use (project-local or
 * the starter), registered and made active so it is version 1 of the line and a roll-back target.
 */
export function baseModel(
  store: ProjectStore,
  schema: SchemaName,
  fallbackDir: () => string,
): { id: string; dir: string } {
  const active = activeModel(store, schema);
  if (active && existsSync(join(active.folder, 'model.json'))) return { id: active.id, dir: active.folder };
  let dir: string;
  try {
    dir = fallbackDir();
  } catch (err) {
    throw new RequestError(`jobs.finetune: ${(err as Error).message}`);
  }
  const id = modelIdOfFolder(dir);
  if (!getModel(store, id)) registerModel(store, { id, schema, folder: dir, note: 'the model pre-labels used first' });
  promoteModel(store, id, 'the base of the first fine-tune');
  return { id, dir };
}

/** Model ids that trained some case (their holdout must never include it). */
function trainedCaseIds(store: ProjectStore): Set<string> {
  const ids = new Set<string>();
  for (const m of listModels(store)) {
    const t = m.training.trainCaseIds;
    if (Array.isArray(t)) for (const id of t) if (typeof id === 'string') ids.add(id);
  }
  return ids;
}

/** The first free version number whose folder (and checkpoint siblings) do not exist yet. */
function candidateFolder(store: ProjectStore, schema: SchemaName): { version: number; outDir: string } {
  const modelsDir = join(store.dir, 'models');
  const names = existsSync(modelsDir) ? readdirSync(modelsDir) : [];
  for (let version = nextModelVersion(store, schema); ; version++) {
    const stem = `${schema}-v${version}`;
    const taken = names.some((n) => new RegExp(`^\\.?${stem}(?!\\d)`).test(n));
    if (!taken) return { version, outDir: join(modelsDir, stem) };
  }
}

/** Checks there is enough data and builds the job's params; throws a 400 with the reason otherwise. */
export function planFinetune(
  store: ProjectStore,
  req: { steps?: number; correctionWeight?: number },
  fallbackDir: () => string,
  reservedVersions: ReadonlySet<number> = new Set(),
): FinetuneParams {
  const schema = store.info().schema.name;
  const submitted = submittedCases(store);
  const holdoutIds = updateHoldout(store, trainedCaseIds(store));
  const pick = (c: (typeof submitted)[number]) => ({
    caseId: c.caseId,
    labelVersion: c.labelVersion,
    prelabelVersion: c.prelabelVersion,
  });
  // A label submitted exactly as pre-labelled is the model's own answer: it neither trains nor scores.
  const evidence = submitted.filter((c) => c.edited);
  const unedited = submitted.length - evidence.length;
  const train = evidence.filter((c) => !holdoutIds.has(c.caseId)).map(pick);
  const holdout = evidence.filter((c) => holdoutIds.has(c.caseId)).map(pick);
  if (train.length < MIN_TRAIN_CASES) {
    throw new RequestError(
      `jobs.finetune: fine-tuning needs at least ${MIN_TRAIN_CASES} corrected training case; this project has ${submitted.length} submitted case(s), ${holdout.length} of them kept for the holdout${unedited ? ` and ${unedited} submitted unchanged from the pre-label (not used)` : ''}. Correct and submit a case first.`,
    );
  }
  const base = baseModel(store, schema, fallbackDir);
  let folder = candidateFolder(store, schema);
  while (reservedVersions.has(folder.version))
    folder = { version: folder.version + 1, outDir: join(store.dir, 'models', `${schema}-v${folder.version + 1}`) };
  return {
    schema,
    steps: req.steps ?? DEFAULT_FINETUNE_STEPS,
    correctionWeight: req.correctionWeight ?? 0,
    baseModelId: base.id,
    baseModelDir: base.dir,
    outDir: folder.outDir,
    version: folder.version,
    train,
    holdout,
    resume: false,
  };
}

/** Dice within this of the active model's counts as "not worse" (scores are means of float sums). */
const DICE_TOLERANCE = 1e-6;

/**
 * The promotion rule. Two checks, each applied when it has scores: the real holdout (submitted cases never
 * trained on) must not get worse, and the replay holdout (the base's synthetic recipe, never trained on) must
 * not drop by more than its tolerance, in its mean and in each class, which is what catches forgetting while a
 * project has only one or two submitted cases and no real holdout yet. Promotion needs at least one check and the
 * setting on.
 */
export function promotionDecision(o: {
  promoteIfNotWorse: boolean;
  baseDice: number | null;
  candidateDice: number | null;
  baseVersion: number;
  /** byClass: pooled per foreground class (index 0 = class 1), named by classNames; each may fall by tolerance. */
  replay?: {
    base: number | null;
    candidate: number | null;
    tolerance: number;
    byClass?: { base: (number | null)[]; candidate: (number | null)[] };
    classNames?: string[];
  };
  /** Without a real holdout: Dice over the foreground voxels of the cases trained on, base and candidate. */
  trained?: { base: number | null; candidate: number | null };
}): { promote: boolean; reason: string } {
  const fmt = (d: number) => d.toFixed(3);
  const real = o.candidateDice !== null;
  const replay = o.replay && o.replay.base !== null && o.replay.candidate !== null ? o.replay : null;
  const replayText = replay ? `replay holdout Dice ${fmt(replay.candidate!)} vs ${fmt(replay.base!)}` : '';
  if (!real && !replay)
    return {
      promote: false,
      reason:
        'kept as a candidate: there is no holdout case to score it yet (the holdout starts with the 3rd submitted case)',
    };
  const realText = real
    ? `holdout Dice ${fmt(o.candidateDice!)}${o.baseDice === null ? '' : ` vs ${fmt(o.baseDice)} of version ${o.baseVersion}`}`
    : '';
  const both = [realText, replayText].filter(Boolean).join(', ');
  if (!o.promoteIfNotWorse)
    return { promote: false, reason: `kept as a candidate: automatic promotion is off (${both})` };
  if (real && o.baseDice !== null && o.candidateDice! < o.baseDice - DICE_TOLERANCE)
    return {
      promote: false,
      reason: `kept as a candidate: holdout Dice ${fmt(o.candidateDice!)} is worse than ${fmt(o.baseDice)} of version ${o.baseVersion}`,
    };
  if (replay && replay.candidate! < replay.base! - replay.tolerance - DICE_TOLERANCE)
    return {
      promote: false,
      reason: `kept as a candidate: it forgets what the base knew (${replayText}, more than ${replay.tolerance} worse)`,
    };
  const drop = replay?.byClass ? replayClassDrop(replay.byClass, replay.tolerance) : null;
  if (replay && drop) {
    const name = replay.classNames?.[drop.index] ?? `class ${drop.index + 1}`;
    return {
      promote: false,
      reason: `kept as a candidate: it forgets what the base knew of the ${name} (replay holdout Dice of the ${name} ${fmt(drop.candidate)} vs ${fmt(drop.base)}, more than ${replay.tolerance} worse; ${both})`,
    };
  }
  const trained = o.trained && o.trained.base !== null && o.trained.candidate !== null ? o.trained : null;
  if (trained && trained.candidate! < trained.base! - DICE_TOLERANCE)
    return {
      promote: false,
      reason: `kept as a candidate: the fine-tune went wrong, Dice on the cases it trained on fell from ${fmt(trained.base!)} to ${fmt(trained.candidate!)} (${both})`,
    };
  return { promote: true, reason: `promoted: not worse (${both})` };
}
