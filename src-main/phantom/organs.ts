// Solid upper-abdominal organs and the great vessels: liver, gallbladder, spleen, stomach, aorta, IVC, portal system.
import type { Vec3 } from '../imaging/volume';
import { type Blob, type Canvas, blobValue, frameFromAngles, paintBlob, paintTube, smoothTube } from './canvas';
import { type BodyPlan, inCavity, place, sized } from './body';
import { spleenPatternAt, type SpleenPattern, type TissueHu } from './hu';
import { SmoothField } from './noise';
import type { Rng } from './random';

/** Landmarks later painters attach to (kidney vessels, pancreas, splenic vein), in world mm. */
export interface VesselPlan {
  /** Aorta centreline: world x/y at a given world z. */
  aortaAt: (z: number) => Vec3;
  ivcAt: (z: number) => Vec3;
  splenicHilumMm: Vec3;
  portalConfluenceMm: Vec3;
}

function worldField(rng: Rng, cellMm: number): SmoothField {
  return new SmoothField(rng, cellMm);
}

function polylineAt(points: Vec3[]): (z: number) => Vec3 {
  // Points run top to bottom; interpolate x, y linearly in z, clamped at the ends.
  return (z: number) => {
    if (z >= points[0][2]) return [points[0][0], points[0][1], z];
    for (let n = 0; n < points.length - 1; n++) {
      const a = points[n],
        b = points[n + 1];
      if (z >= b[2]) {
        const t = (a[2] - z) / (a[2] - b[2]);
        return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, z];
      }
    }
    const last = points[points.length - 1];
    return [last[0], last[1], z];
  };
}

export function paintVessels(cv: Canvas, plan: BodyPlan, hu: TissueHu, rng: Rng): VesselPlan {
  const r = plan.scale[0];
  const aortaR = rng.range(9, 12.5) * r;
  const aortaPts = [
    place(plan, [12, 14, 230]),
    place(plan, [10, 12, 60]),
    place(plan, [6, 8, -60]),
    place(plan, [2, 4, -100]),
  ];
  const ivcPts = [
    place(plan, [-22, 6, 200]),
    place(plan, [-24, 14, 60]),
    place(plan, [-22, 14, -60]),
    place(plan, [-14, 10, -108]),
  ];
  const vessel = (value: number) => (idx: number) => {
    cv.hu[idx] = value;
    cv.label[idx] = 0;
  };
  // Arteries enhance earlier than veins; the infrarenal IVC mixes unenhanced blood from the legs.
  paintTube(
    cv,
    { pointsMm: aortaPts, radiiMm: [aortaR * 1.05, aortaR, aortaR * 0.92, aortaR * 0.85] },
    vessel(hu.artery),
  );
  const ivcR = rng.range(9, 12) * r;
  paintTube(cv, { pointsMm: ivcPts, radiiMm: [ivcR * 1.1, ivcR, ivcR * 0.95, ivcR * 0.9] }, (idx, _d, s) => {
    cv.hu[idx] = s < 1.5 ? hu.vein : hu.vein * 0.8 + hu.muscle * 0.2;
    cv.label[idx] = 0;
  });
  for (const side of [-1, 1]) {
    const iliacA = smoothTube(
      [aortaPts[3], place(plan, [side * 30, 8, -140]), place(plan, [side * 55, 0, -190])],
      [aortaR * 0.6, 6 * r, 5 * r],
      3,
    );
    paintTube(cv, iliacA, vessel(hu.artery));
    const iliacV = smoothTube(
      [ivcPts[3], place(plan, [side * 28, 18, -140]), place(plan, [side * 50, 12, -190])],
      [ivcR * 0.7, 7 * r, 6.5 * r],
      3,
    );
    paintTube(cv, iliacV, vessel(hu.vein * 0.85 + hu.muscle * 0.15));
  }
  // Superior mesenteric artery runs down in front of the aorta (the left renal vein passes between).
  const sma = smoothTube(
    [place(plan, [8, 0, 30]), place(plan, [6, -12, 0]), place(plan, [2, -22, -70])],
    [4 * r, 3.8 * r, 3 * r],
    3,
  );
  paintTube(cv, sma, vessel(hu.artery));
  const confluence = place(plan, [-10, -4, 28]);
  const smv = smoothTube(
    [confluence, place(plan, [-10, -16, 0]), place(plan, [-8, -26, -70])],
    [6 * r, 5.5 * r, 4 * r],
    3,
  );
  paintTube(cv, smv, vessel(hu.portalVein));
  return {
    aortaAt: polylineAt(aortaPts),
    ivcAt: polylineAt(ivcPts),
    splenicHilumMm: place(plan, [74, 32, 68]),
    portalConfluenceMm: confluence,
  };
}

