// The API's implementation over a project store: one object used by both the Electron and web shells.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic';
import type { ProjectStore } from '../store/project';
import { voxelBytesLE } from '../store/storage';
import { API_BINARY_METHODS, API_METHODS, API_UPLOAD_METHODS } from './contract';
import type {
  ApiBinaryCalls,
  ApiBinaryMethod,
  ApiCalls,
  ApiEvent,
  ApiMethod,
  ApiUploadCalls,
  ApiUploadMethod,
  ProjectInfo,
  RecentProject,
  SchemaName,
} from './contract';
import { ApiRequestError } from './errors';
import { caseStats, exportCase, publicVersion, rememberLabel, saveLabel } from './label-calls';
import { validateRequest } from './validate';
import { JobManager } from '../jobs/manager';
import { listModels } from '../store/model-rows';
import { loadUncertainty, provenanceOf } from '../store/prediction-rows';
import { projectSettings, setProjectSettings } from '../store/training-rows';
import { learningCurve, promote, rollback } from './model-calls';
import { createDicomwebCalls, type SecretStore } from './dicomweb-calls';

/** Opening and creating projects: the shell that can switch projects passes one in. */
export interface ProjectSwitcher {
  recent(): RecentProject[];
  open(dir: string): Promise<ProjectInfo>;
  create(req: { dir: string; schema: SchemaName; name?: string }): Promise<ProjectInfo>;
}

export interface ApiContext {
  store: ProjectStore;
  projects?: ProjectSwitcher;
  /** Where DICOMweb credentials are kept (default: in this process only). */
  secrets?: SecretStore;
  /** The shell's file dialog (Electron); absent in the web shell, where the page uploads the files. */
  pickPaths?: PickPaths;
}

/** Shows the shell's open dialog for NIfTI files or a DICOM folder; resolves to the chosen paths ([] if cancelled). */
export type PickPaths = (kind: 'files' | 'folder') => Promise<string[]>;

/** The job manager behind a set of handlers (for shutdown and tests). */
const jobManagers = new WeakMap<ApiHandlers, JobManager>();

export function jobManagerOf(handlers: ApiHandlers): JobManager | undefined {
  return jobManagers.get(handlers);
}

