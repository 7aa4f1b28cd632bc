// Training-patch augmentation (rotation, scale, allowed flips, intensity shift/scale, noise; optionally a short
// field of view, per-class contrast, blur and gamma), drawn from the seeded Rng.
//
// Spatial augmentation is folded into the crop: every patch voxel reads the case volume at
// centre + M · (offset from the patch centre), trilinear for the image and nearest for labels and
// weights, so rotated corners pull real anatomy instead of padding. M = identity reads exactly the
// voxels cropPatch copies.
import { blurAxis } from '../util/blur';
import type { Rng } from '../engine/model/rng';
import type { TrainCase } from './sampler';
import { mirrorAxesForSchema } from '../domain/label-schemas';

export type Mat3 = [number, number, number, number, number, number, number, number, number];

export interface AugmentSettings {
  /** Probability that a patch is rotated/scaled at all. */
  spatialProb: number;
  /** Largest rotation about each tensor axis [D, H, W] in degrees (D: the axial-plane rotation). */
  maxRotationDeg: [number, number, number];
  /** Isotropic scale range. */
  scaleRange: [number, number];
  /** Tensor axes (0 = D, 1 = H, 2 = W) that may be mirrored; each with probability 0.5. */
  flipAxes: number[];
  /** Additive shift of normalised intensities, uniform in ±this. */
  intensityShift: number;
  /** Multiplicative intensity range. */
  intensityScaleRange: [number, number];
  /** Probability of Gaussian noise, and the largest σ (normalised units); σ is drawn uniformly up to it. */
  noiseProb: number;
  maxNoiseSigma: number;
  /**
   * What real scans vary beyond that (absent in older recorded settings, which then draw exactly as before):
   * a short field of view along the D (z) axis around the patch, fovMm long (outside it the patch is padding
   * with label 0, as the sliding window pads a scan that covers only the kidneys); each foreground class's
   * intensity shifted on its own by up to ±maxClassShift (normalised units), so an organ is recognised by shape
   * and context at any enhancement; a Gaussian blur of up to maxBlurSigma voxels per axis drawn independently
   * (thick slices, soft kernels); nnU-Net's gamma on the patch's range.
   */
  fovProb?: number;
  fovMm?: [number, number];
  /**
   * With a short field of view: its centre lies up to this far (mm, uniform) from the patch centre along D, so a
   * short scan can miss the patch's foreground (a slab above the kidneys: spleen and liver, no kidney). Absent: the
   * field of view always holds the patch centre (a kidney-centred patch always kept its kidney).
   */
  fovOffsetMm?: number;
  classShiftProb?: number;
  maxClassShift?: number;
  /**
   * When set, lesion classes (value ≥ 2: tumour, cyst) move with their organ (class 1) and differ from its
   * shift by at most this much, so a lesion keeps its contrast against the organ (a cyst stays darker than the
   * kidney, an enhancing tumour does not turn into a cyst) while the organ's own enhancement still varies.
   * Absent: every class shifts on its own.
   */
  lesionShiftJitter?: number;
  blurProb?: number;
  maxBlurSigma?: number;
  gammaProb?: number;
  gammaRange?: [number, number];
}

/** The extras of the synthesis recipe on top of the defaults (the starters' and fine-tuning's settings). */
export function synthAugmentSettings(schema: string): AugmentSettings {
  return {
    ...defaultAugmentSettings(schema),
    spatialProb: 0.6,
    scaleRange: [0.8, 1.25],
    intensityShift: 0.15,
    intensityScaleRange: [0.85, 1.15],
    noiseProb: 0.2,
    maxNoiseSigma: 0.1,
    fovProb: 0.25,
    fovMm: [75, 240],
    classShiftProb: 0.35,
    maxClassShift: 0.6,
    blurProb: 0.25,
    maxBlurSigma: 1.2,
    gammaProb: 0.3,
    gammaRange: [0.7, 1.5],
  };
}

/**
 * The augmentation of a fine-tune: the synthesis recipe's, with lesions shifting with their organ as the model's
 * starter trained (`starterSettings.lesionShiftJitter`). Shifted on their own, a tumour turns as bright as its
 * kidney half the time, and a fine-tune forgot tumours (held-out tumour Dice 0.56 -> 0.43 pooled).
 */
