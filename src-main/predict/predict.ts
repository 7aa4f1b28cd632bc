// predictVolume: a CT Volume in, a uint8 label Volume on exactly the same grid out (plus optional
// uncertainty), through reorient → resample → normalise → sliding window → map back → post-process.
import { checkGeometry, InputError, voxelCount } from '../imaging/volume';
import type { Vec3, Volume } from '../imaging/volume';
import { canonicalTransform } from '../imaging/orient';
import type { AxisTransform } from '../imaging/orient';
import { resampledDims, resampleToGrid } from '../imaging/resample';
import { checkIntensity, normaliseInPlace, normalisedValue } from '../imaging/intensity';
import { DEFAULT_OVERLAP, slidingWindow } from './sliding-window';
import { bodyBox, cropGrid, uncropProbabilities } from './body-crop';
import type { BodyBox } from './body-crop';
import type { UncertaintyKind } from './sliding-window';
import { mapBackToOriginal } from './map-back';
import type { MapBackOutput } from './map-back';
import { postprocessLabel, rulesForClassNames, rulesForSchema } from './postprocess';
import { denoiseInPlace, type DenoiseResult } from './denoise';
import { findLandmarks, kidneyRegion, pancreasRegion } from './anatomy-region';
import type { PostprocessRules, PostprocessStats } from './postprocess';
import { ProgressReporter, throwIfAborted } from './progress';
import type { ProgressCallback, SegmentationModel } from './types';

