// The in-memory CT volume every part of the app shares: voxels in file order plus the full affine.
//
// Conventions (see ARCHITECTURE.md, "Geometry is sacred"):
// - Voxel index (i, j, k); i varies fastest in `data` (NIfTI order; for DICOM i = column, j = row,
//   k = slice in sorted order). As a tensor this is [D, H, W] = [nk, nj, ni] (MODEL.md axis order).
// - World coordinates are DICOM patient coordinates, LPS, in millimetres (what Cornerstone3D uses).
//   NIfTI files are RAS: readers/writers convert by negating the first two rows of the affine.
// - `direction` holds the unit vectors of the i, j and k axes in LPS, in that order (9 numbers):
//   world = origin + i*spacing[0]*dir_i + j*spacing[1]*dir_j + k*spacing[2]*dir_k.

export type VoxelArray =
  Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

export type VoxelType = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';

export type Vec3 = [number, number, number];
/** 3x3 direction cosines: i-axis (3), j-axis (3), k-axis (3), LPS unit vectors. */
export type Direction = [number, number, number, number, number, number, number, number, number];

export interface Volume {
  data: VoxelArray;
  /** [ni, nj, nk], i fastest. */
  dims: Vec3;
  spacingMm: Vec3;
  /** LPS position (mm) of the centre of voxel (0, 0, 0). */
  originMm: Vec3;
  direction: Direction;
  /** DICOM modality, e.g. 'CT', or 'SEG' for label maps. */
  modality: string;
  /** Human description (series description, file name, "synthetic phantom seed 3"). */
  description: string;
  /** Where it came from: a file path, a DICOM folder, or 'synthetic'. */
  source: string;
}

/** 4x4 row-major matrix as 16 numbers. */
export type Mat4 = number[];

export function voxelTypeOf(data: VoxelArray): VoxelType {
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof Float32Array) return 'float32';
  return 'float64';
}

export function allocVoxels(type: VoxelType, n: number): VoxelArray {
  switch (type) {
    case 'int8':
      return new Int8Array(n);
    case 'uint8':
      return new Uint8Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'uint16':
      return new Uint16Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'uint32':
      return new Uint32Array(n);
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
  }
}

/** Flat indices of the face neighbours of voxel `q` that lie inside the grid (6 inside, fewer on its faces). */
export function faceNeighbours(q: number, dims: readonly [number, number, number]): number[] {
  const [ni, nj, nk] = dims;
  const i = q % ni;
  const j = Math.floor(q / ni) % nj;
  const k = Math.floor(q / (ni * nj));
  const out: number[] = [];
  if (i > 0) out.push(q - 1);
  if (i < ni - 1) out.push(q + 1);
  if (j > 0) out.push(q - ni);
  if (j < nj - 1) out.push(q + ni);
  if (k > 0) out.push(q - ni * nj);
  if (k < nk - 1) out.push(q + ni * nj);
  return out;
}

export function voxelCount(dims: Vec3): number {
  return dims[0] * dims[1] * dims[2];
}

/** Row-major 4x4 affine mapping (i, j, k, 1) to LPS millimetres. */
export function affineLps(v: Pick<Volume, 'spacingMm' | 'originMm' | 'direction'>): Mat4 {
  const d = v.direction;
  const s = v.spacingMm;
  const o = v.originMm;
  // prettier-ignore
  return [
    d[0] * s[0], d[3] * s[1], d[6] * s[2], o[0],
    d[1] * s[0], d[4] * s[1], d[7] * s[2], o[1],
    d[2] * s[0], d[5] * s[1], d[8] * s[2], o[2],
    0, 0, 0, 1,
  ];
}

/** Row-major 4x4 affine mapping (i, j, k, 1) to RAS millimetres (NIfTI / nibabel convention). */
export function affineRas(v: Pick<Volume, 'spacingMm' | 'originMm' | 'direction'>): Mat4 {
  const a = affineLps(v);
  for (let c = 0; c < 4; c++) {
    a[c] = -a[c];
    a[4 + c] = -a[4 + c];
  }
  return a;
}

