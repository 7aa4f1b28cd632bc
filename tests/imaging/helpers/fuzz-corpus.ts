// A deterministic fuzz corpus made from a synthetic phantom: damaged NIfTI files (header fields set to
// NaN/Inf/zero/huge, truncations, byte flips, gzip corruption and bombs) and damaged DICOM series (tag
// values, short or missing pixel data, wrong transfer syntaxes, corrupt compressed streams, broken
// series), plus valid-but-unusual files that must load exactly.
import zlib from 'node:zlib';
import { encodeNifti } from '../../../src-main/imaging/nifti';
import type { Direction, Volume } from '../../../src-main/imaging/volume';
import { Rng } from '../../../src-main/engine/model/rng';
import { generatePhantom } from '../../../src-main/phantom';
import { encodeCtSlice } from './dicom-writer';
import type { SliceSpec } from './dicom-writer';

/** One input: a NIfTI file, or a DICOM folder given as its files. */
export type FuzzInput =
  | { kind: 'nifti'; name: string; bytes: Uint8Array }
  | { kind: 'dicom'; name: string; files: { name: string; bytes: Uint8Array }[] };

export interface FuzzCase {
  input: FuzzInput;
  /** For valid-but-unusual inputs: the volume they must load as, exactly. */
  exact?: Volume;
  /** Part of the slice `npm test` runs (the full corpus runs with DEFORMUX_FUZZ=full). */
  inSlice: boolean;
}

const gzip = (b: Uint8Array): Uint8Array => new Uint8Array(zlib.gzipSync(b, { level: 1 }));

/** The phantom every case derives from: small, int16 HU, identity orientation. */
export function basePhantom(): Volume {
  return generatePhantom({ seed: 16, schema: 'kidney', dims: [24, 20, 8] }).image;
}

// ---------------------------------------------------------------- NIfTI

type FieldKind = 'i16' | 'i32' | 'f32';
const NIFTI_FIELDS: [string, number, FieldKind][] = [
  ['sizeof_hdr', 0, 'i32'],
  ['dim[0]', 40, 'i16'],
  ['dim[1]', 42, 'i16'],
  ['dim[2]', 44, 'i16'],
  ['dim[3]', 46, 'i16'],
  ['dim[4]', 48, 'i16'],
  ['datatype', 70, 'i16'],
  ['bitpix', 72, 'i16'],
  ['pixdim[0]', 76, 'f32'],
  ['pixdim[1]', 80, 'f32'],
  ['pixdim[2]', 84, 'f32'],
  ['pixdim[3]', 88, 'f32'],
  ['vox_offset', 108, 'f32'],
  ['scl_slope', 112, 'f32'],
  ['scl_inter', 116, 'f32'],
  ['qform_code', 252, 'i16'],
  ['sform_code', 254, 'i16'],
  ['quatern_b', 256, 'f32'],
  ['quatern_d', 264, 'f32'],
  ['qoffset_x', 268, 'f32'],
  ['srow_x[0]', 280, 'f32'],
  ['srow_x[3]', 292, 'f32'],
  ['srow_y[1]', 300, 'f32'],
  ['srow_z[2]', 320, 'f32'],
  ['srow_z[3]', 324, 'f32'],
  ['magic', 344, 'i32'],
];
const FLOAT_VALUES = [NaN, Infinity, -Infinity, 0, -1, 1e-30, 1e30, -1e30, 3.4e38, 2, 0.5, 1e-3];
const INT_VALUES = [0, -1, 1, 2, 4, 8, 16, 64, 255, 512, 32767, -32768];

function setField(v: DataView, offset: number, kind: FieldKind, x: number): void {
  if (kind === 'f32') v.setFloat32(offset, x, true);
  else if (kind === 'i16') v.setInt16(offset, x, true);
  else v.setInt32(offset, x, true);
}

function patched(bytes: Uint8Array, edit: (v: DataView) => void): Uint8Array {
  const out = bytes.slice();
  edit(new DataView(out.buffer));
  return out;
}

