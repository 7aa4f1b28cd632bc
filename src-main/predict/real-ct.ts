// The shared real CT (../shared/data/real: the TotalSegmentator example abdomen, 3 mm) as an evaluation case:
// pre-label it and score per class against its TotalSegmentator labels (the 30-slice crop). Used by
// `deformux bench real-ct`, `bench finetune-real` and the starter training's model card. Also: a real CT without the
// organ (scoreAbsentCase), where every label is a false positive.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readNifti } from '../imaging/nifti';
import { readVolume } from '../imaging/read';
import type { Volume } from '../imaging/volume';
import { connectedComponents } from './components';
import { enhancedScan } from './enhance';
import type { EnhancePhase } from './enhance';
import { predictVolume } from './predict';
import type { PredictOptions } from './predict';
import type { SegmentationModel } from './types';

/** TotalSegmentator (v2) label values in the crop (README of the data folder). */
export const TOTALSEG = { spleen: 1, rightKidney: 2, leftKidney: 3, liver: 5, pancreas: 7 } as const;
/** The crop is slices 82..111 (k) of the full 3 mm abdomen volume. */
export const CROP_FIRST_SLICE = 82;
export const REAL_CT_FILES = {
  full: 'totalseg_example_ct_abdomen_3mm.nii.gz',
  crop: 'totalseg_example_ct_sm_kidney_pancreas_3mm.nii.gz',
  labels: 'totalseg_example_seg_sm_labels.nii.gz',
} as const;

/** Dice of two binary masks given as predicates over the same voxel indices; NaN when both are empty. */
export function binaryDice(n: number, a: (i: number) => boolean, b: (i: number) => boolean): number {
  let inter = 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < n; i++) {
    const x = a(i);
    const y = b(i);
    if (x) sa++;
    if (y) sb++;
    if (x && y) inter++;
  }
  return sa + sb === 0 ? NaN : (2 * inter) / (sa + sb);
}

const round4 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e4) / 1e4 : x);

/**
 * Per-class scores of a prediction over the labelled region. `pred(i)` is the predicted class of voxel i
 * of the reference grid; `ref` the TotalSegmentator labels; `voxelMl` one voxel's volume.
 */
export function scoreAgainstTotalSeg(
  classes: readonly string[],
  n: number,
  pred: (i: number) => number,
  ref: ArrayLike<number>,
  voxelMl: number,
  refDims: [number, number, number],
): Record<string, number> {
  const out: Record<string, number> = {};
  const idx = (name: string) => classes.indexOf(name);
  const lesionIds = new Set([idx('tumor'), idx('cyst')].filter((v) => v > 0));
  let lesionVoxels = 0;
  for (let i = 0; i < n; i++) if (lesionIds.has(pred(i))) lesionVoxels++;
  // Any foreground label (organ or lesion) where the reference has none of the schema's organ, in mL.
  const outsideOrgan = (isRef: (i: number) => boolean) => {
    let fp = 0;
    for (let i = 0; i < n; i++) if (pred(i) > 0 && !isRef(i)) fp++;
    return Math.round(fp * voxelMl * 10) / 10;
  };
  if (classes.includes('kidney')) {
    const k = idx('kidney');
    const isRef = (i: number) => ref[i] === TOTALSEG.rightKidney || ref[i] === TOTALSEG.leftKidney;
    out.kidney_dice = round4(binaryDice(n, (i) => pred(i) === k, isRef));
    out.kidney_with_lesions_dice = round4(binaryDice(n, (i) => pred(i) === k || lesionIds.has(pred(i)), isRef));
    out.foreground_outside_organ_ml = outsideOrgan(isRef);
  }
  if (classes.includes('pancreas')) {
    const p = idx('pancreas');
    const isRef = (i: number) => ref[i] === TOTALSEG.pancreas;
    out.pancreas_dice = round4(binaryDice(n, (i) => pred(i) === p, isRef));
    out.pancreas_with_tumor_dice = round4(binaryDice(n, (i) => pred(i) === p || lesionIds.has(pred(i)), isRef));
    out.foreground_outside_organ_ml = outsideOrgan(isRef);
    // Predicted pancreas farther than 30 mm (10 voxels at 3 mm) in-plane from the reference pancreas's box:
    // a pancreas label outside the pancreatic region (stomach, bowel, pelvis).
    const [ni, nj] = refDims;
    let i0 = ni,
      i1 = -1,
      j0 = nj,
      j1 = -1;
    for (let v = 0; v < n; v++) {
      if (!isRef(v)) continue;
      const i = v % ni;
      const j = Math.floor(v / ni) % nj;
      i0 = Math.min(i0, i);
      i1 = Math.max(i1, i);
      j0 = Math.min(j0, j);
      j1 = Math.max(j1, j);
    }
    let outside = 0;
    for (let v = 0; v < n; v++) {
      if (pred(v) !== p && !lesionIds.has(pred(v))) continue;
      const i = v % ni;
      const j = Math.floor(v / ni) % nj;
      if (i < i0 - 10 || i > i1 + 10 || j < j0 - 10 || j > j1 + 10) outside++;
    }
    out.pancreas_outside_region_ml = Math.round(outside * voxelMl * 10) / 10;
  }
  out.lesion_fp_ml = Math.round(lesionVoxels * voxelMl * 10) / 10;
  return out;
}

