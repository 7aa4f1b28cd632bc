// Spine (vertebral bodies, discs, posterior elements, canal), ribs, iliac wings and the back muscles.
import type { Vec3 } from '../imaging/volume';
import { type Canvas, forEachInBox, frameFromAngles, paintBlob, paintTube, smoothTube } from './canvas';
import { type BodyPlan, place, sized } from './body';
import type { TissueHu } from './hu';
import { SmoothField } from './noise';
import type { Rng } from './random';

/** Canonical z of vertebral body centres, T8 … S1 (L1 at +15); pitch = body + disc height. */
export function vertebraLevels(): { name: string; z: number }[] {
  const names = ['T8', 'T9', 'T10', 'T11', 'T12', 'L1', 'L2', 'L3', 'L4', 'L5', 'S1'];
  const pitch = 36;
  return names.map((name, n) => ({ name, z: 15 + (5 - n) * pitch }));
}

/** Canonical y of the vertebral body centre (posterior of the trunk centre). */
export const SPINE_Y = 45;

export function paintSpine(cv: Canvas, plan: BodyPlan, hu: TissueHu, rng: Rng): void {
  const [sx, sy, sz] = plan.scale;
  const c = place(plan, [0, SPINE_Y, 0]);
  const bodyRx = rng.range(20, 25) * sx;
  const bodyRy = rng.range(15, 18) * sy;
  const cortexMm = 2;
  const canalY = c[1] + bodyRy + 11 * sy;
  const canalR = 9 * sx;
  // Lumbar lordosis: the spine bows anteriorly around L3.
  const lordosisMm = rng.range(0, 12);
  const levels = vertebraLevels();
  const bodyHalfHeight = 13 * sz;
  const halfPitch = 18 * sz;
  const marrow = new SmoothField(rng, 6);
  for (const level of levels) {
    const zc = plan.zShiftMm + level.z * sz;
    const bow = lordosisMm * Math.cos(((level.z + 60) / 200) * Math.PI);
    const cy = c[1] - Math.max(0, bow);
    const cyCanal = canalY - Math.max(0, bow);
    const transverse = level.name.startsWith('L') ? 38 * sx : 26 * sx;
    forEachInBox(
      cv,
      [c[0] - transverse - 5, cy - bodyRy - 2, zc - halfPitch],
      [c[0] + transverse + 5, cyCanal + 45 * sy, zc + halfPitch],
      (idx, x, y, z) => {
        const dx = x - c[0];
        const dz = z - zc;
        const ry = (y - cy) / bodyRy;
        const q = (dx / bodyRx) ** 2 + ry * ry;
        const out = cv.hu;
        if (q < 1) {
          // Vertebral body: cortical shell, cancellous core; discs between bodies.
          if (Math.abs(dz) > bodyHalfHeight) out[idx] = hu.disc;
          else {
            const edge = Math.min(1 - Math.sqrt(q), (bodyHalfHeight - Math.abs(dz)) / bodyRx) * bodyRx;
            out[idx] = edge < cortexMm ? hu.corticalBone : hu.cancellousBone + 40 * marrow.at(x, y, z);
          }
          cv.label[idx] = 0;
          return;
        }
        const yc = y - cyCanal;
        const rCanal = Math.hypot(dx, yc);
        if (rCanal < canalR) {
          out[idx] = hu.csf;
          cv.label[idx] = 0;
          return;
        }
        if (Math.abs(dz) > bodyHalfHeight + 2) return; // posterior elements stop at the disc level
        const ring = rCanal < canalR + 6 && yc > -canalR * 1.3; // pedicles and laminae around the canal
        const spinous = Math.abs(dx) < 3.5 * sx && yc > 0 && yc < 30 * sy && dz < 8 && dz > -bodyHalfHeight;
        const transverseBar =
          Math.abs(yc + 3) < 4 && Math.abs(dx) < transverse * (1 - 0.15 * Math.abs(dz / 5)) && Math.abs(dz - 2) < 5;
        if (ring || spinous || transverseBar) {
          out[idx] = hu.corticalBone * 0.7 + hu.cancellousBone * 0.3;
          cv.label[idx] = 0;
        }
      },
    );
  }
}