/** Liver (right and left lobes) with intrahepatic vessels, then the gallbladder under it. */
export function paintLiver(cv: Canvas, plan: BodyPlan, hu: TissueHu, rng: Rng, vessels: VesselPlan): void {
  const field = worldField(rng, 35);
  const texture = worldField(rng, 7);
  const size = rng.range(0.88, 1.12);
  const right: Blob = {
    centerMm: place(plan, [-70 + rng.range(-8, 8), 0, 105 + rng.range(-10, 10)]),
    semiAxesMm: sized(plan, [78 * size, 88 * size, 85 * size]),
    frame: frameFromAngles(0, rng.range(-0.25, 0.05), rng.range(-0.2, 0.2)),
    wobble: 0.35,
    field,
  };
  const left: Blob = {
    centerMm: place(plan, [10 + rng.range(-10, 15), -45, 120 + rng.range(-10, 10)]),
    semiAxesMm: sized(plan, [65 * size, 38 * size, 42 * size]),
    frame: frameFromAngles(0, rng.range(-0.15, 0.25), rng.range(-0.25, 0.1)),
    wobble: 0.3,
    field,
  };
  const inLiver = (x: number, y: number, z: number) =>
    (blobValue(right, x, y, z) < 1 || blobValue(left, x, y, z) < 1) && inCavity(plan, x, y, z, 2);
  const shade = (idx: number, _v: number, x: number, y: number, z: number) => {
    if (!inCavity(plan, x, y, z, 2)) return;
    cv.hu[idx] = hu.liver + 6 * texture.at(x, y, z);
    cv.label[idx] = 0;
  };
  paintBlob(cv, right, shade);
  paintBlob(cv, left, shade);
  // Portal branches fan out from the porta hepatis; hepatic veins converge on the IVC near the dome.
  const porta = place(plan, [-38, -2, 78]);
  const portal = smoothTube(
    [vessels.portalConfluenceMm, place(plan, [-25, -4, 55]), porta],
    [7 * plan.scale[0], 7, 6.5],
    3,
  );
  paintTube(cv, portal, (idx) => {
    cv.hu[idx] = hu.portalVein;
    cv.label[idx] = 0;
  });
  const branch = (from: Vec3, to: Vec3, r0: number, value: number) => {
    const mid: Vec3 = [
      (from[0] + to[0]) / 2 + rng.range(-8, 8),
      (from[1] + to[1]) / 2 + rng.range(-8, 8),
      (from[2] + to[2]) / 2,
    ];
    paintTube(cv, smoothTube([from, mid, to], [r0, r0 * 0.7, r0 * 0.35], 3), (idx, _d, _s, x, y, z) => {
      if (!inLiver(x, y, z)) return;
      cv.hu[idx] = value;
    });
  };
  for (let n = 0; n < 5; n++) {
    branch(porta, place(plan, [-40 - rng.range(10, 90), rng.range(-60, 40), rng.range(60, 140)]), 5, hu.portalVein);
  }
  branch(porta, place(plan, [rng.range(0, 50), rng.range(-70, -40), rng.range(100, 140)]), 4.5, hu.portalVein);
  const ivcTop = vessels.ivcAt(plan.zShiftMm + 150 * plan.scale[2]);
  for (const target of [
    [-110, 10, 120],
    [-60, -60, 130],
    [20, -50, 135],
  ] as Vec3[]) {
    branch(
      ivcTop,
      place(plan, [target[0] + rng.range(-10, 10), target[1] + rng.range(-10, 10), target[2]]),
      6,
      hu.vein,
    );
  }
  const gallbladder: Blob = {
    centerMm: place(plan, [-45 + rng.range(-10, 10), -45 + rng.range(-10, 10), 55 + rng.range(-10, 10)]),
    semiAxesMm: sized(plan, [rng.range(10, 17), rng.range(10, 17), rng.range(22, 40)]),
    frame: frameFromAngles(rng.range(-0.6, -0.2), rng.range(-0.3, 0.3), 0),
    wobble: 0.05,
    field,
  };
  if (rng.chance(0.85)) {
    paintBlob(cv, gallbladder, (idx, v) => {
      cv.hu[idx] = v > 0.8 ? hu.bowelWall * 0.6 + hu.bile * 0.4 : hu.bile;
      cv.label[idx] = 0;
    });
  }
}

