// 3-D connected components of a uint8 label map, on runs (maximal same-class stretches along i)
// with union-find, so memory scales with the number of runs, not voxels: a 512×512×600 label needs
// a few MB, not a 600 MB voxel id map.
//
// `member[value]` says which label values take part; voxels of different member classes that touch
// join the same component (a tumour belongs to the kidney it sits in). Per component the voxel
// count of each class is kept.
import type { Vec3 } from '../imaging/volume';

export type Connectivity = 6 | 26;

export interface Components {
  dims: Vec3;
  runCount: number;
  /** Per run: row index (j + nj * k), first and last i (inclusive), class, component id. */
  runRow: Int32Array;
  runStart: Int32Array;
  runEnd: Int32Array;
  runClass: Uint8Array;
  runComp: Int32Array;
  count: number;
  /** Per component: voxels. */
  voxels: Float64Array;
  /** Per component and class value (count × classStride): voxels of that class. */
  classVoxels: Float64Array;
  classStride: number;
}

class Growable {
  data: Int32Array;
  length = 0;
  constructor(capacity: number) {
    this.data = new Int32Array(Math.max(16, capacity));
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

export function connectedComponents(
  label: Uint8Array,
  dims: Vec3,
  member: Uint8Array,
  connectivity: Connectivity = 26,
): Components {
  const [ni, nj, nk] = dims;
  if (label.length !== ni * nj * nk)
    throw new Error(`connected components: ${label.length} voxels for dims ${dims.join('×')}`);
  if (connectivity !== 6 && connectivity !== 26)
    throw new Error(`connectivity must be 6 or 26, got ${String(connectivity)}`);
  const rows = nj * nk;
  const rowFirst = new Int32Array(rows + 1);
  const starts = new Growable(1024);
  const ends = new Growable(1024);
  const classes = new Growable(1024);
  let maxClass = 0;

  // 1. Runs, row by row.
  for (let r = 0; r < rows; r++) {
    rowFirst[r] = starts.length;
    const base = r * ni;
    let i = 0;
    while (i < ni) {
      const v = label[base + i];
      if (member[v] === 0) {
        i++;
        continue;
      }
      const s = i;
      while (i + 1 < ni && label[base + i + 1] === v) i++;
      starts.push(s);
      ends.push(i);
      classes.push(v);
      if (v > maxClass) maxClass = v;
      i++;
    }
  }
  rowFirst[rows] = starts.length;
  const n = starts.length;
  const rs = starts.data;
  const re = ends.data;
  const parent = new Int32Array(n);
  for (let a = 0; a < n; a++) parent[a] = a;
  const find = (a: number): number => {
    while (parent[a] !== a) {
      parent[a] = parent[parent[a]];
      a = parent[a];
    }
    return a;
  };
  const union = (a: number, b: number): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) {
      if (ra < rb) parent[rb] = ra;
      else parent[ra] = rb;
    }
  };
  // Runs of rows r and q touch when they overlap in i, widened by `tol` (diagonal contact).
  const linkRows = (r: number, q: number, tol: number): void => {
    let a = rowFirst[r];
    const aEnd = rowFirst[r + 1];
    let b = rowFirst[q];
    const bEnd = rowFirst[q + 1];
    while (a < aEnd && b < bEnd) {
      if (rs[a] <= re[b] + tol && rs[b] <= re[a] + tol) union(a, b);
      if (re[a] < re[b]) a++;
      else b++;
    }
  };

  // 2. Unions: same row (adjacent runs of different classes), then earlier neighbouring rows.
  const diag = connectivity === 26;
  const tol = diag ? 1 : 0;
  for (let k = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      const r = j + nj * k;
      for (let a = rowFirst[r]; a + 1 < rowFirst[r + 1]; a++) if (re[a] + 1 === rs[a + 1]) union(a, a + 1);
      if (j > 0) linkRows(r, r - 1, tol);
      if (k > 0) {
        linkRows(r, r - nj, tol);
        if (diag && j > 0) linkRows(r, r - nj - 1, tol);
        if (diag && j + 1 < nj) linkRows(r, r - nj + 1, tol);
      }
    }
  }

  // 3. Compact component ids and per-class counts.
  const runRow = new Int32Array(n);
  for (let r = 0; r < rows; r++) for (let a = rowFirst[r]; a < rowFirst[r + 1]; a++) runRow[a] = r;
  const runComp = new Int32Array(n);
  const rootId = new Int32Array(n).fill(-1);
  let count = 0;
  for (let a = 0; a < n; a++) {
    const root = find(a);
    if (rootId[root] < 0) rootId[root] = count++;
    runComp[a] = rootId[root];
  }
  const classStride = maxClass + 1;
  const voxels = new Float64Array(count);
  const classVoxels = new Float64Array(count * classStride);
  const runClass = new Uint8Array(n);
  for (let a = 0; a < n; a++) {
    const len = re[a] - rs[a] + 1;
    const c = runComp[a];
    runClass[a] = classes.data[a];
    voxels[c] += len;
    classVoxels[c * classStride + runClass[a]] += len;
  }
  return {
    dims: dims.slice() as Vec3,
    runCount: n,
    runRow,
    runStart: rs.slice(0, n),
    runEnd: re.slice(0, n),
    runClass,
    runComp,
    count,
    voxels,
    classVoxels,
    classStride,
  };
}

/** Per-voxel component id (-1 outside members); for tests and small volumes only. */
export function componentIdMap(cc: Components): Int32Array {
  const [ni, nj, nk] = cc.dims;
  const ids = new Int32Array(ni * nj * nk).fill(-1);
  for (let a = 0; a < cc.runCount; a++)
    ids.fill(cc.runComp[a], cc.runRow[a] * ni + cc.runStart[a], cc.runRow[a] * ni + cc.runEnd[a] + 1);
  return ids;
}

/** Sets every voxel of the components with remove[id] !== 0 to `value`; returns voxels changed. */
export function eraseComponents(label: Uint8Array, cc: Components, remove: Uint8Array, value = 0): number {
  const ni = cc.dims[0];
  let changed = 0;
  for (let a = 0; a < cc.runCount; a++) {
    if (remove[cc.runComp[a]] === 0) continue;
    const s = cc.runRow[a] * ni + cc.runStart[a];
    const e = cc.runRow[a] * ni + cc.runEnd[a] + 1;
    label.fill(value, s, e);
    changed += e - s;
  }
  return changed;
}

/**
 * Sets voxels of the marked components whose class is in `from` (a byte table) to `value`; other classes keep
 * theirs. Returns how many voxels changed.
 */
export function relabelInComponents(
  label: Uint8Array,
  cc: Components,
  marked: Uint8Array,
  from: Uint8Array,
  value: number,
): number {
  const ni = cc.dims[0];
  let changed = 0;
  for (let a = 0; a < cc.runCount; a++) {
    if (marked[cc.runComp[a]] === 0) continue;
    const s = cc.runRow[a] * ni + cc.runStart[a];
    const e = cc.runRow[a] * ni + cc.runEnd[a] + 1;
    for (let q = s; q < e; q++) {
      if (from[label[q]]) {
        label[q] = value;
        changed++;
      }
    }
  }
  return changed;
}