/** Lower ribs 8-12 on both sides, curving around the wall and dropping anteriorly, then costal cartilage. */
export function paintRibs(cv: Canvas, plan: BodyPlan, hu: TissueHu, rng: Rng): void {
  const levels = vertebraLevels();
  const ribEnds = [2.65, 2.55, 2.35, 1.7, 1.25]; // angle (rad from the back) where ribs 8..12 end
  for (let r = 0; r < 5; r++) {
    const attachZ = levels[r].z + 8;
    const end = ribEnds[r] + rng.range(-0.1, 0.1);
    const drop = rng.range(85, 110) + r * 10; // lower ribs slope more steeply
    for (const side of [-1, 1]) {
      const pts: Vec3[] = [];
      const radii: number[] = [];
      for (let t = 0.32; t <= end; t += 0.08) {
        const frac = (t - 0.32) / 2.3;
        // Ribs hug the inside of the muscle wall; near the spine they run deeper.
        const rx = 150 - 16 - 10 * Math.max(0, 0.8 - t);
        const ry = 100 - 20;
        pts.push(place(plan, [side * rx * Math.sin(t), ry * Math.cos(t), attachZ - drop * frac * frac - 30 * frac]));
        radii.push(r >= 3 ? 4.5 : 5.5);
      }
      const tube = { pointsMm: pts, radiiMm: radii };
      const cartilageFrom = r <= 2 ? pts.length - 6 : pts.length;
      // Paint in short chunks so each chunk's box stays small.
      for (let start = 0; start < pts.length - 1; start += 4) {
        const stop = Math.min(pts.length, start + 6);
        const chunk = { pointsMm: tube.pointsMm.slice(start, stop), radiiMm: tube.radiiMm.slice(start, stop) };
        paintTube(cv, chunk, (idx, depth, s) => {
          const cartilage = start + s >= cartilageFrom;
          cv.hu[idx] = cartilage ? 130 : depth < 1.6 ? hu.corticalBone * 0.9 : hu.cancellousBone;
          cv.label[idx] = 0;
        });
      }
    }
  }
}

/** Iliac wings in the lowest slices (the pelvis starts around L5). */
export function paintPelvis(cv: Canvas, plan: BodyPlan, hu: TissueHu, rng: Rng): void {
  const crestZ = -105 + rng.range(-10, 10);
  for (const side of [-1, 1]) {
    const pts: Vec3[] = [];
    for (let n = 0; n <= 6; n++) {
      const t = n / 6;
      pts.push(place(plan, [side * (60 + 55 * Math.sin(t * 2.2)), 70 - 90 * t, crestZ - 40 * t]));
    }
    // A wing is a curved plate: sweep the curve downwards and medially.
    for (let d = 0; d < 5; d++) {
      const shifted = pts.map((p): Vec3 => [p[0] - side * d * 6 * plan.scale[0], p[1], p[2] - d * 14 * plan.scale[2]]);
      const tube = smoothTube(
        shifted,
        shifted.map(() => 6),
        3,
      );
      paintTube(cv, tube, (idx, depth) => {
        cv.hu[idx] = depth < 1.8 ? hu.corticalBone : hu.cancellousBone;
        cv.label[idx] = 0;
      });
    }
  }
}

/** Psoas, erector spinae and quadratus lumborum: the muscle masses around the lumbar spine. */
export function paintBackMuscles(cv: Canvas, plan: BodyPlan, hu: TissueHu, rng: Rng): void {
  const field = new SmoothField(rng, 20);
  const muscle = (idx: number) => {
    cv.hu[idx] = hu.muscle;
    cv.label[idx] = 0;
  };
  for (const side of [-1, 1]) {
    const erector = {
      centerMm: place(plan, [side * 36, 82, -20]),
      semiAxesMm: sized(plan, [rng.range(24, 30), 19, 260]),
      frame: frameFromAngles(0, 0, 0),
      wobble: 0.08,
      field,
    };
    paintBlob(cv, erector, muscle);
    const quadratus = {
      centerMm: place(plan, [side * 68, 72, -60]),
      semiAxesMm: sized(plan, [16, 9, 90]),
      frame: frameFromAngles(0, 0, side * 0.4),
      wobble: 0.1,
      field,
    };
    paintBlob(cv, quadratus, muscle);
    // Psoas: starts thin at T12/L1 and thickens towards the pelvis, drifting laterally.
    const psoas = smoothTube(
      [
        place(plan, [side * 26, 42, 40]),
        place(plan, [side * 34, 35, -30]),
        place(plan, [side * 45, 22, -100]),
        place(plan, [side * 55, 5, -170]),
      ],
      [5, 13, 19, 21].map((r) => r * plan.scale[0] * rng.range(0.9, 1.1)),
      4,
    );
    paintTube(cv, psoas, muscle);
  }
}
