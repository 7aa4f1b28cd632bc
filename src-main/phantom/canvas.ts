// The phantom's drawing surface (clean HU + label on an axis-aligned LPS grid) and its shape primitives.
import type { Vec3 } from '../imaging/volume';
import type { SmoothField } from './noise';

export interface Canvas {
  dims: Vec3;
  spacingMm: Vec3;
  /** LPS position of voxel (0,0,0); the phantom grid is axis-aligned (identity direction). */
  originMm: Vec3;
  /** Clean HU before blur and noise. */
  hu: Float32Array;
  /** Label of the clean geometry, in the schema's classes (0 = background). */
  label: Uint8Array;
}

export function createCanvas(dims: Vec3, spacingMm: Vec3, originMm: Vec3): Canvas {
  const n = dims[0] * dims[1] * dims[2];
  return { dims, spacingMm, originMm, hu: new Float32Array(n).fill(-1000), label: new Uint8Array(n) };
}

/** Called per voxel with its flat index and LPS centre (mm). */
export type VoxelVisitor = (idx: number, x: number, y: number, z: number) => void;

/** Visits every voxel whose centre lies in the world box [min, max] (mm). */
export function forEachInBox(cv: Canvas, min: Vec3, max: Vec3, visit: VoxelVisitor): void {
  const [ni, nj, nk] = cv.dims;
  const [sx, sy, sz] = cv.spacingMm;
  const [ox, oy, oz] = cv.originMm;
  const i0 = Math.max(0, Math.ceil((min[0] - ox) / sx));
  const i1 = Math.min(ni - 1, Math.floor((max[0] - ox) / sx));
  const j0 = Math.max(0, Math.ceil((min[1] - oy) / sy));
  const j1 = Math.min(nj - 1, Math.floor((max[1] - oy) / sy));
  const k0 = Math.max(0, Math.ceil((min[2] - oz) / sz));
  const k1 = Math.min(nk - 1, Math.floor((max[2] - oz) / sz));
  for (let k = k0; k <= k1; k++) {
    const z = oz + k * sz;
    for (let j = j0; j <= j1; j++) {
      const y = oy + j * sy;
      let idx = i0 + ni * (j + nj * k);
      for (let i = i0; i <= i1; i++, idx++) visit(idx, ox + i * sx, y, z);
    }
  }
}

/** Orthonormal local frame (u, v, w) in LPS, rows of a rotation; 9 numbers. */
export type Frame = [number, number, number, number, number, number, number, number, number];

export const IDENTITY_FRAME: Frame = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/** Frame from Euler angles (radians) applied about x, then y, then z of the world. */
export function frameFromAngles(rx: number, ry: number, rz: number): Frame {
  const cx = Math.cos(rx),
    sx = Math.sin(rx);
  const cy = Math.cos(ry),
    sy = Math.sin(ry);
  const cz = Math.cos(rz),
    sz = Math.sin(rz);
  // R = Rz * Ry * Rx; the local axes are R's columns.
  const r = [
    cz * cy,
    cz * sy * sx - sz * cx,
    cz * sy * cx + sz * sx,
    sz * cy,
    sz * sy * sx + cz * cx,
    sz * sy * cx - cz * sx,
    -sy,
    cy * sx,
    cy * cx,
  ];
  return [r[0], r[3], r[6], r[1], r[4], r[7], r[2], r[5], r[8]];
}

/** Frame whose w axis points along `w` and whose u axis is as close as possible to `uHint`. */
export function frameFromAxes(uHint: Vec3, w: Vec3): Frame {
  const wn = normalize(w);
  const d = uHint[0] * wn[0] + uHint[1] * wn[1] + uHint[2] * wn[2];
  const u = normalize([uHint[0] - d * wn[0], uHint[1] - d * wn[1], uHint[2] - d * wn[2]]);
  const v: Vec3 = [wn[1] * u[2] - wn[2] * u[1], wn[2] * u[0] - wn[0] * u[2], wn[0] * u[1] - wn[1] * u[0]];
  return [u[0], u[1], u[2], v[0], v[1], v[2], wn[0], wn[1], wn[2]];
}

