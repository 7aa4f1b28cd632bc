// Organ regions found from the image: a built body with a spine, iliac wings and lungs gives the slices and
// the box it should; every held-out phantom's pancreas (both domains) and the shared real CT's reference
// pancreas lie inside the pancreatic region, phantom kidneys below the thorax; a model's labels stay inside.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findLandmarks, kidneyRegion, pancreasRegion } from '../../src-main/predict/anatomy-region';
import { predictVolume, restrictClasses } from '../../src-main/predict/predict';
import { canonicalTransform } from '../../src-main/imaging/orient';
import { resampledDims, resampleToGrid } from '../../src-main/imaging/resample';
import { generatePhantom } from '../../src-main/phantom';
import { readNifti } from '../../src-main/imaging/nifti';
import type { Vec3, Volume } from '../../src-main/imaging/volume';
import { CROP_FIRST_SLICE, REAL_CT_FILES, TOTALSEG, defaultRealCtDir } from '../../src-main/predict/real-ct';
import { fakeModel, pointwise } from './helpers';

/**
 * A [D, H, W] HU grid at 3 mm in RAS (W: +x right, H: +y anterior): an elliptic body, a spine 60 mm from the back
 * at x = `spineX`, iliac wing plates in slices < `pelvisTo`, lungs in slices ≥ `thoraxFrom`.
 */
function builtBody(spineX: number, pelvisTo: number, thoraxFrom: number): { hu: Float32Array; dims: Vec3 } {
  const dims: Vec3 = [40, 100, 120];
  const [nd, nh, nw] = dims;
  const hu = new Float32Array(nd * nh * nw).fill(-1000);
  const cx = 60;
  const cy = 50;
  for (let z = 0; z < nd; z++)
    for (let y = 0; y < nh; y++)
      for (let x = 0; x < nw; x++) {
        const i = (z * nh + y) * nw + x;
        const body = ((x - cx) / 50) ** 2 + ((y - cy) / 40) ** 2 <= 1;
        if (!body) continue;
        hu[i] = 40;
        // Spine: a bone column 8 voxels wide from 20 to 32 voxels above the back (y = 10).
        if (Math.abs(x - spineX) <= 4 && y >= 30 && y <= 42) hu[i] = 400;
        // Iliac wings: plates 25..35 voxels either side of the centre line.
        if (z < pelvisTo && Math.abs(x - cx) >= 25 && Math.abs(x - cx) <= 35 && y >= 25 && y <= 45) hu[i] = 500;
        // Lungs: two big air-tissue regions either side.
        if (z >= thoraxFrom && Math.abs(x - cx) >= 12 && Math.abs(x - cx) <= 40 && y >= 25 && y <= 70) hu[i] = -850;
      }
  return { hu, dims };
}

