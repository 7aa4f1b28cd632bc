// Renderer state of pre-label jobs: starts them, follows their progress events, cancels them.
import type { ApiEvent, DeformuxApi } from '../../../src-main/api/contract';

export interface RunningJob {
  jobId: string;
  fraction: number;
  message: string;
}

export class PrelabelJobs {
  readonly #api: DeformuxApi;
  running = $state<RunningJob | null>(null);
  /** The last finished job's sentence (or a refusal), for the status line. */
  lastMessage = $state<string | null>(null);
  lastOk = $state(true);
  /** Cancel was clicked before the start request answered with the job's id: sent as soon as it does. */
  #cancelPending = false;
  /** While a start request travels: the jobs that ended meanwhile (one may be ours), id -> how it ended. */
  #endedWhileStarting: Record<string, { ok: boolean; message: string }> | null = null;

  constructor(api: DeformuxApi) {
    this.#api = api;
  }

  async start(caseIds: string[] | 'unlabelled'): Promise<void> {
    if (this.running) return;
    this.lastMessage = null;
    this.#cancelPending = false;
    this.#endedWhileStarting = {};
    // Set before the request: a second click while it travels finds the buttons already disabled.
    this.running = { jobId: '', fraction: 0, message: 'Queued…' };
    try {
      const { jobId, caseIds: ids } = await this.#api.call('jobs.prelabel', { caseIds });
      // A job as fast as its own start answer has ended already: its job.done came during the await.
      const ended = this.#endedWhileStarting?.[jobId];
      this.#endedWhileStarting = null;
      const cancelWanted = this.#cancelPending;
      this.#cancelPending = false;
      if (ended) {
        this.running = null;
        this.lastOk = ended.ok;
        this.lastMessage = ended.message;
        return;
      }
      // Progress events may already have arrived; keep whatever they set.
      const now = this.running as RunningJob | null; // events may have changed it during the await
      if (!now || now.jobId !== jobId)
        this.running = { jobId, fraction: 0, message: `Pre-labelling ${ids.length} case(s)…` };
      if (cancelWanted) await this.#sendCancel(jobId);
    } catch (e) {
      this.#endedWhileStarting = null;
      this.#cancelPending = false;
      if (this.running?.jobId === '') this.running = null;
      this.lastOk = false;
      this.lastMessage = e instanceof Error ? e.message : String(e);
    }
  }

  /** Picks up a pre-label that is queued or running already (a reopened tab, a second window). */
  async resume(): Promise<void> {
    try {
      const jobs = await this.#api.call('jobs.list', {});
      const open = jobs.find((j) => j.kind === 'prelabel' && (j.status === 'running' || j.status === 'queued'));
      if (open && !this.running) this.running = { jobId: open.id, fraction: open.fraction, message: open.message };
    } catch {
      // Without the list the bar shows the job from its next progress event.
    }
  }

  async cancel(): Promise<void> {
    const job = this.running;
    if (!job) return;
    this.running = { ...job, message: 'Cancelling…' };
    // Clicked while the start request travels: the job has no id here yet, so the cancel waits for it.
    if (job.jobId === '') this.#cancelPending = true;
    else await this.#sendCancel(job.jobId);
  }

  async #sendCancel(jobId: string): Promise<void> {
    try {
      await this.#api.call('jobs.cancel', { jobId });
    } catch (e) {
      this.lastOk = false;
      this.lastMessage = e instanceof Error ? e.message : String(e);
    }
  }

  /** Feeds API events in; returns true when a job finished (the caller refreshes the worklist). */
  handle(event: ApiEvent): boolean {
    if (event.name === 'job.progress' && event.payload.kind === 'prelabel') {
      const { jobId, fraction, message } = event.payload;
      if (!this.running || this.running.jobId === jobId || this.running.jobId === '')
        this.running = { jobId, fraction, message };
      return false;
    }
    if (event.name === 'job.done' && event.payload.kind === 'prelabel') {
      if (this.#endedWhileStarting)
        this.#endedWhileStarting[event.payload.jobId] = { ok: event.payload.ok, message: event.payload.message };
      if (this.running?.jobId === '') return true; // ours or not is known when the start request answers
      if (this.running?.jobId === event.payload.jobId || !this.running) this.running = null;
      this.lastOk = event.payload.ok;
      this.lastMessage = event.payload.message;
      return true;
    }
    return false;
  }
}
