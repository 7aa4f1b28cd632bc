// Draws a series thumbnail (grey levels 0..255, base64) into a canvas: a Svelte action.
import type { SeriesChoice } from '../../../src-main/api/contract';

export function greyThumbnail(canvas: HTMLCanvasElement, thumb: NonNullable<SeriesChoice['thumbnail']>): void {
  const bytes = Uint8Array.from(atob(thumb.data), (c) => c.charCodeAt(0));
  if (bytes.length !== thumb.width * thumb.height) return; // a damaged thumbnail stays blank
  canvas.width = thumb.width;
  canvas.height = thumb.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(thumb.width, thumb.height);
  for (let p = 0; p < bytes.length; p++) {
    img.data[4 * p] = img.data[4 * p + 1] = img.data[4 * p + 2] = bytes[p];
    img.data[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
