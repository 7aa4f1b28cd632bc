// The heat colour map of the uncertainty overlay: uint8 uncertainty (0..255 = 0..1) → RGBA,
// transparent near 0, yellow through orange to red toward 1. Pure, so it is unit-tested.

/** Uncertainty below this (0..1) stays transparent: softmax outputs are never exactly certain. */
export const HEAT_FLOOR = 0.1;

export type Rgba = [number, number, number, number];

/** RGBA (0..255 each) of one uint8 uncertainty value. */
export function heatColor(value: number): Rgba {
  if (!Number.isInteger(value) || value < 0 || value > 255) {
    throw new Error(`uncertainty must be a whole number 0..255, got ${value}`);
  }
  const u = value / 255;
  if (u < HEAT_FLOOR) return [0, 0, 0, 0];
  const t = (u - HEAT_FLOOR) / (1 - HEAT_FLOOR);
  // Green falls from 255 (yellow) to 0 (red); opacity rises so certain tissue stays readable.
  return [255, Math.round(255 * (1 - t)), 0, Math.round(255 * (0.35 + 0.65 * t))];
}

/** The 256-entry lookup table (index = uncertainty value), entry 0 transparent. */
export function heatLut(): Rgba[] {
  return Array.from({ length: 256 }, (_, v) => heatColor(v));
}

/** Whether an RGB pixel reads as heat (red dominant over blue, green not above red). */
export function isHeatPixel(r: number, g: number, b: number): boolean {
  return r > b + 40 && r >= g;
}

/**
 * The map as drawn with a display threshold `t` (0..1): values at or below it are set to 0 (transparent), the
 * rest kept; `t` at or under HEAT_FLOOR returns `data` itself (the colour table already hides those).
 */
export function thresholdUncertainty(data: Uint8Array, t: number): Uint8Array {
  if (!(t > HEAT_FLOOR)) return data;
  const cut = Math.min(255, Math.floor(t * 255));
  const out = new Uint8Array(data.length);
  for (let n = 0; n < data.length; n++) out[n] = data[n] > cut ? data[n] : 0;
  return out;
}

/** CSS gradient of the legend bar from `t` (left) to 1 (right), the colours heatColor draws there. */
export function heatLegendGradient(t: number): string {
  const from = Math.max(HEAT_FLOOR, t);
  const stops = [0, 0.5, 1].map((f) => {
    const v = Math.round((from + f * (1 - from)) * 255);
    const [r, g, b, a] = heatColor(Math.max(Math.ceil(HEAT_FLOOR * 255), v));
    return `rgba(${r}, ${g}, ${b}, ${(a / 255).toFixed(2)}) ${f * 100}%`;
  });
  return `linear-gradient(to right, ${stops.join(', ')})`;
}
