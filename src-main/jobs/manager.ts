// The job manager: every long job is a row in the jobs table, with progress events, cancel and saved results.
// Pre-label and fine-tune jobs run one at a time in the engine worker thread (fine-tunes also pause/resume);
// import, nnU-Net export and DICOMweb retrieves run at once in this thread through its task runner.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ImportRequest, VolumeHeader } from '../domain/cases';
import type { ApiEvent } from '../domain/events';
import type { JobInfo } from '../domain/jobs';
import type { SchemaName } from '../domain/label-schemas';
import { ConflictError, RequestError } from '../domain/errors';
import type { Volume } from '../imaging/volume';
import type { ProjectStore } from '../store/project';
import { NotFoundError } from '../store/errors';
import { getJob, insertJob, listJobs, markInterruptedJobs, setJobParams, updateJob } from '../store/job-rows';
import { activeModel, registerModel } from '../store/model-rows';
import { savePrediction } from '../store/prediction-rows';
import type { ModelSummary } from '../worker/protocol';
import { EngineClient, EngineError } from './engine-client';
import type { PredictAnswer } from './engine-client';
import { resolveModelDir } from './model-source';
import { FINETUNE_KIND, planFinetune } from './finetune-plan';
import type { FinetuneParams } from './finetune-plan';
import { newFinetuneControl, removeCheckpoint, runFinetuneJob } from './finetune-job';
import type { FinetuneControl } from './finetune-job';
import { exportNnunetJob, importJob, type ImportRun } from './file-jobs';
import { endJob, TaskRunner } from './task-runner';
import type { TaskSpec } from './task-runner';

export const PRELABEL_KIND = 'prelabel';

/** The model a project pre-labels with: its active model, else <project>/models/<schema>-lite, else the starter. */
export function projectModelDir(store: ProjectStore, schema: SchemaName): string {
  const active = activeModel(store, schema);
  if (active && existsSync(join(active.folder, 'model.json'))) return active.folder;
  const local = join(store.dir, 'models', `${schema}-lite`);
  if (existsSync(join(local, 'model.json'))) return local;
  return resolveModelDir(schema);
}

/** Cases nobody has labelled yet: status 'new' and no prediction, edit or import (a phantom's reference does not count). */
export function unlabelledCaseIds(store: ProjectStore): string[] {
  return store
    .listCases()
    .filter((c) => c.status === 'new')
    .filter((c) => !store.listLabelVersions(c.id).some((v) => v.kind !== 'reference'))
    .map((c) => c.id);
}

interface Running {
  jobId: string;
  cancelled: boolean;
  /** Stops the engine at once; the call in flight rejects, and so does every later one. */
  stop: () => void;
}

export class JobManager {
  private chain: Promise<void> = Promise.resolve();
  private running: Running | null = null;
  /** Fine-tunes queued or running, stopped through their AbortSignal (never by killing the thread). */
  private readonly pendingFinetunes = new Map<string, FinetuneControl>();
  private readonly cancelledQueued = new Set<string>();
  /** Import and nnU-Net export: no engine, so they run at once rather than behind a pre-label. */
  private readonly tasks: TaskRunner;
  private closed = false;

  constructor(
    private readonly store: ProjectStore,
    private readonly emit: (e: ApiEvent) => void,
  ) {
    markInterruptedJobs(store);
    this.tasks = new TaskRunner(store, emit);
  }

  /** Starts importing CT files or DICOM folders as an 'import' job; `done` answers with what was imported. */
  importCases(req: ImportRequest): { jobId: string; done: Promise<ImportRun> } {
    return this.tasks.start(importJob(this.store, req));
  }

  /** Starts an 'export-nnunet' job; throws at once when no case was submitted. A cancel rejects `done`. */
  exportNnunet(): { jobId: string; done: Promise<{ path: string; cases: number }> } {
    return this.tasks.start(exportNnunetJob(this.store));
  }

  /** Starts in-process work (a DICOMweb retrieve) as a job of this runner: a row, progress, cancel, interrupted. */
  runTask<T>(spec: TaskSpec<T>, jobId?: string): { jobId: string; done: Promise<T> } {
    return this.tasks.start(spec, jobId);
  }

