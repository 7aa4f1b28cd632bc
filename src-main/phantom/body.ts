// Body habitus and the body pass: air, skin, subcutaneous fat, abdominal wall, visceral fat, lung bases.
import type { Vec3 } from '../imaging/volume';
import type { Canvas } from './canvas';
import type { TissueHu } from './hu';
import { SmoothField } from './noise';
import type { Rng } from './random';

/**
 * Where this patient's body is. Anatomy is written in "canonical" millimetres for an average trunk
 * (muscle wall 150 mm half-width, 100 mm half-depth, L1 at z = +15) and mapped through `place`.
 */
export interface BodyPlan {
  centerXMm: number;
  centerYMm: number;
  /** Canonical → world scale per axis. */
  scale: Vec3;
  /** World z of canonical z = 0. */
  zShiftMm: number;
  /** Half-width and anterior/posterior half-depths of the muscular trunk (outer wall surface), mm. */
  trunkHalfWidthMm: number;
  trunkAntMm: number;
  trunkPostMm: number;
  wallMm: number;
  /** Subcutaneous fat thickness laterally, anteriorly (belly) and posteriorly, mm. */
  fatLatMm: number;
  fatAntMm: number;
  fatPostMm: number;
  /** Canonical z of the top of each diaphragm dome (right, left). */
  domeRightZ: number;
  domeLeftZ: number;
}

export function planBody(rng: Rng, bodyScale = 1): BodyPlan {
  // Trunk widths of 250-300 mm plus fat keep most bodies inside a 384 mm field of view.
  const sx = rng.range(0.82, 1.0) * bodyScale;
  const sy = rng.range(0.85, 1.05) * bodyScale;
  const sz = rng.range(0.92, 1.08) * bodyScale;
  const fat = rng.range(6, 36); // thin to obese
  return {
    centerXMm: rng.range(-8, 8),
    centerYMm: rng.range(-10, 10),
    scale: [sx, sy, sz],
    zShiftMm: rng.range(-15, 15),
    trunkHalfWidthMm: 150 * sx,
    trunkAntMm: 100 * sy,
    trunkPostMm: 100 * sy,
    wallMm: rng.range(9, 15),
    fatLatMm: fat * rng.range(0.8, 1.2),
    fatAntMm: fat * rng.range(0.9, 1.6),
    fatPostMm: fat * rng.range(0.6, 1.0),
    domeRightZ: rng.range(150, 170),
    domeLeftZ: rng.range(135, 155),
  };
}

/** World position (mm) of a canonical anatomical point. */
export function place(plan: BodyPlan, p: Vec3): Vec3 {
  return [
    plan.centerXMm + p[0] * plan.scale[0],
    plan.centerYMm + p[1] * plan.scale[1],
    plan.zShiftMm + p[2] * plan.scale[2],
  ];
}

/** Scales canonical lengths (semi-axes, radii) by the body size. */
export function sized(plan: BodyPlan, v: Vec3): Vec3 {
  return [v[0] * plan.scale[0], v[1] * plan.scale[1], v[2] * plan.scale[2]];
}

/** Canonical z of the diaphragm surface above (x, y) (canonical mm); lung lies above it. */
export function diaphragmZ(plan: BodyPlan, x: number, y: number): number {
  // Blend the two domes smoothly across the midline (no step under the heart).
  const t = Math.min(1, Math.max(0, (x + 40) / 80));
  const dome = plan.domeRightZ + (plan.domeLeftZ - plan.domeRightZ) * t * t * (3 - 2 * t);
  const lateral = (Math.abs(x) - 75) / 80;
  // Domes peak over each hemidiaphragm; the posterior costophrenic recesses reach lower.
  return dome - 30 * lateral * lateral - 35 * Math.max(0, y / 100) ** 2 + 10 * Math.min(0, y / 100);
}

