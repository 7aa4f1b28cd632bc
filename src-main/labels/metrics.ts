// Label statistics: voxels per class, voxels changed between two label maps, per-class Dice.
// Everything comes from one joint histogram built in a single pass over the typed arrays, so comparing
// two 512×512×300 label maps costs one read of each (no per-class passes, no allocations per voxel);
// non-uint8 maps take one extra pass to check their values.
import type { VoxelArray } from '../imaging/volume';

/** Label values above this are refused: a label map this wide is a mistake (e.g. a CT passed as label). */
export const MAX_LABEL_VALUE = 4095;

export interface ClassAgreement {
  value: number;
  /** Voxels of this class in the first label map (e.g. the AI pre-label). */
  voxelsA: number;
  /** Voxels of this class in the second label map (e.g. the submitted label). */
  voxelsB: number;
  /** Voxels of this class in both. */
  intersection: number;
  /**
   * 2|A∩B| / (|A|+|B|). Convention: when the class is empty in both maps the maps agree perfectly
   * and dice is 1 (bothEmpty tells such classes apart from real agreement).
   */
  dice: number;
  bothEmpty: boolean;
}

export interface LabelComparison {
  voxels: number;
  /** Voxels whose value differs between the two maps (any class change counts once). */
  changedVoxels: number;
  classes: ClassAgreement[];
  /** Mean Dice over the listed classes present in at least one map; null when none is present. */
  meanDice: number | null;
  /** Non-zero values present in either map that are not among the listed classes. */
  unknownValues: number[];
}

/** Largest value of an integer label array, refusing negative, fractional and absurd values. */
function labelRange(data: VoxelArray, what: string): number {
  if (data instanceof Uint8Array) {
    let max = 0;
    for (let p = 0; p < data.length; p++) if (data[p] > max) max = data[p];
    return max;
  }
  let max = 0;
  for (let p = 0; p < data.length; p++) {
    const v = data[p];
    if (!(v >= 0 && v <= MAX_LABEL_VALUE && Number.isInteger(v))) {
      throw new Error(
        `${what} holds the value ${v} at voxel ${p}; label values must be whole numbers 0..${MAX_LABEL_VALUE}`,
      );
    }
    if (v > max) max = v;
  }
  return max;
}

/**
 * Joint histogram of two uint8 label maps. Label maps are mostly background, so 4 voxels at a time are
 * tested for "zero in both" through 32-bit views; other words go to four interleaved tables, which
 * keeps runs of equal voxels from serialising on one counter (~5× faster than the plain loop).
 */
function jointHistogramU8(a: Uint8Array, b: Uint8Array): Float64Array {
  const tables = new Uint32Array(4 * 65536);
  const n = a.length;
  let zeros = 0;
  let p = 0;
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    const words = n >>> 2;
    const a32 = new Uint32Array(a.buffer, a.byteOffset, words);
    const b32 = new Uint32Array(b.buffer, b.byteOffset, words);
    for (let w = 0; w < words; w++) {
      if ((a32[w] | b32[w]) === 0) {
        zeros += 4;
        continue;
      }
      const q = w << 2;
      tables[(a[q] << 8) | b[q]]++;
      tables[65536 + ((a[q + 1] << 8) | b[q + 1])]++;
      tables[131072 + ((a[q + 2] << 8) | b[q + 2])]++;
      tables[196608 + ((a[q + 3] << 8) | b[q + 3])]++;
    }
    p = words << 2;
  }
  for (; p < n; p++) tables[(a[p] << 8) | b[p]]++;
  const hist = new Float64Array(65536);
  for (let x = 0; x < 65536; x++) hist[x] = tables[x] + tables[65536 + x] + tables[131072 + x] + tables[196608 + x];
  hist[0] += zeros;
  return hist;
}

/** Joint histogram hist[a * width + b] of two equally long label arrays. */
function jointHistogram(a: VoxelArray, b: VoxelArray): { hist: Float64Array; width: number } {
  // The common case (labels are stored as uint8): fixed 256×256 table, one pass, no checks needed.
  if (a instanceof Uint8Array && b instanceof Uint8Array) return { hist: jointHistogramU8(a, b), width: 256 };
  const width = Math.max(labelRange(a, 'the first label map'), labelRange(b, 'the second label map')) + 1;
  const hist = new Float64Array(width * width);
  for (let p = 0; p < a.length; p++) hist[a[p] * width + b[p]]++;
  return { hist, width };
}

