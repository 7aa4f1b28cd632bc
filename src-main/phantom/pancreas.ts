// Pancreas (head by the duodenum, body and tail along the splenic vein), duodenum, and pancreatic tumors.
import type { Vec3 } from '../imaging/volume';
import { type Blob, type Canvas, frameFromAngles, paintBlob, paintTube, smoothTube } from './canvas';
import { type BodyPlan, place } from './body';
import type { TissueHu } from './hu';
import type { LesionInfo } from './kidney';
import { SmoothField } from './noise';
import type { VesselPlan } from './organs';
import type { Rng } from './random';

export const PANCREAS_LABEL = 1;
export const PANCREAS_TUMOR_LABEL = 2;

export interface PancreasOptions {
  /** Write pancreas-schema labels (1 pancreas, 2 tumor); otherwise the pancreas is scenery. */
  labelled: boolean;
  lesions: boolean;
}

/** Duodenal C-loop around the pancreatic head, from the pylorus to the duodenojejunal flexure. */
function paintDuodenum(cv: Canvas, plan: BodyPlan, hu: TissueHu, rng: Rng): void {
  const j = (v: number) => v + rng.range(-5, 5);
  const path: Vec3[] = [
    [-8, -48, 52],
    [-38, -32, 46],
    [j(-56), -12, 34],
    [j(-60), -4, 5],
    [-44, 4, -20],
    [-5, -6, -30],
    [24, -8, -14],
    [34, -16, 14],
  ].map((p) => place(plan, p as Vec3));
  const radius = rng.range(9, 12) * plan.scale[0];
  const gas = rng.chance(0.4);
  const tube = smoothTube(
    path,
    path.map(() => radius),
    4,
  );
  for (let start = 0; start < tube.pointsMm.length - 1; start += 3) {
    const stop = Math.min(tube.pointsMm.length, start + 5);
    paintTube(
      cv,
      { pointsMm: tube.pointsMm.slice(start, stop), radiiMm: tube.radiiMm.slice(start, stop) },
      (idx, depth, _s, _x, y) => {
        // Keep the enhancing great vessels intact where the loop passes between aorta and SMA.
        const h = cv.hu[idx];
        if (h > hu.vein - 10 && h < 400) return;
        cv.label[idx] = 0;
        cv.hu[idx] = depth < 2.5 ? hu.bowelWall : gas && y < path[2][1] - 6 ? hu.gas : hu.bowelFluid;
      },
    );
  }
}

export function paintPancreas(
  cv: Canvas,
  plan: BodyPlan,
  hu: TissueHu,
  rng: Rng,
  vessels: VesselPlan,
  opts: PancreasOptions,
): LesionInfo[] {
  paintDuodenum(cv, plan, hu, rng);
  const j = (v: number, a = 5) => v + rng.range(-a, a);
  const hilum = vessels.splenicHilumMm;
  const control: Vec3[] = [
    place(plan, [j(-32), j(-4), j(2)]),
    place(plan, [j(-28), j(-12), j(20)]),
    place(plan, [j(-8), j(-26), j(30)]),
    place(plan, [j(24, 8), j(-24), j(36, 8)]),
    place(plan, [j(52, 8), j(-6), j(44, 8)]),
    [hilum[0] - 6 + rng.range(-4, 4), hilum[1] - 10 + rng.range(-4, 4), hilum[2] - 10 + rng.range(-6, 6)],
  ];
  const size = rng.range(0.75, 1.15); // atrophy with age, fuller in the young
  const radii = [15, 15, 10, 10.5, 10, 7.5].map((r) => r * size * plan.scale[0]);
  const gland = smoothTube(control, radii, 6);
  const lobules = new SmoothField(rng, 3.5);
  const outline = new SmoothField(rng, 14);
  const fatty = rng.range(0.3, 0.75); // higher = fewer fatty clefts
  const ductR = rng.chance(0.2) ? rng.range(2.5, 4) : 1.2;
  const label = opts.labelled ? PANCREAS_LABEL : 0;
  const texture = new SmoothField(rng, 6);
  paintTube(
    cv,
    gland,
    (idx, depth, s, x, y, z) => {
      const d = depth + 3 * outline.at(x, y, z);
      if (d <= 0) return;
      cv.label[idx] = label;
      const r = gland.radiiMm[Math.min(gland.radiiMm.length - 1, Math.round(s))];
      if (r - depth < ductR) cv.hu[idx] = hu.bile;
      else if (d < 4 && lobules.at(x, y, z) > fatty) cv.hu[idx] = hu.fat * 0.6 + hu.pancreas * 0.4;
      else cv.hu[idx] = hu.pancreas + 6 * texture.at(x, y, z);
    },
    3,
  );
  // Splenic vein: along the back of body and tail, from the portal confluence to the splenic hilum.
  const veinPts: Vec3[] = [vessels.portalConfluenceMm];
  for (let n = 2; n < control.length; n++) veinPts.push([control[n][0], control[n][1] + radii[n] + 3, control[n][2]]);
  veinPts.push(hilum);
  paintTube(
    cv,
    smoothTube(
      veinPts,
      veinPts.map(() => 4.5 * plan.scale[0]),
      4,
    ),
    (idx) => {
      cv.hu[idx] = hu.portalVein;
      cv.label[idx] = 0;
    },
  );
  if (!opts.lesions) return [];
  const lesions: LesionInfo[] = [];
  const count = rng.weighted([0.25, 0.68, 0.07]);
  const tumorLabel = opts.labelled ? PANCREAS_TUMOR_LABEL : 0;
  for (let n = 0; n < count; n++) {
    // Most ductal adenocarcinomas arise in the head.
    const region = rng.weighted([0.62, 0.22, 0.16]);
    const s = region === 0 ? rng.range(0, 1.6) : region === 1 ? rng.range(2.2, 3.6) : rng.range(3.8, 4.9);
    const seg = Math.floor(s) * 6 + Math.round((s - Math.floor(s)) * 6);
    const at = gland.pointsMm[Math.min(gland.pointsMm.length - 1, seg)];
    const localR = gland.radiiMm[Math.min(gland.radiiMm.length - 1, seg)];
    const offset = localR * 0.5;
    const center: Vec3 = [
      at[0] + rng.range(-offset, offset),
      at[1] + rng.range(-offset, offset),
      at[2] + rng.range(-offset, offset),
    ];
    const radius = Math.exp(rng.range(Math.log(7), Math.log(24)));
    const field = new SmoothField(rng, 8);
    const blob: Blob = {
      centerMm: center,
      semiAxesMm: [radius * rng.range(0.8, 1.2), radius * rng.range(0.8, 1.2), radius * rng.range(0.8, 1.2)],
      frame: frameFromAngles(rng.range(0, Math.PI), rng.range(0, Math.PI), rng.range(0, Math.PI)),
      wobble: 0.2,
      field,
    };
    // Ductal adenocarcinoma is hypovascular: darker than the enhancing gland, a little mottled.
    const base = hu.pancreaticTumor + rng.range(-15, 15);
    let sum = 0;
    let voxels = 0;
    paintBlob(cv, blob, (idx, _v, x, y, z) => {
      const h = base + 12 * field.at(x + 31, y + 17, z + 5);
      cv.hu[idx] = h;
      cv.label[idx] = tumorLabel;
      sum += h;
      voxels++;
    });
    const organ = ['pancreas head', 'pancreas body', 'pancreas tail'][region];
    lesions.push({
      kind: 'tumor',
      organ,
      centerMm: center,
      radiusMm: radius,
      meanHu: voxels ? sum / voxels : NaN,
      labelValue: tumorLabel,
    });
  }
  return lesions;
}
