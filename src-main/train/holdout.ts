// Holdout scoring for fine-tuning: each case through the full prediction pipeline, Dice against its submitted label.
import type { Volume } from '../imaging/volume';
import { predictVolume } from '../predict/predict';
import { diceByClass } from '../predict/metrics';
import type { DiceResult } from '../predict/metrics';
import type { SegmentationModel } from '../predict/types';
import { checkCase } from './prepare';

export interface ScoredCase {
  id: string;
  image: Volume;
  label: Volume;
}

export interface HoldoutScore {
  /** Mean over cases of the per-case Dice; null without cases. */
  mean: number | null;
  perCase: { id: string; dice: number }[];
  /** Mean Dice per foreground class (index 0 = class 1) over the cases where it is defined; null where never. */
  byClass?: (number | null)[];
  /**
   * Dice per foreground class over all cases' voxels together (null where a class is in no label and no
   * prediction), and their mean. A few stray lesion voxels in a lesion-free case weigh as few voxels here, while
   * the per-case mean scores that case's lesion class 0 whether 9 voxels or 900 were wrong.
   */
  pooled?: (number | null)[];
  pooledMean?: number | null;
  /**
   * Dice over all foreground voxels of all cases, classes kept apart (twice the summed per-class overlaps over the
   * summed predicted and reference foreground); 1 when both are empty, null without cases. Every class weighs by
   * its voxels: 700 stray lesion voxels beside a 9,000-voxel kidney cost what they are, not a class at Dice 0.
   */
  voxelDice?: number | null;
}

/**
 * A case's Dice: the mean over foreground classes present in the label or the prediction (a class
 * in neither says nothing); 1 when both maps are all background.
 */
export function caseDice(predicted: ArrayLike<number>, reference: ArrayLike<number>, classes: number): number {
  const d = diceByClass(predicted, reference, classes)
    .dice.slice(1)
    .filter((x) => Number.isFinite(x));
  return d.length === 0 ? 1 : d.reduce((a, b) => a + b, 0) / d.length;
}

/**
 * Dice of each foreground class (index 0 = class 1) over the voxels of all the cases together: twice the summed
 * overlaps over the summed sizes; null for a class in no label and no prediction.
 */
export function pooledDice(results: DiceResult[], classes: number): (number | null)[] {
  return classSums(results, classes).map(({ overlap, size }) => (size > 0 ? (2 * overlap) / size : null));
}

/** Multi-class Dice over all foreground voxels of `results` together (see HoldoutScore.voxelDice). */
export function voxelDice(results: DiceResult[], classes: number): number {
  const sums = classSums(results, classes);
  const size = sums.reduce((a, c) => a + c.size, 0);
  return size > 0 ? (2 * sums.reduce((a, c) => a + c.overlap, 0)) / size : 1;
}

/** Per foreground class (index 0 = class 1): overlap voxels and predicted plus reference voxels, over all cases. */
function classSums(results: DiceResult[], classes: number): { overlap: number; size: number }[] {
  const out: { overlap: number; size: number }[] = [];
  for (let k = 1; k < classes; k++) {
    let overlap = 0;
    let size = 0;
    for (const d of results) {
      const n = d.predictedVoxels[k] + d.referenceVoxels[k];
      size += n;
      if (n > 0) overlap += (d.dice[k] * n) / 2;
    }
    out.push({ overlap, size });
  }
  return out;
}

/** Scores `model` on `cases`; `onCase(done, total)` after each case. Aborting throws an AbortError. */
export async function scoreCases(
  model: SegmentationModel,
  cases: ScoredCase[],
  signal?: AbortSignal,
  onCase?: (done: number, total: number) => void,
): Promise<HoldoutScore> {
  for (const c of cases) checkCase(c, model.classes);
  const perCase: { id: string; dice: number }[] = [];
  const sums = new Array<number>(model.classes - 1).fill(0);
  const counts = new Array<number>(model.classes - 1).fill(0);
  const results: DiceResult[] = [];
  for (const c of cases) {
    const r = await predictVolume(c.image, model, { signal });
    perCase.push({ id: c.id, dice: caseDice(r.label.data, c.label.data, model.classes) });
    const d = diceByClass(r.label.data, c.label.data, model.classes);
    results.push(d);
    d.dice.forEach((x, k) => {
      if (k > 0 && Number.isFinite(x)) {
        sums[k - 1] += x;
        counts[k - 1]++;
      }
    });
    onCase?.(perCase.length, cases.length);
  }
  const mean = perCase.length ? perCase.reduce((a, p) => a + p.dice, 0) / perCase.length : null;
  const pooled = pooledDice(results, model.classes);
  const defined = pooled.filter((x): x is number => x !== null);
  const pooledMean = perCase.length ? (defined.length ? defined.reduce((a, b) => a + b, 0) / defined.length : 1) : null;
  return {
    mean,
    perCase,
    byClass: sums.map((s, k) => (counts[k] ? s / counts[k] : null)),
    pooled,
    pooledMean,
    voxelDice: perCase.length ? voxelDice(results, model.classes) : null,
  };
}

/**
 * The foreground class (index 0 = class 1) whose pooled replay-holdout Dice the candidate lowers the most, when that
 * is by more than `tolerance`; null when none does (classes null on either side are skipped). The mean over classes
 * lets a gain in one class hide a loss in another: on `bench finetune` with the eleventh kidney starter (case seed
 * 200001) replay tumours rose 0.349 -> 0.433 while cysts fell 0.156 -> 0.140, the mean rose 0.469 -> 0.490, the
 * candidate was promoted, and one test patient lost 0.13 (its cysts); with case seed 200002 every class rose.
 */
export function replayClassDrop(
  byClass: { base: (number | null)[]; candidate: (number | null)[] },
  tolerance: number,
): { index: number; base: number; candidate: number } | null {
  let worst: { index: number; base: number; candidate: number } | null = null;
  byClass.base.forEach((b, index) => {
    const c = byClass.candidate[index];
    if (b === null || c === null || c === undefined || c >= b - tolerance - 1e-6) return;
    if (!worst || b - c > worst.base - worst.candidate) worst = { index, base: b, candidate: c };
  });
  return worst;
}
