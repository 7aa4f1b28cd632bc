// A native (non-contrast) real CT given contrast enhancement inside its organ labels: a semi-real enhanced scan for
// evaluation. The scan keeps its own texture, noise, fat and partial volume; only the labelled organs' HU move to
// a contrast phase's (published means, rounded), with the kidney's cortex and medulla apart as in the
// corticomedullary and portal-venous phases. The shared real CT is native, the annotation queues mostly enhanced,
// and the project has no labelled enhanced kidney: this is the closest test of enhanced kidneys with real texture.
// Anatomy and image are the shared CT's patient (seen anatomy for the starters); the phantom generator is not used.
import { faceNeighbours } from '../imaging/volume';
import type { Volume } from '../imaging/volume';

export type EnhancePhase = 'arterial' | 'portal' | 'nephrographic';
export const ENHANCE_PHASES: readonly EnhancePhase[] = ['arterial', 'portal', 'nephrographic'];

/** TotalSegmentator (v2) classes given contrast, by role. */
const TS = {
  spleen: 1,
  rightKidney: 2,
  leftKidney: 3,
  liver: 5,
  pancreas: 7,
  adrenals: [8, 9],
  bowel: [6, 18, 19, 20],
  aorta: 52,
  ivc: 63,
  portalVein: 64,
  muscles: [86, 87, 88, 89],
} as const;

/** Target HU per phase: kidney cortex, medulla, spleen, liver, pancreas, aorta, IVC, portal/splenic vein. */
interface PhaseHu {
  cortex: number;
  medulla: number;
  spleen: number;
  liver: number;
  pancreas: number;
  aorta: number;
  ivc: number;
  portalVein: number;
  /** Added to bowel and stomach wall (mucosal enhancement), not to gas or fat. */
  bowelWall: number;
}

const PHASE_HU: Record<EnhancePhase, PhaseHu> = {
  // Corticomedullary (late arterial, ~35 s): bright cortex, dark medulla.
  arterial: {
    cortex: 200,
    medulla: 75,
    spleen: 130,
    liver: 75,
    pancreas: 125,
    aorta: 330,
    ivc: 70,
    portalVein: 140,
    bowelWall: 45,
  },
  // Portal-venous (~70 s): cortex ahead of the medulla.
  portal: {
    cortex: 175,
    medulla: 125,
    spleen: 115,
    liver: 100,
    pancreas: 100,
    aorta: 170,
    ivc: 150,
    portalVein: 175,
    bowelWall: 35,
  },
  // Nephrographic (~100 s): the kidney almost uniform.
  nephrographic: {
    cortex: 165,
    medulla: 160,
    spleen: 105,
    liver: 95,
    pancreas: 90,
    aorta: 140,
    ivc: 135,
    portalVein: 140,
    bowelWall: 30,
  },
};

/** Kidney voxels this deep (mm from the kidney's surface) or less are cortex. */
export const CORTEX_DEPTH_MM = 6;
/**
 * Share of the added HU an unlabelled voxel one and two voxels outside a labelled organ takes (partial volume): a
 * flat organ edge at a voxel face, blurred by a Gaussian of σ 0.6 voxel (a CT's point spread at its own spacing),
 * reads 0.2 one voxel out and 0.006 two out.
 */
const EDGE_WEIGHTS = [0.2, 0.006];
/** Added HU fade out below this HU (fat, gas) and are full above FULL_HU. */
const FAT_HU = -60;
const FULL_HU = 10;
const ADRENAL_HU = 60;
const MUSCLE_ADD_HU = 12;

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = Float64Array.from(values).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Depth of each voxel of `mask` in voxels along the 6-neighbourhood (1 at the surface, 0 outside), capped at `cap`;
 * voxels on the grid's faces are as deep as their distance from the nearest voxel outside the mask.
 */
function maskDepth(mask: Uint8Array, dims: readonly [number, number, number], cap: number): Uint8Array {
  const depth = new Uint8Array(mask.length);
  let frontier: number[] = [];
  for (let q = 0; q < mask.length; q++) {
    if (!mask[q]) continue;
    // The grid's own faces are not the organ's surface: an organ cut by the scan's ends goes on beyond them.
    if (faceNeighbours(q, dims).some((r) => !mask[r])) {
      depth[q] = 1;
      frontier.push(q);
    }
  }
  for (let d = 2; d <= cap && frontier.length; d++) {
    const next: number[] = [];
    for (const q of frontier)
      for (const r of faceNeighbours(q, dims)) {
        if (!mask[r] || depth[r]) continue;
        depth[r] = d;
        next.push(r);
      }
    frontier = next;
  }
  for (let q = 0; q < mask.length; q++) if (mask[q] && !depth[q]) depth[q] = cap;
  return depth;
}

