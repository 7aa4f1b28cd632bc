// Kidneys (cortex, medulla pyramids, sinus fat, pelvis), renal vessels and ureters, and kidney lesions.
import type { Vec3 } from '../imaging/volume';
import {
  type Blob,
  type Canvas,
  type Tube,
  blobLocal,
  frameFromAngles,
  frameFromAxes,
  normalize,
  paintBlob,
  paintTube,
  smoothTube,
} from './canvas';
import { type BodyPlan, place, sized } from './body';
import type { TissueHu } from './hu';
import { SmoothField } from './noise';
import type { VesselPlan } from './organs';
import type { Rng } from './random';

export interface LesionInfo {
  kind: 'tumor' | 'cyst';
  /** Which organ it grows from: 'right kidney', 'left kidney', 'pancreas head', … */
  organ: string;
  centerMm: Vec3;
  radiusMm: number;
  /** Mean HU of its clean (pre-noise) enhancement. */
  meanHu: number;
  labelValue: number;
}

export interface KidneyOptions {
  /** Write kidney-schema labels (1 kidney, 2 tumor, 3 cyst); otherwise the kidneys are scenery. */
  labelled: boolean;
  /** Generate tumors and cysts. */
  lesions: boolean;
  /** Multiplies the case-to-case spread of kidney size, shape and rotation (1 = typical adults). */
  shapeRange: number;
  /** Multiplies every kidney's size (default 1; the shifted domain enlarges kidneys beyond the usual range). */
  sizeScale?: number;
  /**
   * Least difference (HU) between a lesion's mean and the parenchyma around it (see visibleLesionHu); absent:
   * none (the standard domain, whose HU never make lesions invisible).
   */
  minLesionContrastHu?: number;
  /**
   * Generator v4 (synth domain): the renal sinus as CT shows it, calyces and sinus vessels running through
   * its fat (renalSinus), instead of a clean fat ellipsoid around the pelvis. Absent: the clean sinus.
   */
  sinusDetail?: boolean;
  /**
   * Generator v7: the renal pelvis where it leaves each kidney, urine outside the kidney label (renalPelvisPath).
   * Absent: only the ureter leaves the hilum.
   */
  renalPelvis?: boolean;
}

/**
 * The renal sinus's inner detail (generator v4). At 3 mm a real sinus is not a clean fat ellipsoid: calyces
 * (urine) and the segmental arteries and veins run through its fat, so it reads as a mottled region of fat,
 * tissue-density strands and partial volume between them. Measured on the shared native CT: a starter that
 * only saw clean sinuses called the mottled sinus and the parenchyma beside it tumour (53 mL of 'tumour' in a
 * lesion-free scan, median 8 HU, the same HU as the kidney around it). Strands follow the zero set of a
 * smooth random field (thin connected walls and tubes): in a fatty sinus (older patients, sinus lipomatosis)
 * they are the calyces and vessels in fat, in a lean one the fat is the strands between them. Which strands
 * are calyces and which vessels follows a second, coarser field.
 */
export interface SinusDetail {
  strands: SmoothField;
  kind: SmoothField;
  /** Half-width of a strand in field units: the larger, the more of the sinus is strand. */
  band: number;
  /** The strands are fat (a lean sinus) rather than tissue (a fatty one). */
  fatStrands: boolean;
}

export function drawSinusDetail(rng: Rng): SinusDetail {
  return {
    strands: new SmoothField(rng, rng.range(3, 5)),
    kind: new SmoothField(rng, 7),
    band: rng.range(0.08, 0.2),
    fatStrands: rng.chance(0.5),
  };
}

/**
 * A sinus voxel's tissue fraction (0 pure fat .. 1 calyx or vessel, partial volume between) at world (x, y, z);
 * its HU is sinusHu of that fraction.
 */
export function sinusStrandFraction(d: SinusDetail, x: number, y: number, z: number): number {
  const s = Math.abs(d.strands.at(x, y, z));
  const strand = Math.min(1, Math.max(0, 1.5 - s / d.band));
  return d.fatStrands ? 1 - strand : strand;
}

/**
 * The HU of a sinus voxel at (x, y, z) holding `fraction` tissue (sinusStrandFraction) and fat for the rest; the
 * tissue is a calyx (urine) or a sinus vessel (venous blood).
 */
export function sinusHu(d: SinusDetail, hu: TissueHu, fraction: number, x: number, y: number, z: number): number {
  const tissue = d.kind.at(x, y, z) > 0.1 ? hu.urine : hu.vein;
  return hu.fat + (tissue - hu.fat) * fraction;
}

/** A sinus voxel counts as kidney (as reference segmentations draw it) from this tissue fraction on. */
export const SINUS_KIDNEY_FRACTION = 0.5;

