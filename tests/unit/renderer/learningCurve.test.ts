// The learning-curve panel's pure parts: axis ranges and round ticks, series per run and per model
// version, and when the roll-back button shows.
import { describe, expect, it } from 'vitest';
import type { LearningCurve, ModelInfo } from '../../../src-main/api/contract';
import { holdoutDiceSeries, lossSeries, perCaseSeries, smoothEma } from '../../../src-renderer/lib/models/curveSeries';
import { canRollback } from '../../../src-renderer/lib/models/modelRules';
import { rangeOf, tickLabel, ticksOf, versionColor } from '../../../src-renderer/lib/models/plotScale';

function model(id: string, version: number, status: ModelInfo['status'], promotedAt: string | null): ModelInfo {
  return {
    id,
    schema: 'kidney',
    folder: `/m/${id}`,
    version,
    parentId: null,
    status,
    metrics: {},
    training: {},
    note: '',
    createdAt: '2026-01-01T00:00:00.000Z',
    promotedAt,
    retiredAt: null,
  };
}

const caseRow = (name: string, modelVersion: number | null, dice: number | null): LearningCurve['cases'][number] => ({
  caseId: name,
  name,
  submittedAt: '2026-01-01T00:00:00.000Z',
  modelId: modelVersion === null ? null : `m${modelVersion}`,
  modelVersion,
  dicePrelabelVsSubmitted: dice,
  voxelsChanged: dice === null ? null : 100,
  activeEditMinutes: 2,
  holdout: false,
});

describe('plot scales', () => {
  it('widens flat ranges, honours fixed ends, and picks round ticks', () => {
    expect(rangeOf([3, 3])).toEqual({ min: 2.7, max: 3.3 });
    expect(rangeOf([], { min: 0, max: 1 })).toEqual({ min: 0, max: 1 });
    expect(rangeOf([0, 0], { min: 0 })).toEqual({ min: 0, max: 1 });
    expect(ticksOf({ min: 0, max: 1 }, 4)).toEqual([0, 0.5, 1]);
    expect(ticksOf({ min: 1, max: 200 }, 4)).toEqual([50, 100, 150, 200]);
    expect([tickLabel(3), tickLabel(0.12345), tickLabel(25_000)]).toEqual(['3', '0.123', '25k']);
    expect(versionColor(1)).not.toBe(versionColor(2));
    expect(versionColor(null)).toBe('#8595a7');
  });
});

describe('learning-curve series', () => {
  const models = [
    model('m1', 1, 'retired', '2026-01-01T00:00:00.000Z'),
    model('m2', 2, 'active', '2026-01-02T00:00:00.000Z'),
  ];
  const curve: LearningCurve = {
    trainingLoss: [
      { jobId: 'j1', modelId: 'm2', step: 1, loss: 1.2 },
      { jobId: 'j1', modelId: 'm2', step: 2, loss: 1.0 },
      { jobId: 'j2', modelId: null, step: 1, loss: 0.9 },
    ],
    modelDice: [
      { modelId: 'm1', version: 1, holdoutDice: 0.5, createdAt: '' },
      { modelId: 'm2', version: 2, holdoutDice: null, createdAt: '' },
    ],
    cases: [caseRow('a', 1, 0.6), caseRow('b', null, null), caseRow('c', 2, 0.8), caseRow('d', 1, 0.7)],
  };

  it('draws one loss line per run (named by its version) plus the running one', () => {
    const s = lossSeries(curve, models, [{ step: 1, loss: 0.5 }]);
    expect(s.map((x) => [x.label, x.points.length])).toEqual([
      ['v2', 2],
      ['run 2', 1],
      ['running', 1],
    ]);
    expect(holdoutDiceSeries(curve)[0].points.map((p) => [p.x, p.y])).toEqual([[1, 0.5]]);
  });

  it('smooths the loss lines and keeps the raw losses beneath', () => {
    // Constant stays constant (debiased: no pull toward 0 at the start).
    expect(smoothEma([0.7, 0.7, 0.7]).map((v) => +v.toFixed(12))).toEqual([0.7, 0.7, 0.7]);
    // Alternating noise around a falling trend: the smoothed line wiggles far less than the raw values.
    const raw = Array.from({ length: 60 }, (_, n) => 1 - n / 100 + (n % 2 ? 0.2 : -0.2));
    const sm = smoothEma(raw);
    const wiggle = (v: number[]) => v.slice(11).reduce((a, x, n) => a + Math.abs(x - v[10 + n]), 0);
    expect(wiggle(sm)).toBeLessThan(0.2 * wiggle(raw));
    // It follows the trend (0.41 at the end) with the EMA's lag of about weight / (1 - weight) steps.
    expect(Math.abs(sm[59] - 0.41)).toBeLessThan(0.1);
    const long: LearningCurve = {
      ...curve,
      trainingLoss: raw.map((loss, n) => ({ jobId: 'j9', modelId: 'm2', step: n + 1, loss })),
    };
    const [line] = lossSeries(long, models, []);
    expect(line.raw!.map((p) => p.y)).toEqual(raw);
    expect(line.points.map((p) => p.y)).toEqual(sm);
    // Two points are drawn as they are.
    expect(lossSeries(curve, models, [])[0].raw).toBeUndefined();
  });

  it('groups per-case values by the pre-labelling version at their place in submission order', () => {
    const s = perCaseSeries(curve, (c) => c.dicePrelabelVsSubmitted, 'Dice');
    expect(s.map((x) => [x.label, x.points.map((p) => [p.x, p.y])])).toEqual([
      [
        'v1',
        [
          [1, 0.6],
          [4, 0.7],
        ],
      ],
      ['v2', [[3, 0.8]]],
    ]);
    expect(perCaseSeries(curve, (c) => c.activeEditMinutes, 'min').map((x) => x.label)).toEqual([
      'no pre-label',
      'v1',
      'v2',
    ]);
  });

  it('offers a roll-back only when a version was promoted before the active one', () => {
    expect(canRollback(models)).toBe(true);
    expect(canRollback([model('m1', 1, 'active', '2026-01-01T00:00:00.000Z')])).toBe(false);
    expect(canRollback([model('m1', 1, 'active', '2026-01-03T00:00:00.000Z'), model('m2', 2, 'candidate', null)])).toBe(
      false,
    );
  });
});
