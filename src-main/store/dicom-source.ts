// Reads what a DICOM SEG must reference about an imported CT series (UIDs, per-slice SOP instances
// and positions, patient/study fields), so it can be kept with the case for later SEG export.
import { dirname } from 'node:path';
import type { DataSet } from 'dicom-parser';
import type { SourceInstanceRef, SourceSeriesRef } from '../export/dicom/source-ref';
import { isValidUid, newUid } from '../export/dicom/uid';
import { isLocalizer, looksLikeDicom, parseDicom } from '../imaging/dicom/header';
import { checkInputPath, openRegularFile } from '../imaging/input-path';
import { readSliceHeader, scanDicomFolder } from '../imaging/dicom/scan';

/** Enough bytes for the header of any ordinary CT slice; longer headers are read whole (bounded). */
const PROBE_BYTES = 256 * 1024;
const MAX_HEADER_BYTES = 64 * 1024 * 1024;

async function readHeader(file: string): Promise<DataSet> {
  const handle = await openRegularFile(file);
  try {
    const size = (await handle.stat()).size;
    for (const length of [Math.min(size, PROBE_BYTES), Math.min(size, MAX_HEADER_BYTES)]) {
      const bytes = new Uint8Array(length);
      await handle.read(bytes, 0, length, 0);
      try {
        return parseDicom(bytes, file, true);
      } catch (err) {
        if (length >= Math.min(size, MAX_HEADER_BYTES)) throw err;
      }
    }
  } finally {
    await handle.close();
  }
  throw new Error(`${file}: DICOM header could not be read`);
}

/** A string element, trimmed; '' when absent. */
const str = (ds: DataSet, tag: string): string => (ds.string(tag) ?? '').replace(/\0/g, '').trim();

/** A UID from the data set, else from the file meta (anonymisers often blank only the data set's). */
function uidOf(ds: DataSet, dataTag: string, metaTag: string | null): string {
  const fromData = str(ds, dataTag);
  if (fromData) return fromData;
  return metaTag ? str(ds, metaTag) : '';
}

/** Keeps `uid` when valid, else makes one (stable for the case, since the result is stored). */
const validOrNew = (uid: string): string => (isValidUid(uid) ? uid : newUid());

/**
 * The source series of a DICOM folder (or a DICOM file's folder) for the series that `readVolume`
 * would import. Returns null for paths that are not DICOM (NIfTI files).
 */
export async function readDicomSourceRef(
  path: string,
  opts: { seriesInstanceUid?: string; signal?: AbortSignal } = {},
): Promise<SourceSeriesRef | null> {
  const kind = await checkInputPath(path);
  let folder = path;
  let uid = opts.seriesInstanceUid;
  if (kind !== 'dir') {
    const head = new Uint8Array(132);
    const handle = await openRegularFile(path);
    try {
      await handle.read(head, 0, head.length, 0);
    } finally {
      await handle.close();
    }
    if (!looksLikeDicom(head)) return null;
    folder = dirname(path);
    uid ??= (await readSliceHeader(path))?.seriesUid;
  }
  const all = await scanDicomFolder(folder, { signal: opts.signal });
  const series = uid !== undefined ? all.find((s) => s.uid === uid) : all.find((s) => s.slices > 0);
  if (!series) return null;
  const slices = series.files.filter((f) => !isLocalizer(f) && f.positionMm && f.positionMm.length === 3);
  if (slices.length === 0) return null;

  const instances: SourceInstanceRef[] = [];
  let first: DataSet | null = null;
  for (const slice of slices) {
    opts.signal?.throwIfAborted();
    const ds = await readHeader(slice.file);
    first ??= ds;
    instances.push({
      sopClassUid: uidOf(ds, 'x00080016', 'x00020002'),
      sopInstanceUid: uidOf(ds, 'x00080018', 'x00020003'),
      positionMm: slice.positionMm as [number, number, number],
    });
  }
  const ds = first!;
  const optional = (tag: string): string | undefined => str(ds, tag) || undefined;
  return {
    // Missing study/series/frame-of-reference UIDs (anonymised data) are made up once, at import.
    studyInstanceUid: validOrNew(str(ds, 'x0020000d')),
    seriesInstanceUid: validOrNew(str(ds, 'x0020000e')),
    frameOfReferenceUid: validOrNew(str(ds, 'x00200052')),
    patientName: optional('x00100010'),
    patientId: optional('x00100020'),
    patientBirthDate: optional('x00100030'),
    patientSex: optional('x00100040'),
    studyDate: optional('x00080020'),
    studyTime: optional('x00080030'),
    studyId: optional('x00200010'),
    accessionNumber: optional('x00080050'),
    referringPhysicianName: optional('x00080090'),
    studyDescription: optional('x00081030'),
    instances,
  };
}
