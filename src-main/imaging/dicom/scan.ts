// Finds the DICOM image files in a folder (recursively) and groups them by SeriesInstanceUID.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { openRegularFile } from '../input-path';
import { InputError } from '../volume';
import type { DicomSliceInfo } from './header';
import { isLocalizer, isPart10, looksLikeDicom, MAX_HEADER_BYTES, parseDicom, sliceInfo } from './header';
import { transferSyntaxName } from './codecs';

/** One series as the UI/CLI shows it when asking which to open. */
export interface DicomSeriesSummary {
  uid: string;
  description: string;
  /** Image slices that would form the volume (localizers excluded). */
  slices: number;
  localizers: number;
  modality: string;
  seriesNumber: number | null;
  rows: number;
  columns: number;
  transferSyntaxes: string[];
  patientId: string;
  patientName: string;
  studyUid: string;
  /** DICOM DA (YYYYMMDD) or ''. */
  studyDate: string;
  studyDescription: string;
}

export interface DicomSeries extends DicomSeriesSummary {
  files: DicomSliceInfo[];
}

export interface ScanOptions {
  signal?: AbortSignal;
  /** Called with (files looked at, files found) while scanning. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Called for each file that looks like DICOM but cannot be read (junk that happens to carry the
   * DICM marker, a damaged header): the file is skipped and the rest of the folder still counts.
   */
  onSkip?: (file: string, reason: string) => void;
}

/** Most of a CT header fits here; files whose header is longer are read whole. */
const HEADER_PROBE_BYTES = 64 * 1024;
/** Folders deeper than this are not followed (symlink loops, whole disks by mistake). */
const MAX_DEPTH = 8;

async function listFiles(dir: string, depth: number, out: string[]): Promise<void> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory() && depth < MAX_DEPTH) await listFiles(p, depth + 1, out);
    else if (e.isFile()) out.push(p);
  }
}

/** Reads a file's header (probe first, whole file only when the header is longer). */
export async function readSliceHeader(file: string): Promise<DicomSliceInfo | null> {
  const handle = await openRegularFile(file);
  let probe: Uint8Array;
  let size: number;
  try {
    size = (await handle.stat()).size;
    probe = new Uint8Array(Math.min(size, HEADER_PROBE_BYTES));
    await handle.read(probe, 0, probe.length, 0);
  } finally {
    await handle.close();
  }
  if (!looksLikeDicom(probe)) return null;
  const bare = !isPart10(probe);
  try {
    try {
      return sliceInfo(parseDicom(probe, file, true), file);
    } catch (err) {
      if (size <= probe.length) throw err;
      // Long header (private tags, big sequences): read more, but never more than MAX_HEADER_BYTES.
      const more = new Uint8Array(Math.min(size, MAX_HEADER_BYTES));
      const again = await openRegularFile(file);
      try {
        await again.read(more, 0, more.length, 0);
      } finally {
        await again.close();
      }
      return sliceInfo(parseDicom(more, file, true), file);
    }
  } catch (err) {
    // A Part 10 file that fails to parse is a broken DICOM file; a "bare" guess that fails is just not DICOM.
    if (bare) return null;
    throw err;
  }
}

/**
 * Scans a folder for DICOM images, grouped by series (ordered by series number). Files that are
 * not DICOM (README, DICOMDIR, reports) are ignored; DICOM files whose header cannot be read are
 * skipped and reported through `onSkip`, so one junk file does not sink a whole folder.
 */
export async function scanDicomFolder(dir: string, opts: ScanOptions = {}): Promise<DicomSeries[]> {
  const files: string[] = [];
  try {
    await listFiles(dir, 0, files);
  } catch (err) {
    throw new InputError(dir, `cannot be listed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const bySeries = new Map<string, DicomSliceInfo[]>();
  let done = 0;
  for (const f of files) {
    opts.signal?.throwIfAborted();
    let info: DicomSliceInfo | null;
    try {
      info = await readSliceHeader(f);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      const prefix = `${f}: `;
      opts.onSkip?.(f, err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message);
      info = null;
    }
    done++;
    if (done % 16 === 0 || done === files.length) opts.onProgress?.(done, files.length);
    if (!info) continue;
    const list = bySeries.get(info.seriesUid);
    if (list) list.push(info);
    else bySeries.set(info.seriesUid, [info]);
  }
  const series: DicomSeries[] = [];
  for (const [uid, list] of bySeries) {
    const images = list.filter((s) => !isLocalizer(s));
    const first = images[0] ?? list[0];
    series.push({
      uid,
      description: first.seriesDescription,
      slices: images.length,
      localizers: list.length - images.length,
      modality: first.modality,
      seriesNumber: first.seriesNumber,
      rows: first.rows,
      columns: first.columns,
      transferSyntaxes: [...new Set(list.map((s) => transferSyntaxName(s.transferSyntax)))],
      patientId: first.patientId,
      patientName: first.patientName,
      studyUid: first.studyUid,
      studyDate: first.studyDate,
      studyDescription: first.studyDescription,
      files: list,
    });
  }
  series.sort((a, b) => (a.seriesNumber ?? Infinity) - (b.seriesNumber ?? Infinity) || (a.uid < b.uid ? -1 : 1));
  return series;
}

export function summarize(s: DicomSeries): DicomSeriesSummary {
  const { files: _files, ...summary } = s;
  return summary;
}
