// Builds a DICOMweb client from what a command line gives (URL, credentials file, CA file, timeout)
// and fetches a `dicomweb+http(s)://…/studies/UID/series/UID` source into a temporary folder.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DicomwebClient, parseDicomwebSource } from './client';
import { resolveCliAuth } from './credentials';
import { DicomwebError, parseServiceUrl } from './http';
import { downloadSeries } from './import';

export interface CliConnectOptions {
  credentialsFile?: string;
  caFile?: string;
  timeoutSeconds?: number;
  env?: NodeJS.ProcessEnv;
}

export async function clientForUrl(url: string, opts: CliConnectOptions = {}): Promise<DicomwebClient> {
  const { baseUrl, auth } = parseServiceUrl(url);
  const resolved = await resolveCliAuth(opts.env ?? process.env, opts.credentialsFile, auth);
  return new DicomwebClient({
    baseUrl,
    ...(resolved ? { auth: resolved } : {}),
    ...(opts.caFile ? { caFile: opts.caFile } : {}),
    ...(opts.timeoutSeconds ? { timeoutMs: opts.timeoutSeconds * 1000 } : {}),
  });
}

/** True when `source` is a dicomweb+http(s) series address. */
export const isDicomwebSource = (source: string): boolean => /^dicomweb\+https?:\/\//.test(source);

/**
 * Retrieves the series named by a `dicomweb+…` source into a temporary folder; `cleanup` removes it.
 * The caller reads the folder with the ordinary DICOM reader.
 */
export async function fetchSourceToTemp(
  source: string,
  opts: CliConnectOptions & { signal?: AbortSignal; onProgress?: (fraction: number, message: string) => void } = {},
): Promise<{ dir: string; seriesUid: string; cleanup: () => Promise<void> }> {
  const parsed = parseDicomwebSource(source);
  if (!parsed)
    throw new DicomwebError(
      `'${source.replace(/\/\/[^@/]*@/, '//***@')}' is not a dicomweb+http(s)://host/…/studies/UID/series/UID address.`,
    );
  const client = await clientForUrl(parsed.baseUrl, opts);
  const series = (await client.searchSeries(parsed.studyUid, {}, opts.signal)).find(
    (s) => s.seriesInstanceUid === parsed.seriesUid,
  );
  if (!series)
    throw new DicomwebError(`study ${parsed.studyUid} has no series ${parsed.seriesUid} on ${client.conn.baseUrl}.`);
  const root = await mkdtemp(join(tmpdir(), 'deformux-dicomweb-'));
  const cleanup = (): Promise<void> => rm(root, { recursive: true, force: true });
  try {
    await downloadSeries(client, parsed.studyUid, series, join(root, 'series'), opts);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { dir: join(root, 'series'), seriesUid: parsed.seriesUid, cleanup };
}