/** The default location of the shared real CT (../shared/data/real beside the repository). */
export function defaultRealCtDir(): string {
  return resolve(join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'real'));
}

/** The shared DICOM folder: another patient (portal-venous upper abdomen, 40 mm, no kidneys in TotalSegmentator's labels). */
export const REAL_CT_DICOM = 'totalseg_example_ct_dicom';

/** Perturbations of the full scan that the model card records (bench real-ct --perturb). */
export const CARD_PERTURBATIONS: readonly RealCtPerturbation[] = ['smooth', 'hires', 'slab'];
/** Contrast phases added to the native crop that the model card records (bench real-ct --enhance). */
export const CARD_ENHANCE_PHASES: readonly EnhancePhase[] = ['arterial', 'portal'];

/**
 * Scores a model on both real cases (full scan and crop alone), flattened for model.json (`full_kidney_dice`,
 * `crop_kidney_dice`, ...). With `card` (a starter's model card; half a minute more) also the full scan under
 * CARD_PERTURBATIONS (`slab_kidney_dice`, ...) and, for a kidney model, what it labels in the shared DICOM folder,
 * which holds no kidney (`dicom_no_kidney_foreground_ml`: another patient than the shared CT's), and the crop with
 * CARD_ENHANCE_PHASES's contrast added (`enhanced_portal_kidney_dice`, ...). Undefined when the data is not there.
 */
export async function realCtScores(
  model: SegmentationModel,
  classes: readonly string[],
  signal?: AbortSignal,
  data = defaultRealCtDir(),
  card = false,
): Promise<Record<string, number> | undefined> {
  const files = Object.values(REAL_CT_FILES).map((f) => join(data, f));
  if (!files.every((f) => existsSync(f))) return undefined;
  const seg = await readNifti(join(data, REAL_CT_FILES.labels));
  const out: Record<string, number> = {};
  // A case's numeric scores under `prefix_` (not its timing).
  const put = (prefix: string, r: Record<string, unknown>): void => {
    for (const [k, v] of Object.entries(r))
      if (typeof v === 'number' && k !== 'seconds' && k !== 'patches') out[`${prefix}_${k}`] = v;
  };
  signal?.throwIfAborted();
  const full = await readNifti(join(data, REAL_CT_FILES.full));
  put('full', await scoreCase('full', full, seg, model, classes));
  for (const kind of card ? CARD_PERTURBATIONS : []) {
    signal?.throwIfAborted();
    put(kind, await scorePerturbed(kind, full, seg, model, classes));
  }
  signal?.throwIfAborted();
  const crop = await readNifti(join(data, REAL_CT_FILES.crop));
  put('crop', await scoreCase('crop', crop, seg, model, classes));
  for (const phase of card ? CARD_ENHANCE_PHASES : []) {
    signal?.throwIfAborted();
    put(`enhanced_${phase}`, await scoreEnhanced(phase, crop, seg, model, classes));
  }
  const dicom = join(data, REAL_CT_DICOM);
  if (card && classes.includes('kidney') && existsSync(dicom)) {
    signal?.throwIfAborted();
    const r = await scoreAbsentCase(await readVolume(dicom), model, classes);
    out.dicom_no_kidney_foreground_ml = r.foreground_ml as number;
  }
  return out;
}

/** The pre-label of a real case and its wall time, seconds to two decimals. */
async function timedPredict(
  image: Volume,
  model: SegmentationModel,
  opts: Pick<PredictOptions, 'tta' | 'overlap' | 'shortScanPad'>,
): Promise<{ res: Awaited<ReturnType<typeof predictVolume>>; seconds: number }> {
  const t0 = performance.now();
  const res = await predictVolume(image, model, opts);
  return { res, seconds: Math.round((performance.now() - t0) / 10) / 100 };
}

