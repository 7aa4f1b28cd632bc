// NIfTI-1 / NIfTI-2 header parsing and writing, and the affine choice nibabel makes (sform, qform, pixdim).
import type { Mat4, Vec3, VoxelType } from './volume';
import { InputError, MAX_ORIGIN_MM, MAX_SPACING_MM, MIN_SPACING_MM } from './volume';

export const NIFTI1_HEADER_BYTES = 348;
export const NIFTI2_HEADER_BYTES = 540;

/** NIfTI datatype codes we read and write (others are refused by name). */
export const DATATYPE_CODES: Record<number, VoxelType> = {
  2: 'uint8',
  4: 'int16',
  8: 'int32',
  16: 'float32',
  64: 'float64',
  256: 'int8',
  512: 'uint16',
  768: 'uint32',
};
const DATATYPE_NAMES: Record<number, string> = {
  1: 'binary (1 bit)',
  32: 'complex64',
  128: 'RGB24',
  1024: 'int64',
  1280: 'uint64',
  1536: 'float128',
  1792: 'complex128',
  2048: 'complex256',
  2304: 'RGBA32',
};

export function datatypeCodeOf(t: VoxelType): number {
  for (const [code, name] of Object.entries(DATATYPE_CODES)) if (name === t) return Number(code);
  throw new Error(`no NIfTI datatype for ${t}`);
}

export const BYTES_PER_VOXEL: Record<VoxelType, number> = {
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  float32: 4,
  float64: 8,
};

export interface NiftiHeader {
  version: 1 | 2;
  littleEndian: boolean;
  headerBytes: number;
  /** [ni, nj, nk]; further dimensions must be 1. */
  dims: Vec3;
  voxelType: VoxelType;
  voxOffset: number;
  /** pixdim[0..7] as stored (pixdim[0] is qfac). */
  pixdim: number[];
  sclSlope: number;
  sclInter: number;
  qformCode: number;
  sformCode: number;
  quatern: Vec3;
  qoffset: Vec3;
  /** srow_x, srow_y, srow_z (12 numbers, row-major). */
  srow: number[];
  description: string;
}

function readString(bytes: Uint8Array, offset: number, length: number): string {
  let end = offset;
  while (end < offset + length && bytes[end] !== 0) end++;
  let s = '';
  for (let i = offset; i < end; i++) s += String.fromCharCode(bytes[i]);
  return s.trim();
}

/** Whether the first bytes look like a gzip stream (magic 1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Parses and validates a NIfTI-1 or NIfTI-2 header from (decompressed) bytes. Validates everything
 * that decides an allocation, so callers may allocate `voxelCount * bytesPerVoxel` afterwards.
 */
