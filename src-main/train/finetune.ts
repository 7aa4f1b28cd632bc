// Fine-tunes a model folder on submitted cases, the engine worker's entry point: cases prepared
// once on the model grid, patches with foreground oversampling and augmentation, DiceCE (optionally
// correction-weighted), AdamW with the offset branches at lr x0.1, checkpoints for cancel/resume, and a
// holdout scored before (base) and after (candidate). The caller initialises the engine (initEngine).
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Volume } from '../imaging/volume';
import { InputError } from '../imaging/volume';
import type { Variable } from '@tensorflow/tfjs';
import { tf } from '../engine/tf';
import { loadModelFolder, saveModelFolder } from '../engine/io/model_folder';
import { segmentationModelOf } from '../engine/model/segmentation_model';
import { Rng } from '../engine/model/rng';
import { finetuneAugmentSettings } from './augment';
import { FINETUNE_DEFAULTS, finetuneClassBalanced, finetuneEdgePad, replaySlots } from './finetune-defaults';

export { FINETUNE_DEFAULTS, replaySlots };
import { replayClassDrop, scoreCases } from './holdout';
import type { HoldoutScore } from './holdout';
import { checkCase, prepareCase } from './prepare';
import { EDGE_PAD_IGNORE, sampleAugmentedBatch } from './sampler';
import type { SampleOptions, TrainCase } from './sampler';
import { Trainer } from './trainer';
import { interpolateWeights } from './weight-average';
import type { TensorMap } from '../engine/io/safetensors';
import { runSteps } from './steps';
import {
  candidateMeta,
  checkOptions,
  defaultPatch,
  installFolder,
  minutesLeft,
  readCheckpointExtra,
  warmupFor,
} from './finetune-support';
import type { CheckpointExtra, Settings } from './finetune-support';
import { isAbortError } from '../util/abort';

/** Training cases scored before and after when there is no real holdout (the first ones). */
export const TRAINED_CHECK_CASES = 3;

export interface FinetuneCase {
  id: string;
  /** Any orientation/spacing, HU; reoriented to the model's canonical frame and resampled to its target spacing. */
  image: Volume;
  /** The submitted label on the image's grid (uint8 class values). */
  label: Volume;
  /** The model's pre-label on the same grid, for correction-aware weights. */
  prelabel?: Volume;
}

export interface FinetuneProgress {
  phase: 'prepare' | 'train' | 'evaluate';
  step: number;
  steps: number;
  loss: number | null;
  etaS: number | null;
  /** 0..1 over the whole run (prepare + train + evaluate). */
  fraction: number;
  /** One human line, e.g. "step 40/200 · loss 0.412 · 3 min left". */
  message: string;
  /** Last evaluation, when there is one. */
  holdoutDice?: number | null;
}

export interface FinetuneOptions {
  /** Model folder to start from (config.json + weights.safetensors + model.json). */
  baseModelDir: string;
  /** Candidate model folder to write (atomically); checkpoints live in a sibling for resume. */
  outDir: string;
  train: FinetuneCase[];
  /** May be empty: then holdout metrics are null. */
  holdout: FinetuneCase[];
  steps: number;
  batch?: number;
  patch?: [number, number, number];
  lr?: number;
  seed?: number;
  /** Extra loss weight on voxels where label != prelabel (0 = off, default 0). */
  correctionWeight?: number;
  /** Default true. */
  augment?: boolean;
  /** Steps; default 25. */
  checkpointEvery?: number;
  /** Continue from the checkpoint if there is one. */
  resume?: boolean;
  /** Abort = stop after the current step, save a checkpoint, return cancelled:true. */
  signal?: AbortSignal;
  onProgress?: (p: FinetuneProgress) => void;
  /** Id of the base model, recorded as the candidate's parent (default: the base folder's name). */
  baseModelId?: string;
  /** Share of patches centred on foreground (default 0.5). */
  foregroundProb?: number;
  /** Foreground centres drawn class by class (default: as the model's starter sampled, its starterSettings.classBalanced, else true). */
  classBalanced?: boolean;
  /**
   * Cases of the base model's own training recipe (synthetic phantoms of its schema) mixed into every batch,
   * so learning one patient's appearance does not overwrite what generalised; absent or empty: none.
   */
  replay?: FinetuneCase[];
  /** Share of each batch's patches drawn from `replay` (default 0.5). */
  replayShare?: number;
  /**
   * Recipe cases never trained on, scored before and after: the forgetting check a candidate must pass, and the
   * only evidence there is while the project has no real holdout case yet (one or two submitted cases).
   */
  replayHoldout?: FinetuneCase[];
  /** Largest drop of the replay holdout's mean Dice that still counts as not worse (default 0.01). */
  replayTolerance?: number;
  /** L2-SP strength toward the base weights (decoupled, per unit of lr; default 100; 0: plain weight decay). */
  anchorDecay?: number;
  /** Learning-rate multiplier of the encoder (default 0.1): few cases adapt the decoder, not the features. */
  encoderLrMult?: number;
  /**
   * The candidate's weights are `base + baseBlend · (trained − base)` (WiSE-FT): 1 keeps the trained weights, 0.5
   * the half-way average. Scored and saved after blending.
   */
  baseBlend?: number;
}

