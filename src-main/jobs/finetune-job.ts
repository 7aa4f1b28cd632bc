// Runs one fine-tune job in the engine worker: sends the cases, streams progress, and on success
// registers the candidate model (parent, metrics, training info) and applies the promotion rule.
import { rm } from 'node:fs/promises';
import type { ApiEvent } from '../domain/events';
import type { FinetuneProgress, FinetuneResult } from '../train/finetune';
import type { FinetuneCaseFiles } from '../worker/protocol';
import type { ProjectStore } from '../store/project';
import { getJob, setJobParams, updateJob } from '../store/job-rows';
import { getModel, promoteModel, registerModel, updateModel } from '../store/model-rows';
import { projectSettings, saveLossCurve } from '../store/training-rows';
import { FINETUNE_KIND, modelIdOfFolder, promotionDecision } from './finetune-plan';
import { FINETUNE_DEFAULTS, RECIPE_DEFAULTS } from '../train/finetune-defaults';
import { LABEL_SCHEMAS } from '../domain/label-schemas';
import { formatEta } from '../util/eta';
import type { FinetuneParams } from './finetune-plan';
import { EngineClient } from './engine-client';

/** How the job manager stops a queued or running fine-tune: 'pause' keeps it resumable, 'cancel' ends it. */
export interface FinetuneControl {
  jobId: string;
  stopReason: 'pause' | 'cancel' | null;
  /** Asks the worker to stop after the current step (it writes a checkpoint first). */
  stop(reason: 'pause' | 'cancel'): void;
  /** Trips on the first stop: the engine client passes it on to the fine-tune. */
  readonly signal: AbortSignal;
}

export function newFinetuneControl(jobId: string): FinetuneControl {
  const abort = new AbortController();
  const control: FinetuneControl = {
    jobId,
    stopReason: null,
    signal: abort.signal,
    stop(reason) {
      control.stopReason ??= reason;
      abort.abort();
    },
  };
  return control;
}

function etaPart(seconds: number | null): string {
  return seconds === null || !Number.isFinite(seconds) ? '' : ` · ${formatEta(seconds)}`;
}

/** One line for the progress bar: step, loss, time left, last holdout Dice. */
export function progressLine(p: FinetuneProgress, lastDice: number | null): string {
  const dice = lastDice === null ? '' : ` · holdout Dice ${lastDice.toFixed(3)}`;
  if (p.phase !== 'train') return `${p.message}${dice}`;
  const loss = p.loss === null ? '' : ` · loss ${p.loss.toFixed(3)}`;
  return `step ${p.step}/${p.steps}${loss}${etaPart(p.etaS)}${dice}`;
}

/** The cases as files for the worker (it reads them: no full-size copies cross the thread boundary). */
function caseFilesOf(store: ProjectStore, list: FinetuneParams['train']): FinetuneCaseFiles[] {
  return list.map((c) => {
    const { image, label } = store.caseFiles(c.caseId, c.labelVersion);
    const prelabel = c.prelabelVersion === null ? undefined : store.caseFiles(c.caseId, c.prelabelVersion).label;
    return { id: c.caseId, image, label, ...(prelabel ? { prelabel } : {}) };
  });
}

/** Runs the fine-tune in a fresh engine worker; resolves with its result (cancelled or not). */
async function trainInWorker(
  params: FinetuneParams,
  train: FinetuneCaseFiles[],
  holdout: FinetuneCaseFiles[],
  control: FinetuneControl,
  onProgress: (p: FinetuneProgress) => void,
): Promise<FinetuneResult> {
  const engine = new EngineClient();
  try {
    return await engine.finetune(
      {
        baseModelDir: params.baseModelDir,
        baseModelId: params.baseModelId,
        outDir: params.outDir,
        train,
        holdout,
        steps: params.steps,
        correctionWeight: params.correctionWeight,
        resume: params.resume,
        recipe: RECIPE_DEFAULTS,
      },
      { signal: control.signal, onProgress },
    );
  } finally {
    await engine.terminate();
  }
}

/**
 * Deletes a cancelled fine-tune's checkpoint. The sibling's name follows checkpointDirFor() in
 * train/finetune.ts, repeated here so the main process does not load the engine (tfjs).
 */
export async function removeCheckpoint(outDir: string): Promise<void> {
  await rm(`${outDir}.checkpoint`, { recursive: true, force: true });
}

export interface FinetuneJobContext {
  store: ProjectStore;
  emit: (e: ApiEvent) => void;
}

