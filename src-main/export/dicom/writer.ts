// A small DICOM Part 10 writer: explicit VR little endian, defined-length sequences, UTF-8 text.
// Just enough to write the objects we export (DICOM SEG); every element names its VR explicitly, so
// no data dictionary is needed, and elements are sorted by tag as PS3.5 requires.

export type Vr =
  | 'AE'
  | 'AS'
  | 'AT'
  | 'CS'
  | 'DA'
  | 'DS'
  | 'DT'
  | 'FD'
  | 'FL'
  | 'IS'
  | 'LO'
  | 'LT'
  | 'OB'
  | 'OW'
  | 'PN'
  | 'SH'
  | 'SL'
  | 'SQ'
  | 'SS'
  | 'ST'
  | 'TM'
  | 'UI'
  | 'UL'
  | 'US'
  | 'UT';

export type DicomItem = DicomElement[];

export interface DicomElement {
  /** (group << 16) | element, e.g. 0x00080016. */
  tag: number;
  vr: Vr;
  /** Text VRs: string(s); numeric VRs and AT: number(s); OB/OW: bytes; SQ: items. */
  value: string | readonly string[] | number | readonly number[] | Uint8Array | readonly DicomItem[];
}

export const TRANSFER_SYNTAX_EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** VRs with a 2-byte reserved field and a 4-byte length in explicit VR encoding. */
const LONG_VRS = new Set<Vr>(['OB', 'OW', 'SQ', 'UT']);
const TEXT_VRS = new Set<Vr>([
  'AE',
  'AS',
  'CS',
  'DA',
  'DS',
  'DT',
  'IS',
  'LO',
  'LT',
  'PN',
  'SH',
  'ST',
  'TM',
  'UI',
  'UT',
]);
const NUMBER_BYTES: Partial<Record<Vr, number>> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, AT: 4 };

const utf8 = new TextEncoder();

export function el(tag: number, vr: Vr, value: DicomElement['value']): DicomElement {
  return { tag, vr, value };
}

/** A decimal string of at most 16 characters (PS3.5 DS), as precise as fits. */
export function formatDs(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`cannot write ${x} as a DICOM decimal string`);
  if (Object.is(x, -0) || x === 0) return '0';
  for (let digits = 16; digits >= 1; digits--) {
    const plain = String(Number(x.toPrecision(digits)));
    if (plain.length <= 16) return plain;
    // Very large or small magnitudes: exponent form ("1.5e+20" is a valid DS).
    const exp = x.toExponential(digits - 1);
    if (exp.length <= 16) return exp;
  }
  throw new Error(`cannot write ${x} in 16 characters`);
}

function tagLabel(tag: number): string {
  const hex = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');
  return `(${hex(tag >>> 16)},${hex(tag & 0xffff)})`;
}

/** Collects byte chunks and their total length, so big values (pixel data) are never copied twice. */
class Chunks {
  readonly parts: Uint8Array[] = [];
  length = 0;
  push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.length += bytes.length;
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let off = 0;
    for (const p of this.parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }
}

function textValue(el: DicomElement): Uint8Array {
  const { value } = el;
  let parts: readonly string[];
  if (typeof value === 'string') parts = [value];
  else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) parts = value as readonly string[];
  else if (el.vr === 'DS' || el.vr === 'IS') {
    const nums = typeof value === 'number' ? [value] : (value as readonly number[]);
    parts = nums.map((n) => (el.vr === 'DS' ? formatDs(n) : String(Math.round(n))));
  } else throw new Error(`${tagLabel(el.tag)} ${el.vr} needs text, got ${typeof value}`);
  if (parts.some((p) => p.includes('\\') && el.vr !== 'LT' && el.vr !== 'ST' && el.vr !== 'UT')) {
    throw new Error(`${tagLabel(el.tag)} value may not contain a backslash`);
  }
  const bytes = utf8.encode(parts.join('\\'));
  if (bytes.length % 2 === 0) return bytes;
  const padded = new Uint8Array(bytes.length + 1);
  padded.set(bytes);
  padded[bytes.length] = el.vr === 'UI' ? 0 : 0x20; // UIDs pad with NUL, text with space
  return padded;
}