export interface FinetuneResult {
  cancelled: boolean;
  /** Steps completed in total (including resumed ones). */
  steps: number;
  /** Per step, all steps of the run (resumed ones included). */
  losses: number[];
  /** The candidate folder (null when cancelled). */
  modelDir: string | null;
  holdout: {
    base: number | null;
    candidate: number | null;
    perCase: { id: string; base: number; candidate: number }[];
    /** candidate >= base (what promotion requires); null without holdout cases or when cancelled. */
    notWorse?: boolean | null;
    /** Mean Dice per foreground class (index 0 = class 1), base and candidate; null where a class never occurs. */
    byClass?: { base: (number | null)[]; candidate: (number | null)[] };
    /**
     * The replay holdout (synthetic recipe cases never trained on): base and candidate Dice pooled per class over
     * its cases, the mean over classes; byClass the pooled Dice of each class (index 0 = class 1).
     */
    replay?: {
      base: number | null;
      candidate: number | null;
      cases: number;
      byClass?: { base: (number | null)[]; candidate: (number | null)[] };
    };
    /**
     * Without a real holdout: base and candidate Dice over all foreground voxels of (up to TRAINED_CHECK_CASES of)
     * the cases trained on (HoldoutScore.voxelDice); a candidate worse there is not promoted.
     */
    trained?: { base: number | null; candidate: number | null; cases: number };
  };
  seconds: number;
}

/**
 * One step's batch: each slot a patch from the own cases or, where `slots[b]` is true, from replay (both
 * drawn by sampleAugmentedBatch, so the same augmentation applies), concatenated along the batch axis.
 */
export function sampleMixedBatch(
  cases: TrainCase[],
  replay: TrainCase[],
  slots: boolean[],
  patch: [number, number, number],
  rng: Rng,
  opts: SampleOptions,
): ReturnType<typeof sampleAugmentedBatch> {
  const nReplay = replay.length > 0 ? slots.filter(Boolean).length : 0;
  if (nReplay === 0) return sampleAugmentedBatch(cases, slots.length, patch, rng, opts);
  const parts = [];
  if (slots.length - nReplay > 0) parts.push(sampleAugmentedBatch(cases, slots.length - nReplay, patch, rng, opts));
  parts.push(sampleAugmentedBatch(replay, nReplay, patch, rng, opts));
  if (parts.length === 1) return parts[0];
  const [a, b] = parts;
  const out = {
    image: tf.concat([a.image, b.image], 0),
    labels: tf.concat([a.labels, b.labels], 0),
    ...(a.weights && b.weights ? { weights: tf.concat([a.weights, b.weights], 0) } : {}),
    picked: [...a.picked, ...b.picked.map((p) => `replay:${p}`)],
  };
  tf.dispose([
    a.image,
    b.image,
    a.labels,
    b.labels,
    ...(a.weights ? [a.weights] : []),
    ...(b.weights ? [b.weights] : []),
  ]);
  return out;
}

