// The API's DICOMweb calls: a project linked to a PACS and a query, the remote worklist with each
// study's state here, open (retrieve as a job: progress, cancel) and SEG store. The link (URL and
// query) is a project setting; credentials live only in this process (or the shell's keychain).
import { randomUUID } from 'node:crypto';
import type {
  ApiCalls,
  ApiEvent,
  DicomwebLinkInfo,
  DicomwebQuery,
  RemoteSegVersionInfo,
  RemoteStudyRow,
} from './contract';
import { ApiRequestError } from './errors';
import { DicomwebClient } from '../dicomweb/client';
import { parseServiceUrl, type DicomwebAuth } from '../dicomweb/http';
import { importRemoteSeries } from '../dicomweb/import';
import { importRemoteSegs, storeCaseSeg, storedSegOf } from '../dicomweb/seg-sync';
import type { ProjectStore } from '../store/project';
import type { TaskContext, TaskSpec } from '../jobs/task-runner';

const LINK_KEY = 'dicomweb.link';
export const RETRIEVE_KIND = 'dicomweb-retrieve';
export const STORE_KIND = 'dicomweb-store';

interface StoredLink {
  url: string;
  query: DicomwebQuery;
  storeOnSubmit?: boolean;
}

/** Where a shell keeps DICOMweb secrets (Electron: safeStorage-encrypted; default: this process only). */
export interface SecretStore {
  get(url: string): DicomwebAuth | undefined;
  set(url: string, auth: DicomwebAuth | undefined): void;
}

export function memorySecretStore(): SecretStore {
  const secrets = new Map<string, DicomwebAuth>();
  return {
    get: (url) => secrets.get(url),
    set: (url, auth) => (auth ? secrets.set(url, auth) : secrets.delete(url)),
  };
}

type Impl<M extends keyof ApiCalls> = (req: ApiCalls[M]['req']) => Promise<ApiCalls[M]['res']> | ApiCalls[M]['res'];

export interface DicomwebCalls {
  'dicomweb.link': Impl<'dicomweb.link'>;
  'dicomweb.linkInfo': Impl<'dicomweb.linkInfo'>;
  'dicomweb.worklist': Impl<'dicomweb.worklist'>;
  'dicomweb.open': Impl<'dicomweb.open'>;
  'dicomweb.storeSeg': Impl<'dicomweb.storeSeg'>;
  'dicomweb.pullSegs': Impl<'dicomweb.pullSegs'>;
  'dicomweb.prelabelAll': Impl<'dicomweb.prelabelAll'>;
  /** After a submit: stores the SEG when the link says so (failures become a job.done event, not an error). */
  afterSubmit(caseId: string): Promise<void>;
}

/** The job runner's side the DICOMweb calls use: retrieves run as its jobs, retrieved cases queue pre-labels. */
export interface DicomwebJobs {
  runTask<T>(spec: TaskSpec<T>, jobId?: string): { jobId: string; done: Promise<T> };
  prelabel(caseIds: string[]): { jobId: string };
}

function readLink(store: ProjectStore): StoredLink | null {
  const row = store.database.prepare('SELECT value FROM settings WHERE key = ?').get(LINK_KEY) as
    { value: string } | undefined;
  return row ? (JSON.parse(row.value) as StoredLink) : null;
}

