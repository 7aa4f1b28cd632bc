// Exports a synthetic phantom CT as a DICOM series (explicit VR little endian, int16 HU) with all the
// UIDs a PACS wants, through the project's own DICOM writer, so CI covers retrieve without ../shared.
import type { Volume } from '../../src-main/imaging/volume';
import type { SourceSeriesRef } from '../../src-main/export/dicom/source-ref';
import { slicePositionMm } from '../../src-main/export/dicom/seg-frames';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, newUid } from '../../src-main/export/dicom/uid';
import { el, encodeDicomFile } from '../../src-main/export/dicom/writer';

/** What a SEG of this series must reference (as the project's DICOM reader would describe it). */
export function sourceRefOf(image: Volume, series: PhantomSeries): SourceSeriesRef {
  return {
    studyInstanceUid: series.studyUid,
    seriesInstanceUid: series.seriesUid,
    frameOfReferenceUid: series.frameOfReferenceUid,
    patientId: series.patientId,
    instances: series.sopInstanceUids.map((sopInstanceUid, k) => ({
      sopClassUid: CT_IMAGE_STORAGE,
      sopInstanceUid,
      positionMm: slicePositionMm(image, k),
    })),
  };
}

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

export interface PhantomSeries {
  studyUid: string;
  seriesUid: string;
  frameOfReferenceUid: string;
  patientId: string;
  files: Uint8Array[];
  /** SOP Instance UID of each slice, in slice order. */
  sopInstanceUids: string[];
}

export function phantomToDicom(image: Volume, opts: { patientId: string; studyUid?: string }): PhantomSeries {
  const [ni, nj, nk] = image.dims;
  const studyUid = opts.studyUid ?? newUid();
  const seriesUid = newUid();
  const frameOfReferenceUid = newUid();
  const d = image.direction;
  const files: Uint8Array[] = [];
  const sopInstanceUids: string[] = [];
  for (let k = 0; k < nk; k++) {
    const sop = newUid();
    sopInstanceUids.push(sop);
    const slice = new Int16Array(ni * nj);
    for (let p = 0; p < ni * nj; p++) slice[p] = Math.round(Number(image.data[k * ni * nj + p]));
    files.push(
      encodeDicomFile(
        {
          sopClassUid: CT_IMAGE_STORAGE,
          sopInstanceUid: sop,
          implementationClassUid: IMPLEMENTATION_CLASS_UID,
          implementationVersionName: IMPLEMENTATION_VERSION_NAME,
        },
        [
          el(0x00080016, 'UI', CT_IMAGE_STORAGE),
          el(0x00080018, 'UI', sop),
          el(0x00080020, 'DA', '20260101'),
          el(0x00080050, 'SH', `ACC-${opts.patientId}`),
          el(0x00080060, 'CS', 'CT'),
          el(0x0008103e, 'LO', 'SYNTHETIC phantom'),
          el(0x00100010, 'PN', `Phantom^${opts.patientId}`),
          el(0x00100020, 'LO', opts.patientId),
          el(0x00180015, 'CS', 'ABDOMEN'),
          el(0x00180050, 'DS', image.spacingMm[2]),
          el(0x0020000d, 'UI', studyUid),
          el(0x0020000e, 'UI', seriesUid),
          el(0x00200011, 'IS', 2),
          el(0x00200013, 'IS', k + 1),
          el(0x00200032, 'DS', slicePositionMm(image, k)),
          el(0x00200037, 'DS', [d[0], d[1], d[2], d[3], d[4], d[5]]),
          el(0x00200052, 'UI', frameOfReferenceUid),
          el(0x00280002, 'US', 1),
          el(0x00280004, 'CS', 'MONOCHROME2'),
          el(0x00280010, 'US', nj),
          el(0x00280011, 'US', ni),
          el(0x00280030, 'DS', [image.spacingMm[1], image.spacingMm[0]]),
          el(0x00280100, 'US', 16),
          el(0x00280101, 'US', 16),
          el(0x00280102, 'US', 15),
          el(0x00280103, 'US', 1),
          el(0x00281052, 'DS', 0),
          el(0x00281053, 'DS', 1),
          el(0x7fe00010, 'OW', new Uint8Array(slice.buffer)),
        ],
      ),
    );
  }
  return { studyUid, seriesUid, frameOfReferenceUid, patientId: opts.patientId, files, sopInstanceUids };
}
