// Holdout scoring for fine-tuning: each case through the full prediction pipeline, Dice against its submitted label.
import type { Volume } from '../../imaging/volume';
import { predictVolume } from '../../predict/predict';
import { diceByClass } from '../../predict/metrics';
import type { SegmentationModel } from '../../predict/types';
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
  for (const c of cases) {
    const r = await predictVolume(c.image, model, { signal });
    perCase.push({ id: c.id, dice: caseDice(r.label.data, c.label.data, model.classes) });
    diceByClass(r.label.data, c.label.data, model.classes).dice.forEach((d, k) => {
      if (k > 0 && Number.isFinite(d)) {
        sums[k - 1] += d;
        counts[k - 1]++;
      }
    });
    onCase?.(perCase.length, cases.length);
  }
  const mean = perCase.length ? perCase.reduce((a, p) => a + p.dice, 0) / perCase.length : null;
  return { mean, perCase, byClass: sums.map((s, k) => (counts[k] ? s / counts[k] : null)) };
}
