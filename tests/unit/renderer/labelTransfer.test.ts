// The 3D label view's pure parts: the class step functions give every label value its legend colour and
// opacity (background, hidden and unknown values transparent), and the slice-wise copy reports exactly the
// slices that changed, on both its word and its byte path.
import { describe, expect, it } from 'vitest';
import { LABEL_SCHEMAS } from '../../../src-main/api/contract';
import {
  copyChangedSlices,
  LESION_OPACITY_PER_MM,
  ORGAN_OPACITY_PER_MM,
  labelTransferNodes,
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
