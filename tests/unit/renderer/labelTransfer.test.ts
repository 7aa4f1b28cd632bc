// The 3D label view's pure parts: the class step functions give every label value its legend colour and
// opacity (background, hidden and unknown values transparent), and the slice-wise copy reports exactly the
// slices that changed, on both its word and its byte path; labels above the voxel budget are shrunk in plane
// keeping lesions, on a grid that covers the same patient space.
import { describe, expect, it } from 'vitest';
import { LABEL_SCHEMAS } from '../../../src-main/api/contract';
import {
  copyChangedSlices,
  inPlaneFactor,
  LESION_OPACITY_PER_MM,
  ORGAN_OPACITY_PER_MM,
  labelTransferNodes,
  shrinkSlice,
  shrunkGrid,
} from '../../../src-renderer/lib/viewer/labelTransfer';

/** The piecewise-linear function through `nodes` ([x, ...values]) at x, as vtk.js evaluates it. */
function at(nodes: number[][], x: number): number[] {
  for (let n = 1; n < nodes.length; n++) {
    const [x0, ...v0] = nodes[n - 1];
    const [x1, ...v1] = nodes[n];
    if (x >= x0 && x <= x1) return v0.map((v, i) => v + ((v1[i] - v) * (x - x0)) / (x1 - x0));
  }
  throw new Error(`${x} is outside the nodes`);
}

describe('label transfer functions', () => {
  const kidney = LABEL_SCHEMAS.kidney.classes;

  it('gives each class value its legend colour and background none', () => {
    const { colors, opacities } = labelTransferNodes(kidney, new Set());
    for (const c of kidney) {
      for (const x of [c.value - 0.4, c.value, c.value + 0.4]) {
        expect(at(colors, x).map((v) => Math.round(v * 255))).toEqual(c.color);
        expect(at(opacities, x)[0]).toBe(c.value === 1 ? ORGAN_OPACITY_PER_MM : LESION_OPACITY_PER_MM);
      }
    }
    expect(at(opacities, 0)[0]).toBe(0);
    expect(at(opacities, 0.4)[0]).toBe(0);
    // Nodes are in increasing order (vtk.js sorts them; a swapped pair would mean overlapping steps).
    for (let n = 1; n < colors.length; n++) expect(colors[n][0]).toBeGreaterThan(colors[n - 1][0]);
  });

  it('makes hidden classes and values of no class transparent', () => {
    const pancreas = LABEL_SCHEMAS.pancreas.classes;
    const { opacities } = labelTransferNodes(pancreas, new Set([2]));
    expect(at(opacities, 1)[0]).toBe(ORGAN_OPACITY_PER_MM);
    expect(at(opacities, 2)[0]).toBe(0);
    const gap = labelTransferNodes([{ value: 3, name: 'cyst', color: [70, 130, 230] }], new Set());
    expect(at(gap.opacities, 1)[0]).toBe(0);
    expect(at(gap.opacities, 2)[0]).toBe(0);
    expect(at(gap.opacities, 3)[0]).toBe(ORGAN_OPACITY_PER_MM);
  });
});

describe('copyChangedSlices', () => {
  for (const sliceLength of [8, 7]) {
    it(`copies and reports only the changed slices (slice of ${sliceLength} voxels: ${sliceLength % 4 ? 'bytes' : 'words'})`, () => {
      const slices = 5;
      const source = new Uint8Array(sliceLength * slices).map((_, n) => n % 3);
      const target = source.slice();
      expect(copyChangedSlices(target, source, sliceLength)).toEqual([]);
      source[sliceLength * 1 + 2] = 9;
      source[sliceLength * 4 + sliceLength - 1] = 7; // The last voxel of the last slice.
      expect(copyChangedSlices(target, source, sliceLength)).toEqual([1, 4]);
      expect(Array.from(target)).toEqual(Array.from(source));
    });
  }

  it('works on arrays that do not start on a 4-byte boundary', () => {
    const buffer = new Uint8Array(1 + 16);
    const source = buffer.subarray(1);
    source[13] = 2;
    const target = new Uint8Array(16);
    expect(copyChangedSlices(target, source, 4)).toEqual([3]);
    expect(target[13]).toBe(2);
  });

  it('refuses labels of another size', () => {
    expect(() => copyChangedSlices(new Uint8Array(8), new Uint8Array(12), 4)).toThrow(/8 label voxels.*12/);
  });
});

describe('shrinking large labels for the 3D view', () => {
  it('shrinks only scans above the budget, in plane only', () => {
    expect(inPlaneFactor([512, 512, 300])).toBe(2);
    expect(inPlaneFactor([512, 512, 120])).toBe(1);
    expect(inPlaneFactor([64, 64, 32])).toBe(1);
    expect(inPlaneFactor([1024, 1024, 400])).toBe(4);
    expect(inPlaneFactor([10, 10, 10], 30)).toBe(10);
  });

  it('each voxel takes the highest label of its block; odd edges keep their partial blocks', () => {
    const [ni, nj, nk] = [5, 3, 2];
    const src = new Uint8Array(ni * nj * nk);
    const at = (i: number, j: number, k: number) => i + ni * (j + nj * k);
    src[at(0, 0, 0)] = 1;
    src[at(1, 1, 0)] = 3; // a one-voxel cyst inside kidney voxels of the same block
    src[at(0, 1, 0)] = 1;
    src[at(4, 2, 0)] = 2; // the corner: a partial 1×1 block
    src[at(2, 0, 1)] = 1;
    const out = new Uint8Array(3 * 2 * nk).fill(9);
    for (let k = 0; k < nk; k++) shrinkSlice(src, ni, nj, k, 2, out);
    expect(Array.from(out.subarray(0, 6))).toEqual([3, 0, 0, 0, 0, 2]);
    expect(Array.from(out.subarray(6, 12))).toEqual([0, 1, 0, 0, 0, 0]);
  });

  it('the shrunk grid covers the same patient space, whatever the direction', () => {
    const header = {
      dims: [512, 511, 300] as [number, number, number],
      spacingMm: [0.8, 0.7, 1.5] as [number, number, number],
      originMm: [-200, 150, 30],
      direction: [-1, 0, 0, 0, 1, 0, 0, 0, 1],
    };
    const g = shrunkGrid(header, 2);
    expect(g.dims).toEqual([256, 256, 300]);
    expect(g.spacingMm).toEqual([1.6, 1.4, 1.5]);
    // Block (0,0)'s centre: half a full voxel along +i (direction -x) and +j.
    expect(g.originMm[0]).toBeCloseTo(-200 - 0.4, 10);
    expect(g.originMm[1]).toBeCloseTo(150 + 0.35, 10);
    expect(g.originMm[2]).toBe(30);
    // The first voxel's outer edge stays where the full grid's was: origin - spacing/2 along each axis.
    expect(g.originMm[0] + 0.8).toBeCloseTo(header.originMm[0] + 0.4, 10);
    expect(shrunkGrid(header, 1)).toBe(header);
  });
});
