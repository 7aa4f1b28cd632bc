// Turns one DICOM series into a Volume: validates, sorts along the slice normal, decodes and rescales.
import type { Direction, Vec3, Volume, VoxelArray, VoxelType } from '../volume';
import { openRegularFile } from '../input-path';
import { InputError, MAX_VOXELS, allocVoxels, checkGeometry } from '../volume';
import { frameBytes, SUPPORTED_TRANSFER_SYNTAXES, transferSyntaxName, WASM_TRANSFER_SYNTAXES } from './codecs';
import { DecodePool, defaultWorkerCount } from './decode-pool';
import type { DicomSliceInfo } from './header';
import { isLocalizer, MAX_HEADER_BYTES, parseDicom } from './header';
import type { DicomSeries } from './scan';

export interface AssembleOptions {
  signal?: AbortSignal;
  /** Called with (slices decoded, total slices). */
  onProgress?: (done: number, total: number) => void;
  /** Non-fatal notes, e.g. localizer images that were skipped. */
  onWarning?: (message: string) => void;
  /** Worker threads for compressed (WebAssembly-codec) series; 0 decodes in this thread. Default: cores − 1, at most 8. */
  workers?: number;
}

/** Orientation cosines may differ by string rounding; more than this is a different orientation. */
const ORIENTATION_TOLERANCE = 1e-3;
/** Slice steps may jitter by this much (mm) or this fraction of the median step. */
const STEP_TOLERANCE_MM = 0.02;
const STEP_TOLERANCE_FRACTION = 0.01;
/** Slices in flight without workers (file reads overlap decoding). */
const READ_AHEAD = 4;
/** Below this many compressed slices, starting workers (~0.2 s each, codec compile) does not pay. */
const MIN_SLICES_FOR_WORKERS = 12;

/**
 * Runs task(0..n-1) with at most `limit` running at once. On the first failure (or abort) it stops
 * starting tasks, waits for the running ones, and rethrows that first error.
 */
async function forEachLimited(
  n: number,
  limit: number,
  signal: AbortSignal | undefined,
  task: (k: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: unknown = null;
  const lane = async (): Promise<void> => {
    while (failure === null && next < n) {
      const k = next++;
      try {
        signal?.throwIfAborted();
        await task(k);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, lane));
  if (failure !== null) throw failure;
}

const dot = (a: number[], b: number[]): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: number[], b: number[]): Vec3 => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];
const fmt = (x: number): string => (Math.round(x * 100) / 100).toString();

function same(a: number[], b: number[], tol: number): boolean {
  return a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) <= tol);
}