/**
 * A lesion's mean HU moved, if needed, to differ from the parenchyma's by `minContrast`: a cyst below it, a
 * solid tumour away from it on the side it was drawn. On a native scan a renal tumour can be isodense: no
 * reader can outline it, and a training label there teaches the network to call lesions in plain kidneys.
 */
export function visibleLesionHu(kind: 'tumor' | 'cyst', hu: number, parenchymaHu: number, minContrast: number): number {
  if (kind === 'cyst') return Math.min(hu, parenchymaHu - minContrast);
  if (Math.abs(hu - parenchymaHu) >= minContrast) return hu;
  return hu < parenchymaHu ? parenchymaHu - minContrast : parenchymaHu + minContrast;
}

export const KIDNEY_LABEL = 1;
export const KIDNEY_TUMOR_LABEL = 2;
export const KIDNEY_CYST_LABEL = 3;

interface KidneyGeometry {
  side: 'right' | 'left';
  blob: Blob;
  hilumMm: Vec3;
}

function planKidney(
  plan: BodyPlan,
  rng: Rng,
  sideSign: number,
  zCanonical: number,
  spread: number,
  field: SmoothField,
  sizeScale: number,
): KidneyGeometry {
  const v = (lo: number, hi: number) => 1 + (rng.range(lo, hi) - 1) * spread;
  const center = place(plan, [sideSign * (72 + rng.range(-6, 6) * spread), 48 + rng.range(-6, 6) * spread, zCanonical]);
  const k = sizeScale;
  const semi = sized(plan, [27 * k * v(0.85, 1.15), 21 * k * v(0.85, 1.15), 55 * k * v(0.85, 1.15)]);
  // Hilum faces antero-medially; the upper pole leans medially and posteriorly.
  const facing = (rng.range(20, 45) * spread * Math.PI) / 180;
  const medialTilt = (rng.range(5, 20) * spread * Math.PI) / 180;
  const posteriorTilt = (rng.range(0, 15) * spread * Math.PI) / 180;
  const medialX = -sideSign;
  const w = normalize([medialX * Math.sin(medialTilt), Math.sin(posteriorTilt), 1]);
  const uHint: Vec3 = [medialX * Math.cos(facing), -Math.sin(facing), 0];
  const blob: Blob = {
    centerMm: center,
    semiAxesMm: semi,
    frame: frameFromAxes(uHint, w),
    wobble: 0.06 * spread,
    field,
  };
  const f = blob.frame;
  const hilum: Vec3 = [
    center[0] + f[0] * semi[0] * 1.1,
    center[1] + f[1] * semi[0] * 1.1,
    center[2] + f[2] * semi[0] * 1.1,
  ];
  return { side: sideSign < 0 ? 'right' : 'left', blob, hilumMm: hilum };
}

/** Paints both kidneys and, when asked, their lesions; returns lesion descriptions for the metadata. */
export function paintKidneys(
  cv: Canvas,
  plan: BodyPlan,
  hu: TissueHu,
  rng: Rng,
  vessels: VesselPlan,
  opts: KidneyOptions,
): LesionInfo[] {
  const field = new SmoothField(rng, 22);
  const spread = opts.shapeRange;
  // Right kidney sits lower (the liver pushes it down); usually by 1-2 cm, occasionally not at all.
  const zRight = rng.range(-22, 0);
  const zLeft = zRight + rng.range(-5, 25);
  const size = opts.sizeScale ?? 1;
  const kidneys = [
    planKidney(plan, rng, -1, zRight, spread, field, size),
    planKidney(plan, rng, 1, zLeft, spread, field, size),
  ];
  const kidneyLabel = opts.labelled ? KIDNEY_LABEL : 0;
  // The pelvis draws from its own stream, so everything else stays as drawn without it.
  const pelvisRng = opts.renalPelvis ? rng.fork('renal-pelvis') : undefined;
  for (const kid of kidneys) {
    const z = kid.hilumMm[2];
    const ureterPath: Vec3[] = [
      kid.hilumMm,
      place(plan, [(kid.side === 'left' ? 1 : -1) * 42, 25, -80]),
      place(plan, [(kid.side === 'left' ? 1 : -1) * 48, 20, -200]),
    ];
    // Painted first: the renal vessels run in front of it through the hilum.
    const pelvis = pelvisRng && renalPelvisPath(kid, ureterPath[1], pelvisRng);
    if (pelvis) {
      paintTube(cv, pelvis, (idx) => {
        cv.hu[idx] = hu.urine;
        cv.label[idx] = 0;
      });
    }
    const aorta = vessels.aortaAt(z);
    const ivc = vessels.ivcAt(z);
    const vein = (idx: number) => {
      cv.hu[idx] = hu.vein;
      cv.label[idx] = 0;
    };
    const veinPath: Vec3[] =
      kid.side === 'left'
        ? [kid.hilumMm, [aorta[0] + 20, aorta[1] - 14, z + 4], [aorta[0], aorta[1] - 16, z + 2], ivc]
        : [kid.hilumMm, [(kid.hilumMm[0] + ivc[0]) / 2, (kid.hilumMm[1] + ivc[1]) / 2, z], ivc];
    paintTube(
      cv,
      smoothTube(
        veinPath,
        veinPath.map(() => 5),
        3,
      ),
      vein,
    );
    const arteryPath: Vec3[] = [aorta, [(aorta[0] + kid.hilumMm[0]) / 2, aorta[1] + 6, z + 6], kid.hilumMm];
    paintTube(cv, smoothTube(arteryPath, [3.2, 3, 2.8], 3), (idx) => {
      cv.hu[idx] = hu.artery;
      cv.label[idx] = 0;
    });
    paintTube(cv, smoothTube(ureterPath, [3.5, 2.5, 2.5], 4), (idx) => {
      cv.hu[idx] = hu.urine;
      cv.label[idx] = 0;
    });
  }
  // The sinus detail draws from its own stream, so the kidneys and lesions stay as drawn without it.
  const sinusRng = opts.sinusDetail ? rng.fork('renal-sinus') : undefined;
  for (const kid of kidneys) paintKidney(cv, kid, hu, rng, kidneyLabel, sinusRng && drawSinusDetail(sinusRng));
  if (!opts.lesions) return [];
  const lesions: LesionInfo[] = [];
  const tumors = rng.weighted([0.35, 0.5, 0.15]);
  const cysts = rng.weighted([0.4, 0.3, 0.2, 0.1]);
  for (let n = 0; n < tumors + cysts; n++) {
    const kind = n < tumors ? 'tumor' : 'cyst';
    const kid = kidneys[rng.int(0, 1)];
    lesions.push(paintKidneyLesion(cv, kid, hu, rng, kind, opts.labelled, opts.minLesionContrastHu));
  }
  return lesions;
}