export function finetuneAugmentSettings(schema: string, starterSettings?: Record<string, unknown>): AugmentSettings {
  const jitter = starterSettings?.lesionShiftJitter;
  const blur = starterSettings?.blur as { prob?: unknown; maxSigma?: unknown } | undefined;
  const fov = starterSettings?.fov as { prob?: unknown; mm?: unknown; offsetMm?: unknown } | undefined;
  const fovOk =
    typeof fov?.prob === 'number' &&
    fov.prob >= 0 &&
    fov.prob <= 1 &&
    Array.isArray(fov.mm) &&
    fov.mm.length === 2 &&
    fov.mm.every((v) => typeof v === 'number' && v > 0) &&
    (fov.mm[0] as number) <= (fov.mm[1] as number) &&
    typeof fov.offsetMm === 'number' &&
    fov.offsetMm >= 0;
  const blurOk =
    typeof blur?.prob === 'number' &&
    blur.prob >= 0 &&
    blur.prob <= 1 &&
    typeof blur.maxSigma === 'number' &&
    blur.maxSigma >= 0 &&
    blur.maxSigma <= 4;
  return {
    ...synthAugmentSettings(schema),
    ...(typeof jitter === 'number' && jitter >= 0 && jitter <= 1 ? { lesionShiftJitter: jitter } : {}),
    // The blur the starter trained with (starterSettings.blur), when recorded.
    ...(blurOk ? { blurProb: blur.prob as number, maxBlurSigma: blur.maxSigma as number } : {}),
    // And its short fields of view (starterSettings.fov).
    ...(fovOk
      ? { fovProb: fov.prob as number, fovMm: fov.mm as [number, number], fovOffsetMm: fov.offsetMm as number }
      : {}),
  };
}

export function defaultAugmentSettings(schema: string): AugmentSettings {
  return {
    spatialProb: 0.5,
    maxRotationDeg: [15, 10, 10],
    scaleRange: [0.85, 1.15],
    flipAxes: mirrorAxesForSchema(schema),
    intensityShift: 0.1,
    intensityScaleRange: [0.9, 1.1],
    noiseProb: 0.15,
    maxNoiseSigma: 0.05,
  };
}

/** One patch's draw. */
export interface AugmentDraw {
  /** Output offset (voxels, [D, H, W]) → source offset (voxels). */
  matrix: Mat3;
  intensityScale: number;
  intensityShift: number;
  /** 0: no noise. */
  noiseSigma: number;
  /** Field of view along D as a fraction window around the centre: [below, above] in voxels; absent: whole volume. */
  fovVox?: [number, number];
  /** Normalised shift per class value (index = class); absent: none. */
  classShift?: number[];
  /** Blur σ per tensor axis [D, H, W] in voxels; absent: none. */
  blurSigma?: [number, number, number];
  /** Gamma exponent; absent: 1. */
  gamma?: number;
}

export const IDENTITY3: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

function mul3(a: Mat3, b: Mat3): Mat3 {
  const o = new Array<number>(9).fill(0) as Mat3;
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) o[r * 3 + c] += a[r * 3 + k] * b[k * 3 + c];
  return o;
}

/** Rotation about tensor axis `axis` by `rad` (right-handed in the other two axes' order). */
export function axisRotation(axis: number, rad: number): Mat3 {
  const c = Math.cos(rad);
  const s = Math.sin(rad);
  const [p, q] = axis === 0 ? [1, 2] : axis === 1 ? [0, 2] : [0, 1];
  const m: Mat3 = [...IDENTITY3];
  m[p * 3 + p] = c;
  m[p * 3 + q] = -s;
  m[q * 3 + p] = s;
  m[q * 3 + q] = c;
  return m;
}

/**
 * Voxel-space matrix for a physical rotation (radians about D, H, W), isotropic scale and flips:
 * diag(1/spacing) · R · scale · diag(spacing) · F, so anisotropic grids are not sheared.
 */
