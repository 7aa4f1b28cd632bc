// Turns the learning-curve data into plot series: loss per fine-tune run, holdout Dice per version,
// and per-case values grouped by the model version that pre-labelled the case (the legend's colours).
import type { LearningCurve, ModelInfo } from '../../../src-main/api/contract';
import { versionColor } from './plotScale';
import type { PlotSeries } from './plotScale';

/**
 * Exponential moving average with TensorBoard's debiasing (the first values are not pulled toward 0):
 * a step's loss over a batch of two patches is noisy, the trend is what the annotator reads.
 */
export function smoothEma(values: number[], weight = 0.85): number[] {
  let acc = 0;
  let norm = 0;
  return values.map((v) => {
    acc = weight * acc + (1 - weight) * v;
    norm = weight * norm + (1 - weight);
    return acc / norm;
  });
}

function smoothed(points: { x: number; y: number }[]): { points: { x: number; y: number }[]; raw?: typeof points } {
  if (points.length < 3) return { points };
  const ys = smoothEma(points.map((p) => p.y));
  return { points: points.map((p, n) => ({ x: p.x, y: ys[n] })), raw: points };
}

/**
 * One line per fine-tune run, named by the version it produced; the running one's live loss last. Lines are
 * smoothed (smoothEma) with the raw losses drawn faint beneath.
 */
export function lossSeries(
  curve: LearningCurve | null,
  models: ModelInfo[],
  liveLoss: { step: number; loss: number }[],
): PlotSeries[] {
  const versionOf = new Map(models.map((m) => [m.id, m.version]));
  const runs = new Map<string, { modelId: string | null; points: { x: number; y: number }[] }>();
  for (const p of curve?.trainingLoss ?? []) {
    let run = runs.get(p.jobId);
    if (!run) runs.set(p.jobId, (run = { modelId: p.modelId, points: [] }));
    run.points.push({ x: p.step, y: p.loss });
  }
  const out: PlotSeries[] = [...runs.values()].map((r, n) => {
    const v = r.modelId ? (versionOf.get(r.modelId) ?? null) : null;
    return { label: v === null ? `run ${n + 1}` : `v${v}`, color: versionColor(v), ...smoothed(r.points), line: true };
  });
  if (liveLoss.length > 0)
    out.push({
      label: 'running',
      color: '#ffffff',
      ...smoothed(liveLoss.map((p) => ({ x: p.step, y: p.loss }))),
      line: true,
    });
  return out;
}

export function holdoutDiceSeries(curve: LearningCurve | null): PlotSeries[] {
  const points = (curve?.modelDice ?? []).flatMap((d) =>
    d.holdoutDice === null
      ? []
      : [
          {
            x: d.version,
            y: d.holdoutDice,
            color: versionColor(d.version),
            title: `version ${d.version}: holdout Dice ${d.holdoutDice.toFixed(3)}`,
          },
        ],
  );
  return points.length ? [{ label: 'holdout Dice', color: '#4fb3e8', points, line: true }] : [];
}

/** One series per pre-labelling model version, x = the case's place in submission order (1, 2, ...). */
export function perCaseSeries(
  curve: LearningCurve | null,
  value: (c: LearningCurve['cases'][number]) => number | null,
  unit: string,
): PlotSeries[] {
  const groups = new Map<number | null, PlotSeries>();
  (curve?.cases ?? []).forEach((c, n) => {
    const y = value(c);
    if (y === null) return;
    let s = groups.get(c.modelVersion);
    if (!s) {
      const label = c.modelVersion === null ? 'no pre-label' : `v${c.modelVersion}`;
      groups.set(c.modelVersion, (s = { label, color: versionColor(c.modelVersion), points: [], line: false }));
    }
    const title = `${c.name}${c.holdout ? ' (holdout)' : ''}: ${Number(y.toPrecision(3))} ${unit}`;
    s.points.push({ x: n + 1, y, title });
  });
  return [...groups.values()].sort((a, b) => a.label.localeCompare(b.label));
}
