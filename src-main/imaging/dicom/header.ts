// Parses one DICOM Part 10 file (dicom-parser) and extracts what building a CT volume needs.
import zlib from 'node:zlib';
import dicomParser from 'dicom-parser';
import type { DataSet } from 'dicom-parser';
import { InputError } from '../volume';

export const TS = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  deflateLE: '1.2.840.10008.1.2.1.99',
  explicitBE: '1.2.840.10008.1.2.2',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpegExtended: '1.2.840.10008.1.2.4.51',
  jpegLossless: '1.2.840.10008.1.2.4.57',
  jpegLosslessSV1: '1.2.840.10008.1.2.4.70',
  jpegLsLossless: '1.2.840.10008.1.2.4.80',
  jpegLsNearLossless: '1.2.840.10008.1.2.4.81',
  j2kLossless: '1.2.840.10008.1.2.4.90',
  j2k: '1.2.840.10008.1.2.4.91',
  rle: '1.2.840.10008.1.2.5',
} as const;

export const TRANSFER_SYNTAX_NAMES: Record<string, string> = {
  [TS.implicitLE]: 'implicit VR little endian',
  [TS.explicitLE]: 'explicit VR little endian',
  [TS.deflateLE]: 'deflated explicit VR little endian',
  [TS.explicitBE]: 'explicit VR big endian',
  [TS.jpegBaseline]: 'JPEG baseline',
  [TS.jpegExtended]: 'JPEG extended (12-bit lossy)',
  [TS.jpegLossless]: 'JPEG lossless',
  [TS.jpegLosslessSV1]: 'JPEG lossless (SV1)',
  [TS.jpegLsLossless]: 'JPEG-LS lossless',
  [TS.jpegLsNearLossless]: 'JPEG-LS near-lossless',
  [TS.j2kLossless]: 'JPEG 2000 lossless',
  [TS.j2k]: 'JPEG 2000',
  [TS.rle]: 'RLE lossless',
  '1.2.840.10008.1.2.4.201': 'HTJ2K lossless',
  '1.2.840.10008.1.2.4.202': 'HTJ2K lossless RPCL',
  '1.2.840.10008.1.2.4.203': 'HTJ2K',
  '1.2.840.10008.1.2.4.100': 'MPEG-2',
  '1.2.840.10008.1.2.4.102': 'MPEG-4',
};

/** Everything about one image file that grouping, sorting and decoding need. */
export interface DicomSliceInfo {
  file: string;
  transferSyntax: string;
  sopClassUid: string;
  seriesUid: string;
  seriesDescription: string;
  seriesNumber: number | null;
  /** Patient and study, for listing series before import ('' when absent). */
  patientId: string;
  patientName: string;
  studyUid: string;
  studyDate: string;
  studyDescription: string;
  instanceNumber: number | null;
  modality: string;
  imageType: string[];
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: number;
  samplesPerPixel: number;
  numberOfFrames: number;
  /** Row direction then column direction (6 numbers), or null when absent. */
  orientation: number[] | null;
  positionMm: number[] | null;
  /** [row spacing, column spacing] in mm (DICOM order), or null when absent. */
  pixelSpacingMm: number[] | null;
  sliceThicknessMm: number | null;
  rescaleSlope: number;
  rescaleIntercept: number;
  hasPixelData: boolean;
}

const DICOMDIR_CLASS = '1.2.840.10008.1.3.10';
/** Largest DICOM header (everything before the pixel data) we are willing to read. */
export const MAX_HEADER_BYTES = 64 * 1024 * 1024;

/** Whether bytes start like a DICOM Part 10 file ('DICM' after the 128-byte preamble). */
export function isPart10(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d
  );
}

function inflaterFor(file: string) {
  return (bytes: Uint8Array, position: number): Uint8Array => {
    let inflated: Buffer;
    try {
      // A CT slice inflates to a few MB; 1 GiB stops a deflate bomb long before memory runs out.
      inflated = zlib.inflateRawSync(bytes.subarray(position), { maxOutputLength: 1 << 30 });
    } catch (err) {
      throw new InputError(file, `deflated DICOM data is corrupt or too large (${(err as Error).message})`);
    }
    const full = new Uint8Array(position + inflated.length);
    full.set(bytes.subarray(0, position));
    full.set(inflated, position);
    return full;
  };
}

/**
 * For files without the Part 10 preamble and meta header (old archives write bare data sets): the
 * transfer syntax guessed from the first element, or null when the bytes do not start like one.
 * Explicit VR puts two upper-case letters after the tag; implicit VR puts a length there.
 */
export function bareDataSetSyntax(bytes: Uint8Array): string | null {
  if (bytes.length < 8 || bytes[0] !== 0x08 || bytes[1] !== 0x00) return null; // group 0008 comes first
  const upper = (c: number): boolean => c >= 65 && c <= 90;
  return upper(bytes[4]) && upper(bytes[5]) ? TS.explicitLE : TS.implicitLE;
}