/**
 * `native` (HU) with `phase`'s contrast added inside the organs of `seg` (a TotalSegmentator v2 label map on the
 * same grid). Each organ moves from its own median native HU to the phase's; the kidney's outer CORTEX_DEPTH_MM
 * to the cortex value and its inside to the medulla's. Fat inside a label (renal sinus, clefts) and gas stay as
 * they are (the added HU fades out from FULL_HU down to FAT_HU); voxels one and two voxels outside an organ take
 * EDGE_WEIGHTS of their neighbours' added HU.
 */
export function enhancedScan(native: Volume, seg: Volume, phase: EnhancePhase): Volume {
  const n = native.data.length;
  if (seg.data.length !== n || seg.dims.some((d, a) => d !== native.dims[a]))
    throw new Error(
      `enhancedScan: the labels (${seg.dims.join('×')}) are not on the scan's grid (${native.dims.join('×')})`,
    );
  const hu = PHASE_HU[phase];
  const ct = native.data;
  const lab = seg.data;
  const nativeMedian = (ids: readonly number[]): number => {
    const v: number[] = [];
    for (let q = 0; q < n; q++) if (ids.includes(lab[q])) v.push(ct[q]);
    return median(v);
  };
  const add = new Float32Array(n);
  const labelled = new Uint8Array(n);
  const set = (ids: readonly number[], target: number) => {
    const base = nativeMedian(ids);
    if (!Number.isFinite(base)) return;
    for (let q = 0; q < n; q++)
      if (ids.includes(lab[q])) {
        add[q] = target - base;
        labelled[q] = 1;
      }
  };
  // Kidneys: cortex by depth.
  const kidneyIds = [TS.rightKidney, TS.leftKidney];
  const kidney = new Uint8Array(n);
  for (let q = 0; q < n; q++) kidney[q] = kidneyIds.includes(lab[q] as 2 | 3) ? 1 : 0;
  const voxelMm = Math.cbrt(native.spacingMm[0] * native.spacingMm[1] * native.spacingMm[2]);
  const cortexVoxels = Math.max(1, Math.round(CORTEX_DEPTH_MM / voxelMm));
  const depth = maskDepth(kidney, native.dims, cortexVoxels + 1);
  const kidneyBase = nativeMedian(kidneyIds);
  if (Number.isFinite(kidneyBase))
    for (let q = 0; q < n; q++)
      if (kidney[q]) {
        add[q] = (depth[q] <= cortexVoxels ? hu.cortex : hu.medulla) - kidneyBase;
        labelled[q] = 1;
      }
  set([TS.spleen], hu.spleen);
  set([TS.liver], hu.liver);
  set([TS.pancreas], hu.pancreas);
  set([TS.aorta], hu.aorta);
  set([TS.ivc], hu.ivc);
  set([TS.portalVein], hu.portalVein);
  set(TS.adrenals, ADRENAL_HU);
  for (let q = 0; q < n; q++) {
    if ((TS.bowel as readonly number[]).includes(lab[q]) && ct[q] > -300) {
      add[q] = hu.bowelWall;
      labelled[q] = 1;
    } else if ((TS.muscles as readonly number[]).includes(lab[q])) {
      add[q] = MUSCLE_ADD_HU;
      labelled[q] = 1;
    }
  }
  // Partial volume: each ring of voxels outside the labelled organs (one, then two voxels out) carries its inner
  // neighbours' mean added HU, and takes EDGE_WEIGHTS of it.
  let inside = labelled;
  let carried = add;
  const edgeAdd = new Float32Array(n);
  for (const weight of EDGE_WEIGHTS) {
    const grown = Uint8Array.from(inside);
    const grownAdd = Float32Array.from(carried);
    for (let q = 0; q < n; q++) {
      if (inside[q]) continue;
      let sum = 0;
      let count = 0;
      for (const r of faceNeighbours(q, native.dims))
        if (inside[r]) {
          sum += carried[r];
          count++;
        }
      if (count === 0) continue;
      grown[q] = 1;
      grownAdd[q] = sum / count;
      edgeAdd[q] = weight * grownAdd[q];
    }
    inside = grown;
    carried = grownAdd;
  }
  const data = new Float32Array(n);
  for (let q = 0; q < n; q++) {
    const tissue = Math.min(1, Math.max(0, (ct[q] - FAT_HU) / (FULL_HU - FAT_HU)));
    const a = labelled[q] ? add[q] : edgeAdd[q];
    data[q] = Math.round(ct[q] + a * tissue);
  }
  return { ...native, data, description: `${native.description} (${phase} contrast added in its organ labels)` };
}
