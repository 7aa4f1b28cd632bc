// The engine worker's side of a fine-tune job: runs finetune() with an AbortSignal the job manager can
// trip (so a pause or cancel ends with a checkpoint rather than a killed thread) and streams progress.
import { InputError } from '../imaging/volume';
import { initEngine } from '../engine/tf';
import { releaseFreeMemory } from '../engine/kernels';
import { checkpointDirFor, finetune } from '../train/finetune';
import type { FinetuneCase, FinetuneProgress, FinetuneResult } from '../train/finetune';
import { readCheckpointExtra } from '../train/finetune-support';
import type { FinetuneCaseFiles, FromWorker, ToWorker } from './protocol';
import { recipeForModel as recipeFor } from '../train/recipe';

/** At most this many progress messages a second: the main thread writes each to the jobs table. */
const PROGRESS_PER_S = 5;

export async function runFinetuneMessage(
  msg: Extract<ToWorker, { type: 'finetune' }>,
  send: (m: FromWorker) => void,
  running: Map<number, AbortController>,
): Promise<void> {
  const { id } = msg;
  const abort = new AbortController();
  running.set(id, abort);
  let lastSentMs = 0;
  let lastPhase: FinetuneProgress['phase'] | null = null;
  try {
    await initEngine();
    const { readVolume } = await import('../imaging/read');
    const read = async (files: FinetuneCaseFiles[], what: string): Promise<FinetuneCase[]> => {
      const out: FinetuneCase[] = [];
      for (const [n, f] of files.entries()) {
        if (abort.signal.aborted) break;
        send({
          type: 'finetune-progress',
          id,
          progress: {
            phase: 'prepare',
            step: 0,
            steps: msg.options.steps,
            loss: null,
            etaS: null,
            fraction: 0,
            message: `reading ${what} case ${n + 1} of ${files.length}`,
          },
        });
        const image = await readVolume(f.image);
        const label = await readVolume(f.label);
        const prelabel = f.prelabel ? await readVolume(f.prelabel) : undefined;
        out.push({ id: f.id, image, label, ...(prelabel ? { prelabel } : {}) });
      }
      return out;
    };
    const train = await read(msg.options.train, 'training');
    const holdout = await read(msg.options.holdout, 'holdout');
    const { recipe, ...options } = msg.options;
    // The replay recipe is generated here; a stop while it is drawn ends like a stop while reading.
    const replay =
      recipe && !abort.signal.aborted
        ? await recipeFor(options.baseModelDir, recipe, abort.signal).catch((err: unknown) => {
            if (abort.signal.aborted) return undefined;
            throw err;
          })
        : undefined;
    // Stopped (pause, app closing) while the cases were read: the lists are partial or empty, and a
    // fine-tune on them would fail ("no training cases") or differ from the job's. Report a stop at the
    // checkpoint's step instead; the next resume reads every case again.
    if (abort.signal.aborted) {
      send({ type: 'finetune-result', id, result: await stoppedBeforeTraining(msg.options) });
      return;
    }
    const result = await finetune({
      ...options,
      train,
      holdout,
      ...(replay ?? {}),
      signal: abort.signal,
      onProgress: (progress) => {
        const nowMs = performance.now();
        // Phase changes (including the first step of a run or a resumed run), evaluations and the last
        // step always go through; the steps between are thinned out.
        const important =
          progress.phase !== 'train' || progress.phase !== lastPhase || progress.holdoutDice !== undefined;
        lastPhase = progress.phase;
        if (!important && nowMs - lastSentMs < 1000 / PROGRESS_PER_S && progress.step < progress.steps) return;
        lastSentMs = nowMs;
        send({ type: 'finetune-progress', id, progress });
      },
    });
    send({ type: 'finetune-result', id, result });
  } catch (err) {
    send({ type: 'error', id, message: (err as Error).message, input: err instanceof InputError });
  } finally {
    running.delete(id);
    releaseFreeMemory();
  }
}

/** The result of a run stopped before its first step: the step and base score of its checkpoint, if any. */
async function stoppedBeforeTraining(o: { outDir: string; resume?: boolean }): Promise<FinetuneResult> {
  const extra = o.resume ? await readCheckpointExtra(checkpointDirFor(o.outDir)) : null;
  return {
    cancelled: true,
    steps: extra?.losses.length ?? 0,
    losses: [],
    modelDir: null,
    holdout: { base: extra?.baseHoldout?.mean ?? null, candidate: null, perCase: [], notWorse: null },
    seconds: 0,
  };
}
