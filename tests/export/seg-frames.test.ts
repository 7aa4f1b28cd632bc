// SEG frame layout helpers against brute force: per-slice class presence and 1-bit frame packing.
import { describe, expect, it } from 'vitest';
import { packFrames, slicePresence, type SegFrame } from '../../src-main/export/dicom/seg-frames';
import { OBLIQUE_GRID, patternLabel, type TestGrid } from './helpers';

const WORD_GRID: TestGrid = { ...OBLIQUE_GRID, dims: [8, 4, 5] };

describe('slicePresence and packFrames', () => {
  for (const grid of [OBLIQUE_GRID, WORD_GRID]) {
    const [ni, nj, nk] = grid.dims;
    it(`match brute force on a ${ni}×${nj}×${nk} label`, () => {
      const label = patternLabel(grid, 3);
      const { presence, width } = slicePresence(label, new Set([1, 2, 3]), 'test');
      const frames: SegFrame[] = [];
      for (let k = 0; k < nk; k++) {
        for (let v = 1; v <= 3; v++) {
          let any = false;
          for (let p = 0; p < ni * nj; p++) if (label.data[k * ni * nj + p] === v) any = true;
          expect(presence[k * width + v]).toBe(any ? 1 : 0);
          if (any) frames.push({ segmentNumber: v, classValue: v, slice: k, positionMm: [0, 0, 0], source: null! });
        }
      }
      expect(frames.length).toBeGreaterThan(3);
      const packed = packFrames(label, frames);
      expect(packed.length % 2).toBe(0);
      expect(packed.length).toBe(
        Math.ceil((frames.length * ni * nj) / 8) + (Math.ceil((frames.length * ni * nj) / 8) % 2),
      );
      frames.forEach((f, n) => {
        for (let p = 0; p < ni * nj; p++) {
          const bit = n * ni * nj + p;
          expect((packed[bit >> 3] >> (bit & 7)) & 1).toBe(label.data[f.slice * ni * nj + p] === f.classValue ? 1 : 0);
        }
      });
    });

    it(`refuses a value outside the schema wherever it sits (${ni}×${nj}×${nk})`, () => {
      const label = patternLabel(grid, 3);
      label.data.fill(0);
      label.data[label.data.length - 1] = 9;
      expect(() => slicePresence(label, new Set([1, 2, 3]), 'x.dcm')).toThrow(
        `x.dcm: the label holds the value 9 (slice ${nk - 1}), which is not a class of the label schema`,
      );
    });
  }
});
