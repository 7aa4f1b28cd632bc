// safetensors read/write: the weight-file format shared with PyTorch (f32 written; f32/f64/f16/bf16 read).
//
// Layout: u64 little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, then
// the raw little-endian tensor bytes. Everything is widened to Float32Array on read except F64, which
// stays Float64Array so float64 goldens keep their precision.
import { promises as fs } from 'node:fs';
import { InputError } from '../../imaging/volume';
import { writeFileAtomic } from '../../util/atomic';

export interface NamedTensor {
  shape: number[];
  data: Float32Array | Float64Array;
}

export type TensorMap = Map<string, NamedTensor>;

const BYTES: Record<string, number> = { F32: 4, F64: 8, F16: 2, BF16: 2 };
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Parses safetensors bytes; `file` names the source in every error. */
export function parseSafetensors(bytes: Uint8Array, file: string): TensorMap {
  if (bytes.length < 8) throw new InputError(file, 'is too short to be a safetensors file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER_BYTES || 8 + headerLen > bytes.length) {
    throw new InputError(file, `safetensors header length ${headerLen} does not fit in the ${bytes.length}-byte file`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + headerLen)).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new InputError(file, 'safetensors header is not valid JSON');
  }
  const dataStart = 8 + headerLen;
  const out: TensorMap = new Map();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = String(e.dtype);
    const width = BYTES[dtype];
    if (!width)
      throw new InputError(file, `tensor '${name}' has dtype ${dtype}; only F32, F64, F16 and BF16 are readable`);
    if (!Array.isArray(e.shape) || !e.shape.every((n) => Number.isInteger(n) && n >= 0)) {
      throw new InputError(file, `tensor '${name}' has a malformed shape`);
    }
    const shape = e.shape as number[];
    const count = shape.reduce((a, b) => a * b, 1);
    const offs = e.data_offsets as [number, number] | undefined;
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      offs[1] - offs[0] !== count * width ||
      dataStart + offs[1] > bytes.length
    ) {
      throw new InputError(
        file,
        `tensor '${name}' has data offsets that do not match its shape [${shape.join(', ')}] or the file size`,
      );
    }
    const start = dataStart + offs[0];
    // Copy into an aligned buffer: offsets inside the file need not be 4/8-byte aligned.
    const raw = new Uint8Array(bytes.subarray(start, start + count * width)); // a copy even for Buffers
    const rv = new DataView(raw.buffer);
    let data: Float32Array | Float64Array;
    if (dtype === 'F32') data = new Float32Array(raw.buffer);
    else if (dtype === 'F64') data = new Float64Array(raw.buffer);
    else {
      data = new Float32Array(count);
      const bits = new Uint32Array(data.buffer); // bf16 is the top half of an f32
      for (let i = 0; i < count; i++) {
        const h = rv.getUint16(i * 2, true);
        if (dtype === 'F16') data[i] = halfToFloat(h);
        else bits[i] = h << 16;
      }
    }
    out.set(name, { shape, data });
  }
  return out;
}

export async function readSafetensors(path: string): Promise<TensorMap> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (err) {
    throw new InputError(path, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseSafetensors(bytes, path);
}

/** Serialises tensors as safetensors; float32 unless a tensor is a Float64Array. Names are sorted. */
export function serializeSafetensors(tensors: TensorMap, metadata?: Record<string, string>): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length)
      throw new Error(
        `tensor '${name}': shape [${t.shape.join(', ')}] holds ${count} values but data has ${t.data.length}`,
      );
    const width = t.data instanceof Float64Array ? 8 : 4;
    header[name] = {
      dtype: width === 8 ? 'F64' : 'F32',
      shape: t.shape,
      data_offsets: [offset, offset + count * width],
    };
    offset += count * width;
  }
  let headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (headerBytes.length % 8)) % 8; // keeps tensor data 8-byte aligned for zero-copy readers
  if (pad) headerBytes = Buffer.concat([headerBytes, Buffer.alloc(pad, 0x20)]);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const d = tensors.get(name)!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}

export async function writeSafetensors(
  path: string,
  tensors: TensorMap,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}
