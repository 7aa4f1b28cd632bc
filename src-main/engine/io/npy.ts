// NumPy .npy read/write for the CLI (`deformux forward`): little-endian float32/float64, C order.
import { promises as fs } from 'node:fs';
import { InputError } from '../../imaging/volume';
import { writeFileAtomic } from '../../util/atomic';

export interface NpyArray {
  shape: number[];
  data: Float32Array | Float64Array;
}

/** Parses .npy bytes (v1-3). float32/float64 are kept; other numeric types are widened to float32. */
export function parseNpy(bytes: Uint8Array, file: string): NpyArray {
  const magic = Buffer.from(bytes.subarray(0, 6)).toString('latin1');
  if (magic !== '\x93NUMPY') throw new InputError(file, 'is not a .npy file (bad magic bytes)');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = Buffer.from(bytes.subarray(headerStart, headerStart + headerLen)).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new InputError(file, 'has a malformed .npy header');
  if (fortran) throw new InputError(file, 'is stored in Fortran order; save it in C order (np.ascontiguousarray)');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const kinds: Record<string, [number, (v: DataView, o: number) => number]> = {
    '<f4': [4, (v, o) => v.getFloat32(o, true)],
    '<f8': [8, (v, o) => v.getFloat64(o, true)],
    '|u1': [1, (v, o) => v.getUint8(o)],
    '|i1': [1, (v, o) => v.getInt8(o)],
    '<i2': [2, (v, o) => v.getInt16(o, true)],
    '<u2': [2, (v, o) => v.getUint16(o, true)],
    '<i4': [4, (v, o) => v.getInt32(o, true)],
  };
  const kind = kinds[descr];
  if (!kind) throw new InputError(file, `has dtype ${descr}; use float32 (or float64, int8-32)`);
  const start = headerStart + headerLen;
  if (bytes.length - start < count * kind[0]) {
    throw new InputError(
      file,
      `holds ${bytes.length - start} data bytes but shape (${shape.join(', ')}) needs ${count * kind[0]}`,
    );
  }
  const raw = new Uint8Array(bytes.subarray(start, start + count * kind[0])); // aligned copy (Buffer.slice would not copy)
  if (descr === '<f4') return { shape, data: new Float32Array(raw.buffer) };
  if (descr === '<f8') return { shape, data: new Float64Array(raw.buffer) };
  const rv = new DataView(raw.buffer);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = kind[1](rv, i * kind[0]);
  return { shape, data };
}

export async function readNpy(path: string): Promise<NpyArray> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (err) {
    throw new InputError(path, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseNpy(bytes, path);
}

export function serializeNpy(arr: NpyArray): Uint8Array {
  const descr = arr.data instanceof Float64Array ? '<f8' : '<f4';
  const shapeText = arr.shape.length === 1 ? `${arr.shape[0]},` : arr.shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shapeText}), }`;
  // Version 1: 10-byte preamble + header padded with spaces to a multiple of 64, ending in '\n'.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + arr.data.byteLength);
  out.set([0x93, ...Buffer.from('NUMPY', 'latin1'), 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength), total);
  return out;
}

export async function writeNpy(path: string, arr: NpyArray): Promise<void> {
  await writeFileAtomic(path, serializeNpy(arr));
}
