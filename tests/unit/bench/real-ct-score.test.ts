// The real-CT report's per-class scores: organ class alone vs organ with lesions, lesion false positives in mL,
// and pancreas predicted outside the pancreatic region.
import { describe, expect, it } from 'vitest';
import { scoreAgainstTotalSeg, TOTALSEG } from '../../../src-main/predict/real-ct';

const dims: [number, number, number] = [40, 40, 4];
const n = dims[0] * dims[1] * dims[2];
const at = (i: number, j: number, k: number) => i + dims[0] * (j + dims[1] * k);

describe('scoreAgainstTotalSeg', () => {
  it('separates the kidney class from kidney+lesions and counts lesion voxels as false positives', () => {
    const ref = new Uint8Array(n);
    const pred = new Uint8Array(n);
    // Reference: two kidneys of 2x2x4 voxels; prediction: the right one as kidney, the left one as cyst.
    for (let k = 0; k < 4; k++)
      for (const [i, j] of [
        [5, 5],
        [6, 5],
        [5, 6],
        [6, 6],
      ]) {
        ref[at(i, j, k)] = TOTALSEG.rightKidney;
        pred[at(i, j, k)] = 1;
        ref[at(i + 20, j, k)] = TOTALSEG.leftKidney;
        pred[at(i + 20, j, k)] = 3;
      }
    const s = scoreAgainstTotalSeg(['background', 'kidney', 'tumor', 'cyst'], n, (i) => pred[i], ref, 27 / 1000, dims);
    expect(s.kidney_dice).toBeCloseTo((2 * 16) / (16 + 32), 4);
    expect(s.kidney_with_lesions_dice).toBe(1);
    expect(s.lesion_fp_ml).toBeCloseTo(16 * 0.027, 1);
  });

  it('reports pancreas voxels far from the reference pancreas as outside its region', () => {
    const ref = new Uint8Array(n);
    const pred = new Uint8Array(n);
    ref[at(10, 10, 1)] = TOTALSEG.pancreas;
    pred[at(10, 10, 1)] = 1;
    pred[at(35, 35, 1)] = 1; // 25 voxels away in-plane
    pred[at(15, 12, 1)] = 1; // within 10 voxels: the region
    const s = scoreAgainstTotalSeg(['background', 'pancreas', 'tumor'], n, (i) => pred[i], ref, 1, dims);
    expect(s.pancreas_outside_region_ml).toBe(1);
    expect(s.pancreas_dice).toBeCloseTo(2 / 4, 4);
  });
});