/** Splits a row-major LPS affine into spacing, origin and unit direction cosines. */
export function geometryFromAffineLps(a: Mat4): Pick<Volume, 'spacingMm' | 'originMm' | 'direction'> {
  const spacingMm: Vec3 = [0, 0, 0];
  const direction = [0, 0, 0, 0, 0, 0, 0, 0, 0] as Direction;
  for (let c = 0; c < 3; c++) {
    const x = a[c];
    const y = a[4 + c];
    const z = a[8 + c];
    const n = Math.hypot(x, y, z);
    spacingMm[c] = n;
    const inv = n > 0 ? 1 / n : 0;
    direction[c * 3] = x * inv;
    direction[c * 3 + 1] = y * inv;
    direction[c * 3 + 2] = z * inv;
  }
  return { spacingMm, originMm: [a[3], a[7], a[11]], direction };
}

export function geometryFromAffineRas(a: Mat4): Pick<Volume, 'spacingMm' | 'originMm' | 'direction'> {
  const lps = a.slice();
  for (let c = 0; c < 4; c++) {
    lps[c] = -lps[c];
    lps[4 + c] = -lps[4 + c];
  }
  return geometryFromAffineLps(lps);
}

/** LPS position (mm) of the centre of voxel (i, j, k). */
export function voxelToWorld(v: Volume, i: number, j: number, k: number): Vec3 {
  const a = affineLps(v);
  return [
    a[0] * i + a[1] * j + a[2] * k + a[3],
    a[4] * i + a[5] * j + a[6] * k + a[7],
    a[8] * i + a[9] * j + a[10] * k + a[11],
  ];
}

/** An error about one input, naming the file (or folder) and the problem in one sentence. */
export class InputError extends Error {
  readonly file: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'InputError';
    this.file = file;
  }
}

/** Refuses volumes the app cannot hold or reason about, before any big allocation. */
export const MAX_VOXELS = 1024 * 1024 * 1024; // 1 Gi voxels (2 GiB as int16)

/** Voxel spacings outside this range (mm) are header damage, not a scan: a CT voxel is 0.1–10 mm. */
export const MIN_SPACING_MM = 1e-3;
export const MAX_SPACING_MM = 1e4;
/** Farther than this from the scanner's origin (mm, 10 km) is header damage too. */
export const MAX_ORIGIN_MM = 1e7;

export function checkGeometry(file: string, v: Pick<Volume, 'dims' | 'spacingMm' | 'originMm' | 'direction'>): void {
  for (const n of v.dims) {
    if (!Number.isInteger(n) || n < 1) throw new InputError(file, `dimension ${n} is not a positive whole number`);
  }
  if (voxelCount(v.dims) > MAX_VOXELS) {
    throw new InputError(file, `${v.dims.join('×')} voxels is more than this app can hold (${MAX_VOXELS} at most)`);
  }
  for (const s of v.spacingMm) {
    if (!Number.isFinite(s) || s <= 0)
      throw new InputError(file, `voxel spacing ${s} mm is missing, zero or not a number`);
    if (s < MIN_SPACING_MM || s > MAX_SPACING_MM)
      throw new InputError(file, `voxel spacing ${s} mm is outside ${MIN_SPACING_MM}–${MAX_SPACING_MM} mm`);
  }
  for (const o of v.originMm) {
    if (!Number.isFinite(o)) throw new InputError(file, 'origin is not a finite position');
    if (Math.abs(o) > MAX_ORIGIN_MM) throw new InputError(file, `origin ${o} mm is absurdly far from the scanner`);
  }
  for (const d of v.direction) {
    if (!Number.isFinite(d)) throw new InputError(file, 'orientation is not finite');
  }
}
