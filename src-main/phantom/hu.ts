// Tissue attenuation (HU) of the phantom per contrast phase, from typical adult abdominal CT values.
import { SmoothField } from './noise';
import type { Rng } from './random';

export type ContrastPhase = 'noncontrast' | 'arterial' | 'portal' | 'nephrographic';

export const CONTRAST_PHASES: readonly ContrastPhase[] = ['noncontrast', 'arterial', 'portal', 'nephrographic'];

/** Mean HU per tissue for one case; the generator adds texture, blur and noise around these. */
export interface TissueHu {
  air: number;
  lung: number;
  fat: number;
  subcutaneousFat: number;
  muscle: number;
  skin: number;
  corticalBone: number;
  cancellousBone: number;
  disc: number;
  csf: number;
  artery: number;
  vein: number;
  portalVein: number;
  liver: number;
  spleen: number;
  pancreas: number;
  pancreaticTumor: number;
  kidneyCortex: number;
  kidneyMedulla: number;
  urine: number;
  kidneyTumor: number;
  cyst: number;
  bile: number;
  bowelWall: number;
  bowelFluid: number;
  gas: number;
  heart: number;
}

// Base values (portal venous phase); other phases override the enhancing tissues below.
const PORTAL: TissueHu = {
  air: -1000,
  lung: -860,
  fat: -95,
  subcutaneousFat: -105,
  muscle: 52,
  skin: 35,
  corticalBone: 850,
  cancellousBone: 230,
  disc: 85,
  csf: 12,
  artery: 170,
  vein: 150,
  portalVein: 175,
  liver: 100,
  spleen: 115,
  pancreas: 100,
  pancreaticTumor: 55,
  kidneyCortex: 175,
  kidneyMedulla: 120,
  urine: 12,
  kidneyTumor: 110,
  cyst: 10,
  bile: 8,
  bowelWall: 85,
  bowelFluid: 18,
  gas: -1000,
  heart: 150,
};

const PHASE_OVERRIDES: Record<ContrastPhase, Partial<TissueHu>> = {
  portal: {},
  noncontrast: {
    artery: 42,
    vein: 40,
    portalVein: 40,
    liver: 58,
    spleen: 48,
    pancreas: 42,
    pancreaticTumor: 36,
    kidneyCortex: 33,
    kidneyMedulla: 30,
    kidneyTumor: 35,
    bowelWall: 38,
    heart: 42,
    muscle: 48,
  },
  arterial: {
    artery: 330,
    vein: 70,
    portalVein: 140,
    liver: 75,
    spleen: 130,
    pancreas: 125,
    pancreaticTumor: 60,
    kidneyCortex: 200,
    kidneyMedulla: 75,
    kidneyTumor: 140,
    bowelWall: 95,
    heart: 280,
  },
  nephrographic: {
    artery: 140,
    vein: 135,
    portalVein: 140,
    liver: 95,
    spleen: 105,
    pancreas: 90,
    pancreaticTumor: 55,
    kidneyCortex: 165,
    kidneyMedulla: 160,
    kidneyTumor: 100,
    heart: 135,
    urine: 25,
  },
};

/** This case's tissue HU: the phase's means with a small per-case spread (scanners and patients differ). */
export function tissueHuFor(phase: ContrastPhase, rng: Rng): TissueHu {
  const base: TissueHu = { ...PORTAL, ...PHASE_OVERRIDES[phase] };
  const out = { ...base };
  // Enhancing tissues vary more between patients (cardiac output, timing) than fat or bone.
  const enhancement = rng.range(0.88, 1.12);
  const enhancing: (keyof TissueHu)[] = [
    'artery',
    'vein',
    'portalVein',
    'liver',
    'spleen',
    'pancreas',
    'kidneyCortex',
    'kidneyMedulla',
    'heart',
  ];
  for (const key of enhancing) {
    const unenhanced = PHASE_OVERRIDES.noncontrast[key] ?? base[key];
    out[key] = unenhanced + (base[key] - unenhanced) * enhancement + rng.range(-4, 4);
  }
  out.fat += rng.range(-8, 8);
  out.subcutaneousFat += rng.range(-8, 8);
  out.muscle += rng.range(-5, 5);
  out.corticalBone += rng.range(-100, 150);
  out.cancellousBone += rng.range(-60, 60);
  return out;
}