export function spatialMatrix(
  rotationRad: [number, number, number],
  scale: number,
  flips: [boolean, boolean, boolean],
  spacingDhwMm: [number, number, number] = [1, 1, 1],
): Mat3 {
  const r = mul3(
    mul3(axisRotation(0, rotationRad[0]), axisRotation(1, rotationRad[1])),
    axisRotation(2, rotationRad[2]),
  );
  const m = [...IDENTITY3] as Mat3;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      m[i * 3 + j] = (r[i * 3 + j] * scale * spacingDhwMm[j] * (flips[j] ? -1 : 1)) / spacingDhwMm[i];
    }
  }
  return m;
}

/** Draws one patch's augmentation; always consumes the same number of draws, so sequences stay aligned. */
export function drawAugment(s: AugmentSettings, rng: Rng, spacingDhwMm?: [number, number, number]): AugmentDraw {
  const spatial = rng.next() < s.spatialProb;
  const rot = s.maxRotationDeg.map((d) => (rng.uniform(-d, d) * Math.PI) / 180) as [number, number, number];
  const scale = rng.uniform(s.scaleRange[0], s.scaleRange[1]);
  const flipDraws = [rng.next(), rng.next(), rng.next()];
  const flips = [0, 1, 2].map((a) => s.flipAxes.includes(a) && flipDraws[a] < 0.5) as [boolean, boolean, boolean];
  const matrix = spatial
    ? spatialMatrix(rot, scale, flips, spacingDhwMm)
    : spatialMatrix([0, 0, 0], 1, flips, spacingDhwMm);
  const intensityScale = rng.uniform(s.intensityScaleRange[0], s.intensityScaleRange[1]);
  const intensityShift = rng.uniform(-s.intensityShift, s.intensityShift);
  const noisy = rng.next() < s.noiseProb;
  const sigma = rng.uniform(0, s.maxNoiseSigma);
  const draw: AugmentDraw = { matrix, intensityScale, intensityShift, noiseSigma: noisy ? sigma : 0 };
  if (s.fovProb !== undefined) drawExtras(s, rng, spacingDhwMm ?? [1, 1, 1], draw);
  return draw;
}

/** The synthesis extras' draws (a fixed number whatever is drawn, so sequences stay aligned). */
function drawExtras(s: AugmentSettings, rng: Rng, spacingDhwMm: [number, number, number], d: AugmentDraw): void {
  const fov = rng.next() < (s.fovProb ?? 0);
  const [lo, hi] = s.fovMm ?? [80, 240];
  const lengthVox = rng.uniform(lo, hi) / spacingDhwMm[0];
  const below = rng.next() * lengthVox;
  if (s.fovOffsetMm === undefined) {
    if (fov) d.fovVox = [below, lengthVox - below];
  } else {
    const off = (rng.uniform(-1, 1) * s.fovOffsetMm) / spacingDhwMm[0];
    if (fov) d.fovVox = [lengthVox / 2 - off, lengthVox / 2 + off];
  }
  const shifted = rng.next() < (s.classShiftProb ?? 0);
  const shifts = Array.from({ length: 8 }, () => rng.uniform(-1, 1) * (s.maxClassShift ?? 0));
  if (shifted) {
    const j = s.lesionShiftJitter;
    const max = s.maxClassShift ?? 0;
    d.classShift =
      j === undefined
        ? [0, ...shifts.slice(1)]
        : [0, shifts[1], ...shifts.slice(2).map((v) => shifts[1] + (max > 0 ? (v / max) * j : 0))];
  }
  const blurred = rng.next() < (s.blurProb ?? 0);
  const sig = [rng.next(), rng.next(), rng.next()].map((u) => u * (s.maxBlurSigma ?? 0)) as [number, number, number];
  if (blurred) d.blurSigma = sig;
  const gammaOn = rng.next() < (s.gammaProb ?? 0);
  const [g0, g1] = s.gammaRange ?? [1, 1];
  // Log-uniform, so γ and 1/γ are equally likely when the range is symmetric in log.
  const g = Math.exp(rng.uniform(Math.log(g0), Math.log(g1)));
  if (gammaOn) d.gamma = g;
}

/** Label of a patch voxel read past a scan's end in edge mode: PAD_COPY + the end plane's class (until finishEdgePad). */
export const PAD_COPY = 128;

