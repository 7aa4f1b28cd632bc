// Label metrics against a brute-force reference: per-class Dice, changed voxels, voxels per class.
import { describe, expect, it } from 'vitest';
import { changedVoxels, compareLabels, voxelsPerClass } from '../../src-main/labels/metrics';
import { lcg } from './helpers';

/** The obvious per-class loops: the definition the fast single-pass version must reproduce. */
function bruteForce(a: ArrayLike<number>, b: ArrayLike<number>, classes: number[]) {
  let changed = 0;
  for (let p = 0; p < a.length; p++) if (a[p] !== b[p]) changed++;
  const perClass = classes.map((c) => {
    let na = 0;
    let nb = 0;
    let both = 0;
    for (let p = 0; p < a.length; p++) {
      if (a[p] === c) na++;
      if (b[p] === c) nb++;
      if (a[p] === c && b[p] === c) both++;
    }
    return { value: c, voxelsA: na, voxelsB: nb, intersection: both, dice: na + nb === 0 ? 1 : (2 * both) / (na + nb) };
  });
  return { changed, perClass };
}

function randomLabels(
  make: (n: number) => Uint8Array | Int16Array,
  n: number,
  maxClass: number,
  flip: number,
  seed: number,
): [Uint8Array | Int16Array, Uint8Array | Int16Array] {
  const rnd = lcg(seed);
  const a = make(n);
  const b = make(n);
  for (let p = 0; p < n; p++) {
    a[p] = Math.floor(rnd() * (maxClass + 1));
    b[p] = rnd() < flip ? Math.floor(rnd() * (maxClass + 1)) : a[p];
  }
  return [a, b];
}

describe('compareLabels', () => {
  for (const [name, make] of [
    ['uint8', (n: number) => new Uint8Array(n)],
    ['int16', (n: number) => new Int16Array(n)],
  ] as const) {
    it(`matches the brute-force reference (${name}, 3 classes, 20% changed)`, () => {
      const [a, b] = randomLabels(make, 20_000, 3, 0.2, 11);
      const got = compareLabels(a, b, [1, 2, 3]);
      const ref = bruteForce(a, b, [1, 2, 3]);
      expect(got.changedVoxels).toBe(ref.changed);
      expect(got.changedVoxels).toBeGreaterThan(0);
      for (const [p, c] of got.classes.entries()) {
        expect(c.voxelsA).toBe(ref.perClass[p].voxelsA);
        expect(c.voxelsB).toBe(ref.perClass[p].voxelsB);
        expect(c.intersection).toBe(ref.perClass[p].intersection);
        expect(Math.abs(c.dice - ref.perClass[p].dice)).toBeLessThan(1e-12);
      }
      const meanRef = ref.perClass.reduce((s, c) => s + c.dice, 0) / 3;
      expect(Math.abs((got.meanDice ?? NaN) - meanRef)).toBeLessThan(1e-12);
      expect(got.unknownValues).toEqual([]);
    });
  }

  it('matches brute force on mostly-background maps of odd length, aligned and unaligned', () => {
    const rnd = lcg(23);
    const a = new Uint8Array(10_003);
    const b = new Uint8Array(10_003);
    for (let p = 0; p < a.length; p++) {
      if (rnd() < 0.05) a[p] = 1 + Math.floor(rnd() * 3);
      b[p] = rnd() < 0.02 ? Math.floor(rnd() * 4) : a[p];
    }
    for (const [x, y] of [
      [a, b],
      [a.subarray(1), b.subarray(1)],
      [a.subarray(2, 10_001), b.subarray(2, 10_001)],
    ]) {
      const got = compareLabels(x, y, [1, 2, 3]);
      const ref = bruteForce(x, y, [1, 2, 3]);
      expect(got.changedVoxels).toBe(ref.changed);
      expect(changedVoxels(x, y)).toBe(ref.changed);
      expect(voxelsPerClass(y).slice(1)).toEqual(ref.perClass.map((c) => c.voxelsB));
      expect(voxelsPerClass(y)[0]).toBe(y.length - ref.perClass.reduce((s, c) => s + c.voxelsB, 0));
      expect(got.classes.map((c) => [c.voxelsA, c.voxelsB, c.intersection])).toEqual(
        ref.perClass.map((c) => [c.voxelsA, c.voxelsB, c.intersection]),
      );
    }
  });

  it('reports Dice 1 for a class empty in both maps, flags it, and leaves it out of the mean', () => {
    const a = new Uint8Array([0, 1, 1, 0, 2, 2]);
    const b = new Uint8Array([0, 1, 0, 0, 2, 1]);
    const got = compareLabels(a, b, [1, 2, 3]);
    const cyst = got.classes[2];
    expect(cyst).toMatchObject({ value: 3, voxelsA: 0, voxelsB: 0, bothEmpty: true, dice: 1 });
    // kidney: |A|=2, |B|=2, |A∩B|=1 → 0.5; tumor: |A|=2, |B|=1, |A∩B|=1 → 2/3.
    expect(got.classes[0].dice).toBeCloseTo(0.5, 12);
    expect(got.classes[1].dice).toBeCloseTo(2 / 3, 12);
    expect(got.meanDice).toBeCloseTo((0.5 + 2 / 3) / 2, 12);
    expect(got.changedVoxels).toBe(2);
  });

  it('gives Dice 0 when a class vanishes and null mean Dice when nothing is labelled', () => {
    expect(compareLabels(new Uint8Array([1, 1, 0]), new Uint8Array([0, 0, 0]), [1]).classes[0].dice).toBe(0);
    expect(compareLabels(new Uint8Array(4), new Uint8Array(4), [1, 2]).meanDice).toBeNull();
  });

  it('lists values outside the schema instead of hiding them', () => {
    const got = compareLabels(new Uint8Array([0, 7, 1]), new Uint8Array([0, 0, 9]), [1, 2]);
    expect(got.unknownValues).toEqual([7, 9]);
  });

  it('refuses maps of different sizes and non-label values', () => {
    expect(() => compareLabels(new Uint8Array(3), new Uint8Array(4), [1])).toThrow(/3 and 4 voxels/);
    expect(() => compareLabels(new Int16Array([0, -1]), new Int16Array(2), [1])).toThrow(/value -1 at voxel 1/);
    expect(() => compareLabels(new Float32Array([0.5]), new Float32Array(1), [1])).toThrow(/value 0.5/);
    expect(() => changedVoxels(new Uint8Array(2), new Uint8Array(1))).toThrow(/same grid/);
  });
});

describe('changedVoxels and voxelsPerClass', () => {
  it('match brute force on uint8 and int16 maps', () => {
    for (const make of [(n: number) => new Uint8Array(n), (n: number) => new Int16Array(n)]) {
      const [a, b] = randomLabels(make, 5_000, 4, 0.3, 5);
      const ref = bruteForce(a, b, [0, 1, 2, 3, 4]);
      expect(changedVoxels(a, b)).toBe(ref.changed);
      expect(voxelsPerClass(a)).toEqual(ref.perClass.map((c) => c.voxelsA));
    }
  });

  it('trims trailing empty classes and counts a big uint8 value', () => {
    expect(voxelsPerClass(new Uint8Array([0, 0, 2]))).toEqual([2, 0, 1]);
    expect(voxelsPerClass(new Uint8Array([255]))[255]).toBe(1);
    expect(voxelsPerClass(new Uint8Array(3))).toEqual([3]);
  });
});
