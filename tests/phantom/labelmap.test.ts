// Label-map-driven synthesis (src-main/phantom/labelmap.ts): deterministic per seed, labels and image from
// one pull (aligned), organ volumes that follow the recorded deformation, lesions only where they may grow,
// and clear errors for maps that cannot make cases.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { run } from '../../src-main/cli/commands/phantom';
import { readNifti, writeNifti } from '../../src-main/imaging/nifti';
import type { Direction, Vec3, Volume } from '../../src-main/imaging/volume';
import { voxelToWorld } from '../../src-main/imaging/volume';
import { synthesizeFromLabelMap, structureOfTotalSegId } from '../../src-main/phantom/labelmap';

const SPACING: Vec3 = [3, 3, 3];

/**
 * A small TotalSegmentator-style map stored RAS-wise (direction diag(-1,-1,1) in LPS terms), so the
 * synthesis has to go through world coordinates: right kidney (2) on the patient's right (LPS −x), left
 * kidney (3), pancreas (7) in front of a vertebra (30), liver (5), back muscles (86, 87).
 */
function tinyMap(): { map: Volume; kidneyVoxels: Record<number, number> } {
  const dims: Vec3 = [70, 60, 36];
  const [ni, nj, nk] = dims;
  const data = new Uint8Array(ni * nj * nk);
  const direction: Direction = [-1, 0, 0, 0, -1, 0, 0, 0, 1];
  const originMm: Vec3 = [105, 90, -54];
  const geometry = { dims, spacingMm: SPACING, originMm, direction };
  const ball = (c: Vec3, semi: Vec3, id: number) => {
    for (let k = 0; k < nk; k++)
      for (let j = 0; j < nj; j++)
        for (let i = 0; i < ni; i++) {
          const w = voxelToWorld({ ...geometry, data, modality: 'SEG', description: '', source: '' }, i, j, k);
          const d = ((w[0] - c[0]) / semi[0]) ** 2 + ((w[1] - c[1]) / semi[1]) ** 2 + ((w[2] - c[2]) / semi[2]) ** 2;
          if (d <= 1) data[i + ni * (j + nj * k)] = id;
        }
  };
  ball([0, 30, 0], [20, 18, 60], 30); // vertebral column
  ball([-40, 60, 0], [14, 12, 60], 87); // right back muscle
  ball([40, 60, 0], [14, 12, 60], 86);
  ball([-70, -10, 30], [45, 50, 40], 5); // liver on the right
  ball([-60, 30, -10], [24, 20, 40], 2); // right kidney
  ball([60, 30, -5], [24, 20, 40], 3); // left kidney
  ball([10, -15, 0], [45, 10, 14], 7); // pancreas
  const kidneyVoxels: Record<number, number> = { 2: 0, 3: 0 };
  for (const v of data) if (v === 2 || v === 3) kidneyVoxels[v]++;
  return {
    map: { ...geometry, data, modality: 'SEG', description: 'tiny map', source: 'tiny.nii.gz' },
    kidneyVoxels,
  };
}

function count(label: Uint8Array, value: number): number {
  let n = 0;
  for (const v of label) if (v === value) n++;
  return n;
}

/** Mean LPS x of the voxels with `value`. */
function meanX(v: Volume, value: number): number {
  let s = 0;
  let n = 0;
  const [ni, nj] = v.dims;
  for (let q = 0; q < v.data.length; q++) {
    if (v.data[q] !== value) continue;
    const i = q % ni;
    const j = Math.floor(q / ni) % nj;
    const k = Math.floor(q / (ni * nj));
    s += voxelToWorld(v, i, j, k)[0];
    n++;
  }
  return s / n;
}