/**
 * Fills one patch (at offset `at` of the batch buffers) by reading `c` through `matrix` around
 * `centreDhw` (voxel coordinates of the patch centre in the case, may be fractional). Outside the
 * volume: padValue, label 0, weight 1. With `edgeD`, past the scan's ends along D (or its short field of view's)
 * the end planes are read instead, as the sliding window pads a short scan (shortScanPad 'edge'), and those
 * voxels are labelled PAD_COPY + the end plane's class: finishEdgePad turns them into the ignore label after
 * augmentAppearance has shifted them with their class.
 */
export function warpPatch(
  c: TrainCase,
  patch: [number, number, number],
  centreDhw: [number, number, number],
  matrix: Mat3,
  img: Float32Array,
  lab: Int32Array,
  wts: Float32Array | undefined,
  at: number,
  fovVox?: [number, number],
  edgeD = false,
): void {
  const [D, H, W] = c.dimsDhw;
  // A short field of view: source planes outside [zLo, zHi] are not in the scan. One drawn off the patch centre can
  // miss the case (past one of its ends): with air the patch is then all padding; with edge it holds the case's
  // nearest plane, as no scan has fewer than one (reading outside the case gave NaN patches, and a starter run died).
  const lo = fovVox ? Math.ceil(centreDhw[0] - fovVox[0]) : 0;
  const hi = fovVox ? Math.floor(centreDhw[0] + fovVox[1]) : D - 1;
  const zLo = edgeD ? Math.min(D - 1, Math.max(0, lo)) : Math.max(0, lo);
  const zHi = edgeD ? Math.max(0, Math.min(D - 1, hi)) : Math.min(D - 1, hi);
  const [pd, ph, pw] = patch;
  const m = matrix;
  const hd = (pd - 1) / 2;
  const hh = (ph - 1) / 2;
  const hw = (pw - 1) / 2;
  const HW = H * W;
  const src = c.image;
  const pad = c.padValue;
  // Trilinear read with out-of-volume neighbours counted as padding (past the ends along D, with edgeD, the end plane).
  const at3 = edgeD
    ? (z: number, y: number, x: number): number =>
        y >= 0 && y < H && x >= 0 && x < W ? src[Math.min(zHi, Math.max(zLo, z)) * HW + y * W + x] : pad
    : (z: number, y: number, x: number): number =>
        z >= zLo && z <= zHi && y >= 0 && y < H && x >= 0 && x < W ? src[z * HW + y * W + x] : pad;
  let o = at;
  for (let a = 0; a < pd; a++) {
    const da = a - hd;
    for (let b = 0; b < ph; b++) {
      const db = b - hh;
      // Source coordinate of the row start, and its step along the patch's W axis.
      let sz = centreDhw[0] + m[0] * da + m[1] * db - m[2] * hw;
      let sy = centreDhw[1] + m[3] * da + m[4] * db - m[5] * hw;
      let sx = centreDhw[2] + m[6] * da + m[7] * db - m[8] * hw;
      for (let x = 0; x < pw; x++, o++, sz += m[2], sy += m[5], sx += m[8]) {
        // Snap values within 1e-6 of a whole number (90° rotations, identity) so those reads are exact copies.
        const z = Math.abs(sz - Math.round(sz)) < 1e-6 ? Math.round(sz) : sz;
        const y = Math.abs(sy - Math.round(sy)) < 1e-6 ? Math.round(sy) : sy;
        const xx = Math.abs(sx - Math.round(sx)) < 1e-6 ? Math.round(sx) : sx;
        const z0 = Math.floor(z);
        const y0 = Math.floor(y);
        const x0 = Math.floor(xx);
        const fz = z - z0;
        const fy = y - y0;
        const fx = xx - x0;
        if (fz === 0 && fy === 0 && fx === 0) {
          img[o] = at3(z0, y0, x0);
        } else {
          const c00 = at3(z0, y0, x0) + fx * (at3(z0, y0, x0 + 1) - at3(z0, y0, x0));
          const c01 = at3(z0, y0 + 1, x0) + fx * (at3(z0, y0 + 1, x0 + 1) - at3(z0, y0 + 1, x0));
          const c10 = at3(z0 + 1, y0, x0) + fx * (at3(z0 + 1, y0, x0 + 1) - at3(z0 + 1, y0, x0));
          const c11 = at3(z0 + 1, y0 + 1, x0) + fx * (at3(z0 + 1, y0 + 1, x0 + 1) - at3(z0 + 1, y0 + 1, x0));
          const c0 = c00 + fy * (c01 - c00);
          const c1 = c10 + fy * (c11 - c10);
          img[o] = c0 + fz * (c1 - c0);
        }
        const nz = Math.round(z);
        const ny = Math.round(y);
        const nx = Math.round(xx);
        if (nz >= zLo && nz <= zHi && ny >= 0 && ny < H && nx >= 0 && nx < W) {
          const i = nz * HW + ny * W + nx;
          lab[o] = c.labels[i];
          if (wts) wts[o] = c.weights ? c.weights[i] : 1;
        } else if (edgeD && ny >= 0 && ny < H && nx >= 0 && nx < W) {
          lab[o] = PAD_COPY + c.labels[Math.min(zHi, Math.max(zLo, nz)) * HW + ny * W + nx];
          if (wts) wts[o] = 1;
        } else {
          lab[o] = 0;
          if (wts) wts[o] = 1;
        }
      }
    }
  }
}