/** Where checkpoints of a run writing `outDir` live (a sibling, so the candidate folder only ever appears whole). */
export function checkpointDirFor(outDir: string): string {
  return join(dirname(outDir), `${basename(outDir)}.checkpoint`);
}

export async function finetune(o: FinetuneOptions): Promise<FinetuneResult> {
  const t0 = performance.now();
  const report = (p: FinetuneProgress): void => o.onProgress?.(p);
  const base = await loadModelFolder(o.baseModelDir);
  let trainer: Trainer | null = null;
  try {
    const classes = base.config.out_channels;
    const patch = o.patch ?? defaultPatch(base);
    checkOptions(o, base, patch);
    const settings: Settings = {
      steps: o.steps,
      batch: o.batch ?? 2,
      patch,
      lr: o.lr ?? FINETUNE_DEFAULTS.lr,
      seed: o.seed ?? 0,
      correctionWeight: o.correctionWeight ?? 0,
      augment: o.augment ?? true,
      foregroundProb: o.foregroundProb ?? FINETUNE_DEFAULTS.foregroundProb,
      classBalanced: finetuneClassBalanced(o.classBalanced, base.meta.starterSettings),
      trainIds: o.train.map((c) => c.id),
      base: o.baseModelDir,
      replayIds: (o.replay ?? []).map((c) => c.id),
      replayShare: o.replay?.length ? (o.replayShare ?? FINETUNE_DEFAULTS.replayShare) : 0,
      anchorDecay: o.anchorDecay ?? FINETUNE_DEFAULTS.anchorDecay,
      encoderLrMult: o.encoderLrMult ?? FINETUNE_DEFAULTS.encoderLrMult,
      baseBlend: o.baseBlend ?? FINETUNE_DEFAULTS.baseBlend,
      edgePad: finetuneEdgePad(base.meta.starterSettings, base.meta.inference.shortScanPad),
    };
    const replayHoldout = o.replayHoldout ?? [];
    const hasHoldout = o.holdout.length > 0;
    // Without a real holdout (one or two submitted cases), the candidate must also not get worse on the cases it
    // trained on: a run that lost them went wrong, whatever the phantoms say (an over-anchored run kept the
    // replay holdout at 0.544 while the case it trained on fell from 0.77 to 0.63).
    const trainedCheck = hasHoldout ? [] : o.train.slice(0, TRAINED_CHECK_CASES);
    // Share of the whole run per phase, for one fraction that never goes back.
    const span = hasHoldout
      ? { prepare: [0, 0.05], base: [0.05, 0.15], train: [0.15, 0.9], evaluate: [0.9, 1] }
      : { prepare: [0, 0.05], base: [0.05, 0.05], train: [0.05, 1], evaluate: [1, 1] };
    const at = (s: number[], f: number): number => s[0] + (s[1] - s[0]) * Math.min(1, Math.max(0, f));
    const cancelledResult = (steps: number, losses: number[], baseScore: HoldoutScore | null): FinetuneResult => ({
      cancelled: true,
      steps,
      losses,
      modelDir: null,
      holdout: { base: baseScore?.mean ?? null, candidate: null, perCase: [], notWorse: null },
      seconds: (performance.now() - t0) / 1000,
    });

    // Prepare: every case checked up front (holdout too), so bad input fails before any work.
    for (const c of [...o.holdout, ...replayHoldout]) checkCase(c, classes);
    const cases: TrainCase[] = [];
    const replayCases: TrainCase[] = [];
    const toPrepare = [...o.train, ...(o.replay ?? [])];
    for (const [k, c] of toPrepare.entries()) {
      if (o.signal?.aborted) return cancelledResult(0, [], null);
      const own = k < o.train.length;
      (own ? cases : replayCases).push(
        prepareCase(c, base.meta.inference, classes, own ? settings.correctionWeight : 0),
      );
      report({
        phase: 'prepare',
        step: 0,
        steps: settings.steps,
        loss: null,
        etaS: null,
        fraction: at(span.prepare, (k + 1) / toPrepare.length),
        message: own
          ? `preparing case ${k + 1}/${o.train.length}`
          : `preparing replay case ${k + 1 - o.train.length}/${toPrepare.length - o.train.length}`,
      });
      await new Promise((resolve) => setImmediate(resolve));
    }

    const ckptDir = checkpointDirFor(o.outDir);
    let extra: CheckpointExtra | null = null;
    if (o.resume) {
      extra = await readCheckpointExtra(ckptDir);
      if (extra && JSON.stringify(extra.settings) !== JSON.stringify(settings)) {
        throw new InputError(
          ckptDir,
          'was saved by a fine-tune with other settings or cases; start afresh (resume off) or use the same settings',
        );
      }
    } else {
      await fs.rm(ckptDir, { recursive: true, force: true });
    }

    // Base holdout score (kept in checkpoints, so a resumed run does not need the base weights again).
    const model = segmentationModelOf(base);
    let baseScore: HoldoutScore | null = extra ? extra.baseHoldout : null;
    const evalSeconds = { base: 0 };
    if (hasHoldout && !baseScore) {
      const te = performance.now();
      try {
        baseScore = await scoreCases(model, o.holdout, o.signal, (done, total) =>
          report({
            phase: 'evaluate',
            step: 0,
            steps: settings.steps,
            loss: null,
            etaS: null,
            fraction: at(span.base, done / total),
            message: `scoring the current model on holdout case ${done}/${total}`,
          }),
        );
      } catch (err) {
        if (isAbortError(err)) return cancelledResult(0, [], null);
        throw err;
      }
      evalSeconds.base = (performance.now() - te) / 1000;
    }
    let baseReplay: HoldoutScore | null = extra ? (extra.baseReplayHoldout ?? null) : null;
    let baseTrained: HoldoutScore | null = extra ? (extra.baseTrained ?? null) : null;
    try {
      if (replayHoldout.length > 0 && !baseReplay) baseReplay = await scoreCases(model, replayHoldout, o.signal);
      if (trainedCheck.length > 0 && !baseTrained) baseTrained = await scoreCases(model, trainedCheck, o.signal);
    } catch (err) {
      if (isAbortError(err)) return cancelledResult(0, [], baseScore);
      throw err;
    }
    if (baseScore) {
      // holdoutDice only on evaluation reports: the current model's score, before any step.
      report({
        phase: 'evaluate',
        step: 0,
        steps: settings.steps,
        loss: null,
        etaS: null,
        fraction: at(span.base, 1),
        message: `current model: holdout Dice ${baseScore.mean!.toFixed(3)}`,
        holdoutDice: baseScore.mean,
      });
    }

    // The base weights, for the blend after training (taken before a resumed run loads its checkpoint).
    const startWeights = settings.baseBlend < 1 ? weightsOf(base.net.params, true) : null;
    // Voxels read past a case's end (edge padding) carry this label, which the loss ignores.
    const edgeIgnore = settings.edgePad ? EDGE_PAD_IGNORE : undefined;
    trainer = new Trainer(base.net, {
      lr: settings.lr,
      schedule: 'poly',
      totalSteps: settings.steps,
      warmupSteps: warmupFor(settings.steps),
      anchorDecay: settings.anchorDecay,
      encoderLrMult: settings.encoderLrMult,
      ignoreLabel: edgeIgnore,
    });
    const rng = new Rng(settings.seed);
    let losses: number[] = [];
    if (extra) {
      await trainer.loadCheckpoint(ckptDir);
      rng.state = extra.rngState;
      losses = extra.losses.slice(0, trainer.step);
    }
    const save = (): Promise<void> =>
      trainer!.saveCheckpoint(ckptDir, {
        rngState: rng.state,
        losses,
        baseHoldout: baseScore,
        baseReplayHoldout: baseReplay,
        baseTrained,
        settings,
      });
    // The starters' own augmentation: one patient's appearance is the thing not to overfit to.
    const augment = settings.augment ? finetuneAugmentSettings(base.meta.schema, base.meta.starterSettings) : undefined;
    const withWeights = cases.some((c) => c.weights);
    const { cancelled } = await runSteps({
      trainer,
      end: settings.steps,
      sample: () =>
        sampleMixedBatch(
          cases,
          replayCases,
          replaySlots(trainer!.step, settings.batch, settings.replayShare),
          patch,
          rng,
          {
            foregroundProb: settings.foregroundProb,
            classBalanced: settings.classBalanced ?? false,
            augment,
            weights: withWeights,
            edgePadIgnore: edgeIgnore,
          },
        ),
      onStep: (r, perStepS) => {
        losses.push(r.loss);
        const etaS = perStepS * (settings.steps - r.step) + evalSeconds.base;
        report({
          phase: 'train',
          step: r.step,
          steps: settings.steps,
          loss: r.loss,
          etaS,
          fraction: at(span.train, r.step / settings.steps),
          message: `step ${r.step}/${settings.steps} · loss ${r.loss.toFixed(3)} · ${minutesLeft(etaS)}`,
        });
      },
      checkpointEvery: o.checkpointEvery ?? 25,
      save,
      signal: o.signal,
    });
    if (cancelled) {
      await save();
      return cancelledResult(trainer.step, losses, baseScore);
    }
    if (startWeights) blendTowards(base.net.params, startWeights, settings.baseBlend);

    // Candidate scores (holdout, then the replay holdout); a cancel here keeps a finished checkpoint, so
    // resuming only evaluates.
    let candScore: HoldoutScore | null = null;
    let candReplay: HoldoutScore | null = null;
    let candTrained: HoldoutScore | null = null;
    try {
      if (hasHoldout)
        candScore = await scoreCases(model, o.holdout, o.signal, (done, total) =>
          report({
            phase: 'evaluate',
            step: settings.steps,
            steps: settings.steps,
            loss: losses[losses.length - 1] ?? null,
            etaS: null,
            fraction: at(span.evaluate, done / total),
            message: `scoring the fine-tuned model on holdout case ${done}/${total}`,
          }),
        );
      if (replayHoldout.length > 0) candReplay = await scoreCases(model, replayHoldout, o.signal);
      if (trainedCheck.length > 0) candTrained = await scoreCases(model, trainedCheck, o.signal);
    } catch (err) {
      if (isAbortError(err)) {
        await save();
        return cancelledResult(trainer.step, losses, baseScore);
      }
      throw err;
    }
    const seconds = (performance.now() - t0) / 1000;
    const perCase = (candScore?.perCase ?? []).map((p, i) => ({
      id: p.id,
      base: baseScore!.perCase[i].dice,
      candidate: p.dice,
    }));
    const realOk = baseScore?.mean != null && candScore?.mean != null ? candScore.mean >= baseScore.mean : null;
    const tolerance = o.replayTolerance ?? FINETUNE_DEFAULTS.replayTolerance;
    // The replay holdout is judged on Dice pooled per class over its cases (a checkpoint of an older run has only
    // the per-case mean of the base: then both sides use that).
    const pooledBoth = baseReplay?.pooledMean != null && candReplay?.pooledMean != null;
    const replayOf = (s: HoldoutScore | null | undefined) => (pooledBoth ? s?.pooledMean : s?.mean) ?? null;
    const replayBase = replayOf(baseReplay);
    const replayCand = replayOf(candReplay);
    // Each class on its own too (holdout.ts replayClassDrop): a gain in one must not hide a loss in another.
    const classDrop =
      pooledBoth && baseReplay?.pooled && candReplay?.pooled
        ? replayClassDrop({ base: baseReplay.pooled, candidate: candReplay.pooled }, tolerance)
        : null;
    const replayOk =
      replayBase !== null && replayCand !== null ? replayCand >= replayBase - tolerance && classDrop === null : null;
    // The cases trained on are judged on Dice over all their foreground voxels: the check catches a run that lost
    // the case, and a few lesion voxels called on a lesion-free case are not that (by the per-case class mean the
    // shared crop's candidate fell 0.77 -> 0.29 while its kidney class rose 0.77 -> 0.88). A checkpoint of an older
    // run has only the mean: then both sides use that.
    const voxelBoth = baseTrained?.voxelDice != null && candTrained?.voxelDice != null;
    const trainedOf = (s: HoldoutScore | null | undefined) => (voxelBoth ? s?.voxelDice : s?.mean) ?? null;
    const trainedBase = trainedOf(baseTrained);
    const trainedCand = trainedOf(candTrained);
    const trainedOk = trainedBase !== null && trainedCand !== null ? trainedCand >= trainedBase : null;
    const holdout = {
      base: baseScore?.mean ?? null,
      candidate: candScore?.mean ?? null,
      perCase,
      // Both checks that exist must pass; with neither there is no evidence either way.
      notWorse:
        realOk === null && replayOk === null ? null : realOk !== false && replayOk !== false && trainedOk !== false,
      ...(baseScore?.byClass && candScore?.byClass
        ? { byClass: { base: baseScore.byClass, candidate: candScore.byClass } }
        : {}),
      ...(replayHoldout.length > 0
        ? {
            replay: {
              base: replayBase,
              candidate: replayCand,
              cases: replayHoldout.length,
              ...(baseReplay?.pooled && candReplay?.pooled
                ? { byClass: { base: baseReplay.pooled, candidate: candReplay.pooled } }
                : {}),
            },
          }
        : {}),
      ...(trainedCheck.length > 0
        ? {
            trained: {
              base: trainedBase,
              candidate: trainedCand,
              cases: trainedCheck.length,
            },
          }
        : {}),
    };
    const meta = candidateMeta(base.meta, o, settings, losses, holdout, seconds);
    const tmp = join(dirname(o.outDir), `.${basename(o.outDir)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await saveModelFolder(tmp, base.net, meta);
      await installFolder(tmp, o.outDir);
    } catch (err) {
      await fs.rm(tmp, { recursive: true, force: true });
      throw err;
    }
    await fs.rm(ckptDir, { recursive: true, force: true });
    report({
      phase: 'evaluate',
      step: settings.steps,
      steps: settings.steps,
      loss: losses[losses.length - 1] ?? null,
      etaS: 0,
      fraction: 1,
      message:
        holdout.candidate !== null
          ? `done · holdout Dice ${holdout.base!.toFixed(3)} → ${holdout.candidate.toFixed(3)}`
          : `done · ${settings.steps} steps`,
      holdoutDice: holdout.candidate,
    });
    return { cancelled: false, steps: trainer.step, losses, modelDir: o.outDir, holdout, seconds };
  } finally {
    trainer?.dispose();
    base.net.dispose();
  }
}

/** The variables' values by name (copies when `copy`: they outlive later steps). */
function weightsOf(params: Map<string, Variable>, copy: boolean): TensorMap {
  return new Map(
    [...params].map(([name, v]) => {
      const data = v.dataSync() as Float32Array;
      return [name, { shape: [...v.shape], data: copy ? data.slice() : data }];
    }),
  );
}

/** Each variable set to `start + alpha · (variable − start)` (weight-average.ts), in place. */
function blendTowards(params: Map<string, Variable>, start: TensorMap, alpha: number): void {
  const blended = interpolateWeights(start, weightsOf(params, false), alpha, 'the fine-tune blend with its base');
  for (const [name, v] of params) tf.tidy(() => v.assign(tf.tensor(blended.get(name)!.data, v.shape)));
}

/** A model folder's scores on cases (through the prediction pipeline), for holdout scoring. */
export async function scoreModel(modelDir: string, cases: FinetuneCase[], signal?: AbortSignal): Promise<HoldoutScore> {
  const loaded = await loadModelFolder(modelDir);
  try {
    return await scoreCases(segmentationModelOf(loaded), cases, signal);
  } finally {
    loaded.net.dispose();
  }
}
