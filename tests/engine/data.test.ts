// Training data discovery and loading: pairing conventions, axis order, and clear refusals of bad label files.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeNifti } from '../../src-main/imaging/nifti';
import type { Volume } from '../../src-main/imaging/volume';
import { findPairs, loadCase } from '../../src-main/train/data';

const dir = mkdtempSync(join(tmpdir(), 'deformux-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const INTENSITY = { clipHu: [-100, 100] as [number, number], mean: 0, std: 50 };

function vol(
  dims: [number, number, number],
  data: Int16Array | Uint8Array,
  spacingMm: [number, number, number] = [1, 1, 2],
): Volume {
  return {
    dims,
    spacingMm,
    originMm: [0, 0, 0],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    data,
    modality: 'CT',
    description: 't',
    source: 't',
  };
}

describe('training data', () => {
  it('pairs NAME_image/NAME_label and imagesTr/labelsTr, sorted by name', async () => {
    const d = join(dir, 'pairs');
    mkdirSync(join(d, 'imagesTr'), { recursive: true });
    mkdirSync(join(d, 'labelsTr'));
    const v = vol([4, 3, 2], new Int16Array(24));
    for (const p of [
      'b_image.nii.gz',
      'b_label.nii.gz',
      'a_image.nii',
      'a_label.nii',
      'lonely_image.nii.gz',
      'imagesTr/m_0000.nii.gz',
      'labelsTr/m.nii.gz',
    ])
      await writeNifti(join(d, p), v);
    const pairs = await findPairs(d);
    expect(pairs.map((p) => p.name)).toEqual(['a', 'b', 'm']);
    expect(pairs[2].label).toBe(join(d, 'labelsTr', 'm.nii.gz'));
  });

  it('normalises intensities and keeps i fastest as W (dims [ni,nj,nk] -> [D,H,W] = [nk,nj,ni])', async () => {
    const d = join(dir, 'axes');
    mkdirSync(d);
    const dims: [number, number, number] = [5, 4, 3];
    const hu = Int16Array.from({ length: 60 }, (_, i) => i * 10 - 300);
    const lab = Uint8Array.from({ length: 60 }, (_, i) => (i === 7 ? 1 : 0));
    await writeNifti(join(d, 'c_image.nii.gz'), vol(dims, hu));
    await writeNifti(join(d, 'c_label.nii.gz'), vol(dims, lab));
    const c = await loadCase((await findPairs(d))[0], INTENSITY, 2);
    expect(c.dimsDhw).toEqual([3, 4, 5]);
    expect(c.image[0]).toBe(-2); // -300 HU clipped to -100, then /50
    expect(c.image[35]).toBeCloseTo((35 * 10 - 300) / 50, 6);
    expect([...c.foreground]).toEqual([7]);
  });

  it('refuses labels off the image grid or outside the schema, naming the file', async () => {
    const d = join(dir, 'bad');
    mkdirSync(d);
    await writeNifti(join(d, 'g_image.nii.gz'), vol([4, 3, 2], new Int16Array(24)));
    await writeNifti(join(d, 'g_label.nii.gz'), vol([4, 3, 2], new Uint8Array(24), [1, 1, 3]));
    await writeNifti(join(d, 'h_image.nii.gz'), vol([4, 3, 2], new Int16Array(24)));
    await writeNifti(
      join(d, 'h_label.nii.gz'),
      vol(
        [4, 3, 2],
        Uint8Array.from({ length: 24 }, (_, i) => (i === 5 ? 9 : 0)),
      ),
    );
    const [g, h] = await findPairs(d);
    await expect(loadCase(g, INTENSITY, 3)).rejects.toThrow(/g_label\.nii\.gz: is not on the grid of its image/);
    await expect(loadCase(h, INTENSITY, 3)).rejects.toThrow(
      /h_label\.nii\.gz: holds the label value 9; the schema has classes 0\.\.2/,
    );
  });
});
