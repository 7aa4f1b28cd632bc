// Checks that a label map lies exactly on its image's voxel grid before anything is exported.
import type { Volume } from '../imaging/volume';

/** Spacing, origin (mm) and direction cosines may differ by at most this much. */
export const GRID_TOLERANCE = 1e-4;

type Grid = Pick<Volume, 'dims' | 'spacingMm' | 'originMm' | 'direction'>;

const fmt = (v: readonly number[]): string => `(${v.map((x) => Number(x.toFixed(6))).join(', ')})`;

/** Why `label` is not on `image`'s grid, or null when it is. */
export function gridMismatch(label: Grid, image: Grid, tolerance = GRID_TOLERANCE): string | null {
  if (label.dims.some((n, a) => n !== image.dims[a])) {
    return `the label is ${label.dims.join('×')} voxels but the image is ${image.dims.join('×')}`;
  }
  const far = (x: readonly number[], y: readonly number[]): boolean =>
    x.some((v, p) => !(Math.abs(v - y[p]) <= tolerance));
  if (far(label.spacingMm, image.spacingMm)) {
    return `the label's voxel spacing ${fmt(label.spacingMm)} mm differs from the image's ${fmt(image.spacingMm)} mm`;
  }
  if (far(label.originMm, image.originMm)) {
    return `the label's origin ${fmt(label.originMm)} mm differs from the image's ${fmt(image.originMm)} mm`;
  }
  if (far(label.direction, image.direction)) {
    return `the label's orientation ${fmt(label.direction)} differs from the image's ${fmt(image.direction)}`;
  }
  return null;
}

/** Throws a clear error naming `what` when the label is not on the image's grid. */
export function assertSameGrid(what: string, label: Grid, image: Grid): void {
  const why = gridMismatch(label, image);
  if (why) throw new Error(`${what}: refusing to export a label that is not on its image's grid: ${why}`);
}

/** Throws unless every voxel of the label map is a whole number in 0..255 (what label files store). */
export function assertLabelValues(what: string, label: Volume): void {
  const data = label.data;
  if (data instanceof Uint8Array) return;
  for (let p = 0; p < data.length; p++) {
    const v = data[p];
    if (!(v >= 0 && v <= 255 && Number.isInteger(v))) {
      throw new Error(
        `${what}: the label holds the value ${v} at voxel ${p}; label values must be whole numbers 0..255`,
      );
    }
  }
}

/** The label as uint8 (a view when it already is), ready to be written as a label file. */
export function asUint8Label(label: Volume): Volume {
  if (label.data instanceof Uint8Array) return label;
  return { ...label, data: Uint8Array.from(label.data as ArrayLike<number>) };
}