function numberValue(el: DicomElement, width: number): Uint8Array {
  const nums = typeof el.value === 'number' ? [el.value] : (el.value as readonly number[]);
  const out = new Uint8Array(nums.length * width);
  const view = new DataView(out.buffer);
  nums.forEach((n, p) => {
    const off = p * width;
    switch (el.vr) {
      case 'US':
        view.setUint16(off, n, true);
        break;
      case 'SS':
        view.setInt16(off, n, true);
        break;
      case 'UL':
        view.setUint32(off, n, true);
        break;
      case 'SL':
        view.setInt32(off, n, true);
        break;
      case 'FL':
        view.setFloat32(off, n, true);
        break;
      case 'FD':
        view.setFloat64(off, n, true);
        break;
      case 'AT': // a tag is written as group then element, each little endian
        view.setUint16(off, n >>> 16, true);
        view.setUint16(off + 2, n & 0xffff, true);
        break;
      default:
        throw new Error(`${tagLabel(el.tag)}: ${el.vr} is not numeric`);
    }
  });
  return out;
}

function header(tag: number, vr: Vr, length: number): Uint8Array {
  const long = LONG_VRS.has(vr);
  const out = new Uint8Array(long ? 12 : 8);
  const view = new DataView(out.buffer);
  view.setUint16(0, tag >>> 16, true);
  view.setUint16(2, tag & 0xffff, true);
  out[4] = vr.charCodeAt(0);
  out[5] = vr.charCodeAt(1);
  if (long) view.setUint32(8, length, true);
  else {
    if (length > 0xffff) throw new Error(`${tagLabel(tag)} ${vr} value of ${length} bytes is too long`);
    view.setUint16(6, length, true);
  }
  return out;
}

function itemHeader(tag: number, length: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint16(0, 0xfffe, true);
  view.setUint16(2, tag, true);
  view.setUint32(4, length, true);
  return out;
}

/** Encodes a data set (sorted by tag) into chunks. */
function encodeInto(out: Chunks, elements: readonly DicomElement[]): void {
  const sorted = [...elements].sort((a, b) => a.tag - b.tag);
  for (let p = 1; p < sorted.length; p++) {
    if (sorted[p].tag === sorted[p - 1].tag)
      throw new Error(`${tagLabel(sorted[p].tag)} appears twice in one data set`);
  }
  for (const e of sorted) {
    if (e.vr === 'SQ') {
      const body = new Chunks();
      for (const item of e.value as readonly DicomItem[]) {
        const itemBody = new Chunks();
        encodeInto(itemBody, item);
        body.push(itemHeader(0xe000, itemBody.length));
        for (const part of itemBody.parts) body.push(part);
      }
      out.push(header(e.tag, 'SQ', body.length));
      for (const part of body.parts) out.push(part);
      continue;
    }
    let bytes: Uint8Array;
    if (e.vr === 'OB' || e.vr === 'OW') {
      if (!(e.value instanceof Uint8Array)) throw new Error(`${tagLabel(e.tag)} ${e.vr} needs bytes`);
      bytes = e.value;
    } else if (TEXT_VRS.has(e.vr)) bytes = textValue(e);
    else bytes = numberValue(e, NUMBER_BYTES[e.vr] ?? 0);
    out.push(header(e.tag, e.vr, bytes.length + (bytes.length % 2)));
    out.push(bytes);
    if (bytes.length % 2) out.push(new Uint8Array(1)); // OB pads with one zero byte
  }
}

export function encodeDataset(elements: readonly DicomElement[]): Uint8Array {
  const out = new Chunks();
  encodeInto(out, elements);
  return out.concat();
}

export interface FileMeta {
  sopClassUid: string;
  sopInstanceUid: string;
  implementationClassUid: string;
  implementationVersionName: string;
}

/** A complete Part 10 file: 128-byte preamble, "DICM", group 0002 meta, then the data set. */
export function encodeDicomFile(meta: FileMeta, elements: readonly DicomElement[]): Uint8Array {
  const metaBody = encodeDataset([
    el(0x00020001, 'OB', new Uint8Array([0, 1])),
    el(0x00020002, 'UI', meta.sopClassUid),
    el(0x00020003, 'UI', meta.sopInstanceUid),
    el(0x00020010, 'UI', TRANSFER_SYNTAX_EXPLICIT_LE),
    el(0x00020012, 'UI', meta.implementationClassUid),
    el(0x00020013, 'SH', meta.implementationVersionName),
  ]);
  const groupLength = encodeDataset([el(0x00020000, 'UL', metaBody.length)]);
  const out = new Chunks();
  const preamble = new Uint8Array(132);
  preamble.set(utf8.encode('DICM'), 128);
  out.push(preamble);
  out.push(groupLength);
  out.push(metaBody);
  encodeInto(out, elements);
  return out.concat();
}
