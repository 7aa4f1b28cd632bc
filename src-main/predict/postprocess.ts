// Light, switchable post-processing that anatomy justifies, applied to the label on its own grid:
// drop tiny islands and organ bodies denser than any organ (bone, a contrast-filled artery), keep at most N organ
// bodies (2 kidneys, 1 pancreas), keep lesions only inside
// or touching their organ, drop an organ far smaller than any adult's that lies wholly inside the scan, and read
// an organ body that is mostly "lesion" as organ. Removed voxels become background.
//
// One connected-components pass over all foreground classes together: a component is an organ
// body with the lesions it touches. A lesion touches its organ exactly when its component holds
// organ voxels (a lesion component is maximal, so anything else it touches is organ).
import type { Vec3 } from '../imaging/volume';
import { connectedComponents, eraseComponents, relabelInComponents } from './components';
import type { Components, Connectivity } from './components';

export interface PostprocessRules {
  /** Components smaller than this are removed (0 = keep all). */
  minIslandMm3: number;
  connectivity: Connectivity;
  /** Label values of the organ (kidney, pancreas). */
  organClasses: number[];
  /** Label values of lesions (tumor, cyst). */
  lesionClasses: number[];
  /**
   * Keep only the N largest organ bodies (0 = no limit), but see pieceShare. Largest by all their voxels: ranking the
   * pancreas's bodies by organ voxels plus half their lesion voxels (the network's own call, before maxLesionShare)
   * was tried on 2026-12-06. It recovered a biliary-stent phantom whose gland, eroded by the streaks, fell below a
   * false body mostly called tumour (0 -> 0.415), lost a noisy case (0.151 -> 0) and changed none of the other 78
   * held-out pancreas cases it was checked on, so it was not adopted.
   */
  maxOrganComponents: number;
  /**
   * An organ body beyond the N largest is kept when it holds at least this share of the largest body's voxels and
   * shares axial slices with it (0 or absent: off): the organ in two comparable pieces side by side, not a piece
   * and a stray island. A pancreas is one gland lying across the abdomen, but on a 3 mm scan its neck, thin where
   * it crosses the portal confluence and often fatty, can vanish: the shared real CT's own reference pancreas
   * (TotalSegmentator) is two pieces, head 312 voxels and body with tail 331, 15 mm apart across the same slices.
   * Keeping only the largest threw away half the organ there. The same scan's pre-label also has two bowel bodies
   * as large, 15 and 100 mm below the gland and sharing none of its slices: they stay removed.
   */
  pieceShare?: number;
  /**
   * The organ the other rules kept, with its lesions, is removed when it is smaller than this (mL) and touches no
   * face of the scan (0 or absent: off). An organ cut by the field of view (the first or last slice, or the edge of
   * a tight in-plane field of view) can be any size and stays. With pieceShare the kept pieces are one organ and
   * are judged together; without it each body is an organ (two kidneys). A prior from anatomy, not fitted to a scan:
   * an adult kidney is 100-200 mL (an end-stage one 30-60 mL) and a pancreas 40-100 mL (severe atrophy 20-30 mL).
   * Seen on a real chest CT angiogram with the upper abdomen and no kidney or pancreas in it (TotalSegmentator's
   * aorta-report example): the pancreas starter put 3.1 mL beside the oesophagogastric junction under the lung
   * bases, the kidney starter 2.5 mL in the heart, both as one of the bodies the count rules keep.
   */
  minOrganMl?: number;
  lesionsMustTouchOrgan: boolean;
  /**
   * An organ body (its organ voxels with the lesions they touch) whose median HU is above this is removed, before the
   * count rules rank the bodies (0 or absent: off; needs the image). No kidney or pancreas is that dense: renal cortex
   * peaks at 150-250 HU in the corticomedullary phase and the whole organ's median lies below it, a pancreas peaks at
   * 100-150 HU, and an excretory phase's dense urine is a small share of a kidney. Bone, a contrast-filled artery
   * and metal are. Seen (2026-12-07) on the unseen portal-venous upper-abdomen DICOM (no kidneys in it): the kidney
   * starter labelled 4.1 mL inside a sclerotic vertebral body (median 367 HU) as kidney, kept since it touches the
   * scan's last slice.
   */
  maxOrganMedianHu?: number;
  /**
   * A body (with some organ voxels) whose lesion classes hold more than this share of its voxels is relabelled
   * organ (0 or absent: off).
   * Measured on the shared native CT: the synth-trained kidney model outlines both kidneys (kidney with lesions
   * Dice 0.80) but calls most of each "tumor" (kidney class 0.42); a lesion that is most of its organ is far
   * more often the organ at an unfamiliar contrast than a tumour that replaced it. The share is a prior
   * (two thirds), not fitted to that scan; very large tumours then need the annotator's correction.
   */
  maxLesionShare?: number;
  /**
   * A lesion the image does not show is organ: a lesion body (connected voxels of one judged class) in an
   * unenhanced organ whose lower quartile, median and upper quartile HU all lie within this many HU of its organ's
   * (the organ voxels of the body it lies in) is relabelled organ (0 or absent: off; needs the image). The synth
   * generator (v2) draws every labelled lesion at least 20 HU from its parenchyma, since an isodense lesion is one
   * no reader can outline; this is the same idea at inference. The organ is taken at least LESION_MARGIN_MM from
   * any lesion, and compared at three quartiles, not the median alone: a predicted body that is half parenchyma and
   * half a real hypodense tumour has its median near the organ's, but its lower quartile in the tumour. Measured
   * (2026-12-06) with the kidney starter: on the shared real native CT, 59 mL of plain kidney called tumour on the
   * full scan -> 27 mL (kidney class 0.794 -> 0.881; seen anatomy), the crop 19 -> 17 mL; on held-out native synth
   * phantoms (kidney class / tumour pooled) seeds 200001-4 0.748 / 0.321 -> 0.749 / 0.292, seeds 310001-8 0.851 /
   * 0.399 -> 0.861 / 0.450, the model card's synth set 0.901 / 0.470 -> 0.902 / 0.478. Against the whole organ
   * the native tumours fell to 0.076 and 0.142 (the organ next to a big tumour is partly its rim); against the
   * organ's median alone, half-found tumours went too. Enhanced organs are not judged.
   */
  minLesionContrastHu?: number;
  /**
   * The lesion classes minLesionContrastHu judges (absent: all lesion classes). The built-in schemas name their
   * solid tumours only: a cyst is water, always darker than any parenchyma, and a small one's median is pulled
   * toward its kidney by blur.
   */
  visibilityClasses?: number[];
}

