// The correction tools of issue 6 against brute-force references on small random volumes: circle
// and lasso scissors (slice and 3D), paint-fill (with HU range), island removal (6-connectivity),
// shape-based slice interpolation, smoothing (open/close/median), clear and relabel, and locks.
import { describe, expect, it } from 'vitest';
import { countClasses, StrokeRecorder, type LabelGrid, type Vec3 } from '../../../src-renderer/lib/labels/labelGrid';
import { fillCircle } from '../../../src-renderer/lib/labels/fillCircle';
import { fillPolygon } from '../../../src-renderer/lib/labels/fillPolygon';
import { floodFill } from '../../../src-renderer/lib/labels/floodFill';
import { removeIslands } from '../../../src-renderer/lib/labels/removeIslands';
import { interpolateSlices } from '../../../src-renderer/lib/labels/interpolateSlices';
import { smoothSegment, type SmoothMethod } from '../../../src-renderer/lib/labels/smoothSegment';
import { clearSegment } from '../../../src-renderer/lib/labels/clearSegment';
import { relabelSegment } from '../../../src-renderer/lib/labels/relabelSegment';
import { squaredDistanceMm } from '../../../src-renderer/lib/labels/distanceTransform';
import { planeAxes, type Axis } from '../../../src-renderer/lib/labels/sliceGeometry';

const dims: [number, number, number] = [14, 12, 9];
const spacingMm: [number, number, number] = [0.7, 0.9, 2];
const N = dims[0] * dims[1] * dims[2];
const NONE: ReadonlySet<number> = new Set();

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** A random label volume with blobs of classes 1..3 (fraction `fill` non-zero). */
function randomGrid(seed: number, fill = 0.35, classes = 3): LabelGrid {
  const r = rng(seed);
  const labels = new Uint8Array(N);
  for (let n = 0; n < N; n++) labels[n] = r() < fill ? 1 + Math.floor(r() * classes) : 0;
  return { dims, spacingMm, labels };
}

const idx = (i: number, j: number, k: number) => (k * dims[1] + j) * dims[0] + i;
function ijkOf(n: number): [number, number, number] {
  return [n % dims[0], Math.floor(n / dims[0]) % dims[1], Math.floor(n / (dims[0] * dims[1]))];
}

function recorder(g: LabelGrid): StrokeRecorder {
  return new StrokeRecorder(g.labels, countClasses(g.labels));
}

/** Expected labels after writing `value` into the voxels `inside` says, sparing locked classes. */
function expectWrite(
  before: Uint8Array,
  after: Uint8Array,
  inside: (n: number) => boolean,
  value: number,
  locked: ReadonlySet<number>,
): number {
  let changed = 0;
  for (let n = 0; n < N; n++) {
    const want = inside(n) && !locked.has(before[n]) ? value : before[n];
    expect(after[n], `voxel ${ijkOf(n)}`).toBe(want);
    if (want !== before[n]) changed++;
  }
  return changed;
}

describe('circle and lasso scissors', () => {
  for (const axis of [0, 1, 2] as Axis[])
    for (const through of [false, true]) {
      it(`circle fills / erases on axis ${axis}, ${through ? '3D' : 'slice'}, sparing locked voxels`, () => {
        const g = randomGrid(11 + axis);
        const before = g.labels.slice();
        const centre: Vec3 = [6.3, 5.4, 4.2];
        const slice = Math.round(centre[axis]);
        const [a, b] = planeAxes(axis);
        const locked = new Set([3]);
        const inside = (n: number) => {
          const p = ijkOf(n);
          const d = Math.hypot((p[a] - centre[a]) * spacingMm[a], (p[b] - centre[b]) * spacingMm[b]);
          return d <= 3 && (through || p[axis] === slice);
        };
        for (const value of [2, 0]) {
          const start = g.labels.slice();
          const rec = recorder(g);
          const n = fillCircle(g, { value, locked }, centre, 3, axis, slice, through, rec);
          const expected = expectWrite(start, g.labels, inside, value, locked);
          expect(n).toBe(expected);
          expect(expected).toBeGreaterThan(2);
          expect(rec.counts).toEqual(countClasses(g.labels));
        }
        expect(countClasses(g.labels)[3]).toBe(countClasses(before)[3]);
      });
    }

  it('lasso fills exactly the voxel centres inside a concave polygon (even-odd reference)', () => {
    for (const axis of [0, 1, 2] as Axis[])
      for (const through of [false, true]) {
        const g = randomGrid(21 + axis);
        const [a, b] = planeAxes(axis);
        const slice = 4;
        // A concave "C" in (u, v) voxel coordinates, with vertices off the voxel grid.
        const uv = [
          [0.6, 0.4],
          [8.7, 1.2],
          [8.2, 3.6],
          [3.3, 3.9],
          [3.1, 6.6],
          [9.4, 7.2],
          [7.9, 8.7],
          [1.2, 8.1],
        ];
        const pts: Vec3[] = uv.map(([u, v]) => {
          const p: Vec3 = [0, 0, 0];
          p[axis] = slice;
          p[a] = u;
          p[b] = v;
          return p;
        });
        const inPoly = (u: number, v: number) => {
          let odd = false;
          for (let e = 0, f = uv.length - 1; e < uv.length; f = e++) {
            const [u0, v0] = uv[f];
            const [u1, v1] = uv[e];
            if (v0 <= v !== v1 <= v && u < u0 + ((v - v0) / (v1 - v0)) * (u1 - u0)) odd = !odd;
          }
          return odd;
        };
        const start = g.labels.slice();
        const rec = recorder(g);
        const n = fillPolygon(g, { value: 1, locked: NONE }, pts, axis, slice, through, rec);
        const expected = expectWrite(
          start,
          g.labels,
          (m) => {
            const p = ijkOf(m);
            return (through || p[axis] === slice) && inPoly(p[a], p[b]);
          },
          1,
          NONE,
        );
        expect(n).toBe(expected);
        expect(expected).toBeGreaterThan(5);
      }
  });
});

