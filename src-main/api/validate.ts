// Checks request bodies from the renderer (untrusted JSON) against the shapes in contract.ts.
import { isAbsolute } from 'node:path';
import type {
  ApiBinaryCalls,
  ApiBinaryMethod,
  ApiCalls,
  ApiMethod,
  ApiUploadCalls,
  ApiUploadMethod,
  CaseStatus,
  ExportFormat,
} from './contract';
import { ApiRequestError } from './errors';

const CASE_STATUSES: readonly CaseStatus[] = ['new', 'prelabelled', 'in_progress', 'submitted'];
const EXPORT_FORMATS: readonly ExportFormat[] = ['nifti', 'dicom-seg'];
/** A week of active editing on one save is clearly a broken client clock, not a measurement. */
const MAX_ACTIVE_EDIT_SECONDS = 7 * 24 * 3600;

type AnyMethod = ApiMethod | ApiBinaryMethod | ApiUploadMethod;
type AnyReq =
  ApiCalls[ApiMethod]['req'] | ApiBinaryCalls[ApiBinaryMethod]['req'] | ApiUploadCalls[ApiUploadMethod]['req'];
type ReqOf<M extends AnyMethod> = M extends ApiMethod
  ? ApiCalls[M]['req']
  : M extends ApiBinaryMethod
    ? ApiBinaryCalls[M]['req']
    : M extends ApiUploadMethod
      ? ApiUploadCalls[M]['req']
      : never;

function versionOf(method: string, value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ApiRequestError(400, `${method}: '${name}' must be a label version number (1, 2, ...).`);
  }
  return value;
}

function objectOf(method: string, req: unknown): Record<string, unknown> {
  if (req === undefined || req === null) return {};
  if (typeof req !== 'object' || Array.isArray(req))
    throw new ApiRequestError(400, `${method}: the request must be a JSON object.`);
  return req as Record<string, unknown>;
}

function jobIdOf(method: string, req: unknown): { jobId: string } {
  const body = objectOf(method, req);
  if (typeof body.jobId !== 'string' || body.jobId.length === 0)
    throw new ApiRequestError(400, `${method}: 'jobId' must be a non-empty string.`);
  return { jobId: body.jobId };
}

/** Fine-tune steps: a whole number; more than this would run for days on a CPU. */
const MAX_FINETUNE_STEPS = 100_000;
/** Correction weights above this would drown the Dice/CE terms; 0 switches the option off. */
const MAX_CORRECTION_WEIGHT = 100;

function finetuneReqOf(method: string, req: unknown): { steps?: number; correctionWeight?: number } {
  const body = objectOf(method, req);
  const out: { steps?: number; correctionWeight?: number } = {};
  if (body.steps !== undefined) {
    const s = body.steps;
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 1 || s > MAX_FINETUNE_STEPS)
      throw new ApiRequestError(400, `${method}: 'steps' must be a whole number from 1 to ${MAX_FINETUNE_STEPS}.`);
    out.steps = s;
  }
  if (body.correctionWeight !== undefined) {
    const w = body.correctionWeight;
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0 || w > MAX_CORRECTION_WEIGHT)
      throw new ApiRequestError(
        400,
        `${method}: 'correctionWeight' must be a number from 0 (off) to ${MAX_CORRECTION_WEIGHT}.`,
      );
    out.correctionWeight = w;
  }
  return out;
}

/** An absolute folder path (the app's process reads it; a relative one would depend on where it started). */
function folderOf(method: string, body: Record<string, unknown>): string {
  const dir = body.dir;
  if (typeof dir !== 'string' || dir.trim() === '' || dir.includes('\0'))
    throw new ApiRequestError(400, `${method}: 'dir' must be a folder path.`);
  if (!isAbsolute(dir.trim()))
    throw new ApiRequestError(400, `${method}: 'dir' must be an absolute folder path, not '${dir}'.`);
  return dir.trim();
}

function caseIdOf(method: string, body: Record<string, unknown>): { caseId: string } {
  if (typeof body.caseId !== 'string' || body.caseId.length === 0) {
    throw new ApiRequestError(400, `${method}: 'caseId' must be a non-empty string.`);
  }
  return { caseId: body.caseId };
}