/**
 * The visibility rule judges only lesions in an unenhanced organ: an organ median above this is contrast-enhanced
 * parenchyma (kidney cortex 100-250 HU, medulla 60-180 HU, pancreas 80-130 HU), where cortex and medulla differ by
 * more than any threshold here and a tumour can match the medulla beside it (the generator's portal-venous tumour
 * is 110 HU against a 120 HU medulla). Native kidneys are 20-45 HU, a native pancreas -30-50 HU.
 */
export const VISIBILITY_MAX_ORGAN_HU = 60;

/** Fewest voxels in a lesion body and in its organ for a visibility verdict (else the lesion stays). */
const MIN_VISIBILITY_VOXELS = 8;

export interface PostprocessStats {
  components: number;
  removedComponents: number;
  removedVoxels: number;
  /** Organ bodies (with their lesions) removed by minOrganMl. */
  smallOrganBodies?: number;
  /** Organ bodies (with their lesions) removed by maxOrganMedianHu. */
  denseBodies?: number;
  /** Lesion voxels relabelled organ by maxLesionShare. */
  relabelledVoxels?: number;
  /** Lesion bodies, and their voxels, relabelled organ by minLesionContrastHu. */
  invisibleLesions?: number;
  invisibleLesionVoxels?: number;
}

export const DEFAULT_MIN_ISLAND_MM3 = 250;

/** maxOrganMedianHu of the built-in schemas (see there). */
export const MAX_ORGAN_MEDIAN_HU = 300;

/** The pancreas's pieceShare: a second piece at least half the size of the largest. */
export const PANCREAS_PIECE_SHARE = 0.5;

