// Submitted cases → training cases on the model's grid: reorient to the canonical frame, resample to the
// target spacing (image trilinear, labels nearest), normalise, and correction-aware voxel weights.
import { checkGeometry, InputError, voxelCount } from '../imaging/volume';
import type { Vec3, Volume, VoxelArray } from '../imaging/volume';
import { canonicalTransform } from '../imaging/orient';
import type { AxisTransform } from '../imaging/orient';
import { resampledDims, resampleToGrid } from '../imaging/resample';
import { normaliseInPlace, normalisedValue } from '../imaging/intensity';
import type { ModelMeta } from '../engine/io/model_folder';
import { sameGrid } from './data';
import { foregroundIndices } from './sampler';
import type { TrainCase } from './sampler';

/** What preparation needs of a submitted case (FinetuneCase in finetune.ts). */
export interface CaseVolumes {
  id: string;
  image: Volume;
  label: Volume;
  prelabel?: Volume;
}

function checkVolume(id: string, what: string, v: Volume): void {
  const where = `case ${id}`;
  try {
    checkGeometry(`${where} ${what}`, v);
  } catch (err) {
    throw new InputError(where, `${what}: ${(err as Error).message}`);
  }
  if (v.data.length !== voxelCount(v.dims)) {
    throw new InputError(
      where,
      `the ${what} holds ${v.data.length} voxels but its dims ${v.dims.join('×')} need ${voxelCount(v.dims)}`,
    );
  }
}

/** Every check a submitted case must pass, with errors naming the case id. */
export function checkCase(c: CaseVolumes, classes: number): void {
  checkVolume(c.id, 'image', c.image);
  checkVolume(c.id, 'label', c.label);
  if (!sameGrid(c.image, c.label)) {
    throw new InputError(
      `case ${c.id}`,
      `the label is not on the image's grid (dims ${c.label.dims.join('×')} vs ${c.image.dims.join('×')}, or spacing/origin/orientation differ)`,
    );
  }
  if (c.prelabel) {
    checkVolume(c.id, 'pre-label', c.prelabel);
    if (!sameGrid(c.image, c.prelabel)) {
      throw new InputError(
        `case ${c.id}`,
        `the pre-label is not on the image's grid (dims ${c.prelabel.dims.join('×')} vs ${c.image.dims.join('×')}, or spacing/origin/orientation differ)`,
      );
    }
  }
  const d = c.label.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (!(v >= 0 && v < classes && Number.isInteger(v))) {
      throw new InputError(`case ${c.id}`, `the label holds the value ${v}; the model has classes 0..${classes - 1}`);
    }
  }
}

/** Nearest-neighbour resampling through the canonical transform, with the same half-voxel map as the image. */
export function resampleNearest(src: VoxelArray, t: AxisTransform, outDims: Vec3): Uint8Array {
  const maps = [0, 1, 2].map((a) => {
    const n = t.dims[a];
    const m = outDims[a];
    const idx = new Int32Array(m);
    for (let o = 0; o < m; o++) {
      const x = n === m ? o : (o + 0.5) * (n / m) - 0.5;
      idx[o] = Math.min(n - 1, Math.max(0, Math.round(x))) * t.strides[a];
    }
    return idx;
  });
  const out = new Uint8Array(outDims[0] * outDims[1] * outDims[2]);
  let o = 0;
  for (let z = 0; z < outDims[2]; z++) {
    for (let y = 0; y < outDims[1]; y++) {
      const row = t.baseOffset + maps[2][z] + maps[1][y];
      for (let x = 0; x < outDims[0]; x++) out[o++] = src[row + maps[0][x]];
    }
  }
  return out;
}

/**
 * One submitted case on the model grid. `correctionWeight` > 0 with a pre-label: voxel weight
 * 1 + correctionWeight where the submitted label differs from the pre-label (on the model grid), else 1.
 */
export function prepareCase(
  c: CaseVolumes,
  inference: ModelMeta['inference'],
  classes: number,
  correctionWeight = 0,
): TrainCase {
  checkCase(c, classes);
  const t = canonicalTransform(c.image, inference.canonicalFrame ?? 'RAS');
  const canonSpacing = t.srcAxis.map((s) => c.image.spacingMm[s]) as Vec3;
  const dims = resampledDims(t.dims, canonSpacing, inference.targetSpacingMm);
  const image = normaliseInPlace(resampleToGrid(c.image.data, t, dims), inference.intensity);
  const labels = resampleNearest(c.label.data, t, dims);
  let weights: Float32Array | undefined;
  if (correctionWeight > 0 && c.prelabel) {
    const pre = resampleNearest(c.prelabel.data, t, dims);
    weights = new Float32Array(labels.length);
    for (let i = 0; i < labels.length; i++) weights[i] = labels[i] !== pre[i] ? 1 + correctionWeight : 1;
  }
  return {
    name: c.id,
    image,
    labels,
    dimsDhw: [dims[2], dims[1], dims[0]],
    foreground: foregroundIndices(labels),
    padValue: normalisedValue(-1024, inference.intensity),
    ...(weights ? { weights } : {}),
    spacingDhwMm: [inference.targetSpacingMm[2], inference.targetSpacingMm[1], inference.targetSpacingMm[0]],
  };
}