export function parseNiftiHeader(bytes: Uint8Array, file: string): NiftiHeader {
  if (bytes.length < 4) throw new InputError(file, 'file is too short to hold a NIfTI header (truncated?)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = view.getInt32(0, true);
  const be = view.getInt32(0, false);
  let version: 1 | 2;
  let littleEndian: boolean;
  if (le === NIFTI1_HEADER_BYTES || be === NIFTI1_HEADER_BYTES) {
    version = 1;
    littleEndian = le === NIFTI1_HEADER_BYTES;
  } else if (le === NIFTI2_HEADER_BYTES || be === NIFTI2_HEADER_BYTES) {
    version = 2;
    littleEndian = le === NIFTI2_HEADER_BYTES;
  } else {
    throw new InputError(file, 'not a NIfTI file (header size field is neither 348 nor 540)');
  }
  const headerBytes = version === 1 ? NIFTI1_HEADER_BYTES : NIFTI2_HEADER_BYTES;
  if (bytes.length < headerBytes)
    throw new InputError(file, `file ends inside the NIfTI-${version} header (truncated)`);
  const magic = version === 1 ? readString(bytes, 344, 4) : readString(bytes, 4, 4);
  const okMagic = version === 1 ? magic === 'n+1' || magic === 'ni1' : magic === 'n+2';
  if (!okMagic)
    throw new InputError(file, `wrong NIfTI magic '${magic}' (expected ${version === 1 ? "'n+1'" : "'n+2'"})`);
  if (magic === 'ni1')
    throw new InputError(file, 'two-file NIfTI (.hdr/.img) is not supported; use a single .nii or .nii.gz');

  const i16 = (o: number): number => view.getInt16(o, littleEndian);
  const i32 = (o: number): number => view.getInt32(o, littleEndian);
  const f32 = (o: number): number => view.getFloat32(o, littleEndian);
  const f64 = (o: number): number => view.getFloat64(o, littleEndian);
  const i64 = (o: number): number => Number(view.getBigInt64(o, littleEndian));

  const dim: number[] = [];
  const pixdim: number[] = [];
  for (let d = 0; d < 8; d++) {
    dim.push(version === 1 ? i16(40 + 2 * d) : i64(16 + 8 * d));
    pixdim.push(version === 1 ? f32(76 + 4 * d) : f64(104 + 8 * d));
  }
  const datatype = version === 1 ? i16(70) : i16(12);
  const voxOffsetRaw = version === 1 ? f32(108) : i64(168);
  const sclSlope = version === 1 ? f32(112) : f64(176);
  const sclInter = version === 1 ? f32(116) : f64(184);
  const qformCode = version === 1 ? i16(252) : i32(344);
  const sformCode = version === 1 ? i16(254) : i32(348);
  const quatern: Vec3 = [0, 0, 0];
  const qoffset: Vec3 = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    quatern[c] = version === 1 ? f32(256 + 4 * c) : f64(352 + 8 * c);
    qoffset[c] = version === 1 ? f32(268 + 4 * c) : f64(376 + 8 * c);
  }
  const srow: number[] = [];
  for (let c = 0; c < 12; c++) srow.push(version === 1 ? f32(280 + 4 * c) : f64(400 + 8 * c));
  const description = version === 1 ? readString(bytes, 148, 80) : readString(bytes, 240, 80);

  const ndim = dim[0];
  if (!Number.isInteger(ndim) || ndim < 1 || ndim > 7)
    throw new InputError(file, `dim[0] = ${ndim} is not a number of dimensions between 1 and 7`);
  const dims: Vec3 = [1, 1, 1];
  for (let d = 1; d <= ndim; d++) {
    const n = dim[d];
    if (!Number.isSafeInteger(n) || n < 1)
      throw new InputError(file, `dimension ${d} has size ${n}, which is not a positive whole number`);
    if (d <= 3) dims[d - 1] = n;
    else if (n !== 1)
      throw new InputError(
        file,
        `is ${ndim}-dimensional (dimension ${d} has size ${n}); only single 3D volumes are supported`,
      );
  }
  const voxelType = DATATYPE_CODES[datatype];
  if (!voxelType) {
    const name = DATATYPE_NAMES[datatype] ?? `code ${datatype}`;
    throw new InputError(
      file,
      `voxel datatype ${name} is not supported (int8, uint8, int16, uint16, int32, uint32, float32, float64 are)`,
    );
  }
  if (!Number.isFinite(voxOffsetRaw) || voxOffsetRaw < headerBytes || voxOffsetRaw > 2 ** 40) {
    throw new InputError(file, `vox_offset ${voxOffsetRaw} does not point past the header`);
  }
  return {
    version,
    littleEndian,
    headerBytes,
    dims,
    voxelType,
    voxOffset: Math.floor(voxOffsetRaw),
    pixdim,
    sclSlope,
    sclInter,
    qformCode,
    sformCode,
    quatern,
    qoffset,
    srow,
    description,
  };
}