/** Pre-labels one real case and scores it (full: on the crop's slices; crop: the whole file). */
export async function scoreCase(
  which: 'full' | 'crop',
  image: Volume,
  seg: Volume,
  model: SegmentationModel,
  classes: readonly string[],
  opts: Pick<PredictOptions, 'tta' | 'overlap' | 'shortScanPad'> = {},
): Promise<Record<string, unknown>> {
  const { res, seconds } = await timedPredict(image, model, opts);
  return {
    case:
      which === 'full'
        ? `full scan (${image.dims.join('×')}), scored on slices ${CROP_FIRST_SLICE}..`
        : 'crop on its own',
    seconds,
    patches: res.stats.patches,
    ...scorePrediction(which, res.label.data as Uint8Array, image.dims, seg, classes),
  };
}

/** Scores a label on the full scan's grid (on the crop's slices) or on the crop's. */
function scorePrediction(
  which: 'full' | 'crop',
  pred: Uint8Array,
  dims: Volume['dims'],
  seg: Volume,
  classes: readonly string[],
): Record<string, number> {
  const [ni, nj] = dims;
  const offset = which === 'full' ? CROP_FIRST_SLICE * ni * nj : 0;
  const n = seg.dims[0] * seg.dims[1] * seg.dims[2];
  const voxelMl = (seg.spacingMm[0] * seg.spacingMm[1] * seg.spacingMm[2]) / 1000;
  const scores = scoreAgainstTotalSeg(classes, n, (i) => pred[offset + i], seg.data, voxelMl, [
    seg.dims[0],
    seg.dims[1],
    seg.dims[2],
  ]);
  // The full scan: lesion or organ voxels predicted outside the labelled slices are reported, not scored.
  if (which === 'full') {
    let beyond = 0;
    for (let v = 0; v < pred.length; v++) if (pred[v] > 0 && (v < offset || v >= offset + n)) beyond++;
    scores.foreground_outside_labelled_slices_ml = Math.round(beyond * voxelMl * 10) / 10;
  }
  return scores;
}

/**
 * What a real scan may differ in from the shared one, applied to its full 3 mm scan (`bench real-ct --perturb`):
 * - air: the air around the patient read at -930 HU (±20), as by a scanner whose air reads high;
 * - smooth: a mild blur, [1/4, 1/2, 1/4] along each axis (a softer reconstruction kernel or resampling filter);
 * - hires: the scan upsampled (trilinear) to 0.75 × 0.75 × 1 mm, the resolution of the thin-slice scans annotators
 *   get, so the pre-label runs the whole high-resolution path (resampling to the model grid and back);
 * - slab: only the scan's top 45 mm (its last SLAB_SLICES slices: the kidneys' upper poles, spleen, liver), as a
 *   scan that ends there or a thin slab; scored on those slices alone. A model that fills a short field of view
 *   with its organ calls the spleen kidney here.
 * The same patient and the same reference: a model that holds its Dice under these is less tied to how this one
 * scan was made.
 */
export type RealCtPerturbation = 'air' | 'smooth' | 'hires' | 'slab';
export const REAL_CT_PERTURBATIONS: readonly RealCtPerturbation[] = ['air', 'smooth', 'hires', 'slab'];

/** Slices of the slab perturbation: 15 at 3 mm, the top 45 mm of the full scan. */
export const SLAB_SLICES = 15;

/** Sub-voxels per axis of the hires perturbation: 3 mm to 0.75, 0.75 and 1 mm. */
const HIRES_FACTOR = [4, 4, 3] as const;

