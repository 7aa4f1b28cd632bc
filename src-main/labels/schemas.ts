// The built-in label schemas (names, values, colours) plus the DICOM coded concepts each class exports as.
// Names, values and colours live in domain/label-schemas.ts (the renderer gets them through api/contract.ts);
// this module adds the SNOMED CT codes each class is stored with in a DICOM SEG.
import { LABEL_SCHEMAS } from '../domain/label-schemas';
import type { LabelClass, LabelSchema, SchemaName } from '../domain/label-schemas';

export { LABEL_SCHEMAS };
export type { LabelClass, LabelSchema, SchemaName };

/** A DICOM code triplet (Code Value, Coding Scheme Designator, Code Meaning). */
export interface CodedConcept {
  value: string;
  scheme: string;
  meaning: string;
}

/** How one class is described in a DICOM SEG Segment Sequence item. */
export interface SegmentCoding {
  /** Segmented Property Category (DICOM CID 7150). */
  category: CodedConcept;
  /** Segmented Property Type (CID 7154 organs, CID 7159 lesions). */
  type: CodedConcept;
  /** Where a lesion sits (Anatomic Region Sequence); absent for organs, which are their own region. */
  anatomicRegion?: CodedConcept;
}

// SNOMED CT codes as used by DICOM PS3.16 (checked against CID 7150, 7154 and 7159).
const SCT = 'SCT';
export const CODES = {
  anatomicalStructure: { value: '123037004', scheme: SCT, meaning: 'Anatomical Structure' },
  morphologicallyAbnormal: { value: '49755003', scheme: SCT, meaning: 'Morphologically Abnormal Structure' },
  kidney: { value: '64033007', scheme: SCT, meaning: 'Kidney' },
  pancreas: { value: '15776009', scheme: SCT, meaning: 'Pancreas' },
  neoplasm: { value: '108369006', scheme: SCT, meaning: 'Neoplasm' },
  cyst: { value: '367643001', scheme: SCT, meaning: 'Cyst' },
} as const satisfies Record<string, CodedConcept>;

const organ = (type: CodedConcept): SegmentCoding => ({ category: CODES.anatomicalStructure, type });
const lesion = (type: CodedConcept, region: CodedConcept): SegmentCoding => ({
  category: CODES.morphologicallyAbnormal,
  type,
  anatomicRegion: region,
});

/** DICOM coding per schema and class value; every class of every built-in schema has one. */
export const SEGMENT_CODINGS: Readonly<Record<SchemaName, Readonly<Record<number, SegmentCoding>>>> = {
  kidney: {
    1: organ(CODES.kidney),
    2: lesion(CODES.neoplasm, CODES.kidney),
    3: lesion(CODES.cyst, CODES.kidney),
  },
  pancreas: {
    1: organ(CODES.pancreas),
    2: lesion(CODES.neoplasm, CODES.pancreas),
  },
};

export function labelSchema(name: SchemaName): LabelSchema {
  const schema = LABEL_SCHEMAS[name];
  if (!schema)
    throw new Error(`unknown label schema "${String(name)}" (built in: ${Object.keys(LABEL_SCHEMAS).join(', ')})`);
  return schema;
}

/** The coded concepts for one class; unknown classes fall back to a generic "Anatomical Structure". */
export function segmentCoding(schema: LabelSchema, value: number): SegmentCoding {
  const coding = SEGMENT_CODINGS[schema.name]?.[value];
  if (coding) return coding;
  return { category: CODES.anatomicalStructure, type: CODES.anatomicalStructure };
}

/** Largest class value of a schema (labels hold 0..maxValue). */
export function maxClassValue(schema: LabelSchema): number {
  return schema.classes.reduce((m, c) => Math.max(m, c.value), 0);
}