/** Checks everything that can be checked from headers; returns the slices sorted along the normal. */
function validate(
  series: DicomSeries,
  folder: string,
  warn: (m: string) => void,
): { slices: DicomSliceInfo[]; normal: Vec3; positions: number[] } {
  const localizers = series.files.filter(isLocalizer);
  let slices = series.files.filter((s) => !isLocalizer(s));
  if (localizers.length > 0) warn(`skipped ${localizers.length} localizer image(s) in series ${series.uid}`);
  if (slices.length === 0) throw new InputError(folder, `series ${series.uid} holds only localizer images`);
  const first = slices[0];
  for (const s of slices) {
    if (!s.hasPixelData) throw new InputError(s.file, 'has no pixel data');
    if (s.numberOfFrames > 1)
      throw new InputError(
        s.file,
        `is a multi-frame image (${s.numberOfFrames} frames); only single-frame CT series are supported`,
      );
    if (s.samplesPerPixel !== 1)
      throw new InputError(s.file, `has ${s.samplesPerPixel} samples per pixel (colour); CT must be greyscale`);
    if (![8, 16, 32].includes(s.bitsAllocated) || s.bitsStored < 1 || s.bitsStored > s.bitsAllocated) {
      throw new InputError(s.file, `has ${s.bitsStored} of ${s.bitsAllocated} bits per pixel, which is not supported`);
    }
    if (!SUPPORTED_TRANSFER_SYNTAXES.has(s.transferSyntax)) {
      throw new InputError(s.file, `transfer syntax ${transferSyntaxName(s.transferSyntax)} is not supported`);
    }
    if (s.rows !== first.rows || s.columns !== first.columns) {
      throw new InputError(
        s.file,
        `is ${s.columns}×${s.rows} pixels but ${first.file} is ${first.columns}×${first.rows}`,
      );
    }
    if (s.bitsAllocated !== first.bitsAllocated || s.pixelRepresentation !== first.pixelRepresentation) {
      throw new InputError(s.file, 'stores pixels in a different format from the rest of its series');
    }
    if (!s.orientation || s.orientation.length !== 6 || !s.orientation.every(Number.isFinite)) {
      throw new InputError(s.file, 'has no usable Image Orientation (Patient)');
    }
    if (!s.positionMm || s.positionMm.length !== 3 || !s.positionMm.every(Number.isFinite)) {
      throw new InputError(s.file, 'has no usable Image Position (Patient)');
    }
    if (
      !s.pixelSpacingMm ||
      s.pixelSpacingMm.length !== 2 ||
      !s.pixelSpacingMm.every((x) => Number.isFinite(x) && x > 0)
    ) {
      throw new InputError(
        s.file,
        `pixel spacing ${s.pixelSpacingMm?.join('\\') ?? '(missing)'} is missing, zero or not a number`,
      );
    }
    if (!same(s.pixelSpacingMm, first.pixelSpacingMm!, 1e-4)) {
      throw new InputError(
        s.file,
        `pixel spacing ${s.pixelSpacingMm.join('\\')} differs from ${first.pixelSpacingMm!.join('\\')} in the rest of the series`,
      );
    }
  }
  const groups = new Map<string, number>();
  for (const s of slices) {
    const key = s.orientation!.map((x) => x.toFixed(2)).join(',');
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  const mixed = slices.find((s) => !same(s.orientation!, first.orientation!, ORIENTATION_TOLERANCE));
  if (mixed) {
    const desc = [...groups].map(([k, n]) => `${n} × [${k}]`).join(', ');
    throw new InputError(
      folder,
      `series ${series.uid} mixes image orientations (${desc}); choose a series with one orientation`,
    );
  }
  const row = first.orientation!.slice(0, 3);
  const col = first.orientation!.slice(3, 6);
  const normal = cross(row, col);
  const nlen = Math.hypot(...normal);
  if (nlen < 0.9 || Math.abs(dot(row, col)) > 1e-2)
    throw new InputError(first.file, 'Image Orientation (Patient) is not two perpendicular unit vectors');
  for (let c = 0; c < 3; c++) normal[c] /= nlen;
  slices = slices.slice().sort((a, b) => dot(a.positionMm!, normal) - dot(b.positionMm!, normal));
  const positions = slices.map((s) => dot(s.positionMm!, normal));
  checkSpacing(slices, positions, folder);
  return { slices, normal, positions };
}

function checkSpacing(slices: DicomSliceInfo[], positions: number[], folder: string): void {
  if (slices.length < 2) return;
  const steps = positions.slice(1).map((p, i) => p - positions[i]);
  for (let i = 0; i < steps.length; i++) {
    if (steps[i] < STEP_TOLERANCE_MM) {
      throw new InputError(
        folder,
        `${slices[i].file} and ${slices[i + 1].file} lie at the same position (${fmt(positions[i])} mm along the normal): duplicate slices or several acquisitions in one series`,
      );
    }
  }
  const median = steps.slice().sort((a, b) => a - b)[Math.floor(steps.length / 2)];
  const tol = Math.max(STEP_TOLERANCE_MM, STEP_TOLERANCE_FRACTION * median);
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    if (Math.abs(s - median) <= tol) continue;
    const ratio = s / median;
    if (ratio > 1.5 && Math.abs(ratio - Math.round(ratio)) * median <= tol) {
      throw new InputError(
        folder,
        `slices are missing: a gap of ${fmt(s)} mm (${Math.round(ratio) - 1} slice(s) of ${fmt(median)} mm) between ${fmt(positions[i])} and ${fmt(positions[i + 1])} mm`,
      );
    }
    throw new InputError(
      folder,
      `slice spacing is uneven: ${fmt(s)} mm between ${fmt(positions[i])} and ${fmt(positions[i + 1])} mm where the rest are ${fmt(median)} mm`,
    );
  }
  // Each step must also be the same vector (a steady gantry tilt is fine, a wobble is not).
  const a = slices[0].positionMm!;
  const b = slices[slices.length - 1].positionMm!;
  const mean = [0, 1, 2].map((c) => (b[c] - a[c]) / (slices.length - 1));
  for (let i = 1; i < slices.length; i++) {
    const p = slices[i].positionMm!;
    const q = slices[i - 1].positionMm!;
    const off = Math.hypot(p[0] - q[0] - mean[0], p[1] - q[1] - mean[1], p[2] - q[2] - mean[2]);
    if (off > tol)
      throw new InputError(
        slices[i].file,
        `is displaced ${fmt(off)} mm sideways from the line through the other slices`,
      );
  }
}