/** The perturbed scan, and the map of a label on its grid back to the full scan's grid. */
export function perturbedScan(
  full: Volume,
  kind: RealCtPerturbation,
): { image: Volume; back: (label: Uint8Array) => Uint8Array } {
  const [ni, nj, nk] = full.dims;
  const src = full.data;
  const same = (label: Uint8Array) => label;
  if (kind === 'air') {
    const data = new Float32Array(src.length);
    for (let n = 0; n < src.length; n++) data[n] = src[n] < -900 ? -950 + ((n * 7919) % 41) : src[n];
    return { image: { ...full, data, description: `${full.description} (air at -930 HU)` }, back: same };
  }
  if (kind === 'smooth') {
    let a = Float32Array.from(src as ArrayLike<number>);
    const strides = [1, ni, ni * nj];
    for (let axis = 0; axis < 3; axis++) {
      const b = new Float32Array(a.length);
      const len = full.dims[axis];
      const st = strides[axis];
      for (let n = 0; n < a.length; n++) {
        const x = Math.floor(n / st) % len;
        const lo = x > 0 ? a[n - st] : a[n];
        const hi = x < len - 1 ? a[n + st] : a[n];
        b[n] = 0.25 * lo + 0.5 * a[n] + 0.25 * hi;
      }
      a = b;
    }
    return { image: { ...full, data: a, description: `${full.description} (smoothed)` }, back: same };
  }
  if (kind === 'slab') {
    const k0 = nk - SLAB_SLICES;
    const plane = ni * nj;
    const originMm = full.originMm.map(
      (o, r) => o + full.direction[2 * 3 + r] * k0 * full.spacingMm[2],
    ) as Volume['originMm'];
    const image: Volume = {
      ...full,
      data: src.slice(k0 * plane),
      dims: [ni, nj, SLAB_SLICES],
      originMm,
      description: `${full.description} (top ${SLAB_SLICES} slices)`,
    };
    const back = (label: Uint8Array): Uint8Array => {
      const out = new Uint8Array(ni * nj * nk);
      out.set(label, k0 * plane);
      return out;
    };
    return { image, back };
  }
  // hires: sub-voxel centres at (m + 0.5) / f - 0.5 source voxels, the same extent as the source.
  const [fi, fj, fk] = HIRES_FACTOR;
  const dims: Volume['dims'] = [ni * fi, nj * fj, nk * fk];
  const tap = (m: number, f: number, len: number): [number, number, number] => {
    const x = Math.min(len - 1, Math.max(0, (m + 0.5) / f - 0.5));
    const x0 = Math.min(len - 2, Math.floor(x));
    return [Math.max(0, x0), Math.min(len - 1, x0 + 1), x - Math.max(0, x0)];
  };
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  const ti = Array.from({ length: dims[0] }, (_, m) => tap(m, fi, ni));
  let n = 0;
  for (let k = 0; k < dims[2]; k++) {
    const [k0, k1, wk] = tap(k, fk, nk);
    for (let j = 0; j < dims[1]; j++) {
      const [j0, j1, wj] = tap(j, fj, nj);
      const r00 = ni * (j0 + nj * k0);
      const r01 = ni * (j1 + nj * k0);
      const r10 = ni * (j0 + nj * k1);
      const r11 = ni * (j1 + nj * k1);
      for (let i = 0; i < dims[0]; i++, n++) {
        const [i0, i1, wi] = ti[i];
        const lerp = (r: number) => src[r + i0] * (1 - wi) + src[r + i1] * wi;
        const z0 = lerp(r00) * (1 - wj) + lerp(r01) * wj;
        const z1 = lerp(r10) * (1 - wj) + lerp(r11) * wj;
        data[n] = z0 * (1 - wk) + z1 * wk;
      }
    }
  }
  const f = [fi, fj, fk];
  const spacingMm = full.spacingMm.map((s, a) => s / f[a]) as Volume['spacingMm'];
  // The first sub-voxel centre lies (0.5 / f - 0.5) source voxels along each axis from the source's first centre.
  const originMm = full.originMm.map(
    (o, r) =>
      o + [0, 1, 2].reduce((acc, a) => acc + full.direction[a * 3 + r] * (0.5 / f[a] - 0.5) * full.spacingMm[a], 0),
  ) as Volume['originMm'];
  const image: Volume = {
    ...full,
    data,
    dims,
    spacingMm,
    originMm,
    description: `${full.description} (at ${spacingMm.join(' × ')} mm)`,
  };
  // Back: each source voxel takes the label most of its sub-voxels have (ties: the lower label value).
  const back = (label: Uint8Array): Uint8Array => {
    const out = new Uint8Array(ni * nj * nk);
    const votes = new Uint16Array(256);
    for (let k = 0; k < nk; k++)
      for (let j = 0; j < nj; j++)
        for (let i = 0; i < ni; i++) {
          votes.fill(0);
          for (let c = 0; c < fk; c++)
            for (let b = 0; b < fj; b++) {
              const row = dims[0] * (j * fj + b + dims[1] * (k * fk + c));
              for (let a = 0; a < fi; a++) votes[label[row + i * fi + a]]++;
            }
          let best = 0;
          for (let v = 1; v < 256; v++) if (votes[v] > votes[best]) best = v;
          out[i + ni * (j + nj * k)] = best;
        }
    return out;
  };
  return { image, back };
}

