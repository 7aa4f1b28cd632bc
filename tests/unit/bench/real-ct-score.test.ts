// The real-CT report's per-class scores: organ class alone vs organ with lesions, lesion false positives in mL,
// pancreas predicted outside the pancreatic region, and what a model labels in a scan without its organ.
import { describe, expect, it } from 'vitest';
import { scoreAbsentCase, scoreAgainstTotalSeg, TOTALSEG } from '../../../src-main/predict/real-ct';
import { fakeModel, makeVolume, pointwise } from '../../predict/helpers';

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

describe('scoreAbsentCase', () => {
  it('reports every foreground voxel of a scan without the organ, per class in mL, and its bodies', async () => {
    // 3 mm voxels (0.027 mL); two bright blocks of 4×4×2 and 2×2×2 voxels in -100 HU, a dimmer one of 3×3×1.
    const d: [number, number, number] = [24, 24, 8];
    const data = new Float32Array(d[0] * d[1] * d[2]).fill(-100);
    const put = (lo: number[], hi: number[], hu: number) => {
      for (let k = lo[2]; k < hi[2]; k++)
        for (let j = lo[1]; j < hi[1]; j++) for (let i = lo[0]; i < hi[0]; i++) data[i + d[0] * (j + d[1] * k)] = hu;
    };
    put([2, 2, 2], [6, 6, 4], 200);
    put([14, 14, 3], [16, 16, 5], 200);
    put([8, 18, 5], [11, 21, 6], 60);
    const image = makeVolume(d, data, { spacingMm: [3, 3, 3] });
    // A per-voxel stand-in: class 1 above 150 HU, class 2 between 30 and 150; no schema rules (class names of
    // neither built-in organ), so the report sees what the model labelled.
    const model = fakeModel(
      pointwise(3, (hu, c) => (c === 0 ? 0 : c === 1 ? (hu > 150 ? 1 : -1) : hu > 30 && hu <= 150 ? 1 : -1)),
      { classes: 3, classNames: ['background', 'thing', 'other'], targetSpacingMm: [3, 3, 3] },
    );
    const r = await scoreAbsentCase(image, model, ['background', 'thing', 'other']);
    expect(r.thing_ml).toBeCloseTo((32 + 8) * 0.027, 1);
    expect(r.other_ml).toBeCloseTo(9 * 0.027, 1);
    expect(r.foreground_ml).toBeCloseTo(49 * 0.027, 1);
    expect(r.foreground_bodies).toBe(3);
    expect(String(r.case)).toMatch(/^organ absent: /);
  });
});