/** NIfTI-1 numeric fields as (offset, width, count), for the big-endian variant. */
const NIFTI1_NUMERIC: [number, number, number][] = [
  [0, 4, 1], [32, 4, 1], [36, 2, 1], [40, 2, 8], [56, 4, 3], [68, 2, 4], [76, 4, 8], [108, 4, 3], [120, 2, 1],
  [124, 4, 4], [140, 4, 2], [252, 2, 2], [256, 4, 6], [280, 4, 12],
]; // prettier-ignore

function swapRun(b: Uint8Array, offset: number, width: number, count: number): void {
  for (let n = 0; n < count; n++) b.subarray(offset + n * width, offset + (n + 1) * width).reverse();
}

/** The same file, big-endian: every header number and every voxel byte-swapped. */
function bigEndian(little: Uint8Array, voxelWidth: number): Uint8Array {
  const b = little.slice();
  for (const [offset, width, count] of NIFTI1_NUMERIC) swapRun(b, offset, width, count);
  swapRun(b, 352, voxelWidth, (b.length - 352) / voxelWidth);
  return b;
}

/** The same file as NIfTI-2 (540-byte header, 64-bit fields). */
function nifti2(n1: Uint8Array): Uint8Array {
  const src = new DataView(n1.buffer, n1.byteOffset, n1.byteLength);
  const data = n1.subarray(352);
  const out = new Uint8Array(544 + data.length);
  const v = new DataView(out.buffer);
  v.setInt32(0, 540, true);
  out.set([0x6e, 0x2b, 0x32, 0x00, 0x0d, 0x0a, 0x1a, 0x0a], 4); // 'n+2\0' + the DOS/Unix check bytes
  v.setInt16(12, src.getInt16(70, true), true);
  v.setInt16(14, src.getInt16(72, true), true);
  for (let d = 0; d < 8; d++) {
    v.setBigInt64(16 + 8 * d, BigInt(src.getInt16(40 + 2 * d, true)), true);
    v.setFloat64(104 + 8 * d, src.getFloat32(76 + 4 * d, true), true);
  }
  v.setBigInt64(168, 544n, true);
  v.setFloat64(176, src.getFloat32(112, true), true);
  v.setFloat64(184, src.getFloat32(116, true), true);
  v.setInt32(344, src.getInt16(252, true), true);
  v.setInt32(348, src.getInt16(254, true), true);
  for (let c = 0; c < 3; c++) {
    v.setFloat64(352 + 8 * c, src.getFloat32(256 + 4 * c, true), true);
    v.setFloat64(376 + 8 * c, src.getFloat32(268 + 4 * c, true), true);
  }
  for (let c = 0; c < 12; c++) v.setFloat64(400 + 8 * c, src.getFloat32(280 + 4 * c, true), true);
  out.set(data, 544);
  return out;
}