describe('pancreasRegion on a built body', () => {
  it('allows the slices between the pelvis and the thorax, in a box that follows the spine', () => {
    const { hu, dims } = builtBody(60, 10, 30);
    const r = pancreasRegion(hu, dims, [3, 3, 3])!;
    expect(r).not.toBeNull();
    expect(r.pelvisTop).toBe(9);
    expect(r.thoraxBottom).toBe(30);
    const [nd, nh, nw] = dims;
    const allowedIn = (z: number) => {
      let n = 0;
      for (let i = z * nh * nw; i < (z + 1) * nh * nw; i++) n += r.mask[i];
      return n;
    };
    for (let z = 0; z < nd; z++) {
      if (z <= 9 || z >= 30) expect(allowedIn(z)).toBe(0);
      else expect(allowedIn(z)).toBeGreaterThan(0);
    }
    // Spine point (60, 36): x from 60 - 150/3 = 10 to 60 + 80/3 -> 86; y from 36 + 5 = 41 to 36 + 50 = 86.
    const at = (z: number, y: number, x: number) => r.mask[(z * nh + y) * nw + x];
    expect([at(20, 50, 10), at(20, 50, 86), at(20, 41, 60), at(20, 86, 60)]).toEqual([1, 1, 1, 1]);
    expect([at(20, 50, 9), at(20, 50, 87), at(20, 40, 60), at(20, 87, 60)]).toEqual([0, 0, 0, 0]);
    // Moving the spine 6 voxels toward the patient's right moves the box with it (x 16..92).
    const moved = pancreasRegion(builtBody(66, 10, 30).hu, dims, [3, 3, 3])!;
    expect(moved.mask[(20 * nh + 50) * nw + 92]).toBe(1);
    expect(moved.mask[(20 * nh + 50) * nw + 15]).toBe(0);
  });

  it('finds the same thorax with the air around the body at -930 HU, and in a field of view that cuts the chest', () => {
    const base = builtBody(60, 10, 30);
    const [nd, nh, nw] = base.dims;
    // A scanner whose air reads high (and a little noise): lung-range HU everywhere outside the body.
    const airHigh = base.hu.slice();
    for (let i = 0; i < airHigh.length; i++) if (airHigh[i] === -1000) airHigh[i] = -930 + ((i * 7919) % 41) - 20;
    const a = findLandmarks(airHigh, base.dims, [3, 3, 3]);
    expect([a.pelvisTop, a.thoraxBottom]).toEqual([9, 30]);
    // A foam pad (-900 HU) under the back, 15 mm thick, across the table.
    const pad = base.hu.slice();
    for (let z = 0; z < nd; z++)
      for (let y = 0; y < 10; y++) for (let x = 0; x < nw; x++) pad[(z * nh + y) * nw + x] = -900;
    expect(findLandmarks(pad, base.dims, [3, 3, 3]).thoraxBottom).toBe(30);
    // A tight crop, 150 mm wide about the spine: it cuts through both lungs, which open onto its sides.
    const cw = 50;
    const crop = new Float32Array(nd * nh * cw);
    for (let z = 0; z < nd; z++)
      for (let y = 0; y < nh; y++)
        for (let x = 0; x < cw; x++) crop[(z * nh + y) * cw + x] = base.hu[(z * nh + y) * nw + x + 35];
    expect(findLandmarks(crop, [nd, nh, cw], [3, 3, 3]).thoraxBottom).toBe(30);
  });

  it('keeps kidneys below the thorax plus 30 mm, in every slice below it, whatever the pelvis', () => {
    const { hu, dims } = builtBody(60, 10, 20);
    const land = findLandmarks(hu, dims, [3, 3, 3]);
    expect([land.pelvisTop, land.thoraxBottom]).toEqual([9, 20]);
    const r = kidneyRegion(hu, dims, [3, 3, 3], land)!;
    const plane = dims[1] * dims[2];
    for (let z = 0; z < dims[0]; z++) {
      let n = 0;
      let body = 0;
      for (let i = z * plane; i < (z + 1) * plane; i++) {
        n += r.mask[i];
        body += hu[i] > -300 || land.trunk[i] ? 1 : 0;
        // Inside the trunk only (its lungs and holes included), nowhere outside the body.
        if (r.mask[i] && !land.trunk[i]) expect.fail(`slice ${z}: allowed outside the trunk`);
      }
      // Below the thorax + 30 mm, the whole body of these slices.
      if (z < 20) expect(n).toBe(body);
      if (z >= 30) expect(n).toBe(0);
    }
    // No thorax: every slice, still only the trunk.
    const open = kidneyRegion(builtBody(60, 10, 40).hu, dims, [3, 3, 3])!;
    expect(open.thoraxBottom).toBe(dims[0]);
    // The elliptic body: pi * 50 * 40 of 100 * 120 voxels per slice.
    expect(open.allowedShare).toBeCloseTo((Math.PI * 50 * 40) / (100 * 120), 2);
    // No body at all: nothing to place the kidneys by.
    expect(kidneyRegion(new Float32Array(hu.length).fill(-1000), dims, [3, 3, 3])).toBeNull();
  });

  it('keeps kidney and pancreas out of an arm lying beside the body', () => {
    const { hu, dims } = builtBody(60, 0, 40);
    const [nd, nh, nw] = dims;
    // The body spans x 10..110; an arm (muscle around a bone) at x 112..119, y 40..60, apart from it by air.
    for (let z = 0; z < nd; z++)
      for (let y = 40; y <= 60; y++)
        for (let x = 113; x < nw; x++) hu[(z * nh + y) * nw + x] = Math.abs(y - 50) < 3 && x > 115 ? 700 : 45;
    const k = kidneyRegion(hu, dims, [3, 3, 3])!;
    const p = pancreasRegion(hu, dims, [3, 3, 3], { leftMm: 200, rightMm: 200 })!;
    const at = (m: Uint8Array, z: number, y: number, x: number) => m[(z * nh + y) * nw + x];
    for (const z of [5, 20, 35]) {
      expect(at(k.mask, z, 50, 116)).toBe(0);
      expect(at(k.mask, z, 50, 100)).toBe(1);
      expect(at(p.mask, z, 50, 116)).toBe(0);
    }
    // A strip that small (8 voxels, 24 mm) joined to the body is no arm's core: then it is the trunk's.
    for (let z = 0; z < nd; z++)
      for (let y = 40; y <= 60; y++) hu[(z * nh + y) * nw + 111] = hu[(z * nh + y) * nw + 112] = 45;
    expect(at(findLandmarks(hu, dims, [3, 3, 3]).trunk, 20, 50, 116)).toBe(1);
  });

  it('keeps kidneys out of an arm lying against the flank, and within 160 mm of the spine', () => {
    // A wide body (half-width 80 voxels, 240 mm) with a spine at x = 90, and an arm (a disc of radius 14 voxels,
    // 84 mm across, with a bone) pressed against its right flank.
    const dims: Vec3 = [6, 100, 220];
    const [nd, nh, nw] = dims;
    const hu = new Float32Array(nd * nh * nw).fill(-1000);
    for (let z = 0; z < nd; z++)
      for (let y = 0; y < nh; y++)
        for (let x = 0; x < nw; x++) {
          const i = (z * nh + y) * nw + x;
          if (((x - 90) / 80) ** 2 + ((y - 50) / 40) ** 2 <= 1)
            hu[i] = Math.abs(x - 90) <= 4 && y >= 30 && y <= 42 ? 400 : 40;
          const arm = (x - 184) ** 2 + (y - 50) ** 2;
          if (arm <= 14 ** 2) hu[i] = arm <= 16 ? 700 : 45;
        }
    const land = findLandmarks(hu, dims, [3, 3, 3]);
    const r = kidneyRegion(hu, dims, [3, 3, 3], land)!;
    const at = (m: Uint8Array, y: number, x: number) => m[(3 * nh + y) * nw + x];
    // The arm touches the body (no air between them at y = 50) but is a core of its own: not the trunk.
    expect([hu[(3 * nh + 50) * nw + 169], hu[(3 * nh + 50) * nw + 170]]).toEqual([40, 45]);
    expect([at(land.trunk, 50, 184), at(land.trunk, 50, 194)]).toEqual([0, 0]);
    expect([at(land.trunk, 50, 90), at(land.trunk, 50, 150), at(land.trunk, 50, 20)]).toEqual([1, 1, 1]);
    // Kidneys: within 160 mm (53 voxels) of the spine point (x = 90), x 37..143.
    expect([at(r.mask, 50, 40), at(r.mask, 50, 140)]).toEqual([1, 1]);
    expect([at(r.mask, 50, 30), at(r.mask, 50, 150), at(r.mask, 50, 184)]).toEqual([0, 0, 0]);
  });

  it('restricts nothing without a spine, and a scan without pelvis or lungs keeps all its slices', () => {
    const { hu, dims } = builtBody(60, 0, 40);
    const r = pancreasRegion(hu, dims, [3, 3, 3])!;
    expect([r.pelvisTop, r.thoraxBottom]).toEqual([-1, 40]);
    const noBone = Float32Array.from(hu, (v) => (v > 180 ? 40 : v));
    expect(pancreasRegion(noBone, dims, [3, 3, 3])).toBeNull();
    expect(() => pancreasRegion(hu.subarray(1), dims, [3, 3, 3])).toThrow(/values for a 40×100×120 grid/);
  });
});

