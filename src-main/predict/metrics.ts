// Overlap metrics between a predicted label map and a reference on the same grid (held-out Dice,
// the real-CT gap report), with an optional value map for references in another label scheme.

export interface DiceResult {
  /** Dice per class value 1..classes-1 (index 0 unused, NaN); NaN where both are empty. */
  dice: number[];
  predictedVoxels: number[];
  referenceVoxels: number[];
}

/**
 * Dice of each foreground class. `referenceMap[v]` turns a reference value v into our class value
 * (e.g. TotalSegmentator 2 and 3, the kidneys, into 1); values it does not list count as background.
 */
export function diceByClass(
  predicted: ArrayLike<number>,
  reference: ArrayLike<number>,
  classes: number,
  referenceMap?: Record<number, number>,
): DiceResult {
  if (predicted.length !== reference.length) {
    throw new Error(`dice: the label maps differ in size (${predicted.length} vs ${reference.length} voxels)`);
  }
  const lut = new Int32Array(65536);
  for (let v = 0; v < lut.length; v++) lut[v] = referenceMap ? (referenceMap[v] ?? 0) : v < classes ? v : 0;
  const pred = new Float64Array(classes);
  const ref = new Float64Array(classes);
  const both = new Float64Array(classes);
  for (let n = 0; n < predicted.length; n++) {
    const p = predicted[n];
    const rv = reference[n];
    const r = rv >= 0 && rv < 65536 ? lut[rv] : 0;
    if (p > 0 && p < classes) pred[p]++;
    if (r > 0) ref[r]++;
    if (p === r && p > 0) both[p]++;
  }
  const dice = [NaN];
  for (let c = 1; c < classes; c++) dice.push(pred[c] + ref[c] > 0 ? (2 * both[c]) / (pred[c] + ref[c]) : NaN);
  return { dice, predictedVoxels: Array.from(pred), referenceVoxels: Array.from(ref) };
}
