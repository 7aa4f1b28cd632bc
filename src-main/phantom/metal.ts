// Metal in the field of view (generator v5): what an annotation queue of kidney and pancreas CT holds now and then.
// Surgical clips beside the organ (after a partial nephrectomy, a cholecystectomy, a Whipple), a ureteral double-J
// stent from the renal pelvis down the ureter, a self-expanding metal biliary stent through the pancreatic head.
// Metal is painted with partial volume (a 2 mm wire fills part of a 3 mm voxel) at what solid metal would read on an
// unclipped scale, so it saturates and blooms, and it throws streaks across its axial
// slices: dark and bright lines through the metal, fading with distance (beam hardening and photon starvation, as
// filtered back-projection draws them). Labels are not changed (the metal lies in fat or urine, or is a wire thinner
// than a voxel), but for the bile duct a biliary stent holds open: it is not pancreas, and its lumen holds bile or
// gas. Painted on the clean canvas, before the scanner's blur and noise (finish.ts).
import type { Vec3 } from '../imaging/volume';
import { type Canvas, paintTube } from './canvas';
import { KIDNEY_LABEL } from './kidney';
import { PANCREAS_LABEL } from './pancreas';
import type { Rng } from './random';

/** Share of synth-domain and label-map cases (generator v5) with metal in the field of view. */
export const METAL_SHARE = 0.15;

/** The CT scale's top (int16 images stop here): metal, and the bloom around it, saturate it. */
export const METAL_HU = 3071;

/**
 * What solid metal would read on an unclipped scale (titanium clips toward the low end, steel and nitinol toward
 * the high): far above METAL_HU, so a wire filling a third of a voxel still saturates it, and the scanner's blur
 * spreads it into a bloom larger than the wire, as on real scans.
 */
export const SOLID_METAL_HU: [number, number] = [8000, 20000];

export interface MetalInfo {
  kind: 'clips' | 'ureteral stent' | 'biliary stent';
  /** Voxels at METAL_HU or above, before the scanner's blur. */
  voxels: number;
  /** Axial slices that hold metal, which carry its streaks. */
  slices: number;
  /** The strongest streak's peak (HU, before blur and noise). */
  streakHu: number;
}

/** The clean canvas the generator paints: identity-direction LPS grid, k superior. */
export type MetalCanvas = Canvas;

interface Wire {
  /** Polyline (LPS mm). */
  points: Vec3[];
  radiusMm: number;
  /** A hollow mesh tube (a metal stent's wall, this thick, this share metal) instead of a solid wire. */
  wall?: { thicknessMm: number; metalShare: number };
  /** Leave labelled voxels untouched (clips lie outside the organ). */
  outsideLabels: boolean;
  /**
   * The tube is a duct through the organ (a biliary stent's bile duct): inside its outer radius nothing is organ,
   * and its lumen reads this (bile, or gas after the stent let air in).
   */
  duct?: { lumenHu: number };
}

/**
 * Paints metal into `cv` (labelled in `schema`'s classes) with `rng`'s draws: nothing in 1 - METAL_SHARE of the cases
 * (or when `force` is false), always when `force` is true. The draw of whether is made first either way, so a
 * forced case holds the metal the same seed would draw. Returns what was painted, or undefined (also when the metal
 * drawn lies beyond the field of view).
 */
export function addMetal(
  cv: MetalCanvas,
  schema: 'kidney' | 'pancreas',
  rng: Rng,
  force?: boolean,
): MetalInfo | undefined {
  const drawn = rng.chance(METAL_SHARE);
  if (!(force ?? drawn)) return undefined;
  const organVoxels = voxelsOf(cv, schema === 'kidney' ? KIDNEY_LABEL : PANCREAS_LABEL);
  if (organVoxels.length === 0) return undefined;
  const stent = rng.chance(0.5);
  const kind: MetalInfo['kind'] = !stent ? 'clips' : schema === 'kidney' ? 'ureteral stent' : 'biliary stent';
  const wires =
    kind === 'clips'
      ? clipWires(organVoxels, rng)
      : kind === 'ureteral stent'
        ? ureteralStent(cv, organVoxels, rng)
        : biliaryStent(organVoxels, rng);
  const solid = rng.range(...SOLID_METAL_HU);
  const fraction = new Float32Array(cv.hu.length);
  for (const w of wires) paintWire(cv, w, fraction);
  let painted = false;
  for (let q = 0; q < fraction.length; q++)
    if (fraction[q] > 0) {
      cv.hu[q] += (solid - cv.hu[q]) * fraction[q];
      painted = true;
    }
  // Drawn beyond the field of view (or, clips, onto the organ only): no metal in this scan.
  if (!painted) return undefined;
  const streaks = addStreaks(cv, fraction, rng);
  let voxels = 0;
  for (let q = 0; q < fraction.length; q++) if (cv.hu[q] >= METAL_HU) voxels++;
  return { kind, voxels, ...streaks };
}

