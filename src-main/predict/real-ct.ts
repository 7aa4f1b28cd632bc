// The shared real CT (../shared/data/real: the TotalSegmentator example abdomen, 3 mm) as an evaluation case:
// pre-label it and score per class against its TotalSegmentator labels (the 30-slice crop). Used by
// `deformux bench real-ct`, `bench finetune-real` and the starter training's model card. Also: a real CT without the
// organ (scoreAbsentCase), where every label is a false positive.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readNifti } from '../imaging/nifti';
import type { Volume } from '../imaging/volume';
import { connectedComponents } from './components';
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
  if (classes.includes('kidney')) {
    const k = idx('kidney');
    const isRef = (i: number) => ref[i] === TOTALSEG.rightKidney || ref[i] === TOTALSEG.leftKidney;
    out.kidney_dice = round4(binaryDice(n, (i) => pred(i) === k, isRef));
    out.kidney_with_lesions_dice = round4(binaryDice(n, (i) => pred(i) === k || lesionIds.has(pred(i)), isRef));
  }
  if (classes.includes('pancreas')) {
    const p = idx('pancreas');
    const isRef = (i: number) => ref[i] === TOTALSEG.pancreas;
    out.pancreas_dice = round4(binaryDice(n, (i) => pred(i) === p, isRef));
    out.pancreas_with_tumor_dice = round4(binaryDice(n, (i) => pred(i) === p || lesionIds.has(pred(i)), isRef));
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

/**
 * Scores a model on both real cases (full scan and crop alone), flattened for model.json (`full_kidney_dice`,
 * `crop_kidney_dice`, ...); undefined when the data is not there.
 */
export async function realCtScores(
  model: SegmentationModel,
  classes: readonly string[],
  signal?: AbortSignal,
  data = defaultRealCtDir(),
): Promise<Record<string, number> | undefined> {
  const files = Object.values(REAL_CT_FILES).map((f) => join(data, f));
  if (!files.every((f) => existsSync(f))) return undefined;
  const seg = await readNifti(join(data, REAL_CT_FILES.labels));
  const out: Record<string, number> = {};
  for (const which of ['full', 'crop'] as const) {
    signal?.throwIfAborted();
    const image = await readNifti(join(data, which === 'full' ? REAL_CT_FILES.full : REAL_CT_FILES.crop));
    const r = await scoreCase(which, image, seg, model, classes);
    for (const [k, v] of Object.entries(r))
      if (typeof v === 'number' && k !== 'seconds' && k !== 'patches') out[`${which}_${k}`] = v;
  }
  return out;
}

/** Pre-labels one real case and scores it (full: on the crop's slices; crop: the whole file). */
export async function scoreCase(
  which: 'full' | 'crop',
  image: Volume,
  seg: Volume,
  model: SegmentationModel,
  classes: readonly string[],
  opts: Pick<PredictOptions, 'tta' | 'overlap'> = {},
): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const res = await predictVolume(image, model, opts);
  const seconds = (performance.now() - t0) / 1000;
  const [ni, nj] = image.dims;
  const offset = which === 'full' ? CROP_FIRST_SLICE * ni * nj : 0;
  const pred = res.label.data as Uint8Array;
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
  return {
    case:
      which === 'full'
        ? `full scan (${image.dims.join('×')}), scored on slices ${CROP_FIRST_SLICE}..`
        : 'crop on its own',
    seconds: Math.round(seconds * 100) / 100,
    patches: res.stats.patches,
    ...scores,
  };
}

/**
 * Pre-labels a real CT that holds none of the schema's organ (a chest CT, say) and reports what the model put
 * there anyway: every foreground voxel is a false positive. Per class mL, and the connected foreground bodies.
 */
export async function scoreAbsentCase(
  image: Volume,
  model: SegmentationModel,
  classes: readonly string[],
  opts: Pick<PredictOptions, 'tta' | 'overlap'> = {},
): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const res = await predictVolume(image, model, opts);
  const seconds = (performance.now() - t0) / 1000;
  const pred = res.label.data as Uint8Array;
  const voxelMl = (image.spacingMm[0] * image.spacingMm[1] * image.spacingMm[2]) / 1000;
  const counts = new Float64Array(classes.length);
  for (let v = 0; v < pred.length; v++) if (pred[v] < classes.length) counts[pred[v]]++;
  const out: Record<string, unknown> = {
    case: `organ absent: ${image.source || image.description || 'scan'} (${image.dims.join('×')})`,
    seconds: Math.round(seconds * 100) / 100,
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
