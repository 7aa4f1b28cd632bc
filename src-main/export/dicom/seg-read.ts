// Reads a binary DICOM SEG (ours or a colleague's) back onto a case's image grid: segments are matched
// to the schema's classes by their coded property type (then by label), frames to slices by position.
import type { DataSet, Element } from 'dicom-parser';
import type { Volume } from '../../imaging/volume';
import { InputError } from '../../imaging/volume';
import { parseDicom } from '../../imaging/dicom/header';
import type { LabelSchema } from '../../labels/schemas';
import { segmentCoding } from '../../labels/schemas';
import { SEGMENTATION_STORAGE_UID } from './seg';

/** The image grid a SEG must lie on (a case header is enough). */
export type SegGrid = Pick<Volume, 'dims' | 'spacingMm' | 'originMm'> & { direction: readonly number[] };

export interface DicomSegRead {
  sopInstanceUid: string;
  seriesInstanceUid: string;
  /** The series the SEG says it segments (Referenced Series Sequence). */
  referencedSeriesUids: string[];
  contentCreatorName: string;
  contentDescription: string;
  seriesDescription: string;
  segments: { number: number; label: string; classValue: number; frames: number }[];
  /** uint8 class values on the grid, i fastest. */
  labels: Uint8Array;
}

/** In-plane direction cosines may differ by DS rounding; positions by a fraction of a voxel. */
const ORIENTATION_TOLERANCE = 1e-3;
const POSITION_TOLERANCE_VOXELS = 0.1;

const text = (ds: DataSet | undefined, tag: string): string => (ds?.string(tag) ?? '').replace(/\0/g, '').trim();
const items = (ds: DataSet | undefined, tag: string): DataSet[] =>
  ((ds?.elements[tag] as Element | undefined)?.items ?? []).map((i) => i.dataSet).filter((d): d is DataSet => !!d);
const numbers = (ds: DataSet | undefined, tag: string): number[] => {
  const n = ds?.numStringValues(tag) ?? 0;
  return Array.from({ length: n }, (_, i) => ds!.floatString(tag, i) ?? NaN);
};
/** A functional-group macro value: the frame's own group first, then the shared one. */
const fromGroups = (frame: DataSet | undefined, shared: DataSet | undefined, seq: string, tag: string): number[] => {
  const own = numbers(items(frame, seq)[0], tag);
  return own.length ? own : numbers(items(shared, seq)[0], tag);
};

function classOf(schema: LabelSchema, seg: DataSet, what: string, number: number): number {
  const type = items(seg, 'x0062000f')[0];
  const value = text(type, 'x00080100');
  const scheme = text(type, 'x00080102');
  const label = text(seg, 'x00620005');
  const byCode = schema.classes.filter((c) => {
    const coding = segmentCoding(schema, c.value).type;
    return coding.value === value && coding.scheme === scheme;
  });
  if (byCode.length === 1) return byCode[0].value;
  const byName = schema.classes.find((c) => c.name.toLowerCase() === label.toLowerCase());
  if (byName) return byName.value;
  throw new InputError(
    what,
    `segment ${number} ('${label || 'no label'}', code ${scheme}:${value}) matches no class of the ${schema.name} schema`,
  );
}

