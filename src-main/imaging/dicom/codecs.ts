// Pixel data of one DICOM frame as little-endian sample bytes, for every transfer syntax we support.
import type { DataSet } from 'dicom-parser';
import dicomParser from 'dicom-parser';
import { InputError } from '../volume';
import type { DicomSliceInfo } from './header';
import { TRANSFER_SYNTAX_NAMES, TS } from './header';
import { decodeRle } from './rle';
import { CodecError, type DecodePool, type DecodedFrame, type WasmCodec } from './decode-pool';

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}
/** The shape shared by the Cornerstone Emscripten decoders (OpenJPEG, CharLS, libjpeg-turbo). */
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getDecodedBuffer(): Uint8Array;
  getFrameInfo(): FrameInfo;
  delete(): void;
}
type DecoderClass = new () => WasmDecoder;

// OpenJPEG logs every header it reads through Emscripten's print; keep stdout clean for the CLI.
/**
 * Module options for a codec's emscripten factory: a fresh object per load, since the factory builds
 * the module on the object it is given, and a second load (after a WebAssembly trap) into the same
 * object fails with "Cannot register public name ... twice".
 */
const quiet = (): { print: () => void; printErr: () => void } => ({
  print: () => undefined,
  printErr: () => undefined,
});

// Each codec loads (compiles its WebAssembly) once, on first use.
const loaded = new Map<string, Promise<DecoderClass>>();

function loadCodec(name: WasmCodec): Promise<DecoderClass> {
  let p = loaded.get(name);
  if (!p) {
    p = (async () => {
      if (name === 'openjpeg') {
        const m = (await (await import('@cornerstonejs/codec-openjpeg/decodewasmjs')).default(quiet())) as {
          J2KDecoder: DecoderClass;
        };
        return m.J2KDecoder;
      }
      if (name === 'charls') {
        const m = (await (await import('@cornerstonejs/codec-charls/decodewasmjs')).default(quiet())) as {
          JpegLSDecoder: DecoderClass;
        };
        return m.JpegLSDecoder;
      }
      const m = (await (await import('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs')).default(quiet())) as {
        JPEGDecoder: DecoderClass;
      };
      return m.JPEGDecoder;
    })();
    loaded.set(name, p);
  }
  return p;
}

/** Transfer syntaxes whose frames go to a WebAssembly codec (worth a worker pool for big series). */
export const WASM_TRANSFER_SYNTAXES = new Set<string>([
  TS.jpegBaseline,
  TS.jpegLsLossless,
  TS.jpegLsNearLossless,
  TS.j2kLossless,
  TS.j2k,
]);

/** Transfer syntaxes readVolume accepts (others are refused by name before any decoding). */
export const SUPPORTED_TRANSFER_SYNTAXES = new Set<string>([
  TS.implicitLE,
  TS.explicitLE,
  TS.deflateLE,
  TS.explicitBE,
  TS.jpegBaseline,
  TS.jpegLossless,
  TS.jpegLosslessSV1,
  TS.jpegLsLossless,
  TS.jpegLsNearLossless,
  TS.j2kLossless,
  TS.j2k,
  TS.rle,
]);

export function transferSyntaxName(uid: string): string {
  return TRANSFER_SYNTAX_NAMES[uid] ? `${TRANSFER_SYNTAX_NAMES[uid]} (${uid})` : uid;
}

function encapsulatedFrame(ds: DataSet, info: DicomSliceInfo): Uint8Array {
  const el = ds.elements.x7fe00010;
  if (!el.encapsulatedPixelData || !el.fragments || el.fragments.length === 0) {
    throw new InputError(
      info.file,
      `pixel data for ${transferSyntaxName(info.transferSyntax)} is not encapsulated in fragments`,
    );
  }
  try {
    return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, el.fragments.length) as Uint8Array;
  } catch (err) {
    throw new InputError(
      info.file,
      `compressed pixel data is malformed (${String(err instanceof Error ? err.message : err)})`,
    );
  }
}

/** Decodes in this thread; returns the frame as the codec reports it (checked by the caller). */
async function decodeHere(name: WasmCodec, encoded: Uint8Array, info: DicomSliceInfo): Promise<DecodedFrame> {
  const Decoder = await loadCodec(name);
  const decoder = new Decoder();
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    try {
      decoder.decode();
    } catch (err) {
      // A trap inside WebAssembly can leave the module's memory inconsistent: load a fresh one next time.
      loaded.delete(name);
      throw new InputError(
        info.file,
        `${transferSyntaxName(info.transferSyntax)} pixel data could not be decoded (${String(err)})`,
      );
    }
    const fi = decoder.getFrameInfo();
    // Copy out of WebAssembly memory before delete().
    return {
      width: fi.width,
      height: fi.height,
      componentCount: fi.componentCount,
      bytes: decoder.getDecodedBuffer().slice(),
    };
  } finally {
    try {
      decoder.delete();
    } catch {
      loaded.delete(name); // the module is broken; it is reloaded on next use
    }
  }
}