/** minOrganMl of the built-in schemas: well under the smallest adult organ (see minOrganMl). */
export const KIDNEY_MIN_ML = 10;
export const PANCREAS_MIN_ML = 5;

/** Rules for the built-in schemas, from class names (index = label value). */
export function rulesForClassNames(classNames: string[]): PostprocessRules | undefined {
  const lower = classNames.map((n) => n.toLowerCase());
  const organName = lower.includes('kidney') ? 'kidney' : lower.includes('pancreas') ? 'pancreas' : undefined;
  if (!organName) return undefined;
  const organClasses = lower.flatMap((n, v) => (v > 0 && n === organName ? [v] : []));
  const lesionClasses = lower.flatMap((n, v) =>
    v > 0 && (n === 'tumor' || n === 'tumour' || n === 'cyst' || n === 'lesion') ? [v] : [],
  );
  return {
    minIslandMm3: DEFAULT_MIN_ISLAND_MM3,
    connectivity: 26,
    organClasses,
    lesionClasses,
    maxOrganComponents: organName === 'kidney' ? 2 : 1,
    ...(organName === 'pancreas' ? { pieceShare: PANCREAS_PIECE_SHARE } : {}),
    minOrganMl: organName === 'kidney' ? KIDNEY_MIN_ML : PANCREAS_MIN_ML,
    lesionsMustTouchOrgan: true,
    maxOrganMedianHu: MAX_ORGAN_MEDIAN_HU,
    maxLesionShare: 2 / 3,
    minLesionContrastHu: 8,
    visibilityClasses: lower.flatMap((n, v) =>
      v > 0 && (n === 'tumor' || n === 'tumour' || n === 'lesion') ? [v] : [],
    ),
  };
}

export function rulesForSchema(schema: 'kidney' | 'pancreas'): PostprocessRules {
  return rulesForClassNames(
    schema === 'kidney' ? ['background', 'kidney', 'tumor', 'cyst'] : ['background', 'pancreas', 'tumor'],
  )!;
}

/** The q-quantile (0..1, lower nearest rank) of a histogram of integer HU offset by HIST_OFFSET; NaN when empty. */
function histQuantile(hist: Uint32Array, total: number, q: number): number {
  if (total === 0) return NaN;
  const rank = Math.floor(q * (total - 1));
  let acc = 0;
  for (let b = 0; b < hist.length; b++) {
    acc += hist[b];
    if (acc > rank) return b - HIST_OFFSET;
  }
  return NaN;
}

/** The quartiles a lesion and its organ are compared at. */
const VISIBILITY_QUANTILES = [0.25, 0.5, 0.75];

const HIST_OFFSET = 1024;
const HIST_BINS = 4096;
const histBin = (hu: number) => Math.min(HIST_BINS - 1, Math.max(0, Math.round(hu) + HIST_OFFSET));

/** A byte table over label values: 1 at each of `values`. */
function classTable(values: number[]): Uint8Array {
  const t = new Uint8Array(256);
  for (const v of values) t[v] = 1;
  return t;
}

/** The component run holding voxel (i, row) of a class stretch that starts there, by binary search over rows. */
function runAt(cc: Components, row: number, start: number): number {
  let lo = 0;
  let hi = cc.runCount;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cc.runRow[mid] < row) lo = mid + 1;
    else hi = mid;
  }
  for (let a = lo; a < cc.runCount && cc.runRow[a] === row; a++) if (cc.runStart[a] === start) return a;
  return -1;
}

/**
 * How far from every lesion voxel the organ voxels a lesion is compared with must lie. The organ voxels next to a
 * lesion are no reference: a predicted outline a voxel or two off puts the lesion's own rim there (a held-out
 * native phantom's 38 HU tumour in an 18 HU kidney had 41 HU organ voxels within 4 mm, and a 48 HU tumour in a
 * 32 HU kidney, 83 % of it found, had an organ median of 40 HU over the whole body).
 */
export const LESION_MARGIN_MM = 6;