/** Whether bytes look like DICOM: Part 10, or a bare data set starting at group 0008. */
export function looksLikeDicom(bytes: Uint8Array): boolean {
  return isPart10(bytes) || bareDataSetSyntax(bytes) !== null;
}

/** Parses a DICOM file; `headerOnly` stops before the pixel data. Errors become InputError. */
export function parseDicom(bytes: Uint8Array, file: string, headerOnly = false): DataSet {
  const bare = isPart10(bytes) ? null : bareDataSetSyntax(bytes);
  if (!isPart10(bytes) && !bare) throw new InputError(file, "is not a DICOM file ('DICM' marker missing)");
  try {
    return dicomParser.parseDicom(bytes, {
      ...(headerOnly ? { untilTag: 'x7fe00010' } : {}),
      ...(bare ? { TransferSyntaxUID: bare } : {}),
      inflater: inflaterFor(file),
    });
  } catch (err) {
    if (err instanceof InputError) throw err;
    // dicom-parser throws strings, or objects carrying {exception, dataSet}.
    const msg =
      typeof err === 'string'
        ? err
        : err instanceof Error
          ? err.message
          : String((err as { exception?: unknown }).exception ?? err);
    throw new InputError(file, `DICOM data is malformed or truncated (${msg.replace(/^dicomParser\.\w+: /, '')})`);
  }
}

function numbers(ds: DataSet, tag: string): number[] | null {
  const n = ds.numStringValues(tag);
  if (!n) return null;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(ds.floatString(tag, i) ?? NaN);
  return out;
}

function optionalNumber(ds: DataSet, tag: string): number | null {
  const v = ds.floatString(tag);
  return v === undefined || !Number.isFinite(v) ? null : v;
}

/** Extracts the slice description; returns null for files that are not images (DICOMDIR, SR, ...). */
export function sliceInfo(ds: DataSet, file: string): DicomSliceInfo | null {
  const sopClassUid = ds.string('x00020002') ?? ds.string('x00080016') ?? '';
  if (sopClassUid === DICOMDIR_CLASS) return null;
  const rows = ds.uint16('x00280010');
  const columns = ds.uint16('x00280011');
  if (rows === undefined || columns === undefined) return null; // not an image (report, presentation state, ...)
  const slope = optionalNumber(ds, 'x00281053');
  const intercept = optionalNumber(ds, 'x00281052');
  return {
    file,
    // A bare data set's syntax was guessed by parseDicom and sits in the element's Value.
    transferSyntax: (
      (ds.elements.x00020010 as { Value?: string } | undefined)?.Value ??
      ds.string('x00020010') ??
      TS.implicitLE
    )
      .replace(/\0/g, '')
      .trim(),
    sopClassUid,
    seriesUid: ds.string('x0020000e') ?? '(no series UID)',
    seriesDescription: ds.string('x0008103e') ?? '',
    seriesNumber: optionalNumber(ds, 'x00200011'),
    patientId: ds.string('x00100020') ?? '',
    // Person names keep their ^ separators in DICOM; shown with spaces.
    patientName: (ds.string('x00100010') ?? '').replace(/\^+/g, ' ').trim(),
    studyUid: ds.string('x0020000d') ?? '',
    studyDate: ds.string('x00080020') ?? '',
    studyDescription: ds.string('x00081030') ?? '',
    instanceNumber: optionalNumber(ds, 'x00200013'),
    modality: ds.string('x00080060') ?? '',
    imageType: readAllStrings(ds, 'x00080008').map((t) => t.toUpperCase()),
    rows,
    columns,
    bitsAllocated: ds.uint16('x00280100') ?? 16,
    bitsStored: ds.uint16('x00280101') ?? ds.uint16('x00280100') ?? 16,
    pixelRepresentation: ds.uint16('x00280103') ?? 0,
    samplesPerPixel: ds.uint16('x00280002') ?? 1,
    numberOfFrames: Math.max(1, ds.intString('x00280008') ?? 1),
    orientation: numbers(ds, 'x00200037'),
    positionMm: numbers(ds, 'x00200032'),
    pixelSpacingMm: numbers(ds, 'x00280030'),
    sliceThicknessMm: optionalNumber(ds, 'x00180050'),
    rescaleSlope: slope ?? 1,
    rescaleIntercept: intercept ?? 0,
    hasPixelData:
      ds.elements.x7fe00010 !== undefined || ds.elements.x7fe00008 !== undefined || ds.elements.x7fe00009 !== undefined,
  };
}

function readAllStrings(ds: DataSet, tag: string): string[] {
  const n = ds.numStringValues(tag) ?? 0;
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(ds.string(tag, i) ?? '');
  return out;
}

export function isLocalizer(s: DicomSliceInfo): boolean {
  return s.imageType.includes('LOCALIZER');
}
