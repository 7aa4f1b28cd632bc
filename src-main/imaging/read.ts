// One entry point for opening CT: a NIfTI file, a DICOM folder (one series), or a DICOM file's series.
import { dirname } from 'node:path';
import type { Volume } from './volume';
import { InputError } from './volume';
import { assembleSeries, type AssembleOptions } from './dicom/assemble';
import { isPart10, looksLikeDicom } from './dicom/header';
import { readSliceHeader, scanDicomFolder, summarize, type DicomSeriesSummary } from './dicom/scan';
import { middleImage, sliceThumbnail, type Thumbnail } from './dicom/thumbnail';
import { checkInputPath, openRegularFile } from './input-path';
import { readNifti } from './nifti';
import { isGzip } from './nifti-header';

export type { DicomSeriesSummary } from './dicom/scan';

/** Thrown when a folder holds several image series and none was chosen; `series` lists the choices. */
export class SeriesChoiceError extends InputError {
  readonly series: DicomSeriesSummary[];
  constructor(folder: string, series: DicomSeriesSummary[]) {
    const lines = series.map(
      (s) => `  ${s.uid}  #${s.seriesNumber ?? '?'} ${s.description || '(no description)'}: ${s.slices} slices`,
    );
    super(folder, `holds ${series.length} image series; choose one by its SeriesInstanceUID:\n${lines.join('\n')}`);
    this.name = 'SeriesChoiceError'; // still `instanceof InputError`: the CLI prints it as one input problem
    this.series = series;
  }
}

export interface ReadVolumeOptions extends AssembleOptions {
  /** Which DICOM series to read when a folder holds several. */
  seriesInstanceUid?: string;
}

type Kind = { kind: 'dir' } | { kind: 'nifti' } | { kind: 'dicom-file'; part10: boolean };

async function classify(path: string): Promise<Kind> {
  if ((await checkInputPath(path)) === 'dir') return { kind: 'dir' };
  const handle = await openRegularFile(path);
  let head: Uint8Array;
  try {
    const size = (await handle.stat()).size;
    head = new Uint8Array(Math.min(size, 132));
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  // The DICM marker is decisive; a guessed bare DICOM data set is not, when the name or gzip says NIfTI
  // (a damaged NIfTI whose first bytes happen to read like a DICOM tag must be reported as NIfTI).
  if (isPart10(head)) return { kind: 'dicom-file', part10: true };
  if (isGzip(head) || /\.nii(\.gz)?$/i.test(path)) return { kind: 'nifti' };
  if (looksLikeDicom(head)) return { kind: 'dicom-file', part10: false };
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (head.length >= 4 && [348, 540].some((n) => v.getInt32(0, true) === n || v.getInt32(0, false) === n))
    return { kind: 'nifti' };
  throw new InputError(path, 'is neither a NIfTI file nor a DICOM file or folder');
}

/**
 * Lists the series of a DICOM folder (or of a DICOM file's folder); empty for a NIfTI file. `thumbnails`:
 * 'several' adds each series' middle-image thumbnail when there is more than one series (to choose from);
 * a series whose image cannot be decoded has none (it is still listed).
 */
export async function listSeries(
  path: string,
  opts: { signal?: AbortSignal; thumbnails?: 'several' } = {},
): Promise<(DicomSeriesSummary & { thumbnail?: Thumbnail })[]> {
  const k = await classify(path);
  if (k.kind === 'nifti') return [];
  const folder = k.kind === 'dir' ? path : dirname(path);
  const series = await scanDicomFolder(folder, opts);
  if (opts.thumbnails !== 'several' || series.length < 2) return series.map(summarize);
  const out: (DicomSeriesSummary & { thumbnail?: Thumbnail })[] = [];
  for (const s of series) {
    opts.signal?.throwIfAborted();
    const middle = middleImage(s.files);
    const thumbnail = middle ? await sliceThumbnail(middle).catch(() => undefined) : undefined;
    out.push({ ...summarize(s), ...(thumbnail ? { thumbnail } : {}) });
  }
  return out;
}

/**
 * Reads a CT volume from a NIfTI file (.nii/.nii.gz), a DICOM folder, or a DICOM file (its series,
 * from the same folder). Several series without `seriesInstanceUid` → SeriesChoiceError.
 */
export async function readVolume(path: string, opts: ReadVolumeOptions = {}): Promise<Volume> {
  const k = await classify(path);
  if (k.kind === 'nifti') return readNifti(path);
  let uid = opts.seriesInstanceUid;
  let folder = path;
  if (k.kind === 'dicom-file') {
    folder = dirname(path);
    const info = await readSliceHeader(path);
    // A Part 10 file that is no image (DICOMDIR) opens its folder; a mere guess that fails is not DICOM.
    if (!info && !k.part10) throw new InputError(path, 'is neither a NIfTI file nor a readable DICOM file');
    uid ??= info?.seriesUid;
  }
  const skipped: string[] = [];
  const all = await scanDicomFolder(folder, {
    signal: opts.signal,
    onSkip: (file, reason) => {
      skipped.push(`${file} (${reason})`);
      opts.onWarning?.(`skipped ${file}: it looks like DICOM but cannot be read (${reason})`);
    },
  });
  // When the folder cannot give a volume, the skipped files are likely why: say which they were.
  const withSkipped = (err: unknown): unknown => {
    if (err instanceof InputError && skipped.length > 0)
      err.message += `; ${skipped.length} unreadable file(s) were skipped: ${skipped.join('; ')}`;
    return err;
  };
  const images = all.filter((s) => s.slices > 0);
  if (all.length === 0) throw withSkipped(new InputError(folder, 'contains no DICOM images'));
  let chosen;
  if (uid !== undefined) {
    chosen = all.find((s) => s.uid === uid);
    if (!chosen) throw withSkipped(new InputError(folder, `has no series with SeriesInstanceUID ${uid}`));
  } else if (images.length > 1) {
    throw new SeriesChoiceError(folder, images.map(summarize));
  } else {
    chosen = images[0] ?? all[0];
  }
  try {
    return await assembleSeries(chosen, folder, opts);
  } catch (err) {
    throw withSkipped(err);
  }
}
