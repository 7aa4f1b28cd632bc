// Label-map-driven synthesis: a CT made from a real multi-organ label map (TotalSegmentator's 117-class
// 'total' map), deformed and painted with this case's tissue HU. Procedural phantoms give endless shapes but
// simplified anatomy; a real map gives the true neighbourhood of the kidneys and the pancreas (duodenum,
// splenic vein, stomach, psoas, liver), and random intensities keep the network from keying on brightness.
import type { Vec3, Volume } from '../imaging/volume';
import { InputError, affineLps } from '../imaging/volume';
import { detMat3, invertMat3, mulMat3, type Mat3 } from '../util/mat3';
import { frameFromAngles, IDENTITY_FRAME } from './canvas';
import { finishImage } from './finish';
import {
  drawSpleenPattern,
  randomizedTissueHu,
  spleenPatternAt,
  type TissueHu,
  withNativeUrine,
  withOralContrast,
} from './hu';
import {
  drawSinusDetail,
  KIDNEY_CYST_LABEL,
  KIDNEY_LABEL,
  KIDNEY_TUMOR_LABEL,
  type LesionInfo,
  SINUS_KIDNEY_FRACTION,
  sinusHu,
  sinusStrandFraction,
  visibleLesionHu,
} from './kidney';
import { PANCREAS_LABEL, PANCREAS_TUMOR_LABEL } from './pancreas';
import { addMetal } from './metal';
import { SmoothField } from './noise';
import { Rng } from './random';
import type { PhantomCase, PhantomSchema } from './generate';
import { PHANTOM_GENERATOR_VERSION, SCHEMA_LABELS, SYNTH_MIN_LESION_CONTRAST_HU, syntheticVolumes } from './generate';

/** What a structure of the map is painted as. */
const STRUCTURES = [
  'background',
  'lung',
  'airway',
  'muscle',
  'bone',
  'cartilage',
  'cord',
  'liver',
  'spleen',
  'pancreas',
  'kidney',
  'kidneyCyst',
  'adrenal',
  'gallbladder',
  'stomach',
  'bowel',
  'colon',
  'bladder',
  'artery',
  'vein',
  'portalVein',
  'heart',
  'softTissue',
] as const;
export type Structure = (typeof STRUCTURES)[number];
const S = Object.fromEntries(STRUCTURES.map((s, n) => [s, n])) as Record<Structure, number>;

/** TotalSegmentator v2 'total' class ids (1-117) by structure; ids not listed are soft tissue. */
const TOTALSEG_IDS: Partial<Record<Structure, number[]>> = {
  spleen: [1],
  kidney: [2, 3],
  gallbladder: [4],
  liver: [5],
  stomach: [6],
  pancreas: [7],
  adrenal: [8, 9],
  lung: [10, 11, 12, 13, 14],
  airway: [16],
  bowel: [15, 18, 19],
  colon: [20],
  bladder: [21],
  kidneyCyst: [23, 24],
  // Sacrum, vertebrae S1..C1, humeri, scapulae, clavicles, femurs, hips, skull, ribs, sternum.
  bone: [25, ...range(26, 50), 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 91, ...range(92, 116)],
  heart: [51, 61],
  artery: [52, 54, 55, 56, 57, 58, 65, 66],
  vein: [53, 59, 60, 62, 63, 67, 68],
  portalVein: [64],
  cord: [79],
  muscle: [80, 81, 82, 83, 84, 85, 86, 87, 88, 89],
  cartilage: [117],
};
export const TOTALSEG_KIDNEY_RIGHT = 2;
export const TOTALSEG_KIDNEY_LEFT = 3;
export const TOTALSEG_PANCREAS = 7;
const TOTALSEG_CYST_LEFT = 23;
const TOTALSEG_CYST_RIGHT = 24;
/** Arm bones: outside the trunk's outline, wrapped in their own soft tissue. */
const ARM_IDS = [69, 70];

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, n) => from + n);
}

const STRUCTURE_OF_ID = (() => {
  const t = new Uint8Array(256).fill(S.softTissue);
  t[0] = S.background;
  for (const [s, ids] of Object.entries(TOTALSEG_IDS)) for (const id of ids!) t[id] = S[s as Structure];
  return t;
})();

export interface LabelMapSynthOptions {
  /** A TotalSegmentator v2 'total' label map (integer voxels, class ids 0-117). */
  labelMap: Volume;
  /** Named in errors (the map's file). */
  source: string;
  seed: number;
  schema: PhantomSchema;
  /** Output voxel spacing (mm); default 3 mm isotropic. */
  spacingMm?: Vec3;
  /** Insert tumours and cysts (default true). */
  lesions?: boolean;
  /** Random affine, elastic and per-organ deformation (default true; false only resamples). */
  deform?: boolean;
  /** Image noise (HU); default drawn 4-30. */
  noiseSigmaHu?: number;
  /**
   * Reproduce generator v2's draws (no oral contrast), v3's (no renal sinus detail), v4's (no metal), v6's (no renal
   * pelvis) or v7's (no mesenteric vessels); default: this generator's.
   */
  synthVersion?: LabelMapSynthVersion;
  /** Metal in the field of view (metal.ts): true always, false never; absent: in METAL_SHARE of v5 cases. */
  metal?: boolean;
  /** The renal pelvis out through each kidney's hilum (paintRenalPelvis): absent, in v7 cases of the kidney schema. */
  renalPelvis?: boolean;
  /**
   * The superior mesenteric vein and artery, jejunal branches and mesenteric nodes (paintMesentericVessels): true
   * or false in any version; absent, in v8 cases.
   */
  mesentericVessels?: boolean;
}

export interface LabelMapDeformation {
  /** Determinant of the affine part (volume ratio output/source, before per-organ scaling). */
  affineVolumeRatio: number;
  /** Per-organ volume scale factors applied (linear), by TotalSegmentator id. */
  organScale: Record<number, number>;
  elasticAmplitudeMm: number;
}

/** World (LPS mm) → fractional voxel index of a volume. */
function worldToIndex(v: Volume): (p: Vec3, out: Vec3) => void {
  const a = affineLps(v);
  const inv = invertMat3([a[0], a[1], a[2], a[4], a[5], a[6], a[8], a[9], a[10]]);
  const o: Vec3 = [a[3], a[7], a[11]];
  return (p, out) => {
    const x = p[0] - o[0];
    const y = p[1] - o[1];
    const z = p[2] - o[2];
    out[0] = inv[0] * x + inv[1] * y + inv[2] * z;
    out[1] = inv[3] * x + inv[4] * y + inv[5] * z;
    out[2] = inv[6] * x + inv[7] * y + inv[8] * z;
  };
}

/** The generator versions whose label-map cases can be reproduced (label maps came with v2). */
export const LABEL_MAP_SYNTH_VERSIONS = [2, 3, 4, 5, 6, 7, 8] as const;
export type LabelMapSynthVersion = (typeof LABEL_MAP_SYNTH_VERSIONS)[number];