function niftiCases(base: Volume, full: boolean): FuzzCase[] {
  const cases: FuzzCase[] = [];
  const raw = encodeNifti(base);
  let n = 0;
  // Every 7th of the systematic cases runs in `npm test`; `exact` ones always do.
  const add = (name: string, bytes: Uint8Array, exact?: Volume): void => {
    const inSlice = exact !== undefined || n++ % 7 === 0;
    if (inSlice || full) cases.push({ input: { kind: 'nifti', name, bytes }, exact, inSlice });
  };

  for (const [field, offset, kind] of NIFTI_FIELDS) {
    for (const x of kind === 'f32' ? FLOAT_VALUES : INT_VALUES) {
      const bytes = patched(raw, (v) => setField(v, offset, kind, x));
      add(`field-${field}=${x}.nii`, bytes);
      add(`field-${field}=${x}.nii.gz`, gzip(bytes));
    }
  }
  const half = 352 + Math.floor((raw.length - 352) / 2);
  for (const cut of [0, 1, 3, 4, 100, 347, 348, 351, 352, 353, half, raw.length - 1]) {
    add(`truncated-${cut}.nii`, raw.subarray(0, cut));
    add(`truncated-${cut}-then-gzipped.nii.gz`, gzip(raw.subarray(0, cut)));
  }
  const gz = gzip(raw);
  for (const cut of [1, 2, 9, 10, 11, 20, 60, Math.floor(gz.length / 2), gz.length - 8, gz.length - 1])
    add(`gzip-truncated-${cut}.nii.gz`, gz.subarray(0, cut));
  const rng = new Rng(1600);
  const flips = full ? 700 : 140;
  for (let f = 0; f < flips; f++) {
    const gzipped = f % 2 === 1;
    const src = gzipped ? gz : raw;
    const k = 1 + rng.int(8);
    const out = src.slice();
    for (let p = 0; p < k; p++) {
      // Raw: mostly the header; gzip: anywhere after the 10-byte gzip header (the deflate stream, CRC, size).
      const at = gzipped ? 10 + rng.int(src.length - 10) : rng.next() < 0.7 ? rng.int(352) : rng.int(src.length);
      out[at] ^= 1 + rng.int(255);
    }
    add(`flips-${f}-${k}${gzipped ? '.nii.gz' : '.nii'}`, out);
  }
  add('gzip-trailing-garbage.nii.gz', Uint8Array.from([...gz, ...new Uint8Array(64).fill(0x5a)]));
  add('gzip-of-gzip.nii.gz', gzip(gz));
  add('gzip-empty.nii.gz', gzip(new Uint8Array(0)));
  // A bomb: the voxels the header promises, then 48 MiB more zeros (compresses to ~50 KiB).
  const bomb = new Uint8Array(raw.length + 48 * 1024 * 1024);
  bomb.set(raw);
  cases.push({ input: { kind: 'nifti', name: 'gzip-bomb.nii.gz', bytes: gzip(bomb) }, inSlice: true });

  // Valid but unusual: each must load as exactly this volume.
  add(
    'unusual-4d-one-volume.nii',
    patched(raw, (v) => (v.setInt16(40, 4, true), v.setInt16(48, 1, true))),
    base,
  );
  const f64: Volume = { ...base, data: Float64Array.from(base.data, (x) => x + 0.25) };
  add('unusual-float64.nii', encodeNifti(f64), f64);
  add('unusual-big-endian.nii', bigEndian(raw, 2), base);
  add('unusual-big-endian.nii.gz', gzip(bigEndian(raw, 2)), base);
  const doubled: Volume = { ...base, data: Int16Array.from(base.data, (x) => 2 * x) };
  add(
    'unusual-scl_slope-2.nii',
    patched(raw, (v) => v.setFloat32(112, 2, true)),
    doubled,
  );
  add('unusual-nifti2.nii', nifti2(raw), base);
  add('unusual-nifti2.nii.gz', gzip(nifti2(raw)), base);
  const c = Math.cos(0.3);
  const s = Math.sin(0.3);
  const oblique: Volume = {
    ...base,
    direction: [c, s, 0, -s * 0.8, c * 0.8, 0.6, s * 0.6, -c * 0.6, 0.8] as Direction,
  };
  add('unusual-oblique.nii.gz', gzip(encodeNifti(oblique)), oblique);
  add(
    'unusual-qform-only.nii',
    patched(encodeNifti(oblique), (v) => v.setInt16(254, 0, true)),
    oblique,
  );
  return cases;
}

// ---------------------------------------------------------------- DICOM

const SERIES_UID = '1.2.826.0.1.3680043.8.498.1616';
const TS = {
  rle: '1.2.840.10008.1.2.5',
  j2k: '1.2.840.10008.1.2.4.90',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpegLossless: '1.2.840.10008.1.2.4.70',
  jpegLs: '1.2.840.10008.1.2.4.80',
  deflate: '1.2.840.10008.1.2.1.99',
  bigEndian: '1.2.840.10008.1.2.2',
  implicit: '1.2.840.10008.1.2',
  unknown: '1.2.3.4.5.6',
};

