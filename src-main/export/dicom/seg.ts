// DICOM SEG export (binary Segmentation IOD, PS3.3 A.51) of a label map on its DICOM series' grid:
// one segment per non-empty class, one frame per (segment, slice that holds it), geometry in the
// shared (orientation, pixel measures) and per-frame (plane position) functional groups.
import { writeFileAtomic } from '../../util/atomic';
import type { LabelSchema } from '../../labels/schemas';
import { segmentCoding, type CodedConcept } from '../../labels/schemas';
import type { Volume } from '../../imaging/volume';
import { assertSameGrid } from '../grid';
import { srgbToDicomLab } from './cielab';
import { matchSourceInstances, packFrames, slicePositionMm, slicePresence, type SegFrame } from './seg-frames';
import type { SourceSeriesRef } from './source-ref';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, isValidUid, newUid } from './uid';
import { el, encodeDicomFile, type DicomElement, type DicomItem } from './writer';

export const SEGMENTATION_STORAGE_UID = '1.2.840.10008.5.1.4.1.1.66.4';

export type SegmentAlgorithmType = 'MANUAL' | 'SEMIAUTOMATIC' | 'AUTOMATIC';

export interface DicomSegOptions {
  schema: LabelSchema;
  /** MANUAL: drawn by hand; SEMIAUTOMATIC: an AI pre-label corrected by an annotator. */
  algorithmType: SegmentAlgorithmType;
  /** The model (name + version) behind a SEMIAUTOMATIC or AUTOMATIC segmentation; required for those. */
  algorithmName?: string;
  seriesDescription?: string;
  seriesNumber?: number;
  /** Who made the segmentation, as a DICOM person name ("Family^Given"). */
  contentCreatorName?: string;
  softwareVersion?: string;
  /** ContentDescription (0070,0081): e.g. the model id and version that made the label. */
  contentDescription?: string;
  /** Fixed UIDs and time make the output reproducible (tests); fresh ones are made when absent. */
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
  now?: Date;
}

export interface DicomSegSummary {
  sopInstanceUid: string;
  seriesInstanceUid: string;
  segments: { number: number; classValue: number; label: string; frames: number }[];
  frames: number;
  bytes: number;
}

const code = (c: CodedConcept): DicomItem => [
  el(0x00080100, 'SH', c.value),
  el(0x00080102, 'SH', c.scheme),
  el(0x00080104, 'LO', c.meaning),
];
const DCM = (value: string, meaning: string): CodedConcept => ({ value, scheme: 'DCM', meaning });

/** LO values hold at most 64 characters; longer free text (model names, descriptions) is cut. */
const lo = (text: string): string => [...text].slice(0, 64).join('');

const pad2 = (n: number): string => String(n).padStart(2, '0');
const dicomDate = (d: Date): string => `${d.getFullYear()}${pad2(d.getMonth() + 1)}${pad2(d.getDate())}`;
const dicomTime = (d: Date): string => `${pad2(d.getHours())}${pad2(d.getMinutes())}${pad2(d.getSeconds())}`;

function checkSource(source: SourceSeriesRef, what: string): void {
  for (const [name, uid] of [
    ['study instance UID', source.studyInstanceUid],
    ['series instance UID', source.seriesInstanceUid],
    ['frame of reference UID', source.frameOfReferenceUid],
  ] as const) {
    if (!isValidUid(uid)) throw new Error(`${what}: the source series' ${name} "${uid}" is not a valid DICOM UID`);
  }
  if (source.instances.length === 0) throw new Error(`${what}: the source series lists no images`);
  for (const inst of source.instances) {
    if (!isValidUid(inst.sopInstanceUid) || !isValidUid(inst.sopClassUid)) {
      throw new Error(`${what}: source image "${inst.sopInstanceUid}" has an invalid SOP instance or class UID`);
    }
  }
}

/** The Segment Sequence item of one class. */
function segmentItem(number: number, schema: LabelSchema, classValue: number, opts: DicomSegOptions): DicomItem {
  const cls = schema.classes.find((c) => c.value === classValue);
  if (!cls) throw new Error(`class ${classValue} is not in schema ${schema.name}`);
  const coding = segmentCoding(schema, classValue);
  const item: DicomItem = [
    el(0x00620003, 'SQ', [code(coding.category)]),
    el(0x00620004, 'US', number),
    el(0x00620005, 'LO', cls.name),
    el(0x00620008, 'CS', opts.algorithmType),
    el(0x0062000d, 'US', srgbToDicomLab(cls.color)),
    el(0x0062000f, 'SQ', [code(coding.type)]),
  ];
  if (opts.algorithmType !== 'MANUAL') item.push(el(0x00620009, 'LO', lo(opts.algorithmName ?? '')));
  if (coding.anatomicRegion) item.push(el(0x00082218, 'SQ', [code(coding.anatomicRegion)]));
  return item;
}

