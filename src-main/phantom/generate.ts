// Synthetic abdominal CT phantoms with labels: `generatePhantom` builds one deterministic case per seed.
import type { Direction, Vec3, Volume } from '../imaging/volume';
import { MAX_VOXELS } from '../imaging/volume';
import { type BodyPlan, paintBody, planBody } from './body';
import { createCanvas } from './canvas';
import { paintColon, paintSmallBowel } from './bowel';
import { finishImage } from './finish';
import {
  CONTRAST_PHASES,
  drawSpleenPattern,
  type ContrastPhase,
  type PhaseWeights,
  randomizedTissueHu,
  withNativeUrine,
  tissueHuFor,
  withOralContrast,
} from './hu';
import { type LesionInfo, paintKidneys } from './kidney';
import { addMetal, type MetalInfo } from './metal';
import { paintLiver, paintSpleen, paintStomach, paintVessels } from './organs';
import { paintPancreas } from './pancreas';
import type { LabelMapDeformation } from './labelmap';
import { Rng } from './random';
import { paintBackMuscles, paintPelvis, paintRibs, paintSpine } from './skeleton';

export type { ContrastPhase } from './hu';
export type { LesionInfo } from './kidney';

export type PhantomSchema = 'kidney' | 'pancreas';

export const PHANTOM_SCHEMAS: readonly PhantomSchema[] = ['kidney', 'pancreas'];

/** Class names per schema (KiTS-like and MSD Task07-like). */
export const SCHEMA_LABELS: Record<PhantomSchema, Record<number, string>> = {
  kidney: { 1: 'kidney', 2: 'tumor', 3: 'cyst' },
  pancreas: { 1: 'pancreas', 2: 'tumor' },
};

export const DEFAULT_DIMS: Vec3 = [256, 256, 128];
/** 1.5 mm in-plane (384 mm field of view) and 2.5 mm slices (320 mm): a typical abdomen scan. */
export const DEFAULT_SPACING_MM: Vec3 = [1.5, 1.5, 2.5];
/** Field of view (mm) kept when dims are given without spacing: a typical abdomen scan. */
export const DEFAULT_FIELD_OF_VIEW_MM: Vec3 = [384, 384, 320];

/** Knobs for domain-shift experiments (fine-tuning on data unlike the training set). */
export interface DomainShift {
  /** Contrast phase (default 'portal'). */
  contrastPhase?: ContrastPhase;
  /** Multiplies the case-to-case spread of kidney size, shape and rotation (default 1). */
  kidneyShapeRange?: number;
  /** Image noise standard deviation in HU (default: 10-20 HU, drawn per case). */
  noiseSigmaHu?: number;
  /** Multiplies body and organ size (default 1; e.g. 0.7 for a small patient). */
  bodyScale?: number;
  /** false gives lesion-free cases of the schema's organ (default true: tumors and cysts as drawn). */
  lesions?: boolean;
  /** Multiplies every kidney's size (default 1). */
  kidneyScale?: number;
}

/**
 * Named domains: 'standard' is the portal-venous training distribution of the first starters; 'shifted' is
 * unlike it (for fine-tuning benchmarks); 'synth' randomises what a patient population varies (contrast
 * phase, each organ's enhancement, fat, noise, resolution, habitus, kidney size and shape) per seed, in the
 * spirit of label-map-driven synthesis (SynthSeg): the starters trained on it have to learn shape and context
 * rather than one phase's intensities.
 */
export type PhantomDomain = 'standard' | 'shifted' | 'synth';

export const PHANTOM_DOMAINS: readonly PhantomDomain[] = ['standard', 'shifted', 'synth'];

/**
 * The shifted domain: non-contrast instead of portal venous (kidneys ~35 HU, close to muscle and bowel
 * rather than bright), kidneys 25% larger
 * and with twice the usual spread of shape and rotation, and noisier images. Explicit domainShift
 * fields override these.
 */
export const SHIFTED_DOMAIN: Readonly<DomainShift> = {
  contrastPhase: 'noncontrast',
  kidneyScale: 1.25,
  kidneyShapeRange: 2,
  noiseSigmaHu: 24,
};

