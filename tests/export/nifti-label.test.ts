// NIfTI label export read back by nibabel: geometry equals the image's, voxels land where they belong.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportLabelNifti } from '../../src-main/export/nifti-label';
import { writeNifti } from '../../src-main/imaging/nifti';
import { affineRas, type Volume } from '../../src-main/imaging/volume';
import { OBLIQUE_GRID, hasPythonModules, indexImage, makeTempDir, patternLabel, runPythonJson } from './helpers';

interface NibInfo {
  shape: number[];
  dtype: string;
  affine: number[][];
  sform_code: number;
  qform_code: number;
  zooms: number[];
  voxels: number[];
}

const tmp = makeTempDir('nifti');
afterAll(() => tmp.cleanup());

/** The RAS affine written out by hand from the grid (not via our own affine helpers). */
function expectedRas(v: Volume): number[][] {
  const d = v.direction;
  const s = v.spacingMm;
  const o = v.originMm;
  const flip = [-1, -1, 1];
  return [0, 1, 2]
    .map((r) => [flip[r] * d[r] * s[0], flip[r] * d[3 + r] * s[1], flip[r] * d[6 + r] * s[2], flip[r] * o[r]])
    .concat([[0, 0, 0, 1]]);
}

describe.skipIf(!hasPythonModules('nibabel', 'numpy'))('exportLabelNifti read back by nibabel', () => {
  for (const file of ['label.nii.gz', 'label.nii']) {
    it(`writes ${file} on the image's exact grid with the label's voxels`, async () => {
      const image = indexImage(OBLIQUE_GRID);
      const label = patternLabel(OBLIQUE_GRID, 3);
      const imagePath = join(tmp.dir, `image-${file}`);
      const labelPath = join(tmp.dir, file);
      await writeNifti(imagePath, image);
      await exportLabelNifti(labelPath, label, image);
      const [img, lab] = runPythonJson<NibInfo[]>('nib_read.py', [imagePath, labelPath]);
      expect(lab.shape).toEqual([7, 5, 6]);
      expect(lab.dtype).toBe('uint8');
      expect(lab.sform_code).toBeGreaterThan(0);
      const want = expectedRas(image);
      for (let r = 0; r < 4; r++) {
        for (let c = 0; c < 4; c++) {
          expect(Math.abs(lab.affine[r][c] - want[r][c])).toBeLessThan(1e-5);
          expect(lab.affine[r][c]).toBe(img.affine[r][c]);
        }
      }
      expect(lab.zooms.map((z) => Number(z.toFixed(5)))).toEqual([0.7, 0.9, 2.5]);
      expect(lab.voxels).toEqual(Array.from(label.data));
      expect(img.voxels).toEqual(Array.from(image.data));
      // The oblique grid really is oblique (the check above would miss a flip on an identity grid).
      expect(Math.abs(affineRas(image)[1])).toBeGreaterThan(0.05);
    });
  }
});

describe('exportLabelNifti refuses labels off the image grid', () => {
  const image = indexImage(OBLIQUE_GRID);
  const cases: [string, (l: Volume) => void, RegExp][] = [
    ['dims', (l) => (l.dims = [5, 7, 6]), /label is 5×7×6 voxels but the image is 7×5×6/],
    ['spacing', (l) => (l.spacingMm = [0.7, 0.9, 2.6]), /voxel spacing .*differs/],
    ['origin', (l) => (l.originMm = [-12.5, 30.25, -199.99]), /origin .*differs/],
    [
      'direction',
      (l) =>
        (l.direction = [
          ...l.direction.slice(3, 6),
          ...l.direction.slice(0, 3),
          ...l.direction.slice(6),
        ] as Volume['direction']),
      /orientation .*differs/,
    ],
  ];
  for (const [what, change, message] of cases) {
    it(`refuses a different ${what} with a clear message and writes nothing`, async () => {
      const label = patternLabel(OBLIQUE_GRID, 3);
      change(label);
      const path = join(tmp.dir, `bad-${what}.nii.gz`);
      await expect(exportLabelNifti(path, label, image)).rejects.toThrow(message);
      await expect(exportLabelNifti(path, label, image)).rejects.toThrow(
        /bad-.*refusing to export a label that is not on its image's grid/,
      );
      expect(existsSync(path)).toBe(false);
    });
  }

  it('accepts a grid that differs by less than 1e-4 and refuses non-label values and other extensions', async () => {
    const label = patternLabel(OBLIQUE_GRID, 3);
    label.originMm = [label.originMm[0] + 5e-5, label.originMm[1], label.originMm[2]];
    await expect(exportLabelNifti(join(tmp.dir, 'near.nii.gz'), label, image)).resolves.toBeUndefined();
    const floaty = { ...label, data: new Float32Array(label.data.length).fill(1.5) };
    await expect(exportLabelNifti(join(tmp.dir, 'f.nii.gz'), floaty, image)).rejects.toThrow(/value 1.5 at voxel 0/);
    await expect(exportLabelNifti(join(tmp.dir, 'label.nrrd'), label, image)).rejects.toThrow(
      /must end in .nii or .nii.gz/,
    );
  });
});