/** Marks every voxel within `r[a]` voxels (a box) of a marked one, in place: three separable passes. */
function dilateBox(mask: Uint8Array, dims: Vec3, r: Vec3): void {
  const [ni, nj, nk] = dims;
  const strides = [1, ni, ni * nj];
  const line = new Uint8Array(Math.max(ni, nj, nk));
  for (let axis = 0; axis < 3; axis++) {
    const len = dims[axis];
    const step = strides[axis];
    const radius = r[axis];
    if (radius <= 0) continue;
    const [a1, a2] = [0, 1, 2].filter((a) => a !== axis);
    for (let v = 0; v < dims[a2]; v++)
      for (let u = 0; u < dims[a1]; u++) {
        const base = u * strides[a1] + v * strides[a2];
        for (let x = 0; x < len; x++) line[x] = mask[base + x * step];
        // Distance to the last marked voxel behind, then ahead.
        let last = -Infinity;
        for (let x = 0; x < len; x++) {
          if (line[x]) last = x;
          if (x - last <= radius) mask[base + x * step] = 1;
        }
        last = Infinity;
        for (let x = len - 1; x >= 0; x--) {
          if (line[x]) last = x;
          if (last - x <= radius) mask[base + x * step] = 1;
        }
      }
  }
}

/** Per body that holds a judged lesion: its organ's median HU, and the quartiles of its organ away from lesions. */
function organReferences(
  bodies: Components,
  image: ArrayLike<number>,
  spacingMm: Vec3,
  isOrgan: Uint8Array,
  isLesion: Uint8Array,
  isJudged: Uint8Array,
): Map<number, { median: number; quartiles: number[] }> {
  const [ni, nj] = bodies.dims;
  const r = spacingMm.map((s) => Math.max(1, Math.round(LESION_MARGIN_MM / s))) as Vec3;
  const byBody = new Map<number, number[]>();
  for (let a = 0; a < bodies.runCount; a++)
    if (isJudged[bodies.runClass[a]] && !byBody.has(bodies.runComp[a])) byBody.set(bodies.runComp[a], []);
  for (let a = 0; a < bodies.runCount; a++) byBody.get(bodies.runComp[a])?.push(a);
  const all = new Uint32Array(HIST_BINS);
  const far = new Uint32Array(HIST_BINS);
  const out = new Map<number, { median: number; quartiles: number[] }>();
  for (const [body, runs] of byBody) {
    // The body's box, and its lesion voxels grown by the margin within it.
    const lo = [Infinity, Infinity, Infinity];
    const hi = [-1, -1, -1];
    for (const a of runs) {
      const j = bodies.runRow[a] % nj;
      const k = (bodies.runRow[a] - j) / nj;
      lo[0] = Math.min(lo[0], bodies.runStart[a]);
      hi[0] = Math.max(hi[0], bodies.runEnd[a]);
      lo[1] = Math.min(lo[1], j);
      hi[1] = Math.max(hi[1], j);
      lo[2] = Math.min(lo[2], k);
      hi[2] = Math.max(hi[2], k);
    }
    const bd = [0, 1, 2].map((x) => hi[x] - lo[x] + 1) as Vec3;
    const near = new Uint8Array(bd[0] * bd[1] * bd[2]);
    const local = (a: number) => {
      const j = bodies.runRow[a] % nj;
      const k = (bodies.runRow[a] - j) / nj;
      return bd[0] * (j - lo[1] + bd[1] * (k - lo[2])) - lo[0];
    };
    for (const a of runs)
      if (isLesion[bodies.runClass[a]]) near.fill(1, local(a) + bodies.runStart[a], local(a) + bodies.runEnd[a] + 1);
    dilateBox(near, bd, r);
    all.fill(0);
    far.fill(0);
    let nAll = 0;
    let nFar = 0;
    for (const a of runs) {
      if (!isOrgan[bodies.runClass[a]]) continue;
      const row = bodies.runRow[a] * ni;
      const l = local(a);
      for (let i = bodies.runStart[a]; i <= bodies.runEnd[a]; i++) {
        const b = histBin(image[row + i]);
        all[b]++;
        nAll++;
        if (!near[l + i]) {
          far[b]++;
          nFar++;
        }
      }
    }
    if (nAll < MIN_VISIBILITY_VOXELS) continue;
    const [ref, n] = nFar >= MIN_VISIBILITY_VOXELS ? [far, nFar] : [all, nAll];
    out.set(body, {
      median: histQuantile(all, nAll, 0.5),
      quartiles: VISIBILITY_QUANTILES.map((q) => histQuantile(ref, n, q)),
    });
  }
  return out;
}