const VALIDATORS: { [M in AnyMethod]: (method: string, req: unknown) => AnyReq } = {
  'project.info': () => ({}),
  'cases.list': () => ({}),
  'cases.open': (m, req) => caseIdOf(m, objectOf(m, req)),
  'cases.volumeData': (m, req) => caseIdOf(m, objectOf(m, req)),
  'cases.sliceData': (m, req) => {
    const body = objectOf(m, req);
    const { axis, index } = body;
    if (axis !== 0 && axis !== 1 && axis !== 2)
      throw new ApiRequestError(400, `${m}: 'axis' must be 0 (i), 1 (j) or 2 (k).`);
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0)
      throw new ApiRequestError(400, `${m}: 'index' must be a slice number (0, 1, ...).`);
    return { ...caseIdOf(m, body), axis, index };
  },
  'cases.labelVersions': (m, req) => caseIdOf(m, objectOf(m, req)),
  'cases.labelData': (m, req) => {
    const body = objectOf(m, req);
    return { ...caseIdOf(m, body), version: versionOf(m, body.version, 'version') };
  },
  'cases.stats': (m, req) => caseIdOf(m, objectOf(m, req)),
  'cases.export': (m, req) => {
    const body = objectOf(m, req);
    if (typeof body.format !== 'string' || !EXPORT_FORMATS.includes(body.format as ExportFormat)) {
      throw new ApiRequestError(400, `${m}: 'format' must be one of ${EXPORT_FORMATS.join(', ')}.`);
    }
    const version = body.version === undefined ? undefined : versionOf(m, body.version, 'version');
    return { ...caseIdOf(m, body), format: body.format as ExportFormat, ...(version ? { version } : {}) };
  },
  'project.exportNnunet': () => ({}),
  'jobs.prelabel': (m, req) => {
    const body = objectOf(m, req);
    const ids = body.caseIds;
    if (
      ids !== 'unlabelled' &&
      !(Array.isArray(ids) && ids.length > 0 && ids.every((id) => typeof id === 'string' && id.length > 0))
    ) {
      throw new ApiRequestError(400, `${m}: 'caseIds' must be a non-empty list of case ids or 'unlabelled'.`);
    }
    if (body.tta !== undefined && typeof body.tta !== 'boolean')
      throw new ApiRequestError(400, `${m}: 'tta' must be true or false when given.`);
    return { caseIds: ids as string[] | 'unlabelled', ...(body.tta !== undefined ? { tta: body.tta } : {}) };
  },
  'jobs.cancel': (m, req) => jobIdOf(m, req),
  'jobs.pause': (m, req) => jobIdOf(m, req),
  'jobs.resume': (m, req) => jobIdOf(m, req),
  'jobs.finetune': (m, req) => finetuneReqOf(m, req),
  'jobs.list': () => ({}),
  'models.list': () => ({}),
  'models.promote': (m, req) => {
    const body = objectOf(m, req);
    if (typeof body.modelId !== 'string' || body.modelId.length === 0)
      throw new ApiRequestError(400, `${m}: 'modelId' must be a non-empty string.`);
    return { modelId: body.modelId };
  },
  'models.rollback': () => ({}),
  'project.settings': () => ({}),
  'project.learningCurve': () => ({}),
  'project.setSettings': (m, req) => {
    const body = objectOf(m, req);
    const unknown = Object.keys(body).filter((k) => k !== 'promoteIfNotWorse');
    if (unknown.length > 0) throw new ApiRequestError(400, `${m}: unknown setting(s) ${unknown.join(', ')}.`);
    if (body.promoteIfNotWorse !== undefined && typeof body.promoteIfNotWorse !== 'boolean')
      throw new ApiRequestError(400, `${m}: 'promoteIfNotWorse' must be true or false.`);
    return body.promoteIfNotWorse === undefined ? {} : { promoteIfNotWorse: body.promoteIfNotWorse };
  },
  'cases.provenance': (m, req) => {
    const body = objectOf(m, req);
    return { ...caseIdOf(m, body), version: versionOf(m, body.version, 'version') };
  },
  'cases.uncertaintyData': (m, req) => {
    const body = objectOf(m, req);
    const version = body.version === undefined ? undefined : versionOf(m, body.version, 'version');
    return { ...caseIdOf(m, body), ...(version ? { version } : {}) };
  },
  'projects.recent': (m, req) => {
    objectOf(m, req);
    return {};
  },
  'projects.open': (m, req) => ({ dir: folderOf(m, objectOf(m, req)) }),
  'system.pickPaths': (m, req) => {
    const kind = objectOf(m, req).kind;
    if (kind !== 'files' && kind !== 'folder')
      throw new ApiRequestError(400, `${m}: 'kind' must be 'files' or 'folder'.`);
    return { kind };
  },
  'projects.create': (m, req) => {
    const body = objectOf(m, req);
    if (body.schema !== 'kidney' && body.schema !== 'pancreas')
      throw new ApiRequestError(400, `${m}: 'schema' must be 'kidney' or 'pancreas'.`);
    if (body.name !== undefined && (typeof body.name !== 'string' || body.name.trim() === '' || body.name.length > 200))
      throw new ApiRequestError(400, `${m}: 'name' must be a non-empty text of at most 200 characters when given.`);
    return {
      dir: folderOf(m, body),
      schema: body.schema,
      ...(typeof body.name === 'string' ? { name: body.name.trim() } : {}),
    };
  },
  'cases.uploadFile': (m, req) => {
    const body = objectOf(m, req);
    if (typeof body.batchId !== 'string' || !/^[A-Za-z0-9_-]{8,64}$/.test(body.batchId))
      throw new ApiRequestError(400, `${m}: 'batchId' must be 8-64 letters, digits, '-' or '_'.`);
    const name = body.fileName;
    if (
      typeof name !== 'string' ||
      name.length === 0 ||
      name.length > 255 ||
      /[/\\\0]/.test(name) ||
      name === '.' ||
      name === '..'
    )
      throw new ApiRequestError(
        400,
        `${m}: 'fileName' must be a plain file name (no folders), not ${JSON.stringify(name)}.`,
      );
    const size = body.size;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0)
      throw new ApiRequestError(400, `${m}: 'size' must be the file's size in bytes.`);
    return { batchId: body.batchId, fileName: name, size };
  },
  'cases.saveLabel': (m, req) => {
    const body = objectOf(m, req);
    if (body.parentVersion === undefined)
      throw new ApiRequestError(
        400,
        `${m}: 'parentVersion' must be given: a version number, or null for a first label.`,
      );
    const parentVersion = body.parentVersion === null ? null : versionOf(m, body.parentVersion, 'parentVersion');
    if (typeof body.submit !== 'boolean') throw new ApiRequestError(400, `${m}: 'submit' must be true or false.`);
    const seconds = body.activeEditSeconds;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0 || seconds > MAX_ACTIVE_EDIT_SECONDS) {
      throw new ApiRequestError(
        400,
        `${m}: 'activeEditSeconds' must be a number of seconds from 0 to ${MAX_ACTIVE_EDIT_SECONDS}.`,
      );
    }
    const encoding = body.encoding ?? 'full';
    if (encoding !== 'full' && encoding !== 'sparse')
      throw new ApiRequestError(400, `${m}: 'encoding' must be 'full' or 'sparse', not ${JSON.stringify(encoding)}.`);
    let changes: number | undefined;
    if (encoding === 'sparse') {
      changes = body.changes as number;
      if (typeof changes !== 'number' || !Number.isInteger(changes) || changes < 0)
        throw new ApiRequestError(400, `${m}: a sparse save needs 'changes', a whole number of changed voxels.`);
    }
    const restoredFrom = body.restoredFrom === undefined ? undefined : versionOf(m, body.restoredFrom, 'restoredFrom');
    return {
      ...caseIdOf(m, body),
      parentVersion,
      submit: body.submit,
      activeEditSeconds: seconds,
      encoding,
      ...(changes !== undefined ? { changes } : {}),
      ...(restoredFrom !== undefined ? { restoredFrom } : {}),
    };
  },
  'cases.setStatus': (m, req) => {
    const body = objectOf(m, req);
    if (typeof body.status !== 'string' || !CASE_STATUSES.includes(body.status as CaseStatus)) {
      throw new ApiRequestError(400, `${m}: 'status' must be one of ${CASE_STATUSES.join(', ')}.`);
    }
    return { ...caseIdOf(m, body), status: body.status as CaseStatus };
  },
  'dicomweb.link': (m, req) => dicomwebLinkOf(m, req),
  'dicomweb.linkInfo': () => ({}),
  'dicomweb.worklist': () => ({}),
  'dicomweb.open': (m, req) => {
    const body = objectOf(m, req);
    if (typeof body.studyInstanceUid !== 'string' || !/^[0-9.]{1,64}$/.test(body.studyInstanceUid))
      throw new ApiRequestError(400, `${m}: 'studyInstanceUid' must be a DICOM UID.`);
    if (body.jobId !== undefined && (typeof body.jobId !== 'string' || !body.jobId))
      throw new ApiRequestError(400, `${m}: 'jobId' must be a non-empty string when given.`);
    return { studyInstanceUid: body.studyInstanceUid, ...(body.jobId ? { jobId: body.jobId as string } : {}) };
  },
  'dicomweb.storeSeg': (m, req) => caseIdOf(m, objectOf(m, req)),
  'dicomweb.pullSegs': (m, req) => caseIdOf(m, objectOf(m, req)),
  'dicomweb.prelabelAll': (m, req) => {
    const body = objectOf(m, req);
    if (body.jobId !== undefined && (typeof body.jobId !== 'string' || !body.jobId))
      throw new ApiRequestError(400, `${m}: 'jobId' must be a non-empty string when given.`);
    return body.jobId ? { jobId: body.jobId as string } : {};
  },
  'cases.import': (m, req) => {
    const body = objectOf(m, req);
    if (
      !Array.isArray(body.paths) ||
      body.paths.length === 0 ||
      !body.paths.every((p) => typeof p === 'string' && p.length > 0)
    ) {
      throw new ApiRequestError(400, `${m}: 'paths' must be a non-empty list of file or folder paths.`);
    }
    if (body.seriesInstanceUid !== undefined && typeof body.seriesInstanceUid !== 'string') {
      throw new ApiRequestError(400, `${m}: 'seriesInstanceUid' must be a string when given.`);
    }
    return { paths: body.paths as string[], seriesInstanceUid: body.seriesInstanceUid as string | undefined };
  },
};

