// Retrieves a remote series into a project: the DICOM files are kept under dicomweb/<study>/<series>/
// with their UIDs (a re-open is local) and the case is added only once the whole series is read. A
// broken transfer leaves nothing behind: the download goes to a .partial- folder that is removed.
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { CaseSummary } from '../domain/cases';
import type { ProjectStore } from '../store/project';
import { writeFileAtomic } from '../util/atomic';
import type { DicomwebClient, RemoteSeries } from './client';
import { DicomwebError } from './http';

export const CACHE_DIR = 'dicomweb';
const COMPLETE_MARKER = 'series.json';
/** A .partial- folder older than this belongs to no running import (a crash left it). */
const STALE_PARTIAL_MS = 60 * 60 * 1000;

export interface ImportSeriesOptions {
  signal?: AbortSignal;
  /** fraction 0..1 and what is happening. */
  onProgress?: (fraction: number, message: string) => void;
}

export interface ImportSeriesResult {
  case: CaseSummary;
  seriesInstanceUid: string;
  /** 'case': the series was already a case; 'cache': read from the project's DICOM cache; 'server': retrieved. */
  from: 'case' | 'cache' | 'server';
  instances: number;
  bytes: number;
}

/** The case made from a series, if any (found through the source series kept for SEG export). */
export function caseOfSeries(store: ProjectStore, seriesUid: string): CaseSummary | null {
  for (const c of store.listCases()) {
    if (store.dicomSource(c.id)?.seriesInstanceUid === seriesUid) return c;
  }
  return null;
}

export function seriesCacheDir(store: ProjectStore, studyUid: string, seriesUid: string): string {
  if (!/^[0-9.]{1,64}$/.test(studyUid) || !/^[0-9.]{1,64}$/.test(seriesUid))
    throw new DicomwebError(`'${studyUid}' / '${seriesUid}' are not DICOM UIDs.`);
  return join(store.dir, CACHE_DIR, studyUid, seriesUid);
}

/** Picks the image series of a study: the only CT (or non-SEG) series, else a clear list to choose from. */
export function chooseImageSeries(studyUid: string, series: RemoteSeries[]): RemoteSeries {
  const images = series.filter((s) => !['SEG', 'SR', 'PR', 'KO', 'RTSTRUCT'].includes(s.modality));
  const ct = images.filter((s) => s.modality === 'CT');
  const pool = ct.length > 0 ? ct : images;
  if (pool.length === 1) return pool[0];
  if (pool.length === 0) throw new DicomwebError(`study ${studyUid} holds no image series on the server.`);
  const lines = pool.map(
    (s) =>
      `  ${s.seriesInstanceUid}  #${s.seriesNumber ?? '?'} ${s.description || '(no description)'}: ${s.instanceCount ?? '?'} instances`,
  );
  throw new DicomwebError(
    `study ${studyUid} holds ${pool.length} image series; choose one with --series:\n${lines.join('\n')}`,
  );
}

async function removeStalePartials(root: string): Promise<void> {
  const entries = await fs.readdir(root).catch(() => [] as string[]);
  for (const name of entries) {
    if (!name.startsWith('.partial-')) continue;
    const stat = await fs.stat(join(root, name)).catch(() => null);
    if (stat && Date.now() - stat.mtimeMs > STALE_PARTIAL_MS)
      await fs.rm(join(root, name), { recursive: true, force: true });
  }
}

