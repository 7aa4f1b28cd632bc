// Axis scaling for the learning-curve plots: a padded data range and a few round tick values.

export interface PlotPoint {
  x: number;
  y: number;
  /** Hover text. */
  title?: string;
  /** Per-point colour (e.g. the model version); the series colour otherwise. */
  color?: string;
}

export interface PlotSeries {
  label: string;
  color: string;
  points: PlotPoint[];
  /** Join the points by a line (a curve) or not (per-case marks). */
  line: boolean;
  /** The values before smoothing (the points are smoothed), drawn faint under the line. */
  raw?: PlotPoint[];
}

export interface Range {
  min: number;
  max: number;
}

/** The range of values, widened when flat (one point, constant loss) so a scale can divide by it. */
export function rangeOf(values: number[], fixed?: Partial<Range>): Range {
  const finite = values.filter(Number.isFinite);
  let min = fixed?.min ?? (finite.length ? Math.min(...finite) : 0);
  let max = fixed?.max ?? (finite.length ? Math.max(...finite) : 1);
  if (max - min < 1e-12) {
    const pad = Math.abs(max) > 1e-12 ? Math.abs(max) * 0.1 : 1;
    if (fixed?.min === undefined) min -= pad;
    if (fixed?.max === undefined) max += pad;
  }
  return { min, max };
}

/** About `count` round tick values (1, 2, 5 × 10^n steps) inside the range. */
export function ticksOf(r: Range, count = 4): number[] {
  const raw = (r.max - r.min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(r.min / step) * step; t <= r.max + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

/** Short tick text: integers as they are, else up to 3 significant digits; big counts as 12k. */
export function tickLabel(v: number): string {
  if (Math.abs(v) >= 10_000) return `${Math.round(v / 1000)}k`;
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(3)));
}

/** A colour per model version, stable across plots. */
export function versionColor(version: number | null): string {
  if (version === null) return '#8595a7';
  const palette = ['#4fb3e8', '#f2a94a', '#7bd88f', '#e87aa8', '#b39ddb', '#ffd54f', '#4dd0c1', '#ff8a65'];
  return palette[(version - 1 + palette.length * 100) % palette.length];
}
