// The contract between the pre-segmentation pipeline and whatever network produces logits.
//
// Axis conventions (see src-main/imaging/volume.ts and MODEL.md):
// - Tensors are [C, D, H, W] with W fastest; for a volume on its voxel grid that is [C, nk, nj, ni].
// - `targetSpacingMm` is given per voxel axis (i, j, k) = (W, H, D) of the CANONICAL frame, like
//   Volume.spacingMm; `patchSize` is in tensor order (D, H, W), like every tensor shape.
// - The canonical frame is the voxel grid permuted/flipped so that i, j, k point (as nearly as the
//   grid allows) along +x, +y, +z of RAS (NIfTI convention, the default) or LPS.

export type { CanonicalFrame, IntensityPreprocessing } from '../domain/segmentation-model';

export type { InferenceSpec, SegmentationModel } from '../domain/segmentation-model';

/** Called with a fraction in [0, 1] that never decreases, and a short human message. */
export type ProgressCallback = (fraction: number, message: string) => void;