export function normalize(a: Vec3): Vec3 {
  const n = Math.hypot(a[0], a[1], a[2]) || 1;
  return [a[0] / n, a[1] / n, a[2] / n];
}

/**
 * A deformed ellipsoid: organ-shaped implicit surface. Value < 1 inside; `wobble` scales a smooth
 * random field added to the value, which dents and bulges the surface without tearing it.
 */
export interface Blob {
  centerMm: Vec3;
  semiAxesMm: Vec3;
  frame: Frame;
  wobble: number;
  field?: SmoothField;
}

/** Normalised local coordinates (u/a, v/b, w/c) of the last blobValue call, to shade inner structure. */
export const blobLocal: Vec3 = [0, 0, 0];

export function blobValue(b: Blob, x: number, y: number, z: number): number {
  const dx = x - b.centerMm[0],
    dy = y - b.centerMm[1],
    dz = z - b.centerMm[2];
  const f = b.frame;
  const u = (dx * f[0] + dy * f[1] + dz * f[2]) / b.semiAxesMm[0];
  const v = (dx * f[3] + dy * f[4] + dz * f[5]) / b.semiAxesMm[1];
  const w = (dx * f[6] + dy * f[7] + dz * f[8]) / b.semiAxesMm[2];
  blobLocal[0] = u;
  blobLocal[1] = v;
  blobLocal[2] = w;
  const value = u * u + v * v + w * w;
  // The field lies in [-1, 1]: far from the surface it cannot change inside/outside, so skip it.
  if (!b.field || b.wobble === 0 || value > 1 + Math.abs(b.wobble)) return value;
  return value + b.wobble * b.field.at(x, y, z);
}

/** World bounding box of a blob, padded for its wobble and a margin (mm). */
export function blobBox(b: Blob, marginMm = 0): [Vec3, Vec3] {
  const grow = Math.sqrt(1 + Math.abs(b.wobble));
  const f = b.frame;
  const [a, bb, c] = b.semiAxesMm;
  const min: Vec3 = [0, 0, 0];
  const max: Vec3 = [0, 0, 0];
  for (let e = 0; e < 3; e++) {
    // Half-extent of a rotated ellipsoid along world axis e.
    const half = Math.hypot(f[e] * a, f[3 + e] * bb, f[6 + e] * c) * grow + marginMm;
    min[e] = b.centerMm[e] - half;
    max[e] = b.centerMm[e] + half;
  }
  return [min, max];
}

/** Calls `shade` for voxels where the blob value is below `limit` (1 = the surface). */
export function paintBlob(
  cv: Canvas,
  b: Blob,
  shade: (idx: number, value: number, x: number, y: number, z: number) => void,
  limit = 1,
): void {
  const [min, max] = blobBox(b, 0);
  const grow = Math.sqrt(limit);
  const c = b.centerMm;
  const scaledMin: Vec3 = [c[0] + (min[0] - c[0]) * grow, c[1] + (min[1] - c[1]) * grow, c[2] + (min[2] - c[2]) * grow];
  const scaledMax: Vec3 = [c[0] + (max[0] - c[0]) * grow, c[1] + (max[1] - c[1]) * grow, c[2] + (max[2] - c[2]) * grow];
  forEachInBox(cv, scaledMin, scaledMax, (idx, x, y, z) => {
    const value = blobValue(b, x, y, z);
    if (value < limit) shade(idx, value, x, y, z);
  });
}

/** A tube along a polyline with a radius per point (vessels, bowel, pancreas). */
export interface Tube {
  pointsMm: Vec3[];
  radiiMm: number[];
}

/**
 * Calls `shade` with depth = radius − distance to the centreline (mm, > 0 inside) for voxels with
 * depth > −outsideMm, and s = position along the polyline (segment index + fraction).
 */
