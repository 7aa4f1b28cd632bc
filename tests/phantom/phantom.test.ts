// Synthetic phantom generator: determinism, geometry, schema labels, anatomy sides and HU per class.
import { describe, expect, it } from 'vitest';
import type { Vec3 } from '../../src-main/imaging/volume';
import { type PhantomCase, type PhantomOptions, generatePhantom } from '../../src-main/phantom/generate';
import { components6, interiorMean, neighbours6, voxelAt, worldOf } from './helpers';

// Small grid, same field of view as the default (384 × 384 × 320 mm), so tests stay fast.
const DIMS: Vec3 = [128, 128, 64];
const SPACING: Vec3 = [3, 3, 5];
const cache = new Map<string, PhantomCase>();

function phantom(
  seed: number,
  schema: 'kidney' | 'pancreas' = 'kidney',
  extra: Partial<PhantomOptions> = {},
): PhantomCase {
  const key = JSON.stringify([seed, schema, extra]);
  let c = cache.get(key);
  if (!c) {
    c = generatePhantom({ seed, schema, dims: DIMS, spacingMm: SPACING, ...extra });
    cache.set(key, c);
  }
  return c;
}

/** Lesion descriptions do not depend on the grid, so a tiny grid finds seeds with a wanted lesion cheaply. */
function findSeed(schema: 'kidney' | 'pancreas', wanted: (c: PhantomCase) => boolean, from = 1): number {
  for (let seed = from; seed < from + 60; seed++) {
    if (wanted(generatePhantom({ seed, schema, dims: [4, 4, 4], spacingMm: [1, 1, 1] }))) return seed;
  }
  throw new Error(`no seed from ${from} gives the wanted ${schema} case`);
}