export interface PhantomOptions {
  seed: number;
  schema: PhantomSchema;
  dims?: Vec3;
  /** Voxel spacing (mm); default: the 384 × 384 × 320 mm field of view divided by dims. */
  spacingMm?: Vec3;
  domainShift?: DomainShift;
  /** A named domain whose shift applies under domainShift (default 'standard': no shift). */
  domain?: PhantomDomain;
  /** Checked between painting stages; an aborted signal throws its reason. */
  signal?: AbortSignal;
  /**
   * Reproduce an earlier generator's synth-domain draws (1: kidney scale 0.8-1.25, lesions as dense as their
   * kidney allowed; 2: no oral contrast; 3: clean renal sinus), so a model trained on them can be retrained and
   * replayed exactly; default: this generator's.
   */
  synthVersion?: SynthVersion;
  /** Weights of the contrast phases the synth domain draws from (default: the four alike). */
  phaseWeights?: PhaseWeights;
  /**
   * Metal in the field of view (metal.ts): true always, false never; absent: in METAL_SHARE of the synth-domain
   * cases of generator v5 and later, never in the standard and shifted domains.
   */
  metal?: boolean;
  /**
   * The renal pelvis out through each kidney's hilum (kidney.ts renalPelvisPath): true always, false never;
   * absent: in the synth-domain cases of generator v7 and later.
   */
  renalPelvis?: boolean;
}

export interface PhantomMeta {
  seed: number;
  schema: PhantomSchema;
  synthetic: true;
  generator: 'deformux-phantom';
  generatorVersion: number;
  labels: Record<number, string>;
  contrastPhase: ContrastPhase;
  noiseSigmaHu: number;
  kidneyShapeRange: number;
  bodyScale: number;
  lesions: LesionInfo[];
  /** Present only for a named non-standard domain. */
  domain?: PhantomDomain;
  /** Present only when kidneys were scaled. */
  kidneyScale?: number;
  /** Present only when the bowel holds positive oral contrast (generator v3): its HU. */
  oralContrastHu?: number;
  /** Generator v6: the amplitude (HU) of the spleen's arciform bands, when it is striped. */
  spleenPatternHu?: number;
  /** Present only when the case holds metal (generator v5, or asked for): what and how much. */
  metal?: MetalInfo;
  /** Present only when the kidneys' pelves were drawn out through the hilum (generator v7, or asked for). */
  renalPelvis?: true;
  /** Label-map cases with the pelvis: each kidney's (right, left) painted pelvis and ureter in mL, 0 for none. */
  renalPelvisMl?: number[];
  /** Label-map cases with the mesenteric vessels (v8, labelmap.ts paintMesentericVessels): their painted mL. */
  mesentericVesselsMl?: number;
  /** Present only for a case made from a real label map (labelmap.ts): the map's file and the draw. */
  labelMap?: { source: string; deformation: LabelMapDeformation };
}

export interface PhantomCase {
  image: Volume;
  label: Volume;
  meta: PhantomMeta;
}

/**
 * Bumped whenever the same seed would give a different case, so stored data sets can say which. v2: synth
 * kidneys drawn around published volumes, synth kidney lesions at least SYNTH_MIN_LESION_CONTRAST_HU from
 * their kidney. v3: positive oral contrast in a share of synth and label-map cases (hu.ts withOralContrast).
 * v4: the renal sinus with calyces and vessels through its fat in synth and label-map kidneys (kidney.ts
 * SinusDetail). v5: metal now and then in synth and label-map cases (clips, a ureteral or biliary stent) with its
 * streaks (metal.ts). v6: the spleen striped (arciform enhancement) in most arterial and some portal-venous synth
 * and label-map cases (hu.ts drawSpleenPattern). v7: the renal pelvis out through the hilum, urine outside the
 * kidney label, in synth and label-map cases (kidney.ts renalPelvisPath, labelmap.ts paintRenalPelvis). v8: the
 * superior mesenteric vein and artery below the pancreas, with jejunal branches and mesenteric nodes, in label-map
 * cases (labelmap.ts paintMesentericVessels; procedural phantoms always had both vessels, so synth v8 draws as v7).
 * The standard and shifted domains are unchanged since v1 (metal and the pelvis can be asked for in any domain).
 */
export const PHANTOM_GENERATOR_VERSION = 8;

/** The generator versions whose synth draws can be reproduced. */
export const SYNTH_VERSIONS = [1, 2, 3, 4, 5, 6, 7, 8] as const;
export type SynthVersion = (typeof SYNTH_VERSIONS)[number];

