// The API's DICOMweb calls: a project linked to a PACS and a query, the remote worklist with each
// study's state here, open (retrieve with progress, cancellable) and SEG store. The link (URL and
// query) is a project setting; credentials live only in this process (or the shell's keychain).
import { randomUUID } from 'node:crypto';
import type { ApiCalls, ApiEvent, DicomwebLinkInfo, DicomwebQuery, RemoteStudyRow } from './contract';
import { ApiRequestError } from './errors';
import { DicomwebClient } from '../dicomweb/client';
import { parseServiceUrl, type DicomwebAuth } from '../dicomweb/http';
import { importRemoteSeries } from '../dicomweb/import';
import { storeCaseSeg, storedSegOf } from '../dicomweb/seg-sync';
import type { ProjectStore } from '../store/project';

const LINK_KEY = 'dicomweb.link';
export const RETRIEVE_KIND = 'dicomweb-retrieve';

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
  /** Cancels a running retrieve; false when `jobId` is not one. */
  cancel(jobId: string): boolean;
}

function readLink(store: ProjectStore): { url: string; query: DicomwebQuery } | null {
  const row = store.database.prepare('SELECT value FROM settings WHERE key = ?').get(LINK_KEY) as
    { value: string } | undefined;
  return row ? (JSON.parse(row.value) as { url: string; query: DicomwebQuery }) : null;
}

export function createDicomwebCalls(
  store: ProjectStore,
  emit: (event: ApiEvent) => void,
  secrets: SecretStore = memorySecretStore(),
): DicomwebCalls {
  const running = new Map<string, AbortController>();

  const clientOf = (): { client: DicomwebClient; query: DicomwebQuery } => {
    const link = readLink(store);
    if (!link) throw new ApiRequestError(400, 'this project is not linked to a DICOMweb server yet.');
    const auth = secrets.get(link.url);
    return { client: new DicomwebClient({ baseUrl: link.url, ...(auth ? { auth } : {}) }), query: link.query };
  };

  const info = (): DicomwebLinkInfo | null => {
    const link = readLink(store);
    return link ? { ...link, hasCredentials: secrets.get(link.url) !== undefined } : null;
  };

  /** The study's state in this project, from its case (if retrieved) and the SEG stored for it. */
  const stateOf = (studyUid: string): { state: RemoteStudyRow['state']; caseId: string | null } => {
    const c = store.listCases().find((x) => store.dicomSource(x.id)?.studyInstanceUid === studyUid);
    if (!c) return { state: 'remote', caseId: null };
    if (storedSegOf(store, c.id)) return { state: 'stored', caseId: c.id };
    return { state: c.status === 'new' ? 'cached' : c.status, caseId: c.id };
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
        .run(LINK_KEY, JSON.stringify({ url: baseUrl, query: req.query ?? {} }));
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
    'dicomweb.open': async ({ studyInstanceUid, jobId: requested }) => {
      const local = stateOf(studyInstanceUid);
      if (local.caseId) return { caseId: local.caseId, from: 'case' as const };
      const { client } = clientOf();
      const jobId = requested ?? randomUUID();
      if (running.has(jobId)) throw new ApiRequestError(400, `a retrieve with job id ${jobId} is already running.`);
      const controller = new AbortController();
      running.set(jobId, controller);
      try {
        const r = await importRemoteSeries(store, client, studyInstanceUid, undefined, {
          signal: controller.signal,
          onProgress: (fraction, message) =>
            emit({ name: 'job.progress', payload: { jobId, kind: RETRIEVE_KIND, fraction, message } }),
        });
        emit({
          name: 'job.done',
          payload: { jobId, kind: RETRIEVE_KIND, ok: true, message: `Opened ${r.case.name}.` },
        });
        emit({ name: 'cases.changed', payload: { caseIds: [r.case.id] } });
        return { caseId: r.case.id, from: r.from };
      } catch (err) {
        const message = controller.signal.aborted ? 'Retrieve cancelled.' : (err as Error).message;
        emit({ name: 'job.done', payload: { jobId, kind: RETRIEVE_KIND, ok: false, message } });
        throw controller.signal.aborted ? new ApiRequestError(400, message) : err;
      } finally {
        running.delete(jobId);
      }
    },
    'dicomweb.storeSeg': async ({ caseId }) => {
      const { client } = clientOf();
      const stored = await storeCaseSeg(store, client, caseId);
      emit({ name: 'cases.changed', payload: { caseIds: [caseId] } });
      return { sopInstanceUid: stored.sopInstanceUid };
    },
    cancel: (jobId) => {
      const c = running.get(jobId);
      if (!c) return false;
      c.abort(new Error('cancelled'));
      return true;
    },
  };
}
