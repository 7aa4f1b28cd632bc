// A DICOMweb client (PS3.18): QIDO-RS study/series search, WADO-RS series retrieve (streamed part by
// part, cancellable, with progress) and STOW-RS store.
import { DicomwebError, readText, request, type DicomwebConnection } from './http';
import { boundaryOf, readMultipart, writeMultipart } from './multipart';

/** A DICOM JSON object (PS3.18 F.2): tag "GGGGEEEE" → {vr, Value}. */
type DicomJson = Record<string, { vr?: string; Value?: unknown[] } | undefined>;

export interface StudyQuery {
  patientId?: string;
  patientName?: string;
  accessionNumber?: string;
  /** YYYYMMDD, or a range YYYYMMDD-YYYYMMDD (either end may be empty). */
  studyDate?: string;
  /** e.g. CT: studies holding at least one series of this modality. */
  modality?: string;
  studyInstanceUid?: string;
  limit?: number;
}

export interface RemoteStudy {
  studyInstanceUid: string;
  patientId: string;
  patientName: string;
  studyDate: string;
  accessionNumber: string;
  description: string;
  modalities: string[];
  seriesCount: number | null;
  instanceCount: number | null;
}

export interface SeriesQuery {
  modality?: string;
  bodyPart?: string;
}

export interface RemoteSeries {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  modality: string;
  description: string;
  seriesNumber: number | null;
  bodyPart: string;
  instanceCount: number | null;
}

export interface RetrieveOptions {
  signal?: AbortSignal;
  /** Instances received so far, the expected total when known, and bytes received. */
  onProgress?: (instances: number, total: number | null, bytes: number) => void;
  /** Expected instance count (from a series search) for progress. */
  expectedInstances?: number | null;
}

export interface StoreResult {
  stored: { sopClassUid: string; sopInstanceUid: string }[];
}

const str = (o: DicomJson, tag: string): string => {
  const v = o[tag]?.Value?.[0];
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return String((v as { Alphabetic?: string }).Alphabetic ?? '');
  return String(v);
};
const num = (o: DicomJson, tag: string): number | null => {
  const v = o[tag]?.Value?.[0];
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
};
const strs = (o: DicomJson, tag: string): string[] => (o[tag]?.Value ?? []).map(String);

/** Tags asked for explicitly: servers return only a default set otherwise. */
const STUDY_FIELDS = ['00080061', '00201206', '00201208', '00081030', '00080050'];
const SERIES_FIELDS = ['00201209', '00180015', '0008103E', '00200011'];

export class DicomwebClient {
  readonly conn: DicomwebConnection;

  constructor(conn: DicomwebConnection) {
    this.conn = conn;
  }

