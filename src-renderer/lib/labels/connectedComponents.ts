// 6-connected components of one class in a label volume (union-find over the flat index), the
// building block of island removal.
import type { LabelGrid, Progress } from './labelGrid';

export interface Components {
  /** Component id per voxel (-1 for voxels not of the class). */
  ids: Int32Array;
  /** Voxel count per component id. */
  sizes: number[];
}

/**
 * Labels the 6-connected components of voxels equal to `value`; `onProgress` hears fractions 0..1
 * (the joining pass is reported as the first 70 %, the labelling pass as the rest).
 */
export function connectedComponents(grid: LabelGrid, value: number, onProgress?: Progress): Components {
  const [ni, nj, nk] = grid.dims;
  const labels = grid.labels;
  const n = labels.length;
  const parent = new Int32Array(n).fill(-1);
  const find = (x: number): number => {
    let r = x;
    while (parent[r] !== r) r = parent[r];
    while (parent[x] !== r) {
      const up = parent[x];
      parent[x] = r;
      x = up;
    }
    return r;
  };
  const join = (x: number, y: number): void => {
    const rx = find(x);
    const ry = find(y);
    if (rx !== ry) parent[Math.max(rx, ry)] = Math.min(rx, ry);
  };
  const sliceSize = ni * nj;
  for (let k = 0, idx = 0; k < nk; k++) {
    onProgress?.((0.7 * k) / nk);
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++, idx++) {
        if (labels[idx] !== value) continue;
        parent[idx] = idx;
        // Only the already-visited neighbours (−i, −j, −k): each edge is joined once.
        if (i > 0 && labels[idx - 1] === value) join(idx, idx - 1);
        if (j > 0 && labels[idx - ni] === value) join(idx, idx - ni);
        if (k > 0 && labels[idx - sliceSize] === value) join(idx, idx - sliceSize);
      }
  }
  const ids = new Int32Array(n).fill(-1);
  const rootId = new Map<number, number>();
  const sizes: number[] = [];
  for (let idx = 0; idx < n; idx++) {
    if (onProgress && idx % sliceSize === 0) onProgress(0.7 + (0.3 * idx) / n);
    if (parent[idx] < 0) continue;
    const r = find(idx);
    let id = rootId.get(r);
    if (id === undefined) {
      id = sizes.length;
      rootId.set(r, id);
      sizes.push(0);
    }
    ids[idx] = id;
    sizes[id]++;
  }
  return { ids, sizes };
}