/** Downloads a series into `dir` (one file per instance); returns counts. Removes `dir` on failure. */
export async function downloadSeries(
  client: DicomwebClient,
  studyUid: string,
  series: { seriesInstanceUid: string; instanceCount: number | null },
  dir: string,
  opts: ImportSeriesOptions & { fractionOfWhole?: number } = {},
): Promise<{ instances: number; bytes: number }> {
  const share = opts.fractionOfWhole ?? 1;
  await fs.mkdir(dir, { recursive: true });
  try {
    return await client.retrieveSeries(
      studyUid,
      series.seriesInstanceUid,
      (bytes, index) => fs.writeFile(join(dir, `${String(index + 1).padStart(5, '0')}.dcm`), bytes),
      {
        signal: opts.signal,
        expectedInstances: series.instanceCount,
        onProgress: (n, total, bytes) =>
          opts.onProgress?.(
            total ? (share * Math.min(n, total)) / total : 0,
            `Retrieved ${n}${total ? ` of ${total}` : ''} images (${(bytes / 2 ** 20).toFixed(1)} MiB)`,
          ),
      },
    );
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Imports one remote series as a case (or finds the case it already is). Without `seriesUid` the
 * study's only image series is used.
 */
export async function importRemoteSeries(
  store: ProjectStore,
  client: DicomwebClient,
  studyUid: string,
  seriesUid: string | undefined,
  opts: ImportSeriesOptions = {},
): Promise<ImportSeriesResult> {
  let remote: RemoteSeries | undefined;
  if (!seriesUid) {
    remote = chooseImageSeries(studyUid, await client.searchSeries(studyUid, {}, opts.signal));
    seriesUid = remote.seriesInstanceUid;
  }
  const existing = caseOfSeries(store, seriesUid);
  if (existing) return { case: existing, seriesInstanceUid: seriesUid, from: 'case', instances: 0, bytes: 0 };

  const cacheDir = seriesCacheDir(store, studyUid, seriesUid);
  const root = join(store.dir, CACHE_DIR);
  await fs.mkdir(root, { recursive: true });
  let from: ImportSeriesResult['from'] = 'cache';
  let counts = { instances: 0, bytes: 0 };
  const io = await store.io();
  let folder = cacheDir;
  let partial: string | null = null;
  if (!existsSync(join(cacheDir, COMPLETE_MARKER))) {
    from = 'server';
    await removeStalePartials(root);
    if (!remote) {
      const all = await client.searchSeries(studyUid, {}, opts.signal);
      remote = all.find((s) => s.seriesInstanceUid === seriesUid);
      if (!remote) throw new DicomwebError(`study ${studyUid} has no series ${seriesUid} on the server.`);
    }
    partial = join(root, `.partial-${randomBytes(6).toString('hex')}`);
    counts = await downloadSeries(client, studyUid, remote, partial, { ...opts, fractionOfWhole: 0.8 });
    folder = partial;
  }
  try {
    opts.signal?.throwIfAborted();
    opts.onProgress?.(0.8, 'Reading the images');
    const volume = await io.read(folder, { seriesInstanceUid: seriesUid });
    const dicomSource = io.sourceRef ? await io.sourceRef(folder, { seriesInstanceUid: seriesUid }) : null;
    if (!dicomSource) throw new DicomwebError(`series ${seriesUid}: its DICOM references cannot be read.`);
    opts.signal?.throwIfAborted();
    if (partial) {
      // The complete download becomes the cache in one rename; the marker is written last.
      await fs.rm(cacheDir, { recursive: true, force: true });
      await fs.mkdir(join(root, studyUid), { recursive: true });
      await fs.rename(partial, cacheDir);
      partial = null;
      await writeFileAtomic(
        join(cacheDir, COMPLETE_MARKER),
        JSON.stringify({
          studyInstanceUid: studyUid,
          seriesInstanceUid: seriesUid,
          instances: counts.instances,
          retrievedAt: new Date().toISOString(),
        }),
      );
    }
    const name = `${dicomSource.patientId || 'remote'} – ${volume.description || seriesUid}`;
    const added = await store.addCase(volume, { name, dicomSource });
    opts.onProgress?.(1, 'Imported');
    return { case: added, seriesInstanceUid: seriesUid, from, ...counts };
  } finally {
    if (partial) await fs.rm(partial, { recursive: true, force: true });
  }
}