export interface ApiHandlers {
  /** Runs a JSON call; `req` is untrusted and validated here. */
  call<M extends ApiMethod>(method: M, req: unknown): Promise<ApiCalls[M]['res']>;
  /** Runs a binary call; the bytes are little-endian voxels of the header's data type. */
  binary<M extends ApiBinaryMethod>(method: M, req: unknown): Promise<Uint8Array>;
  /** Runs an upload call: `req` is untrusted JSON, `data` the raw body bytes. */
  upload<M extends ApiUploadMethod>(
    method: M,
    req: unknown,
    data: Uint8Array | ArrayBuffer,
  ): Promise<ApiUploadCalls[M]['res']>;
  /** Checks an upload's request before its body is read; returns the exact body size it needs. */
  uploadSize<M extends ApiUploadMethod>(method: M, req: unknown): number;
  /** Subscribes a transport to events; returns the unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void;
  emit(event: ApiEvent): void;
}

export function isApiMethod(name: string): name is ApiMethod {
  return (API_METHODS as readonly string[]).includes(name);
}

export function isApiBinaryMethod(name: string): name is ApiBinaryMethod {
  return (API_BINARY_METHODS as readonly string[]).includes(name);
}

export function isApiUploadMethod(name: string): name is ApiUploadMethod {
  return (API_UPLOAD_METHODS as readonly string[]).includes(name);
}

type CallImpls = { [M in ApiMethod]: (req: ApiCalls[M]['req']) => Promise<ApiCalls[M]['res']> | ApiCalls[M]['res'] };
type BinaryImpls = { [M in ApiBinaryMethod]: (req: ApiBinaryCalls[M]['req']) => Promise<Uint8Array> };
type UploadImpls = {
  [M in ApiUploadMethod]: (req: ApiUploadCalls[M]['req'], data: Uint8Array) => Promise<ApiUploadCalls[M]['res']>;
};

export function createApiHandlers(ctx: ApiContext): ApiHandlers {
  const { store } = ctx;
  const listeners = new Set<(event: ApiEvent) => void>();
  const emit = (event: ApiEvent): void => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // One broken subscriber (a closed window, a dropped socket) must not stop the others.
      }
    }
  };

  const switcher = (): ProjectSwitcher => {
    if (!ctx.projects)
      throw new ApiRequestError(400, 'this shell opens one project only; restart it with --project DIR.');
    return ctx.projects;
  };

  // Marks jobs a previous run left unfinished as interrupted, then runs pre-labels in the engine worker.
  const jobs = new JobManager(store, emit);
  const dicomweb = createDicomwebCalls(
    store,
    emit,
    { runTask: (spec, jobId) => jobs.runTask(spec, jobId), prelabel: (caseIds) => jobs.prelabel({ caseIds }) },
    ctx.secrets,
  );

  const calls: CallImpls = {
    'project.info': () => store.info(),
    'projects.recent': () => switcher().recent(),
    'projects.open': ({ dir }) => switcher().open(dir),
    'projects.create': (req) => switcher().create(req),
    'system.pickPaths': async ({ kind }) => {
      if (!ctx.pickPaths)
        throw new ApiRequestError(
          400,
          'system.pickPaths: this shell has no file dialog; pick or drop the files in the page (they are uploaded).',
        );
      return { paths: await ctx.pickPaths(kind) };
    },
    'jobs.prelabel': (req) => jobs.prelabel(req),
    'jobs.cancel': ({ jobId }) => jobs.cancel(jobId),
    'jobs.list': () => jobs.list(),
    'jobs.finetune': (req) => jobs.finetune(req),
    'jobs.pause': ({ jobId }) => jobs.pause(jobId),
    'jobs.resume': ({ jobId }) => jobs.resume(jobId),
    'models.list': () => listModels(store),
    'models.promote': ({ modelId }) => promote(store, modelId),
    'models.rollback': () => rollback(store),
    'project.settings': () => projectSettings(store),
    'project.setSettings': (req) => setProjectSettings(store, req),
    'project.learningCurve': () => learningCurve(store),
    'cases.provenance': ({ caseId, version }) => {
      store.caseHeader(caseId); // NotFoundError for an unknown case
      return provenanceOf(store, caseId, version);
    },
    'cases.list': () => store.listCases(),
    'dicomweb.link': (req) => dicomweb['dicomweb.link'](req),
    'dicomweb.linkInfo': (req) => dicomweb['dicomweb.linkInfo'](req),
    'dicomweb.worklist': (req) => dicomweb['dicomweb.worklist'](req),
    'dicomweb.open': (req) => dicomweb['dicomweb.open'](req),
    'dicomweb.storeSeg': (req) => dicomweb['dicomweb.storeSeg'](req),
    'dicomweb.pullSegs': (req) => dicomweb['dicomweb.pullSegs'](req),
    'dicomweb.prelabelAll': (req) => dicomweb['dicomweb.prelabelAll'](req),
    'cases.open': ({ caseId }) => store.caseHeader(caseId),
    'cases.labelVersions': ({ caseId }) => store.listLabelVersions(caseId).map(publicVersion),
    'cases.stats': ({ caseId }) => caseStats(store, caseId),
    'cases.export': (req) => exportCase(store, req),
    // A job like pre-label (a jobs row, job.progress with its jobId, jobs.cancel); the request waits for the end.
    'project.exportNnunet': () => jobs.exportNnunet().done,
    'cases.setStatus': ({ caseId, status }) => {
      const summary = store.setCaseStatus(caseId, status);
      emit({ name: 'cases.changed', payload: { caseIds: [caseId] } });
      return summary;
    },
    'cases.import': async (req) => {
      // A jobs row; a cancel (jobs.cancel with the jobId of its job.progress events) answers with the cases kept.
      const { result } = await jobs.importCases(req).done;
      if (result.imported.length > 0)
        emit({ name: 'cases.changed', payload: { caseIds: result.imported.map((c) => c.id) } });
      return result;
    },
  };

  const binaries: BinaryImpls = {
    'cases.uncertaintyData': ({ caseId, version }) => loadUncertainty(store, caseId, version),
    'cases.volumeData': async ({ caseId }) => voxelBytesLE((await store.loadImage(caseId)).data),
    'cases.sliceData': async ({ caseId, axis, index }) =>
      voxelBytesLE((await store.loadImageSlice(caseId, axis, index)).data),
    'cases.labelData': async ({ caseId, version }) => {
      const { data } = await store.loadLabel(caseId, version);
      const bytes = data instanceof Uint8Array ? data : Uint8Array.from(data);
      rememberLabel(store, caseId, version, bytes);
      return bytes;
    },
  };

  const uploads: UploadImpls = {
    'cases.uploadFile': async ({ batchId, fileName }, data) => {
      const dir = join(store.dir, 'incoming', batchId);
      await mkdir(dir, { recursive: true });
      const path = join(dir, fileName);
      await writeFileAtomic(path, data);
      return { dir, path };
    },
    'cases.saveLabel': async (req, data) => {
      const saved = await saveLabel(store, req, data);
      emit({ name: 'cases.changed', payload: { caseIds: [req.caseId] } });
      // A submitted case from the PACS goes back as a SEG when the project's link says so (after answering).
      if (req.submit) void dicomweb.afterSubmit(req.caseId);
      return saved;
    },
  };

  const handlers: ApiHandlers = {
    async call(method, req) {
      if (!isApiMethod(method)) throw new ApiRequestError(404, `unknown API call '${String(method)}'.`);
      const impl = calls[method] as (r: unknown) => Promise<ApiCalls[typeof method]['res']>;
      return impl(validateRequest(method, req));
    },
    async binary(method, req) {
      if (!isApiBinaryMethod(method)) throw new ApiRequestError(404, `unknown binary API call '${String(method)}'.`);
      return binaries[method](validateRequest(method, req));
    },
    async upload(method, req, data) {
      if (!isApiUploadMethod(method)) throw new ApiRequestError(404, `unknown upload API call '${String(method)}'.`);
      // Callers inside src-main may hand over a bare ArrayBuffer; everything below works on bytes.
      const bytes = data instanceof Uint8Array ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : null;
      if (!bytes) throw new ApiRequestError(400, `${method}: the upload data must be bytes.`);
      return uploads[method](validateRequest(method, req), bytes);
    },
    uploadSize(method, req) {
      if (!isApiUploadMethod(method)) throw new ApiRequestError(404, `unknown upload API call '${String(method)}'.`);
      if (method === 'cases.uploadFile') return validateRequest('cases.uploadFile', req).size;
      const r = validateRequest('cases.saveLabel', req);
      if (r.encoding === 'sparse') return (r.changes ?? 0) * 5;
      const [i, j, k] = store.caseHeader(r.caseId).dims;
      return i * j * k;
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit,
  };
  jobManagers.set(handlers, jobs);
  return handlers;
}