function rawTypeOf(s: DicomSliceInfo): VoxelType {
  const signed = s.pixelRepresentation === 1;
  if (s.bitsAllocated === 8) return signed ? 'int8' : 'uint8';
  if (s.bitsAllocated === 16) return signed ? 'int16' : 'uint16';
  return signed ? 'int32' : 'uint32';
}

/** Copies one frame's LE sample bytes into `raw` at `offset`, masking to BitsStored and sign-extending. */
function storeFrame(bytes: Uint8Array, raw: VoxelArray, offset: number, s: DicomSliceInfo): void {
  const n = s.rows * s.columns;
  const bps = s.bitsAllocated / 8;
  new Uint8Array(raw.buffer, raw.byteOffset + offset * bps, n * bps).set(bytes.subarray(0, n * bps));
  if (s.bitsStored === s.bitsAllocated) return;
  const mask = 2 ** s.bitsStored - 1;
  const sign = 2 ** (s.bitsStored - 1);
  const signed = s.pixelRepresentation === 1;
  for (let p = offset; p < offset + n; p++) {
    let v = raw[p] & mask;
    if (v < 0) v += 2 ** 32; // & yields int32; bring 32-bit masks back to unsigned
    if (signed && v >= sign) v -= 2 * sign;
    raw[p] = v;
  }
}

function fits(type: 'int16' | 'int32', lo: number, hi: number): boolean {
  return type === 'int16' ? lo >= -32768 && hi <= 32767 : lo >= -(2 ** 31) && hi < 2 ** 31;
}

/** Applies each slice's RescaleSlope/Intercept, keeping an integer type when the result is whole. */
function rescale(raw: VoxelArray, slices: DicomSliceInfo[], sliceVoxels: number): VoxelArray {
  const identity = slices.every((s) => s.rescaleSlope === 1 && s.rescaleIntercept === 0);
  if (identity) return raw;
  let lo = Infinity;
  let hi = -Infinity;
  let whole = true;
  slices.forEach((s, k) => {
    let a = Infinity;
    let b = -Infinity;
    for (let p = k * sliceVoxels; p < (k + 1) * sliceVoxels; p++) {
      const v = raw[p];
      if (v < a) a = v;
      if (v > b) b = v;
    }
    const x = a * s.rescaleSlope + s.rescaleIntercept;
    const y = b * s.rescaleSlope + s.rescaleIntercept;
    // As float32 (the widest type kept): a product beyond it would become an infinity in the volume.
    const xf = Math.fround(x);
    const yf = Math.fround(y);
    const ct = s.modality === 'CT';
    if (!Number.isFinite(xf) || !Number.isFinite(yf) || (ct && (Math.min(x, y) < -32768 || Math.max(x, y) > 32767)))
      throw new InputError(
        s.file,
        `RescaleSlope ${s.rescaleSlope} and RescaleIntercept ${s.rescaleIntercept} turn the stored values ` +
          `${a}..${b} into ${Math.min(x, y)}..${Math.max(x, y)}, outside the ${ct ? 'int16 range (-32768..32767) CT values can take' : 'range a float32 can hold'}`,
      );
    lo = Math.min(lo, x, y);
    hi = Math.max(hi, x, y);
    if (!Number.isInteger(s.rescaleSlope) || !Number.isInteger(s.rescaleIntercept)) whole = false;
  });
  const type: VoxelType =
    whole && fits('int16', lo, hi) ? 'int16' : whole && fits('int32', lo, hi) ? 'int32' : 'float32';
  const width = type === 'int16' ? 2 : 4;
  // Same width (uint16 → int16, the usual CT case): convert in place, each voxel read before written.
  const out =
    width === raw.BYTES_PER_ELEMENT
      ? type === 'int16'
        ? new Int16Array(raw.buffer, raw.byteOffset, raw.length)
        : type === 'int32'
          ? new Int32Array(raw.buffer, raw.byteOffset, raw.length)
          : new Float32Array(raw.buffer, raw.byteOffset, raw.length)
      : allocVoxels(type, raw.length);
  slices.forEach((s, k) => {
    const m = s.rescaleSlope;
    const c = s.rescaleIntercept;
    for (let p = k * sliceVoxels; p < (k + 1) * sliceVoxels; p++) out[p] = raw[p] * m + c;
  });
  return out;
}

