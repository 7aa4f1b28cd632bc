// Renderer state of the model line: versions, the learning curve, and the fine-tune job (start, follow
// its progress events, pause, resume, cancel), plus promote and roll back.
import type { ApiEvent, DeformuxApi, JobInfo, LearningCurve, ModelInfo } from '../../../src-main/api/contract';
export { canRollback } from './modelRules';

export const FINETUNE_KIND = 'finetune';

export interface FinetuneJobView {
  jobId: string;
  status: JobInfo['status'];
  fraction: number;
  message: string;
  /** Training step and planned steps, once a step has run (the bar follows them). */
  step?: number;
  steps?: number;
}

/** The bar's percentage: steps done of steps planned once training runs (preparing cases is not training). */
export function finetunePercent(job: FinetuneJobView | null): number {
  if (!job) return 0;
  if (job.steps && job.steps > 0 && job.step !== undefined) return Math.round((100 * job.step) / job.steps);
  return Math.round(job.fraction * 100);
}

export class ModelState {
  readonly #api: DeformuxApi;
  models = $state<ModelInfo[]>([]);
  curve = $state<LearningCurve | null>(null);
  /** The fine-tune running, queued, paused or interrupted (null when none is open). */
  job = $state<FinetuneJobView | null>(null);
  /** Loss per step of the running fine-tune, live from progress events (the stored curve is downsampled). */
  liveLoss = $state<{ step: number; loss: number }[]>([]);
  lastMessage = $state<string | null>(null);
  lastOk = $state(true);
  promoteIfNotWorse = $state(true);

  constructor(api: DeformuxApi) {
    this.#api = api;
  }

  get running(): boolean {
    return this.job?.status === 'running' || this.job?.status === 'queued';
  }

  async #try(run: () => Promise<unknown>): Promise<void> {
    try {
      await run();
    } catch (e) {
      this.lastOk = false;
      this.lastMessage = e instanceof Error ? e.message : String(e);
    }
  }

  /** Reloads models, curve, settings and any open fine-tune job (after a restart it may be interrupted). */
  refresh(): Promise<void> {
    return this.#try(async () => {
      const [models, curve, settings, jobs] = await Promise.all([
        this.#api.call('models.list', {}),
        this.#api.call('project.learningCurve', {}),
        this.#api.call('project.settings', {}),
        this.#api.call('jobs.list', {}),
      ]);
      this.models = models;
      this.curve = curve;
      this.promoteIfNotWorse = settings.promoteIfNotWorse;
      const open = jobs.find(
        (j) => j.kind === FINETUNE_KIND && ['queued', 'running', 'paused', 'interrupted'].includes(j.status),
      );
      this.job = open ? { jobId: open.id, status: open.status, fraction: open.fraction, message: open.message } : null;
    });
  }

  finetune(steps: number, correctionWeight: number): Promise<void> {
    this.lastMessage = null;
    return this.#try(async () => {
      const { jobId } = await this.#api.call('jobs.finetune', { steps, correctionWeight });
      this.liveLoss = [];
      if (this.job?.jobId !== jobId) this.job = { jobId, status: 'queued', fraction: 0, message: 'queued' };
    });
  }

  #jobCall(method: 'jobs.pause' | 'jobs.resume' | 'jobs.cancel'): Promise<void> {
    const job = this.job;
    if (!job) return Promise.resolve();
    return this.#try(async () => {
      const info = await this.#api.call(method, { jobId: job.jobId });
      if (this.job?.jobId !== info.id) return;
      const open = ['queued', 'running', 'paused', 'interrupted'].includes(info.status);
      // A running job answers 'running' to a pause; its job.done event then says 'paused'.
      this.job = open ? { ...this.job, status: info.status, message: info.message } : null;
      if (!open) {
        this.lastOk = false;
        this.lastMessage = info.message;
      }
    });
  }

  pause = (): Promise<void> => this.#jobCall('jobs.pause');
  resume = (): Promise<void> => {
    if (this.lastMessage?.startsWith('Paused')) this.lastMessage = null;
    return this.#jobCall('jobs.resume');
  };
  cancel = (): Promise<void> => this.#jobCall('jobs.cancel');

  promote(modelId: string): Promise<void> {
    return this.#try(async () => {
      this.models = await this.#api.call('models.promote', { modelId });
      this.curve = await this.#api.call('project.learningCurve', {});
    });
  }

  rollback(): Promise<void> {
    return this.#try(async () => {
      this.models = await this.#api.call('models.rollback', {});
      const active = this.models.find((m) => m.status === 'active');
      this.lastOk = true;
      this.lastMessage = active ? `Rolled back: version ${active.version} pre-labels again.` : 'Rolled back.';
    });
  }

  setPromoteIfNotWorse(on: boolean): Promise<void> {
    return this.#try(async () => {
      this.promoteIfNotWorse = (
        await this.#api.call('project.setSettings', { promoteIfNotWorse: on })
      ).promoteIfNotWorse;
    });
  }

  /** Feeds API events in: fine-tune progress and completion. */
  handle(event: ApiEvent): void {
    if (event.name === 'job.progress' && event.payload.kind === FINETUNE_KIND) {
      const { jobId, fraction, message, step, steps, loss } = event.payload;
      if (this.job && this.job.jobId !== jobId) return;
      const prev = this.job;
      // A resumed job prepares its cases again before the next step: the bar keeps its last step.
      this.job = {
        jobId,
        status: 'running',
        fraction: step === undefined && prev ? Math.max(prev.fraction, fraction) : fraction,
        message,
        ...(step !== undefined || prev?.step !== undefined ? { step: step ?? prev?.step } : {}),
        ...(steps !== undefined || prev?.steps !== undefined ? { steps: steps ?? prev?.steps } : {}),
      };
      // "Paused at step N" belongs to the pause, not to the job running again.
      if (this.lastMessage?.startsWith('Paused')) this.lastMessage = null;
      const last = this.liveLoss.at(-1);
      if (step !== undefined && loss !== undefined && loss !== null && (!last || step > last.step))
        this.liveLoss = [...this.liveLoss, { step, loss }];
      return;
    }
    if (event.name === 'job.done' && event.payload.kind === FINETUNE_KIND) {
      // A pause is not a failure: the job waits for resume.
      this.lastOk = event.payload.ok || event.payload.message.startsWith('Paused');
      this.lastMessage = event.payload.message;
      this.job = null;
      // The stored (downsampled) curve of this run replaces the live one.
      this.liveLoss = [];
      void this.refresh();
    }
  }
}
