// Dice per class against set arithmetic on random label maps, and reference value mapping.
import { describe, expect, it } from 'vitest';
import { diceByClass } from '../../src-main/predict/metrics';
import { rng } from './helpers';

describe('diceByClass', () => {
  it('equals 2|A∩B| / (|A| + |B|) per class', () => {
    const r = rng(3);
    const n = 500;
    const pred = new Uint8Array(n).map(() => Math.floor(r() * 4));
    const ref = new Uint8Array(n).map(() => Math.floor(r() * 4));
    const res = diceByClass(pred, ref, 4);
    for (let c = 1; c < 4; c++) {
      const a = new Set([...pred.keys()].filter((i) => pred[i] === c));
      const b = new Set([...ref.keys()].filter((i) => ref[i] === c));
      const inter = [...a].filter((i) => b.has(i)).length;
      expect(res.dice[c]).toBeCloseTo((2 * inter) / (a.size + b.size), 12);
      expect(res.predictedVoxels[c]).toBe(a.size);
      expect(res.referenceVoxels[c]).toBe(b.size);
    }
    expect(diceByClass(pred, pred, 4).dice.slice(1)).toEqual([1, 1, 1]);
  });

  it('maps reference values (e.g. TotalSegmentator kidneys 2, 3 → 1) and reports empty classes as NaN', () => {
    const pred = new Uint8Array([1, 1, 0, 0, 2, 0]);
    const ref = new Uint8Array([2, 3, 3, 7, 5, 0]);
    const res = diceByClass(pred, ref, 3, { 2: 1, 3: 1, 7: 2 });
    expect(res.dice[1]).toBeCloseTo((2 * 2) / (2 + 3), 12);
    expect(res.dice[2]).toBe(0); // predicted at 4, reference at 3
    expect(Number.isNaN(diceByClass(new Uint8Array(3), new Uint8Array(3), 2).dice[1])).toBe(true);
    expect(() => diceByClass(new Uint8Array(3), new Uint8Array(4), 2)).toThrow(/differ in size/);
  });
});