describe('paint-fill', () => {
  /** Brute force: repeatedly grow a set of 4-neighbours on the slice until nothing changes. */
  function regionRef(labels: Uint8Array, seed: number[], axis: Axis, ok: (n: number) => boolean): Set<number> {
    const [a, b] = planeAxes(axis);
    const target = labels[idx(seed[0], seed[1], seed[2])];
    const region = new Set<number>([idx(seed[0], seed[1], seed[2])]);
    let grew = true;
    while (grew) {
      grew = false;
      for (let n = 0; n < N; n++) {
        if (region.has(n) || labels[n] !== target || !ok(n)) continue;
        const p = ijkOf(n);
        if (p[axis] !== seed[axis]) continue;
        for (const [da, db] of [
          [1, 0],
          [-1, 0],
          [0, 1],
          [0, -1],
        ]) {
          const q = [...p];
          q[a] += da;
          q[b] += db;
          if (q[a] < 0 || q[b] < 0 || q[a] >= dims[a] || q[b] >= dims[b]) continue;
          if (region.has(idx(q[0], q[1], q[2]))) {
            region.add(n);
            grew = true;
            break;
          }
        }
      }
    }
    return region;
  }

  for (const axis of [0, 1, 2] as Axis[])
    it(`fills the 4-connected same-label region on the slice (axis ${axis}), with and without HU range`, () => {
      const g = randomGrid(31 + axis, 0.3, 1);
      const image = new Float32Array(N);
      const r = rng(5);
      for (let n = 0; n < N; n++) image[n] = Math.round(r() * 200 - 100);
      const seed = [5, 6, 4];
      const target = g.labels[idx(seed[0], seed[1], seed[2])];
      const value = target === 0 ? 2 : 0;
      for (const hu of [null, [-60, 100] as [number, number]]) {
        const start = g.labels.slice();
        const ok = (n: number) => !hu || (image[n] >= hu[0] && image[n] <= hu[1]);
        if (!ok(idx(seed[0], seed[1], seed[2]))) image[idx(seed[0], seed[1], seed[2])] = 0;
        const region = regionRef(start, seed, axis, ok);
        const rec = recorder(g);
        const rules = hu ? { value, locked: NONE, huRange: hu, image } : { value, locked: NONE };
        const n = floodFill(g, rules, [seed[0] + 0.3, seed[1] - 0.2, seed[2]], axis, rec);
        expect(n).toBe(expectWrite(start, g.labels, (m) => region.has(m), value, NONE));
        expect(region.size).toBeGreaterThan(1);
        g.labels.set(start);
      }
    });

  it('fills nothing from a locked label or a seed outside the volume', () => {
    const g = randomGrid(41);
    const seedValue = g.labels[idx(3, 3, 3)];
    const start = g.labels.slice();
    expect(floodFill(g, { value: 9, locked: new Set([seedValue]) }, [3, 3, 3], 2, recorder(g))).toBe(0);
    expect(floodFill(g, { value: 9, locked: NONE }, [-1, 3, 3], 2, recorder(g))).toBe(0);
    expect(g.labels).toEqual(start);
  });
});