  /** Queues a pre-label job; throws at once when there is nothing to do or no model. */
  prelabel(req: { caseIds: string[] | 'unlabelled'; tta?: boolean }): { jobId: string; caseIds: string[] } {
    const caseIds = req.caseIds === 'unlabelled' ? unlabelledCaseIds(this.store) : [...new Set(req.caseIds)];
    for (const id of caseIds) this.store.getCase(id); // NotFoundError for an unknown id
    if (caseIds.length === 0) throw new RequestError('jobs.prelabel: there are no unlabelled cases to pre-label.');
    // One pre-label per case at a time: a double click (or a second tab) must not queue a duplicate.
    const busy = this.openPrelabelFor(caseIds);
    if (busy)
      throw new ConflictError(
        `jobs.prelabel: case ${busy.caseId} is already being pre-labelled (job ${busy.jobId}, ${busy.status}); wait for it or cancel it.`,
      );
    const schema = this.store.info().schema.name;
    let modelDir: string;
    try {
      modelDir = projectModelDir(this.store, schema);
    } catch (err) {
      throw new RequestError((err as Error).message);
    }
    const jobId = randomUUID();
    const params = { caseIds, tta: !!req.tta, modelDir, schema };
    insertJob(this.store, { id: jobId, kind: PRELABEL_KIND, caseId: caseIds.length === 1 ? caseIds[0] : null, params });
    this.chain = this.chain.then(() => this.run(jobId, params));
    return { jobId, caseIds };
  }

  /** The first of `caseIds` that a queued or running pre-label job already covers, or null. */
  private openPrelabelFor(caseIds: string[]): { caseId: string; jobId: string; status: string } | null {
    const wanted = new Set(caseIds);
    for (const job of listJobs(this.store, 1000)) {
      if (job.kind !== PRELABEL_KIND || (job.status !== 'queued' && job.status !== 'running')) continue;
      if (this.cancelledQueued.has(job.id)) continue;
      const ids = Array.isArray(job.params.caseIds) ? (job.params.caseIds as string[]) : [];
      const hit = ids.find((id) => wanted.has(id));
      if (hit) return { caseId: hit, jobId: job.id, status: job.status };
    }
    return null;
  }

  cancel(jobId: string): JobInfo {
    const job = getJob(this.store, jobId);
    if (!job) throw new NotFoundError(`no job with id '${jobId}'.`);
    // An import or export stops at its next check; its job.done event says what it kept.
    if (this.tasks.cancel(jobId)) return getJob(this.store, jobId)!;
    if (job.kind === FINETUNE_KIND) return this.stopFinetune(job, 'cancel');
    if (this.running?.jobId === jobId) {
      this.running.cancelled = true;
      // Terminating the thread stops the network mid-patch; nothing of the case in flight was saved.
      this.running.stop();
    } else if (job.status === 'queued') this.cancelledQueued.add(jobId);
    return getJob(this.store, jobId)!;
  }

  /** Queues a fine-tune of the active model on the submitted cases (see finetune-plan.ts for the checks). */
  finetune(req: { steps?: number; correctionWeight?: number }): { jobId: string } {
    const open = listJobs(this.store, 1000).find(
      (j) => j.kind === FINETUNE_KIND && ['queued', 'running', 'paused', 'interrupted'].includes(j.status),
    );
    if (open)
      throw new RequestError(
        `jobs.finetune: a fine-tune is already ${open.status} (job ${open.id}); ${open.status === 'queued' || open.status === 'running' ? 'wait for it or cancel it' : 'resume or cancel it'} first.`,
      );
    const schema = this.store.info().schema.name;
    const params = planFinetune(this.store, req, () => projectModelDir(this.store, schema));
    const jobId = randomUUID();
    insertJob(this.store, { id: jobId, kind: FINETUNE_KIND, params: { ...params } });
    this.queueFinetune(jobId);
    return { jobId };
  }