export interface PredictOptions {
  /** Patch overlap in [0, 1); default 0.5. */
  overlap?: number;
  /**
   * Mirror test-time augmentation: true = along the axes the model was trained mirrored (model.mirrorAxes: the
   * kidney starters left-right, the pancreas none, so nothing to mirror), or the tensor axes (0 = D, 1 = H, 2 = W).
   */
  tta?: boolean | number[];
  /** Default 'entropy'; 'tta-disagreement' falls back to entropy without TTA. */
  uncertainty?: UncertaintyKind;
  /**
   * true (default): the windows cover only the body's bounding box on the model grid (voxels above -500 HU, plus
   * a margin; body-crop.ts), and outside it the label is background; false: the whole grid.
   */
  cropToBody?: boolean;
  /** 'uint8' (0..255 = 0..1, default: a quarter of float32's memory on big scans) or 'float32'. */
  uncertaintyFormat?: 'uint8' | 'float32';
  /** true (default): rules from `schema` or the model's class names; false: off; an object overrides rule fields. */
  postprocess?: boolean | Partial<PostprocessRules>;
  schema?: 'kidney' | 'pancreas';
  /**
   * true (default): the organ's labels are kept to its region found from the image (anatomy-region.ts): a
   * pancreas model's pancreas and tumour never in the pelvis, the chest or far from the spine; a kidney model's
   * labels never in the chest. false: anywhere the network puts them.
   */
  anatomyRegion?: boolean;
  /**
   * true (default): with the region on and every foreground class kept to it, windows that hold no voxel of the
   * region are not run (nothing there could be labelled; the labels are the same), and outside the region the
   * uncertainty is 0. false: every window runs (for comparison).
   */
  skipOutsideRegion?: boolean;
  /**
   * true (default): a scan whose noise on the model grid is above DENOISE_ABOVE_HU is smoothed toward
   * DENOISE_TARGET_HU before the network sees it (denoise.ts: past that noise the starters miss organs whole).
   * false: never.
   */
  denoise?: boolean;
  /**
   * What a window reads beyond the ends of a scan shorter than itself along the slice axis (fewer slices than the
   * window on the model grid: a thin slab, a kidney-only field of view): 'edge' the nearest end slice, as the body
   * goes on past a scan's ends; 'air' -1024 HU. Default: the model's own setting (inference.shortScanPad), else
   * 'air'. With air there the kidney starter filled thin slabs with kidney (a 42 mm slab above the kidneys of
   * held-out arterial phantoms: 54 mL, with edge 10 mL); the pancreas starter does better with air. In-plane
   * overhang is air either way.
   */
  shortScanPad?: 'edge' | 'air';
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

export interface PredictStats {
  stageMs: {
    resample: number;
    normalise: number;
    inference: number;
    mapBack: number;
    postprocess: number;
    total: number;
  };
  /** Voxels of each label value 0..classes-1 in the final label. */
  voxelsPerClass: number[];
  /** Model grid, canonical axes (i, j, k). */
  modelGridDims: Vec3;
  patches: number;
  /** Windows not run because they hold no voxel of the organ's region. */
  skippedPatches: number;
  runsPerPatch: number;
  /** The part of the model grid the windows covered (tensor order [D, H, W]); absent: all of it. */
  bodyBox?: BodyBox;
  postprocess?: PostprocessStats;
  /** The organ region applied; `restricted: false` when the scan had no landmark to place it by. */
  anatomyRegion?: RegionStats;
  /** Noise on the model grid (HU) and the smoothing it took (passes 0: none); absent with denoise off. */
  denoise?: DenoiseResult;
  /** The settings this prediction actually ran with (what provenance records). */
  settings: PredictSettings;
}

export interface PredictSettings {
  overlap: number;
  /** Tensor axes mirrored for test-time augmentation ([] without TTA). */
  ttaAxes: number[];
  postprocess: boolean;
  cropToBody: boolean;
  anatomyRegion: boolean;
  /** Whether the model-grid scan was smoothed for its noise (absent in records made before this setting). */
  denoised?: boolean;
  uncertainty: UncertaintyKind;
  /** The model's patch (tensor order) and grid spacing (canonical i, j, k; mm). */
  patchSize: [number, number, number];
  targetSpacingMm: [number, number, number];
}

export interface RegionStats {
  restricted: boolean;
  /** Share of the model grid allowed; pelvis top and thorax bottom slices on the model grid (-1, D: none). */
  allowedShare?: number;
  pelvisTop?: number;
  thoraxBottom?: number;
  /** Model-grid voxels whose most likely class was a restricted one and lay outside the region. */
  removedVoxels?: number;
}

export interface PredictResult {
  label: Volume;
  uncertainty?: Volume;
  stats: PredictStats;
}

function checkModel(model: SegmentationModel): void {
  const where = 'segmentation model';
  if (!Number.isInteger(model.classes) || model.classes < 2 || model.classes > 255)
    throw new Error(`${where}: classes must be 2..255, got ${model.classes}`);
  if (model.patchSize.length !== 3 || !model.patchSize.every((p) => Number.isInteger(p) && p > 0)) {
    throw new Error(`${where}: patchSize must be three positive whole numbers, got ${model.patchSize.join('×')}`);
  }
  if (model.targetSpacingMm.length !== 3 || !model.targetSpacingMm.every((s) => Number.isFinite(s) && s > 0)) {
    throw new Error(
      `${where}: targetSpacingMm must be three positive numbers, got ${model.targetSpacingMm.join(', ')}`,
    );
  }
  checkIntensity(model.intensity, where);
}

/**
 * The organ a model's labels are kept to its region for ('pancreas': the pancreatic region; 'kidney': below the
 * thorax), with the label values restricted (the organ and its lesions); null: none.
 */
function regionClasses(
  model: SegmentationModel,
  opts: PredictOptions,
): { organ: 'kidney' | 'pancreas'; classes: number[] } | null {
  if (opts.anatomyRegion === false) return null;
  const rules = schemaRules(model, opts);
  const names = model.classNames?.map((n) => n.toLowerCase());
  const organ =
    opts.schema ?? (names?.includes('pancreas') ? 'pancreas' : names?.includes('kidney') ? 'kidney' : undefined);
  if (!rules || !organ) return null;
  return { organ, classes: [...rules.organClasses, ...rules.lesionClasses].filter((c) => c < model.classes) };
}

/** Whether the box (start and size in [z, y, x], clamped to the grid) of a [D, H, W] mask holds a set voxel. */
export function anyInBox(mask: Uint8Array, dims: Vec3, start: Vec3, size: Vec3): boolean {
  const [nd, nh, nw] = dims;
  const z0 = Math.max(0, start[0]);
  const y0 = Math.max(0, start[1]);
  const x0 = Math.max(0, start[2]);
  const z1 = Math.min(nd, start[0] + size[0]);
  const y1 = Math.min(nh, start[1] + size[1]);
  const x1 = Math.min(nw, start[2] + size[2]);
  for (let z = z0; z < z1; z++)
    for (let y = y0; y < y1; y++) {
      const row = (z * nh + y) * nw;
      for (let x = x0; x < x1; x++) if (mask[row + x]) return true;
    }
  return false;
}

/**
 * Moves the probability of `classes` outside `mask` to background (class planes [c][N]); returns how many
 * voxels had one of them as their most likely class there.
 */
export function restrictClasses(probs: Float32Array, nClasses: number, mask: Uint8Array, classes: number[]): number {
  const N = mask.length;
  let removed = 0;
  for (let i = 0; i < N; i++) {
    if (mask[i]) continue;
    let best = 0;
    let bestP = probs[i];
    for (let c = 1; c < nClasses; c++)
      if (probs[c * N + i] > bestP) {
        bestP = probs[c * N + i];
        best = c;
      }
    if (classes.includes(best)) removed++;
    for (const c of classes) {
      probs[i] += probs[c * N + i];
      probs[c * N + i] = 0;
    }
  }
  return removed;
}

/** The schema's organ and lesion rules: from `opts.schema`, else from the model's class names. */
function schemaRules(model: SegmentationModel, opts: PredictOptions): PostprocessRules | undefined {
  if (opts.schema) return rulesForSchema(opts.schema);
  return model.classNames ? rulesForClassNames(model.classNames) : undefined;
}

function resolveRules(model: SegmentationModel, opts: PredictOptions): PostprocessRules | undefined {
  if (opts.postprocess === false) return undefined;
  const base = schemaRules(model, opts);
  if (typeof opts.postprocess === 'object') {
    if (!base && !opts.postprocess.organClasses) return undefined;
    return { ...(base ?? rulesForSchema('kidney')), ...opts.postprocess };
  }
  return base;
}

export async function predictVolume(
  image: Volume,
  model: SegmentationModel,
  opts: PredictOptions = {},
): Promise<PredictResult> {
  const t0 = performance.now();
  checkGeometry(image.source || 'input volume', image);
  if (image.data.length !== voxelCount(image.dims)) {
    throw new InputError(
      image.source || 'input volume',
      `holds ${image.data.length} voxels, but its dims ${image.dims.join('×')} need ${voxelCount(image.dims)}`,
    );
  }
  checkModel(model);
  const progress = new ProgressReporter(opts.onProgress);
  const rules = resolveRules(model, opts);
  progress.report(0, 'preparing');
  throwIfAborted(opts.signal);

  const transform = canonicalTransform(image, model.canonicalFrame ?? 'RAS');
  const ms = { resample: 0, normalise: 0, inference: 0, mapBack: 0 };
  const ttaAxes = ttaAxesFor(opts.tta, model);
  const { back, patches, skippedPatches, runsPerPatch, modelDims, box, region, denoise } = await modelGridStages(
    image,
    model,
    transform,
    opts,
    ttaAxes,
    progress,
    ms,
  );

  const t = performance.now();
  let ppStats: PostprocessStats | undefined;
  if (rules) {
    throwIfAborted(opts.signal);
    progress.report(0.97, 'post-processing');
    ppStats = postprocessLabel(
      back.label,
      image.dims,
      image.spacingMm,
      rules,
      image.data,
      transform.srcAxis[2] as 0 | 1 | 2,
    );
  }
  const postprocessMs = performance.now() - t;

  const voxelsPerClass = new Array<number>(model.classes).fill(0);
  const counts = new Float64Array(256);
  for (let n = 0; n < back.label.length; n++) counts[back.label[n]]++;
  for (let c = 0; c < model.classes; c++) voxelsPerClass[c] = counts[c];

  const geometry = {
    dims: image.dims.slice() as Vec3,
    spacingMm: image.spacingMm.slice() as Vec3,
    originMm: image.originMm.slice() as Vec3,
    direction: image.direction.slice() as Volume['direction'],
  };
  const label: Volume = {
    ...geometry,
    data: back.label,
    modality: 'SEG',
    description: `pre-label of ${image.description || image.source}`,
    source: image.source,
  };
  const uncertainty: Volume | undefined = back.uncertainty
    ? {
        ...geometry,
        data: back.uncertainty,
        modality: 'OT',
        description: `pre-label uncertainty (${runsPerPatch > 1 && opts.uncertainty === 'tta-disagreement' ? 'TTA disagreement' : 'normalised entropy'}${back.uncertainty instanceof Uint8Array ? ', 0..255 = 0..1' : ''})`,
        source: image.source,
      }
    : undefined;
  progress.report(1, 'done');
  return {
    label,
    uncertainty,
    stats: {
      stageMs: {
        ...ms,
        postprocess: postprocessMs,
        total: performance.now() - t0,
      },
      voxelsPerClass,
      modelGridDims: modelDims,
      patches,
      skippedPatches,
      runsPerPatch,
      ...(box ? { bodyBox: box } : {}),
      postprocess: ppStats,
      ...(region ? { anatomyRegion: region } : {}),
      ...(denoise ? { denoise } : {}),
      settings: {
        overlap: opts.overlap ?? DEFAULT_OVERLAP,
        ttaAxes,
        postprocess: ppStats !== undefined,
        cropToBody: box !== null,
        anatomyRegion: region !== null && region.restricted,
        denoised: (denoise?.passes ?? 0) > 0,
        uncertainty: opts.uncertainty ?? 'entropy',
        patchSize: [...model.patchSize],
        targetSpacingMm: [...model.targetSpacingMm],
      },
    },
  };
}

/**
 * The axes mirror TTA flips: `true` = the axes the model was trained mirrored along (all three for a model that
 * names none), an array as given, false or absent none.
 */
export function ttaAxesFor(tta: PredictOptions['tta'], model: SegmentationModel): number[] {
  if (tta === true) return [...(model.mirrorAxes ?? [0, 1, 2])];
  return Array.isArray(tta) ? [...tta] : [];
}

/**
 * Resample, normalise, sliding window, map back. Kept in its own function so the model-grid image and
 * probabilities go out of scope (and can be collected) as soon as the full-resolution label exists.
 */
async function modelGridStages(
  image: Volume,
  model: SegmentationModel,
  transform: AxisTransform,
  opts: PredictOptions,
  ttaAxes: number[],
  progress: ProgressReporter,
  ms: { resample: number; normalise: number; inference: number; mapBack: number },
): Promise<{
  back: MapBackOutput;
  patches: number;
  skippedPatches: number;
  runsPerPatch: number;
  modelDims: Vec3;
  box: BodyBox | null;
  region: RegionStats | null;
  denoise: DenoiseResult | null;
}> {
  // Reorientation is folded into the resampler (strided reads): no full-resolution copy.
  let t = performance.now();
  const canonSpacing = transform.srcAxis.map((s) => image.spacingMm[s]) as Vec3;
  const modelDims = resampledDims(transform.dims, canonSpacing, model.targetSpacingMm);
  const grid: Vec3 = [modelDims[2], modelDims[1], modelDims[0]]; // tensor order [D, H, W]
  let box: BodyBox | null = null;
  const restrict = regionClasses(model, opts);
  let region: RegionStats | null = null;
  let denoise: DenoiseResult | null = null;
  const sw = await (async () => {
    const input = resampleToGrid(image.data, transform, modelDims);
    ms.resample = performance.now() - t;
    progress.report(0.04, 'resampled');
    throwIfAborted(opts.signal);
    t = performance.now();
    if (opts.denoise !== false) denoise = denoiseInPlace(input, [grid[2], grid[1], grid[0]], model.targetSpacingMm);
    if (opts.cropToBody !== false) box = bodyBox(input, grid);
    const ts = model.targetSpacingMm;
    const spacing: Vec3 = [ts[2], ts[1], ts[0]];
    const landmarks = restrict ? findLandmarks(input, grid, spacing) : null;
    const found =
      !restrict || !landmarks
        ? null
        : restrict.organ === 'pancreas'
          ? pancreasRegion(input, grid, spacing, {}, landmarks)
          : kidneyRegion(input, grid, spacing, landmarks);
    normaliseInPlace(input, model.intensity);
    const swInput = box ? cropGrid(input, grid, box) : input;
    // Every foreground class kept to the region: a window with no region voxel cannot add a label.
    const allKept =
      restrict !== null &&
      Array.from({ length: model.classes - 1 }, (_, c) => c + 1).every((c) => restrict.classes.includes(c));
    const mask = found && allKept ? found.mask : null;
    const at: Vec3 = box ? box.start : [0, 0, 0];
    const skipWindow =
      mask && opts.skipOutsideRegion !== false
        ? (start: Vec3, shape: Vec3) =>
            !anyInBox(mask, grid, [start[0] + at[0], start[1] + at[1], start[2] + at[2]], shape)
        : undefined;
    ms.normalise = performance.now() - t;
    progress.report(0.05, 'normalised');
    t = performance.now();
    const res = await slidingWindow(swInput, box ? box.size : grid, model, {
      overlap: opts.overlap,
      ttaAxes,
      uncertainty: opts.uncertainty,
      padValue: normalisedValue(-1024, model.intensity),
      edgeD: (opts.shortScanPad ?? model.shortScanPad ?? 'air') === 'edge',
      signal: opts.signal,
      onProgress: progress.stage(0.05, 0.85),
      skipWindow,
    });
    if (box) {
      const full = uncropProbabilities(res.probs, res.uncertainty, model.classes, grid, box);
      res.probs = full.probs;
      res.uncertainty = full.uncertainty;
    }
    if (restrict) {
      region = found
        ? {
            restricted: true,
            allowedShare: Math.round(found.allowedShare * 1e4) / 1e4,
            pelvisTop: found.pelvisTop,
            thoraxBottom: found.thoraxBottom,
            removedVoxels: restrictClasses(res.probs, model.classes, found.mask, restrict.classes),
          }
        : { restricted: false };
      // Outside the region every voxel is background for certain (as outside the body box).
      if (mask && res.uncertainty) for (let i = 0; i < mask.length; i++) if (!mask[i]) res.uncertainty[i] = 0;
    }
    ms.inference = performance.now() - t;
    return res;
  })();
  t = performance.now();
  const back = await mapBackToOriginal(
    { probs: sw.probs, classes: model.classes, modelDims, uncertainty: sw.uncertainty },
    transform,
    { uncertaintyFormat: opts.uncertaintyFormat, signal: opts.signal, onProgress: progress.stage(0.85, 0.97) },
  );
  ms.mapBack = performance.now() - t;
  return {
    back,
    patches: sw.patches,
    skippedPatches: sw.skippedPatches,
    runsPerPatch: sw.runsPerPatch,
    modelDims,
    box,
    region,
    denoise,
  };
}