describe('generatePhantom', () => {
  it('is deterministic per seed', () => {
    const a = generatePhantom({ seed: 7, schema: 'kidney', dims: [64, 64, 32], spacingMm: [6, 6, 10] });
    const b = generatePhantom({ seed: 7, schema: 'kidney', dims: [64, 64, 32], spacingMm: [6, 6, 10] });
    expect(Buffer.from(a.image.data.buffer).equals(Buffer.from(b.image.data.buffer))).toBe(true);
    expect(Buffer.from(a.label.data.buffer).equals(Buffer.from(b.label.data.buffer))).toBe(true);
    expect(a.meta).toEqual(b.meta);
  });

  it('gives different anatomy for different seeds', () => {
    const a = phantom(1);
    const b = phantom(2);
    let differentImage = 0;
    let differentLabel = 0;
    for (let q = 0; q < a.image.data.length; q++) {
      if (Math.abs(a.image.data[q] - b.image.data[q]) > 100) differentImage++;
      if (a.label.data[q] !== b.label.data[q]) differentLabel++;
    }
    // More than noise: at least 5% of voxels change tissue, and the kidney labels move.
    expect(differentImage / a.image.data.length).toBeGreaterThan(0.05);
    expect(differentLabel).toBeGreaterThan(200);
  });

  it('returns a CT int16 image and a uint8 label on one LPS grid, marked synthetic', () => {
    const c = phantom(3);
    expect(c.image.data).toBeInstanceOf(Int16Array);
    expect(c.label.data).toBeInstanceOf(Uint8Array);
    expect(c.image.data.length).toBe(DIMS[0] * DIMS[1] * DIMS[2]);
    for (const v of [c.image, c.label]) {
      expect(v.dims).toEqual(DIMS);
      expect(v.spacingMm).toEqual(SPACING);
      expect(v.direction).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
      expect(v.source).toBe('synthetic');
      expect(v.description).toMatch(/synthetic/i);
    }
    expect(c.label.originMm).toEqual(c.image.originMm);
    expect(c.image.modality).toBe('CT');
    expect(c.meta.synthetic).toBe(true);
    expect(c.meta.seed).toBe(3);
    expect(c.meta.schema).toBe('kidney');
    // Air in the corners, soft tissue and bone inside.
    expect(c.image.data[0]).toBeLessThan(-900);
    let bone = 0;
    for (const h of c.image.data) if (h > 400) bone++;
    expect(bone).toBeGreaterThan(500);
  });

  it('keeps a realistic field of view when only dims are given', () => {
    const c = generatePhantom({ seed: 1, schema: 'kidney', dims: [64, 48, 40] });
    expect(c.image.spacingMm).toEqual([6, 8, 8]);
    expect(c.label.spacingMm).toEqual([6, 8, 8]);
  });

  it('uses only the schema classes', () => {
    for (const [schema, allowed] of [
      ['kidney', [0, 1, 2, 3]],
      ['pancreas', [0, 1, 2]],
    ] as const) {
      for (const seed of [4, 5]) {
        const seen = new Set<number>(phantom(seed, schema).label.data);
        for (const v of seen) expect(allowed as readonly number[]).toContain(v);
        expect(seen.has(1)).toBe(true);
      }
    }
  });

  it('puts the left kidney at +x and the right kidney at −x (LPS), beside the spine', () => {
    for (const seed of [1, 2, 3]) {
      const c = phantom(seed);
      const kidney = new Uint8Array(c.label.data.length);
      for (let q = 0; q < kidney.length; q++) kidney[q] = c.label.data[q] === 1 ? 1 : 0;
      const { ids, sizes } = components6(kidney, c.label.dims);
      // Two large components (lesions may split a kidney's label, never merge the two).
      const big = sizes.map((s, id) => ({ s, id })).filter((e) => e.id > 0 && e.s > 300);
      expect(big.length).toBeGreaterThanOrEqual(2);
      let left = 0,
        right = 0,
        midline = 0;
      const centroid = new Map<number, number[]>();
      for (let q = 0; q < ids.length; q++) {
        if (!ids[q]) continue;
        const [x, , z] = worldOf(c.label, q);
        if (x > 25) left++;
        else if (x < -25) right++;
        if (Math.abs(x - 0) < 15) midline++;
        const e = centroid.get(ids[q]) ?? [0, 0, 0];
        e[0] += x;
        e[1] += z;
        e[2]++;
        centroid.set(ids[q], e);
      }
      expect(left).toBeGreaterThan(300);
      expect(right).toBeGreaterThan(300);
      expect(midline).toBe(0);
      const xs = big.map((e) => centroid.get(e.id)![0] / centroid.get(e.id)![2]);
      expect(Math.min(...xs)).toBeLessThan(-40);
      expect(Math.max(...xs)).toBeGreaterThan(40);
    }
  });

  it('names lesion sides in patient terms: left kidney lesions at +x, right at −x (LPS)', () => {
    const sides = { left: 0, right: 0 };
    for (let seed = 1; seed <= 15; seed++) {
      const { lesions } = generatePhantom({ seed, schema: 'kidney', dims: [4, 4, 4], spacingMm: [1, 1, 1] }).meta;
      for (const lesion of lesions) {
        // The lesion centre lies in its kidney, 40-110 mm from the midline.
        if (lesion.organ === 'left kidney') {
          expect(lesion.centerMm[0]).toBeGreaterThan(25);
          sides.left++;
        } else {
          expect(lesion.organ).toBe('right kidney');
          expect(lesion.centerMm[0]).toBeLessThan(-25);
          sides.right++;
        }
      }
    }
    expect(sides.left).toBeGreaterThan(2);
    expect(sides.right).toBeGreaterThan(2);
  });

  it('puts the liver on the patient right (−x in LPS)', () => {
    const c = phantom(6, 'kidney', { domainShift: { noiseSigmaHu: 0 } });
    const topZ = c.image.originMm[2] + 0.65 * (c.image.dims[2] - 1) * c.image.spacingMm[2];
    let liverX = 0,
      liverN = 0;
    for (let q = 0; q < c.image.data.length; q++) {
      const h = c.image.data[q];
      if (h < 85 || h > 112) continue;
      const [x, , z] = worldOf(c.image, q);
      if (z < topZ) continue;
      liverX += x;
      liverN++;
    }
    expect(liverN).toBeGreaterThan(2000);
    expect(liverX / liverN).toBeLessThan(-20);
  });

  it('usually places the left kidney higher than the right, with seed-to-seed variation', () => {
    const meanZ: { left: number; right: number }[] = [];
    for (let seed = 21; seed < 29; seed++) {
      const c = generatePhantom({ seed, schema: 'kidney', dims: [64, 64, 32], spacingMm: [6, 6, 10] });
      const sum = { left: 0, leftN: 0, right: 0, rightN: 0 };
      for (let q = 0; q < c.label.data.length; q++) {
        if (c.label.data[q] !== 1) continue;
        const [x, , z] = worldOf(c.label, q);
        if (x > 0) {
          sum.left += z;
          sum.leftN++;
        } else {
          sum.right += z;
          sum.rightN++;
        }
      }
      meanZ.push({ left: sum.left / sum.leftN, right: sum.right / sum.rightN });
    }
    const leftHigher = meanZ.filter((m) => m.left > m.right).length;
    expect(leftHigher).toBeGreaterThanOrEqual(5);
    // Positions vary by seed: the right kidney's height spans more than a centimetre across cases.
    const rights = meanZ.map((m) => m.right);
    expect(Math.max(...rights) - Math.min(...rights)).toBeGreaterThan(10);
  });

  it('gives kidney, cyst and tumor voxels their expected HU (portal venous phase)', () => {
    const cystSeed = findSeed('kidney', (c) => c.meta.lesions.some((l) => l.kind === 'cyst' && l.radiusMm > 12));
    const tumorSeed = findSeed('kidney', (c) => c.meta.lesions.some((l) => l.kind === 'tumor' && l.radiusMm > 15));
    const withCyst = phantom(cystSeed);
    const kidney = interiorMean(withCyst.image, withCyst.label, 1);
    expect(kidney.count).toBeGreaterThan(200);
    // Cortex ~175 and medulla ~120 with some renal pelvis urine: the mean lies between.
    expect(kidney.mean).toBeGreaterThan(100);
    expect(kidney.mean).toBeLessThan(200);
    const cyst = interiorMean(withCyst.image, withCyst.label, 3);
    expect(cyst.count).toBeGreaterThan(5);
    expect(cyst.mean).toBeGreaterThan(-10);
    expect(cyst.mean).toBeLessThan(30);
    const withTumor = phantom(tumorSeed);
    const tumor = interiorMean(withTumor.image, withTumor.label, 2);
    expect(tumor.count).toBeGreaterThan(5);
    expect(tumor.mean).toBeGreaterThan(20);
    expect(tumor.mean).toBeLessThan(170);
  });

  it('keeps lesions inside or touching their organ', () => {
    for (const [schema, seedWith] of [
      ['kidney', findSeed('kidney', (c) => c.meta.lesions.length >= 2)],
      ['pancreas', findSeed('pancreas', (c) => c.meta.lesions.length >= 1)],
    ] as const) {
      const c = phantom(seedWith, schema);
      const lab = c.label.data;
      const lesionMask = new Uint8Array(lab.length);
      for (let q = 0; q < lab.length; q++) lesionMask[q] = lab[q] >= 2 ? 1 : 0;
      const { ids, sizes } = components6(lesionMask, c.label.dims);
      expect(sizes.length).toBeGreaterThan(1);
      const touches = new Set<number>();
      for (let q = 0; q < lab.length; q++) {
        if (ids[q] && neighbours6(q, c.label.dims).some((n) => lab[n] === 1)) touches.add(ids[q]);
      }
      for (let id = 1; id < sizes.length; id++) expect(touches.has(id)).toBe(true);
      for (const lesion of c.meta.lesions) {
        const q = voxelAt(c.label, lesion.centerMm);
        expect(q).toBeGreaterThanOrEqual(0);
        expect(lab[q]).toBeGreaterThan(0);
      }
    }
  });

  it('varies lesions between seeds, including cases without any', () => {
    const counts = { none: 0, tumor: 0, cyst: 0 };
    for (let seed = 1; seed <= 20; seed++) {
      const { lesions } = generatePhantom({ seed, schema: 'kidney', dims: [4, 4, 4], spacingMm: [1, 1, 1] }).meta;
      if (!lesions.length) counts.none++;
      if (lesions.some((l) => l.kind === 'tumor')) counts.tumor++;
      if (lesions.some((l) => l.kind === 'cyst')) counts.cyst++;
    }
    expect(counts.none).toBeGreaterThan(0);
    expect(counts.tumor).toBeGreaterThan(4);
    expect(counts.cyst).toBeGreaterThan(4);
  });

  it('draws a pancreas from head (patient right, lower) to tail (left, higher) with a hypodense tumor', () => {
    const seed = findSeed('pancreas', (c) => c.meta.lesions.some((l) => l.radiusMm > 12));
    const c = phantom(seed, 'pancreas');
    let headZ = 0,
      headN = 0,
      tailZ = 0,
      tailN = 0,
      minX = Infinity,
      maxX = -Infinity;
    for (let q = 0; q < c.label.data.length; q++) {
      if (c.label.data[q] !== 1) continue;
      const [x, , z] = worldOf(c.label, q);
      minX = Math.min(minX, x);
      maxX = Math.max(maxX, x);
      if (x < -15) {
        headZ += z;
        headN++;
      }
      if (x > 40) {
        tailZ += z;
        tailN++;
      }
    }
    expect(headN).toBeGreaterThan(50);
    expect(tailN).toBeGreaterThan(50);
    expect(maxX - minX).toBeGreaterThan(90);
    expect(tailZ / tailN).toBeGreaterThan(headZ / headN);
    const gland = interiorMean(c.image, c.label, 1);
    const tumor = interiorMean(c.image, c.label, 2);
    expect(gland.mean).toBeGreaterThan(70);
    expect(gland.mean).toBeLessThan(140);
    expect(tumor.count).toBeGreaterThan(5);
    expect(gland.mean - tumor.mean).toBeGreaterThan(20);
  });

  it('adds noise of the requested strength and follows the contrast phase', () => {
    const quiet = phantom(6, 'kidney', { domainShift: { noiseSigmaHu: 0 } });
    const noisy = phantom(6, 'kidney', { domainShift: { noiseSigmaHu: 15 } });
    let sum = 0,
      sum2 = 0,
      n = 0;
    for (let q = 0; q < quiet.image.data.length; q++) {
      // Inside the body only, where the int16 clamp at −1024 cannot cut the noise.
      if (quiet.image.data[q] < -800) continue;
      const d = noisy.image.data[q] - quiet.image.data[q];
      sum += d;
      sum2 += d * d;
      n++;
    }
    const sd = Math.sqrt(sum2 / n - (sum / n) ** 2);
    expect(sd).toBeGreaterThan(15 * 0.85);
    expect(sd).toBeLessThan(15 * 1.15);
    expect(Math.abs(sum / n)).toBeLessThan(1);
    const plain = phantom(6, 'kidney', { domainShift: { contrastPhase: 'noncontrast' } });
    const kidney = interiorMean(plain.image, plain.label, 1);
    expect(kidney.mean).toBeGreaterThan(10);
    expect(kidney.mean).toBeLessThan(60);
    expect(plain.meta.contrastPhase).toBe('noncontrast');
  });

  it('widens the spread of kidney sizes with domainShift.kidneyShapeRange', () => {
    /** Coefficient of variation of single-kidney volumes (voxels) over a few seeds. */
    const spreadOf = (kidneyShapeRange: number) => {
      const volumes: number[] = [];
      for (let seed = 31; seed < 37; seed++) {
        const c = generatePhantom({
          seed,
          schema: 'kidney',
          dims: [64, 64, 32],
          spacingMm: [6, 6, 10],
          domainShift: { kidneyShapeRange, lesions: false },
        });
        let left = 0,
          right = 0,
          lesionVoxels = 0;
        for (let q = 0; q < c.label.data.length; q++) {
          const v = c.label.data[q];
          if (v > 1) lesionVoxels++;
          else if (v === 1 && worldOf(c.label, q)[0] > 0) left++;
          else if (v === 1) right++;
        }
        expect(lesionVoxels).toBe(0); // no lesions asked for
        volumes.push(left, right);
      }
      const mean = volumes.reduce((a, b) => a + b, 0) / volumes.length;
      return Math.sqrt(volumes.reduce((a, b) => a + (b - mean) ** 2, 0) / volumes.length) / mean;
    };
    const narrow = spreadOf(0);
    const wide = spreadOf(3);
    // Measured here: about 0.08 (body size alone) against 0.27.
    expect(wide).toBeGreaterThan(narrow * 2);
  });

  it('refuses bad options with a clear message', () => {
    const base = { seed: 1, schema: 'kidney' as const, dims: [8, 8, 8] as Vec3 };
    expect(() => generatePhantom({ ...base, seed: -1 })).toThrow(/seed/);
    expect(() => generatePhantom({ ...base, seed: 1.5 })).toThrow(/seed/);
    expect(() => generatePhantom({ ...base, dims: [0, 8, 8] })).toThrow(/dims/);
    expect(() => generatePhantom({ ...base, spacingMm: [1, Number.NaN, 1] })).toThrow(/spacing/);
    expect(() => generatePhantom({ ...base, schema: 'liver' as 'kidney' })).toThrow(/schema/);
    expect(() => generatePhantom({ ...base, domainShift: { kidneyShapeRange: -1 } })).toThrow(/kidneyShapeRange/);
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    expect(() => generatePhantom({ ...base, signal: controller.signal })).toThrow(/stop/);
  });
});