/**
 * Per-class shift (clamped to the patch's own range, so nothing leaves what the intensity window shows), blur
 * and gamma of one patch (`lab` gives the classes), before augmentIntensity.
 */
export function augmentAppearance(
  img: Float32Array,
  lab: Int32Array,
  at: number,
  patch: [number, number, number],
  d: AugmentDraw,
): void {
  const n = patch[0] * patch[1] * patch[2];
  if (!d.classShift && !d.blurSigma && d.gamma === undefined) return;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = at; i < at + n; i++) {
    if (img[i] < lo) lo = img[i];
    if (img[i] > hi) hi = img[i];
  }
  if (d.classShift) {
    const shift = d.classShift;
    for (let i = at; i < at + n; i++) {
      // A voxel read past the scan's end (edge mode) shifts with the class it copies.
      const c = lab[i] >= PAD_COPY ? lab[i] - PAD_COPY : lab[i];
      if (c > 0 && c < shift.length) img[i] = Math.min(hi, Math.max(lo, img[i] + shift[c]));
    }
  }
  if (d.blurSigma) {
    const view = img.subarray(at, at + n);
    // The patch is W-fastest: blurAxis's axis 0 is W, 2 is D. A 3-tap pass has variance 2w (w ≤ 0.3);
    // σ above ~0.77 takes two passes.
    const dims: [number, number, number] = [patch[2], patch[1], patch[0]];
    d.blurSigma.forEach((sigma, tensorAxis) => {
      const axis = (2 - tensorAxis) as 0 | 1 | 2;
      const passes = sigma > 0.77 ? 2 : 1;
      const w = Math.min(0.3, (sigma * sigma) / (2 * passes));
      for (let p = 0; p < passes && w > 0; p++) blurAxis(view, dims, axis, w);
    });
  }
  if (d.gamma !== undefined && hi > lo) {
    const g = d.gamma;
    const span = hi - lo;
    for (let i = at; i < at + n; i++) img[i] = lo + span * Math.pow(Math.max(0, (img[i] - lo) / span), g);
  }
}

/** Intensity scale and shift, then optional Gaussian noise, on `n` values from `at` (normalised units). */
export function augmentIntensity(img: Float32Array, at: number, n: number, d: AugmentDraw, rng: Rng): void {
  for (let i = at; i < at + n; i++) img[i] = img[i] * d.intensityScale + d.intensityShift;
  if (d.noiseSigma > 0) for (let i = at; i < at + n; i++) img[i] += d.noiseSigma * rng.normal();
}

/** Edge mode's last step: voxels read past a scan's end (labelled PAD_COPY + class) get the ignore label. */
export function finishEdgePad(lab: Int32Array, at: number, n: number, ignore: number): void {
  for (let i = at; i < at + n; i++) if (lab[i] >= PAD_COPY) lab[i] = ignore;
}
