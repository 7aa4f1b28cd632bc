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

/**
 * Voxels the 3D view holds at most: a 512×512×300 CT's labels (78.6 M) are shown at 256×256×300 (19.7 M), a
 * quarter of the texture and of the ray casting, at a resolution a whole-organ view does not miss.
 */
export const MAX_3D_VOXELS = 1 << 25;

/** The in-plane factor (1, 2, 3, ...) that brings `dims` under `budget` voxels; slices are never merged. */
export function inPlaneFactor(dims: readonly [number, number, number], budget = MAX_3D_VOXELS): number {
  let f = 1;
  while (Math.ceil(dims[0] / f) * Math.ceil(dims[1] / f) * dims[2] > budget && f < Math.max(dims[0], dims[1])) f++;
  return f;
}

/**
 * Slice `k` of `src` (ni×nj voxels a slice) shrunk by `f` in plane into slice `k` of `out`: each output voxel
 * takes the highest label value of its f×f block (a lesion, numbered after its organ, is never lost to it).
 */
export function shrinkSlice(src: Uint8Array, ni: number, nj: number, k: number, f: number, out: Uint8Array): void {
  const mi = Math.ceil(ni / f);
  const mj = Math.ceil(nj / f);
  const s0 = k * ni * nj;
  const o0 = k * mi * mj;
  out.fill(0, o0, o0 + mi * mj);
  for (let j = 0; j < nj; j++) {
    const row = s0 + j * ni;
    const orow = o0 + Math.floor(j / f) * mi;
    for (let i = 0; i < ni; i++) {
      const v = src[row + i];
      const o = orow + Math.floor(i / f);
      if (v > out[o]) out[o] = v;
    }
  }
}

/**
 * The grid of labels shrunk by `f` in plane: voxels f times wider, the first one's centre in the middle of the
 * first f×f block (so the shrunk volume covers the same extent in patient space).
 */
export function shrunkGrid<
  H extends {
    dims: [number, number, number];
    spacingMm: [number, number, number];
    originMm: number[];
    direction: number[];
  },
>(header: H, f: number): H {
  if (f === 1) return header;
  const [si, sj, sk] = header.spacingMm;
  const d = header.direction;
  const shift = [(si * (f - 1)) / 2, (sj * (f - 1)) / 2];
  const originMm = [0, 1, 2].map((a) => header.originMm[a] + d[a] * shift[0] + d[3 + a] * shift[1]) as [
    number,
    number,
    number,
  ];
  return {
    ...header,
    dims: [Math.ceil(header.dims[0] / f), Math.ceil(header.dims[1] / f), header.dims[2]],
    spacingMm: [si * f, sj * f, sk],
    originMm,
  };
}
