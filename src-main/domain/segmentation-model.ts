// The contract between the pre-segmentation pipeline (predict/) and whatever network produces logits
// (engine/model/segmentation_model.ts): both sides import it from here. Axis conventions: predict/types.ts.
// Types only, no imports from outside src-main/domain.

/** The frame a network was trained in: voxel axes along +x, +y, +z of RAS (NIfTI's convention) or LPS. */
export type CanonicalFrame = 'RAS' | 'LPS';

/** How raw CT values become network input: clip to [lo, hi] HU, then (x - mean) / std. */
export interface IntensityPreprocessing {
  clipHu: [number, number];
  mean: number;
  std: number;
}

/**
 * What the pipeline needs from a model beside its weights. model.json carries exactly these fields
 * (see engine/io/inference_spec.ts for the on-disk form and its validation).
 */
export interface InferenceSpec {
  /** Number of output channels including background (class value = channel index). */
  classes: number;
  /** Optional class names, index = label value, [0] = 'background'; used to pick post-processing rules. */
  classNames?: string[];
  /** Patch the network sees, tensor order [D, H, W]. */
  patchSize: [number, number, number];
  /**
   * Optional largest window, tensor order [D, H, W]. A fully convolutional network with per-voxel
   * norms may run on windows larger than its training patch: windows then grow (in multiples of
   * `patchMultiple`) up to this size, so a small scan runs in one window and a large one in few,
   * which cuts the work that overlap costs. Absent: every window is `patchSize`.
   */
  maxPatchSize?: [number, number, number];
  /** Window sides must be multiples of this (the network's total downsampling); default 16. */
  patchMultiple?: number;
  /** Voxel spacing the network was trained at, per canonical axis (i, j, k), mm. */
  targetSpacingMm: [number, number, number];
  intensity: IntensityPreprocessing;
  /** Frame the network was trained in; default 'RAS'. */
  canonicalFrame?: CanonicalFrame;
  /**
   * Tensor axes (0 = D, 1 = H, 2 = W) along which the network was trained mirrored: test-time augmentation
   * (`tta: true`) mirrors along these only, since a mirror the network never saw (a pancreas with its head on the
   * left, a kidney upside down) is an input from outside its training. Empty: TTA has nothing to mirror. Absent:
   * all three (a model that says nothing, such as the threshold stand-in).
   */
  mirrorAxes?: number[];
  /**
   * What windows read beyond the ends of a scan shorter than the window along the slice axis (predict.ts
   * shortScanPad): 'edge', the nearest end slice, or 'air'. A setting measured per model; absent: 'air'.
   */
  shortScanPad?: 'edge' | 'air';
}

export interface SegmentationModel extends InferenceSpec {
  /**
   * Layout of the logits predictPatch returns: 'CDHW' (default, channels first) or 'DHWC'
   * (channels last, what a tfjs network computes natively); the pipeline transposes as needed.
   */
  logitsLayout?: 'CDHW' | 'DHWC';
  /**
   * Runs the network on one normalised patch [1, D, H, W] (D, H, W = `shape`, which is patchSize
   * unless maxPatchSize lets the pipeline use larger windows; with one channel
   * this is also the channels-last layout) and resolves to logits [classes, D, H, W] (or
   * [D, H, W, classes] for logitsLayout 'DHWC'). The pipeline never keeps a reference to `patch`
   * after the promise resolves and may reuse its buffer; the model must not keep it either.
   */
  predictPatch(patch: Float32Array, signal?: AbortSignal, shape?: [number, number, number]): Promise<Float32Array>;
  /**
   * Optional: several patches of one shape in one network run (batch), logits in the same order and layout as
   * predictPatch's. A batch keeps both cores busy through the small layers and the per-op overhead, so the
   * pipeline sends up to `batchFor(shape)` windows (or mirrored copies) at a time; absent, one at a time.
   */
  predictPatches?(
    patches: Float32Array[],
    signal?: AbortSignal,
    shape?: [number, number, number],
  ): Promise<Float32Array[]>;
  /** Windows of `shape` per predictPatches call (memory grows with it); default 1. */
  batchFor?(shape: [number, number, number]): number;
  /** Frees what the model keeps between patches of one volume (called when a sliding window ends). */
  releaseBuffers?(): void;
}
