// A small grey picture of a series' middle image, for choosing a series before importing it (the way
// a PACS viewer's series browser shows them): one frame decoded, rescaled to HU, put through a soft-tissue
// window and box-averaged down to at most `size` pixels a side.
import { openRegularFile } from '../input-path';
import { InputError } from '../volume';
import { frameBytes } from './codecs';
import type { DicomSliceInfo } from './header';
import { isLocalizer, MAX_HEADER_BYTES, parseDicom } from './header';

export interface Thumbnail {
  width: number;
  height: number;
  /** Grey levels 0..255, row by row from the image's first row, base64. */
  data: string;
}

/** The abdomen window (W 400, L 40), as the viewer opens a case. */
export const THUMBNAIL_WINDOW_HU: [number, number] = [-160, 240];

/** The series' middle image (by instance number, then file order), localizers left out. */
export function middleImage(files: DicomSliceInfo[]): DicomSliceInfo | null {
  const images = files.filter((f) => !isLocalizer(f) && f.hasPixelData);
  if (images.length === 0) return null;
  const sorted = [...images].sort(
    (a, b) => (a.instanceNumber ?? Infinity) - (b.instanceNumber ?? Infinity) || (a.file < b.file ? -1 : 1),
  );
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** Stored values of one decoded frame as numbers (bits stored masked, sign applied). */
function samples(bytes: Uint8Array, info: DicomSliceInfo): Float64Array {
  const n = info.rows * info.columns;
  const out = new Float64Array(n);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bps = info.bitsAllocated / 8;
  const signed = info.pixelRepresentation === 1;
  const bits = info.bitsStored;
  for (let p = 0; p < n; p++) {
    let x = bps === 1 ? v.getUint8(p) : bps === 2 ? v.getUint16(2 * p, true) : v.getUint32(4 * p, true);
    if (bits < info.bitsAllocated) x %= 2 ** bits;
    if (signed && x >= 2 ** (bits - 1)) x -= 2 ** bits;
    out[p] = x;
  }
  return out;
}

/** Decodes `info`'s frame and makes its thumbnail (at most `size` pixels a side, aspect kept). */
export async function sliceThumbnail(info: DicomSliceInfo, size = 64): Promise<Thumbnail> {
  if (info.samplesPerPixel !== 1 || ![8, 16, 32].includes(info.bitsAllocated))
    throw new InputError(info.file, 'is not a grey-scale image with 8, 16 or 32 bits per sample');
  const limit = info.rows * info.columns * (info.bitsAllocated / 8) * 2 + MAX_HEADER_BYTES;
  const handle = await openRegularFile(info.file);
  let buf: Buffer;
  try {
    if ((await handle.stat()).size > limit) throw new InputError(info.file, 'is far bigger than one frame');
    buf = await handle.readFile();
  } finally {
    await handle.close();
  }
  const ds = parseDicom(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), info.file);
  const values = samples(await frameBytes(ds, info), info);
  const [lo, hi] = THUMBNAIL_WINDOW_HU;
  const scale = Math.max(info.rows, info.columns) / size;
  const step = Math.max(1, scale);
  const width = Math.max(1, Math.round(info.columns / step));
  const height = Math.max(1, Math.round(info.rows / step));
  const grey = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const r0 = Math.floor((y * info.rows) / height);
    const r1 = Math.max(r0 + 1, Math.floor(((y + 1) * info.rows) / height));
    for (let x = 0; x < width; x++) {
      const c0 = Math.floor((x * info.columns) / width);
      const c1 = Math.max(c0 + 1, Math.floor(((x + 1) * info.columns) / width));
      let sum = 0;
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) sum += values[r * info.columns + c];
      const hu = (sum / ((r1 - r0) * (c1 - c0))) * info.rescaleSlope + info.rescaleIntercept;
      grey[y * width + x] = Math.round(Math.min(1, Math.max(0, (hu - lo) / (hi - lo))) * 255);
    }
  }
  return { width, height, data: Buffer.from(grey).toString('base64') };
}
