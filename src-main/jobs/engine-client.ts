// The main side of the engine worker: one thread per client, every request carries an id and its answers
// (progress, then one result or error) are matched back by that id. Cancel is an AbortSignal:
//  - a pre-label stops at once: the thread is terminated mid-patch (nothing of the case in flight was saved),
//    the call rejects with an AbortError and the client is finished;
//  - a fine-tune stops after its current step: the worker writes a checkpoint and answers with
//    `cancelled: true`, so a pause can resume.
// Pre-label and fine-tune jobs (manager.ts, finetune-job.ts) both talk to the engine through this class only.
import type { FinetuneProgress, FinetuneResult } from '../train/finetune';
import type { FinetuneRequest, FromWorker, ModelSummary, ToWorker } from '../worker/protocol';
import type { SchemaName } from '../domain/label-schemas';
import { startPredictWorker } from './worker-entry';

/** What the client needs of a worker thread (a node:worker_threads Worker; tests pass a fake). */
export interface EngineThread {
  postMessage(message: ToWorker): void;
  on(event: 'message', listener: (m: FromWorker) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  terminate(): Promise<number>;
}

/** The engine refused a request; `input` when the cause is the data or the model folder, not a bug. */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly input: boolean,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export type PredictAnswer = Extract<FromWorker, { type: 'result' }>;

interface Call {
  settle(m: FromWorker): void;
  fail(err: Error): void;
}

function abortError(message: string): Error {
  const err = new Error(message);
  err.name = 'AbortError';
  return err;
}

export class EngineClient {
  private readonly calls = new Map<number, Call>();
  private nextId = 1;
  /** Set once the thread is gone: every later call rejects with it. */
  private ended: Error | null = null;

  constructor(private readonly thread: EngineThread = startPredictWorker()) {
    thread.on('message', (m: FromWorker) => this.calls.get(m.id)?.settle(m));
    thread.on('error', (err: Error) => this.end(err));
    thread.on('exit', () => this.end(new Error('the engine worker stopped unexpectedly')));
  }

  /** Loads (or replaces) the model the worker pre-labels with. An abort terminates the thread at once. */
  load(modelDir: string, schema: SchemaName, opts: { signal?: AbortSignal } = {}): Promise<ModelSummary> {
    return this.#terminatedOnAbort(opts.signal, 'the model load was cancelled', () =>
      this.request(
        (id) => ({ type: 'load', id, modelDir, schema }),
        (m) => {
          if (m.type === 'loaded') return m.model;
          throw new Error(`unexpected engine answer '${m.type}' to a load`);
        },
      ),
    );
  }

  /** Pre-labels one image file with the loaded model. An abort terminates the thread at once. */
  predict(
    imagePath: string,
    tta: boolean,
    opts: { signal?: AbortSignal; onProgress?: (fraction: number, message: string) => void } = {},
  ): Promise<PredictAnswer> {
    const { signal, onProgress } = opts;
    return this.#terminatedOnAbort(signal, 'the pre-label was cancelled', () =>
      this.request(
        (id) => ({ type: 'predict', id, imagePath, tta }),
        (m) => {
          if (m.type === 'result') return m;
          if (m.type === 'cancelled') throw abortError('the pre-label was cancelled');
          throw new Error(`unexpected engine answer '${m.type}' to a pre-label`);
        },
        (m) => {
          if (m.type === 'progress') onProgress?.(m.fraction, m.message);
        },
      ),
    );
  }

  /** Runs `call`; an abort of `signal` (before or during it) ends the thread and rejects with an AbortError. */
  #terminatedOnAbort<T>(signal: AbortSignal | undefined, message: string, call: () => Promise<T>): Promise<T> {
    if (signal?.aborted) return Promise.reject(abortError(message));
    const onAbort = () => void this.terminate(abortError(message));
    signal?.addEventListener('abort', onAbort, { once: true });
    return call().finally(() => signal?.removeEventListener('abort', onAbort));
  }

  /**
   * Fine-tunes in the worker. An abort (before or during the run) asks it to stop after the current step; the
   * answer is then a result with `cancelled: true` and a checkpoint kept.
   */
  finetune(
    options: FinetuneRequest,
    opts: { signal?: AbortSignal; onProgress?: (p: FinetuneProgress) => void } = {},
  ): Promise<FinetuneResult> {
    const { signal, onProgress } = opts;
    let id = 0;
    const onAbort = () => {
      if (!this.ended) this.thread.postMessage({ type: 'cancel', id });
    };
    const answer = this.request(
      (n) => {
        id = n;
        return { type: 'finetune', id: n, options };
      },
      (m) => {
        if (m.type === 'finetune-result') return m.result;
        throw new Error(`unexpected engine answer '${m.type}' to a fine-tune`);
      },
      (m) => {
        if (m.type === 'finetune-progress') onProgress?.(m.progress);
      },
    );
    // After the request went out: a stop asked for while the job was starting must reach the running fine-tune.
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    return answer.finally(() => signal?.removeEventListener('abort', onAbort));
  }

  /** Ends the thread; calls still open reject with `reason`. */
  async terminate(reason: Error = new Error('the engine worker was stopped')): Promise<void> {
    this.end(reason);
    await this.thread.terminate();
  }

  private request<T>(
    message: (id: number) => ToWorker,
    answer: (m: FromWorker) => T,
    progress?: (m: FromWorker) => void,
  ): Promise<T> {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, {
        settle: (m) => {
          if (m.type === 'progress' || m.type === 'finetune-progress') {
            progress?.(m);
            return;
          }
          this.calls.delete(id);
          if (m.type === 'error') reject(new EngineError(m.message, m.input));
          else {
            try {
              resolve(answer(m));
            } catch (err) {
              reject(err as Error);
            }
          }
        },
        fail: (err) => {
          this.calls.delete(id);
          reject(err);
        },
      });
      this.thread.postMessage(message(id));
    });
  }

  private end(reason: Error): void {
    this.ended ??= reason;
    for (const call of [...this.calls.values()]) call.fail(this.ended);
  }
}
