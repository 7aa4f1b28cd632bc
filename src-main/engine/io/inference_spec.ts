// The inference part of a model folder's model.json, validated with errors that name the file.
//
// On disk (other keys of model.json — training history, metrics, provenance — are ignored here):
//   {
//     "classes": ["background", "kidney", "tumor", "cyst"],     // index = label value
//     "inference": {
//       "canonicalFrame": "RAS",                   // optional, default RAS
//       "targetSpacingMm": [3, 3, 3],              // per canonical axis i, j, k (x, y, z)
//       "patchSize": [64, 64, 64],                 // tensor order D, H, W
//       "maxPatchSize": [160, 160, 160],           // optional: windows may grow to this (see types.ts)
//       "intensity": { "clipHu": [-200, 300], "mean": 50, "std": 120 },
//       "mirrorAxes": [2],                         // optional: axes trained mirrored, the only ones TTA flips
//       "shortScanPad": "edge"                     // optional: beyond a scan shorter than a window: "edge" | "air"
//     }
//   }
import { InputError } from '../../imaging/volume';
import { checkIntensity } from '../../imaging/intensity';
import type { CanonicalFrame, InferenceSpec } from '../../domain/segmentation-model';

function isNumberTriple(v: unknown, positiveInt = false): v is [number, number, number] {
  return (
    Array.isArray(v) &&
    v.length === 3 &&
    v.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0 && (!positiveInt || Number.isInteger(x)))
  );
}

export function parseInferenceSpec(json: unknown, file: string): InferenceSpec {
  if (typeof json !== 'object' || json === null) throw new InputError(file, 'model.json is not a JSON object');
  const o = json as Record<string, unknown>;
  const names = o.classes;
  if (!Array.isArray(names) || names.length < 2 || names.length > 255 || !names.every((n) => typeof n === 'string')) {
    throw new InputError(file, '"classes" must list 2 to 255 class names, background first');
  }
  const inf = o.inference;
  if (typeof inf !== 'object' || inf === null) throw new InputError(file, 'the "inference" section is missing');
  const i = inf as Record<string, unknown>;
  if (!isNumberTriple(i.targetSpacingMm))
    throw new InputError(file, '"inference.targetSpacingMm" must be three positive numbers (mm)');
  if (!isNumberTriple(i.patchSize, true))
    throw new InputError(file, '"inference.patchSize" must be three positive whole numbers [D, H, W]');
  if (i.maxPatchSize !== undefined && !isNumberTriple(i.maxPatchSize, true))
    throw new InputError(file, '"inference.maxPatchSize" must be three positive whole numbers [D, H, W]');
  const frame = i.canonicalFrame ?? 'RAS';
  if (frame !== 'RAS' && frame !== 'LPS')
    throw new InputError(file, '"inference.canonicalFrame" must be "RAS" or "LPS"');
  const mirror = i.mirrorAxes;
  if (
    mirror !== undefined &&
    !(
      Array.isArray(mirror) &&
      mirror.every((a) => a === 0 || a === 1 || a === 2) &&
      new Set(mirror).size === mirror.length
    )
  )
    throw new InputError(file, '"inference.mirrorAxes" must list distinct tensor axes 0, 1, 2 (D, H, W)');
  const pad = i.shortScanPad;
  if (pad !== undefined && pad !== 'edge' && pad !== 'air')
    throw new InputError(file, '"inference.shortScanPad" must be "edge" or "air"');
  const it = i.intensity as Record<string, unknown> | undefined;
  if (
    typeof it !== 'object' ||
    it === null ||
    !Array.isArray(it.clipHu) ||
    typeof it.mean !== 'number' ||
    typeof it.std !== 'number'
  ) {
    throw new InputError(file, '"inference.intensity" must be { clipHu: [lo, hi], mean, std }');
  }
  const intensity = {
    clipHu: [Number(it.clipHu[0]), Number(it.clipHu[1])] as [number, number],
    mean: it.mean,
    std: it.std,
  };
  try {
    checkIntensity(intensity, 'model.json');
  } catch (err) {
    throw new InputError(file, (err as Error).message);
  }
  return {
    classes: names.length,
    classNames: names as string[],
    patchSize: i.patchSize.slice() as [number, number, number],
    ...(i.maxPatchSize ? { maxPatchSize: i.maxPatchSize.slice() as [number, number, number] } : {}),
    targetSpacingMm: i.targetSpacingMm.slice() as [number, number, number],
    intensity,
    canonicalFrame: frame as CanonicalFrame,
    ...(mirror !== undefined ? { mirrorAxes: (mirror as number[]).slice() } : {}),
    ...(pad !== undefined ? { shortScanPad: pad } : {}),
  };
}
