// DICOM RLE Lossless (PS3.5 Annex G) decoder: byte-plane segments, each PackBits-coded, MSB plane first.
import { InputError } from '../volume';

/**
 * Decodes one RLE frame into little-endian samples (bytesPerSample per pixel, one sample per pixel).
 * Every read and write is bounds-checked, so corrupt input gives an InputError, never a crash.
 */
export function decodeRle(frame: Uint8Array, pixels: number, bytesPerSample: number, file: string): Uint8Array {
  if (frame.length < 64) throw new InputError(file, 'RLE frame is shorter than its 64-byte header');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  if (segments !== bytesPerSample) {
    throw new InputError(
      file,
      `RLE frame has ${segments} segments but ${bytesPerSample} are needed for one ${bytesPerSample * 8}-bit sample per pixel`,
    );
  }
  const out = new Uint8Array(pixels * bytesPerSample);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || start > frame.length || end < start || end > frame.length) {
      throw new InputError(file, `RLE segment ${s + 1} has offsets outside the frame`);
    }
    // Segment 0 holds the most significant bytes; little-endian output puts them last.
    const plane = bytesPerSample - 1 - s;
    let p = start;
    let px = 0;
    while (px < pixels && p < end) {
      const n = (frame[p++] << 24) >> 24; // signed header byte
      if (n >= 0) {
        const count = n + 1;
        if (p + count > end || px + count > pixels)
          throw new InputError(file, `RLE segment ${s + 1} literal run overruns its bounds`);
        for (let c = 0; c < count; c++) out[(px + c) * bytesPerSample + plane] = frame[p + c];
        p += count;
        px += count;
      } else if (n !== -128) {
        const count = 1 - n;
        if (p >= end || px + count > pixels)
          throw new InputError(file, `RLE segment ${s + 1} repeat run overruns its bounds`);
        const value = frame[p++];
        for (let c = 0; c < count; c++) out[(px + c) * bytesPerSample + plane] = value;
        px += count;
      }
    }
    if (px < pixels)
      throw new InputError(file, `RLE segment ${s + 1} ends after ${px} of ${pixels} pixels (truncated)`);
  }
  return out;
}