  /** Pauses a running (or queued) fine-tune: it stops after the current step, keeping a checkpoint. */
  pause(jobId: string): JobInfo {
    const job = getJob(this.store, jobId);
    if (!job) throw new NotFoundError(`no job with id '${jobId}'.`);
    if (job.kind !== FINETUNE_KIND)
      throw new RequestError(`jobs.pause: only fine-tunes can pause; cancel a ${job.kind} instead.`);
    if (job.status !== 'running' && job.status !== 'queued')
      throw new RequestError(`jobs.pause: job ${jobId} is ${job.status}, not running.`);
    return this.stopFinetune(job, 'pause');
  }

  /** Continues a paused or interrupted fine-tune from its last checkpoint (queued behind other jobs). */
  resume(jobId: string): JobInfo {
    const job = getJob(this.store, jobId);
    if (!job) throw new NotFoundError(`no job with id '${jobId}'.`);
    if (job.kind !== FINETUNE_KIND || (job.status !== 'paused' && job.status !== 'interrupted'))
      throw new RequestError(
        `jobs.resume: job ${jobId} is a ${job.status} ${job.kind}; only a paused or interrupted fine-tune can resume.`,
      );
    setJobParams(this.store, jobId, { ...(job.params as unknown as FinetuneParams), resume: true });
    updateJob(this.store, jobId, { status: 'queued', message: 'queued to resume from the last checkpoint' });
    this.queueFinetune(jobId);
    return getJob(this.store, jobId)!;
  }

  private queueFinetune(jobId: string): void {
    const control = newFinetuneControl(jobId);
    this.chain = this.chain.then(async () => {
      if (this.closed) control.stop('pause');
      await runFinetuneJob({ store: this.store, emit: this.emit }, jobId, control);
    });
    this.pendingFinetunes.set(jobId, control);
    void this.chain.then(() => this.pendingFinetunes.delete(jobId));
  }

  private stopFinetune(job: JobInfo, reason: 'pause' | 'cancel'): JobInfo {
    const control = this.pendingFinetunes.get(job.id);
    if (control && (job.status === 'running' || job.status === 'queued')) {
      control.stop(reason);
    } else if (reason === 'cancel' && (job.status === 'paused' || job.status === 'interrupted')) {
      updateJob(this.store, job.id, { status: 'cancelled', message: `Cancelled while ${job.status}.` });
      const { outDir } = job.params as unknown as FinetuneParams;
      if (typeof outDir === 'string') void removeCheckpoint(outDir).catch(() => undefined);
      this.emit({
        name: 'job.done',
        payload: { jobId: job.id, kind: FINETUNE_KIND, ok: false, message: 'Cancelled.' },
      });
    }
    return getJob(this.store, job.id)!;
  }

  list(): JobInfo[] {
    return listJobs(this.store);
  }

