// Imports CT files and DICOM folders into a project as cases, one clear sentence per failure.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import type { ImportRequest, ImportResult } from '../domain/cases';
import { CancelledError } from '../domain/errors';
import type { Volume } from '../imaging/volume';
import type { SourceSeriesRef } from '../export/dicom/source-ref';
import { checkInputPath } from '../imaging/input-path';
import type { ProjectStore } from './project';
import type { VolumeIo } from './volume-io';

export interface ImportOptions {
  /** Checked between inputs and after each read: a case being written when it trips is finished, never half-kept. */
  signal?: AbortSignal;
  /** fraction 0..1 over all inputs, and what is being read. */
  onProgress?: (fraction: number, message: string) => void;
}

/** An import stopped by its signal: `result` holds the cases (each whole) imported before it stopped. */
export class ImportCancelledError extends CancelledError {
  constructor(
    readonly result: ImportResult,
    /** Inputs not imported because of the cancel. */
    readonly notImported: number,
  ) {
    super(
      `Import cancelled: ${result.imported.length} case(s) imported before the cancel are kept; ${notImported} input(s) were not imported.`,
    );
    this.name = 'ImportCancelledError';
  }
}

/** A case name from a file or folder name: `kidney_003.nii.gz` → `kidney_003`. */
export function caseNameFromPath(path: string): string {
  return basename(path).replace(/\.nii(\.gz)?$/i, '') || path;
}

/**
 * The DICOM source series for SEG export. Best effort: a case whose references cannot be read still
 * imports (its SEG export then says why it is unavailable).
 */
async function sourceRefOf(io: VolumeIo, path: string, seriesInstanceUid?: string): Promise<SourceSeriesRef | null> {
  if (!io.sourceRef) return null;
  try {
    return await io.sourceRef(path, seriesInstanceUid ? { seriesInstanceUid } : {});
  } catch {
    return null;
  }
}

/** SHA-256 of a volume's grid and voxel values: the same scan read twice hashes the same. */
export function volumeContentSha256(v: Volume): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([v.dims, v.spacingMm, v.originMm, v.direction, v.data.constructor.name]));
  h.update(new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength));
  return h.digest('hex');
}

export async function importPaths(
  store: ProjectStore,
  req: ImportRequest,
  opts: ImportOptions = {},
): Promise<ImportResult> {
  const result: ImportResult = { imported: [], errors: [], choices: [] };
  const io = await store.io();
  // Inputs n.. were not imported: stop with the cases so far (store.addCase writes each case whole or not at all).
  const stopIfAborted = (n: number): void => {
    if (opts.signal?.aborted) throw new ImportCancelledError(result, req.paths.length - n);
  };
  for (let n = 0; n < req.paths.length; n++) {
    stopIfAborted(n);
    const path = resolve(req.paths[n]);
    opts.onProgress?.(n / req.paths.length, `Reading ${basename(path)}`);
    try {
      if (!(await fs.stat(path).catch(() => null))) {
        result.errors.push(`${path}: no such file or folder.`);
        continue;
      }
      // FIFOs, sockets and devices are refused here, before any reader opens them (an open FIFO blocks).
      const kind = await checkInputPath(path).catch((err: unknown) => err as Error);
      if (kind instanceof Error) {
        result.errors.push(kind.message.endsWith('.') ? kind.message : `${kind.message}.`);
        continue;
      }
      const isDir = kind === 'dir';
      let seriesInstanceUid = req.seriesInstanceUid;
      let name = caseNameFromPath(path);
      if (isDir) {
        const series = await io.listSeries(path);
        if (series.length === 0) {
          result.errors.push(`${path}: no DICOM image series found in this folder.`);
          continue;
        }
        if (series.length > 1 && !seriesInstanceUid) {
          result.choices.push({ path, series });
          continue;
        }
        seriesInstanceUid ??= series[0].uid;
        const chosen = series.find((s) => s.uid === seriesInstanceUid);
        if (!chosen) {
          result.errors.push(`${path}: has no series ${seriesInstanceUid}.`);
          continue;
        }
        // Files uploaded from the page sit in a folder named by a random batch id: the series says more.
        const staged = path.startsWith(join(resolve(store.dir), 'incoming') + sep);
        if (staged) name = chosen.description || `DICOM series (${chosen.slices} slices)`;
        else if (chosen.description) name = `${name} – ${chosen.description}`;
      }
      const seriesUid = isDir ? seriesInstanceUid : undefined;
      const seriesTwin = seriesUid ? store.findDuplicateCase({ seriesUid }) : null;
      if (seriesTwin) {
        result.errors.push(`${path}: series ${seriesUid} is already in this project as case '${seriesTwin.name}'.`);
        continue;
      }
      const volume = await io.read(path, isDir ? { seriesInstanceUid } : undefined);
      const contentSha256 = volumeContentSha256(volume);
      const twin = store.findDuplicateCase({ contentSha256 });
      if (twin) {
        result.errors.push(`${path}: the same image is already in this project as case '${twin.name}'.`);
        continue;
      }
      const dicomSource = /\.nii(\.gz)?$/i.test(path) ? null : await sourceRefOf(io, path, seriesInstanceUid);
      // The last point to stop before writing: once addCase starts, the case is finished and kept.
      stopIfAborted(n);
      result.imported.push(
        await store.addCase(volume, {
          name,
          contentSha256,
          ...(seriesUid ? { seriesUid } : {}),
          ...(dicomSource ? { dicomSource } : {}),
        }),
      );
    } catch (err) {
      if (err instanceof ImportCancelledError) throw err;
      stopIfAborted(n);
      const message = err instanceof Error ? err.message : String(err);
      // Reader errors (InputError) already name the file; others get it prefixed.
      result.errors.push(message.includes(path) ? message : `${path}: ${message}`);
    }
  }
  opts.onProgress?.(1, `Imported ${result.imported.length} of ${req.paths.length}`);
  return result;
}
