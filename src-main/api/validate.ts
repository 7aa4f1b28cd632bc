// Checks request bodies from the renderer (untrusted JSON) against the shapes in contract.ts.
import type { ApiBinaryCalls, ApiCalls, ApiBinaryMethod, ApiMethod, CaseStatus } from './contract';
import { ApiRequestError } from './errors';

const CASE_STATUSES: readonly CaseStatus[] = ['new', 'prelabelled', 'in_progress', 'submitted'];

type AnyReq = ApiCalls[ApiMethod]['req'] | ApiBinaryCalls[ApiBinaryMethod]['req'];

function objectOf(method: string, req: unknown): Record<string, unknown> {
  if (req === undefined || req === null) return {};
  if (typeof req !== 'object' || Array.isArray(req))
    throw new ApiRequestError(400, `${method}: the request must be a JSON object.`);
  return req as Record<string, unknown>;
}

function caseIdOf(method: string, body: Record<string, unknown>): { caseId: string } {
  if (typeof body.caseId !== 'string' || body.caseId.length === 0) {
    throw new ApiRequestError(400, `${method}: 'caseId' must be a non-empty string.`);
  }
  return { caseId: body.caseId };
}

const VALIDATORS: { [M in ApiMethod | ApiBinaryMethod]: (method: string, req: unknown) => AnyReq } = {
  'project.info': () => ({}),
  'cases.list': () => ({}),
  'cases.open': (m, req) => caseIdOf(m, objectOf(m, req)),
  'cases.volumeData': (m, req) => caseIdOf(m, objectOf(m, req)),
  'cases.labelVersions': (m, req) => caseIdOf(m, objectOf(m, req)),
  'cases.labelData': (m, req) => {
    const body = objectOf(m, req);
    const version = body.version;
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
      throw new ApiRequestError(400, `${m}: 'version' must be a label version number (1, 2, ...).`);
    }
    return { ...caseIdOf(m, body), version };
  },
  'cases.setStatus': (m, req) => {
    const body = objectOf(m, req);
    if (typeof body.status !== 'string' || !CASE_STATUSES.includes(body.status as CaseStatus)) {
      throw new ApiRequestError(400, `${m}: 'status' must be one of ${CASE_STATUSES.join(', ')}.`);
    }
    return { ...caseIdOf(m, body), status: body.status as CaseStatus };
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

export function validateRequest<M extends ApiMethod | ApiBinaryMethod>(
  method: M,
  req: unknown,
): M extends ApiMethod ? ApiCalls[M]['req'] : M extends ApiBinaryMethod ? ApiBinaryCalls[M]['req'] : never {
  return VALIDATORS[method](method, req) as never;
}