/** Spleen: a crescent along the left posterior ribs, with its hilum facing the pancreatic tail. */
export function paintSpleen(
  cv: Canvas,
  plan: BodyPlan,
  hu: TissueHu,
  rng: Rng,
  vessels: VesselPlan,
  pattern?: SpleenPattern,
): void {
  const field = worldField(rng, 30);
  const texture = worldField(rng, 8);
  const size = rng.range(0.8, 1.2);
  const spleen: Blob = {
    centerMm: place(plan, [98 + rng.range(-6, 6), 52 + rng.range(-8, 8), 75 + rng.range(-12, 12)]),
    semiAxesMm: sized(plan, [24 * size, 55 * size, 48 * size]),
    frame: frameFromAngles(rng.range(-0.2, 0.2), 0, -0.55 + rng.range(-0.15, 0.15)),
    wobble: 0.2,
    field,
  };
  const hilum = vessels.splenicHilumMm;
  paintBlob(cv, spleen, (idx, _v, x, y, z) => {
    if (!inCavity(plan, x, y, z, 1)) return;
    // The medial surface is concave around the hilum.
    if (Math.hypot(x - hilum[0] + 8, y - hilum[1], (z - hilum[2]) * 0.7) < 24 * plan.scale[0]) return;
    cv.hu[idx] = hu.spleen + 5 * texture.at(x, y, z) + spleenPatternAt(pattern, x, y, z);
    cv.label[idx] = 0;
  });
}

/** Stomach in the left upper quadrant: enhancing wall, fluid below and gas above (supine: gas anterior). */
export function paintStomach(cv: Canvas, plan: BodyPlan, hu: TissueHu, rng: Rng): void {
  const field = worldField(rng, 30);
  const size = rng.range(0.75, 1.15);
  const stomach: Blob = {
    centerMm: place(plan, [45 + rng.range(-10, 10), -35 + rng.range(-8, 8), 105 + rng.range(-10, 10)]),
    semiAxesMm: sized(plan, [38 * size, 28 * size, 52 * size]),
    frame: frameFromAngles(rng.range(-0.3, 0.1), rng.range(0.2, 0.6), rng.range(-0.3, 0.3)),
    wobble: 0.25,
    field,
  };
  const gasLevelMm = stomach.centerMm[1] - stomach.semiAxesMm[1] * rng.range(-0.2, 0.9);
  const wallMm = rng.range(3, 6);
  const wallLimit = (1 - wallMm / Math.min(...stomach.semiAxesMm)) ** 2;
  paintBlob(cv, stomach, (idx, v, x, y, z) => {
    if (!inCavity(plan, x, y, z, 1)) return;
    cv.hu[idx] = v > wallLimit ? hu.bowelWall : y < gasLevelMm ? hu.gas : hu.bowelFluid;
    cv.label[idx] = 0;
  });
}