/** Centres (LPS mm) of the voxels labelled `organ`. */
function voxelsOf(cv: MetalCanvas, organ: number): Vec3[] {
  const [ni, nj] = cv.dims;
  const out: Vec3[] = [];
  for (let q = 0; q < cv.label.length; q++) {
    if (cv.label[q] !== organ) continue;
    const i = q % ni;
    const j = Math.floor(q / ni) % nj;
    const k = Math.floor(q / (ni * nj));
    out.push([
      cv.originMm[0] + i * cv.spacingMm[0],
      cv.originMm[1] + j * cv.spacingMm[1],
      cv.originMm[2] + k * cv.spacingMm[2],
    ]);
  }
  return out;
}

const add = (a: Vec3, b: Vec3, s = 1): Vec3 => [a[0] + s * b[0], a[1] + s * b[1], a[2] + s * b[2]];

function centroid(points: Vec3[]): Vec3 {
  const c: Vec3 = [0, 0, 0];
  for (const p of points) for (let a = 0; a < 3; a++) c[a] += p[a] / points.length;
  return c;
}

/** A random unit vector. */
function direction(rng: Rng): Vec3 {
  const z = rng.range(-1, 1);
  const t = rng.range(0, 2 * Math.PI);
  const r = Math.sqrt(1 - z * z);
  return [r * Math.cos(t), r * Math.sin(t), z];
}

/** 2-6 clips (4-7 mm long) in a cluster 6-18 mm out from a point of the organ's surface, outside the organ. */
function clipWires(organVoxels: Vec3[], rng: Rng): Wire[] {
  const c = centroid(organVoxels);
  const at = organVoxels[Math.floor(rng.next() * organVoxels.length)];
  const out = [at[0] - c[0], at[1] - c[1], at[2] - c[2]] as Vec3;
  const len = Math.hypot(...out) || 1;
  const centre = add(at, out, rng.range(6, 18) / len);
  const wires: Wire[] = [];
  const count = rng.int(2, 6);
  for (let n = 0; n < count; n++) {
    const mid = add(centre, direction(rng), rng.range(0, 12));
    const axis = direction(rng);
    const half = rng.range(2, 3.5);
    wires.push({
      points: [add(mid, axis, -half), add(mid, axis, half)],
      radiusMm: rng.range(0.6, 1),
      outsideLabels: true,
    });
  }
  return wires;
}

/**
 * A double-J stent in one kidney: a pigtail curl (radius 5-8 mm) in the renal pelvis, medial to the kidney's
 * centre, then down the ureter, drifting medially over the first 60 mm, 80-200 mm long; 6-8 French (1.0-1.35 mm
 * radius). The kidneys are told apart by the widest gap across x between labelled voxels.
 */