/**
 * The minLesionContrastHu rule: each lesion body (per judged class, 26-connected) against its organ: the organ
 * voxels, at least LESION_MARGIN_MM from any lesion, of the body it lies in (organ and lesions connected; all of
 * the body's organ voxels when too few are that far). Relabels the invisible ones organ in place. `image` is HU
 * on the label's grid.
 */
export function relabelInvisibleLesions(
  label: Uint8Array,
  dims: Vec3,
  spacingMm: Vec3,
  image: ArrayLike<number>,
  rules: Pick<PostprocessRules, 'organClasses' | 'lesionClasses' | 'minLesionContrastHu' | 'visibilityClasses'>,
): { lesions: number; voxels: number } {
  const minContrast = rules.minLesionContrastHu ?? 0;
  const organ = rules.organClasses[0];
  const judged = rules.visibilityClasses ?? rules.lesionClasses;
  if (!(minContrast > 0) || organ === undefined || judged.length === 0) return { lesions: 0, voxels: 0 };
  if (image.length !== label.length)
    throw new Error(`lesion visibility: image of ${image.length} voxels for a label of ${label.length}`);
  const ni = dims[0];
  const isJudged = classTable(judged);
  // Most scans have no judged lesion at all: one pass to find out, instead of the component passes.
  let any = false;
  for (let n = 0; n < label.length && !any; n++) any = isJudged[label[n]] === 1;
  if (!any) return { lesions: 0, voxels: 0 };
  const isOrgan = classTable(rules.organClasses);
  const isLesion = classTable(rules.lesionClasses);
  const bodies = connectedComponents(label, dims, classTable([...rules.organClasses, ...rules.lesionClasses]), 26);
  const refs = organReferences(bodies, image, spacingMm, isOrgan, isLesion, isJudged);

  const lesionHist = new Uint32Array(HIST_BINS);
  let lesions = 0;
  let voxels = 0;
  for (const cls of judged) {
    const only = classTable([cls]);
    const cc = connectedComponents(label, dims, only, 26);
    if (cc.count === 0) continue;
    // Runs grouped by component (stable), so each lesion body is read on its own.
    const order = Array.from({ length: cc.runCount }, (_, a) => a).sort(
      (a, b) => cc.runComp[a] - cc.runComp[b] || a - b,
    );
    const invisible = new Uint8Array(cc.count);
    let found = 0;
    for (let first = 0; first < order.length;) {
      const comp = cc.runComp[order[first]];
      let last = first;
      lesionHist.fill(0);
      let n = 0;
      for (; last < order.length && cc.runComp[order[last]] === comp; last++) {
        const a = order[last];
        const row = cc.runRow[a] * ni;
        for (let i = cc.runStart[a]; i <= cc.runEnd[a]; i++) lesionHist[histBin(image[row + i])]++;
        n += cc.runEnd[a] - cc.runStart[a] + 1;
      }
      const a0 = order[first];
      const bodyRun = runAt(bodies, cc.runRow[a0], cc.runStart[a0]);
      const ref = bodyRun >= 0 ? refs.get(bodies.runComp[bodyRun]) : undefined;
      // An unenhanced organ (its median) and a lesion whose quartiles all lie within minContrast of the organ's.
      if (n >= MIN_VISIBILITY_VOXELS && ref !== undefined && ref.median <= VISIBILITY_MAX_ORGAN_HU) {
        const shown = VISIBILITY_QUANTILES.some(
          (q, k) => Math.abs(histQuantile(lesionHist, n, q) - ref.quartiles[k]) >= minContrast,
        );
        if (!shown) {
          invisible[comp] = 1;
          found++;
        }
      }
      first = last;
    }
    if (found > 0) {
      voxels += relabelInComponents(label, cc, invisible, only, organ);
      lesions += found;
    }
  }
  return { lesions, voxels };
}