/** Fills the whole canvas: air outside, skin, subcutaneous fat, muscle wall, cavity fat, lung bases. */
export function paintBody(cv: Canvas, plan: BodyPlan, hu: TissueHu, rng: Rng): void {
  const [ni, nj, nk] = cv.dims;
  const [sx, sy, sz] = cv.spacingMm;
  const [ox, oy, oz] = cv.originMm;
  const { hu: out, label } = cv;
  const strands = new SmoothField(rng, 9);
  const strandAmount = rng.range(0.45, 0.7); // leaner patients show more mesenteric strands per fat
  const skinMm = 2;
  const table = rng.chance(0.8); // most scans show the CT table under the back
  // Below this canonical z no voxel can be above the diaphragm (cheap test before the full one).
  // Inside the cavity |x| and |y| stay below ~1.05 of the canonical trunk, so 1.5 is a safe bound.
  const lowestDiaphragmZ = Math.min(plan.domeLeftZ, plan.domeRightZ) - 30 * 1.5 - 35 * 1.5 - 10 * 1.5;
  for (let k = 0; k < nk; k++) {
    const z = oz + k * sz;
    const zc = (z - plan.zShiftMm) / plan.scale[2];
    // Pelvis is a little wider than the upper abdomen; habitus changes slowly along z.
    const widen = 1 + 0.05 * Math.max(-1, Math.min(1, -zc / 150));
    const a = plan.trunkHalfWidthMm * widen;
    const aIn = a - plan.wallMm;
    const aOut = a + plan.fatLatMm;
    for (let j = 0; j < nj; j++) {
      const y = oy + j * sy - plan.centerYMm;
      const b = y < 0 ? plan.trunkAntMm : plan.trunkPostMm;
      const bIn = b - plan.wallMm * (y < 0 ? 1 : 1.6);
      const bOut = b + (y < 0 ? plan.fatAntMm : plan.fatPostMm);
      // The back flattens on the table: a higher power posteriorly.
      const yOut = y < 0 ? (y / bOut) ** 2 : Math.abs(y / bOut) ** 3;
      const yMid = y < 0 ? (y / b) ** 2 : Math.abs(y / b) ** 3;
      const yIn = (y / bIn) ** 2;
      const ySkin = y < 0 ? (y / (bOut - skinMm)) ** 2 : Math.abs(y / (bOut - skinMm)) ** 3;
      const yc = y / plan.scale[1];
      const tableTop = plan.trunkPostMm + plan.fatPostMm + 8;
      let idx = ni * (j + nj * k);
      const y0 = oy + j * sy;
      let strandPrev = 0,
        strandNext = 0,
        strandPrevI = -10,
        strandNextI = -1;
      for (let i = 0; i < ni; i++, idx++) {
        const x0 = ox + i * sx;
        const x = x0 - plan.centerXMm;
        const qOut = (x / aOut) ** 2 + yOut;
        label[idx] = 0;
        if (qOut >= 1) {
          // The table is a thin curved carbon-fibre shell under the back.
          const yTable = y - (tableTop - 30 * (x / 220) ** 2);
          out[idx] = table && yTable > 0 && yTable < 5 && Math.abs(x) < 200 ? 180 : hu.air;
          continue;
        }
        if ((x / (aOut - skinMm)) ** 2 + ySkin >= 1) {
          out[idx] = hu.skin;
          continue;
        }
        if ((x / a) ** 2 + yMid >= 1) {
          out[idx] = hu.subcutaneousFat;
          continue;
        }
        if ((x / aIn) ** 2 + yIn >= 1) {
          out[idx] = hu.muscle;
          continue;
        }
        const xc = x / plan.scale[0];
        if (zc > lowestDiaphragmZ && zc > diaphragmZ(plan, xc, yc)) {
          // Above the diaphragm: the heart sits on the central tendon, lungs around it.
          const heart = ((xc - 15) / 80) ** 2 + ((yc + 30) / 62) ** 2 + ((zc - 215) / 100) ** 2 < 1;
          // Posterior mediastinum (oesophagus, azygos, fat) between the lungs in front of the spine.
          const mediastinum = Math.abs(xc - 5) < 30 && yc > -10;
          // Pericardial fat fills the saddle between the domes in front of the heart.
          const pericardial = ((xc - 10) / 62) ** 2 + ((yc + 25) / 60) ** 2 < 1;
          out[idx] = heart ? hu.heart : mediastinum ? hu.fat + 30 : pericardial ? hu.fat : hu.lung;
          continue;
        }
        // The strand field is smooth over several voxels: sample every third voxel along the row.
        if (i >= strandNextI) {
          strandPrev = strandNext;
          strandPrevI = strandNextI;
          strandNextI = i + 3;
          strandNext = strands.at(ox + strandNextI * sx, y0, z);
          if (strandPrevI !== i) {
            strandPrev = strands.at(x0, y0, z);
            strandPrevI = i;
          }
        }
        const s = strandPrev + ((strandNext - strandPrev) * (i - strandPrevI)) / (strandNextI - strandPrevI);
        out[idx] = s > strandAmount ? hu.fat + (hu.muscle - hu.fat) * Math.min(1, (s - strandAmount) * 6) : hu.fat;
      }
    }
  }
}

/** True where world point (mm) lies inside the abdominal cavity and below the diaphragm. */
export function inCavity(plan: BodyPlan, x: number, y: number, z: number, marginMm = 0): boolean {
  const zc = (z - plan.zShiftMm) / plan.scale[2];
  const widen = 1 + 0.05 * Math.max(-1, Math.min(1, -zc / 150));
  const dx = x - plan.centerXMm;
  const dy = y - plan.centerYMm;
  const aIn = plan.trunkHalfWidthMm * widen - plan.wallMm - marginMm;
  const bIn = (dy < 0 ? plan.trunkAntMm : plan.trunkPostMm) - plan.wallMm * (dy < 0 ? 1 : 1.6) - marginMm;
  if ((dx / aIn) ** 2 + (dy / bIn) ** 2 >= 1) return false;
  return zc < diaphragmZ(plan, dx / plan.scale[0], dy / plan.scale[1]) - marginMm;
}