/** Least HU difference between a synth kidney lesion and its kidney's parenchyma (kidney.ts visibleLesionHu). */
export const SYNTH_MIN_LESION_CONTRAST_HU = 20;

/** The effective shift: the named domain's, overridden field by field by domainShift. */
function shiftOf(opts: PhantomOptions): DomainShift {
  return { ...(opts.domain === 'shifted' ? SHIFTED_DOMAIN : {}), ...(opts.domainShift ?? {}) };
}

/** The 'synth' domain's per-case draws (from their own stream, so the anatomy streams stay as they are). */
interface SynthDraw {
  noiseSigmaHu: number;
  blurInPlaneMm: number;
  /** Slice profile (z blur σ) as a multiple of the slice spacing. */
  sliceBlur: number;
  bodyScale: number;
  kidneyScale: number;
  kidneyShapeRange: number;
}

function drawSynth(rng: Rng, version: number): SynthDraw {
  return {
    noiseSigmaHu: rng.range(4, 36),
    blurInPlaneMm: rng.range(0.5, 1.8),
    sliceBlur: rng.range(0.3, 1.0),
    bodyScale: rng.range(0.8, 1.2),
    // Published adult kidney volumes centre near 150 mL (about 100-250 mL); the standard kidney is 85-115 mL,
    // so synth kidneys scale 0.95-1.3 (volume x0.86-2.2). Generator v1 drew 0.8-1.25.
    kidneyScale: version === 1 ? rng.range(0.8, 1.25) : rng.range(0.95, 1.3),
    kidneyShapeRange: rng.range(1, 2),
  };
}

function checkOptions(opts: PhantomOptions, dims: Vec3, spacingMm: Vec3): void {
  if (!Number.isSafeInteger(opts.seed) || opts.seed < 0) {
    throw new RangeError(`phantom seed must be a whole number ≥ 0, got ${opts.seed}`);
  }
  if (!PHANTOM_SCHEMAS.includes(opts.schema)) {
    throw new RangeError(`phantom schema must be one of ${PHANTOM_SCHEMAS.join(', ')}, got '${String(opts.schema)}'`);
  }
  if (dims.length !== 3 || dims.some((n) => !Number.isSafeInteger(n) || n < 1 || n > 2048)) {
    throw new RangeError(`phantom dims must be three whole numbers from 1 to 2048, got ${dims.join(',')}`);
  }
  if (dims[0] * dims[1] * dims[2] > MAX_VOXELS / 2) {
    throw new RangeError(`phantom of ${dims.join('×')} voxels is too large (at most ${MAX_VOXELS / 2} voxels)`);
  }
  if (spacingMm.length !== 3 || spacingMm.some((s) => !Number.isFinite(s) || s < 0.05 || s > 200)) {
    throw new RangeError(`phantom spacing must be three numbers from 0.05 to 200 mm, got ${spacingMm.join(',')}`);
  }
  if (opts.synthVersion !== undefined && !SYNTH_VERSIONS.includes(opts.synthVersion)) {
    throw new RangeError(`phantom synthVersion must be one of ${SYNTH_VERSIONS.join(', ')}, got ${opts.synthVersion}`);
  }
  if (opts.domain !== undefined && !PHANTOM_DOMAINS.includes(opts.domain)) {
    throw new RangeError(`phantom domain must be one of ${PHANTOM_DOMAINS.join(', ')}, got '${String(opts.domain)}'`);
  }
  const shift = shiftOf(opts);
  if (shift.contrastPhase !== undefined && !CONTRAST_PHASES.includes(shift.contrastPhase)) {
    throw new RangeError(
      `contrast phase must be one of ${CONTRAST_PHASES.join(', ')}, got '${String(shift.contrastPhase)}'`,
    );
  }
  for (const [name, value, lo, hi] of [
    ['kidneyShapeRange', shift.kidneyShapeRange, 0, 3],
    ['noiseSigmaHu', shift.noiseSigmaHu, 0, 200],
    ['bodyScale', shift.bodyScale, 0.5, 1.5],
    ['kidneyScale', shift.kidneyScale, 0.5, 2],
  ] as const) {
    if (value !== undefined && !(Number.isFinite(value) && value >= lo && value <= hi)) {
      throw new RangeError(`domainShift.${name} must be a number from ${lo} to ${hi}, got ${value}`);
    }
  }
}