/** The image and a label on the 3 mm RAS model grid, as predict resamples them ([D, H, W]). */
function onModelGrid(v: Volume, label?: ArrayLike<number>): { hu: Float32Array; lab?: Float32Array; dims: Vec3 } {
  const t = canonicalTransform(v, 'RAS');
  const sp = t.srcAxis.map((s) => v.spacingMm[s]) as Vec3;
  const md = resampledDims(t.dims, sp, [3, 3, 3]);
  const hu = resampleToGrid(v.data, t, md);
  const lab = label ? resampleToGrid(Float32Array.from(label), t, md) : undefined;
  return { hu, lab, dims: [md[2], md[1], md[0]] };
}

function shareInside(mask: Uint8Array, lab: Float32Array, value: number): number {
  let n = 0;
  let inside = 0;
  for (let i = 0; i < mask.length; i++)
    if (Math.round(lab[i]) === value) {
      n++;
      inside += mask[i];
    }
  return inside / n;
}

describe('pancreasRegion holds the pancreas', () => {
  it('of held-out phantoms in both domains, whole', () => {
    for (const domain of ['standard', 'synth'] as const)
      for (const seed of [100_001, 100_003]) {
        const c = generatePhantom({ seed, schema: 'pancreas', dims: [128, 128, 107], spacingMm: [3, 3, 3], domain });
        const g = onModelGrid(c.image, c.label.data);
        const r = pancreasRegion(g.hu, g.dims, [3, 3, 3])!;
        expect(shareInside(r.mask, g.lab!, 1)).toBe(1);
        expect(r.allowedShare).toBeLessThan(0.3);
      }
  }, 120_000);

  it("of held-out kidney phantoms: the kidneys lie below the thorax's lowest slice + 30 mm", () => {
    let withThorax = 0;
    for (const [domain, seeds] of [
      ['standard', [100_003, 100_004, 100_007]],
      ['synth', [100_002, 100_003, 100_007]],
    ] as const)
      for (const seed of seeds) {
        const c = generatePhantom({ seed, schema: 'kidney', dims: [128, 128, 107], spacingMm: [3, 3, 3], domain });
        const g = onModelGrid(c.image, c.label.data);
        const r = kidneyRegion(g.hu, g.dims, [3, 3, 3]);
        expect(r).not.toBeNull();
        if (r!.thoraxBottom < g.dims[0]) withThorax++;
        for (const v of [1, 2, 3])
          if (g.lab!.some((x) => Math.round(x) === v)) expect(shareInside(r!.mask, g.lab!, v)).toBe(1);
      }
    // The phantoms reach the lung bases: most of these have a thorax to keep the kidneys out of.
    expect(withThorax).toBeGreaterThanOrEqual(3);
  }, 120_000);

  const real = defaultRealCtDir();
  const haveReal = existsSync(join(real, REAL_CT_FILES.full)) && existsSync(join(real, REAL_CT_FILES.labels));
  it.skipIf(!haveReal)('of the shared real CT (TotalSegmentator reference), whole; the pelvis is found', async () => {
    const full = await readNifti(join(real, REAL_CT_FILES.full));
    const seg = await readNifti(join(real, REAL_CT_FILES.labels));
    const plane = full.dims[0] * full.dims[1];
    const label = new Uint8Array(full.data.length);
    for (let k = 0; k < seg.dims[2]; k++)
      for (let p = 0; p < plane; p++) label[(k + CROP_FIRST_SLICE) * plane + p] = seg.data[k * plane + p] as number;
    const g = onModelGrid(full, label);
    const r = pancreasRegion(g.hu, g.dims, [3, 3, 3])!;
    expect(shareInside(r.mask, g.lab!, TOTALSEG.pancreas)).toBe(1);
    // Abdomen and pelvis: the iliac crests are found well below the kidneys (slice 82 on), no lungs.
    expect(r.pelvisTop).toBeGreaterThan(20);
    expect(r.pelvisTop).toBeLessThan(70);
    expect(r.thoraxBottom).toBe(g.dims[0]);
  });
});