describe('island removal', () => {
  /** Brute-force 6-connected components by repeated label propagation (min index wins). */
  function componentsRef(labels: Uint8Array, value: number): Map<number, number[]> {
    const comp = new Int32Array(N).fill(-1);
    for (let n = 0; n < N; n++) if (labels[n] === value) comp[n] = n;
    let changed = true;
    while (changed) {
      changed = false;
      for (let n = 0; n < N; n++) {
        if (comp[n] < 0) continue;
        const p = ijkOf(n);
        for (let a = 0; a < 3; a++)
          for (const d of [-1, 1]) {
            const q = [...p];
            q[a] += d;
            if (q[a] < 0 || q[a] >= dims[a]) continue;
            const m = idx(q[0], q[1], q[2]);
            if (comp[m] >= 0 && comp[m] < comp[n]) {
              comp[n] = comp[m];
              changed = true;
            }
          }
      }
    }
    const out = new Map<number, number[]>();
    for (let n = 0; n < N; n++) if (comp[n] >= 0) out.set(comp[n], [...(out.get(comp[n]) ?? []), n]);
    return out;
  }

  it('keeps only the largest component, and removes those under N voxels', () => {
    const g = randomGrid(51, 0.5, 2);
    const comps = [...componentsRef(g.labels, 1).values()];
    expect(comps.length).toBeGreaterThan(3);
    const largest = comps.reduce((x, y) => (y.length > x.length ? y : x));
    // Ties would make "largest" ambiguous; the random volume has a unique one.
    expect(comps.filter((c) => c.length === largest.length).length).toBe(1);
    const start = g.labels.slice();
    const keepSet = new Set(largest);
    let n = removeIslands(g, 1, { keep: 'largest' }, NONE, recorder(g));
    expect(n).toBe(expectWrite(start, g.labels, (m) => start[m] === 1 && !keepSet.has(m), 0, NONE));

    g.labels.set(start);
    const small = new Set(comps.filter((c) => c.length < 4).flat());
    expect(small.size).toBeGreaterThan(0);
    n = removeIslands(g, 1, { minVoxels: 4 }, NONE, recorder(g));
    expect(n).toBe(expectWrite(start, g.labels, (m) => small.has(m), 0, NONE));
    g.labels.set(start);
    expect(removeIslands(g, 1, { keep: 'largest' }, new Set([1]), recorder(g))).toBe(0);
    expect(() => removeIslands(g, 1, { minVoxels: -2 }, NONE, recorder(g))).toThrow(/voxel count/);
  });
});

describe('slice interpolation', () => {
  it('the distance transform matches brute force in mm', () => {
    const r = rng(61);
    const nu = 11;
    const nv = 8;
    const f = new Uint8Array(nu * nv).map(() => (r() < 0.1 ? 1 : 0));
    const d = squaredDistanceMm(f, nu, nv, [0.7, 1.3]);
    for (let p = 0; p < f.length; p++) {
      let best = Infinity;
      for (let q = 0; q < f.length; q++)
        if (f[q])
          best = Math.min(
            best,
            ((p % nu) - (q % nu)) ** 2 * 0.49 + (Math.floor(p / nu) - Math.floor(q / nu)) ** 2 * 1.69,
          );
      expect(d[p]).toBeCloseTo(best, 9);
    }
  });

  for (const axis of [2, 0] as Axis[])
    it(`fills empty slices between edited ones along axis ${axis} from blended signed distances`, () => {
      const [a, b] = planeAxes(axis);
      const g: LabelGrid = { dims, spacingMm, labels: new Uint8Array(N) };
      const at = (s: number, u: number, v: number) => {
        const p = [0, 0, 0];
        p[axis] = s;
        p[a] = u;
        p[b] = v;
        return idx(p[0], p[1], p[2]);
      };
      // A small disc on slice 1 and a larger offset ellipse on slice 6; another class in the way.
      for (let u = 0; u < dims[a]; u++)
        for (let v = 0; v < dims[b]; v++) {
          if ((u - 3) ** 2 + (v - 3) ** 2 <= 4) g.labels[at(1, u, v)] = 2;
          if ((u - 7) ** 2 / 9 + (v - 6) ** 2 / 4 <= 1) g.labels[at(6, u, v)] = 2;
        }
      g.labels[at(3, 5, 4)] = 1;
      const start = g.labels.slice();
      // Brute-force signed distances in mm.
      const sdf = (s: number, u: number, v: number) => {
        const inside = start[at(s, u, v)] === 2;
        let best = Infinity;
        for (let x = 0; x < dims[a]; x++)
          for (let y = 0; y < dims[b]; y++)
            if ((start[at(s, x, y)] === 2) !== inside)
              best = Math.min(best, Math.hypot((x - u) * spacingMm[a], (y - v) * spacingMm[b]));
        return inside ? -best : best;
      };
      const expected = new Uint8Array(start);
      for (let s = 2; s <= 5; s++) {
        const t = (s - 1) / 5;
        for (let u = 0; u < dims[a]; u++)
          for (let v = 0; v < dims[b]; v++)
            if ((1 - t) * sdf(1, u, v) + t * sdf(6, u, v) < 0 && start[at(s, u, v)] === 0) expected[at(s, u, v)] = 2;
      }
      const n = interpolateSlices(g, 2, axis, NONE, recorder(g));
      expect(g.labels).toEqual(expected);
      let diff = 0;
      for (let m = 0; m < N; m++) if (expected[m] !== start[m]) diff++;
      expect(n).toBe(diff);
      expect(diff).toBeGreaterThan(20);
      g.labels.set(start);
      expect(interpolateSlices(g, 2, axis, new Set([2]), recorder(g))).toBe(0);
    });
});