describe('synthesizeFromLabelMap', () => {
  const { map, kidneyVoxels } = tinyMap();

  it('gives the same voxels for the same seed and different ones for another', () => {
    const a = synthesizeFromLabelMap({ labelMap: map, source: 'tiny.nii.gz', seed: 4, schema: 'kidney' });
    const b = synthesizeFromLabelMap({ labelMap: map, source: 'tiny.nii.gz', seed: 4, schema: 'kidney' });
    const c = synthesizeFromLabelMap({ labelMap: map, source: 'tiny.nii.gz', seed: 5, schema: 'kidney' });
    expect(Buffer.from(a.image.data.buffer).equals(Buffer.from(b.image.data.buffer))).toBe(true);
    expect(Buffer.from(a.label.data.buffer).equals(Buffer.from(b.label.data.buffer))).toBe(true);
    expect(Buffer.from(a.image.data.buffer).equals(Buffer.from(c.image.data.buffer))).toBe(false);
    expect(a.image.description).toMatch(/SYNTHETIC/);
    expect(a.meta.synthetic).toBe(true);
    expect(a.meta.labelMap?.source).toBe('tiny.nii.gz');
  });

  it('generator v3 fills the bowel with positive oral contrast in some cases; synthVersion 2 reproduces v2', () => {
    // The tiny map with a duodenum (TotalSegmentator 19) in front of the right kidney.
    const data = Uint8Array.from(map.data);
    const [ni, nj] = map.dims;
    for (let q = 0; q < data.length; q++) {
      const w = voxelToWorld(map, q % ni, Math.floor(q / ni) % nj, Math.floor(q / (ni * nj)));
      const d = ((w[0] + 45) / 12) ** 2 + ((w[1] + 5) / 12) ** 2 + (w[2] / 30) ** 2;
      if (d <= 1 && data[q] === 0) data[q] = 19;
    }
    const withBowel = { ...map, data };
    let oral = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const o = { labelMap: withBowel, source: 'tiny.nii.gz', seed, schema: 'kidney' as const, lesions: false };
      const v3 = synthesizeFromLabelMap({ ...o, synthVersion: 3 });
      const v2 = synthesizeFromLabelMap({ ...o, synthVersion: 2 });
      expect(v2.meta.generatorVersion).toBe(2);
      expect(v3.meta.generatorVersion).toBe(3);
      expect(Buffer.from(v3.label.data.buffer).equals(Buffer.from(v2.label.data.buffer))).toBe(true);
      const a = v2.image.data as Int16Array;
      const b = v3.image.data as Int16Array;
      let brighter = 0;
      for (let q = 0; q < a.length; q++) {
        if (b[q] > a[q] + 100) brighter++;
        if (v3.label.data[q] !== 0) expect(b[q]).toBe(a[q]);
      }
      if (v3.meta.oralContrastHu === undefined) {
        expect(brighter).toBe(0);
        continue;
      }
      oral++;
      expect(v2.meta.oralContrastHu).toBeUndefined();
      // The duodenum's fluid lumen turns bright (its wall, gas and the liver it abuts do not): about 90 voxels.
      expect(brighter).toBeGreaterThan(40);
    }
    expect(oral).toBeGreaterThan(0);
    expect(() =>
      synthesizeFromLabelMap({
        labelMap: map,
        source: 'tiny.nii.gz',
        seed: 1,
        schema: 'kidney',
        synthVersion: 1 as never,
      }),
    ).toThrow(/synthVersion must be one of 2, 3, 4, 5/);
  });

  it('keeps each organ where the map has it and its volume when not deformed', () => {
    const c = synthesizeFromLabelMap({
      labelMap: map,
      source: 'tiny.nii.gz',
      seed: 1,
      schema: 'kidney',
      deform: false,
      lesions: false,
      // Before the renal sinus detail of v4, which takes the fat out of the kidney's core (tested below).
      synthVersion: 3,
    });
    // Same spacing, no deformation: the kidney label has the map's kidney voxels (nearest neighbour, exact).
    expect(count(c.label.data as Uint8Array, 1)).toBe(kidneyVoxels[2] + kidneyVoxels[3]);
    // Both kidneys are there: labelled voxels on the patient's right (−x) and left (+x), centred as drawn.
    const labels = c.label.data as Uint8Array;
    const [ni, nj] = c.label.dims;
    let right = 0;
    let left = 0;
    for (let q = 0; q < labels.length; q++) {
      if (labels[q] !== 1) continue;
      const x = voxelToWorld(c.label, q % ni, Math.floor(q / ni) % nj, Math.floor(q / (ni * nj)))[0];
      if (x < 0) right++;
      else left++;
    }
    expect(right).toBe(kidneyVoxels[2]);
    expect(left).toBe(kidneyVoxels[3]);
    const pancreas = synthesizeFromLabelMap({
      labelMap: map,
      source: 'tiny.nii.gz',
      seed: 1,
      schema: 'pancreas',
      deform: false,
      lesions: false,
    });
    expect(meanX(pancreas.label, 1)).toBeCloseTo(10, 0);
  });

  it('changes organ volumes as the recorded deformation says', () => {
    for (const seed of [2, 3, 7]) {
      const c = synthesizeFromLabelMap({
        labelMap: map,
        source: 'tiny.nii.gz',
        seed,
        schema: 'kidney',
        lesions: false,
        synthVersion: 3,
      });
      const d = c.meta.labelMap!.deformation;
      const expected =
        (kidneyVoxels[2] * d.organScale[2] ** 3 + kidneyVoxels[3] * d.organScale[3] ** 3) * d.affineVolumeRatio;
      const got = count(c.label.data as Uint8Array, 1);
      // Nearest-neighbour sampling and the elastic field (≤ 6 mm over 45 mm cells) keep it within 12 %.
      expect(Math.abs(got - expected) / expected).toBeLessThan(0.12);
    }
  });

  it('generator v4 makes the kidney core renal sinus: fat between calyces and vessels, unlabelled where fat', () => {
    let cored = 0;
    let huShift = 0;
    let fatVoxels = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const o = {
        labelMap: map,
        source: 'tiny.nii.gz',
        seed,
        schema: 'kidney' as const,
        deform: false,
        lesions: false,
      };
      const v3 = synthesizeFromLabelMap({ ...o, synthVersion: 3 });
      const v4 = synthesizeFromLabelMap({ ...o, synthVersion: 4 });
      expect(v4.meta.generatorVersion).toBe(4);
      const old = v3.label.data as Uint8Array;
      const now = v4.label.data as Uint8Array;
      const a = v3.image.data as Int16Array;
      const b = v4.image.data as Int16Array;
      const [ni, nj, nk] = v4.label.dims;
      const kidneyAt = (i: number, j: number, k: number) =>
        i >= 0 && j >= 0 && k >= 0 && i < ni && j < nj && k < nk && old[i + ni * (j + nj * k)] === 1;
      let fat = 0;
      for (let q = 0; q < now.length; q++) {
        if (now[q] === old[q]) continue;
        // Only kidney voxels lose their label (mostly fat now), and only in the core: kidney for 3 voxels
        // (9 mm) along every axis, where the sinus lies, never in the cortex.
        expect([old[q], now[q]]).toEqual([1, 0]);
        const i = q % ni;
        const j = Math.floor(q / ni) % nj;
        const k = Math.floor(q / (ni * nj));
        for (let d = 1; d <= 3; d++)
          for (const [di, dj, dk] of [
            [d, 0, 0],
            [-d, 0, 0],
            [0, d, 0],
            [0, -d, 0],
            [0, 0, d],
            [0, 0, -d],
          ])
            expect(kidneyAt(i + di, j + dj, k + dk)).toBe(true);
        fat++;
        huShift += b[q] - a[q];
      }
      // The sinus fat is a small part of the kidney.
      expect(fat).toBeLessThan(count(old, 1) * 0.2);
      if (fat > 0) cored++;
      fatVoxels += fat;
    }
    expect(cored).toBeGreaterThanOrEqual(3);
    // What was parenchyma there reads as fat now.
    expect(huShift / fatVoxels).toBeLessThan(-40);
    // The pancreas schema's cases do not change.
    const p = { labelMap: map, source: 'tiny.nii.gz', seed: 2, schema: 'pancreas' as const };
    const p3 = synthesizeFromLabelMap({ ...p, synthVersion: 3 });
    const p4 = synthesizeFromLabelMap({ ...p, synthVersion: 4 });
    expect(Buffer.from(p4.image.data.buffer).equals(Buffer.from(p3.image.data.buffer))).toBe(true);
  });

  it('generator v5 puts metal in some cases (forced: always), labels untouched; v4 has none', () => {
    const o = { labelMap: map, source: 'tiny.nii.gz', schema: 'kidney' as const, lesions: false };
    let drawn = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const v5 = synthesizeFromLabelMap({ ...o, seed, synthVersion: 5 });
      const v4 = synthesizeFromLabelMap({ ...o, seed, synthVersion: 4 });
      expect(v4.meta.metal).toBeUndefined();
      expect(Buffer.from(v5.label.data.buffer).equals(Buffer.from(v4.label.data.buffer))).toBe(true);
      const same = Buffer.from(v5.image.data.buffer).equals(Buffer.from(v4.image.data.buffer));
      expect(same).toBe(v5.meta.metal === undefined);
      if (v5.meta.metal) drawn++;
    }
    expect(drawn).toBeLessThan(10);
    // Forced: every case whose drawn metal lies in the field of view has it; labels stay, metal brightens the image.
    let forcedIn = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const forced = synthesizeFromLabelMap({ ...o, seed, metal: true });
      const none = synthesizeFromLabelMap({ ...o, seed, metal: false });
      expect(none.meta.metal).toBeUndefined();
      expect(Buffer.from(forced.label.data.buffer).equals(Buffer.from(none.label.data.buffer))).toBe(true);
      if (!forced.meta.metal) {
        expect(Buffer.from(forced.image.data.buffer).equals(Buffer.from(none.image.data.buffer))).toBe(true);
        continue;
      }
      forcedIn++;
      const a = forced.image.data as Int16Array;
      const b = none.image.data as Int16Array;
      let brighter = 0;
      for (let q = 0; q < a.length; q++) brighter = Math.max(brighter, a[q] - b[q]);
      expect(brighter).toBeGreaterThan(100);
    }
    expect(forcedIn).toBeGreaterThanOrEqual(3);
  });

  it('paints the image from the same pull as the labels (aligned)', () => {
    const c = synthesizeFromLabelMap({
      labelMap: map,
      source: 'tiny.nii.gz',
      seed: 9,
      schema: 'kidney',
      lesions: false,
      noiseSigmaHu: 0,
    });
    const img = c.image.data as Int16Array;
    const lab = c.label.data as Uint8Array;
    const [ni, nj] = c.label.dims;
    const plane = ni * nj;
    // Kidney voxels whose six neighbours are kidney too (away from the blurred edge) read kidney HU, not fat;
    // the same voxels read 15 slices (45 mm) higher, past the upper poles, read fat (or the liver) far more often.
    const kidneyHu = (shift: number) => {
      const inside: number[] = [];
      for (let q = plane; q < lab.length - plane; q++) {
        if (lab[q] !== 1 || [1, -1, ni, -ni, plane, -plane].some((s) => lab[q + s] !== 1)) continue;
        if (q + shift >= 0 && q + shift < img.length) inside.push(img[q + shift]);
      }
      return inside;
    };
    const fatLike = (values: number[]) => values.filter((v) => v < -30).length / values.length;
    expect(fatLike(kidneyHu(0))).toBeLessThan(0.02);
    expect(fatLike(kidneyHu(15 * plane))).toBeGreaterThan(0.2);
  });

  it('inserts lesions into the organ or the fat beside it, never into another structure', () => {
    // Undeformed, every output voxel sits on one map voxel: read the map's id under each lesion voxel.
    const mapId = (w: Vec3): number => {
      const i = Math.round((map.originMm[0] - w[0]) / 3);
      const j = Math.round((map.originMm[1] - w[1]) / 3);
      const k = Math.round((w[2] - map.originMm[2]) / 3);
      const [ni, nj, nk] = map.dims;
      if (i < 0 || j < 0 || k < 0 || i >= ni || j >= nj || k >= nk) return 0;
      return map.data[i + ni * (j + nj * k)];
    };
    let seen = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const c = synthesizeFromLabelMap({ labelMap: map, source: 'tiny.nii.gz', seed, schema: 'kidney', deform: false });
      const b = c.label.data as Uint8Array;
      const [ni, nj] = c.label.dims;
      const under = new Set<number>();
      let lesionVoxels = 0;
      for (let q = 0; q < b.length; q++) {
        if (b[q] !== 2 && b[q] !== 3) continue;
        lesionVoxels++;
        under.add(mapId(voxelToWorld(c.label, q % ni, Math.floor(q / ni) % nj, Math.floor(q / (ni * nj)))));
      }
      for (const id of under) expect([0, 2, 3]).toContain(id);
      if (c.meta.lesions.length) {
        seen++;
        expect(lesionVoxels).toBeGreaterThan(0);
        expect(under.has(2) || under.has(3)).toBe(true);
      } else expect(lesionVoxels).toBe(0);
    }
    expect(seen).toBeGreaterThan(2);
  });

  it('generator v7 paints the renal pelvis into the fat of a hilar notch, unlabelled; renalPelvis false is v6', () => {
    // The right kidney gets a hilar notch (its antero-medial surface hollowed out); the left stays a plain ellipsoid,
    // whose pelvis stays inside it, in its renal sinus.
    const notched = new Uint8Array(map.data as Uint8Array);
    const [ni, nj, nk] = map.dims;
    const notchCentre: Vec3 = [-40, 18, -10];
    for (let k = 0; k < nk; k++)
      for (let j = 0; j < nj; j++)
        for (let i = 0; i < ni; i++) {
          const q = i + ni * (j + nj * k);
          const w = voxelToWorld(map, i, j, k);
          if (notched[q] === 2 && Math.hypot(w[0] - notchCentre[0], w[1] - notchCentre[1], w[2] - notchCentre[2]) < 14)
            notched[q] = 0;
        }
    const notchedMap: Volume = { ...map, data: notched };
    let withPelvis = 0;
    for (const seed of [1, 2, 3, 4, 5]) {
      const o = {
        labelMap: notchedMap,
        source: 'tiny.nii.gz',
        seed,
        schema: 'kidney' as const,
        deform: false,
        lesions: false,
        noiseSigmaHu: 0,
      };
      const v6 = synthesizeFromLabelMap({ ...o, synthVersion: 6 });
      const v7 = synthesizeFromLabelMap({ ...o, synthVersion: 7 });
      const off = synthesizeFromLabelMap({ ...o, synthVersion: 7, renalPelvis: false });
      expect(Buffer.from(off.image.data.buffer).equals(Buffer.from(v6.image.data.buffer))).toBe(true);
      expect(v6.meta.renalPelvis).toBeUndefined();
      expect(v7.meta.generatorVersion).toBe(7);
      expect(v7.meta.renalPelvis).toBe(true);
      // The labels never change: the pelvis is not kidney.
      expect(Buffer.from(v7.label.data.buffer).equals(Buffer.from(v6.label.data.buffer))).toBe(true);
      const [right, left] = v7.meta.renalPelvisMl!;
      const a = v6.image.data as Int16Array;
      const b = v7.image.data as Int16Array;
      const label = v7.label.data as Uint8Array;
      const [oi, oj, ok] = v7.label.dims;
      let changed = 0;
      let medial = 0;
      let leftChanged = 0;
      let leftInside = 0;
      let biggest = 40;
      let biggestAt = -1;
      for (let q = 0; q < a.length; q++) {
        if (Math.abs(b[q] - a[q]) <= 40) continue;
        if (Math.abs(b[q] - a[q]) > biggest) {
          biggest = Math.abs(b[q] - a[q]);
          biggestAt = label[q];
        }
        const w = voxelToWorld(v7.label, q % oi, Math.floor(q / oi) % oj, Math.floor(q / (oi * oj)));
        if (w[0] > 0) {
          leftChanged++;
          // The left kidney (centre [60, 30, -5], semi-axes [24, 20, 40]): its pelvis stays in its sinus.
          if (((w[0] - 60) / 24) ** 2 + ((w[1] - 30) / 20) ** 2 + ((w[2] + 5) / 40) ** 2 < 1) leftInside++;
          continue;
        }
        changed++;
        // Between the right kidney's centre (x -60) and the spine: at its hilum and along the ureter below it.
        if (w[0] > -60) medial++;
      }
      expect(ok).toBeGreaterThan(0);
      // (Its ureter reaches the fat below the lower pole, a few voxels.)
      expect(leftInside).toBeGreaterThanOrEqual(leftChanged * 0.9);
      if (left === 0) expect(leftChanged).toBe(0);
      // Urine (0-30 HU, or 150-600 when excretory) in fat (−125..−70): pelvis voxels change by far more than 40, and
      // the most where the urine is, in unlabelled voxels (the scanner blur spills some of it into the kidney).
      if (changed + leftChanged > 0) expect(biggestAt).toBe(0);
      if (right === 0) {
        expect(changed).toBe(0);
        continue;
      }
      withPelvis++;
      expect(changed * 27e-3).toBeGreaterThan(right * 0.3);
      expect(medial).toBeGreaterThanOrEqual(changed * 0.9);
    }
    expect(withPelvis).toBeGreaterThanOrEqual(3);
    // The pancreas schema draws none.
    const p = { labelMap: notchedMap, source: 'tiny.nii.gz', seed: 2, schema: 'pancreas' as const };
    const p6 = synthesizeFromLabelMap({ ...p, synthVersion: 6 });
    const p7 = synthesizeFromLabelMap({ ...p, synthVersion: 7 });
    expect(Buffer.from(p7.image.data.buffer).equals(Buffer.from(p6.image.data.buffer))).toBe(true);
    expect(p7.meta.renalPelvis).toBeUndefined();
  });

  it('generator v8 paints the mesenteric vessels below the pancreas, unlabelled; mesentericVessels false is v7', () => {
    // The tiny map with an aorta (52) in front of the spine and a splenic vein (64) behind the pancreas, which
    // TotalSegmentator labels; the superior mesenteric vessels below them it does not.
    const data = new Uint8Array(map.data as Uint8Array);
    const [ni, nj, nk] = map.dims;
    for (let k = 0; k < nk; k++)
      for (let j = 0; j < nj; j++)
        for (let i = 0; i < ni; i++) {
          const q = i + ni * (j + nj * k);
          const w = voxelToWorld(map, i, j, k);
          // Fat between the pancreas and the aorta, as in patients, and bowel in front, below the pancreas (so the
          // trunk's outline holds the fat the vessels run down through).
          if (data[q] === 7 && w[1] > -12) data[q] = 0;
          if (((w[0] - 10) / 45) ** 2 + ((w[1] + 65) / 10) ** 2 + ((w[2] + 35) / 25) ** 2 < 1) data[q] = 18;
          if (Math.hypot(w[0] - 8, w[1] - 3) < 9 && data[q] === 0) data[q] = 52;
          if (((w[0] + 5) / 30) ** 2 + ((w[1] + 2) / 5) ** 2 + ((w[2] - 8) / 5) ** 2 < 1 && data[q] === 0) data[q] = 64;
        }
    const vesselMap: Volume = { ...map, data };
    let painted = 0;
    for (const seed of [1, 2, 3]) {
      for (const schema of ['pancreas', 'kidney'] as const) {
        const o = {
          labelMap: vesselMap,
          source: 'tiny.nii.gz',
          seed,
          schema,
          deform: false,
          lesions: false,
          noiseSigmaHu: 0,
        };
        const v7 = synthesizeFromLabelMap({ ...o, synthVersion: 7 });
        const v8 = synthesizeFromLabelMap({ ...o, synthVersion: 8 });
        const off = synthesizeFromLabelMap({ ...o, synthVersion: 8, mesentericVessels: false });
        expect(Buffer.from(off.image.data.buffer).equals(Buffer.from(v7.image.data.buffer))).toBe(true);
        expect(v7.meta.mesentericVesselsMl).toBeUndefined();
        expect(v8.meta.generatorVersion).toBe(8);
        // Unlabelled: the labels are v7's.
        expect(Buffer.from(v8.label.data.buffer).equals(Buffer.from(v7.label.data.buffer))).toBe(true);
        const ml = v8.meta.mesentericVesselsMl!;
        // A 4-7 mm vein and a 2.5-4 mm artery over the ~60 mm below the splenic vein, less what organs hold.
        expect(ml).toBeGreaterThan(1);
        expect(ml).toBeLessThan(25);
        const a = v7.image.data as Int16Array;
        const b = v8.image.data as Int16Array;
        const [oi, oj] = v8.image.dims;
        let changed = 0;
        let inFront = 0;
        let below = 0;
        for (let q = 0; q < a.length; q++) {
          if (Math.abs(b[q] - a[q]) <= 20) continue;
          changed++;
          const w = voxelToWorld(v8.image, q % oi, Math.floor(q / oi) % oj, Math.floor(q / (oi * oj)));
          // In front of the aorta's back wall, within 70 mm of it in plane (branches and nodes reach out).
          if (w[1] < 12 && Math.hypot(w[0] - 8, w[1] - 3) < 70) inFront++;
          // Not above the artery's origin: at most 15 mm above the splenic vein's lowest point (z 3), plus the blur.
          if (w[2] <= 3 + 15 + 6) below++;
        }
        expect(changed * 27e-3).toBeGreaterThan(ml * 0.3);
        expect(inFront).toBeGreaterThanOrEqual(changed * 0.9);
        expect(below).toBe(changed);
        painted++;
      }
    }
    expect(painted).toBe(6);
    // A map without the aorta or the portal/splenic vein gets none.
    const none = synthesizeFromLabelMap({
      labelMap: map,
      source: 'tiny.nii.gz',
      seed: 1,
      schema: 'pancreas',
      synthVersion: 8,
    });
    expect(none.meta.mesentericVesselsMl).toBe(0);
  });

  it('maps TotalSegmentator ids to tissues', () => {
    expect(structureOfTotalSegId(2)).toBe('kidney');
    expect(structureOfTotalSegId(7)).toBe('pancreas');
    expect(structureOfTotalSegId(31)).toBe('bone');
    expect(structureOfTotalSegId(64)).toBe('portalVein');
    expect(structureOfTotalSegId(88)).toBe('muscle');
    expect(structureOfTotalSegId(0)).toBe('background');
  });

  it('refuses maps that cannot make cases, naming the file', () => {
    const noKidney = { ...map, data: (map.data as Uint8Array).map((v) => (v === 2 || v === 3 ? 0 : v)) };
    expect(() =>
      synthesizeFromLabelMap({ labelMap: noKidney, source: 'a/b.nii.gz', seed: 1, schema: 'kidney' }),
    ).toThrow(/a\/b\.nii\.gz: has no kidney/);
    const floats = { ...map, data: new Float32Array(map.data.length) };
    expect(() => synthesizeFromLabelMap({ labelMap: floats, source: 'f.nii.gz', seed: 1, schema: 'pancreas' })).toThrow(
      /f\.nii\.gz: is not a label map/,
    );
    const negative = { ...map, data: Int16Array.from(map.data as Uint8Array, (v) => (v === 30 ? -3 : v)) };
    expect(() =>
      synthesizeFromLabelMap({ labelMap: negative, source: 'n.nii.gz', seed: 1, schema: 'pancreas' }),
    ).toThrow(/n\.nii\.gz: holds label -3/);
  });

  it('runs from deformux phantom --label-map, and refuses options that do not apply', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deformux-labelmap-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const file = join(dir, 'map.nii.gz');
      await writeNifti(file, map);
      const out = join(dir, 'out');
      expect(
        await run(['--out', out, '--label-map', file, '--cases', '2', '--seed', '3', '--schema', 'pancreas']),
      ).toBe(0);
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
      expect(manifest.cases).toHaveLength(2);
      expect(manifest.cases[1].meta.seed).toBe(4);
      expect(manifest.cases[0].meta.labelMap.source).toBe(file);
      const label = await readNifti(join(out, 'case_001_label.nii.gz'));
      const direct = synthesizeFromLabelMap({
        labelMap: await readNifti(file),
        source: file,
        seed: 4,
        schema: 'pancreas',
      });
      expect(Buffer.from(label.data.buffer).equals(Buffer.from(direct.label.data.buffer))).toBe(true);
      await expect(run(['--out', out, '--label-map', file, '--dims', '10,10,10'])).rejects.toThrow(/leave out --dims/);
      await expect(run(['--out', out, '--label-map', join(dir, 'missing.nii.gz')])).rejects.toThrow(/missing\.nii\.gz/);
    } finally {
      log.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