describe('a pancreas model keeps to the region', () => {
  it('restrictClasses moves the restricted classes outside the mask to background', () => {
    // 3 classes, 4 voxels: voxel 1 and 3 lie outside.
    const probs = Float32Array.from([0.1, 0.2, 0.5, 0.6, 0.7, 0.3, 0.2, 0.1, 0.2, 0.5, 0.3, 0.3]);
    const removed = restrictClasses(probs, 3, Uint8Array.from([1, 0, 1, 0]), [1, 2]);
    expect(removed).toBe(1); // voxel 1's most likely class was 2; voxel 3's was background
    expect(Array.from(probs).map((v) => Math.round(v * 10) / 10)).toEqual([
      0.1, 1, 0.5, 1, 0.7, 0, 0.2, 0, 0.2, 0, 0.3, 0,
    ]);
  });

  it('predictVolume labels pancreas only inside the region and says so in its stats', async () => {
    // A stand-in network that calls all soft tissue (-100..150 HU) pancreas: the region leaves its part.
    const model = fakeModel(
      pointwise(3, (x, c) => (c === 1 ? (x > -100 && x < 150 ? 5 : -5) : 0)),
      {
        classes: 3,
        classNames: ['background', 'pancreas', 'tumor'],
        targetSpacingMm: [6, 6, 6],
        patchSize: [16, 16, 16],
      },
    );
    const c = generatePhantom({ seed: 5, schema: 'pancreas', dims: [64, 64, 54], spacingMm: [6, 6, 6] });
    const on = await predictVolume(c.image, model, { postprocess: false });
    const off = await predictVolume(c.image, model, { postprocess: false, anatomyRegion: false });
    expect(on.stats.anatomyRegion?.restricted).toBe(true);
    expect(off.stats.anatomyRegion).toBeUndefined();
    const pancreas = (r: typeof on) => r.stats.voxelsPerClass[1];
    expect(pancreas(on)).toBeGreaterThan(0);
    expect(pancreas(on)).toBeLessThan(0.5 * pancreas(off));
    expect(on.stats.anatomyRegion!.removedVoxels).toBeGreaterThan(0);
    // Every pancreas voxel of the restricted run lies inside the region found on the same image.
    const g = onModelGrid6(c.image);
    const region = pancreasRegion(g.hu, g.dims, [6, 6, 6])!;
    const gl = onModelGrid6({ ...c.image, data: on.label.data } as Volume);
    let outside = 0;
    for (let i = 0; i < region.mask.length; i++) if (!region.mask[i] && gl.hu[i] > 0.5) outside++;
    expect(outside).toBe(0);
    // Read as a kidney model, the same stand-in is only kept out of the chest: more is left than as pancreas.
    const kidney = await predictVolume(c.image, model, { postprocess: false, schema: 'kidney' });
    expect(kidney.stats.voxelsPerClass[1]).toBeGreaterThan(pancreas(on));
    const kidneyOff = await predictVolume(c.image, model, {
      postprocess: false,
      schema: 'kidney',
      anatomyRegion: false,
    });
    const kr = kidneyRegion(g.hu, g.dims, [6, 6, 6]);
    if (kr) {
      expect(kidney.stats.anatomyRegion?.restricted).toBe(true);
      const kl = onModelGrid6({ ...c.image, data: kidney.label.data } as Volume);
      let above = 0;
      for (let i = 0; i < kr.mask.length; i++) if (!kr.mask[i] && kl.hu[i] > 0.5) above++;
      expect(above).toBe(0);
      expect(kidney.stats.voxelsPerClass[1]).toBeLessThanOrEqual(kidneyOff.stats.voxelsPerClass[1]);
    } else {
      expect(kidney.stats.anatomyRegion).toEqual({ restricted: false });
      expect(kidney.stats.voxelsPerClass).toEqual(kidneyOff.stats.voxelsPerClass);
    }
  }, 120_000);
});