function ureteralStent(cv: MetalCanvas, organVoxels: Vec3[], rng: Rng): Wire[] {
  const xs = organVoxels.map((p) => p[0]).sort((a, b) => a - b);
  let gapAt = -1;
  let gap = 10; // mm: closer than this, one kidney
  for (let n = 1; n < xs.length; n++)
    if (xs[n] - xs[n - 1] > gap) {
      gap = xs[n] - xs[n - 1];
      gapAt = (xs[n] + xs[n - 1]) / 2;
    }
  const groups =
    gapAt < 0 ? [organVoxels] : [organVoxels.filter((p) => p[0] < gapAt), organVoxels.filter((p) => p[0] > gapAt)];
  const g = groups.length === 1 ? 0 : rng.chance(0.5) ? 1 : 0;
  const kidney = groups[g];
  const c = centroid(kidney);
  // Medial: toward the other kidney, else toward the middle of the grid.
  const midX =
    groups.length === 2 ? centroid(groups[1 - g])[0] : cv.originMm[0] + ((cv.dims[0] - 1) / 2) * cv.spacingMm[0];
  const m = Math.sign(midX - c[0]) || 1;
  let x0 = Infinity;
  let x1 = -Infinity;
  let z0 = Infinity;
  let z1 = -Infinity;
  for (const p of kidney) {
    x0 = Math.min(x0, p[0]);
    x1 = Math.max(x1, p[0]);
    z0 = Math.min(z0, p[2]);
    z1 = Math.max(z1, p[2]);
  }
  const pelvis: Vec3 = [c[0] + m * 0.25 * (x1 - x0), c[1] + rng.range(-4, 4), c[2] - rng.range(0, 0.15) * (z1 - z0)];
  const curl = rng.range(5, 8);
  const points: Vec3[] = [];
  const turns = rng.range(1.2, 1.8) * 2 * Math.PI;
  const tilt = rng.range(-0.5, 0.5);
  for (let t = 0; t <= turns; t += 0.25) {
    const a = Math.cos(t) * curl;
    const b = Math.sin(t) * curl;
    points.push([pelvis[0] + m * a, pelvis[1] + tilt * b, pelvis[2] + b]);
  }
  const length = rng.range(80, 200);
  const drift = rng.range(8, 20);
  const wobble = rng.range(0, Math.PI * 2);
  const start = points[points.length - 1];
  for (let s = 2; s <= length; s += 2) {
    points.push([start[0] + m * drift * Math.min(1, s / 60), start[1] + 3 * Math.sin(s / 40 + wobble), start[2] - s]);
  }
  return [{ points, radiusMm: rng.range(1, 1.35), outsideLabels: false }];
}

/**
 * A self-expanding metal stent in the distal bile duct: a mesh tube (radius 4-5 mm, wall 1 mm, 35-60 %
 * metal) 40-80 mm long from the duodenum up through the pancreatic head (its patient-right end, −x) toward
 * the liver hilum. The duct it holds open (its outer radius) is unlabelled; its lumen is bile, or gas (40 %).
 */
function biliaryStent(organVoxels: Vec3[], rng: Rng): Wire[] {
  const xs = organVoxels.map((p) => p[0]).sort((a, b) => a - b);
  const cut = xs[Math.floor(0.3 * (xs.length - 1))];
  const head = centroid(organVoxels.filter((p) => p[0] <= cut));
  const length = rng.range(40, 80);
  // Upward, a little to the right and back: the common bile duct's course behind the head.
  const dir: Vec3 = [rng.range(-0.35, -0.1), rng.range(0, 0.3), 1];
  const norm = Math.hypot(...dir);
  const unit = dir.map((d) => d / norm) as Vec3;
  const from = add(head, unit, -length * rng.range(0.25, 0.45));
  const points: Vec3[] = [];
  for (let s = 0; s <= length; s += 2) points.push(add(from, unit, s));
  // Pneumobilia is common once a stent holds the papilla open.
  const lumenHu = rng.chance(0.4) ? rng.range(-950, -600) : rng.range(0, 25);
  return [
    {
      points,
      radiusMm: rng.range(4, 5),
      wall: { thicknessMm: 1, metalShare: rng.range(0.35, 0.6) },
      outsideLabels: false,
      duct: { lumenHu },
    },
  ];
}

/**
 * Adds a wire's metal fraction to `fraction` (the largest per voxel): the share of a voxel the wire's cross-section
 * fills, ramped over one voxel at its edge (a wire thinner than a voxel never fills one). Distances are to the whole
 * polyline (canvas.ts paintTube), so a mesh tube's wall stays a wall where its segments meet.
 */
