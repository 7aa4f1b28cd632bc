// `deformux bench real-ct`: pre-labels the real abdomen CT of ../shared/data/real with a model and
// scores it against the TotalSegmentator labels of its 30-slice crop, per class: the organ class alone,
// the organ with its lesions, and the volume of lesion labels (the reference patient has no lesions
// labelled, so every lesion voxel counts as false positive). Two cases: the full 112-slice scan scored
// on the crop's slices, and the 30-slice crop file pre-labelled on its own (a scan that covers only the
// kidneys: a short field of view the network must not fill with anatomy).
//
//   bench real-ct [--model DIR | --starter kidney|pancreas] [--data DIR] [--case full|crop|all] [--tta]
//                 [--max-patch d,h,w] [--json]
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readNifti } from '../imaging/nifti';
import { InputError } from '../imaging/volume';
import type { Volume } from '../imaging/volume';
import { predictVolume } from '../predict/predict';
import type { SegmentationModel } from '../predict/types';
import { resolveModelDir } from '../jobs/model-source';
import { parseCliArgs } from '../cli/args';
import { UsageError } from '../cli/index';

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
    const r = await scoreCase(which, image, seg, model, classes, false);
    for (const [k, v] of Object.entries(r))
      if (typeof v === 'number' && k !== 'seconds' && k !== 'patches') out[`${which}_${k}`] = v;
  }
  return out;
}

const HELP =
  'bench real-ct [--model DIR | --starter kidney|pancreas] [--data DIR] [--case full|crop|all] [--tta] [--max-patch d,h,w] [--json]';

/** Pre-labels one real case and scores it (full: on the crop's slices; crop: the whole file). */
async function scoreCase(
  which: 'full' | 'crop',
  image: Volume,
  seg: Volume,
  model: SegmentationModel,
  classes: readonly string[],
  tta: boolean,
): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const res = await predictVolume(image, model, { tta });
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

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCliArgs(
    argv,
    {
      model: { type: 'string' },
      starter: { type: 'string' },
      data: { type: 'string' },
      case: { type: 'string' },
      tta: { type: 'boolean' },
      'max-patch': { type: 'string' },
      json: { type: 'boolean' },
    },
    HELP,
  );
  if (!parsed) return 0;
  const v = parsed.values as {
    model?: string;
    starter?: string;
    data?: string;
    case?: string;
    tta?: boolean;
    'max-patch'?: string;
    json?: boolean;
  };
  const starter = v.starter ?? 'kidney';
  if (starter !== 'kidney' && starter !== 'pancreas') throw new UsageError('--starter must be kidney or pancreas');
  const which = v.case ?? 'all';
  if (which !== 'full' && which !== 'crop' && which !== 'all') throw new UsageError('--case must be full, crop or all');
  const modelDir = v.model ? resolve(v.model) : resolveModelDir(starter);
  const data = v.data ? resolve(v.data) : defaultRealCtDir();
  const files = Object.values(REAL_CT_FILES).map((f) => join(data, f));
  if (!files.every((f) => existsSync(f))) throw new InputError(data, 'the real CT test data is not there');

  const { initEngine } = await import('../engine/tf');
  const { loadModelFolder } = await import('../engine/io/model_folder');
  const { segmentationModelOf } = await import('../engine/model/segmentation_model');
  await initEngine();
  const loaded = await loadModelFolder(modelDir);
  try {
    const model = segmentationModelOf(loaded);
    const maxPatch = v['max-patch'];
    if (maxPatch) {
      const m = maxPatch.split(/[,x×]/).map(Number);
      if (m.length !== 3 || !m.every((x) => Number.isInteger(x) && x > 0))
        throw new UsageError('--max-patch needs d,h,w');
      model.maxPatchSize = [m[0], m[1], m[2]];
    }
    const seg = await readNifti(join(data, REAL_CT_FILES.labels));
    const classes = loaded.meta.classes;
    const report: Record<string, unknown> = {
      bench: 'real-ct',
      model: modelDir,
      schema: loaded.meta.schema,
      tta: !!v.tta,
      // Whether the shared CT (or anything made from it) was in this model's training data.
      seen: loaded.meta.realDataSeen ?? false,
      cases: [] as unknown[],
    };
    const cases = report.cases as unknown[];
    if (which !== 'crop') {
      const file = join(data, REAL_CT_FILES.full);
      const image = await readNifti(file);
      const [ni, nj, nk] = image.dims;
      if (seg.dims[0] !== ni || seg.dims[1] !== nj || seg.dims[2] + CROP_FIRST_SLICE > nk)
        throw new InputError(
          file,
          `dims ${image.dims.join('×')} do not hold the labelled slices ${CROP_FIRST_SLICE}..`,
        );
      cases.push(await scoreCase('full', image, seg, model, classes, !!v.tta));
    }
    if (which !== 'full') {
      const file = join(data, REAL_CT_FILES.crop);
      const image = await readNifti(file);
      if (image.dims.some((d, a) => d !== seg.dims[a]))
        throw new InputError(file, `dims ${image.dims.join('×')} differ from the labels' ${seg.dims.join('×')}`);
      cases.push(await scoreCase('crop', image, seg, model, classes, !!v.tta));
    }
    console.log(JSON.stringify(report, null, v.json ? undefined : 2));
    return 0;
  } finally {
    loaded.net.dispose();
  }
}