/** Builds the Volume for one series (see validate for what is refused). */
export async function assembleSeries(series: DicomSeries, folder: string, opts: AssembleOptions = {}): Promise<Volume> {
  const warn = opts.onWarning ?? (() => undefined);
  const { slices, normal } = validate(series, folder, warn);
  const first = slices[0];
  const dims: Vec3 = [first.columns, first.rows, slices.length];
  const sliceVoxels = first.columns * first.rows;
  if (sliceVoxels * slices.length > MAX_VOXELS)
    throw new InputError(folder, `${dims.join('×')} voxels is more than this app can hold`);
  const row = first.orientation!.slice(0, 3);
  const col = first.orientation!.slice(3, 6);
  let kDir: number[] = normal;
  let kSpacing = first.sliceThicknessMm ?? 1;
  if (slices.length > 1) {
    // k axis from first to last position: exact for a gantry tilt, the normal otherwise.
    const a = first.positionMm!;
    const b = slices[slices.length - 1].positionMm!;
    const step = [0, 1, 2].map((c) => (b[c] - a[c]) / (slices.length - 1));
    kSpacing = Math.hypot(step[0], step[1], step[2]);
    kDir = step.map((x) => x / kSpacing);
  }
  const direction = [...row, ...col, ...kDir] as Direction;
  const geom = {
    dims,
    spacingMm: [first.pixelSpacingMm![1], first.pixelSpacingMm![0], kSpacing] as Vec3,
    originMm: first.positionMm!.slice(0, 3) as Vec3,
    direction,
  };
  checkGeometry(folder, geom);

  const raw = allocVoxels(rawTypeOf(first), sliceVoxels * slices.length);
  const decodeSlice = async (k: number, pool?: DecodePool): Promise<void> => {
    let bytes: Uint8Array;
    try {
      // One frame plus its header: a file far bigger than that is not what its header says.
      const limit = sliceVoxels * (first.bitsAllocated / 8) * 2 + MAX_HEADER_BYTES;
      const handle = await openRegularFile(slices[k].file);
      let b: Buffer;
      try {
        const size = (await handle.stat()).size;
        if (size > limit) {
          throw new InputError(
            slices[k].file,
            `is ${size} bytes, far more than one ${first.columns}×${first.rows} frame`,
          );
        }
        b = await handle.readFile();
      } finally {
        await handle.close();
      }
      bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError(
        slices[k].file,
        `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
    const ds = parseDicom(bytes, slices[k].file);
    storeFrame(await frameBytes(ds, slices[k], pool), raw, k * sliceVoxels, slices[k]);
  };
  // Compressed series big enough to repay starting workers decode in parallel; others overlap I/O only.
  const workers = opts.workers ?? defaultWorkerCount();
  const compressed = slices.filter((s) => WASM_TRANSFER_SYNTAXES.has(s.transferSyntax)).length;
  let pool: DecodePool | undefined;
  if (workers > 0 && compressed > 0 && (opts.workers !== undefined || compressed >= MIN_SLICES_FOR_WORKERS)) {
    try {
      pool = new DecodePool(workers);
    } catch {
      pool = undefined; // no worker threads here: decode in this thread
    }
  }
  try {
    let done = 0;
    await forEachLimited(slices.length, pool ? pool.size * 2 + 2 : READ_AHEAD, opts.signal, async (k) => {
      await decodeSlice(k, pool);
      opts.onProgress?.(++done, slices.length);
    });
  } finally {
    await pool?.close();
  }
  const data = rescale(raw, slices, sliceVoxels);
  return {
    data,
    ...geom,
    modality: first.modality || 'CT',
    description: first.seriesDescription || `DICOM series ${series.uid}`,
    source: folder,
  };
}