/** Rotation matrix (row-major 3x3) from the NIfTI quaternion (b, c, d), a recovered as nibabel does. */
export function quaternionToMatrix(b: number, c: number, d: number): number[] {
  // a = sqrt(1 - b² - c² - d²); tiny negative values from float32 rounding count as 0.
  const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
  const n = a * a + b * b + c * c + d * d;
  if (n < 1e-12) return [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const s = 2 / n;
  // prettier-ignore
  return [
    1 - s * (c * c + d * d), s * (b * c - a * d), s * (b * d + a * c),
    s * (b * c + a * d), 1 - s * (b * b + d * d), s * (c * d - a * b),
    s * (b * d - a * c), s * (c * d + a * b), 1 - s * (b * b + c * c),
  ];
}

/**
 * Unit quaternion (b, c, d) and qfac for a direction matrix whose columns are the i, j, k axes (RAS).
 * Returns null when the axes are not orthonormal (then only the sform can hold the geometry).
 */
export function matrixToQuaternion(colsRas: number[]): { quatern: Vec3; qfac: number } | null {
  const r = colsRas.slice(); // row-major 3x3
  const dot = (p: number, q: number): number => r[p] * r[q] + r[p + 3] * r[q + 3] + r[p + 6] * r[q + 6];
  for (let p = 0; p < 3; p++) {
    if (Math.abs(dot(p, p) - 1) > 1e-4) return null;
    for (let q = p + 1; q < 3; q++) if (Math.abs(dot(p, q)) > 1e-4) return null;
  }
  const det =
    r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6]) + r[2] * (r[3] * r[7] - r[4] * r[6]);
  const qfac = det < 0 ? -1 : 1;
  if (qfac < 0) for (const idx of [2, 5, 8]) r[idx] = -r[idx]; // the k axis flip lives in qfac
  // Pick the numerically largest of 4a², 4b², 4c², 4d² to divide by (stable for all rotations).
  const t = r[0] + r[4] + r[8];
  let a: number, b: number, c: number, d: number;
  if (t > 0) {
    const s = 2 * Math.sqrt(1 + t);
    a = s / 4;
    b = (r[7] - r[5]) / s;
    c = (r[2] - r[6]) / s;
    d = (r[3] - r[1]) / s;
  } else if (r[0] > r[4] && r[0] > r[8]) {
    const s = 2 * Math.sqrt(1 + r[0] - r[4] - r[8]);
    a = (r[7] - r[5]) / s;
    b = s / 4;
    c = (r[1] + r[3]) / s;
    d = (r[2] + r[6]) / s;
  } else if (r[4] > r[8]) {
    const s = 2 * Math.sqrt(1 + r[4] - r[0] - r[8]);
    a = (r[2] - r[6]) / s;
    b = (r[1] + r[3]) / s;
    c = s / 4;
    d = (r[5] + r[7]) / s;
  } else {
    const s = 2 * Math.sqrt(1 + r[8] - r[0] - r[4]);
    a = (r[3] - r[1]) / s;
    b = (r[2] + r[6]) / s;
    c = (r[5] + r[7]) / s;
    d = s / 4;
  }
  if (a < 0) {
    b = -b;
    c = -c;
    d = -d;
  }
  return { quatern: [b, c, d], qfac };
}

const FIELD_OF: Record<'sform' | 'qform' | 'pixdim', string> = {
  sform: 'sform (srow_x, srow_y, srow_z)',
  qform: 'qform (quatern_b/c/d, qoffset_x/y/z, pixdim[1..3])',
  pixdim: 'pixdim[1..3]',
};

/**
 * Refuses an affine whose values are not finite, whose voxel spacing is absurd (1e-30 or 1e30 mm)
 * or whose axes are (nearly) parallel, naming the header field it came from.
 */