/** Share of kidneys whose pelvis shows outside the hilum (generator v7); the others keep it inside the sinus. */
export const EXTRARENAL_PELVIS_SHARE = 0.8;

/**
 * Generator v7: the renal pelvis as a funnel of urine from inside the sinus out through the hilum, where it bulges
 * 2-10 mm beyond the kidney (radius 4-16 mm: up to ~20 mL, an extrarenal or full pelvis), to the ureter 15 mm on.
 * It lies behind the renal vessels, as in patients. Outside the kidney it carries no label, as reference
 * segmentations draw it (TotalSegmentator's kidney stops at the hilum). Without it the only urine near a
 * phantom's hilum was a 3.5 mm ureter, and a starter called the shared native CT's pelvis at the hilum (7 HU, 36
 * mL) tumour. Undefined for the kidneys without one.
 */
function renalPelvisPath(kid: KidneyGeometry, ureterNext: Vec3, rng: Rng): Tube | undefined {
  if (!rng.chance(EXTRARENAL_PELVIS_SHARE)) return undefined;
  const radius = rng.range(4, 16);
  const out = rng.range(2, 10);
  const back = rng.range(0.2, 0.6) * radius;
  const f = kid.blob.frame;
  const c = kid.blob.centerMm;
  const a = kid.blob.semiAxesMm[0];
  const at = (t: number, posterior: number): Vec3 => [c[0] + f[0] * t, c[1] + f[1] * t + posterior, c[2] + f[2] * t];
  const inside = at(0.75 * a, 0);
  const bulge = at(1.1 * a + out, back);
  const toUreter = normalize([ureterNext[0] - bulge[0], ureterNext[1] - bulge[1], ureterNext[2] - bulge[2]]);
  const reach = radius + 15;
  const ureter: Vec3 = [bulge[0] + toUreter[0] * reach, bulge[1] + toUreter[1] * reach, bulge[2] + toUreter[2] * reach];
  return smoothTube([inside, bulge, ureter], [0.7 * radius, radius, 2.5], 4);
}