export function createDicomwebCalls(
  store: ProjectStore,
  emit: (event: ApiEvent) => void,
  jobs: DicomwebJobs,
  secrets: SecretStore = memorySecretStore(),
): DicomwebCalls {
  const clientOf = (): { client: DicomwebClient; query: DicomwebQuery } => {
    const link = readLink(store);
    if (!link) throw new ApiRequestError(400, 'this project is not linked to a DICOMweb server yet.');
    const auth = secrets.get(link.url);
    return { client: new DicomwebClient({ baseUrl: link.url, ...(auth ? { auth } : {}) }), query: link.query };
  };

  const info = (): DicomwebLinkInfo | null => {
    const link = readLink(store);
    return link
      ? {
          url: link.url,
          query: link.query,
          hasCredentials: secrets.get(link.url) !== undefined,
          storeOnSubmit: link.storeOnSubmit === true,
        }
      : null;
  };

  /** The study's state in this project, from its case (if retrieved) and the SEG stored for it. */
  const stateOf = (studyUid: string): { state: RemoteStudyRow['state']; caseId: string | null } => {
    const c = store.listCases().find((x) => store.dicomSource(x.id)?.studyInstanceUid === studyUid);
    if (!c) return { state: 'remote', caseId: null };
    if (storedSegOf(store, c.id)) return { state: 'stored', caseId: c.id };
    return { state: c.status === 'new' ? 'cached' : c.status, caseId: c.id };
  };

  /**
   * Runs retrieve work as a 'dicomweb-retrieve' job under `jobId` (the page's, so it can cancel at once): a row in
   * the jobs table, throttled job.progress, jobs.cancel through its signal, job.done at its end.
   */
  const withJob = <T>(
    jobId: string,
    params: Record<string, unknown>,
    work: (ctx: TaskContext) => Promise<T>,
    done: (t: T) => { message: string; result: Record<string, unknown> },
  ): Promise<T> =>
    jobs.runTask<T>(
      {
        kind: RETRIEVE_KIND,
        params,
        work,
        ended: (t) => ({ status: 'done', ...done(t) }),
        cancelledMessage: 'Retrieve cancelled.',
      },
      jobId,
    ).done;

  /** Retrieves a study's image series as a case, reporting progress in [offset, offset + share]. */
  const retrieve = async (studyInstanceUid: string, ctx: TaskContext, offset = 0, share = 1) => {
    const r = await importRemoteSeries(store, clientOf().client, studyInstanceUid, undefined, {
      signal: ctx.signal,
      onProgress: (fraction, message) => ctx.progress(offset + share * fraction, message),
    });
    return { caseId: r.case.id, from: r.from, name: r.case.name };
  };

  const pullSegs = async (caseId: string): Promise<RemoteSegVersionInfo[]> => {
    const added = await importRemoteSegs(store, clientOf().client, caseId);
    return added.map((a) => ({
      version: a.version,
      creator: a.creator,
      description: a.contentDescription,
      changedVoxels: a.comparison?.changedVoxels ?? null,
      meanDice: a.comparison?.meanDice ?? null,
    }));
  };

  return {
    'dicomweb.link': (req) => {
      // Credentials typed into the URL are moved out of it before anything is stored.
      const { baseUrl, auth: fromUrl } = parseServiceUrl(req.url);
      const auth: DicomwebAuth | undefined = req.token
        ? { kind: 'bearer', token: req.token }
        : req.username
          ? { kind: 'basic', username: req.username, password: req.password ?? '' }
          : fromUrl;
      secrets.set(baseUrl, auth);
      store.database
        .prepare(
          'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
        )
        .run(
          LINK_KEY,
          JSON.stringify({ url: baseUrl, query: req.query ?? {}, storeOnSubmit: req.storeOnSubmit === true }),
        );
      return info()!;
    },
    'dicomweb.linkInfo': () => info(),
    'dicomweb.worklist': async () => {
      const { client, query } = clientOf();
      const studies = await client.searchStudies(query);
      return studies.map((s) => ({
        studyInstanceUid: s.studyInstanceUid,
        patientId: s.patientId,
        studyDate: s.studyDate,
        accessionNumber: s.accessionNumber,
        description: s.description,
        modalities: s.modalities,
        seriesCount: s.seriesCount,
        ...stateOf(s.studyInstanceUid),
      }));
    },
    'dicomweb.open': async ({ studyInstanceUid, jobId }) => {
      const local = stateOf(studyInstanceUid);
      if (local.caseId) return { caseId: local.caseId, from: 'case' as const, segVersions: [] };
      const r = await withJob(
        jobId ?? randomUUID(),
        { studyInstanceUid },
        (ctx) => retrieve(studyInstanceUid, ctx),
        (x) => ({ message: `Opened ${x.name}.`, result: { caseId: x.caseId } }),
      );
      // A colleague's SEG already on the server arrives with the study, as a label version; one that
      // does not fit the image must not stop the open.
      const segVersions = await pullSegs(r.caseId).catch(() => []);
      emit({ name: 'cases.changed', payload: { caseIds: [r.caseId] } });
      return { caseId: r.caseId, from: r.from, segVersions };
    },
    'dicomweb.pullSegs': async ({ caseId }) => {
      const added = await pullSegs(caseId);
      if (added.length) emit({ name: 'cases.changed', payload: { caseIds: [caseId] } });
      return added;
    },
    'dicomweb.prelabelAll': async ({ jobId: requested }) => {
      const jobId = requested ?? randomUUID();
      const { client, query } = clientOf();
      const remote = (await client.searchStudies(query)).filter((x) => stateOf(x.studyInstanceUid).state === 'remote');
      const errors: string[] = [];
      const caseIds = await withJob(
        jobId,
        { studies: remote.map((x) => x.studyInstanceUid) },
        async (ctx) => {
          const ids: string[] = [];
          for (let n = 0; n < remote.length; n++) {
            try {
              ids.push((await retrieve(remote[n].studyInstanceUid, ctx, n / remote.length, 1 / remote.length)).caseId);
            } catch (err) {
              if (ctx.signal.aborted) throw err;
              errors.push(`${remote[n].patientId || remote[n].studyInstanceUid}: ${(err as Error).message}`);
            }
          }
          return ids;
        },
        (ids) => ({
          message: `Retrieved ${ids.length} of ${remote.length} remote studies.`,
          result: { caseIds: ids, errors },
        }),
      );
      if (caseIds.length) emit({ name: 'cases.changed', payload: { caseIds } });
      const unlabelled = caseIds.filter((id) => store.listLabelVersions(id).length === 0);
      const prelabelJobId = unlabelled.length ? jobs.prelabel(unlabelled).jobId : null;
      return { caseIds, prelabelJobId, errors };
    },
    'dicomweb.storeSeg': async ({ caseId }) => {
      const { client } = clientOf();
      const stored = await storeCaseSeg(store, client, caseId);
      emit({ name: 'cases.changed', payload: { caseIds: [caseId] } });
      return { sopInstanceUid: stored.sopInstanceUid };
    },
    afterSubmit: async (caseId) => {
      const link = readLink(store);
      if (!link?.storeOnSubmit || !store.dicomSource(caseId)) return;
      // A job of its own: a failed store is a failed job (job.done says why), never a failed submit.
      const { done } = jobs.runTask({
        kind: STORE_KIND,
        caseId,
        params: { caseId, url: link.url },
        work: async (ctx) => {
          ctx.progress(0, 'storing the SEG');
          return storeCaseSeg(store, clientOf().client, caseId).catch((err: unknown) => {
            throw new Error(`SEG not stored: ${(err as Error).message}`);
          });
        },
        ended: (stored) => ({
          status: 'done',
          message: `SEG stored (${stored.sopInstanceUid}).`,
          result: { sopInstanceUid: stored.sopInstanceUid },
        }),
      });
      if (await done.then(() => true).catch(() => false))
        emit({ name: 'cases.changed', payload: { caseIds: [caseId] } });
    },
  };
}
