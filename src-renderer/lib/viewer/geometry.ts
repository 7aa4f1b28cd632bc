// Pure geometry for the viewer: voxel <-> LPS world, HU sampling, orientation letters, slice numbers.
// No DOM or Cornerstone imports, so unit tests can run it in Node.

export type Vec3 = [number, number, number];

/** The part of a VolumeHeader that fixes where voxels are (see src-main/imaging/volume.ts). */
export interface GridGeometry {
  dims: [number, number, number];
  spacingMm: [number, number, number];
  originMm: [number, number, number];
  /** i, j, k axis unit vectors in LPS (9 numbers). */
  direction: number[];
}

/** Columns of the voxel-to-world linear part: axis vectors scaled by spacing. */
function axisMatrix(g: GridGeometry): number[] {
  const d = g.direction;
  const s = g.spacingMm;
  // Row-major 3x3 M with world - origin = M * (i, j, k).
  // prettier-ignore
  return [
    d[0] * s[0], d[3] * s[1], d[6] * s[2],
    d[1] * s[0], d[4] * s[1], d[7] * s[2],
    d[2] * s[0], d[5] * s[1], d[8] * s[2],
  ];
}

export function ijkToWorld(g: GridGeometry, ijk: Vec3): Vec3 {
  const m = axisMatrix(g);
  const [i, j, k] = ijk;
  return [
    g.originMm[0] + m[0] * i + m[1] * j + m[2] * k,
    g.originMm[1] + m[3] * i + m[4] * j + m[5] * k,
    g.originMm[2] + m[6] * i + m[7] * j + m[8] * k,
  ];
}

/** Continuous voxel coordinates of an LPS point (general inverse: direction need not be orthogonal). */
export function worldToIjk(g: GridGeometry, world: Vec3): Vec3 {
  const m = axisMatrix(g);
  const det =
    m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) throw new Error('volume geometry is degenerate');
  const x = world[0] - g.originMm[0];
  const y = world[1] - g.originMm[1];
  const z = world[2] - g.originMm[2];
  // Adjugate of M, row-major (M⁻¹ = adj(M) / det).
  // prettier-ignore
  const inv = [
    m[4] * m[8] - m[5] * m[7], m[2] * m[7] - m[1] * m[8], m[1] * m[5] - m[2] * m[4],
    m[5] * m[6] - m[3] * m[8], m[0] * m[8] - m[2] * m[6], m[2] * m[3] - m[0] * m[5],
    m[3] * m[7] - m[4] * m[6], m[1] * m[6] - m[0] * m[7], m[0] * m[4] - m[1] * m[3],
  ];
  return [
    (inv[0] * x + inv[1] * y + inv[2] * z) / det,
    (inv[3] * x + inv[4] * y + inv[5] * z) / det,
    (inv[6] * x + inv[7] * y + inv[8] * z) / det,
  ];
}

/** Nearest voxel to continuous IJK, or null when outside the grid. */
export function nearestVoxel(dims: [number, number, number], ijk: Vec3): Vec3 | null {
  const r: Vec3 = [Math.round(ijk[0]), Math.round(ijk[1]), Math.round(ijk[2])];
  for (let a = 0; a < 3; a++) if (r[a] < 0 || r[a] >= dims[a]) return null;
  return r;
}

/** Value of voxel (i, j, k) in an i-fastest array. */
export function voxelValue(data: ArrayLike<number>, dims: [number, number, number], ijk: Vec3): number {
  return data[ijk[0] + dims[0] * (ijk[1] + dims[1] * ijk[2])];
}

const LETTERS: [string, string][] = [
  ['L', 'R'], // +x LPS = patient left
  ['P', 'A'], // +y = posterior
  ['S', 'I'], // +z = superior
];

/**
 * Patient-direction letters of an LPS vector, strongest component first (DICOM habit); components
 * weaker than `minFraction` of the largest are left out, so a true axial view says just "L".
 */
export function orientationLetters(v: Vec3, minFraction = 0.25): string {
  const mags = v.map(Math.abs);
  const max = Math.max(...mags);
  if (!(max > 0)) return '';
  return [0, 1, 2]
    .filter((a) => mags[a] >= max * minFraction)
    .sort((a, b) => mags[b] - mags[a])
    .map((a) => (v[a] >= 0 ? LETTERS[a][0] : LETTERS[a][1]))
    .join('');
}

export function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

export function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export interface OrientationMarkers {
  top: string;
  bottom: string;
  left: string;
  right: string;
}

/**
 * Letters at the four edges of a view, from its camera. `viewPlaneNormal` points from the scene
 * towards the camera (VTK/Cornerstone), so screen-right = viewUp × viewPlaneNormal.
 */
export function orientationMarkers(viewUp: Vec3, viewPlaneNormal: Vec3): OrientationMarkers {
  const right = cross(viewUp, viewPlaneNormal);
  const neg = (v: Vec3): Vec3 => [-v[0], -v[1], -v[2]];
  return {
    top: orientationLetters(viewUp),
    bottom: orientationLetters(neg(viewUp)),
    right: orientationLetters(right),
    left: orientationLetters(neg(right)),
  };
}

export interface SliceInfo {
  /** Voxel axis most aligned with the view normal (0 = i, 1 = j, 2 = k). */
  axis: 0 | 1 | 2;
  /** 0-based voxel index along that axis of the shown plane (clamped to the grid). */
  index: number;
  count: number;
}

/** Which voxel slice a view shows: the voxel axis closest to its normal and the focal point's index. */
export function sliceInfo(g: GridGeometry, focalPoint: Vec3, viewPlaneNormal: Vec3): SliceInfo {
  let axis: 0 | 1 | 2 = 0;
  let best = -1;
  for (const a of [0, 1, 2] as const) {
    const c = Math.abs(dot([g.direction[a * 3], g.direction[a * 3 + 1], g.direction[a * 3 + 2]], viewPlaneNormal));
    if (c > best) {
      best = c;
      axis = a;
    }
  }
  const ijk = worldToIjk(g, focalPoint);
  const count = g.dims[axis];
  const index = Math.min(count - 1, Math.max(0, Math.round(ijk[axis])));
  return { axis, index, count };
}
