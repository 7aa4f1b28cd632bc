// Fine-tune helpers: settings, checkpoint extras, option checks, candidate folder install and its model.json.
import { existsSync, promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { LoadedModel, ModelMeta, TrainingRecord } from '../engine/io/model_folder';
import type { HoldoutScore } from './holdout';
import type { FinetuneOptions, FinetuneResult } from './finetune';

export interface Settings {
  steps: number;
  batch: number;
  patch: [number, number, number];
  lr: number;
  seed: number;
  correctionWeight: number;
  augment: boolean;
  foregroundProb: number;
  /** Foreground centres drawn class by class (a lesion as often as the organ); absent in older checkpoints: false. */
  classBalanced?: boolean;
  trainIds: string[];
  base: string;
  /** Replay (recipe) cases mixed into each batch, their share, and the forgetting guards. */
  replayIds: string[];
  replayShare: number;
  anchorDecay: number;
  encoderLrMult: number;
  /** WiSE-FT blend of the trained weights with the base's (1: the trained weights). */
  baseBlend: number;
  /** Patches read a case's end planes past its ends (finetuneEdgePad), left out of the loss. */
  edgePad: boolean;
}

export interface CheckpointExtra {
  rngState: number;
  losses: number[];
  baseHoldout: HoldoutScore | null;
  baseReplayHoldout?: HoldoutScore | null;
  /** The base's score on the trained cases (the check without a real holdout). */
  baseTrained?: HoldoutScore | null;
  settings: Settings;
}

/** Warm-up length: a tenth of the run, at most 20 steps. */
export function warmupFor(steps: number): number {
  return Math.min(20, Math.floor(steps / 10));
}

export { formatEta as minutesLeft } from '../util/eta';

/** The patch to train with: the base's last training patch, else its inference patch. */
export function defaultPatch(base: LoadedModel): [number, number, number] {
  const last = base.meta.training[base.meta.training.length - 1];
  return [...(last?.patchSize ?? base.meta.inference.patchSize)] as [number, number, number];
}

export function checkOptions(o: FinetuneOptions, base: LoadedModel, patch: [number, number, number]): void {
  const where = 'fine-tune';
  if (!Number.isInteger(o.steps) || o.steps < 1)
    throw new Error(`${where}: steps must be a whole number ≥ 1, got ${o.steps}`);
  if (o.train.length === 0) throw new Error(`${where}: there are no training cases`);
  const multiple = 2 ** base.config.feature_sizes.length;
  if (!patch.every((p) => Number.isInteger(p) && p > 0 && p % multiple === 0)) {
    throw new Error(`${where}: patch must be three positive multiples of ${multiple}, got ${patch.join('×')}`);
  }
  const ids = new Set<string>();
  for (const c of [...o.train, ...o.holdout]) {
    if (ids.has(c.id)) throw new Error(`${where}: case id ${c.id} is given twice`);
    ids.add(c.id);
  }
  for (const [name, v] of [
    ['batch', o.batch],
    ['lr', o.lr],
    ['correctionWeight', o.correctionWeight],
    ['checkpointEvery', o.checkpointEvery],
  ] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0))
      throw new Error(`${where}: ${name} must be a number ≥ 0, got ${v}`);
  }
  if (o.baseBlend !== undefined && !(o.baseBlend >= 0 && o.baseBlend <= 1))
    throw new Error(`${where}: baseBlend must be a number from 0 to 1, got ${o.baseBlend}`);
}

export async function readCheckpointExtra(dir: string): Promise<CheckpointExtra | null> {
  try {
    const state = JSON.parse(await fs.readFile(join(dir, 'state.json'), 'utf8')) as { extra?: CheckpointExtra };
    return state.extra ?? null;
  } catch {
    return null;
  }
}

/** Replaces `outDir` by the fully written `tmp` folder (rename; the old folder is removed after). */
export async function installFolder(tmp: string, outDir: string): Promise<void> {
  let old: string | null = null;
  if (existsSync(outDir)) {
    old = `${outDir}.old-${randomBytes(4).toString('hex')}`;
    await fs.rename(outDir, old);
  }
  await fs.rename(tmp, outDir);
  if (old) await fs.rm(old, { recursive: true, force: true });
}

function lossSummary(losses: number[]): Record<string, number> {
  const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  const k = Math.max(1, Math.min(10, Math.floor(losses.length / 4)));
  return {
    first: losses[0],
    last: losses[losses.length - 1],
    min: Math.min(...losses),
    meanFirst: mean(losses.slice(0, k)),
    meanLast: mean(losses.slice(-k)),
  };
}

/** model.json of the candidate: the base's inference section unchanged, plus where it came from and how it scored. */
export function candidateMeta(
  baseMeta: ModelMeta,
  o: FinetuneOptions,
  s: Settings,
  losses: number[],
  holdout: FinetuneResult['holdout'],
  seconds: number,
): ModelMeta {
  const at = new Date().toISOString();
  const parentId = o.baseModelId ?? basename(o.baseModelDir);
  const record: TrainingRecord = {
    at,
    steps: s.steps,
    patchSize: s.patch,
    batch: s.batch,
    lr: s.lr,
    finalLoss: losses[losses.length - 1] ?? NaN,
    data: `fine-tune on ${o.train.length} submitted case(s): ${s.trainIds.join(', ')}`,
    base: parentId,
    seed: s.seed,
  };
  const metrics: Record<string, number> = {};
  if (holdout.base !== null) metrics.holdout_dice_base = holdout.base;
  if (holdout.candidate !== null) metrics.holdout_dice = holdout.candidate;
  if (holdout.replay?.base != null) metrics.replay_holdout_dice_base = holdout.replay.base;
  if (holdout.replay?.candidate != null) metrics.replay_holdout_dice = holdout.replay.candidate;
  metrics.holdout_cases = o.holdout.length;
  const meta = {
    ...baseMeta,
    inference: baseMeta.inference,
    training: [...baseMeta.training, record],
    metrics,
    provenance: `fine-tuned from ${parentId} on ${o.train.length} submitted case(s)`,
    finetune: {
      parent: { id: parentId, dir: o.baseModelDir, metrics: baseMeta.metrics },
      at,
      seconds: Math.round(seconds * 10) / 10,
      steps: s.steps,
      seed: s.seed,
      cases: s.trainIds,
      holdoutCases: o.holdout.map((c) => c.id),
      holdout,
      loss: lossSummary(losses),
      settings: {
        batch: s.batch,
        patch: s.patch,
        lr: s.lr,
        schedule: 'poly',
        warmupSteps: warmupFor(s.steps),
        correctionWeight: s.correctionWeight,
        augment: s.augment,
        foregroundProb: s.foregroundProb,
        replayCases: s.replayIds.length,
        replayShare: s.replayShare,
        anchorDecay: s.anchorDecay,
        encoderLrMult: s.encoderLrMult,
        baseBlend: s.baseBlend,
        edgePad: s.edgePad,
      },
    },
  };
  return meta;
}