function checkLabelMap(opts: LabelMapSynthOptions): void {
  if (opts.synthVersion !== undefined && !LABEL_MAP_SYNTH_VERSIONS.includes(opts.synthVersion)) {
    throw new RangeError(
      `label-map synthVersion must be one of ${LABEL_MAP_SYNTH_VERSIONS.join(', ')}, got ${opts.synthVersion}`,
    );
  }
  const m = opts.labelMap;
  const data = m.data;
  if (!(
    data instanceof Uint8Array ||
    data instanceof Int16Array ||
    data instanceof Uint16Array ||
    data instanceof Int32Array ||
    data instanceof Int8Array
  )) {
    throw new InputError(opts.source, 'is not a label map: its voxels are not whole numbers');
  }
  const organIds = opts.schema === 'kidney' ? [TOTALSEG_KIDNEY_RIGHT, TOTALSEG_KIDNEY_LEFT] : [TOTALSEG_PANCREAS];
  let organ = 0;
  for (let q = 0; q < data.length; q++) {
    const v = data[q];
    if (v < 0 || v > 255) {
      throw new InputError(opts.source, `holds label ${v} at voxel ${q}: a TotalSegmentator map has classes 0-117`);
    }
    if (organIds.includes(v)) organ++;
  }
  if (organ === 0) {
    const what =
      opts.schema === 'kidney'
        ? 'no kidney (TotalSegmentator classes 2 and 3)'
        : 'no pancreas (TotalSegmentator class 7)';
    throw new InputError(opts.source, `has ${what}, so it cannot make ${opts.schema} training cases`);
  }
}

/** Bounding box (LPS mm) of a map's labelled voxels. */
function labelledBox(m: Volume): [Vec3, Vec3] {
  const [ni, nj, nk] = m.dims;
  const a = affineLps(m);
  const lo: Vec3 = [Infinity, Infinity, Infinity];
  const hi: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (let k = 0; k < nk; k++)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++) {
        if (m.data[i + ni * (j + nj * k)] === 0) continue;
        for (let r = 0; r < 3; r++) {
          const w = a[r * 4] * i + a[r * 4 + 1] * j + a[r * 4 + 2] * k + a[r * 4 + 3];
          if (w < lo[r]) lo[r] = w;
          if (w > hi[r]) hi[r] = w;
        }
      }
  return [lo, hi];
}

/** Centroid (LPS mm) of the voxels with one of `ids`; null when none. */
function centroid(m: Volume, ids: number[]): Vec3 | null {
  const [ni, nj, nk] = m.dims;
  const a = affineLps(m);
  let n = 0;
  const s: Vec3 = [0, 0, 0];
  for (let k = 0; k < nk; k++)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++) {
        if (!ids.includes(m.data[i + ni * (j + nj * k)])) continue;
        n++;
        for (let r = 0; r < 3; r++) s[r] += a[r * 4] * i + a[r * 4 + 1] * j + a[r * 4 + 2] * k + a[r * 4 + 3];
      }
  return n ? [s[0] / n, s[1] / n, s[2] / n] : null;
}

/**
 * Distance (mm, chamfer 1/√2) from every pixel of one slice to the nearest pixel where `inside` is set;
 * 0 inside.
 */
function distance2d(inside: Uint8Array, ni: number, nj: number, spacing: number): Float32Array {
  const d = new Float32Array(ni * nj);
  const big = 1e9;
  for (let q = 0; q < d.length; q++) d[q] = inside[q] ? 0 : big;
  const s1 = spacing;
  const s2 = spacing * Math.SQRT2;
  for (let j = 0; j < nj; j++)
    for (let i = 0; i < ni; i++) {
      const q = i + ni * j;
      let v = d[q];
      if (i > 0) v = Math.min(v, d[q - 1] + s1);
      if (j > 0) {
        v = Math.min(v, d[q - ni] + s1);
        if (i > 0) v = Math.min(v, d[q - ni - 1] + s2);
        if (i < ni - 1) v = Math.min(v, d[q - ni + 1] + s2);
      }
      d[q] = v;
    }
  for (let j = nj - 1; j >= 0; j--)
    for (let i = ni - 1; i >= 0; i--) {
      const q = i + ni * j;
      let v = d[q];
      if (i < ni - 1) v = Math.min(v, d[q + 1] + s1);
      if (j < nj - 1) {
        v = Math.min(v, d[q + ni] + s1);
        if (i < ni - 1) v = Math.min(v, d[q + ni + 1] + s2);
        if (i > 0) v = Math.min(v, d[q + ni - 1] + s2);
      }
      d[q] = v;
    }
  return d;
}

/** Fills the convex hull of the set pixels of one slice (monotone chain over each row's end points). */
function convexHullFill(mask: Uint8Array, ni: number, nj: number): Uint8Array {
  const pts: [number, number][] = [];
  for (let j = 0; j < nj; j++) {
    let lo = -1;
    let hi = -1;
    for (let i = 0; i < ni; i++)
      if (mask[i + ni * j]) {
        if (lo < 0) lo = i;
        hi = i;
      }
    if (lo >= 0) {
      pts.push([lo, j]);
      if (hi !== lo) pts.push([hi, j]);
    }
  }
  const out = new Uint8Array(ni * nj);
  if (pts.length === 0) return out;
  pts.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const cross = (o: number[], a: number[], b: number[]) =>
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: [number, number][] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: [number, number][] = [];
  for (let n = pts.length - 1; n >= 0; n--) {
    const p = pts[n];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop();
    upper.push(p);
  }
  const hull = lower.slice(0, -1).concat(upper.slice(0, -1));
  if (hull.length < 3) {
    for (const [i, j] of pts) out[i + ni * j] = 1;
    return out;
  }
  // Counter-clockwise hull: a pixel is inside when it is left of (or on) every edge.
  for (let j = 0; j < nj; j++)
    for (let i = 0; i < ni; i++) {
      let inside = true;
      for (let e = 0; e < hull.length && inside; e++) {
        const a = hull[e];
        const b = hull[(e + 1) % hull.length];
        if (cross(a, b, [i, j]) < -1e-9) inside = false;
      }
      if (inside) out[i + ni * j] = 1;
    }
  return out;
}

/** Depth (voxels, 6-neighbour) of each voxel inside its own structure: 1 on the boundary, capped. */
function structureDepth(st: Uint8Array, dims: Vec3, cap: number): Uint8Array {
  const [ni, nj, nk] = dims;
  const depth = new Uint8Array(st.length);
  let frontier: number[] = [];
  const steps = [1, -1, ni, -ni, ni * nj, -ni * nj];
  for (let k = 0; k < nk; k++)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++) {
        const q = i + ni * (j + nj * k);
        const v = st[q];
        const edge =
          i === 0 ||
          i === ni - 1 ||
          j === 0 ||
          j === nj - 1 ||
          k === 0 ||
          k === nk - 1 ||
          steps.some((s) => st[q + s] !== v);
        if (edge) {
          depth[q] = 1;
          frontier.push(q);
        }
      }
  for (let d = 2; d <= cap && frontier.length; d++) {
    const next: number[] = [];
    for (const q of frontier)
      for (const s of steps) {
        const r = q + s;
        if (r < 0 || r >= st.length || depth[r] !== 0 || st[r] !== st[q]) continue;
        depth[r] = d;
        next.push(r);
      }
    frontier = next;
  }
  for (let q = 0; q < depth.length; q++) if (depth[q] === 0) depth[q] = cap;
  return depth;
}

