// The replay holdout's score: Dice pooled per class over the cases. Stray lesion voxels in a lesion-free case
// count as voxels (9 wrong voxels cost less than 900), where the per-case mean scores both as a lesion Dice of 0.
import { describe, expect, it } from 'vitest';
import { caseDice, pooledDice, voxelDice } from '../../src-main/train/holdout';
import { diceByClass } from '../../src-main/predict/metrics';

/** A 1000-voxel case: `organ` voxels of class 1 in both maps, `lesion` reference voxels of class 2 of which the
 * prediction finds `found`, and `stray` class-2 voxels predicted in the background. */
function scored(organ: number, lesion: number, found: number, stray: number) {
  const ref = new Uint8Array(1000);
  const pred = new Uint8Array(1000);
  for (let i = 0; i < organ; i++) ref[i] = pred[i] = 1;
  for (let i = 0; i < stray; i++) pred[999 - i] = 2;
  for (let i = 0; i < lesion; i++) {
    ref[organ + i] = 2;
    pred[organ + i] = i < found ? 2 : 1;
  }
  return { d: diceByClass(pred, ref, 3), caseDice: caseDice(pred, ref, 3) };
}

describe('pooled holdout Dice', () => {
  it('weighs stray lesion voxels by their number, unlike the per-case mean', () => {
    const withLesion = scored(400, 100, 80, 0);
    const fewStray = scored(400, 0, 0, 9);
    const manyStray = scored(400, 0, 0, 300);
    // Per case: the lesion-free case scores its lesion class 0 whether 9 or 300 voxels were wrong.
    const mean = (a: number, b: number) => (a + b) / 2;
    expect(mean(withLesion.caseDice, fewStray.caseDice)).toBe(mean(withLesion.caseDice, manyStray.caseDice));
    const few = pooledDice([withLesion.d, fewStray.d], 3);
    const many = pooledDice([withLesion.d, manyStray.d], 3);
    // Lesion class pooled: overlap 80 of (80 predicted + 100 reference) plus the strays.
    expect(few[1]).toBeCloseTo((2 * 80) / (80 + 9 + 100), 10);
    expect(many[1]).toBeCloseTo((2 * 80) / (80 + 300 + 100), 10);
    expect(few[1]! - many[1]!).toBeGreaterThan(0.4);
  });

  it('a class in no label and no prediction is null; identical maps score 1', () => {
    const perfect = scored(300, 50, 50, 0);
    expect(pooledDice([perfect.d], 3)).toEqual([1, 1]);
    const organOnly = scored(300, 0, 0, 0);
    expect(pooledDice([organOnly.d], 3)).toEqual([1, null]);
  });

  it('voxel Dice over all classes: a lesion-free case with stray lesion voxels loses by their share', () => {
    // The trained-case check: a candidate that finds more of the organ but calls 60 stray lesion voxels is better,
    // by voxels, than a base that found less; the per-case class mean says the opposite.
    // Base: found 300 of a 400-voxel organ (100 organ voxels predicted background).
    const ref = new Uint8Array(1000);
    const predBase = new Uint8Array(1000);
    const predCand = new Uint8Array(1000);
    for (let i = 0; i < 400; i++) ref[i] = predCand[i] = 1;
    for (let i = 0; i < 300; i++) predBase[i] = 1;
    for (let i = 0; i < 60; i++) predCand[999 - i] = 2;
    const dBase = diceByClass(predBase, ref, 3);
    const dCand = diceByClass(predCand, ref, 3);
    expect(caseDice(predCand, ref, 3)).toBeLessThan(caseDice(predBase, ref, 3));
    expect(voxelDice([dBase], 3)).toBeCloseTo((2 * 300) / (300 + 400), 10);
    expect(voxelDice([dCand], 3)).toBeCloseTo((2 * 400) / (400 + 60 + 400), 10);
    expect(voxelDice([dCand], 3)).toBeGreaterThan(voxelDice([dBase], 3));
    // Over cases: the sums, not a mean of ratios; both maps empty is 1.
    const lesion = scored(400, 100, 80, 0);
    expect(voxelDice([lesion.d, dCand], 3)).toBeCloseTo((2 * (400 + 80 + 400)) / (900 + 900 + 60), 10);
    expect(voxelDice([diceByClass(new Uint8Array(8), new Uint8Array(8), 3)], 3)).toBe(1);
  });
});