function paintWire(cv: MetalCanvas, w: Wire, fraction: Float32Array): void {
  const h = (cv.spacingMm[0] + cv.spacingMm[1]) / 4; // half the in-plane voxel
  const thickness = w.wall ? w.wall.thicknessMm : 2 * w.radiusMm;
  const half = thickness / 2;
  const outer = w.radiusMm + (w.wall ? half : 0);
  const peak = Math.min(1, thickness / (2 * h)) * (w.wall ? w.wall.metalShare : 1);
  const tube = { pointsMm: w.points, radiiMm: w.points.map(() => w.radiusMm) };
  paintTube(
    cv,
    tube,
    (q, depth) => {
      if (w.outsideLabels && cv.label[q] !== 0) return;
      const d = w.radiusMm - depth;
      if (w.duct && d <= outer) {
        cv.label[q] = 0;
        if (d < w.radiusMm - half) cv.hu[q] = w.duct.lumenHu;
      }
      // Solid wire: distance from its axis; mesh tube: distance from the middle of its wall.
      const e = w.wall ? Math.abs(d - w.radiusMm) : d;
      const f = Math.min(1, Math.max(0, (half + h - e) / (2 * h))) * peak;
      if (f > fraction[q]) fraction[q] = f;
    },
    outer - w.radiusMm + 2 * h,
  );
}

/**
 * Streaks in every axial slice that holds metal: 6-14 lines through the slice's metal (its metal-weighted centre),
 * at angles drawn per case and jittered per slice, each dark or bright (dark more often), a Gaussian profile 0.8-2
 * mm wide, fading as r0 / (r0 + distance) with r0 25-80 mm, scaled by the square root of the slice's metal
 * cross-section (a thin wire streaks less than a clip cluster), their sum at most one streak's peak (where they
 * cross, at the metal). Only tissue (above -700 HU) takes them.
 */
function addStreaks(cv: MetalCanvas, fraction: Float32Array, rng: Rng): { slices: number; streakHu: number } {
  const [ni, nj, nk] = cv.dims;
  const [sx, sy] = cv.spacingMm;
  const count = rng.int(6, 14);
  const angles = Array.from({ length: count }, () => rng.range(0, Math.PI));
  const signs = Array.from({ length: count }, () => (rng.chance(0.6) ? -1 : 1));
  const gains = Array.from({ length: count }, () => rng.range(0.5, 1));
  const amplitude = rng.range(80, 300);
  const width = rng.range(0.8, 2);
  const r0 = rng.range(25, 80);
  const plane = ni * nj;
  let slices = 0;
  let streakHu = 0;
  for (let k = 0; k < nk; k++) {
    let mass = 0;
    let ci = 0;
    let cj = 0;
    for (let r = 0; r < plane; r++) {
      const f = fraction[k * plane + r];
      if (f <= 0) continue;
      mass += f;
      ci += f * (r % ni);
      cj += f * Math.floor(r / ni);
    }
    const areaMm2 = mass * sx * sy;
    // Per slice, even with no metal in it, so a slice's draws do not depend on its neighbours'.
    const jitter = angles.map(() => rng.range(-0.05, 0.05));
    const scale = rng.range(0.7, 1.3);
    if (areaMm2 < 0.5) continue;
    slices++;
    const cx = (ci / mass) * sx;
    const cy = (cj / mass) * sy;
    const a = amplitude * scale * Math.min(1.5, Math.sqrt(areaMm2 / 4));
    streakHu = Math.max(streakHu, a);
    const lines = angles.map((t, s) => ({
      c: Math.cos(t + jitter[s]),
      s: Math.sin(t + jitter[s]),
      v: signs[s] * gains[s] * a,
    }));
    const inv2w2 = 1 / (2 * width * width);
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++) {
        const q = k * plane + j * ni + i;
        if (cv.hu[q] <= -700 || fraction[q] >= 0.3) continue;
        const dx = i * sx - cx;
        const dy = j * sy - cy;
        let v = 0;
        for (const l of lines) {
          const along = dx * l.c + dy * l.s;
          const across = -dx * l.s + dy * l.c;
          if (Math.abs(across) > 4 * width) continue;
          v += l.v * Math.exp(-across * across * inv2w2) * (r0 / (r0 + Math.abs(along)));
        }
        // Where the lines cross, at the metal, they add up to no more than one streak's peak.
        cv.hu[q] += Math.max(-a, Math.min(a, v));
      }
  }
  return { slices, streakHu: Math.round(streakHu) };
}