/**
 * Makes one training case from a real label map: the map resampled to the output grid through a random
 * affine (rotation ±8° about the body axis, ±4° about the others, 0.88-1.12 scale per axis) and a smooth
 * elastic displacement, each kidney and the pancreas scaled on its own (0.85-1.2), then painted: every
 * structure with its tissue HU from a random contrast phase (hu.ts randomizedTissueHu), kidney cortex and
 * medulla by depth, bowel wall, gas and stool, bone cortex, fatty pancreatic clefts, a body wall and
 * subcutaneous fat around the trunk's outline, the renal pelvis (v7) and the superior mesenteric vessels (v8) in
 * the fat, unlabelled, lesions inserted with their own shape and HU, then the
 * scanner's blur and noise. Labels and image come from the same pull, so they stay aligned.
 */
export function synthesizeFromLabelMap(opts: LabelMapSynthOptions): PhantomCase {
  checkLabelMap(opts);
  const map = opts.labelMap;
  const spacingMm: Vec3 = opts.spacingMm ? [...opts.spacingMm] : [3, 3, 3];
  const deform = opts.deform ?? true;
  const root = new Rng(opts.seed, 'deformux-labelmap');

  // Output grid: the labelled box plus room for the body wall in-plane, on an identity LPS grid.
  const [lo, hi] = labelledBox(map);
  const margin: Vec3 = [45, 45, 0];
  const originMm: Vec3 = [0, 1, 2].map((a) => lo[a] - margin[a]) as Vec3;
  const dims = [0, 1, 2].map((a) => Math.max(1, Math.ceil((hi[a] - lo[a] + 2 * margin[a]) / spacingMm[a]) + 1)) as Vec3;
  const [ni, nj, nk] = dims;
  const n = ni * nj * nk;
  const center: Vec3 = [0, 1, 2].map((a) => (lo[a] + hi[a]) / 2) as Vec3;

  // Pull: output point p reads the map at c + A (p - c) + elastic(p).
  const geo = root.fork('deform');
  const deg = Math.PI / 180;
  const rot = deform ? frameFromAngles(geo.range(-4, 4) * deg, geo.range(-4, 4) * deg, geo.range(-8, 8) * deg) : null;
  const scale: Vec3 = deform ? [geo.range(0.88, 1.12), geo.range(0.88, 1.12), geo.range(0.9, 1.1)] : [1, 1, 1];
  // A maps output offsets to source offsets: rotate, then divide by the scale (a larger output organ).
  const R: Mat3 = rot ?? IDENTITY_FRAME;
  const A = mulMat3(R, [1 / scale[0], 0, 0, 0, 1 / scale[1], 0, 0, 0, 1 / scale[2]]);
  const elasticAmplitudeMm = deform ? geo.range(0, 6) : 0;
  const ex = new SmoothField(geo, 45);
  const ey = new SmoothField(geo, 45);
  const ez = new SmoothField(geo, 45);
  const organGroups: number[][] =
    opts.schema === 'kidney'
      ? [
          [TOTALSEG_KIDNEY_RIGHT, TOTALSEG_CYST_RIGHT],
          [TOTALSEG_KIDNEY_LEFT, TOTALSEG_CYST_LEFT],
        ]
      : [[TOTALSEG_PANCREAS]];
  const organs = organGroups
    .map((ids) => ({ ids, c: centroid(map, ids), s: deform ? geo.range(0.85, 1.2) : 1 }))
    .filter((o): o is { ids: number[]; c: Vec3; s: number } => o.c !== null);

  const toIndex = worldToIndex(map);
  const [mi, mj, mk] = map.dims;
  const sample = (p: Vec3, idx: Vec3): number => {
    toIndex(p, idx);
    const i = Math.round(idx[0]);
    const j = Math.round(idx[1]);
    const k = Math.round(idx[2]);
    if (i < 0 || j < 0 || k < 0 || i >= mi || j >= mj || k >= mk) return 0;
    return map.data[i + mi * (j + mj * k)];
  };
  const ids = new Uint8Array(n);
  const p: Vec3 = [0, 0, 0];
  const q: Vec3 = [0, 0, 0];
  const idx: Vec3 = [0, 0, 0];
  for (let k = 0; k < nk; k++)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++) {
        const x = originMm[0] + i * spacingMm[0] - center[0];
        const y = originMm[1] + j * spacingMm[1] - center[1];
        const z = originMm[2] + k * spacingMm[2] - center[2];
        const wx = originMm[0] + i * spacingMm[0];
        const wy = originMm[1] + j * spacingMm[1];
        const wz = originMm[2] + k * spacingMm[2];
        const dx = elasticAmplitudeMm ? elasticAmplitudeMm * ex.at(wx, wy, wz) : 0;
        const dy = elasticAmplitudeMm ? elasticAmplitudeMm * ey.at(wx, wy, wz) : 0;
        const dz = elasticAmplitudeMm ? elasticAmplitudeMm * ez.at(wx, wy, wz) : 0;
        q[0] = center[0] + A[0] * x + A[1] * y + A[2] * z + dx;
        q[1] = center[1] + A[3] * x + A[4] * y + A[5] * z + dy;
        q[2] = center[2] + A[6] * x + A[7] * y + A[8] * z + dz;
        let v = sample(q, idx);
        // Each organ grows or shrinks about its own centre: its voxels come from a scaled read.
        for (const o of organs) {
          if (o.s === 1) continue;
          p[0] = o.c[0] + (q[0] - o.c[0]) / o.s;
          p[1] = o.c[1] + (q[1] - o.c[1]) / o.s;
          p[2] = o.c[2] + (q[2] - o.c[2]) / o.s;
          const u = sample(p, idx);
          const canCover = STRUCTURE_OF_ID[v] !== S.bone && STRUCTURE_OF_ID[v] !== S.muscle;
          if (o.ids.includes(u) && canCover) v = u;
          else if (o.ids.includes(v)) v = 0;
        }
        ids[i + ni * (j + nj * k)] = v;
      }

  const st = new Uint8Array(n);
  for (let r = 0; r < n; r++) st[r] = STRUCTURE_OF_ID[ids[r]];

  // The trunk's outline: per slice, the convex hull of every labelled structure but the arms, then a muscle
  // wall, subcutaneous fat and skin around it; arms get their own soft tissue.
  const wallRng = root.fork('wall');
  const wallMm = wallRng.range(4, 14);
  const subcutMm = wallRng.range(8, 45);
  const wallField = new SmoothField(wallRng, 60);
  const body = new Uint8Array(n); // 0 air, 1 skin, 2 subcutaneous fat, 3 wall muscle, 4 inside, 5 arm muscle
  const plane = ni * nj;
  const isArm = new Uint8Array(256);
  for (const id of ARM_IDS) isArm[id] = 1;
  for (let k = 0; k < nk; k++) {
    const trunk = new Uint8Array(plane);
    const arm = new Uint8Array(plane);
    for (let r = 0; r < plane; r++) {
      const v = ids[r + k * plane];
      if (v === 0) continue;
      if (isArm[v]) arm[r] = 1;
      else trunk[r] = 1;
    }
    const hull = convexHullFill(trunk, ni, nj);
    const dOut = distance2d(hull, ni, nj, spacingMm[0]);
    const dArm = distance2d(arm, ni, nj, spacingMm[0]);
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++) {
        const r = i + ni * j;
        const wobble = 1 + 0.3 * wallField.at(originMm[0] + i * spacingMm[0], originMm[1] + j * spacingMm[1], 0);
        const d = dOut[r];
        let b = 0;
        if (hull[r]) b = 4;
        else if (d <= wallMm * wobble) b = 3;
        else if (d <= (wallMm + subcutMm) * wobble) b = 2;
        else if (d <= (wallMm + subcutMm) * wobble + 2) b = 1;
        if (b < 3 && dArm[r] <= 20) b = 5;
        else if (b < 2 && dArm[r] <= 32) b = 2;
        body[r + k * plane] = b;
      }
  }

  // Tissue HU of this case, as the synth domain draws them.
  const version = opts.synthVersion ?? PHANTOM_GENERATOR_VERSION;
  const { phase, hu: drawnHu } = randomizedTissueHu(root.fork('hu'));
  const renalPelvis = opts.renalPelvis ?? (version >= 7 && opts.schema === 'kidney');
  const phaseHu = renalPelvis ? withNativeUrine(drawnHu, phase, root.fork('urine')) : drawnHu;
  const hu = version >= 3 ? withOralContrast(phaseHu, root.fork('oral')) : phaseHu;
  const spleenPattern = version >= 6 ? drawSpleenPattern(phase, root.fork('spleen-pattern')) : undefined;
  const vox = Math.min(spacingMm[0], spacingMm[1], spacingMm[2]);
  // v4: the kidney's core deeper than sinusDepthMm is renal sinus, with calyces and vessels through its fat.
  const sinus = version >= 4 && opts.schema === 'kidney' ? drawSinusDetail(root.fork('renal-sinus')) : undefined;
  const sinusDepthMm = sinus ? root.fork('renal-sinus-depth').range(12, 16) : Infinity;
  const depth = structureDepth(st, dims, sinus ? Math.max(6, Math.ceil(sinusDepthMm / vox) + 1) : 6);
  const sinusFat = new Uint8Array(sinus ? n : 0);
  const tex = root.fork('texture');
  const texture = new SmoothField(tex, 6);
  const lobules = new SmoothField(tex, 3.5);
  const gasField = new SmoothField(tex, 14);
  const stoolField = new SmoothField(tex, 4);
  const medullaField = new SmoothField(tex, 5);
  const fatty = tex.range(0.3, 0.8);
  const gasLevel = tex.range(0.1, 0.6);
  const stomachGas = tex.chance(0.6);
  const stomachAirLevelMm = tex.range(0.1, 0.4);
  const cartilageHu = tex.range(80, 260);
  const cordHu = tex.range(15, 40);
  const adrenalHu = hu.muscle + tex.range(-10, 20);
  const medullaDepth = tex.range(1.6, 3.2);
  const img = new Float32Array(n);
  // Anterior extent of the stomach, for its air-fluid level (LPS: anterior is −y).
  let stomachMinJ = nj;
  let stomachMaxJ = -1;
  for (let r = 0; r < n; r++)
    if (st[r] === S.stomach) {
      const j = Math.floor(r / ni) % nj;
      if (j < stomachMinJ) stomachMinJ = j;
      if (j > stomachMaxJ) stomachMaxJ = j;
    }
  const stomachLevelJ = stomachMinJ + (stomachMaxJ - stomachMinJ) * stomachAirLevelMm;
  for (let k = 0; k < nk; k++)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++) {
        const r = i + ni * (j + nj * k);
        const x = originMm[0] + i * spacingMm[0];
        const y = originMm[1] + j * spacingMm[1];
        const z = originMm[2] + k * spacingMm[2];
        const t = texture.at(x, y, z);
        const dmm = depth[r] * vox;
        let v: number;
        switch (st[r]) {
          case S.background: {
            const b = body[r];
            if (b === 0) v = hu.air;
            else if (b === 1) v = hu.skin;
            else if (b === 2) v = hu.subcutaneousFat + 6 * t;
            else if (b === 3 || b === 5) v = hu.muscle + 5 * t;
            // Visceral and retroperitoneal fat with strands.
            else v = hu.fat + (lobules.at(x, y, z) > 0.55 ? 60 : 0) + 6 * t;
            break;
          }
          case S.lung:
            v = hu.lung + 40 * t;
            break;
          case S.airway:
            v = hu.air + 20;
            break;
          case S.muscle:
            v = hu.muscle + 6 * t;
            break;
          case S.bone:
            v = depth[r] <= 1 ? hu.corticalBone * 0.7 + hu.cancellousBone * 0.3 : hu.cancellousBone + 40 * t;
            break;
          case S.cartilage:
            v = cartilageHu + 20 * t;
            break;
          case S.cord:
            v = cordHu;
            break;
          case S.liver:
            v = hu.liver + 6 * t;
            break;
          case S.spleen:
            v = hu.spleen + 5 * t + spleenPatternAt(spleenPattern, x, y, z);
            break;
          case S.pancreas:
            v = dmm < 6 && lobules.at(x, y, z) > fatty ? hu.fat * 0.6 + hu.pancreas * 0.4 : hu.pancreas + 7 * t;
            break;
          case S.kidney: {
            if (sinus && dmm >= sinusDepthMm) {
              const f = sinusStrandFraction(sinus, x, y, z);
              v = sinusHu(sinus, hu, f, x, y, z) + 5 * t;
              if (f < SINUS_KIDNEY_FRACTION) sinusFat[r] = 1;
            } else {
              const m = Math.min(1, Math.max(0, (dmm / vox - medullaDepth) * 0.8 + 0.6 * medullaField.at(x, y, z)));
              v = hu.kidneyCortex * (1 - m) + hu.kidneyMedulla * m + 5 * t;
            }
            break;
          }
          case S.kidneyCyst:
            v = hu.cyst + 3 * t;
            break;
          case S.adrenal:
            v = adrenalHu;
            break;
          case S.gallbladder:
            v = hu.bile + 3 * t;
            break;
          case S.stomach:
            if (depth[r] <= 1) v = hu.bowelWall;
            else if (stomachGas && j < stomachLevelJ) v = hu.gas;
            else v = hu.bowelFluid + 8 * t;
            break;
          case S.bowel:
          case S.bladder:
            if (st[r] === S.bladder) v = depth[r] <= 1 ? hu.muscle : hu.urine;
            else if (depth[r] <= 1) v = hu.bowelWall;
            else v = gasField.at(x, y, z) > 0.75 ? hu.gas : hu.bowelFluid + 8 * t;
            break;
          case S.colon:
            if (depth[r] <= 1) v = hu.bowelWall;
            else if (gasField.at(x, y, z) > 1 - gasLevel) v = hu.gas;
            else v = -40 + 70 * stoolField.at(x, y, z);
            break;
          case S.artery:
            v = hu.artery + 4 * t;
            break;
          case S.vein:
            v = hu.vein + 4 * t;
            break;
          case S.portalVein:
            v = hu.portalVein + 4 * t;
            break;
          case S.heart:
            v = hu.heart + 5 * t;
            break;
          default:
            v = hu.muscle + 5 * t;
        }
        img[r] = v;
      }

  // v7: the renal pelvis out through each hilum, into the fat there (no label: it is not kidney).
  const pelvisMl = renalPelvis
    ? [TOTALSEG_KIDNEY_RIGHT, TOTALSEG_KIDNEY_LEFT].map((kidneyId) =>
        paintRenalPelvis(
          { img, ids, st, body, sinusFat, dims, spacingMm, originMm },
          kidneyId,
          hu.urine,
          root.fork(`renal-pelvis-${kidneyId}`),
        ),
      )
    : undefined;
  // v8: the mesenteric vessels below the pancreas, in the fat (no label: neither schema's organ).
  const mesenteric = opts.mesentericVessels ?? version >= 8;
  const mesentericMl = mesenteric
    ? paintMesentericVessels(
        { img, ids, st, body, sinusFat, dims, spacingMm, originMm },
        hu,
        root.fork('mesenteric-vessels'),
      )
    : undefined;

  // Labels of the schema, then lesions painted into image and label together.
  const label = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const id = ids[r];
    if (opts.schema === 'kidney') {
      if ((id === TOTALSEG_KIDNEY_RIGHT || id === TOTALSEG_KIDNEY_LEFT) && !sinusFat[r]) label[r] = KIDNEY_LABEL;
      else if (id === TOTALSEG_CYST_LEFT || id === TOTALSEG_CYST_RIGHT) label[r] = KIDNEY_CYST_LABEL;
    } else if (id === TOTALSEG_PANCREAS) label[r] = PANCREAS_LABEL;
  }
  const lesions =
    opts.lesions === false
      ? []
      : insertLesions(root.fork('lesions'), opts.schema, img, label, st, dims, spacingMm, originMm, hu);
  // v5: metal now and then, with its streaks, before the scanner's blur and noise.
  const metal =
    opts.metal === true || (opts.metal === undefined && version >= 5)
      ? addMetal({ dims, spacingMm, originMm, hu: img, label }, opts.schema, root.fork('metal'), opts.metal)
      : undefined;

  const finishRng = root.fork('finish');
  const noiseSigmaHu = opts.noiseSigmaHu ?? finishRng.range(4, 30);
  const blurInPlane = finishRng.range(0.5, 1.8);
  const sliceBlur = finishRng.range(0.3, 1.0) * spacingMm[2];
  const data = finishImage(
    img,
    dims,
    spacingMm,
    { blurSigmaMm: [blurInPlane, blurInPlane, sliceBlur], noiseSigmaHu },
    finishRng,
  );

  const labels: Record<number, string> = SCHEMA_LABELS[opts.schema];
  const what = `label map ${opts.source.split('/').at(-1)}`;
  const deformation: LabelMapDeformation = {
    affineVolumeRatio: 1 / detMat3(A),
    organScale: Object.fromEntries(organs.map((o) => [o.ids[0], o.s])),
    elasticAmplitudeMm,
  };
  return {
    ...syntheticVolumes(
      { dims, spacingMm, originMm },
      data,
      label,
      `SYNTHETIC CT (not a scan) from a real ${what}, ${phase} phase, seed ${opts.seed}`,
      `SYNTHETIC labels from a real ${what}, ${opts.schema} schema, seed ${opts.seed}`,
    ),
    meta: {
      seed: opts.seed,
      schema: opts.schema,
      synthetic: true,
      generator: 'deformux-phantom',
      generatorVersion: version,
      labels,
      contrastPhase: phase,
      noiseSigmaHu,
      kidneyShapeRange: 1,
      bodyScale: 1,
      lesions,
      ...(hu !== phaseHu ? { oralContrastHu: Math.round(hu.bowelFluid) } : {}),
      ...(spleenPattern ? { spleenPatternHu: Math.round(spleenPattern.amplitudeHu) } : {}),
      ...(metal ? { metal } : {}),
      ...(pelvisMl ? { renalPelvis: true as const, renalPelvisMl: pelvisMl.map((v) => Math.round(v * 10) / 10) } : {}),
      ...(mesentericMl !== undefined ? { mesentericVesselsMl: Math.round(mesentericMl * 10) / 10 } : {}),
      labelMap: { source: opts.source, deformation },
    },
  };
}