const QUERY_KEYS = ['patientId', 'accessionNumber', 'studyDate', 'modality'] as const;

function dicomwebLinkOf(m: string, req: unknown): ApiCalls['dicomweb.link']['req'] {
  const body = objectOf(m, req);
  if (typeof body.url !== 'string' || !/^https?:\/\/[^\s]+$/.test(body.url))
    throw new ApiRequestError(400, `${m}: 'url' must be an http(s) URL of the DICOMweb service.`);
  const out: ApiCalls['dicomweb.link']['req'] = { url: body.url };
  for (const k of ['token', 'username', 'password'] as const) {
    if (body[k] === undefined) continue;
    if (typeof body[k] !== 'string') throw new ApiRequestError(400, `${m}: '${k}' must be a string when given.`);
    out[k] = body[k];
  }
  if (body.storeOnSubmit !== undefined) {
    if (typeof body.storeOnSubmit !== 'boolean')
      throw new ApiRequestError(400, `${m}: 'storeOnSubmit' must be true or false.`);
    out.storeOnSubmit = body.storeOnSubmit;
  }
  if (body.query !== undefined) {
    const q = objectOf(m, body.query);
    const unknown = Object.keys(q).filter((k) => !(QUERY_KEYS as readonly string[]).includes(k));
    if (unknown.length) throw new ApiRequestError(400, `${m}: unknown query field(s) ${unknown.join(', ')}.`);
    out.query = {};
    for (const k of QUERY_KEYS) {
      if (q[k] === undefined || q[k] === '') continue;
      if (typeof q[k] !== 'string' || (q[k] as string).length > 64)
        throw new ApiRequestError(400, `${m}: query '${k}' must be a short string.`);
      out.query[k] = q[k] as string;
    }
  }
  return out;
}

export function validateRequest<M extends AnyMethod>(method: M, req: unknown): ReqOf<M> {
  return VALIDATORS[method](method, req) as never;
}