/** `positionIndex` numbers the distinct plane positions used by the frames, 1-based, in slice order. */
function perFrameItem(f: SegFrame, positionIndex: number): DicomItem {
  return [
    el(0x00089124, 'SQ', [
      [
        el(0x00082112, 'SQ', [
          [
            el(0x00081150, 'UI', f.source.sopClassUid),
            el(0x00081155, 'UI', f.source.sopInstanceUid),
            el(0x0040a170, 'SQ', [code(DCM('121322', 'Source image for image processing operation'))]),
          ],
        ]),
        el(0x00089215, 'SQ', [code(DCM('113076', 'Segmentation'))]),
      ],
    ]),
    el(0x00209111, 'SQ', [[el(0x00209157, 'UL', [f.segmentNumber, positionIndex])]]),
    el(0x00209113, 'SQ', [[el(0x00200032, 'DS', f.positionMm)]]),
    el(0x0062000a, 'SQ', [[el(0x0062000b, 'US', f.segmentNumber)]]),
  ];
}

/**
 * Builds the SEG as Part 10 bytes. `label` must lie on `image`'s grid and `image` must be the volume
 * read from `source` (every label slice is matched to a source image by position).
 */
export function encodeDicomSeg(
  label: Volume,
  image: Volume,
  source: SourceSeriesRef,
  opts: DicomSegOptions,
  what = 'DICOM SEG export',
): { bytes: Uint8Array; summary: DicomSegSummary } {
  assertSameGrid(what, label, image);
  checkSource(source, what);
  if (opts.algorithmType !== 'MANUAL' && !opts.algorithmName) {
    throw new Error(
      `${what}: a ${opts.algorithmType} segmentation needs the algorithm's name (the model that pre-labelled it)`,
    );
  }
  const [ni, nj, nk] = label.dims;
  if (ni > 65535 || nj > 65535) throw new Error(`${what}: ${ni}×${nj} slices are too large for DICOM`);
  const instances = matchSourceInstances(label, source, what);
  const classValues = opts.schema.classes.map((c) => c.value).sort((a, b) => a - b);
  const { presence, width } = slicePresence(label, new Set(classValues), what);

  const frames: SegFrame[] = [];
  const segments: DicomSegSummary['segments'] = [];
  for (const classValue of classValues) {
    const number = segments.length + 1;
    let count = 0;
    for (let k = 0; k < nk; k++) {
      if (!presence[k * width + classValue]) continue;
      frames.push({
        segmentNumber: number,
        classValue,
        slice: k,
        positionMm: slicePositionMm(label, k),
        source: instances[k],
      });
      count++;
    }
    if (count > 0)
      segments.push({
        number,
        classValue,
        label: opts.schema.classes.find((c) => c.value === classValue)!.name,
        frames: count,
      });
  }
  if (frames.length === 0)
    throw new Error(`${what}: the label is empty; a DICOM SEG needs at least one labelled voxel`);

  // Dimension index values count the distinct positions present, not all slices of the volume.
  const usedSlices = [...new Set(frames.map((f) => f.slice))].sort((a, b) => a - b);
  const positionIndex = new Map(usedSlices.map((k, n) => [k, n + 1]));
  const now = opts.now ?? new Date();
  const sopInstanceUid = opts.sopInstanceUid ?? newUid();
  const seriesInstanceUid = opts.seriesInstanceUid ?? newUid();
  const dimensionOrganizationUid = newUid();
  const d = label.direction;
  const referencedInstances: DicomItem[] = [...new Map(instances.map((i) => [i.sopInstanceUid, i])).values()].map(
    (i) => [el(0x00081150, 'UI', i.sopClassUid), el(0x00081155, 'UI', i.sopInstanceUid)],
  );

  const ds: DicomElement[] = [
    el(0x00080005, 'CS', 'ISO_IR 192'),
    el(0x00080008, 'CS', ['DERIVED', 'PRIMARY']),
    el(0x00080016, 'UI', SEGMENTATION_STORAGE_UID),
    el(0x00080018, 'UI', sopInstanceUid),
    el(0x00080020, 'DA', source.studyDate ?? ''),
    el(0x00080023, 'DA', dicomDate(now)),
    el(0x00080030, 'TM', source.studyTime ?? ''),
    el(0x00080033, 'TM', dicomTime(now)),
    el(0x00080050, 'SH', source.accessionNumber ?? ''),
    el(0x00080060, 'CS', 'SEG'),
    el(0x00080070, 'LO', 'DeformUX'),
    el(0x00080090, 'PN', source.referringPhysicianName ?? ''),
    el(0x0008103e, 'LO', lo(opts.seriesDescription ?? `Segmentation (${opts.schema.title})`)),
    el(0x00081090, 'LO', 'DeformUX Annotator'),
    el(0x00081115, 'SQ', [[el(0x0008114a, 'SQ', referencedInstances), el(0x0020000e, 'UI', source.seriesInstanceUid)]]),
    el(0x00100010, 'PN', source.patientName ?? ''),
    el(0x00100020, 'LO', source.patientId ?? ''),
    el(0x00100030, 'DA', source.patientBirthDate ?? ''),
    el(0x00100040, 'CS', source.patientSex ?? ''),
    el(0x00181000, 'LO', '0'),
    el(0x00181020, 'LO', opts.softwareVersion ?? '1'),
    el(0x0020000d, 'UI', source.studyInstanceUid),
    el(0x0020000e, 'UI', seriesInstanceUid),
    el(0x00200010, 'SH', source.studyId ?? ''),
    el(0x00200011, 'IS', opts.seriesNumber ?? 300),
    el(0x00200013, 'IS', 1),
    el(0x00200052, 'UI', source.frameOfReferenceUid),
    el(0x00201040, 'LO', ''),
    el(0x00209221, 'SQ', [[el(0x00209164, 'UI', dimensionOrganizationUid)]]),
    el(0x00209222, 'SQ', [
      [
        el(0x00209164, 'UI', dimensionOrganizationUid),
        el(0x00209165, 'AT', 0x0062000b),
        el(0x00209167, 'AT', 0x0062000a),
        el(0x00209421, 'LO', 'Segment Number'),
      ],
      [
        el(0x00209164, 'UI', dimensionOrganizationUid),
        el(0x00209165, 'AT', 0x00200032),
        el(0x00209167, 'AT', 0x00209113),
        el(0x00209421, 'LO', 'Image Position Patient'),
      ],
    ]),
    el(0x00280002, 'US', 1),
    el(0x00280004, 'CS', 'MONOCHROME2'),
    el(0x00280008, 'IS', frames.length),
    el(0x00280010, 'US', nj),
    el(0x00280011, 'US', ni),
    el(0x00280100, 'US', 1),
    el(0x00280101, 'US', 1),
    el(0x00280102, 'US', 0),
    el(0x00280103, 'US', 0),
    el(0x00282110, 'CS', '00'),
    el(0x00620001, 'CS', 'BINARY'),
    el(
      0x00620002,
      'SQ',
      segments.map((s) => segmentItem(s.number, opts.schema, s.classValue, opts)),
    ),
    el(0x00700080, 'CS', 'SEGMENTATION'),
    el(0x00700081, 'LO', lo(opts.contentDescription ?? `${opts.schema.title} label map`)),
    el(0x00700084, 'PN', opts.contentCreatorName ?? ''),
    el(0x52009229, 'SQ', [
      [
        // Rows run along j and columns along i: orientation is (i axis, j axis), spacing (row, column).
        el(0x00209116, 'SQ', [[el(0x00200037, 'DS', [d[0], d[1], d[2], d[3], d[4], d[5]])]]),
        el(0x00289110, 'SQ', [
          [
            el(0x00180050, 'DS', label.spacingMm[2]),
            el(0x00180088, 'DS', label.spacingMm[2]),
            el(0x00280030, 'DS', [label.spacingMm[1], label.spacingMm[0]]),
          ],
        ]),
      ],
    ]),
    el(
      0x52009230,
      'SQ',
      frames.map((f) => perFrameItem(f, positionIndex.get(f.slice)!)),
    ),
    el(0x7fe00010, 'OB', packFrames(label, frames)),
  ];
  const bytes = encodeDicomFile(
    {
      sopClassUid: SEGMENTATION_STORAGE_UID,
      sopInstanceUid,
      implementationClassUid: IMPLEMENTATION_CLASS_UID,
      implementationVersionName: IMPLEMENTATION_VERSION_NAME,
    },
    ds,
  );
  return {
    bytes,
    summary: { sopInstanceUid, seriesInstanceUid, segments, frames: frames.length, bytes: bytes.length },
  };
}

/** Writes the SEG atomically to `path` (see encodeDicomSeg for the checks). */
export async function exportDicomSeg(
  path: string,
  label: Volume,
  image: Volume,
  source: SourceSeriesRef,
  opts: DicomSegOptions,
): Promise<DicomSegSummary> {
  const { bytes, summary } = encodeDicomSeg(label, image, source, opts, path);
  await writeFileAtomic(path, bytes);
  return summary;
}