/** The painted grid of a label-map case, for the passes after the first paint. */
interface PaintedGrid {
  img: Float32Array;
  /** TotalSegmentator id per voxel. */
  ids: Uint8Array;
  /** Structure per voxel (STRUCTURES). */
  st: Uint8Array;
  /** 0 air, 1 skin, 2 subcutaneous fat, 3 wall muscle, 4 inside the trunk, 5 arm muscle. */
  body: Uint8Array;
  /** Kidney voxels painted as renal sinus fat (no kidney label); empty before v4. */
  sinusFat: Uint8Array;
  dims: Vec3;
  spacingMm: Vec3;
  originMm: Vec3;
}

/** Share of label-map kidneys drawn with a pelvis out through the hilum (as kidney.ts EXTRARENAL_PELVIS_SHARE). */
const LABEL_MAP_PELVIS_SHARE = 0.8;

/**
 * Generator v7: the renal pelvis of kidney `kidneyId`, painted into the fat at its hilum as urine (`urineHu`), with
 * the first few centimetres of its ureter. The hilum is found from the map itself: per slice, the fat inside the
 * convex hull of the kidney's cross-section (the hilar notch) and the renal sinus fat it opens into (v4's sinus: a
 * kidney without a notch in the map keeps its pelvis inside, in the sinus). Around the notch's centre, pushed
 * 0-8 mm further out of it, an ellipsoid of urine (4-16 mm along the notch's opening, 1-1.5x that along the body
 * axis) with a soft 1.5 mm edge, only over fat (the vessels, bowel and organs nearby stay), then a 2.5 mm ureter
 * down and a little medially. The voxels keep label 0: TotalSegmentator's kidney, like the hidden team's
 * reference labels, stops at the hilum. Returns the pelvis's volume (mL); 0 when the kidney has no notch in this
 * map or the draw gives none (LABEL_MAP_PELVIS_SHARE).
 */
