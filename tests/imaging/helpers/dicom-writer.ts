// A minimal explicit-VR-little-endian CT slice writer, for benchmarks that need big series fast (tests use pydicom).
import { writeFileSync } from 'node:fs';

type El = { tag: number; vr: string; value: Uint8Array };

const ascii = (s: string, pad: string): Uint8Array => {
  const t = s.length % 2 ? s + pad : s;
  return Uint8Array.from(t, (c) => c.charCodeAt(0));
};
const us = (n: number): Uint8Array => new Uint8Array(new Uint16Array([n]).buffer);
const ul = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);

function encode(els: El[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (const e of els.sort((a, b) => a.tag - b.tag)) {
    const h = new DataView(new ArrayBuffer(12));
    h.setUint16(0, e.tag >>> 16, true);
    h.setUint16(2, e.tag & 0xffff, true);
    h.setUint8(4, e.vr.charCodeAt(0));
    h.setUint8(5, e.vr.charCodeAt(1));
    if (['OB', 'OW', 'SQ', 'UN', 'UT'].includes(e.vr)) {
      h.setUint32(8, e.value.length, true);
      parts.push(new Uint8Array(h.buffer, 0, 12));
    } else {
      h.setUint16(6, e.value.length, true);
      parts.push(new Uint8Array(h.buffer, 0, 8));
    }
    parts.push(e.value);
  }
  return parts;
}

export interface SliceSpec {
  seriesUid: string;
  instance: number;
  rows: number;
  columns: number;
  pixels: Int16Array;
  positionMm: number[];
  orientation: number[];
  pixelSpacingMm: [number, number];
  slope?: number;
  intercept?: number;
  /** Transfer syntax UID written in the file meta (default explicit VR little endian). */
  transferSyntax?: string;
  /** Fragments of encapsulated pixel data (compressed syntaxes), written instead of `pixels`. */
  fragments?: Uint8Array[];
  /** Written as SeriesDescription when given. */
  description?: string;
}

/** Encapsulated PixelData: undefined length, an empty offset table, one item per fragment, a delimiter. */
function encapsulated(fragments: Uint8Array[]): Uint8Array[] {
  const item = (group: number, element: number, length: number): Uint8Array => {
    const h = new DataView(new ArrayBuffer(8));
    h.setUint16(0, group, true);
    h.setUint16(2, element, true);
    h.setUint32(4, length, true);
    return new Uint8Array(h.buffer);
  };
  const head = new DataView(new ArrayBuffer(12));
  head.setUint16(0, 0x7fe0, true);
  head.setUint16(2, 0x0010, true);
  head.setUint8(4, 'O'.charCodeAt(0));
  head.setUint8(5, 'B'.charCodeAt(0));
  head.setUint32(8, 0xffffffff, true);
  const parts = [new Uint8Array(head.buffer), item(0xfffe, 0xe000, 0)];
  for (const f of fragments) {
    const even = f.length % 2 ? Uint8Array.from([...f, 0]) : f;
    parts.push(item(0xfffe, 0xe000, even.length), even);
  }
  parts.push(item(0xfffe, 0xe0dd, 0));
  return parts;
}

/** The bytes of one CT slice file (Part 10, explicit VR little endian meta). */
export function encodeCtSlice(s: SliceSpec): Uint8Array {
  const sop = `${s.seriesUid}.${s.instance}`;
  const ct = '1.2.840.10008.5.1.4.1.1.2';
  const ds = (xs: number[]): Uint8Array => ascii(xs.map((x) => Number(x.toFixed(6)).toString()).join('\\'), ' ');
  const body = encode([
    { tag: 0x00080016, vr: 'UI', value: ascii(ct, '\0') },
    { tag: 0x00080018, vr: 'UI', value: ascii(sop, '\0') },
    { tag: 0x00080060, vr: 'CS', value: ascii('CT', ' ') },
    { tag: 0x0020000e, vr: 'UI', value: ascii(s.seriesUid, '\0') },
    { tag: 0x00200013, vr: 'IS', value: ascii(String(s.instance), ' ') },
    { tag: 0x00200032, vr: 'DS', value: ds(s.positionMm) },
    { tag: 0x00200037, vr: 'DS', value: ds(s.orientation) },
    { tag: 0x00280002, vr: 'US', value: us(1) },
    { tag: 0x00280004, vr: 'CS', value: ascii('MONOCHROME2', ' ') },
    { tag: 0x00280010, vr: 'US', value: us(s.rows) },
    { tag: 0x00280011, vr: 'US', value: us(s.columns) },
    { tag: 0x00280030, vr: 'DS', value: ds(s.pixelSpacingMm) },
    { tag: 0x00280100, vr: 'US', value: us(16) },
    { tag: 0x00280101, vr: 'US', value: us(16) },
    { tag: 0x00280102, vr: 'US', value: us(15) },
    { tag: 0x00280103, vr: 'US', value: us(1) },
    { tag: 0x00281052, vr: 'DS', value: ds([s.intercept ?? 0]) },
    { tag: 0x00281053, vr: 'DS', value: ds([s.slope ?? 1]) },
    ...(s.description !== undefined ? [{ tag: 0x0008103e, vr: 'LO', value: ascii(s.description, ' ') }] : []),
    ...(s.fragments
      ? []
      : [
          {
            tag: 0x7fe00010,
            vr: 'OW',
            value: new Uint8Array(s.pixels.buffer, s.pixels.byteOffset, s.pixels.byteLength),
          },
        ]),
  ]);
  if (s.fragments) body.push(...encapsulated(s.fragments));
  const metaEls = encode([
    { tag: 0x00020001, vr: 'OB', value: new Uint8Array([0, 1]) },
    { tag: 0x00020002, vr: 'UI', value: ascii(ct, '\0') },
    { tag: 0x00020003, vr: 'UI', value: ascii(sop, '\0') },
    { tag: 0x00020010, vr: 'UI', value: ascii(s.transferSyntax ?? '1.2.840.10008.1.2.1', '\0') },
  ]);
  const metaLen = metaEls.reduce((n, p) => n + p.length, 0);
  const groupLen = encode([{ tag: 0x00020000, vr: 'UL', value: ul(metaLen) }]);
  const preamble = new Uint8Array(132);
  preamble.set([0x44, 0x49, 0x43, 0x4d], 128);
  return Buffer.concat([preamble, ...groupLen, ...metaEls, ...body]);
}

export function writeCtSlice(path: string, s: SliceSpec): void {
  writeFileSync(path, encodeCtSlice(s));
}