/** Runs a queued fine-tune job to its end: done (candidate registered), paused, cancelled or failed. */
export async function runFinetuneJob(ctx: FinetuneJobContext, jobId: string, control: FinetuneControl): Promise<void> {
  const { store, emit } = ctx;
  const job = getJob(store, jobId);
  if (!job || job.status !== 'queued') return; // paused or cancelled while it waited
  const params = job.params as unknown as FinetuneParams;
  const finish = (status: 'done' | 'failed' | 'cancelled' | 'paused', message: string, result = {}) => {
    updateJob(store, jobId, { status, message, result, ...(status === 'done' ? { fraction: 1 } : {}) });
    emit({ name: 'job.done', payload: { jobId, kind: FINETUNE_KIND, ok: status === 'done', message } });
  };
  if (control.stopReason) {
    if (control.stopReason === 'pause') finish('paused', 'Paused before it started; resume to run it.');
    else finish('cancelled', 'Cancelled before it started.');
    return;
  }
  let lastDice: number | null = null;
  const progress = (fraction: number, message: string, p?: FinetuneProgress) => {
    updateJob(store, jobId, { fraction, message });
    emit({
      name: 'job.progress',
      payload: {
        jobId,
        kind: FINETUNE_KIND,
        fraction,
        message,
        ...(p ? { step: p.step, steps: p.steps, loss: p.loss, etaS: p.etaS, holdoutDice: lastDice } : {}),
      },
    });
  };
  updateJob(store, jobId, { status: 'running' });
  try {
    const n = params.train.length + params.holdout.length;
    progress(0, `reading ${n} submitted case(s)`);
    const train = caseFilesOf(store, params.train);
    const holdout = caseFilesOf(store, params.holdout);
    progress(0, params.resume ? 'resuming from the last checkpoint' : 'starting the engine');
    const result = await trainInWorker(params, train, holdout, control, (p) => {
      if (p.holdoutDice !== undefined && p.holdoutDice !== null) lastDice = p.holdoutDice;
      progress(p.fraction, progressLine(p, lastDice), p);
    });
    // A stop before the first step returns no losses: keep what an earlier run of this job stored.
    if (result.losses.length > 0) saveLossCurve(store, jobId, result.losses);
    if (result.cancelled || !result.modelDir) {
      // From now on the job continues from its checkpoint whenever it is resumed.
      setJobParams(store, jobId, { ...params, resume: true });
      const summary = { steps: result.steps, seconds: result.seconds };
      if (control.stopReason === 'cancel') {
        await removeCheckpoint(params.outDir);
        finish('cancelled', `Cancelled at step ${result.steps}/${params.steps}.`, summary);
      } else
        finish(
          'paused',
          `Paused at step ${result.steps}/${params.steps}; resume continues from the checkpoint.`,
          summary,
        );
      return;
    }
    const outcome = registerCandidate(store, jobId, params, result);
    finish('done', outcome.message, outcome.result);
  } catch (err) {
    finish('failed', `Fine-tune failed: ${(err as Error).message}`);
  }
}

function registerCandidate(
  store: ProjectStore,
  jobId: string,
  params: FinetuneParams,
  result: FinetuneResult,
): { message: string; result: Record<string, unknown> } {
  const dir = result.modelDir!;
  const base = getModel(store, params.baseModelId);
  const baseVersion = base?.version ?? 0;
  const { base: baseDice, candidate: candidateDice } = result.holdout;
  const tail = result.losses.slice(-10).filter(Number.isFinite);
  const metrics: Record<string, number> = {
    steps: result.steps,
    trainCases: params.train.length,
    holdoutCases: params.holdout.length,
    ...(tail.length ? { finalLoss: tail.reduce((s, l) => s + l, 0) / tail.length } : {}),
    ...(candidateDice !== null ? { holdoutDice: candidateDice } : {}),
    ...(baseDice !== null ? { baseHoldoutDice: baseDice } : {}),
    ...(result.holdout.replay?.candidate != null ? { replayHoldoutDice: result.holdout.replay.candidate } : {}),
    ...(result.holdout.replay?.base != null ? { baseReplayHoldoutDice: result.holdout.replay.base } : {}),
    ...(result.holdout.trained?.candidate != null ? { trainedCasesDice: result.holdout.trained.candidate } : {}),
    ...(result.holdout.trained?.base != null ? { baseTrainedCasesDice: result.holdout.trained.base } : {}),
  };
  const decision = promotionDecision({
    promoteIfNotWorse: projectSettings(store).promoteIfNotWorse,
    baseDice,
    candidateDice,
    baseVersion,
    ...(result.holdout.replay
      ? {
          replay: {
            base: result.holdout.replay.base,
            candidate: result.holdout.replay.candidate,
            tolerance: FINETUNE_DEFAULTS.replayTolerance,
            ...(result.holdout.replay.byClass ? { byClass: result.holdout.replay.byClass } : {}),
            classNames: LABEL_SCHEMAS[params.schema].classes.map((c) => c.name),
          },
        }
      : {}),
    ...(result.holdout.trained ? { trained: result.holdout.trained } : {}),
  });
  const id = modelIdOfFolder(dir);
  const info = registerModel(store, {
    id,
    schema: params.schema,
    folder: dir,
    parentId: params.baseModelId,
    version: params.version,
    metrics,
    status: 'candidate',
    note: decision.reason,
    training: {
      jobId,
      steps: result.steps,
      correctionWeight: params.correctionWeight,
      trainCaseIds: params.train.map((c) => c.caseId),
      holdoutCaseIds: params.holdout.map((c) => c.caseId),
      baseModelId: params.baseModelId,
      seconds: result.seconds,
      holdoutPerCase: result.holdout.perCase,
    },
  });
  // The base's first holdout score is its point on the learning curve (later ones score a grown holdout).
  if (base && baseDice !== null && base.metrics.holdoutDice === undefined)
    updateModel(store, base.id, { metrics: { holdoutDice: baseDice } });
  if (decision.promote) promoteModel(store, id, decision.reason);
  const dice = candidateDice === null ? 'no holdout score' : `holdout Dice ${candidateDice.toFixed(3)}`;
  return {
    message: `Fine-tuned version ${info.version} (${dice}); ${decision.reason}.`,
    result: {
      modelId: id,
      version: info.version,
      promoted: decision.promote,
      reason: decision.reason,
      steps: result.steps,
    },
  };
}