function paintRenalPelvis(g: PaintedGrid, kidneyId: number, urineHu: number, rng: Rng): number {
  const { img, ids, st, body, sinusFat, dims, spacingMm, originMm } = g;
  const [ni, nj, nk] = dims;
  const plane = ni * nj;
  const fat = (r: number) => (st[r] === S.background && body[r] === 4) || (sinusFat.length > 0 && sinusFat[r] === 1);
  const notch: Vec3 = [0, 0, 0];
  const organ: Vec3 = [0, 0, 0];
  let notchN = 0;
  let organN = 0;
  const mask = new Uint8Array(plane);
  for (let k = 0; k < nk; k++) {
    let count = 0;
    for (let r = 0; r < plane; r++) {
      const on = ids[r + k * plane] === kidneyId && !(sinusFat.length > 0 && sinusFat[r + k * plane]) ? 1 : 0;
      mask[r] = on;
      count += on;
    }
    if (count < 4) continue;
    const hull = convexHullFill(mask, ni, nj);
    for (let r = 0; r < plane; r++) {
      const i = r % ni;
      const j = (r - i) / ni;
      if (mask[r]) {
        organ[0] += i;
        organ[1] += j;
        organ[2] += k;
        organN++;
      } else if (hull[r] && fat(r + k * plane)) {
        notch[0] += i;
        notch[1] += j;
        notch[2] += k;
        notchN++;
      }
    }
  }
  const voxelMl = (spacingMm[0] * spacingMm[1] * spacingMm[2]) / 1000;
  // Draws come first, so the same seed draws the same pelvis whatever the notch.
  const present = rng.chance(LABEL_MAP_PELVIS_SHARE);
  const radius = rng.range(4, 16);
  const across = rng.range(0.7, 1);
  const along = rng.range(1, 1.5);
  const out = rng.range(0, 8);
  const ureterHalfMm = rng.range(2, 3);
  if (!present || notchN * voxelMl < 0.3 || organN === 0) return 0;
  const world = (p: Vec3, n: number): Vec3 => [0, 1, 2].map((a) => originMm[a] + (p[a] / n) * spacingMm[a]) as Vec3;
  const notchMm = world(notch, notchN);
  const organMm = world(organ, organN);
  // The notch opens away from the kidney's centre (medially and forwards), in the axial plane.
  const dx = notchMm[0] - organMm[0];
  const dy = notchMm[1] - organMm[1];
  const len = Math.hypot(dx, dy) || 1;
  const ux = dx / len;
  const uy = dy / len;
  const c: Vec3 = [notchMm[0] + ux * out, notchMm[1] + uy * out, notchMm[2]];
  const semi: Vec3 = [radius, radius * across, radius * along];
  // The ureter: down 45 mm and medially 10 mm from the pelvis's lower edge.
  const u0: Vec3 = [c[0], c[1], c[2] - semi[2] * 0.6];
  const u1: Vec3 = [c[0] + ux * 10, c[1] + uy * 4, c[2] - semi[2] - 45];
  const ex = u1[0] - u0[0];
  const ey = u1[1] - u0[1];
  const ez = u1[2] - u0[2];
  const segment2 = ex * ex + ey * ey + ez * ez;
  const edgeMm = 1.5;
  let painted = 0;
  const lo = [0, 1, 2].map((a) =>
    Math.max(0, Math.floor((Math.min(c[a] - semi[0] - semi[2], u1[a]) - edgeMm - 4 - originMm[a]) / spacingMm[a])),
  );
  const hi = [0, 1, 2].map((a) =>
    Math.min(
      dims[a] - 1,
      Math.ceil((Math.max(c[a] + semi[0] + semi[2], u1[a]) + edgeMm + 4 - originMm[a]) / spacingMm[a]),
    ),
  );
  for (let k = lo[2]; k <= hi[2]; k++)
    for (let j = lo[1]; j <= hi[1]; j++)
      for (let i = lo[0]; i <= hi[0]; i++) {
        const r = i + ni * (j + nj * k);
        if (!fat(r)) continue;
        const x = originMm[0] + i * spacingMm[0] - c[0];
        const y = originMm[1] + j * spacingMm[1] - c[1];
        const z = originMm[2] + k * spacingMm[2] - c[2];
        // Ellipsoid axes: along the notch's opening, across it (axial), along the body axis.
        const a = x * ux + y * uy;
        const b = -x * uy + y * ux;
        const q = Math.sqrt((a / semi[0]) ** 2 + (b / semi[1]) ** 2 + (z / semi[2]) ** 2);
        let depth = (1 - q) * Math.min(semi[0], semi[1], semi[2]);
        // The ureter's segment from u0 to u1.
        const px = originMm[0] + i * spacingMm[0];
        const py = originMm[1] + j * spacingMm[1];
        const pz = originMm[2] + k * spacingMm[2];
        let t = ((px - u0[0]) * ex + (py - u0[1]) * ey + (pz - u0[2]) * ez) / segment2;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const dist = Math.hypot(u0[0] + t * ex - px, u0[1] + t * ey - py, u0[2] + t * ez - pz);
        depth = Math.max(depth, ureterHalfMm - dist);
        const w = Math.min(1, Math.max(0, depth / edgeMm + 0.5));
        if (w <= 0) continue;
        img[r] = img[r] * (1 - w) + urineHu * w;
        painted += w;
      }
  return painted * voxelMl;
}