/** Decodes a binary SEG onto `grid`. Throws InputError naming `what` when it does not fit. */
export function readDicomSeg(bytes: Uint8Array, what: string, grid: SegGrid, schema: LabelSchema): DicomSegRead {
  const ds = parseDicom(bytes, what);
  const sopClass = text(ds, 'x00080016');
  if (sopClass !== SEGMENTATION_STORAGE_UID)
    throw new InputError(what, `is not a DICOM SEG (SOP class ${sopClass || 'missing'})`);
  const transferSyntax = text(ds, 'x00020010');
  if (transferSyntax && !['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'].includes(transferSyntax))
    throw new InputError(what, `SEG in transfer syntax ${transferSyntax} is not supported (uncompressed only)`);
  if (text(ds, 'x00620001') !== 'BINARY' || ds.uint16('x00280100') !== 1)
    throw new InputError(
      what,
      `only BINARY segmentations (1 bit per pixel) are supported, not ${text(ds, 'x00620001') || 'unknown'}`,
    );
  const rows = ds.uint16('x00280010') ?? 0;
  const columns = ds.uint16('x00280011') ?? 0;
  const [ni, nj, nk] = grid.dims;
  if (rows !== nj || columns !== ni)
    throw new InputError(what, `frames are ${columns}×${rows} but the image slices are ${ni}×${nj}`);
  const frameCount = Number(text(ds, 'x00280008') || '1');
  const pixel = ds.elements.x7fe00010;
  if (!pixel) throw new InputError(what, 'has no pixel data');
  const framePixels = rows * columns;
  if (pixel.length * 8 < frameCount * framePixels)
    throw new InputError(what, `pixel data holds ${pixel.length} bytes, too few for ${frameCount} frames`);
  const bits = new Uint8Array(ds.byteArray.buffer, ds.byteArray.byteOffset + pixel.dataOffset, pixel.length);

  const segmentClass = new Map<number, number>();
  const segments: DicomSegRead['segments'] = [];
  for (const seg of items(ds, 'x00620002')) {
    const number = seg.uint16('x00620004') ?? 0;
    segmentClass.set(number, classOf(schema, seg, what, number));
    segments.push({ number, label: text(seg, 'x00620005'), classValue: segmentClass.get(number)!, frames: 0 });
  }
  const shared = items(ds, 'x52009229')[0];
  const perFrame = items(ds, 'x52009230');
  if (perFrame.length !== frameCount)
    throw new InputError(what, `lists ${perFrame.length} per-frame groups for ${frameCount} frames`);

  const d = grid.direction;
  const axisI = [d[0], d[1], d[2]];
  const axisJ = [d[3], d[4], d[5]];
  const axisK = [d[6], d[7], d[8]];
  const dot = (a: number[], b: number[]): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  const labels = new Uint8Array(ni * nj * nk);
  for (let f = 0; f < frameCount; f++) {
    const frame = perFrame[f];
    const orientation = fromGroups(frame, shared, 'x00209116', 'x00200037');
    if (
      orientation.length !== 6 ||
      orientation.slice(0, 3).some((x, n) => Math.abs(x - axisI[n]) > ORIENTATION_TOLERANCE) ||
      orientation.slice(3).some((x, n) => Math.abs(x - axisJ[n]) > ORIENTATION_TOLERANCE)
    )
      throw new InputError(what, `frame ${f + 1} has orientation [${orientation.join(', ')}], not the image's`);
    const position = fromGroups(frame, shared, 'x00209113', 'x00200032');
    if (position.length !== 3) throw new InputError(what, `frame ${f + 1} has no plane position`);
    const rel = position.map((x, n) => x - grid.originMm[n]);
    const offI = dot(rel, axisI) / grid.spacingMm[0];
    const offJ = dot(rel, axisJ) / grid.spacingMm[1];
    const kf = dot(rel, axisK) / grid.spacingMm[2];
    const k = Math.round(kf);
    if (
      Math.abs(offI) > POSITION_TOLERANCE_VOXELS ||
      Math.abs(offJ) > POSITION_TOLERANCE_VOXELS ||
      Math.abs(kf - k) > POSITION_TOLERANCE_VOXELS ||
      k < 0 ||
      k >= nk
    )
      throw new InputError(what, `frame ${f + 1} at [${position.join(', ')}] mm lies on no slice of the image`);
    const number = items(frame, 'x0062000a')[0]?.uint16('x0062000b') ?? 0;
    const classValue = segmentClass.get(number);
    if (classValue === undefined)
      throw new InputError(what, `frame ${f + 1} refers to segment ${number}, which is not listed`);
    segments.find((s) => s.number === number)!.frames++;
    const base = f * framePixels;
    const out = k * framePixels;
    for (let p = 0; p < framePixels; p++) {
      const bit = base + p;
      if (bits[bit >>> 3] & (1 << (bit & 7))) labels[out + p] = classValue;
    }
  }
  return {
    sopInstanceUid: text(ds, 'x00080018'),
    seriesInstanceUid: text(ds, 'x0020000e'),
    referencedSeriesUids: items(ds, 'x00081115').map((s) => text(s, 'x0020000e')),
    contentCreatorName: text(ds, 'x00700084'),
    contentDescription: text(ds, 'x00700081'),
    seriesDescription: text(ds, 'x0008103e'),
    segments,
    labels,
  };
}