function checkAffine(a: Mat4, source: 'sform' | 'qform' | 'pixdim', file: string): void {
  const field = FIELD_OF[source];
  for (let n = 0; n < 12; n++)
    if (!Number.isFinite(a[n])) throw new InputError(file, `${field} holds ${a[n]}, which is not a finite number`);
  const axes = ['i', 'j', 'k'];
  const norms: number[] = [];
  for (let c = 0; c < 3; c++) {
    const n = Math.hypot(a[c], a[4 + c], a[8 + c]);
    if (!(n >= MIN_SPACING_MM && n <= MAX_SPACING_MM))
      throw new InputError(
        file,
        `${field} gives voxel spacing ${n} mm along ${axes[c]}, outside ${MIN_SPACING_MM}–${MAX_SPACING_MM} mm`,
      );
    norms.push(n);
  }
  for (let r = 0; r < 3; r++)
    if (Math.abs(a[r * 4 + 3]) > MAX_ORIGIN_MM)
      throw new InputError(file, `${field} puts the first voxel ${a[r * 4 + 3]} mm from the origin, which is absurd`);
  const det =
    a[0] * (a[5] * a[10] - a[6] * a[9]) - a[1] * (a[4] * a[10] - a[6] * a[8]) + a[2] * (a[4] * a[9] - a[5] * a[8]);
  if (Math.abs(det) < 1e-6 * norms[0] * norms[1] * norms[2])
    throw new InputError(file, `${field} has parallel or collapsed axes (the voxel grid has no volume)`);
}

/**
 * The RAS affine nibabel's `img.affine` gives: sform when sform_code > 0, else qform when
 * qform_code > 0, else the Analyze fallback (pixdim scaling, x flipped, centred on the volume).
 * Refuses non-finite or absurd geometry, naming the field.
 */
export function bestAffineRas(h: NiftiHeader, file: string): { affine: Mat4; source: 'sform' | 'qform' | 'pixdim' } {
  const best = bestAffineRasUnchecked(h, file);
  checkAffine(best.affine, best.source, file);
  return best;
}

function bestAffineRasUnchecked(h: NiftiHeader, file: string): { affine: Mat4; source: 'sform' | 'qform' | 'pixdim' } {
  if (h.sformCode > 0) {
    return { affine: [...h.srow, 0, 0, 0, 1], source: 'sform' };
  }
  const zooms = [h.pixdim[1], h.pixdim[2], h.pixdim[3]];
  for (const z of zooms) {
    if (!Number.isFinite(z) || z === 0)
      throw new InputError(file, `voxel spacing (pixdim) ${z} mm is zero or not a number`);
  }
  if (h.qformCode > 0) {
    const R = quaternionToMatrix(h.quatern[0], h.quatern[1], h.quatern[2]);
    // nibabel treats a qfac other than -1 as 1 (files often leave pixdim[0] = 0).
    const qfac = h.pixdim[0] === -1 ? -1 : 1;
    const s = [Math.abs(zooms[0]), Math.abs(zooms[1]), Math.abs(zooms[2]) * qfac];
    const a: Mat4 = [];
    for (let row = 0; row < 3; row++) {
      for (let col = 0; col < 3; col++) a.push(R[row * 3 + col] * s[col]);
      a.push(h.qoffset[row]);
    }
    a.push(0, 0, 0, 1);
    return { affine: a, source: 'qform' };
  }
  const z = [-Math.abs(zooms[0]), Math.abs(zooms[1]), Math.abs(zooms[2])];
  const a: Mat4 = [z[0], 0, 0, 0, 0, z[1], 0, 0, 0, 0, z[2], 0, 0, 0, 0, 1];
  for (let c = 0; c < 3; c++) a[c * 4 + 3] = (-(h.dims[c] - 1) / 2) * z[c];
  return { affine: a, source: 'pixdim' };
}

export interface HeaderToWrite {
  dims: Vec3;
  voxelType: VoxelType;
  /** Row-major RAS affine. */
  affineRas: Mat4;
  spacingMm: Vec3;
  description: string;
}

/**
 * Encodes a little-endian header plus the 4-byte empty extension flag. NIfTI-1 unless a dimension
 * exceeds its int16 fields, then NIfTI-2. Both sform and qform are written (code 1, scanner).
 */