/** Share of generator v3's synth-domain and label-map cases drawn with positive oral contrast (withOralContrast). */
export const ORAL_CONTRAST_SHARE = 0.3;

/**
 * Positive oral contrast (generator v3): many portal-venous abdominal CTs are taken after the patient drank dilute
 * iodinated or barium contrast, which fills the stomach, duodenum and small bowel at about 150-450 HU, beside a
 * 100-200 HU enhanced kidney or pancreas. Generator v2's bowel held only water-like fluid (-5..40 HU). Measured
 * with the v2-trained starters on 8 held-out synth phantoms (seeds 320101-8), the same anatomy with the bowel fluid
 * at 300 HU: pancreas class 0.840 -> 0.800 (tumour pooled 0.618 -> 0.503), kidney class 0.888 -> 0.884.
 * A share of cases (ORAL_CONTRAST_SHARE) get it, drawn from their own stream so nothing else changes.
 */
export function withOralContrast(hu: TissueHu, rng: Rng): TissueHu {
  if (!rng.chance(ORAL_CONTRAST_SHARE)) return hu;
  return { ...hu, bowelFluid: rng.range(150, 450) };
}

/**
 * The spleen's arciform ("zebra") enhancement of a case: bands of brighter and darker pulp, `amplitudeHu` either side
 * of its mean, along the isocontours of `field` (generator v6). Early after injection the red and white pulp fill
 * at different rates, so in the arterial phase (25-35 s) the spleen is striped in most patients, and it evens out
 * by the portal-venous phase (70 s), some patients still mottled then. Generator v5 painted every spleen uniform
 * (±5 HU): on an unseen real early-arterial chest CT angiogram (TotalSegmentator's aorta-report test CT) the kidney
 * starter labelled 22.6 mL of the striped spleen as kidney, whose corticomedullary cortex and medulla are striped too.
 */
export interface SpleenPattern {
  amplitudeHu: number;
  field: SmoothField;
}

/** Shares and amplitude ranges (HU) of striped spleens per phase; absent phases: uniform. */
const SPLEEN_PATTERN: Partial<Record<ContrastPhase, { share: number; hu: [number, number] }>> = {
  arterial: { share: 0.75, hu: [20, 60] },
  portal: { share: 0.25, hu: [8, 20] },
};

/** Bands per unit of the pattern field (value noise in [-1, 1]) and its cell: stripes about 5-15 mm wide. */
const SPLEEN_BANDS = 2.5;
const SPLEEN_PATTERN_CELL_MM = 18;

/** A case's spleen pattern, or undefined for a uniform spleen; drawn from its own stream. */
export function drawSpleenPattern(phase: ContrastPhase, rng: Rng): SpleenPattern | undefined {
  const p = SPLEEN_PATTERN[phase];
  if (!p || !rng.chance(p.share)) return undefined;
  return { amplitudeHu: rng.range(p.hu[0], p.hu[1]), field: new SmoothField(rng, SPLEEN_PATTERN_CELL_MM) };
}

/** The pattern's HU offset at world point (mm): zero-mean bands, so the spleen's mean stays its phase's. */
export function spleenPatternAt(pattern: SpleenPattern | undefined, x: number, y: number, z: number): number {
  return pattern ? pattern.amplitudeHu * Math.sin(2 * Math.PI * SPLEEN_BANDS * pattern.field.at(x, y, z)) : 0;
}

/** Relative weights of the contrast phases in a synth draw (absent phases weigh 0); absent: all four alike. */
export type PhaseWeights = Partial<Record<ContrastPhase, number>>;

/**
 * The phase at uniform draw `u` in [0, 1): the phases in CONTRAST_PHASES order, each taking its weight's share of
 * the unit interval. Equal weights give the same phase as no weights for every `u`, so recorded draws replay.
 */