async function decodeWasm(
  name: WasmCodec,
  encoded: Uint8Array,
  info: DicomSliceInfo,
  bytesPerSample: number,
  pool?: DecodePool,
): Promise<Uint8Array> {
  let frame: DecodedFrame | null = null;
  if (pool) {
    try {
      frame = await pool.decode(name, encoded);
    } catch (err) {
      if (err instanceof CodecError) {
        throw new InputError(
          info.file,
          `${transferSyntaxName(info.transferSyntax)} pixel data could not be decoded (${err.message})`,
        );
      }
      frame = null; // the pool itself failed (worker could not start): decode here instead
    }
  }
  frame ??= await decodeHere(name, encoded, info);
  if (frame.width !== info.columns || frame.height !== info.rows || frame.componentCount !== 1) {
    throw new InputError(
      info.file,
      `compressed image is ${frame.width}×${frame.height}×${frame.componentCount} but the header says ${info.columns}×${info.rows}×1`,
    );
  }
  const need = info.rows * info.columns * bytesPerSample;
  if (frame.bytes.length < need)
    throw new InputError(info.file, `decoded image holds ${frame.bytes.length} bytes, ${need} expected`);
  return frame.bytes.subarray(0, need);
}

async function decodeJpegLossless(
  encoded: Uint8Array,
  info: DicomSliceInfo,
  bytesPerSample: number,
): Promise<Uint8Array> {
  const { Decoder } = await import('jpeg-lossless-decoder-js');
  const decoder = new Decoder();
  let out: Uint8Array | Uint16Array;
  try {
    const copy = encoded.slice(); // the decoder wants its own ArrayBuffer
    out = decoder.decode(copy.buffer, 0, copy.length, bytesPerSample);
  } catch (err) {
    throw new InputError(
      info.file,
      `JPEG lossless pixel data could not be decoded (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (decoder.numComp !== 1 || decoder.xDim !== info.columns || decoder.yDim !== info.rows) {
    throw new InputError(
      info.file,
      `compressed image is ${decoder.xDim}×${decoder.yDim}×${decoder.numComp} but the header says ${info.columns}×${info.rows}×1`,
    );
  }
  return new Uint8Array(out.buffer, out.byteOffset, info.rows * info.columns * bytesPerSample);
}

/**
 * The frame's samples as little-endian bytes (rows × columns × bitsAllocated/8), whatever the
 * transfer syntax. Bit masking/sign extension to BitsStored is the caller's job.
 */
export async function frameBytes(ds: DataSet, info: DicomSliceInfo, pool?: DecodePool): Promise<Uint8Array> {
  const ts = info.transferSyntax;
  const bytesPerSample = info.bitsAllocated / 8;
  const need = info.rows * info.columns * bytesPerSample;
  const el = ds.elements.x7fe00010;
  if (!el) throw new InputError(info.file, 'has no pixel data (7FE0,0010)');
  if (ts === TS.implicitLE || ts === TS.explicitLE || ts === TS.deflateLE || ts === TS.explicitBE) {
    if (el.encapsulatedPixelData)
      throw new InputError(info.file, 'pixel data is encapsulated although the transfer syntax is uncompressed');
    if (el.dataOffset + need > ds.byteArray.length || el.length < need) {
      throw new InputError(
        info.file,
        `pixel data holds ${Math.min(el.length, ds.byteArray.length - el.dataOffset)} bytes, ${need} expected (truncated)`,
      );
    }
    const raw = ds.byteArray.subarray(el.dataOffset, el.dataOffset + need);
    if (ts !== TS.explicitBE || bytesPerSample === 1) return raw;
    const swapped = new Uint8Array(need);
    for (let p = 0; p < need; p += bytesPerSample) {
      for (let b = 0; b < bytesPerSample; b++) swapped[p + b] = raw[p + bytesPerSample - 1 - b];
    }
    return swapped;
  }
  if (!SUPPORTED_TRANSFER_SYNTAXES.has(ts)) {
    throw new InputError(info.file, `transfer syntax ${transferSyntaxName(ts)} is not supported`);
  }
  const encoded = encapsulatedFrame(ds, info);
  switch (ts) {
    case TS.rle:
      return decodeRle(encoded, info.rows * info.columns, bytesPerSample, info.file);
    case TS.jpegLossless:
    case TS.jpegLosslessSV1:
      return decodeJpegLossless(encoded, info, bytesPerSample);
    case TS.jpegLsLossless:
    case TS.jpegLsNearLossless:
      return decodeWasm('charls', encoded, info, bytesPerSample, pool);
    case TS.j2kLossless:
    case TS.j2k:
      return decodeWasm('openjpeg', encoded, info, bytesPerSample, pool);
    case TS.jpegBaseline:
      if (bytesPerSample !== 1)
        throw new InputError(info.file, `JPEG baseline with ${info.bitsAllocated}-bit samples is not valid DICOM`);
      return decodeWasm('libjpeg', encoded, info, bytesPerSample, pool);
    default:
      throw new InputError(info.file, `transfer syntax ${transferSyntaxName(ts)} is not supported`);
  }
}