/** Pre-labels the full scan under a perturbation and scores it as the full case. */
export async function scorePerturbed(
  kind: RealCtPerturbation,
  full: Volume,
  seg: Volume,
  model: SegmentationModel,
  classes: readonly string[],
  opts: Pick<PredictOptions, 'tta' | 'overlap' | 'shortScanPad'> = {},
): Promise<Record<string, unknown>> {
  const { image, back } = perturbedScan(full, kind);
  const { res, seconds } = await timedPredict(image, model, opts);
  const pred = res.label.data as Uint8Array;
  if (kind === 'slab') {
    // Scored on the slab's own slices (its label as it is: slab voxel i is full-scan voxel first * plane + i): the
    // organ below them is not in this scan.
    const [ni, nj, nk] = full.dims;
    const plane = ni * nj;
    const first = nk - SLAB_SLICES;
    const segFirst = first - CROP_FIRST_SLICE;
    const depth = seg.dims[2] - segFirst;
    const voxelMl = (seg.spacingMm[0] * seg.spacingMm[1] * seg.spacingMm[2]) / 1000;
    return {
      case: `top ${SLAB_SLICES} slices of the full scan alone (${first}..${nk - 1}), scored on them`,
      perturbation: kind,
      seconds,
      patches: res.stats.patches,
      ...scoreAgainstTotalSeg(classes, depth * plane, (i) => pred[i], seg.data.subarray(segFirst * plane), voxelMl, [
        ni,
        nj,
        depth,
      ]),
    };
  }
  return {
    case: `full scan, ${kind === 'air' ? 'air at -930 HU' : kind === 'smooth' ? 'smoothed' : `at ${image.spacingMm.join(' × ')} mm (${image.dims.join('×')})`}, scored on slices ${CROP_FIRST_SLICE}..`,
    perturbation: kind,
    seconds,
    patches: res.stats.patches,
    ...scorePrediction('full', back(pred), full.dims, seg, classes),
  };
}

/**
 * The crop alone with `phase`'s contrast added inside its TotalSegmentator organ labels (predict/enhance.ts), scored
 * as the crop: enhanced kidneys and pancreas with the real scan's texture. A model that calls a hypo-enhancing
 * medulla tumour or cyst shows it here (lesion_fp_ml), as it would on the enhanced scans annotators mostly get.
 */
export async function scoreEnhanced(
  phase: EnhancePhase,
  crop: Volume,
  seg: Volume,
  model: SegmentationModel,
  classes: readonly string[],
  opts: Pick<PredictOptions, 'tta' | 'overlap' | 'shortScanPad'> = {},
): Promise<Record<string, unknown>> {
  const scores = await scoreCase('crop', enhancedScan(crop, seg, phase), seg, model, classes, opts);
  return { ...scores, case: `crop on its own, ${phase} contrast added in its organ labels`, enhanced: phase };
}

/**
 * Pre-labels a real CT that holds none of the schema's organ (a chest CT, say) and reports what the model put
 * there anyway: every foreground voxel is a false positive. Per class mL, and the connected foreground bodies.
 */
export async function scoreAbsentCase(
  image: Volume,
  model: SegmentationModel,
  classes: readonly string[],
  opts: Pick<PredictOptions, 'tta' | 'overlap' | 'shortScanPad'> = {},
): Promise<Record<string, unknown>> {
  const { res, seconds } = await timedPredict(image, model, opts);
  const pred = res.label.data as Uint8Array;
  const voxelMl = (image.spacingMm[0] * image.spacingMm[1] * image.spacingMm[2]) / 1000;
  const counts = new Float64Array(classes.length);
  for (let v = 0; v < pred.length; v++) if (pred[v] < classes.length) counts[pred[v]]++;
  const out: Record<string, unknown> = {
    case: `organ absent: ${image.source || image.description || 'scan'} (${image.dims.join('×')})`,
    seconds,
    patches: res.stats.patches,
  };
  let fg = 0;
  for (let c = 1; c < classes.length; c++) {
    out[`${classes[c]}_ml`] = Math.round(counts[c] * voxelMl * 10) / 10;
    fg += counts[c];
  }
  out.foreground_ml = Math.round(fg * voxelMl * 10) / 10;
  const member = new Uint8Array(256).fill(1, 1);
  out.foreground_bodies = connectedComponents(pred, image.dims, member, 26).count;
  return out;
}