export function drawPhase(u: number, weights?: PhaseWeights): ContrastPhase {
  if (!weights) return CONTRAST_PHASES[Math.floor(u * CONTRAST_PHASES.length)];
  const w = CONTRAST_PHASES.map((p) => weights[p] ?? 0);
  const total = w.reduce((a, b) => a + b, 0);
  if (!(total > 0) || w.some((x) => !(x >= 0) || !Number.isFinite(x)))
    throw new RangeError(`phase weights must be finite, >= 0 and not all 0, got ${JSON.stringify(weights)}`);
  let acc = 0;
  for (let i = 0; i < w.length; i++) {
    acc += w[i] / total;
    if (u < acc) return CONTRAST_PHASES[i];
  }
  return CONTRAST_PHASES[w.findLastIndex((x) => x > 0)];
}

/**
 * A case's tissue HU for label-map-driven synthesis (the 'synth' domain): a phase drawn at random, then
 * every enhancing tissue's enhancement scaled independently (timing, cardiac output and scanner differ per
 * patient, and organs do not move together) and each tissue offset on its own, so the network cannot key on
 * one organ's brightness and has to learn shape and context. The ranges stay inside what abdominal CT shows:
 * a native kidney at 20-45 HU beside 40-60 HU muscle, a fatty pancreas near 0 HU, a steatotic liver below
 * the spleen, corticomedullary kidneys with dark medulla, excretory urine up to 600 HU.
 */
export function randomizedTissueHu(rng: Rng, phaseWeights?: PhaseWeights): { phase: ContrastPhase; hu: TissueHu } {
  const phase = drawPhase(rng.next(), phaseWeights);
  const base = tissueHuFor(phase, rng);
  const native: TissueHu = { ...PORTAL, ...PHASE_OVERRIDES.noncontrast };
  const out = { ...base };
  // Enhancement of each organ: its phase value's rise over native, times its own factor.
  const rise = (key: keyof TissueHu, lo: number, hi: number) =>
    native[key] + (base[key] - native[key]) * rng.range(lo, hi) + rng.range(-12, 12);
  for (const key of ['artery', 'vein', 'portalVein', 'heart', 'bowelWall'] as const) out[key] = rise(key, 0.4, 1.6);
  out.liver = rng.range(5, 70) + (base.liver - native.liver) * rng.range(0.5, 1.4);
  out.spleen = rng.range(30, 55) + (base.spleen - native.spleen) * rng.range(0.5, 1.4);
  out.pancreas = rng.range(-25, 50) + (base.pancreas - native.pancreas) * rng.range(0.4, 1.4);
  out.pancreaticTumor = Math.min(out.pancreas - 10, rng.range(15, 60) + (out.pancreas - 40) * rng.range(0, 0.5));
  // Kidney: native 15-45 HU; cortex rise as drawn; medulla anywhere from barely enhanced (corticomedullary)
  // to as bright as the cortex (nephrographic).
  const kidneyNative = rng.range(15, 45);
  const cortexRise = (base.kidneyCortex - native.kidneyCortex) * rng.range(0.5, 1.5);
  out.kidneyCortex = kidneyNative + cortexRise;
  out.kidneyMedulla = kidneyNative + rng.range(-5, 5) + cortexRise * rng.range(0.15, 1.05);
  out.kidneyTumor = rng.range(20, 50) + cortexRise * rng.range(0.1, 0.9);
  out.cyst = rng.range(-5, 25);
  // Excretory phase now and then: contrast in the collecting system and ureters.
  out.urine = rng.next() < 0.2 ? rng.range(150, 600) : rng.range(0, 30);
  out.fat = rng.range(-125, -70);
  out.subcutaneousFat = out.fat + rng.range(-15, 10);
  out.muscle = rng.range(30, 70);
  out.bowelFluid = rng.range(-5, 40);
  out.bile = rng.range(-5, 25);
  return { phase, hu: out };
}

/**
 * Generator v7 (with the renal pelvis): a native (non-contrast) case's urine is never contrast-dense, since nothing
 * was injected; randomizedTissueHu's excretory draw (a fifth of the cases) stays in the enhanced phases. Urine fills
 * the pelvis and ureters, and a white pelvis in a native scan teaches nothing about the 0-20 HU one patients show.
 */
export function withNativeUrine(hu: TissueHu, phase: ContrastPhase, rng: Rng): TissueHu {
  return phase === 'noncontrast' && hu.urine > 30 ? { ...hu, urine: rng.range(0, 20) } : hu;
}
