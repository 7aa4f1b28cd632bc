// NIfTI-1/2 reading (.nii, .nii.gz, either endianness, scl_slope/inter) and writing (.nii/.nii.gz) of Volumes.
import { constants as bufferConstants } from 'node:buffer';
import type { promises as fs } from 'node:fs';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { writeFileAtomic } from '../util/atomic';
import { openRegularFile } from './input-path';
import {
  BYTES_PER_VOXEL,
  NIFTI2_HEADER_BYTES,
  bestAffineRas,
  encodeNiftiHeader,
  isGzip,
  parseNiftiHeader,
  type NiftiHeader,
} from './nifti-header';
import type { Volume, VoxelArray, VoxelType } from './volume';
import {
  InputError,
  MAX_VOXELS,
  affineRas,
  allocVoxels,
  checkGeometry,
  geometryFromAffineRas,
  voxelCount,
  voxelTypeOf,
} from './volume';

/** Largest voxel payload we will allocate in one piece (Node's Buffer limit, at most 8 GiB). */
const MAX_VOXEL_BYTES = Math.min(bufferConstants.MAX_LENGTH, 8 * 1024 ** 3);
/** Bytes after the voxels we tolerate in a .nii.gz before calling it malformed. */
const TRAILING_SLACK_BYTES = 16 * 1024 * 1024;

/** Size in bytes of the voxel payload the header promises, after checking it is sane to allocate. */
function payloadBytes(h: NiftiHeader, file: string): number {
  const n = voxelCount(h.dims);
  if (n > MAX_VOXELS)
    throw new InputError(file, `${h.dims.join('×')} voxels is more than this app can hold (${MAX_VOXELS} at most)`);
  const bytes = n * BYTES_PER_VOXEL[h.voxelType];
  if (bytes > MAX_VOXEL_BYTES) throw new InputError(file, `${bytes} bytes of voxels would not fit in memory`);
  return bytes;
}

