// Pure parts of the 3D label view: the per-class colour/opacity step functions of the volume rendering,
// and the slice-wise copy that tells which slices of the 3D view's label volume must be uploaded again.
import type { LabelClass } from '../../../src-main/api/contract';

/** Opacity per mm of the first class (the organ: see-through, so lesions inside it show) and of the rest. */
export const ORGAN_OPACITY_PER_MM = 0.08;
export const LESION_OPACITY_PER_MM = 0.6;

export interface TransferNodes {
  /** [label value, r, g, b] with r, g, b in 0..1. */
  colors: [number, number, number, number][];
  /** [label value, opacity per mm]. */
  opacities: [number, number][];
}

/**
 * Step functions over label values: each class value gets its legend colour and opacity on [v − 0.45, v + 0.45];
 * background (0), hidden classes and values of no class are transparent. Label values are sampled without
 * interpolation, so every sample falls on a step's flat part.
 */
export function labelTransferNodes(classes: readonly LabelClass[], hidden: ReadonlySet<number>): TransferNodes {
  const maxValue = Math.max(1, ...classes.map((c) => c.value));
  const byValue = new Map(classes.map((c) => [c.value, c]));
  const organ = Math.min(...classes.map((c) => c.value));
  const colors: TransferNodes['colors'] = [];
  const opacities: TransferNodes['opacities'] = [];
  for (let v = 0; v <= maxValue; v++) {
    const c = byValue.get(v);
    const rgb = c ? c.color.map((x) => x / 255) : [0, 0, 0];
    const a = !c || hidden.has(v) ? 0 : v === organ ? ORGAN_OPACITY_PER_MM : LESION_OPACITY_PER_MM;
    for (const x of [v - 0.45, v + 0.45]) {
      colors.push([x, rgb[0], rgb[1], rgb[2]]);
      opacities.push([x, a]);
    }
  }
  return { colors, opacities };
}

/** Copies the slices of `source` that differ from `target` into it; returns their indices (slice = last axis). */
export function copyChangedSlices(target: Uint8Array, source: Uint8Array, sliceLength: number): number[] {
  if (target.length !== source.length) {
    throw new Error(`the 3D view holds ${target.length} label voxels, the new labels have ${source.length}`);
  }
  // Compared four voxels at a time where the layout allows (a 512×512×300 map: ~4× faster than bytes).
  const words = sliceLength % 4 === 0 && target.byteOffset % 4 === 0 && source.byteOffset % 4 === 0;
  const t32 = words ? new Uint32Array(target.buffer, target.byteOffset, target.length >> 2) : null;
  const s32 = words ? new Uint32Array(source.buffer, source.byteOffset, source.length >> 2) : null;
  const changed: number[] = [];
  for (let start = 0, k = 0; start < source.length; start += sliceLength, k++) {
    const end = Math.min(source.length, start + sliceLength);
    if (t32 && s32 ? differs(t32, s32, start >> 2, end >> 2) : differs(target, source, start, end)) {
      target.set(source.subarray(start, end), start);
      changed.push(k);
    }
  }
  return changed;
}

function differs(a: Uint8Array | Uint32Array, b: Uint8Array | Uint32Array, start: number, end: number): boolean {
  for (let n = start; n < end; n++) if (a[n] !== b[n]) return true;
  return false;
}
