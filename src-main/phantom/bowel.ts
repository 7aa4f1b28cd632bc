// Bowel: colon frame around the abdomen and small-bowel loops, with enhancing walls, fluid, stool and gas.
import type { Vec3 } from '../imaging/volume';
import { type Canvas, type Tube, paintTube, smoothTube } from './canvas';
import { type BodyPlan, inCavity, place } from './body';
import type { TissueHu } from './hu';
import { SmoothField } from './noise';
import type { Rng } from './random';

type Content = 'fluid' | 'stool' | 'gas';

/** Paints a bowel tube in short overlapping chunks (small boxes) with wall, content and a gas level. */
function paintBowelTube(
  cv: Canvas,
  plan: BodyPlan,
  hu: TissueHu,
  tube: Tube,
  content: Content,
  gasDepthFrac: number,
  field: SmoothField,
  wallMm: number,
): void {
  const pts = tube.pointsMm;
  for (let start = 0; start < pts.length - 1; start += 3) {
    const stop = Math.min(pts.length, start + 5);
    const chunk = { pointsMm: pts.slice(start, stop), radiiMm: tube.radiiMm.slice(start, stop) };
    paintTube(cv, chunk, (idx, depth, s, x, y, z) => {
      if (!inCavity(plan, x, y, z, 1)) return;
      cv.label[idx] = 0;
      if (depth < wallMm) {
        cv.hu[idx] = hu.bowelWall;
        return;
      }
      // Gas rises to the anterior (non-dependent) side of the lumen in a supine patient.
      const n = Math.min(chunk.pointsMm.length - 2, Math.floor(s));
      const t = s - n;
      const axisY = chunk.pointsMm[n][1] + (chunk.pointsMm[n + 1][1] - chunk.pointsMm[n][1]) * t;
      const radius = chunk.radiiMm[n];
      if (y < axisY - radius * gasDepthFrac) {
        cv.hu[idx] = hu.gas;
        return;
      }
      if (content === 'gas') cv.hu[idx] = hu.gas;
      else if (content === 'stool') {
        // Stool is mottled: pockets of gas in soft material.
        const f = field.at(x, y, z);
        cv.hu[idx] = f > 0.35 ? hu.gas : f > 0.1 ? -350 : 20 + 60 * f;
      } else {
        cv.hu[idx] = hu.bowelFluid;
      }
    });
  }
}

export function paintColon(cv: Canvas, plan: BodyPlan, hu: TissueHu, rng: Rng): void {
  const field = new SmoothField(rng, 4);
  const j = (v: number) => v + rng.range(-8, 8);
  const frame: Vec3[] = [
    place(plan, [j(-30), j(-40), -175]),
    place(plan, [j(-95), j(0), -110]),
    place(plan, [j(-100), j(5), -40]),
    place(plan, [j(-95), j(-10), 30]),
    place(plan, [j(-80), j(-45), 55]),
    place(plan, [j(-35), j(-70), j(25)]),
    place(plan, [j(30), j(-68), j(25)]),
    place(plan, [j(80), j(-40), 75]),
    place(plan, [j(100), j(0), 50]),
    place(plan, [j(105), j(15), -30]),
    place(plan, [j(95), j(5), -110]),
    place(plan, [j(55), j(-25), -150]),
    place(plan, [j(10), j(-20), -180]),
  ];
  const radii = frame.map((_, n) => (n < 4 ? 24 : n < 9 ? 20 : 16) * plan.scale[0] * rng.range(0.8, 1.1));
  const tube = smoothTube(frame, radii, 5);
  const content: Content = rng.chance(0.7) ? 'stool' : 'gas';
  paintBowelTube(cv, plan, hu, tube, content, rng.range(0.2, 0.8), field, 2.5);
}

/** Small-bowel loops: random walks in the mid and lower abdomen, anterior to the retroperitoneum. */
export function paintSmallBowel(cv: Canvas, plan: BodyPlan, hu: TissueHu, rng: Rng): void {
  const field = new SmoothField(rng, 5);
  const loops = rng.int(8, 12);
  const lo: Vec3 = [-80, -85, -170];
  const hi: Vec3 = [80, 5, 20];
  for (let l = 0; l < loops; l++) {
    const pts: Vec3[] = [];
    let p: Vec3 = [rng.range(lo[0], hi[0]), rng.range(lo[1], hi[1]), rng.range(lo[2], hi[2])];
    let dir: Vec3 = [rng.normal(), rng.normal() * 0.5, rng.normal()];
    const steps = rng.int(8, 14);
    for (let n = 0; n < steps; n++) {
      pts.push(place(plan, p));
      // Meandering: the heading turns a little each step; walls of the region reflect it.
      dir = [dir[0] + rng.normal() * 0.9, dir[1] + rng.normal() * 0.5, dir[2] + rng.normal() * 0.9];
      const len = Math.hypot(dir[0], dir[1], dir[2]) || 1;
      dir = [dir[0] / len, dir[1] / len, dir[2] / len];
      const next: Vec3 = [p[0] + dir[0] * 22, p[1] + dir[1] * 22, p[2] + dir[2] * 22];
      for (let a = 0; a < 3; a++) {
        if (next[a] < lo[a] || next[a] > hi[a]) {
          dir[a] = -dir[a];
          next[a] = p[a] + dir[a] * 22;
        }
      }
      p = next;
    }
    const radius = rng.range(9, 14) * plan.scale[0];
    const tube = smoothTube(
      pts,
      pts.map(() => radius),
      3,
    );
    const content: Content = rng.chance(0.2) ? 'gas' : 'fluid';
    paintBowelTube(cv, plan, hu, tube, content, rng.chance(0.5) ? rng.range(0.3, 0.9) : 2, field, 2);
  }
}