function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let p = 0; p + width <= bytes.length; p += width) {
    for (let a = p, b = p + width - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/**
 * Typed voxels from the raw payload: zero-copy when `raw` is exactly its own little-endian buffer,
 * else a copy. Either way the result owns its whole ArrayBuffer (callers may ship `data.buffer`).
 */
function typedVoxels(h: NiftiHeader, raw: Uint8Array): VoxelArray {
  const width = BYTES_PER_VOXEL[h.voxelType];
  const n = voxelCount(h.dims);
  let src = raw;
  if (!h.littleEndian || raw.byteOffset !== 0 || raw.byteLength !== raw.buffer.byteLength) {
    src = new Uint8Array(n * width);
    src.set(raw.subarray(0, n * width));
    if (!h.littleEndian) swapBytes(src, width);
  }
  const out = allocVoxelsView(h.voxelType, src.buffer as ArrayBuffer, src.byteOffset, n);
  return out;
}

function allocVoxelsView(type: VoxelType, buffer: ArrayBuffer, byteOffset: number, n: number): VoxelArray {
  switch (type) {
    case 'int8':
      return new Int8Array(buffer, byteOffset, n);
    case 'uint8':
      return new Uint8Array(buffer, byteOffset, n);
    case 'int16':
      return new Int16Array(buffer, byteOffset, n);
    case 'uint16':
      return new Uint16Array(buffer, byteOffset, n);
    case 'int32':
      return new Int32Array(buffer, byteOffset, n);
    case 'uint32':
      return new Uint32Array(buffer, byteOffset, n);
    case 'float32':
      return new Float32Array(buffer, byteOffset, n);
    case 'float64':
      return new Float64Array(buffer, byteOffset, n);
  }
}

/**
 * Applies value = raw * slope + inter. Integer slope/inter whose results fit int16/int32 keep an
 * integer type (CT stored as uint16 with intercept -1024 stays int16, half the memory of float32);
 * anything else becomes float32 (float64 input stays float64).
 */
export function applyScaling(raw: VoxelArray, slope: number, inter: number): VoxelArray {
  // nibabel: slope 0, NaN or infinite means "no scaling"; a NaN intercept counts as 0.
  if (!Number.isFinite(slope) || slope === 0) return raw;
  const b = Number.isFinite(inter) ? inter : 0;
  if (slope === 1 && b === 0) return raw;
  let type: VoxelType = raw instanceof Float64Array ? 'float64' : 'float32';
  if (Number.isInteger(slope) && Number.isInteger(b) && !(raw instanceof Float32Array || raw instanceof Float64Array)) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let p = 0; p < raw.length; p++) {
      const v = raw[p];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const a = lo * slope + b;
    const z = hi * slope + b;
    const min = Math.min(a, z);
    const max = Math.max(a, z);
    if (min >= -32768 && max <= 32767) type = 'int16';
    else if (min >= -(2 ** 31) && max < 2 ** 31) type = 'int32';
  }
  const out = allocVoxels(type, raw.length);
  for (let p = 0; p < raw.length; p++) out[p] = raw[p] * slope + b;
  return out;
}

/** CT values are stored as int16 by every scanner; scaled values beyond it are header damage. */
const HU_MIN = -32768;
const HU_MAX = 32767;

/**
 * Refuses infinite scl_slope / scl_inter (NaN and 0 keep their standard meaning, "no scaling") and
 * scaling that produces values that are not finite or leave the int16 range.
 */
function scaledVoxels(h: NiftiHeader, raw: VoxelArray, file: string): VoxelArray {
  for (const [field, x] of [
    ['scl_slope', h.sclSlope],
    ['scl_inter', h.sclInter],
  ] as const)
    if (x === Infinity || x === -Infinity) throw new InputError(file, `${field} is ${x}, which is not a finite number`);
  const data = applyScaling(raw, h.sclSlope, h.sclInter);
  if (data === raw) return data;
  for (let p = 0; p < data.length; p++) {
    const v = data[p];
    // A NaN stored in a float file stays a NaN (no data there); scaling must not make new ones.
    if (!(v >= HU_MIN && v <= HU_MAX) && !Number.isNaN(raw[p])) {
      throw new InputError(
        file,
        `scl_slope ${h.sclSlope} and scl_inter ${h.sclInter} turn voxel ${p} (${raw[p]}) into ${v}, ` +
          `outside the int16 range (${HU_MIN}..${HU_MAX}) CT values can take`,
      );
    }
  }
  return data;
}

function volumeFrom(h: NiftiHeader, raw: Uint8Array, file: string): Volume {
  const { affine } = bestAffineRas(h, file);
  const data = scaledVoxels(h, typedVoxels(h, raw), file);
  for (const x of affine)
    if (!Number.isFinite(x))
      throw new InputError(file, 'the affine (sform/qform) contains a value that is not a number');
  const geom = geometryFromAffineRas(affine);
  const vol: Volume = {
    data,
    dims: h.dims,
    ...geom,
    modality: 'CT',
    description: h.description || basename(file),
    source: file,
  };
  checkGeometry(file, vol);
  return vol;
}

/** Decompresses just enough of a gzip stream to read the header, whatever the total size. */
function gunzipHead(bytes: Uint8Array, file: string): Uint8Array {
  try {
    return zlib.gunzipSync(bytes.subarray(0, Math.min(bytes.length, 4096)), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
  } catch (err) {
    throw new InputError(file, `is not a readable gzip stream (${(err as Error).message})`);
  }
}

function gunzipAll(bytes: Uint8Array, file: string, expectedBytes: number): Uint8Array {
  try {
    // Big output chunks: with the default 16 KiB, Node gathers thousands of pieces (several times slower).
    return zlib.gunzipSync(bytes, {
      maxOutputLength: Math.min(expectedBytes + TRAILING_SLACK_BYTES, bufferConstants.MAX_LENGTH),
      chunkSize: Math.max(64 * 1024, Math.min(expectedBytes, 32 * 1024 * 1024)),
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new InputError(file, 'decompresses to far more data than its header describes');
    }
    if (/unexpected end/i.test(e.message)) throw new InputError(file, 'gzip stream ends early (truncated file)');
    throw new InputError(file, `gzip data is corrupt (${e.message})`);
  }
}

/** Decodes a whole .nii or .nii.gz held in memory (gzip detected from the bytes, not the name). */
export function decodeNifti(bytes: Uint8Array, fileName: string): Volume {
  if (isGzip(bytes)) {
    const head = parseNiftiHeader(gunzipHead(bytes, fileName), fileName);
    const need = head.voxOffset + payloadBytes(head, fileName);
    const all = gunzipAll(bytes, fileName, need);
    if (all.length < need)
      throw new InputError(
        fileName,
        `holds ${all.length} bytes after decompression but the header needs ${need} (truncated)`,
      );
    return volumeFrom(head, all.subarray(head.voxOffset, need), fileName);
  }
  const h = parseNiftiHeader(bytes, fileName);
  const need = h.voxOffset + payloadBytes(h, fileName);
  if (bytes.length < need)
    throw new InputError(fileName, `is ${bytes.length} bytes but the header needs ${need} (truncated)`);
  return volumeFrom(h, bytes.subarray(h.voxOffset, need), fileName);
}

/** Streams a .nii.gz: parses the header from the first chunks, then fills one exact-size buffer. */
async function readGzipNifti(path: string, handle: fs.FileHandle): Promise<Volume> {
  const gunzip = zlib.createGunzip({ chunkSize: 1 << 20 });
  // The already-checked descriptor, not the path again: a path swapped for a FIFO cannot hang us.
  const source = handle.createReadStream({ start: 0, highWaterMark: 1 << 20, autoClose: false });
  const stream = source.pipe(gunzip);
  let head: Uint8Array = new Uint8Array(0);
  let header: NiftiHeader | null = null;
  let payload: Uint8Array | null = null;
  let filled = 0;
  let start = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let piece: Uint8Array = chunk;
      if (!header) {
        const joined = new Uint8Array(head.length + piece.length);
        joined.set(head);
        joined.set(piece, head.length);
        head = joined;
        if (head.length < NIFTI2_HEADER_BYTES && head.length < 348) continue;
        if (head.length < NIFTI2_HEADER_BYTES) {
          // Might be NIfTI-1 (348 bytes): parse once we have its size field's promised bytes.
          const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
          const size = v.getInt32(0, true);
          const sizeBe = v.getInt32(0, false);
          if (size !== 348 && sizeBe !== 348) continue;
        }
        header = parseNiftiHeader(head, path);
        const bytes = payloadBytes(header, path);
        payload = new Uint8Array(bytes);
        start = header.voxOffset;
        piece = head;
      }
      // Copy the part of this piece that lies inside [voxOffset, voxOffset + payload) of the stream.
      if (payload) {
        const skip = Math.max(0, start);
        if (skip >= piece.length) {
          start -= piece.length;
          continue;
        }
        start = 0;
        const take = Math.min(piece.length - skip, payload.length - filled);
        payload.set(piece.subarray(skip, skip + take), filled);
        filled += take;
        if (filled === payload.length) break;
      }
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    const e = err as Error;
    if (/unexpected end/i.test(e.message)) throw new InputError(path, 'gzip stream ends early (truncated file)');
    throw new InputError(path, `gzip data is corrupt (${e.message})`);
  } finally {
    stream.destroy();
    source.destroy();
  }
  if (!header) {
    if (head.length >= 4) parseNiftiHeader(head, path); // reports wrong magic / truncated header precisely
    throw new InputError(path, 'file ends inside the NIfTI header (truncated)');
  }
  if (!payload || filled < payload.length) {
    throw new InputError(path, `ends after ${filled} of ${payload?.length ?? 0} voxel bytes (truncated)`);
  }
  return volumeFrom(header, payload, path);
}

/** Reads a .nii or .nii.gz from disk without ever holding more than the voxels plus one chunk. */
export async function readNifti(path: string): Promise<Volume> {
  const handle = await openRegularFile(path);
  try {
    const size = (await handle.stat()).size;
    const first = new Uint8Array(Math.min(size, NIFTI2_HEADER_BYTES + 4));
    await handle.read(first, 0, first.length, 0);
    if (isGzip(first)) return await readGzipNifti(path, handle);
    const h = parseNiftiHeader(first, path);
    const bytes = payloadBytes(h, path);
    if (size < h.voxOffset + bytes)
      throw new InputError(path, `is ${size} bytes but the header needs ${h.voxOffset + bytes} (truncated)`);
    const payload = new Uint8Array(bytes);
    let got = 0;
    while (got < bytes) {
      const { bytesRead } = await handle.read(payload, got, bytes - got, h.voxOffset + got);
      if (bytesRead === 0) throw new InputError(path, 'ended while reading voxels (truncated)');
      got += bytesRead;
    }
    return volumeFrom(h, payload, path);
  } finally {
    await handle.close();
  }
}

export interface EncodeNiftiOptions {
  /** gzip the output (what .nii.gz means); default false. */
  gzip?: boolean;
  /** zlib level 1–9; default 6. */
  level?: number;
}

/** Encodes a Volume as a little-endian NIfTI (sform and qform, RAS), voxels stored as they are. */
export function encodeNifti(v: Volume, opts: EncodeNiftiOptions = {}): Uint8Array {
  checkGeometry(v.source || 'volume', v);
  const header = encodeNiftiHeader({
    dims: v.dims,
    voxelType: voxelTypeOf(v.data),
    affineRas: affineRas(v),
    spacingMm: v.spacingMm,
    description: v.description,
  });
  const n = voxelCount(v.dims);
  if (v.data.length !== n) throw new Error(`volume has ${v.data.length} voxels but dims ${v.dims.join('×')}`);
  const body = new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength);
  if (!opts.gzip) {
    const out = new Uint8Array(header.length + body.length);
    out.set(header);
    out.set(body, header.length);
    return out;
  }
  // One copy of header+body is cheaper than the deflate itself; keeps encodeNifti synchronous.
  const level = opts.level ?? 6;
  const gz = zlib.gzipSync(Buffer.concat([header, body]), { level });
  return new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength);
}

const gzipAsync = promisify(zlib.gzip);

/**
 * Writes a Volume atomically; gzip when the path ends in .gz. Compression runs on libuv's thread
 * pool, so a big CT (seconds of deflate) does not block the event loop (Electron main, web shell).
 */
export async function writeNifti(path: string, v: Volume): Promise<void> {
  const raw = encodeNifti(v, { gzip: false });
  const bytes = path.toLowerCase().endsWith('.gz') ? await gzipAsync(raw, { level: 6 }) : raw;
  await writeFileAtomic(path, bytes);
}