function paintKidney(
  cv: Canvas,
  kid: KidneyGeometry,
  hu: TissueHu,
  rng: Rng,
  kidneyLabel: number,
  sinusDetail?: SinusDetail,
): void {
  const cortexFrac = rng.range(5, 8) / kid.blob.semiAxesMm[0];
  const pyramids = rng.int(5, 8);
  const phase = rng.range(0, Math.PI * 2);
  const sinusCenter = rng.range(0.45, 0.62);
  const sinusSize = rng.range(0.45, 0.6);
  paintBlob(cv, kid.blob, (idx, value, x, y, z) => {
    const u = blobLocal[0],
      v = blobLocal[1],
      w = blobLocal[2];
    const sinus = ((u - sinusCenter) / sinusSize) ** 2 + (v / (sinusSize * 0.85)) ** 2 + (w / (sinusSize * 1.05)) ** 2;
    if (sinus < 1) {
      const pelvis = ((u - sinusCenter - 0.2) / 0.33) ** 2 + (v / 0.22) ** 2 + (w / 0.3) ** 2;
      if (pelvis < 1) {
        cv.hu[idx] = hu.urine;
        cv.label[idx] = kidneyLabel;
      } else if (sinusDetail) {
        const f = sinusStrandFraction(sinusDetail, x, y, z);
        cv.hu[idx] = sinusHu(sinusDetail, hu, f, x, y, z);
        cv.label[idx] = f >= SINUS_KIDNEY_FRACTION ? kidneyLabel : 0;
      } else {
        cv.hu[idx] = hu.fat;
        cv.label[idx] = 0;
      }
      return;
    }
    cv.label[idx] = kidneyLabel;
    const depth = 1 - Math.sqrt(Math.max(0, value));
    if (depth < cortexFrac) {
      cv.hu[idx] = hu.kidneyCortex;
      return;
    }
    // Medullary pyramids point at the sinus; columns of Bertin (cortex) separate them.
    const angle = Math.atan2(w, v);
    const column = Math.cos(pyramids * angle + phase) < -0.35;
    cv.hu[idx] = column || sinus > 2.6 ? hu.kidneyCortex : hu.kidneyMedulla;
  });
}

function logUniform(rng: Rng, lo: number, hi: number): number {
  return Math.exp(rng.range(Math.log(lo), Math.log(hi)));
}

function paintKidneyLesion(
  cv: Canvas,
  kid: KidneyGeometry,
  hu: TissueHu,
  rng: Rng,
  kind: 'tumor' | 'cyst',
  labelled: boolean,
  minContrast?: number,
): LesionInfo {
  const semi = kid.blob.semiAxesMm;
  const f = kid.blob.frame;
  // Centre inside the kidney (normalised radius ≤ 0.95), so the lesion always touches parenchyma;
  // centres near the surface give exophytic lesions.
  const dir = normalize([rng.normal(), rng.normal(), rng.normal()]);
  const rho = kind === 'tumor' ? rng.range(0.3, 0.95) : rng.range(0.55, 0.95);
  const local: Vec3 = [dir[0] * rho * semi[0], dir[1] * rho * semi[1], dir[2] * rho * semi[2]];
  const c = kid.blob.centerMm;
  const center: Vec3 = [
    c[0] + f[0] * local[0] + f[3] * local[1] + f[6] * local[2],
    c[1] + f[1] * local[0] + f[4] * local[1] + f[7] * local[2],
    c[2] + f[2] * local[0] + f[5] * local[1] + f[8] * local[2],
  ];
  const radius = kind === 'tumor' ? logUniform(rng, 8, 35) : logUniform(rng, 5, 24);
  const field = new SmoothField(rng, kind === 'tumor' ? 9 : 20);
  const blob: Blob = {
    centerMm: center,
    semiAxesMm: [radius * rng.range(0.85, 1.15), radius * rng.range(0.85, 1.15), radius * rng.range(0.85, 1.15)],
    frame: frameFromAngles(rng.range(0, Math.PI), rng.range(0, Math.PI), rng.range(0, Math.PI)),
    wobble: kind === 'tumor' ? 0.18 : 0.03,
    field,
  };
  let sum = 0;
  let count = 0;
  const label = labelled ? (kind === 'tumor' ? KIDNEY_TUMOR_LABEL : KIDNEY_CYST_LABEL) : 0;
  const parenchyma = (hu.kidneyCortex + hu.kidneyMedulla) / 2;
  const visible = (v: number) => (minContrast === undefined ? v : visibleLesionHu(kind, v, parenchyma, minContrast));
  if (kind === 'cyst') {
    const value = visible(rng.range(0, 20)); // simple cysts: water density, sharp margins, no enhancement
    paintBlob(cv, blob, (idx) => {
      cv.hu[idx] = value;
      cv.label[idx] = label;
      sum += value;
      count++;
    });
  } else {
    // Solid tumors enhance heterogeneously; larger ones often have a necrotic (low HU) centre.
    const base = visible(hu.kidneyTumor + rng.range(-45, 25));
    const swing = rng.range(15, 35);
    const necrosis = radius > 18 && rng.chance(0.6) ? rng.range(0.15, 0.35) : 0;
    const texture = new SmoothField(rng, 5);
    paintBlob(cv, blob, (idx, value, x, y, z) => {
      const h = value < necrosis ? 25 + 10 * texture.at(x, y, z) : base + swing * texture.at(x, y, z);
      cv.hu[idx] = h;
      cv.label[idx] = label;
      sum += h;
      count++;
    });
  }
  return {
    kind,
    organ: `${kid.side} kidney`,
    centerMm: center,
    radiusMm: radius,
    meanHu: count ? sum / count : NaN,
    labelValue: label,
  };
}
