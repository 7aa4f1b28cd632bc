// Label editing operations against brute-force references: brush disc/ball, threshold, locks,
// rectangle scissors, stroke diffs, and undo/redo restoring exact voxel counts over 60 steps.
import { describe, expect, it } from 'vitest';
import {
  countClasses,
  StrokeRecorder,
  type LabelGrid,
  type PaintRules,
  type Vec3,
} from '../../../src-renderer/lib/labels/labelGrid';
import { paintBrush } from '../../../src-renderer/lib/labels/paintBrush';
import { fillRectangle } from '../../../src-renderer/lib/labels/fillRectangle';
import { LabelHistory } from '../../../src-renderer/lib/labels/labelHistory';
import { diffLabels } from '../../../src-renderer/lib/labels/diffLabels';

const dims: [number, number, number] = [20, 18, 12];
const spacingMm: [number, number, number] = [0.8, 0.8, 2.5];
const N = dims[0] * dims[1] * dims[2];

function grid(): LabelGrid {
  return { dims, spacingMm, labels: new Uint8Array(N) };
}

/** Every voxel, with its ijk, for the brute-force references. */
function* voxels(): Generator<[number, number, number, number]> {
  for (let k = 0; k < dims[2]; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++) yield [(k * dims[1] + j) * dims[0] + i, i, j, k];
}

function distMm(a: Vec3, b: Vec3): number {
  return Math.hypot((a[0] - b[0]) * spacingMm[0], (a[1] - b[1]) * spacingMm[1], (a[2] - b[2]) * spacingMm[2]);
}

function image(): Float32Array {
  // A ramp in HU along i so that a threshold selects a known band of columns.
  const img = new Float32Array(N);
  for (const [n, i] of voxels()) img[n] = -200 + i * 25;
  return img;
}

describe('paintBrush', () => {
  it('paints exactly the voxels of a disc on the shown slice and a ball in 3D', () => {
    const center: Vec3 = [9.3, 8.6, 5.2];
    for (const shape of [{ kind: 'circle', normalAxis: 2 } as const, { kind: 'sphere' } as const]) {
      const g = grid();
      const rec = new StrokeRecorder(g.labels, countClasses(g.labels));
      const changed = paintBrush(g, { value: 2, locked: new Set() }, center, 3, shape, rec);
      let expected = 0;
      for (const [n, i, j, k] of voxels()) {
        const inside =
          shape.kind === 'circle'
            ? k === Math.round(center[2]) && distMm([i, j, center[2]], center) <= 3
            : distMm([i, j, k], center) <= 3;
        expect(g.labels[n], `voxel ${i},${j},${k}`).toBe(inside ? 2 : 0);
        if (inside) expected++;
      }
      expect(changed).toBe(expected);
      expect(expected).toBeGreaterThan(10);
      expect(rec.counts[2]).toBe(expected);
    }
  });

  it('threshold brush paints only voxels inside the HU range', () => {
    const g = grid();
    const img = image();
    const rules: PaintRules = { value: 1, locked: new Set(), huRange: [0, 100], image: img };
    const rec = new StrokeRecorder(g.labels, countClasses(g.labels));
    paintBrush(g, rules, [10, 9, 6], 6, { kind: 'circle', normalAxis: 2 }, rec);
    let expected = 0;
    for (const [n, i, j, k] of voxels()) {
      const inside = k === 6 && distMm([i, j, 6], [10, 9, 6]) <= 6 && img[n] >= 0 && img[n] <= 100;
      expect(g.labels[n], `voxel ${i},${j},${k} (HU ${img[n]})`).toBe(inside ? 1 : 0);
      if (inside) expected++;
    }
    // Columns i = 8..12 are in range (HU 0..100); the disc is wider, so the range must cut it.
    expect(expected).toBeGreaterThan(10);
    expect(countClasses(g.labels)[1]).toBe(expected);
  });

  it('never changes voxels of a locked class, and the eraser leaves them too', () => {
    const g = grid();
    g.labels.fill(3, 0, N / 2);
    const rec = new StrokeRecorder(g.labels, countClasses(g.labels));
    paintBrush(g, { value: 1, locked: new Set([3]) }, [10, 9, 6], 50, { kind: 'sphere' }, rec);
    paintBrush(g, { value: 0, locked: new Set([3]) }, [10, 9, 6], 50, { kind: 'sphere' }, rec);
    expect(countClasses(g.labels)[3]).toBe(N / 2);
    expect(countClasses(g.labels)[1]).toBe(0);
  });
});

describe('fillRectangle', () => {
  it('fills and erases the rectangle on one slice only', () => {
    const g = grid();
    const rec = new StrokeRecorder(g.labels, countClasses(g.labels));
    const n = fillRectangle(g, { value: 2, locked: new Set() }, [3.4, 12.2, 4], [8.9, 5.1, 4], 2, 4, rec);
    // i in 4..8 (5 columns), j in 6..12 (7 rows), k = 4.
    expect(n).toBe(5 * 7);
    for (const [idx, i, j, k] of voxels()) {
      const inside = k === 4 && i >= 4 && i <= 8 && j >= 6 && j <= 12;
      expect(g.labels[idx]).toBe(inside ? 2 : 0);
    }
    const erased = fillRectangle(g, { value: 0, locked: new Set() }, [0, 0, 4], [5.5, 19, 4], 2, 4, rec);
    expect(erased).toBe(2 * 7);
    expect(countClasses(g.labels)[2]).toBe(3 * 7);
  });
});

describe('undo/redo', () => {
  it('restores exact voxel counts through 60 strokes and back', () => {
    const g = grid();
    const history = new LabelHistory();
    let counts = countClasses(g.labels);
    const snapshots: Uint8Array[] = [g.labels.slice()];
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let s = 0; s < 60; s++) {
      const rec = new StrokeRecorder(g.labels, counts);
      const value = s % 5 === 4 ? 0 : 1 + (s % 3);
      paintBrush(
        g,
        { value, locked: new Set() },
        [rnd() * 20, rnd() * 18, rnd() * 12],
        1 + rnd() * 4,
        { kind: 'sphere' },
        rec,
      );
      const change = rec.finish();
      if (change) history.push(change);
      snapshots.push(g.labels.slice());
      expect(counts).toEqual(countClasses(g.labels));
    }
    const steps = snapshots.length - 1;
    for (let s = steps; s > 0; s--) {
      if (snapshots[s].every((v, n) => v === snapshots[s - 1][n])) continue; // a stroke that changed nothing
      expect(history.undo(g.labels, counts)).not.toBeNull();
      expect(g.labels).toEqual(snapshots[s - 1]);
    }
    expect(history.canUndo).toBe(false);
    expect(countClasses(g.labels)).toEqual(countClasses(snapshots[0]));
    counts = countClasses(g.labels);
    while (history.canRedo) history.redo(g.labels, counts);
    expect(g.labels).toEqual(snapshots[steps]);
    expect(counts).toEqual(countClasses(g.labels));
  });

  it('diffLabels makes a whole-map restore undoable and rejects other sizes', () => {
    const a = new Uint8Array([0, 1, 2, 3]);
    const b = new Uint8Array([0, 2, 2, 0]);
    const c = diffLabels(a, b)!;
    expect([...c.indices]).toEqual([1, 3]);
    expect([...c.before]).toEqual([1, 3]);
    expect([...c.after]).toEqual([2, 0]);
    expect(diffLabels(a, a.slice())).toBeNull();
    expect(() => diffLabels(a, new Uint8Array(3))).toThrow(/differ in size/);
  });
});