function sliceSpecs(base: Volume): SliceSpec[] {
  const [ni, nj, nk] = base.dims;
  const specs: SliceSpec[] = [];
  for (let k = 0; k < nk; k++) {
    specs.push({
      seriesUid: SERIES_UID,
      instance: k + 1,
      rows: nj,
      columns: ni,
      pixels: Int16Array.from(base.data.subarray(k * ni * nj, (k + 1) * ni * nj)),
      positionMm: [-100, -80, 2.5 * k],
      orientation: [1, 0, 0, 0, 1, 0],
      pixelSpacingMm: [0.9, 0.7],
    });
  }
  return specs;
}

/** Where the PixelData element starts in an encoded slice (its tag bytes e0 7f 10 00). */
function pixelTagAt(bytes: Uint8Array): number {
  for (let p = bytes.length - 4; p >= 132; p--)
    if (bytes[p] === 0xe0 && bytes[p + 1] === 0x7f && bytes[p + 2] === 0x10 && bytes[p + 3] === 0x00) return p;
  throw new Error('test corpus: no PixelData tag');
}

function dicomCases(base: Volume, full: boolean): FuzzCase[] {
  const cases: FuzzCase[] = [];
  const specs = sliceSpecs(base);
  const files = (list: SliceSpec[]) =>
    list.map((s, k) => ({ name: `IM${String(k).padStart(4, '0')}.dcm`, bytes: encodeCtSlice(s) }));
  let n = 0;
  const add = (name: string, list: { name: string; bytes: Uint8Array }[], exact?: Volume): void => {
    const inSlice = exact !== undefined || n++ % 4 === 0;
    if (inSlice || full) cases.push({ input: { kind: 'dicom', name, files: list }, exact, inSlice });
  };
  /** The series with slice 3 (or every slice) changed. */
  const withSpec = (name: string, edit: Partial<SliceSpec>): void => {
    add(`${name}-one`, files(specs.map((s, k) => (k === 3 ? { ...s, ...edit } : s))));
    add(`${name}-all`, files(specs.map((s) => ({ ...s, ...edit }))));
  };

  // The DICOM reader's grid is the same as the NIfTI one here, so the intact series loads as the phantom
  // (LPS origin from ImagePositionPatient, spacing from PixelSpacing and the slice step).
  const asRead: Volume = {
    ...base,
    spacingMm: [0.7, 0.9, 2.5],
    originMm: [-100, -80, 0],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  };
  add('intact', files(specs), asRead);
  add('with-junk-dicm-file', [...files(specs), { name: 'zz-junk', bytes: junkWithDicm() }], asRead);
  add(
    'with-readme',
    [...files(specs), { name: 'README.txt', bytes: new TextEncoder().encode('not an image') }],
    asRead,
  );
  add(
    'files-named-backwards',
    files(specs).map((f, k) => ({ ...f, name: `X${String(99 - k)}.dcm` })),
    asRead,
  );

  for (const rows of [0, 1, 65535]) withSpec(`rows=${rows}`, { rows });
  for (const columns of [0, 3, 65535]) withSpec(`columns=${columns}`, { columns });
  for (const sp of [
    [NaN, 0.7],
    [0, 0.7],
    [-1, -1],
    [1e30, 1e30],
    [1e-30, 1e-30],
  ] as [number, number][])
    withSpec(`spacing=${sp.join(',')}`, { pixelSpacingMm: sp });
  for (const pos of [
    [NaN, 0, 0],
    [1e30, 0, 0],
    [0, 0, Infinity],
  ])
    withSpec(`position=${pos.join(',')}`, { positionMm: pos });
  for (const o of [
    [0, 0, 0, 0, 0, 0],
    [1, 0, 0, 1, 0, 0],
    [NaN, 0, 0, 0, 1, 0],
    [1, 0, 0, 0, 1],
  ])
    withSpec(`orientation=${o.join(',')}`, { orientation: o });
  for (const slope of [0, NaN, -1, 1e38, 0.5, 1e5]) withSpec(`slope=${slope}`, { slope });
  for (const intercept of [NaN, 1e38, -40000, 1e-3]) withSpec(`intercept=${intercept}`, { intercept });
  for (const [name, uid] of Object.entries(TS))
    withSpec(`transfer-syntax=${name}-on-native-pixels`, { transferSyntax: uid });

  const rng = new Rng(1616);
  const compressed = [TS.rle, TS.j2k, TS.jpegBaseline, TS.jpegLossless, TS.jpegLs];
  const starts: Record<string, number[]> = {
    [TS.rle]: [1, 0, 0, 0, 64, 0, 0, 0],
    [TS.j2k]: [0xff, 0x4f, 0xff, 0x51],
    [TS.jpegBaseline]: [0xff, 0xd8, 0xff, 0xdb],
    [TS.jpegLossless]: [0xff, 0xd8, 0xff, 0xc3],
    [TS.jpegLs]: [0xff, 0xd8, 0xff, 0xf7],
  };
  for (const ts of compressed) {
    for (const len of [0, 1, 100, 1000]) {
      const garbage = Uint8Array.from({ length: len }, () => rng.int(256));
      withSpec(`corrupt-${ts}-garbage-${len}`, { transferSyntax: ts, fragments: [garbage] });
      const headed = Uint8Array.from([...starts[ts], ...garbage]);
      withSpec(`corrupt-${ts}-marker-then-garbage-${len}`, { transferSyntax: ts, fragments: [headed] });
    }
    withSpec(`corrupt-${ts}-no-fragments`, { transferSyntax: ts, fragments: [] });
  }

  const intact = files(specs);
  const victim = intact[3].bytes;
  const pixelAt = pixelTagAt(victim);
  add(
    'pixeldata-missing',
    intact.map((f, k) => (k === 3 ? { ...f, bytes: victim.subarray(0, pixelAt) } : f)),
  );
  for (const cut of [1, 2, 100, 480, 959])
    add(
      `pixeldata-short-${cut}`,
      intact.map((f, k) => (k === 3 ? { ...f, bytes: victim.subarray(0, victim.length - cut) } : f)),
    );
  add(
    'gap',
    intact.filter((_, k) => k !== 3),
  );
  add('duplicate-position', files(specs.map((s, k) => (k === 4 ? { ...s, positionMm: specs[3].positionMm } : s))));
  add('mixed-sizes', files(specs.map((s, k) => (k === 3 ? { ...s, rows: 10, pixels: s.pixels.subarray(0, 240) } : s))));
  add('two-series', files(specs.map((s, k) => (k >= 4 ? { ...s, seriesUid: `${SERIES_UID}.2` } : s))));
  add('one-slice', intact.slice(0, 1));
  add('empty-folder', []);
  const truncations = full ? 120 : 24;
  for (let t = 0; t < truncations; t++) {
    const at = rng.int(victim.length);
    add(
      `slice-truncated-${at}`,
      intact.map((f, k) => (k === 3 ? { ...f, bytes: victim.subarray(0, at) } : f)),
    );
  }
  const flipCases = full ? 600 : 100;
  for (let f = 0; f < flipCases; f++) {
    const out = victim.slice();
    const k = 1 + rng.int(6);
    for (let p = 0; p < k; p++) out[128 + rng.int(pixelAt + 8 - 128)] ^= 1 + rng.int(255);
    add(
      `slice-header-flips-${f}-${k}`,
      intact.map((g, j) => (j === 3 ? { ...g, bytes: out } : g)),
    );
  }
  return cases;
}

function junkWithDicm(): Uint8Array {
  const bytes = new Uint8Array(600).fill(0x41);
  bytes.set([0x44, 0x49, 0x43, 0x4d], 128);
  return bytes;
}

/** The whole corpus (`full`) or the slice `npm test` runs. Same bytes every time. */
export function fuzzCorpus(full: boolean): FuzzCase[] {
  const base = basePhantom();
  return [...niftiCases(base, full), ...dicomCases(base, full)];
}