/** TotalSegmentator v2 'total' ids the mesenteric vessels are placed from: the aorta and the portal/splenic vein. */
const TOTALSEG_AORTA = 52;
const TOTALSEG_PORTAL_SPLENIC_VEIN = 64;

/** One piece of a painted tube or node: a capsule from `a` to `b` (LPS mm) of radius `r`, at `hu`. */
interface Capsule {
  a: Vec3;
  b: Vec3;
  r: number;
  hu: number;
}

/**
 * Per slice, the medial (left, +x) edge of the pancreatic head and uncinate process: the pancreas voxels right of a
 * line 10 mm left of the aorta's centre and within 70 mm of it, as the edge's x and the mean y of the voxels within
 * 9 mm of it (LPS mm); null on slices with fewer than three such voxels or no aorta.
 */
function headEdges(
  g: PaintedGrid,
  aortaAt: (k: number) => { x: number; y: number } | null,
): ({ x: number; y: number } | null)[] {
  const { ids, dims, spacingMm, originMm } = g;
  const [ni, nj, nk] = dims;
  const out: ({ x: number; y: number } | null)[] = [];
  for (let k = 0; k < nk; k++) {
    const a = aortaAt(k);
    const pts: [number, number][] = [];
    if (a)
      for (let j = 0; j < nj; j++)
        for (let i = 0; i < ni; i++) {
          if (ids[i + ni * (j + nj * k)] !== TOTALSEG_PANCREAS) continue;
          const x = originMm[0] + i * spacingMm[0];
          const y = originMm[1] + j * spacingMm[1];
          if (x < a.x + 10 && Math.hypot(x - a.x, y - a.y) <= 70) pts.push([x, y]);
        }
    if (pts.length < 3) {
      out.push(null);
      continue;
    }
    const edgeX = Math.max(...pts.map((p) => p[0]));
    const near = pts.filter((p) => p[0] >= edgeX - 9);
    out.push({ x: edgeX, y: near.reduce((s, p) => s + p[1], 0) / near.length });
  }
  return out;
}

/**
 * Generator v8: the superior mesenteric vein and artery below the pancreas, with a few jejunal branches and
 * mesenteric lymph nodes, painted into the visceral fat of a label-map case without a label. TotalSegmentator's map
 * labels the portal and splenic veins and the aorta but neither mesenteric vessel, so v2-v7 painted fat where a
 * patient has a 8-14 mm vein and a 5-8 mm artery beside the pancreatic head and uncinate process: in a native case
 * the only soft tissue there was pancreas. The vein leaves the lowest part of the portal/splenic vein near the aorta
 * (the confluence behind the pancreatic neck) and runs down against the medial edge of the pancreatic head (the head
 * to its right, the uncinate process behind it), below the head a little forward; the artery leaves the aorta's
 * front 0-15 mm above the confluence and runs down in front of it, left of the vein. Both reach the map's lower
 * end. Painted over fat only (organs, bowel and labelled vessels stay), with a soft 1.5 mm edge; blood at the
 * case's arterial and portal-venous HU, nodes at soft-tissue HU. Returns the painted volume (mL); 0 when the map has
 * no aorta or no portal/splenic vein near it.
 */
