// Public entry of the pre-segmentation pipeline (see predict.ts for the stages, types.ts for the model contract).
export { predictVolume } from './predict';
export type { PredictOptions, PredictResult, PredictStats } from './predict';
export type {
  CanonicalFrame,
  InferenceSpec,
  IntensityPreprocessing,
  ProgressCallback,
  SegmentationModel,
} from './types';
export { parseInferenceSpec } from '../engine/io/inference_spec';
export { canonicalTransform, reorientVolume, restoreVolume } from '../imaging/orient';
export type { AxisTransform } from '../imaging/orient';
export { postprocessLabel, rulesForClassNames, rulesForSchema, DEFAULT_MIN_ISLAND_MM3 } from './postprocess';
export type { PostprocessRules, PostprocessStats } from './postprocess';
export type { UncertaintyKind } from './sliding-window';
export { diceByClass } from './metrics';
export type { DiceResult } from './metrics';
