// Tissue attenuation (HU) of the phantom per contrast phase, from typical adult abdominal CT values.
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