describe('windows outside the region', () => {
  it('are not run, and the labels are those of running every window; outside the region nothing is uncertain', async () => {
    const model = fakeModel(
      pointwise(3, (x, c) => (c === 1 ? (x > -100 && x < 150 ? 5 : -5) : c === 2 ? (x > 150 ? 4 : -4) : 0)),
      {
        classes: 3,
        classNames: ['background', 'pancreas', 'tumor'],
        targetSpacingMm: [3, 3, 3],
        patchSize: [8, 8, 8],
      },
    );
    // The built body (3 mm, RAS) as a scan: pelvis below slice 10, thorax from slice 30 of 40, so the pancreatic
    // region spans 20 slices and the windows wholly in the pelvis or the chest have nothing to label.
    const { hu, dims } = builtBody(60, 10, 30);
    const image: Volume = {
      dims: [dims[2], dims[1], dims[0]],
      spacingMm: [3, 3, 3],
      originMm: [0, 0, 0],
      direction: [-1, 0, 0, 0, -1, 0, 0, 0, 1],
      data: Int16Array.from(hu),
      modality: 'CT',
      description: 'built body',
      source: 'built-body.nii.gz',
    };
    const skipping = await predictVolume(image, model, { postprocess: false, uncertaintyFormat: 'float32' });
    const every = await predictVolume(image, model, {
      postprocess: false,
      uncertaintyFormat: 'float32',
      skipOutsideRegion: false,
    });
    expect(skipping.stats.skippedPatches).toBeGreaterThan(0);
    expect(every.stats.skippedPatches).toBe(0);
    expect(skipping.stats.patches + skipping.stats.skippedPatches).toBe(every.stats.patches);
    expect(Buffer.from(skipping.label.data.buffer).equals(Buffer.from(every.label.data.buffer))).toBe(true);
    expect(skipping.stats.voxelsPerClass[1]).toBeGreaterThan(0);
    // The image is on the model grid (3 mm, RAS): uncertainty 0 wherever the region is not, in both runs.
    const region = pancreasRegion(hu, dims, [3, 3, 3])!;
    for (const r of [skipping, every]) {
      const u = r.uncertainty!.data as Float32Array;
      let outside = 0;
      let inside = 0;
      for (let i = 0; i < region.mask.length; i++) {
        if (!region.mask[i]) outside += u[i];
        else inside += u[i];
      }
      expect(outside).toBe(0);
      expect(inside).toBeGreaterThan(0);
    }
  }, 120_000);
});

/** As onModelGrid at the stand-in model's 6 mm (the phantom's own grid: no interpolation). */
function onModelGrid6(v: Volume): { hu: Float32Array; dims: Vec3 } {
  const t = canonicalTransform(v, 'RAS');
  const sp = t.srcAxis.map((s) => v.spacingMm[s]) as Vec3;
  const md = resampledDims(t.dims, sp, [6, 6, 6]);
  return { hu: resampleToGrid(Float32Array.from(v.data), t, md), dims: [md[2], md[1], md[0]] };
}