/** Each component's first and last index along `axis` (0: i, 1: j, 2: k). */
function extentsAlong(cc: Components, axis: 0 | 1 | 2): { lo: Int32Array; hi: Int32Array } {
  const lo = new Int32Array(cc.count).fill(2 ** 31 - 1);
  const hi = new Int32Array(cc.count).fill(-1);
  const nj = cc.dims[1];
  for (let a = 0; a < cc.runCount; a++) {
    const c = cc.runComp[a];
    const row = cc.runRow[a];
    const first = axis === 0 ? cc.runStart[a] : axis === 1 ? row % nj : Math.floor(row / nj);
    const last = axis === 0 ? cc.runEnd[a] : first;
    if (first < lo[c]) lo[c] = first;
    if (last > hi[c]) hi[c] = last;
  }
  return { lo, hi };
}

/**
 * The maxOrganMedianHu rule over the organ bodies not yet marked in `remove`: marks those whose median HU (all their
 * voxels, organ and lesion) is above the limit. Returns how many it marked.
 */
function removeDenseBodies(
  cc: Components,
  remove: Uint8Array,
  organVoxels: Float64Array,
  image: ArrayLike<number>,
  maxHu: number,
): number {
  const hists = new Map<number, Uint32Array>();
  for (let c = 0; c < cc.count; c++) if (!remove[c] && organVoxels[c] > 0) hists.set(c, new Uint32Array(HIST_BINS));
  if (hists.size === 0) return 0;
  const ni = cc.dims[0];
  for (let a = 0; a < cc.runCount; a++) {
    const h = hists.get(cc.runComp[a]);
    if (!h) continue;
    const row = cc.runRow[a] * ni;
    for (let i = cc.runStart[a]; i <= cc.runEnd[a]; i++) h[histBin(image[row + i])]++;
  }
  let marked = 0;
  for (const [c, h] of hists)
    if (histQuantile(h, cc.voxels[c], 0.5) > maxHu) {
      remove[c] = 1;
      marked++;
    }
  return marked;
}

/**
 * The minOrganMl rule over the organ bodies not yet marked in `remove`: marks those of an organ under the volume
 * that touches no face of the grid. Returns how many bodies it marked.
 */
function removeSmallOrgans(
  cc: Components,
  remove: Uint8Array,
  organVoxels: Float64Array,
  rules: Pick<PostprocessRules, 'minOrganMl' | 'pieceShare'>,
  voxelMm3: number,
): number {
  const minMl = rules.minOrganMl ?? 0;
  if (!(minMl > 0)) return 0;
  const kept: number[] = [];
  for (let c = 0; c < cc.count; c++) if (!remove[c] && organVoxels[c] > 0) kept.push(c);
  if (kept.length === 0) return 0;
  const ext = ([0, 1, 2] as const).map((a) => extentsAlong(cc, a));
  const touchesFace = (c: number) => ext.some((e, a) => e.lo[c] === 0 || e.hi[c] === cc.dims[a] - 1);
  const minVoxels = (minMl * 1000) / voxelMm3;
  let marked = 0;
  for (const organ of (rules.pieceShare ?? 0) > 0 ? [kept] : kept.map((c) => [c])) {
    let voxels = 0;
    for (const c of organ) voxels += cc.voxels[c];
    if (voxels >= minVoxels || organ.some(touchesFace)) continue;
    for (const c of organ) remove[c] = 1;
    marked += organ.length;
  }
  return marked;
}

/**
 * Applies the rules in place. Other non-zero classes only see the island rule. `image` (HU on the label's grid)
 * enables minLesionContrastHu, applied last to the lesions the body rules kept. (First, it cut a native kidney
 * "lesion" below the maxLesionShare and left the rest, the renal sinus read as cyst, standing: 39 mL of lesion
 * on the shared crop where the share rule alone leaves none.) `superiorAxis` is the grid axis that runs foot to
 * head (pieceShare's axial slices).
 */
