// DICOM SEG frame layout: which slices hold which segment, slice ↔ source-instance matching by
// position, and 1-bit packing of the binary frames (PS3.5 8.1.1: bits run on across frame boundaries).
import type { Vec3, Volume } from '../../imaging/volume';
import type { SourceInstanceRef, SourceSeriesRef } from './source-ref';

export interface SegFrame {
  segmentNumber: number;
  /** The label value this segment is made of. */
  classValue: number;
  /** Slice index k of the label volume. */
  slice: number;
  positionMm: Vec3;
  source: SourceInstanceRef;
}

/** LPS position (mm) of the first voxel of slice k. */
export function slicePositionMm(v: Volume, k: number): Vec3 {
  const step = v.spacingMm[2] * k;
  return [
    v.originMm[0] + step * v.direction[6],
    v.originMm[1] + step * v.direction[7],
    v.originMm[2] + step * v.direction[8],
  ];
}

/**
 * For every slice of the label, the source instance at the same position. Positions in DICOM files are
 * rounded decimal strings, so a match within a tenth of the slice spacing (at least 0.01 mm) counts.
 */
export function matchSourceInstances(label: Volume, source: SourceSeriesRef, what: string): SourceInstanceRef[] {
  const nk = label.dims[2];
  const toleranceMm = Math.max(0.01, 0.1 * label.spacingMm[2]);
  const matched: SourceInstanceRef[] = [];
  for (let k = 0; k < nk; k++) {
    const p = slicePositionMm(label, k);
    let best: SourceInstanceRef | null = null;
    let bestDist = Infinity;
    for (const inst of source.instances) {
      const d = Math.hypot(inst.positionMm[0] - p[0], inst.positionMm[1] - p[1], inst.positionMm[2] - p[2]);
      if (d < bestDist) {
        bestDist = d;
        best = inst;
      }
    }
    if (!best || bestDist > toleranceMm) {
      const at = p.map((x) => x.toFixed(3)).join(', ');
      throw new Error(
        `${what}: slice ${k} of the label (at ${at} mm) has no image of series ${source.seriesInstanceUid} ` +
          `within ${toleranceMm.toFixed(3)} mm${best ? ` (nearest is ${bestDist.toFixed(3)} mm away)` : ''}; ` +
          'the label is not on the grid of this DICOM series',
      );
    }
    matched.push(best);
  }
  return matched;
}

/**
 * presence[k * width + v] = 1 when slice k holds label value v; also refuses values outside the schema.
 * One pass over the label.
 */
export function slicePresence(
  label: Volume,
  allowed: ReadonlySet<number>,
  what: string,
): { presence: Uint8Array; width: number } {
  const [ni, nj, nk] = label.dims;
  const slice = ni * nj;
  const width = 256;
  const presence = new Uint8Array(nk * width);
  const allowedTable = new Uint8Array(width);
  for (const v of allowed) if (v > 0 && v < width) allowedTable[v] = 1;
  const data = label.data;
  // Background dominates: with uint8 labels, skip 4 zero voxels at a time through a 32-bit view.
  const words =
    data instanceof Uint8Array && data.byteOffset % 4 === 0 && slice % 4 === 0
      ? new Uint32Array(data.buffer, data.byteOffset, data.length >>> 2)
      : null;
  for (let k = 0; k < nk; k++) {
    const row = k * width;
    for (let p = k * slice, end = p + slice; p < end; p++) {
      if (words && (p & 3) === 0 && p + 4 <= end && words[p >>> 2] === 0) {
        p += 3;
        continue;
      }
      const v = data[p];
      if (v === 0) continue;
      if (allowedTable[v] !== 1) {
        // Also catches negative, fractional and too large values (the table lookup is undefined).
        throw new Error(
          `${what}: the label holds the value ${v} (slice ${k}), which is not a class of the label schema`,
        );
      }
      presence[row + v] = 1;
    }
  }
  return { presence, width };
}

/** Packs the frames LSB-first into one bit stream (padded to an even byte count). */
export function packFrames(label: Volume, frames: readonly SegFrame[]): Uint8Array {
  const slice = label.dims[0] * label.dims[1];
  const totalBits = frames.length * slice;
  const bytes = Math.ceil(totalBits / 8);
  const out = new Uint8Array(bytes + (bytes % 2));
  const data = label.data;
  let bit = 0;
  for (const f of frames) {
    const start = f.slice * slice;
    for (let p = 0; p < slice; p++, bit++) {
      if (data[start + p] === f.classValue) out[bit >>> 3] |= 1 << (bit & 7);
    }
  }
  return out;
}
