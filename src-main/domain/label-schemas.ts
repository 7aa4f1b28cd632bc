// The label schemas a project can have: names, class values and colours (labels/schemas.ts adds the DICOM codes).
// Types and plain constants only, no imports from outside src-main/domain: the renderer gets them through
// api/contract.ts too.

export type SchemaName = 'kidney' | 'pancreas';

export interface LabelClass {
  value: number;
  name: string;
  /** sRGB colour, 0..255. */
  color: [number, number, number];
}

export interface LabelSchema {
  name: SchemaName;
  title: string;
  classes: LabelClass[];
}

/** Built-in label schemas (ARCHITECTURE.md "Label schemas"): KiTS classes and MSD Task07 classes. */
export const LABEL_SCHEMAS: Readonly<Record<SchemaName, LabelSchema>> = {
  kidney: {
    name: 'kidney',
    title: 'Kidney (kidney, tumor, cyst)',
    classes: [
      { value: 1, name: 'kidney', color: [220, 90, 70] },
      { value: 2, name: 'tumor', color: [80, 200, 90] },
      { value: 3, name: 'cyst', color: [70, 130, 230] },
    ],
  },
  pancreas: {
    name: 'pancreas',
    title: 'Pancreas (pancreas, tumor)',
    classes: [
      { value: 1, name: 'pancreas', color: [230, 170, 60] },
      { value: 2, name: 'tumor', color: [80, 200, 90] },
    ],
  },
};

/**
 * Tensor axes (0 = D, 1 = H, 2 = W of the canonical RAS grid) along which a schema's models are trained mirrored,
 * and so the only axes mirror test-time augmentation may flip. W is left-right: kidney classes are not sided, so a
 * mirrored kidney is still a kidney; the pancreas is not symmetric (head right, tail left) and no schema's anatomy
 * survives an upside-down or front-to-back flip.
 */
export function mirrorAxesForSchema(schema: string): number[] {
  return schema === 'kidney' ? [2] : [];
}
