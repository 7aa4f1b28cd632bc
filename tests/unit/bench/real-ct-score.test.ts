// The real-CT report's per-class scores: organ class alone vs organ with lesions, lesion false positives in mL,
// pancreas predicted outside the pancreatic region, and what a model labels in a scan without its organ.
import { describe, expect, it } from 'vitest';
import {
  perturbedScan,
  scoreAbsentCase,
  scoreAgainstTotalSeg,
  SLAB_SLICES,
  TOTALSEG,
} from '../../../src-main/predict/real-ct';
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
    expect(s.foreground_outside_organ_ml).toBe(0);
    // A kidney label on the spleen: outside the organ.
    ref[at(30, 30, 2)] = TOTALSEG.spleen;
    pred[at(30, 30, 2)] = 1;
    ref[at(31, 30, 2)] = TOTALSEG.spleen;
    pred[at(31, 30, 2)] = 2;
    const t = scoreAgainstTotalSeg(['background', 'kidney', 'tumor', 'cyst'], n, (i) => pred[i], ref, 1, dims);
    expect(t.foreground_outside_organ_ml).toBe(2);
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

describe('perturbedScan (bench real-ct --perturb)', () => {
  const d: [number, number, number] = [6, 5, 4];
  const ramp = () => {
    const data = new Float32Array(d[0] * d[1] * d[2]);
    for (let k = 0; k < d[2]; k++)
      for (let j = 0; j < d[1]; j++)
        for (let i = 0; i < d[0]; i++) data[i + d[0] * (j + d[1] * k)] = 10 * i - 7 * j + 3 * k;
    return data;
  };

  it('air: only voxels below -900 HU move, to -930 ± 20 HU', () => {
    const data = ramp();
    data[0] = -1000;
    data[7] = -1024;
    data[9] = -850;
    const { image, back } = perturbedScan(makeVolume(d, data, { spacingMm: [3, 3, 3] }), 'air');
    for (let n = 0; n < data.length; n++) {
      if (data[n] < -900) {
        expect(image.data[n]).toBeGreaterThanOrEqual(-950);
        expect(image.data[n]).toBeLessThanOrEqual(-910);
      } else expect(image.data[n]).toBe(data[n]);
    }
    expect(back(Uint8Array.of(1, 2))).toEqual(Uint8Array.of(1, 2));
  });

  it('smooth: [1/4, 1/2, 1/4] along each axis, a constant stays constant', () => {
    const impulse = new Float32Array(d[0] * d[1] * d[2]);
    const at = (i: number, j: number, k: number) => i + d[0] * (j + d[1] * k);
    impulse[at(2, 2, 2)] = 64;
    const { image } = perturbedScan(makeVolume(d, impulse), 'smooth');
    expect(image.data[at(2, 2, 2)]).toBeCloseTo(64 / 8, 5);
    expect(image.data[at(3, 2, 2)]).toBeCloseTo(64 / 16, 5);
    expect(image.data[at(3, 3, 3)]).toBeCloseTo(64 / 64, 5);
    expect(image.data[at(0, 0, 0)]).toBe(0);
    const flat = perturbedScan(makeVolume(d, new Float32Array(impulse.length).fill(40)), 'smooth').image;
    expect(Array.from(flat.data).every((v) => Math.abs(v - 40) < 1e-4)).toBe(true);
  });

  it('hires: 4 × 4 × 3 sub-voxels over the same extent, a linear ramp exact inside, labels voted back', () => {
    const full = makeVolume(d, ramp(), {
      spacingMm: [3, 3, 3],
      originMm: [10, -20, 5],
      direction: [-1, 0, 0, 0, 1, 0, 0, 0, 1],
    });
    const { image, back } = perturbedScan(full, 'hires');
    expect(image.dims).toEqual([24, 20, 12]);
    expect(image.spacingMm).toEqual([0.75, 0.75, 1]);
    // Sub-voxel (a, b, c) lies at source voxel coordinates ((a + 0.5) / 4 - 0.5, ...): its world point by either
    // geometry is the same.
    const world = (v: typeof full, x: number, y: number, z: number) =>
      [0, 1, 2].map(
        (r) =>
          v.originMm[r] +
          v.direction[r] * x * v.spacingMm[0] +
          v.direction[3 + r] * y * v.spacingMm[1] +
          v.direction[6 + r] * z * v.spacingMm[2],
      );
    for (const [a, b, c] of [
      [0, 0, 0],
      [9, 13, 7],
      [23, 19, 11],
    ]) {
      const hi = world(image, a, b, c);
      const lo = world(full, (a + 0.5) / 4 - 0.5, (b + 0.5) / 4 - 0.5, (c + 0.5) / 3 - 0.5);
      for (let r = 0; r < 3; r++) expect(hi[r]).toBeCloseTo(lo[r], 6);
    }
    // Inside the outer half voxel the trilinear upsampling of a linear ramp is the ramp itself.
    const [x, y, z] = [(9 + 0.5) / 4 - 0.5, (13 + 0.5) / 4 - 0.5, (7 + 0.5) / 3 - 0.5];
    expect(image.data[9 + 24 * (13 + 20 * 7)]).toBeCloseTo(10 * x - 7 * y + 3 * z, 4);
    // A label that is each source voxel's value in all its sub-voxels comes back as it was; a voxel whose
    // sub-voxels are split 7 : 41 takes the majority.
    const src = new Uint8Array(d[0] * d[1] * d[2]).map((_, n) => n % 3);
    const up = new Uint8Array(24 * 20 * 12);
    for (let c = 0; c < 12; c++)
      for (let b = 0; b < 20; b++)
        for (let a = 0; a < 24; a++) up[a + 24 * (b + 20 * c)] = src[(a >> 2) + 6 * ((b >> 2) + 5 * Math.floor(c / 3))];
    for (let a = 0; a < 7; a++) up[(a % 4) + 24 * (Math.floor(a / 4) + 20 * 0)] = 2; // 7 of voxel 0's 48 sub-voxels
    expect(Array.from(back(up))).toEqual(Array.from(src));
  });

  it('slab: the top SLAB_SLICES slices alone at their own place in the world, labels put back there', () => {
    const dz: [number, number, number] = [6, 5, SLAB_SLICES + 4];
    const data = new Float32Array(dz[0] * dz[1] * dz[2]).map((_, n) => n);
    const full = makeVolume(dz, data, {
      spacingMm: [3, 2, 2.5],
      originMm: [10, -20, 5],
      direction: [-1, 0, 0, 0, 1, 0, 0, 0, -1],
    });
    const { image, back } = perturbedScan(full, 'slab');
    expect(image.dims).toEqual([6, 5, SLAB_SLICES]);
    expect(image.data[0]).toBe(4 * 30);
    expect(image.data[image.data.length - 1]).toBe(data.length - 1);
    // Its first slice is the full scan's slice 4: 4 × 2.5 mm along the slice axis, which points down here.
    expect(image.originMm).toEqual([10, -20, 5 - 10]);
    const lab = new Uint8Array(6 * 5 * SLAB_SLICES).fill(2);
    const put = back(lab);
    expect(put.length).toBe(data.length);
    expect(put.slice(0, 4 * 30).every((v) => v === 0)).toBe(true);
    expect(put.slice(4 * 30).every((v) => v === 2)).toBe(true);
  });
});
