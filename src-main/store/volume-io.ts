// The seam between the store and the imaging readers/writers, so tests can inject small fakes.
import { createGzip } from 'node:zlib';
import type { SourceSeriesRef } from '../export/dicom/source-ref';
import { encodeNiftiHeader } from '../imaging/nifti-header';
import { affineRas, checkGeometry, voxelCount, voxelTypeOf, type Volume } from '../imaging/volume';
import { writeFileAtomic } from '../util/atomic';

import type { SeriesChoice } from '../domain/cases';

export type { SeriesChoice };

export interface VolumeIo {
  /** Reads a NIfTI file or a DICOM folder (one series). Throws InputError naming the file. */
  read(path: string, opts?: { seriesInstanceUid?: string }): Promise<Volume>;
  /** Lists the series of a DICOM folder (empty for files). */
  listSeries(path: string): Promise<SeriesChoice[]>;
  /** Writes a .nii.gz atomically. */
  write(path: string, volume: Volume): Promise<void>;
  /** What a DICOM SEG must reference about the series read from `path`; null for non-DICOM inputs. */
  sourceRef?(path: string, opts?: { seriesInstanceUid?: string }): Promise<SourceSeriesRef | null>;
}

/**
 * A .nii.gz of the volume, as the gzip stream's pieces: header and voxels go through one gzip stream without first being joined
 * into one buffer (a 512×512×300 label is 79 MB, and allocating that much again costs more than
 * compressing it), and deflate runs on libuv's thread pool, never on the main thread, so an
 * autosave does not stall every other API call.
 */
export async function gzipNifti(volume: Volume, level: number): Promise<Buffer[]> {
  checkGeometry(volume.source || 'volume', volume);
  const n = voxelCount(volume.dims);
  if (volume.data.length !== n)
    throw new Error(`${volume.source || 'volume'}: ${volume.data.length} voxels, but dims ${volume.dims.join('×')}`);
  const header = encodeNiftiHeader({
    dims: volume.dims,
    voxelType: voxelTypeOf(volume.data),
    affineRas: affineRas(volume),
    spacingMm: volume.spacingMm,
    description: volume.description,
  });
  const body = new Uint8Array(volume.data.buffer, volume.data.byteOffset, volume.data.byteLength);
  const z = createGzip({ level });
  const chunks: Buffer[] = [];
  z.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    z.once('end', resolve);
    z.once('error', reject);
  });
  z.write(header);
  z.end(body);
  await done;
  // The compressed pieces as they came: the atomic writer writes them in order, so no joined copy is made.
  return chunks;
}

/** The real readers/writers from src-main/imaging, loaded on first use (they pull in codecs). */
export async function defaultVolumeIo(): Promise<VolumeIo> {
  const [nifti, reader, dicomSource] = await Promise.all([
    import('../imaging/nifti'),
    import('../imaging/read'),
    import('./dicom-source'),
  ]);
  return {
    read: (path, opts) => reader.readVolume(path, opts),
    // With the patient, study and (when there are several to choose from) a thumbnail per series.
    listSeries: async (path) =>
      (await reader.listSeries(path, { thumbnails: 'several' })).map((s) => ({
        uid: s.uid,
        description: s.description,
        slices: s.slices,
        modality: s.modality,
        seriesNumber: s.seriesNumber,
        patientId: s.patientId,
        patientName: s.patientName,
        studyUid: s.studyUid,
        studyDate: s.studyDate,
        studyDescription: s.studyDescription,
        ...(s.thumbnail ? { thumbnail: s.thumbnail } : {}),
      })),
    // gzip level 1: CT noise barely compresses further at higher levels (measured 39.5 vs 38.5 MiB for
    // a 512×512×150 phantom) while level 6 takes 2.4× as long; saving a case should be quick.
    sourceRef: (path, opts) => dicomSource.readDicomSourceRef(path, opts),
    write: async (path, volume) =>
      writeFileAtomic(
        path,
        path.toLowerCase().endsWith('.gz') ? await gzipNifti(volume, 1) : nifti.encodeNifti(volume, { gzip: false }),
      ),
  };
}