export function encodeNiftiHeader(h: HeaderToWrite): Uint8Array {
  const version = h.dims.some((n) => n > 32767) ? 2 : 1;
  const headerBytes = version === 1 ? NIFTI1_HEADER_BYTES : NIFTI2_HEADER_BYTES;
  const voxOffset = headerBytes + 4;
  const bytes = new Uint8Array(voxOffset);
  const view = new DataView(bytes.buffer);
  const code = datatypeCodeOf(h.voxelType);
  const bitpix = BYTES_PER_VOXEL[h.voxelType] * 8;
  const a = h.affineRas;
  const cols = [a[0], a[1], a[2], a[4], a[5], a[6], a[8], a[9], a[10]];
  for (let c = 0; c < 3; c++) {
    const s = h.spacingMm[c] || 1;
    cols[c] /= s;
    cols[3 + c] /= s;
    cols[6 + c] /= s;
  }
  const q = matrixToQuaternion(cols);
  const pixdim = [q ? q.qfac : 1, h.spacingMm[0], h.spacingMm[1], h.spacingMm[2], 1, 1, 1, 1];
  const dim = [3, h.dims[0], h.dims[1], h.dims[2], 1, 1, 1, 1];
  const desc = h.description.slice(0, 79);
  const putString = (offset: number, s: string): void => {
    for (let i = 0; i < s.length; i++) bytes[offset + i] = s.charCodeAt(i) & 0x7f;
  };
  if (version === 1) {
    view.setInt32(0, NIFTI1_HEADER_BYTES, true);
    for (let d = 0; d < 8; d++) {
      view.setInt16(40 + 2 * d, dim[d], true);
      view.setFloat32(76 + 4 * d, pixdim[d], true);
    }
    view.setInt16(70, code, true);
    view.setInt16(72, bitpix, true);
    view.setFloat32(108, voxOffset, true);
    view.setFloat32(112, 1, true); // scl_slope 1: values are stored as they are
    view.setFloat32(116, 0, true);
    bytes[123] = 2 | 8; // xyzt_units: mm, s
    putString(148, desc);
    view.setInt16(252, q ? 1 : 0, true);
    view.setInt16(254, 1, true);
    if (q) {
      for (let c = 0; c < 3; c++) view.setFloat32(256 + 4 * c, q.quatern[c], true);
    }
    for (let c = 0; c < 3; c++) view.setFloat32(268 + 4 * c, a[c * 4 + 3], true);
    for (let c = 0; c < 12; c++) view.setFloat32(280 + 4 * c, a[c], true);
    putString(344, 'n+1');
  } else {
    view.setInt32(0, NIFTI2_HEADER_BYTES, true);
    putString(4, 'n+2');
    bytes.set([0x0d, 0x0a, 0x1a, 0x0a], 8);
    view.setInt16(12, code, true);
    view.setInt16(14, bitpix, true);
    for (let d = 0; d < 8; d++) {
      view.setBigInt64(16 + 8 * d, BigInt(dim[d]), true);
      view.setFloat64(104 + 8 * d, pixdim[d], true);
    }
    view.setBigInt64(168, BigInt(voxOffset), true);
    view.setFloat64(176, 1, true);
    view.setFloat64(184, 0, true);
    putString(240, desc);
    view.setInt32(344, q ? 1 : 0, true);
    view.setInt32(348, 1, true);
    if (q) {
      for (let c = 0; c < 3; c++) view.setFloat64(352 + 8 * c, q.quatern[c], true);
    }
    for (let c = 0; c < 3; c++) view.setFloat64(376 + 8 * c, a[c * 4 + 3], true);
    for (let c = 0; c < 12; c++) view.setFloat64(400 + 8 * c, a[c], true);
    view.setInt32(500, 2 | 8, true);
  }
  return bytes;
}