  private async getJson(path: string, signal?: AbortSignal): Promise<DicomJson[]> {
    const res = await request(this.conn, path, { headers: { accept: 'application/dicom+json' }, signal });
    const text = await readText(res.body);
    if (res.status === 204 || !text.trim()) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new DicomwebError(`${res.url}: the answer is not DICOM JSON ('${text.slice(0, 60)}').`);
    }
    if (!Array.isArray(parsed)) throw new DicomwebError(`${res.url}: expected a JSON array of DICOM objects.`);
    return parsed as DicomJson[];
  }

  /** QIDO-RS: studies matching the query (all filters combine with AND). */
  async searchStudies(q: StudyQuery = {}, signal?: AbortSignal): Promise<RemoteStudy[]> {
    const params = new URLSearchParams();
    if (q.patientId) params.set('PatientID', q.patientId);
    if (q.patientName) params.set('PatientName', q.patientName);
    if (q.accessionNumber) params.set('AccessionNumber', q.accessionNumber);
    if (q.studyDate) params.set('StudyDate', q.studyDate);
    if (q.modality) params.set('ModalitiesInStudy', q.modality);
    if (q.studyInstanceUid) params.set('StudyInstanceUID', q.studyInstanceUid);
    if (q.limit) params.set('limit', String(q.limit));
    for (const f of STUDY_FIELDS) params.append('includefield', f);
    const rows = await this.getJson(`/studies?${params}`, signal);
    return rows.map((o) => ({
      studyInstanceUid: str(o, '0020000D'),
      patientId: str(o, '00100020'),
      patientName: str(o, '00100010'),
      studyDate: str(o, '00080020'),
      accessionNumber: str(o, '00080050'),
      description: str(o, '00081030'),
      modalities: strs(o, '00080061'),
      seriesCount: num(o, '00201206'),
      instanceCount: num(o, '00201208'),
    }));
  }

  /** QIDO-RS: the series of a study with their instance counts. */
  async searchSeries(studyUid: string, q: SeriesQuery = {}, signal?: AbortSignal): Promise<RemoteSeries[]> {
    const params = new URLSearchParams();
    if (q.modality) params.set('Modality', q.modality);
    if (q.bodyPart) params.set('BodyPartExamined', q.bodyPart);
    for (const f of SERIES_FIELDS) params.append('includefield', f);
    const rows = await this.getJson(`/studies/${encodeURIComponent(studyUid)}/series?${params}`, signal);
    return rows
      .map((o) => ({
        studyInstanceUid: str(o, '0020000D') || studyUid,
        seriesInstanceUid: str(o, '0020000E'),
        modality: str(o, '00080060'),
        description: str(o, '0008103E'),
        seriesNumber: num(o, '00200011'),
        bodyPart: str(o, '00180015'),
        instanceCount: num(o, '00201209'),
      }))
      .sort((a, b) => (a.seriesNumber ?? Infinity) - (b.seriesNumber ?? Infinity));
  }

  /**
   * WADO-RS: streams a series' instances (Part 10 bytes) to `onInstance` one at a time, in the
   * transfer syntax the server stored (decoding happens in the project's DICOM readers).
   */
  async retrieveSeries(
    studyUid: string,
    seriesUid: string,
    onInstance: (bytes: Buffer, index: number) => Promise<void> | void,
    opts: RetrieveOptions = {},
  ): Promise<{ instances: number; bytes: number }> {
    const path = `/studies/${encodeURIComponent(studyUid)}/series/${encodeURIComponent(seriesUid)}`;
    let res = await request(this.conn, path, {
      headers: { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
      signal: opts.signal,
      acceptStatus: [406],
    });
    if (res.status === 406) {
      // A server that cannot send "as stored" sends its default (explicit VR little endian).
      res.body.resume();
      res = await request(this.conn, path, {
        headers: { accept: 'multipart/related; type="application/dicom"' },
        signal: opts.signal,
      });
    }
    const what = `series ${seriesUid} from ${res.url}`;
    const boundary = boundaryOf(res.headers['content-type'], what);
    let instances = 0;
    let bytes = 0;
    const total = opts.expectedInstances ?? null;
    try {
      for await (const part of readMultipart(res.body, boundary, what)) {
        opts.signal?.throwIfAborted();
        const type = part.headers['content-type'] ?? '';
        if (type && !/^application\/dicom\b/i.test(type))
          throw new DicomwebError(`${what}: part ${instances + 1} is '${type}', not application/dicom.`);
        if (part.body.length < 132 || part.body.toString('latin1', 128, 132) !== 'DICM')
          throw new DicomwebError(`${what}: part ${instances + 1} is not a DICOM Part 10 instance.`);
        await onInstance(part.body, instances);
        instances++;
        bytes += part.body.length;
        opts.onProgress?.(instances, total, bytes);
      }
    } catch (err) {
      res.body.destroy();
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (err instanceof DicomwebError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new DicomwebError(
        `${what}: the transfer broke off after ${instances} instance(s) (${code ?? (err as Error).message}); nothing was imported.`,
      );
    }
    if (instances === 0) throw new DicomwebError(`${what}: the server sent no instances.`);
    return { instances, bytes };
  }

  /** STOW-RS: stores instances (Part 10 bytes) in `studyUid` (or wherever their headers say). */
  async store(
    instances: readonly Uint8Array[],
    opts: { studyUid?: string; signal?: AbortSignal } = {},
  ): Promise<StoreResult> {
    const { body, contentType } = writeMultipart(instances);
    const path = opts.studyUid ? `/studies/${encodeURIComponent(opts.studyUid)}` : '/studies';
    const res = await request(this.conn, path, {
      method: 'POST',
      headers: { 'content-type': contentType, accept: 'application/dicom+json' },
      body,
      signal: opts.signal,
      acceptStatus: [202, 409],
    });
    const text = await readText(res.body);
    let answer: DicomJson = {};
    try {
      answer = text.trim() ? (JSON.parse(text) as DicomJson) : {};
    } catch {
      throw new DicomwebError(`${res.url}: the store answer is not DICOM JSON ('${text.slice(0, 60)}').`);
    }
    const items = (tag: string): DicomJson[] => (answer[tag]?.Value ?? []) as DicomJson[];
    const failed = items('00081198');
    if (failed.length > 0 || res.status === 409) {
      const reasons = failed.map((f) => `${str(f, '00081155')} (failure reason ${num(f, '00081197') ?? '?'})`);
      throw new DicomwebError(
        `${res.url}: the server refused ${failed.length || 'the'} instance(s): ${reasons.join(', ')}.`,
        res.status,
      );
    }
    return {
      stored: items('00081199').map((r) => ({ sopClassUid: str(r, '00081150'), sopInstanceUid: str(r, '00081155') })),
    };
  }
}

/** A `dicomweb+http(s)://host/root/studies/UID/series/UID` source, split into service root and UIDs. */
export function parseDicomwebSource(source: string): { baseUrl: string; studyUid: string; seriesUid: string } | null {
  const m = /^dicomweb\+(https?:\/\/.+?)\/studies\/([0-9.]+)\/series\/([0-9.]+)\/?$/.exec(source);
  if (!m) return null;
  return { baseUrl: m[1], studyUid: m[2], seriesUid: m[3] };
}