export function paintTube(
  cv: Canvas,
  tube: Tube,
  shade: (idx: number, depthMm: number, s: number, x: number, y: number, z: number) => void,
  outsideMm = 0,
): void {
  const p = tube.pointsMm;
  const r = tube.radiiMm;
  if (p.length < 2) return;
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (let n = 0; n < p.length; n++) {
    for (let a = 0; a < 3; a++) {
      min[a] = Math.min(min[a], p[n][a] - r[n] - outsideMm);
      max[a] = Math.max(max[a], p[n][a] + r[n] + outsideMm);
    }
  }
  const segCount = p.length - 1;
  // Per-segment boxes let most voxels skip most segments cheaply.
  const boxes = new Float64Array(segCount * 6);
  for (let n = 0; n < segCount; n++) {
    const pad = Math.max(r[n], r[n + 1]) + outsideMm;
    for (let a = 0; a < 3; a++) {
      boxes[n * 6 + a] = Math.min(p[n][a], p[n + 1][a]) - pad;
      boxes[n * 6 + 3 + a] = Math.max(p[n][a], p[n + 1][a]) + pad;
    }
  }
  forEachInBox(cv, min, max, (idx, x, y, z) => {
    let best = -Infinity;
    let bestS = 0;
    for (let n = 0; n < segCount; n++) {
      const o = n * 6;
      if (
        x < boxes[o] ||
        y < boxes[o + 1] ||
        z < boxes[o + 2] ||
        x > boxes[o + 3] ||
        y > boxes[o + 4] ||
        z > boxes[o + 5]
      ) {
        continue;
      }
      const a = p[n],
        b = p[n + 1];
      const ex = b[0] - a[0],
        ey = b[1] - a[1],
        ez = b[2] - a[2];
      const len2 = ex * ex + ey * ey + ez * ez || 1;
      let t = ((x - a[0]) * ex + (y - a[1]) * ey + (z - a[2]) * ez) / len2;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const qx = a[0] + t * ex - x,
        qy = a[1] + t * ey - y,
        qz = a[2] + t * ez - z;
      const depth = r[n] + (r[n + 1] - r[n]) * t - Math.sqrt(qx * qx + qy * qy + qz * qz);
      if (depth > best) {
        best = depth;
        bestS = n + t;
      }
    }
    if (best > -outsideMm) shade(idx, best, bestS, x, y, z);
  });
}

/** Catmull-Rom resampling of control points into a smooth polyline (and radii) for tubes. */
export function smoothTube(controlMm: Vec3[], radiiMm: number[], stepsPerSpan = 6): Tube {
  const pts: Vec3[] = [];
  const rad: number[] = [];
  const n = controlMm.length;
  for (let s = 0; s < n - 1; s++) {
    const p0 = controlMm[Math.max(0, s - 1)],
      p1 = controlMm[s],
      p2 = controlMm[s + 1],
      p3 = controlMm[Math.min(n - 1, s + 2)];
    for (let q = 0; q < stepsPerSpan; q++) {
      const t = q / stepsPerSpan,
        t2 = t * t,
        t3 = t2 * t;
      const pt: Vec3 = [0, 0, 0];
      for (let a = 0; a < 3; a++) {
        pt[a] =
          0.5 *
          (2 * p1[a] +
            (-p0[a] + p2[a]) * t +
            (2 * p0[a] - 5 * p1[a] + 4 * p2[a] - p3[a]) * t2 +
            (-p0[a] + 3 * p1[a] - 3 * p2[a] + p3[a]) * t3);
      }
      pts.push(pt);
      rad.push(radiiMm[s] + (radiiMm[s + 1] - radiiMm[s]) * t);
    }
  }
  pts.push(controlMm[n - 1]);
  rad.push(radiiMm[n - 1]);
  return { pointsMm: pts, radiiMm: rad };
}