  /** Resolves when every queued job has finished (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([this.chain, this.tasks.idle()]);
  }

  async close(): Promise<void> {
    this.closed = true;
    // An import keeps the cases it finished; an export removes its partial folder.
    const tasks = this.tasks.close();
    // A fine-tune pauses at its next step with a checkpoint, so it resumes in the next session.
    for (const control of this.pendingFinetunes.values()) control.stop('pause');
    if (this.running) {
      this.running.cancelled = true;
      this.running.stop();
    }
    await Promise.all([this.chain, tasks]);
  }

  private progress(jobId: string, fraction: number, message: string, caseId?: string): void {
    updateJob(this.store, jobId, { fraction, message });
    this.emit({ name: 'job.progress', payload: { jobId, kind: PRELABEL_KIND, caseId, fraction, message } });
  }

  private finish(
    jobId: string,
    status: 'done' | 'failed' | 'cancelled',
    message: string,
    result: Record<string, unknown>,
  ): void {
    endJob(this.store, this.emit, jobId, PRELABEL_KIND, { status, message, result });
  }

  private async run(
    jobId: string,
    params: { caseIds: string[]; tta: boolean; modelDir: string; schema: SchemaName },
  ): Promise<void> {
    if (this.cancelledQueued.delete(jobId) || this.closed) {
      this.finish(jobId, 'cancelled', 'cancelled before it started', {});
      return;
    }
    updateJob(this.store, jobId, { status: 'running', message: 'starting the engine' });
    const engine = new EngineClient();
    const abort = new AbortController();
    const done: string[] = [];
    const failed: { caseId: string; message: string }[] = [];
    // Aborting ends the engine thread at once: the network stops mid-patch; nothing of the case in flight was saved.
    const running: Running = { jobId, cancelled: false, stop: () => abort.abort() };
    this.running = running;
    try {
      this.progress(jobId, 0, 'loading the model');
      const model: ModelSummary = await engine.load(params.modelDir, params.schema, { signal: abort.signal });
      // The first model a project pre-labels with becomes its active version 1 (the roll-back floor).
      const first = !activeModel(this.store, params.schema);
      registerModel(this.store, {
        id: model.modelId,
        schema: params.schema,
        folder: params.modelDir,
        ...(first ? { status: 'active' as const, note: 'the model pre-labels used first' } : {}),
      });
      const n = params.caseIds.length;
      for (let c = 0; c < n; c++) {
        const caseId = params.caseIds[c];
        const name = this.store.getCase(caseId).name;
        const prefix = n > 1 ? `case ${c + 1} of ${n} (${name}): ` : '';
        this.progress(jobId, c / n, `${prefix}reading the image`, caseId);
        let header: VolumeHeader;
        let imagePath: string;
        try {
          header = this.store.caseHeader(caseId);
          imagePath = this.store.imageFile(caseId);
        } catch (err) {
          failed.push({ caseId, message: (err as Error).message });
          continue;
        }
        // The worker reads the image itself and answers with the label and the settings it ran with.
        let res: PredictAnswer;
        try {
          res = await engine.predict(imagePath, params.tta, {
            signal: abort.signal,
            onProgress: (fraction, message) => this.progress(jobId, (c + fraction) / n, `${prefix}${message}`, caseId),
          });
        } catch (err) {
          // A bad input fails this case only; a stopped engine ends the job.
          if (err instanceof EngineError && !running.cancelled) {
            failed.push({ caseId, message: err.message });
            continue;
          }
          throw err;
        }
        if (res.dims.join() !== header.dims.join()) {
          failed.push({
            caseId,
            message: `${imagePath}: holds ${res.dims.join('×')} voxels but the project expects ${header.dims.join('×')}.`,
          });
          continue;
        }
        const geometry = {
          dims: header.dims,
          spacingMm: header.spacingMm,
          originMm: header.originMm,
          direction: header.direction as Volume['direction'],
        };
        const source = imagePath;
        await savePrediction(
          this.store,
          caseId,
          { ...geometry, data: res.label, modality: 'SEG', description: 'pre-label', source },
          {
            modelId: model.modelId,
            modelVersion: model.modelVersion,
            settings: { ...res.settings, tta: res.settings.ttaAxes.length > 0, voxelsPerClass: res.voxelsPerClass },
            seconds: res.seconds,
            jobId,
            uncertainty: res.uncertainty
              ? {
                  ...geometry,
                  data: res.uncertainty,
                  modality: 'OT',
                  description: 'pre-label uncertainty, 0..255 = 0..1',
                  source,
                }
              : undefined,
          },
        );
        done.push(caseId);
        this.emit({ name: 'cases.changed', payload: { caseIds: [caseId] } });
      }
      const result = { done, failed };
      const msg = `Pre-labelled ${done.length} of ${n} case(s)${failed.length ? `; ${failed.length} failed: ${failed.map((f) => f.message).join('; ')}` : ''}.`;
      this.finish(jobId, failed.length === n ? 'failed' : 'done', msg, result);
    } catch (err) {
      const result = { done, failed };
      if (running.cancelled) this.finish(jobId, 'cancelled', `Cancelled after ${done.length} case(s).`, result);
      else this.finish(jobId, 'failed', (err as Error).message, result);
    } finally {
      this.running = null;
      await engine.terminate();
    }
  }
}
