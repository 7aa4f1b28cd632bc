// The engine worker's side of a fine-tune job: runs finetune() with an AbortSignal the job manager can
// trip (so a pause or cancel ends with a checkpoint rather than a killed thread) and streams progress.
import { InputError } from '../../imaging/volume';
import { initEngine } from '../tf';
import { finetune } from '../train/finetune';
import type { FromWorker, ToWorker } from './protocol';

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
  try {
    await initEngine();
    const result = await finetune({
      ...msg.options,
      signal: abort.signal,
      onProgress: (progress) => {
        const nowMs = performance.now();
        // Phase changes and evaluations always go through; steps are thinned out.
        const important = progress.phase !== 'train' || progress.holdoutDice !== undefined;
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
  }
}