describe('smoothing', () => {
  /** Brute force over each voxel's in-volume 3×3×3 neighbourhood. */
  function filterRef(mask: Uint8Array, op: 'min' | 'max' | 'majority'): Uint8Array {
    const out = new Uint8Array(N);
    for (let n = 0; n < N; n++) {
      const p = ijkOf(n);
      const vals: number[] = [];
      for (let dk = -1; dk <= 1; dk++)
        for (let dj = -1; dj <= 1; dj++)
          for (let di = -1; di <= 1; di++) {
            const q = [p[0] + di, p[1] + dj, p[2] + dk];
            if (q.every((x, a) => x >= 0 && x < dims[a])) vals.push(mask[idx(q[0], q[1], q[2])]);
          }
      const sum = vals.reduce((s, x) => s + x, 0);
      out[n] = op === 'min' ? Math.min(...vals) : op === 'max' ? Math.max(...vals) : 2 * sum > vals.length ? 1 : 0;
    }
    return out;
  }

  for (const method of ['open', 'close', 'median'] as SmoothMethod[])
    it(`${method} matches the brute-force 3×3×3 filter, adding only into background`, () => {
      const g = randomGrid(71, 0.6, 2);
      const start = g.labels.slice();
      const mask = start.map((x) => (x === 1 ? 1 : 0));
      const want =
        method === 'open'
          ? filterRef(filterRef(mask, 'min'), 'max')
          : method === 'close'
            ? filterRef(filterRef(mask, 'max'), 'min')
            : filterRef(mask, 'majority');
      const locked = new Set([2]);
      const n = smoothSegment(g, 1, method, locked, recorder(g));
      let diff = 0;
      for (let m = 0; m < N; m++) {
        const expected = want[m] === mask[m] ? start[m] : want[m] === 1 ? (start[m] === 0 ? 1 : start[m]) : 0;
        expect(g.labels[m], `voxel ${ijkOf(m)}`).toBe(expected);
        if (expected !== start[m]) diff++;
      }
      expect(n).toBe(diff);
      expect(diff).toBeGreaterThan(0);
    });
});

describe('segment actions', () => {
  it('clear erases one segment; relabel moves one class into another; locks hold', () => {
    const g = randomGrid(81);
    const start = g.labels.slice();
    const c0 = countClasses(start);
    expect(clearSegment(g, 2, new Set([2]), recorder(g))).toBe(0);
    expect(clearSegment(g, 2, NONE, recorder(g))).toBe(c0[2]);
    expect(countClasses(g.labels)[2]).toBe(0);
    expectWrite(start, g.labels, (m) => start[m] === 2, 0, NONE);
    g.labels.set(start);
    expect(relabelSegment(g, 3, 1, NONE, recorder(g))).toBe(c0[3]);
    expectWrite(start, g.labels, (m) => start[m] === 3, 1, NONE);
    g.labels.set(start);
    expect(relabelSegment(g, 3, 1, new Set([3]), recorder(g))).toBe(0);
    expect(relabelSegment(g, 3, 1, new Set([1]), recorder(g))).toBe(0);
    expect(g.labels).toEqual(start);
    expect(() => clearSegment(g, 300, NONE, recorder(g))).toThrow(/class value/);
  });
});
