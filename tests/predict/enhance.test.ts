// The semi-real enhanced scan: contrast added inside a native CT's organ labels (predict/enhance.ts).
import { describe, expect, it } from 'vitest';
import { enhancedScan } from '../../src-main/predict/enhance';
import type { Vec3 } from '../../src-main/imaging/volume';
import { makeVolume } from './helpers';

const dims: Vec3 = [24, 24, 24];
const at = (i: number, j: number, k: number) => i + dims[0] * (j + dims[1] * k);

/** Soft tissue (30 HU) with a 12³ "kidney" of 15 HU (a fat voxel at its centre), a 4³ "spleen" of 40 HU, 3 mm. */
function scene() {
  const ct = new Float32Array(24 ** 3).fill(30);
  const seg = new Uint8Array(24 ** 3);
  for (let k = 6; k < 18; k++)
    for (let j = 6; j < 18; j++)
      for (let i = 6; i < 18; i++) {
        ct[at(i, j, k)] = 15;
        seg[at(i, j, k)] = 2; // TotalSegmentator right kidney
      }
  ct[at(12, 12, 12)] = -100; // renal sinus fat
  for (let k = 1; k < 5; k++)
    for (let j = 1; j < 5; j++)
      for (let i = 1; i < 5; i++) {
        ct[at(i, j, k)] = 40;
        seg[at(i, j, k)] = 1; // spleen
      }
  // Fat beside the kidney (unlabelled).
  ct[at(5, 12, 12)] = -100;
  const geometry = { spacingMm: [3, 3, 3] as Vec3 };
  return { native: makeVolume(dims, ct, geometry), seg: makeVolume(dims, seg, geometry) };
}

describe('enhancedScan', () => {
  it('moves each organ to the phase HU, the kidney cortex and medulla apart by depth', () => {
    const { native, seg } = scene();
    const portal = enhancedScan(native, seg, 'portal').data;
    // The kidney's native median is 15 HU (one fat voxel of 1,728 does not move it).
    expect(portal[at(6, 12, 12)]).toBe(175); // surface: cortex
    expect(portal[at(7, 12, 12)]).toBe(175); // 2 voxels = 6 mm deep: still cortex
    expect(portal[at(9, 12, 12)]).toBe(125); // 4 voxels deep: medulla
    expect(portal[at(1, 1, 1)]).toBe(115); // spleen
    const arterial = enhancedScan(native, seg, 'arterial').data;
    expect(arterial[at(6, 12, 12)]).toBe(200);
    expect(arterial[at(9, 12, 12)]).toBe(75);
    expect(arterial[at(1, 1, 1)]).toBe(130);
  });

  it("does not take the scan's end slices for the organ's surface (an organ cut by them goes on beyond)", () => {
    const { native, seg } = scene();
    // A second kidney block through the last slices (k 19-23): deep voxels on the last slice stay medulla.
    const ct = Float32Array.from(native.data);
    const lab = Uint8Array.from(seg.data);
    for (let k = 19; k < 24; k++)
      for (let j = 2; j < 22; j++)
        for (let i = 19; i < 24; i++) {
          ct[at(i, j, k)] = 15;
          lab[at(i, j, k)] = 3;
        }
    const out = enhancedScan({ ...native, data: ct }, { ...seg, data: lab }, 'portal').data;
    expect(out[at(21, 12, 23)]).toBe(125); // on the last slice, 3 voxels from the block's sides
    expect(out[at(19, 12, 23)]).toBe(175); // its side
  });

  it('leaves fat inside and beside a label, and tissue away from the organs, as they were', () => {
    const { native, seg } = scene();
    const out = enhancedScan(native, seg, 'portal').data;
    expect(out[at(12, 12, 12)]).toBe(-100);
    expect(out[at(5, 12, 12)]).toBe(-100);
    expect(out[at(20, 20, 20)]).toBe(30);
    expect(out[at(12, 12, 3)]).toBe(30); // three voxels from the kidney
  });

  it('gives voxels one and two outside an organ a share of its added HU (partial volume)', () => {
    const { native, seg } = scene();
    const out = enhancedScan(native, seg, 'portal').data;
    // Beside the cortex (+160 HU): 20 % one voxel out, 0.6 % two voxels out.
    expect(out[at(12, 12, 5)]).toBe(30 + 32);
    expect(out[at(12, 12, 4)]).toBe(31);
  });

  it('refuses labels on another grid', () => {
    const { native } = scene();
    const small = makeVolume([12, 12, 12], new Uint8Array(12 ** 3));
    expect(() => enhancedScan(native, small, 'portal')).toThrow(/not on the scan's grid/);
  });
});