export function postprocessLabel(
  label: Uint8Array,
  dims: Vec3,
  spacingMm: Vec3,
  rules: PostprocessRules,
  image?: ArrayLike<number>,
  superiorAxis: 0 | 1 | 2 = 2,
): PostprocessStats {
  const member = new Uint8Array(256);
  member.fill(1, 1);
  const cc = connectedComponents(label, dims, member, rules.connectivity);
  const voxelMm3 = spacingMm[0] * spacingMm[1] * spacingMm[2];
  const remove = new Uint8Array(cc.count);
  const organVoxels = new Float64Array(cc.count);
  const lesionVoxels = new Float64Array(cc.count);
  const relabel = new Uint8Array(cc.count);
  const share = rules.maxLesionShare ?? 0;
  for (let c = 0; c < cc.count; c++) {
    for (const v of rules.organClasses)
      if (v < cc.classStride) organVoxels[c] += cc.classVoxels[c * cc.classStride + v];
    for (const v of rules.lesionClasses)
      if (v < cc.classStride) lesionVoxels[c] += cc.classVoxels[c * cc.classStride + v];
    // Only bodies with some organ voxels: a lesion island with none stays a lesion (and the touch rule decides).
    if (share > 0 && organVoxels[c] > 0 && lesionVoxels[c] > share * (organVoxels[c] + lesionVoxels[c])) {
      relabel[c] = 1;
      organVoxels[c] += lesionVoxels[c];
      lesionVoxels[c] = 0;
    }
    if (cc.voxels[c] * voxelMm3 < rules.minIslandMm3) remove[c] = 1;
    if (rules.lesionsMustTouchOrgan && organVoxels[c] === 0 && lesionVoxels[c] > 0) remove[c] = 1;
  }
  const maxHu = rules.maxOrganMedianHu ?? 0;
  if (image && image.length !== label.length)
    throw new Error(`post-processing: image of ${image.length} voxels for a label of ${label.length}`);
  const denseBodies = image && maxHu > 0 ? removeDenseBodies(cc, remove, organVoxels, image, maxHu) : 0;
  if (rules.maxOrganComponents > 0) {
    const bodies: number[] = [];
    for (let c = 0; c < cc.count; c++) if (!remove[c] && organVoxels[c] > 0) bodies.push(c);
    // Largest first (whole body incl. its lesions); equal sizes keep the earlier one (stable).
    bodies.sort((a, b) => cc.voxels[b] - cc.voxels[a] || a - b);
    const extra = bodies.slice(rules.maxOrganComponents);
    const pieceShare = rules.pieceShare ?? 0;
    const pieces = pieceShare > 0 && extra.length > 0 ? extentsAlong(cc, superiorAxis) : null;
    const largest = bodies[0];
    for (const c of extra) {
      const piece =
        pieces !== null &&
        cc.voxels[c] >= pieceShare * cc.voxels[largest] &&
        pieces.lo[c] <= pieces.hi[largest] &&
        pieces.hi[c] >= pieces.lo[largest];
      if (!piece) remove[c] = 1;
    }
  }
  const smallOrganBodies = removeSmallOrgans(cc, remove, organVoxels, rules, voxelMm3);
  let removedComponents = 0;
  for (let c = 0; c < cc.count; c++) removedComponents += remove[c];
  const removedVoxels = removedComponents > 0 ? eraseComponents(label, cc, remove, 0) : 0;
  // Bodies removed above are gone; the rest of the marked ones have their lesion voxels relabelled organ.
  for (let c = 0; c < cc.count; c++) if (remove[c]) relabel[c] = 0;
  let relabelledVoxels = 0;
  if (relabel.includes(1)) {
    relabelledVoxels = relabelInComponents(label, cc, relabel, classTable(rules.lesionClasses), rules.organClasses[0]);
  }
  const invisible = image ? relabelInvisibleLesions(label, dims, spacingMm, image, rules) : undefined;
  return {
    components: cc.count,
    removedComponents,
    removedVoxels,
    relabelledVoxels,
    ...(rules.minOrganMl ? { smallOrganBodies } : {}),
    ...(image && maxHu > 0 ? { denseBodies } : {}),
    ...(invisible ? { invisibleLesions: invisible.lesions, invisibleLesionVoxels: invisible.voxels } : {}),
  };
}