function paintMesentericVessels(g: PaintedGrid, hu: TissueHu, rng: Rng): number {
  const { img, ids, st, body, dims, spacingMm, originMm } = g;
  const [ni, nj, nk] = dims;
  const plane = ni * nj;
  // Draws come first, so the same seed draws the same vessels whatever the map.
  const veinR = rng.range(4, 7);
  const veinForwardMm = rng.range(0, 12);
  const veinGapMm = rng.range(0, 3);
  const veinShiftMm = rng.range(-6, 4);
  const arteryR = rng.range(2.5, 4);
  const arteryAboveMm = rng.range(0, 15);
  const arteryForwardMm = rng.range(6, 16);
  const arterySideMm = rng.range(-3, 5);
  const wiggle = new SmoothField(rng, 40);
  const branchCount = rng.int(2, 5);
  const branches = Array.from({ length: branchCount }, () => ({
    fromArtery: rng.chance(0.5),
    at: rng.range(0.1, 0.9),
    lengthMm: rng.range(25, 60),
    angle: rng.range(-0.3, 1.4), // radians from patient-left (+x) towards the front (−y)
    down: rng.range(-0.6, 0.1),
    r: rng.range(1.2, 2.2),
  }));
  const nodeCount = rng.int(0, 4);
  const nodes = Array.from({ length: nodeCount }, () => ({
    at: rng.range(0, 1),
    distMm: rng.range(12, 35),
    angle: rng.range(-Math.PI, Math.PI),
    r: rng.range(2.5, 5),
    hu: hu.muscle + rng.range(-15, 10),
  }));

  // The aorta's centre and radius per slice; the confluence as the lowest 6 mm of the portal/splenic vein that lie
  // within 40 mm of the aorta in plane and in front of its back wall.
  const aorta: ({ x: number; y: number; r: number } | null)[] = [];
  for (let k = 0; k < nk; k++) {
    let n = 0;
    let si = 0;
    let sj = 0;
    for (let r = 0; r < plane; r++)
      if (ids[r + k * plane] === TOTALSEG_AORTA) {
        n++;
        si += r % ni;
        sj += Math.floor(r / ni);
      }
    aorta.push(
      n >= 3
        ? {
            x: originMm[0] + (si / n) * spacingMm[0],
            y: originMm[1] + (sj / n) * spacingMm[1],
            r: Math.sqrt((n * spacingMm[0] * spacingMm[1]) / Math.PI),
          }
        : null,
    );
  }
  const near: { k: number; x: number; y: number }[] = [];
  for (let k = 0; k < nk; k++) {
    const a = aorta[k];
    if (!a) continue;
    for (let r = 0; r < plane; r++) {
      if (ids[r + k * plane] !== TOTALSEG_PORTAL_SPLENIC_VEIN) continue;
      const x = originMm[0] + (r % ni) * spacingMm[0];
      const y = originMm[1] + Math.floor(r / ni) * spacingMm[1];
      if (Math.hypot(x - a.x, y - a.y) <= 40 && y <= a.y + a.r) near.push({ k, x, y });
    }
  }
  if (near.length === 0) return 0;
  const kLow = Math.min(...near.map((p) => p.k));
  const low = near.filter((p) => p.k <= kLow + Math.max(1, Math.round(6 / spacingMm[2])) - 1);
  const conf: Vec3 = [
    low.reduce((s, p) => s + p.x, 0) / low.length,
    low.reduce((s, p) => s + p.y, 0) / low.length,
    originMm[2] + kLow * spacingMm[2],
  ];
  const aortaAt = (k: number) => {
    for (let d = 0; d < nk; d++) {
      const a = aorta[k - d] ?? aorta[k + d];
      if (a) return a;
    }
    return null;
  };

  // The two vessels as chains of capsules, one slice long; x is patient-left (+), y posterior (+), z up (+).
  const pieces: Capsule[] = [];
  const vein: Vec3[] = [];
  const artery: Vec3[] = [];
  const bottom = originMm[2];
  const step = spacingMm[2];
  // The vein: down from the confluence along the medial edge of the pancreatic head on each slice that holds it (the
  // head to its right, the uncinate process behind it), below the head on down and a little forward.
  const head = headEdges(g, aortaAt);
  let vx = conf[0];
  let vy = conf[1];
  let forward = 0;
  for (let z = conf[2]; z >= bottom - step; z -= step) {
    const k = Math.round((z - originMm[2]) / step);
    const edge = k >= 0 && k < nk ? head[k] : null;
    if (edge) {
      vx += 0.6 * (edge.x + veinR + veinGapMm - vx);
      vy += 0.6 * (edge.y + veinShiftMm - vy);
    } else if (z < conf[2] && forward < veinForwardMm) {
      vy -= step / 3;
      forward += step / 3;
    }
    vein.push([vx + 2 * wiggle.at(0, 0, z), vy + 2 * wiggle.at(100, 0, z), z]);
  }
  const zArtery = conf[2] + arteryAboveMm;
  for (let z = zArtery; z >= bottom - step; z -= step) {
    const k = Math.min(nk - 1, Math.max(0, Math.round((z - originMm[2]) / step)));
    const a = aortaAt(k);
    if (!a) break;
    const f = Math.min(1, (zArtery - z) / 25);
    artery.push([a.x + arterySideMm + 2 * wiggle.at(200, 0, z), a.y - a.r - arteryR - arteryForwardMm * f, z]);
  }
  // The artery lies left of the vein (+x): push it aside where the two would touch.
  for (const q of artery) {
    const p = vein.find((s) => Math.abs(s[2] - q[2]) < step / 2);
    const gap = veinR + arteryR + 2;
    if (p && q[0] < p[0] + gap && Math.hypot(p[0] - q[0], p[1] - q[1]) < gap) q[0] = p[0] + gap;
  }
  const chain = (pts: Vec3[], r: number, v: number, taper: number) => {
    for (let n = 0; n + 1 < pts.length; n++)
      pieces.push({ a: pts[n], b: pts[n + 1], r: r * (1 - (taper * n) / pts.length), hu: v });
  };
  chain(vein, veinR, hu.portalVein, 0.3);
  chain(artery, arteryR, hu.artery, 0.3);
  for (const b of branches) {
    const from = b.fromArtery ? artery : vein;
    if (from.length < 2) continue;
    const o = from[Math.floor(b.at * (from.length - 1))];
    const dir: Vec3 = [Math.cos(b.angle), -Math.sin(b.angle), b.down];
    const len = Math.hypot(dir[0], dir[1], dir[2]);
    const end: Vec3 = [0, 1, 2].map((a) => o[a] + (dir[a] / len) * b.lengthMm) as Vec3;
    pieces.push({ a: o, b: end, r: b.r, hu: b.fromArtery ? hu.artery : hu.portalVein });
  }
  for (const nd of nodes) {
    if (vein.length === 0) continue;
    const o = vein[Math.floor(nd.at * (vein.length - 1))];
    const c: Vec3 = [o[0] + Math.cos(nd.angle) * nd.distMm, o[1] + Math.sin(nd.angle) * nd.distMm, o[2]];
    pieces.push({ a: c, b: c, r: nd.r, hu: nd.hu });
  }

  // Paint: the largest weight of any piece per voxel, over visceral fat only.
  const edgeMm = 1.5;
  const weight = new Float32Array(ni * nj * nk);
  const value = new Float32Array(weight.length);
  for (const c of pieces) {
    const ex = c.b[0] - c.a[0];
    const ey = c.b[1] - c.a[1];
    const ez = c.b[2] - c.a[2];
    const len2 = ex * ex + ey * ey + ez * ez;
    const pad = c.r + edgeMm;
    const lo = [0, 1, 2].map((a) =>
      Math.max(0, Math.floor((Math.min(c.a[a], c.b[a]) - pad - originMm[a]) / spacingMm[a])),
    );
    const hi = [0, 1, 2].map((a) =>
      Math.min(dims[a] - 1, Math.ceil((Math.max(c.a[a], c.b[a]) + pad - originMm[a]) / spacingMm[a])),
    );
    for (let k = lo[2]; k <= hi[2]; k++)
      for (let j = lo[1]; j <= hi[1]; j++)
        for (let i = lo[0]; i <= hi[0]; i++) {
          const r = i + ni * (j + nj * k);
          if (st[r] !== S.background || body[r] !== 4) continue;
          const px = originMm[0] + i * spacingMm[0] - c.a[0];
          const py = originMm[1] + j * spacingMm[1] - c.a[1];
          const pz = originMm[2] + k * spacingMm[2] - c.a[2];
          let t = len2 > 0 ? (px * ex + py * ey + pz * ez) / len2 : 0;
          t = t < 0 ? 0 : t > 1 ? 1 : t;
          const dist = Math.hypot(px - t * ex, py - t * ey, pz - t * ez);
          const w = Math.min(1, Math.max(0, (c.r - dist) / edgeMm + 0.5));
          if (w > weight[r]) {
            weight[r] = w;
            value[r] = c.hu;
          }
        }
  }
  let painted = 0;
  for (let r = 0; r < weight.length; r++) {
    const w = weight[r];
    if (w <= 0) continue;
    img[r] = img[r] * (1 - w) + value[r] * w;
    painted += w;
  }
  return (painted * spacingMm[0] * spacingMm[1] * spacingMm[2]) / 1000;
}

