// In-process jobs that need no engine worker (import, nnU-Net export, DICOMweb retrieve): each is a row in the jobs table with
// throttled progress (persisted and emitted as job.progress), cancel through an AbortSignal, and a final
// status. A row the app leaves 'running' is marked interrupted when the project opens again (job-rows.ts).
import { randomUUID } from 'node:crypto';
import { CancelledError, RequestError } from '../domain/errors';
import type { ApiEvent } from '../domain/events';
import type { ProjectStore } from '../store/project';
import { getJob, insertJob, updateJob } from '../store/job-rows';

/** Progress is written and emitted at most this often (as the pre-label worker sends it); fraction 1 always. */
export const TASK_PROGRESS_INTERVAL_MS = 100;

export interface TaskContext {
  jobId: string;
  /** Aborted by jobs.cancel (or the app closing): the work stops at its next check, leaving only whole results. */
  signal: AbortSignal;
  progress(fraction: number, message: string): void;
}

export interface TaskEnd {
  status: 'done' | 'failed' | 'cancelled';
  message: string;
  result: Record<string, unknown>;
}

export interface TaskSpec<T> {
  kind: string;
  /** Recorded in the row (what was asked: paths, output folder). */
  params: Record<string, unknown>;
  caseId?: string | null;
  work(ctx: TaskContext): Promise<T>;
  /** How a run that returned is recorded (a cancelled import returns the cases it kept). */
  ended(value: T): TaskEnd;
  /** The row's message, and the thrown CancelledError's, when the work threw after a cancel. */
  cancelledMessage?: string;
}

export class TaskRunner {
  private readonly running = new Map<string, { controller: AbortController; settled: Promise<unknown> }>();

  constructor(
    private readonly store: ProjectStore,
    private readonly emit: (e: ApiEvent) => void,
  ) {}

  /**
   * Inserts the job's row and starts it at once; `done` settles with the work's value or its error. `jobId` may be
   * chosen by the caller (a page that wants to cancel before the request answers); it must be new.
   */
  start<T>(spec: TaskSpec<T>, jobId: string = randomUUID()): { jobId: string; done: Promise<T> } {
    if (getJob(this.store, jobId)) throw new RequestError(`a job with id ${jobId} exists already; choose a new id.`);
    insertJob(this.store, { id: jobId, kind: spec.kind, caseId: spec.caseId ?? null, params: spec.params });
    updateJob(this.store, jobId, { status: 'running', message: 'starting' });
    const controller = new AbortController();
    const done = this.run(jobId, spec, controller.signal);
    const settled = done.then(
      () => undefined,
      () => undefined,
    );
    this.running.set(jobId, { controller, settled });
    void settled.then(() => this.running.delete(jobId));
    return { jobId, done };
  }

  /** Aborts a job this runner is running; false when it runs none with that id. */
  cancel(jobId: string, reason = 'cancelled'): boolean {
    const job = this.running.get(jobId);
    if (!job) return false;
    job.controller.abort(new CancelledError(reason));
    return true;
  }

  /** Resolves when every running job has ended. */
  async idle(): Promise<void> {
    await Promise.all([...this.running.values()].map((j) => j.settled));
  }

  /** Cancels every running job (the app or project is closing) and waits for each to end. */
  async close(): Promise<void> {
    for (const id of this.running.keys()) this.cancel(id, 'the project closed');
    await this.idle();
  }

  private async run<T>(jobId: string, spec: TaskSpec<T>, signal: AbortSignal): Promise<T> {
    let lastMs = -Infinity;
    const ctx: TaskContext = {
      jobId,
      signal,
      progress: (fraction, message) => {
        const now = performance.now();
        if (now - lastMs < TASK_PROGRESS_INTERVAL_MS && fraction < 1) return;
        lastMs = now;
        updateJob(this.store, jobId, { fraction, message });
        this.emit({ name: 'job.progress', payload: { jobId, kind: spec.kind, fraction, message } });
      },
    };
    let value: T;
    try {
      value = await spec.work(ctx);
    } catch (err) {
      if (signal.aborted) {
        const message = spec.cancelledMessage ?? 'Cancelled.';
        this.finish(jobId, spec.kind, { status: 'cancelled', message, result: {} });
        throw new CancelledError(message);
      }
      this.finish(jobId, spec.kind, { status: 'failed', message: errorMessage(err), result: {} });
      throw err;
    }
    this.finish(jobId, spec.kind, spec.ended(value));
    return value;
  }

  private finish(jobId: string, kind: string, end: TaskEnd): void {
    endJob(this.store, this.emit, jobId, kind, end);
  }
}

/** Records a job's final status in its row (a done job at fraction 1) and emits job.done. */
export function endJob(
  store: ProjectStore,
  emit: (e: ApiEvent) => void,
  jobId: string,
  kind: string,
  { status, message, result }: TaskEnd,
): void {
  updateJob(store, jobId, { status, message, result, ...(status === 'done' ? { fraction: 1 } : {}) });
  emit({ name: 'job.done', payload: { jobId, kind, ok: status === 'done', message } });
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
