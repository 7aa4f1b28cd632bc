// Smoke test on the real abdomen CT (skipped when ../shared/data/real is absent): geometry is kept
// exactly, a per-voxel threshold model is reproduced voxel for voxel, post-processing rules hold.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNifti } from '../../src-main/imaging/nifti';
import { connectedComponents } from '../../src-main/predict/components';
import { predictVolume } from '../../src-main/predict/predict';
import { REAL_CT_DICOM, realCtScores } from '../../src-main/predict/real-ct';
import { fakeModel, pointwise } from './helpers';

const CT = resolve(__dirname, '../../../shared/data/real/totalseg_example_ct_sm_kidney_pancreas_3mm.nii.gz');

describe.skipIf(!existsSync(CT))('real CT (30-slice crop)', () => {
  // Soft tissue 100..300 HU (enhancing kidney cortex-ish) as class 1, brighter as class 2.
  const f = (hu: number, c: number): number =>
    c === 0 ? 0 : c === 1 ? (hu > 100 && hu < 300 ? 1 : -1) : hu >= 300 ? 1 : -1;
  const opts = {
    classes: 3,
    classNames: ['background', 'kidney', 'tumor'],
    patchSize: [32, 64, 64] as [number, number, number],
    intensity: { clipHu: [-1000, 2000] as [number, number], mean: 0, std: 1 },
  };

  it('keeps the exact grid and reproduces a per-voxel model at the scan spacing', async () => {
    const image = await readNifti(CT);
    const model = fakeModel(pointwise(3, f), {
      ...opts,
      targetSpacingMm: [image.spacingMm[0], image.spacingMm[1], image.spacingMm[2]],
    });
    // The per-voxel stand-in labels the table too; the kidney region would keep those voxels out (not tested here).
    const res = await predictVolume(image, model, { postprocess: false, anatomyRegion: false });
    expect(res.label.dims).toEqual(image.dims);
    expect(res.label.spacingMm).toEqual(image.spacingMm);
    expect(res.label.originMm).toEqual(image.originMm);
    expect(res.label.direction).toEqual(image.direction);
    let wrong = 0;
    for (let n = 0; n < image.data.length; n++) {
      const hu = Math.min(2000, Math.max(-1000, image.data[n]));
      const l = [0, 1, 2].map((c) => f(hu, c));
      if (res.label.data[n] !== l.indexOf(Math.max(...l))) wrong++;
    }
    expect(wrong).toBe(0);
  });

  it('post-processes to at most two kidney bodies, none below the island size, at another spacing', async () => {
    const image = await readNifti(CT);
    const model = fakeModel(pointwise(3, f), { ...opts, targetSpacingMm: [2, 2, 2.5] });
    const res = await predictVolume(image, model, { schema: 'kidney', tta: [2] });
    expect(res.label.dims).toEqual(image.dims);
    expect(res.stats.postprocess!.removedComponents).toBeGreaterThan(0);
    const member = new Uint8Array(256).fill(1, 1);
    const cc = connectedComponents(res.label.data as Uint8Array, image.dims, member, 26);
    const voxelMm3 = image.spacingMm[0] * image.spacingMm[1] * image.spacingMm[2];
    let bodies = 0;
    for (let c = 0; c < cc.count; c++) {
      expect(cc.voxels[c] * voxelMm3).toBeGreaterThanOrEqual(250);
      if (cc.classVoxels[c * cc.classStride + 1] > 0) bodies++;
      else expect.fail('a lesion component does not touch the organ');
    }
    expect(bodies).toBeLessThanOrEqual(2);
    expect(bodies).toBeGreaterThan(0);
  });
});

const DATA = resolve(__dirname, '../../../shared/data/real');

describe.skipIf(!existsSync(CT))("real CT: a starter's model card figures (realCtScores with card)", () => {
  it('adds the perturbed full scan, the enhanced crop and the kidney-free DICOM to the plain figures, which stay the same', async () => {
    // A per-voxel stand-in at 3 mm: kidney for 100-300 HU; no schema rules, so what it labels is what is scored.
    const model = fakeModel(
      pointwise(4, (hu, c) => (c === 1 ? (hu > 100 && hu < 300 ? 1 : -1) : c === 0 ? 0 : -1)),
      {
        classes: 4,
        classNames: ['background', 'kidney', 'tumor', 'cyst'],
        patchSize: [48, 48, 48],
        targetSpacingMm: [3, 3, 3],
        intensity: { clipHu: [-1000, 2000], mean: 0, std: 1 },
      },
    );
    const classes = ['background', 'kidney', 'tumor', 'cyst'];
    const plain = (await realCtScores(model, classes, undefined, DATA))!;
    const card = (await realCtScores(model, classes, undefined, DATA, true))!;
    for (const [k, v] of Object.entries(plain)) expect(card[k]).toBe(v);
    for (const kind of ['smooth', 'hires', 'slab'])
      for (const k of ['kidney_dice', 'foreground_outside_organ_ml', 'lesion_fp_ml'])
        expect(Number.isFinite(card[`${kind}_${k}`])).toBe(true);
    expect(Object.keys(plain).some((k) => /^(smooth|hires|slab|dicom|enhanced)_/.test(k))).toBe(false);
    // The crop with contrast added: the stand-in finds enhanced kidney voxels (portal-venous cortex 175, medulla 125
    // HU; with the 100-115 HU liver and spleen) that the native crop hides from it (12-16 HU), and fewer in the
    // arterial phase, whose medulla (75 HU) it leaves out.
    expect(card.crop_kidney_dice).toBe(0);
    expect(card.enhanced_portal_kidney_dice).toBeGreaterThan(0.2);
    expect(card.enhanced_arterial_kidney_dice).toBeGreaterThan(0.1);
    expect(card.enhanced_arterial_kidney_dice).toBeLessThan(card.enhanced_portal_kidney_dice - 0.05);
    expect(Number.isFinite(card.enhanced_arterial_lesion_fp_ml)).toBe(true);
    // The DICOM folder has no kidney; the stand-in labels its 100-300 HU voxels (enhanced organs, vessels, bone).
    if (existsSync(resolve(DATA, REAL_CT_DICOM))) expect(card.dicom_no_kidney_foreground_ml).toBeGreaterThan(10);
  }, 120_000);
});
