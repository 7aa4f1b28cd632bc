// Test helpers for the pre-segmentation pipeline: seeded random numbers, small volumes, fake models.
import type { Direction, Vec3, Volume } from '../../src-main/imaging/volume';
import type { SegmentationModel } from '../../src-main/predict/types';

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makeVolume(
  dims: Vec3,
  data: Volume['data'],
  geometry: Partial<Pick<Volume, 'spacingMm' | 'originMm' | 'direction'>> = {},
): Volume {
  return {
    data,
    dims,
    spacingMm: geometry.spacingMm ?? [1, 1, 1],
    originMm: geometry.originMm ?? [0, 0, 0],
    direction: geometry.direction ?? [1, 0, 0, 0, 1, 0, 0, 0, 1],
    modality: 'CT',
    description: 'test volume',
    source: 'test.nii.gz',
  };
}

/** All 48 signed axis permutations as direction cosines (i, j, k axis vectors in LPS). */
export function signedPermutations(): Direction[] {
  const perms = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
  ];
  const out: Direction[] = [];
  for (const p of perms) {
    for (let signs = 0; signs < 8; signs++) {
      const d = new Array<number>(9).fill(0) as Direction;
      for (let a = 0; a < 3; a++) d[a * 3 + p[a]] = signs & (1 << a) ? -1 : 1;
      out.push(d);
    }
  }
  return out;
}

/** Rotation of the direction matrix by `deg` about LPS axis `about`. */
export function rotated(d: Direction, about: 0 | 1 | 2, deg: number): Direction {
  const c = Math.cos((deg * Math.PI) / 180);
  const s = Math.sin((deg * Math.PI) / 180);
  const [u, v] = about === 0 ? [1, 2] : about === 1 ? [2, 0] : [0, 1];
  const out = d.slice() as Direction;
  for (let a = 0; a < 3; a++) {
    const x = d[a * 3 + u];
    const y = d[a * 3 + v];
    out[a * 3 + u] = c * x - s * y;
    out[a * 3 + v] = s * x + c * y;
  }
  return out;
}

type PatchFn = (patch: Float32Array, shape: [number, number, number]) => Float32Array;

export function fakeModel(
  fn: PatchFn,
  overrides: Partial<Omit<SegmentationModel, 'predictPatch' | 'predictPatches' | 'batchFor'>> & {
    delayMs?: number;
    calls?: { n: number };
    /** Serve batches of up to this many patches through predictPatches, recording each batch's size. */
    batch?: number;
    batches?: number[];
  } = {},
): SegmentationModel {
  const patchSize = overrides.patchSize ?? [8, 8, 8];
  const model: SegmentationModel = {
    classes: overrides.classes ?? 2,
    classNames: overrides.classNames,
    patchSize,
    targetSpacingMm: overrides.targetSpacingMm ?? [1, 1, 1],
    // Identity normalisation over a wide window: the "model" sees raw values.
    intensity: overrides.intensity ?? { clipHu: [-1e6, 1e6], mean: 0, std: 1 },
    canonicalFrame: overrides.canonicalFrame,
    logitsLayout: overrides.logitsLayout,
    maxPatchSize: overrides.maxPatchSize,
    patchMultiple: overrides.patchMultiple,
    ...(overrides.mirrorAxes ? { mirrorAxes: overrides.mirrorAxes } : {}),
    ...(overrides.shortScanPad ? { shortScanPad: overrides.shortScanPad } : {}),
    async predictPatch(
      patch: Float32Array,
      signal?: AbortSignal,
      shape?: [number, number, number],
    ): Promise<Float32Array> {
      if (overrides.calls) overrides.calls.n++;
      if (overrides.delayMs) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, overrides.delayMs);
          signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(new Error('aborted inside the model'));
          });
        });
      }
      const s = shape ?? patchSize;
      if (patch.length !== s[0] * s[1] * s[2])
        throw new Error(`patch of ${patch.length} voxels for shape ${s.join('×')}`);
      return fn(patch, s);
    },
  };
  const batch = overrides.batch;
  if (batch) {
    model.batchFor = () => batch;
    model.predictPatches = async (patches, signal, shape) => {
      if (patches.length > batch) throw new Error(`batch of ${patches.length} > ${batch}`);
      overrides.batches?.push(patches.length);
      const out: Float32Array[] = [];
      for (const p of patches) out.push(await model.predictPatch(p, signal, shape));
      return out;
    };
  }
  return model;
}

/** Logits that are a pointwise function of the input: classes c get f(x)[c]. */
export function pointwise(classes: number, f: (x: number, c: number) => number): PatchFn {
  return (patch) => {
    const P = patch.length;
    const out = new Float32Array(classes * P);
    for (let c = 0; c < classes; c++) for (let n = 0; n < P; n++) out[c * P + n] = f(patch[n], c);
    return out;
  };
}

/** Logits from the patch-local position only (not flip-equivariant): f(z, y, x)[c]. */
export function positional(classes: number, f: (z: number, y: number, x: number, c: number) => number): PatchFn {
  return (patch, [pd, ph, pw]) => {
    const P = pd * ph * pw;
    const out = new Float32Array(classes * P);
    for (let c = 0; c < classes; c++) {
      let n = 0;
      for (let z = 0; z < pd; z++)
        for (let y = 0; y < ph; y++) for (let x = 0; x < pw; x++) out[c * P + n++] = f(z, y, x, c);
    }
    return out;
  };
}

/**
 * Direction-sensing model: logits [0.5, dW, dH, dD] where dA is the input's forward difference
 * along tensor axis A (backward at the patch edge). On a ramp rising along one canonical axis it
 * answers that axis' class everywhere; on a falling ramp, background. Catches flips and transposes.
 */
export const gradientModel: PatchFn = (patch, [pd, ph, pw]) => {
  const P = pd * ph * pw;
  const out = new Float32Array(4 * P);
  const at = (z: number, y: number, x: number): number => patch[(z * ph + y) * pw + x];
  let n = 0;
  for (let z = 0; z < pd; z++) {
    for (let y = 0; y < ph; y++) {
      for (let x = 0; x < pw; x++, n++) {
        const v = at(z, y, x);
        out[n] = 0.5;
        out[P + n] = x + 1 < pw ? at(z, y, x + 1) - v : v - at(z, y, x - 1);
        out[2 * P + n] = y + 1 < ph ? at(z, y + 1, x) - v : v - at(z, y - 1, x);
        out[3 * P + n] = z + 1 < pd ? at(z + 1, y, x) - v : v - at(z - 1, y, x);
      }
    }
  }
  return out;
};