/** Tumours and cysts grown from random organ voxels: wobbly ellipsoids, exophytic growth into fat allowed. */
function insertLesions(
  rng: Rng,
  schema: PhantomSchema,
  img: Float32Array,
  label: Uint8Array,
  st: Uint8Array,
  dims: Vec3,
  spacingMm: Vec3,
  originMm: Vec3,
  hu: TissueHu,
): LesionInfo[] {
  const [ni, nj] = dims;
  const organVoxels: number[] = [];
  const organ = schema === 'kidney' ? KIDNEY_LABEL : PANCREAS_LABEL;
  for (let r = 0; r < label.length; r++) if (label[r] === organ) organVoxels.push(r);
  if (organVoxels.length === 0) return [];
  const count = schema === 'kidney' ? rng.int(0, 2) : rng.int(0, 1);
  const out: LesionInfo[] = [];
  for (let c = 0; c < count; c++) {
    const at = organVoxels[Math.floor(rng.next() * organVoxels.length)];
    const ci = at % ni;
    const cj = Math.floor(at / ni) % nj;
    const ck = Math.floor(at / (ni * nj));
    const center: Vec3 = [
      originMm[0] + ci * spacingMm[0],
      originMm[1] + cj * spacingMm[1],
      originMm[2] + ck * spacingMm[2],
    ];
    const kind: 'tumor' | 'cyst' = schema === 'kidney' && rng.chance(0.45) ? 'cyst' : 'tumor';
    const radius = Math.exp(rng.range(Math.log(5), Math.log(kind === 'cyst' ? 20 : 24)));
    const semi: Vec3 = [radius * rng.range(0.8, 1.2), radius * rng.range(0.8, 1.2), radius * rng.range(0.8, 1.2)];
    const frame = frameFromAngles(rng.range(0, Math.PI), rng.range(0, Math.PI), rng.range(0, Math.PI));
    const shape = new SmoothField(rng, Math.max(4, radius / 2));
    const inner = new SmoothField(rng, Math.max(3, radius / 3));
    // Kidney lesions at least SYNTH_MIN_LESION_CONTRAST_HU from the parenchyma; a pancreatic tumour is drawn
    // at least 10 HU below the pancreas already (hu.ts).
    const meanHu =
      schema === 'kidney'
        ? visibleLesionHu(
            kind,
            kind === 'cyst' ? hu.cyst : hu.kidneyTumor,
            (hu.kidneyCortex + hu.kidneyMedulla) / 2,
            SYNTH_MIN_LESION_CONTRAST_HU,
          )
        : hu.pancreaticTumor;
    const value = kind === 'cyst' ? KIDNEY_CYST_LABEL : schema === 'kidney' ? KIDNEY_TUMOR_LABEL : PANCREAS_TUMOR_LABEL;
    const reach = Math.max(semi[0], semi[1], semi[2]) * 1.3;
    const box = [0, 1, 2].map((a) => [
      Math.max(0, Math.floor((center[a] - reach - originMm[a]) / spacingMm[a])),
      Math.min(dims[a] - 1, Math.ceil((center[a] + reach - originMm[a]) / spacingMm[a])),
    ]);
    for (let k = box[2][0]; k <= box[2][1]; k++)
      for (let j = box[1][0]; j <= box[1][1]; j++)
        for (let i = box[0][0]; i <= box[0][1]; i++) {
          const r = i + ni * (j + nj * k);
          // Lesions grow in the organ and out into fat, never into another organ or bone.
          if (label[r] !== organ && label[r] !== value && st[r] !== S.background) continue;
          const x = originMm[0] + i * spacingMm[0] - center[0];
          const y = originMm[1] + j * spacingMm[1] - center[1];
          const z = originMm[2] + k * spacingMm[2] - center[2];
          const u = (frame[0] * x + frame[1] * y + frame[2] * z) / semi[0];
          const v = (frame[3] * x + frame[4] * y + frame[5] * z) / semi[1];
          const w = (frame[6] * x + frame[7] * y + frame[8] * z) / semi[2];
          const d = Math.sqrt(u * u + v * v + w * w) + 0.15 * shape.at(x, y, z);
          if (d > 1) continue;
          label[r] = value;
          img[r] = kind === 'cyst' ? meanHu + 3 * inner.at(x, y, z) : meanHu + 18 * inner.at(x, y, z);
        }
    out.push({
      kind,
      organ: schema === 'kidney' ? (center[0] > 0 ? 'left kidney' : 'right kidney') : 'pancreas',
      centerMm: center,
      radiusMm: radius,
      meanHu,
      labelValue: value,
    });
  }
  return out;
}

/** The structure names of a TotalSegmentator v2 id (for tests and reports). */
export function structureOfTotalSegId(id: number): Structure {
  return STRUCTURES[STRUCTURE_OF_ID[id]];
}