/**
 * Compares two label maps on the same grid for the given class values (e.g. a schema's classes):
 * changed voxels, voxels per class in each, and per-class Dice.
 */
export function compareLabels(a: VoxelArray, b: VoxelArray, classValues: readonly number[]): LabelComparison {
  if (a.length !== b.length) {
    throw new Error(`cannot compare label maps of ${a.length} and ${b.length} voxels: they are not on the same grid`);
  }
  const { hist, width } = jointHistogram(a, b);
  const rowSum = new Float64Array(width);
  const colSum = new Float64Array(width);
  let same = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < width; y++) {
      const n = hist[x * width + y];
      rowSum[x] += n;
      colSum[y] += n;
    }
    same += hist[x * width + x];
  }
  const classes: ClassAgreement[] = classValues.map((value) => {
    const inRange = value >= 0 && value < width;
    const voxelsA = inRange ? rowSum[value] : 0;
    const voxelsB = inRange ? colSum[value] : 0;
    const intersection = inRange ? hist[value * width + value] : 0;
    const bothEmpty = voxelsA + voxelsB === 0;
    return {
      value,
      voxelsA,
      voxelsB,
      intersection,
      bothEmpty,
      dice: bothEmpty ? 1 : (2 * intersection) / (voxelsA + voxelsB),
    };
  });
  const present = classes.filter((c) => !c.bothEmpty);
  const known = new Set(classValues);
  const unknownValues: number[] = [];
  for (let v = 1; v < width; v++) if (!known.has(v) && rowSum[v] + colSum[v] > 0) unknownValues.push(v);
  return {
    voxels: a.length,
    changedVoxels: a.length - same,
    classes,
    meanDice: present.length ? present.reduce((s, c) => s + c.dice, 0) / present.length : null,
    unknownValues,
  };
}

/** Voxels whose value differs between two label maps on the same grid. */
export function changedVoxels(a: VoxelArray, b: VoxelArray): number {
  if (a.length !== b.length) {
    throw new Error(`cannot compare label maps of ${a.length} and ${b.length} voxels: they are not on the same grid`);
  }
  let changed = 0;
  let p = 0;
  if (a instanceof Uint8Array && b instanceof Uint8Array && a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    // Edits touch few voxels: skip 4 equal voxels at a time, look closer only where words differ.
    const words = a.length >>> 2;
    const a32 = new Uint32Array(a.buffer, a.byteOffset, words);
    const b32 = new Uint32Array(b.buffer, b.byteOffset, words);
    for (let w = 0; w < words; w++) {
      if (a32[w] === b32[w]) continue;
      const q = w << 2;
      changed += +(a[q] !== b[q]) + +(a[q + 1] !== b[q + 1]) + +(a[q + 2] !== b[q + 2]) + +(a[q + 3] !== b[q + 3]);
    }
    p = words << 2;
  }
  for (; p < a.length; p++) if (a[p] !== b[p]) changed++;
  return changed;
}

/** counts[v] = voxels holding value v, for v = 0..max value present. */
export function voxelsPerClass(data: VoxelArray): number[] {
  if (data instanceof Uint8Array) {
    // Same tricks as the joint histogram: skip all-background words, spread the rest over 4 tables.
    const tables = new Uint32Array(4 * 256);
    let zeros = 0;
    let p = 0;
    if (data.byteOffset % 4 === 0) {
      const words = data.length >>> 2;
      const d32 = new Uint32Array(data.buffer, data.byteOffset, words);
      for (let w = 0; w < words; w++) {
        if (d32[w] === 0) {
          zeros += 4;
          continue;
        }
        const q = w << 2;
        tables[data[q]]++;
        tables[256 + data[q + 1]]++;
        tables[512 + data[q + 2]]++;
        tables[768 + data[q + 3]]++;
      }
      p = words << 2;
    }
    for (; p < data.length; p++) tables[data[p]]++;
    const counts = new Array<number>(256);
    for (let v = 0; v < 256; v++) counts[v] = tables[v] + tables[256 + v] + tables[512 + v] + tables[768 + v];
    counts[0] += zeros;
    let last = 255;
    while (last > 0 && counts[last] === 0) last--;
    return counts.slice(0, last + 1);
  }
  const counts = new Float64Array(labelRange(data, 'the label map') + 1);
  for (let p = 0; p < data.length; p++) counts[data[p]]++;
  return Array.from(counts);
}