const labelNames = (labels: Record<number, string>): string =>
  Object.entries(labels)
    .map(([v, n]) => `${v} ${n}`)
    .join(', ');

/**
 * A synthetic case's image and label volumes on one identity-direction LPS grid (each its own copy of the
 * geometry), marked synthetic.
 */
export function syntheticVolumes(
  grid: { dims: Vec3; spacingMm: Vec3; originMm: Vec3 },
  image: Int16Array,
  label: Uint8Array,
  imageDescription: string,
  labelDescription: string,
): { image: Volume; label: Volume } {
  const geometry = () => ({
    dims: [...grid.dims] as Vec3,
    spacingMm: [...grid.spacingMm] as Vec3,
    originMm: [...grid.originMm] as Vec3,
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as Direction,
  });
  return {
    image: { ...geometry(), data: image, modality: 'CT', description: imageDescription, source: 'synthetic' },
    label: { ...geometry(), data: label, modality: 'SEG', description: labelDescription, source: 'synthetic' },
  };
}

/** Generates one synthetic abdominal CT (int16 HU) and its label map; the same options give the same case. */
export function generatePhantom(opts: PhantomOptions): PhantomCase {
  const dims: Vec3 = [...(opts.dims ?? DEFAULT_DIMS)];
  const spacingMm: Vec3 = opts.spacingMm
    ? [...opts.spacingMm]
    : ([0, 1, 2].map((a) => DEFAULT_FIELD_OF_VIEW_MM[a] / dims[a]) as Vec3);
  checkOptions(opts, dims, spacingMm);
  // Independent streams per part: changing how one organ is drawn leaves the others as they were.
  const root = new Rng(opts.seed, 'deformux-phantom');
  const synthVersion = opts.synthVersion ?? PHANTOM_GENERATOR_VERSION;
  const synth = opts.domain === 'synth' ? drawSynth(root.fork('synth'), synthVersion) : undefined;
  const randomized = synth ? randomizedTissueHu(root.fork('hu'), opts.phaseWeights) : undefined;
  const shift: DomainShift = synth
    ? {
        contrastPhase: randomized!.phase,
        noiseSigmaHu: synth.noiseSigmaHu,
        bodyScale: synth.bodyScale,
        kidneyScale: synth.kidneyScale,
        kidneyShapeRange: synth.kidneyShapeRange,
        ...(opts.domainShift ?? {}),
      }
    : shiftOf(opts);
  const phase = shift.contrastPhase ?? 'portal';
  const kidneyShapeRange = shift.kidneyShapeRange ?? 1;
  const bodyScale = shift.bodyScale ?? 1;
  const withLesions = shift.lesions ?? true;
  const checkpoint = () => opts.signal?.throwIfAborted();

  // An explicit phase wins over the synth draw's: the drawn per-tissue spread is then kept around that phase.
  const phaseHu =
    randomized && (opts.domainShift?.contrastPhase === undefined || opts.domainShift.contrastPhase === randomized.phase)
      ? randomized.hu
      : tissueHuFor(phase, root.fork('hu'));
  const renalPelvis = opts.renalPelvis ?? (!!synth && synthVersion >= 7);
  const urineHu = renalPelvis ? withNativeUrine(phaseHu, phase, root.fork('urine')) : phaseHu;
  const hu = synth && synthVersion >= 3 ? withOralContrast(urineHu, root.fork('oral')) : urineHu;
  const plan: BodyPlan = planBody(root.fork('body'), bodyScale);
  // The scan covers canonical z from about -150 (pelvic brim) to +170 (lung bases) at default size.
  const centerZ = plan.zShiftMm + 10 * plan.scale[2];
  const originMm: Vec3 = [
    -((dims[0] - 1) / 2) * spacingMm[0],
    -((dims[1] - 1) / 2) * spacingMm[1],
    centerZ - ((dims[2] - 1) / 2) * spacingMm[2],
  ];
  const cv = createCanvas(dims, spacingMm, originMm);

  paintBody(cv, plan, hu, root.fork('body-pass'));
  checkpoint();
  paintBackMuscles(cv, plan, hu, root.fork('muscles'));
  paintSpine(cv, plan, hu, root.fork('spine'));
  paintRibs(cv, plan, hu, root.fork('ribs'));
  paintPelvis(cv, plan, hu, root.fork('pelvis'));
  checkpoint();
  const vessels = paintVessels(cv, plan, hu, root.fork('vessels'));
  paintLiver(cv, plan, hu, root.fork('liver'), vessels);
  const spleenPattern = synth && synthVersion >= 6 ? drawSpleenPattern(phase, root.fork('spleen-pattern')) : undefined;
  paintSpleen(cv, plan, hu, root.fork('spleen'), vessels, spleenPattern);
  paintStomach(cv, plan, hu, root.fork('stomach'));
  paintColon(cv, plan, hu, root.fork('colon'));
  paintSmallBowel(cv, plan, hu, root.fork('small-bowel'));
  checkpoint();
  // The schema's organ is painted last so nothing covers its labels.
  const sinusDetail = !!synth && synthVersion >= 4;
  let lesions: LesionInfo[];
  if (opts.schema === 'kidney') {
    paintPancreas(cv, plan, hu, root.fork('pancreas'), vessels, { labelled: false, lesions: false });
    lesions = paintKidneys(cv, plan, hu, root.fork('kidneys'), vessels, {
      labelled: true,
      lesions: withLesions,
      shapeRange: kidneyShapeRange,
      sizeScale: shift.kidneyScale,
      // Synth HU can draw a lesion as dense as its kidney (native phase): keep every labelled lesion visible.
      ...(synth && synthVersion > 1 ? { minLesionContrastHu: SYNTH_MIN_LESION_CONTRAST_HU } : {}),
      sinusDetail,
      renalPelvis,
    });
  } else {
    paintKidneys(cv, plan, hu, root.fork('kidneys'), vessels, {
      labelled: false,
      lesions: false,
      shapeRange: kidneyShapeRange,
      sizeScale: shift.kidneyScale,
      sinusDetail,
      renalPelvis,
    });
    lesions = paintPancreas(cv, plan, hu, root.fork('pancreas'), vessels, { labelled: true, lesions: withLesions });
  }
  checkpoint();
  // v5: metal now and then, with its streaks, before the scanner's blur and noise.
  const metal =
    opts.metal === true || (opts.metal === undefined && synth && synthVersion >= 5)
      ? addMetal(cv, opts.schema, root.fork('metal'), opts.metal)
      : undefined;

  const finishRng = root.fork('finish');
  // Heavier patients are noisier at the same dose.
  const noiseSigmaHu = shift.noiseSigmaHu ?? finishRng.range(10, 17) * (1 + plan.fatLatMm / 150);
  const drawnBlurMm = finishRng.range(0.6, 0.95);
  const blurInPlaneMm = synth ? synth.blurInPlaneMm : drawnBlurMm;
  const sliceBlurMm = (synth ? synth.sliceBlur : 0.42) * spacingMm[2];
  const data = finishImage(
    cv.hu,
    dims,
    spacingMm,
    { blurSigmaMm: [blurInPlaneMm, blurInPlaneMm, sliceBlurMm], noiseSigmaHu },
    finishRng,
  );

  const labels = SCHEMA_LABELS[opts.schema];
  return {
    ...syntheticVolumes(
      { dims, spacingMm, originMm },
      data,
      cv.label,
      `SYNTHETIC phantom (not a patient): abdominal CT, ${phase} phase, seed ${opts.seed}`,
      `SYNTHETIC phantom labels, ${opts.schema} schema (${labelNames(labels)}), seed ${opts.seed}`,
    ),
    meta: {
      seed: opts.seed,
      schema: opts.schema,
      synthetic: true,
      generator: 'deformux-phantom',
      generatorVersion: synthVersion,
      labels,
      contrastPhase: phase,
      noiseSigmaHu,
      kidneyShapeRange,
      bodyScale,
      lesions,
      ...(opts.domain && opts.domain !== 'standard' ? { domain: opts.domain } : {}),
      ...(shift.kidneyScale !== undefined && shift.kidneyScale !== 1 ? { kidneyScale: shift.kidneyScale } : {}),
      ...(hu !== urineHu ? { oralContrastHu: Math.round(hu.bowelFluid) } : {}),
      ...(spleenPattern ? { spleenPatternHu: Math.round(spleenPattern.amplitudeHu) } : {}),
      ...(metal ? { metal } : {}),
      ...(renalPelvis ? { renalPelvis: true as const } : {}),
    },
  };
}
