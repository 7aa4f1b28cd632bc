// Metal in the field of view (generator v5): clips and stents painted with partial volume, saturating the scale,
// with streaks in their own axial slices only, and labels never changed.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Vec3 } from '../../src-main/imaging/volume';
import { generatePhantom } from '../../src-main/phantom/generate';
import { addMetal, METAL_HU, METAL_SHARE, type MetalCanvas, type MetalInfo } from '../../src-main/phantom/metal';
import { Rng } from '../../src-main/phantom/random';

const hash = (a: ArrayBufferView) =>
  createHash('sha256')
    .update(Buffer.from(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex')
    .slice(0, 16);

/**
 * A clean 3 mm canvas (identity LPS, k superior): a 40 HU body ellipse in air, and the schema's organ labelled 1:
 * two kidneys beside the midline (slices 20-33), or a pancreas lying across it (head at −x, slices 22-27).
 */
function canvas(schema: 'kidney' | 'pancreas'): MetalCanvas {
  const dims: Vec3 = [64, 64, 48];
  const spacingMm: Vec3 = [3, 3, 3];
  const originMm: Vec3 = [-94.5, -94.5, -70.5];
  const n = dims[0] * dims[1] * dims[2];
  const hu = new Float32Array(n);
  const label = new Uint8Array(n);
  for (let k = 0; k < dims[2]; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++) {
        const q = i + dims[0] * (j + dims[1] * k);
        const inBody = ((i - 31.5) / 28) ** 2 + ((j - 31.5) / 22) ** 2 <= 1;
        hu[q] = inBody ? 40 : -1000;
        const organ =
          schema === 'kidney'
            ? k >= 20 && k < 34 && j >= 36 && j < 46 && ((i >= 14 && i < 22) || (i >= 42 && i < 50))
            : k >= 22 && k < 28 && j >= 22 && j < 28 && i >= 18 && i < 46;
        if (organ) {
          label[q] = 1;
          hu[q] = 150;
        }
      }
  return { dims, spacingMm, originMm, hu, label };
}

interface Painted {
  info: MetalInfo;
  before: MetalCanvas;
  after: MetalCanvas;
}

/** The first seeds (from 1) that paint each kind of metal into a fresh canvas. */
function paintedKinds(schema: 'kidney' | 'pancreas'): Map<MetalInfo['kind'], Painted> {
  const out = new Map<MetalInfo['kind'], Painted>();
  for (let seed = 1; seed <= 40 && out.size < 2; seed++) {
    const before = canvas(schema);
    const after = { ...before, hu: before.hu.slice(), label: before.label.slice() };
    const info = addMetal(after, schema, new Rng(seed, 'metal-test'), true)!;
    if (!out.has(info.kind)) out.set(info.kind, { info, before, after });
  }
  return out;
}

describe('metal (generator v5)', () => {
  it('is drawn in about METAL_SHARE of the cases, and forced either way', () => {
    let drawn = 0;
    const n = 600;
    const small = canvas('kidney');
    for (let seed = 0; seed < n; seed++) {
      const cv = { ...small, hu: small.hu.slice() };
      const info = addMetal(cv, 'kidney', new Rng(seed, 'share'));
      if (info) drawn++;
      else expect(hash(cv.hu)).toBe(hash(small.hu));
      // Forced off: nothing; forced on: metal, the same the draw gives when it says yes.
      const off = { ...small, hu: small.hu.slice() };
      expect(addMetal(off, 'kidney', new Rng(seed, 'share'), false)).toBeUndefined();
      expect(hash(off.hu)).toBe(hash(small.hu));
      if (info && seed % 10 === 0) {
        const on = { ...small, hu: small.hu.slice() };
        expect(addMetal(on, 'kidney', new Rng(seed, 'share'), true)).toEqual(info);
        expect(hash(on.hu)).toBe(hash(cv.hu));
      }
    }
    expect(Math.abs(drawn / n - METAL_SHARE)).toBeLessThan(0.05);
  });

  it('saturates the scale, streaks only the slices that hold metal (dark and bright), and keeps every label', () => {
    for (const schema of ['kidney', 'pancreas'] as const) {
      const kinds = paintedKinds(schema);
      expect([...kinds.keys()].sort()).toEqual(
        schema === 'kidney' ? ['clips', 'ureteral stent'] : ['biliary stent', 'clips'],
      );
      for (const [kind, { info, before, after }] of kinds) {
        const [ni, nj, nk] = before.dims;
        const plane = ni * nj;
        // Labels stay, but for the bile duct a biliary stent holds open through the pancreas: unlabelled there.
        let unlabelled = 0;
        for (let q = 0; q < after.label.length; q++) {
          if (after.label[q] === before.label[q]) continue;
          expect([kind, before.label[q], after.label[q]]).toEqual(['biliary stent', 1, 0]);
          unlabelled++;
        }
        if (kind === 'biliary stent') expect(unlabelled).toBeGreaterThan(0);
        // A solid stent saturates the scale; a clip or a mesh wall thinner than a voxel may not, but reads as
        // bright as cortical bone or brighter.
        const saturated = after.hu.filter((v) => v >= METAL_HU).length;
        expect(saturated).toBe(info.voxels);
        if (kind === 'ureteral stent') expect(info.voxels).toBeGreaterThan(0);
        const metal: number[] = [];
        for (let q = 0; q < after.hu.length; q++) if (after.hu[q] >= 800) metal.push(q);
        expect(metal.length).toBeGreaterThan(0);
        // Clips lie outside the organ: its voxels take streaks (at most the strongest one's peak), never metal.
        if (kind === 'clips')
          for (let q = 0; q < after.hu.length; q++)
            if (before.label[q] !== 0)
              expect(Math.abs(after.hu[q] - before.hu[q])).toBeLessThanOrEqual(info.streakHu + 1);
        const slicesWithMetal = new Set<number>();
        for (let q = 0; q < after.hu.length; q++)
          if (after.hu[q] - before.hu[q] > 300) slicesWithMetal.add(Math.floor(q / plane));
        let up = 0;
        let down = 0;
        for (let k = 0; k < nk; k++)
          for (let r = 0; r < plane; r++) {
            const q = k * plane + r;
            const d = after.hu[q] - before.hu[q];
            if (d === 0) continue;
            // Air outside the body takes no streak; a slice without metal (at most a wire's edge reaching in from the
            // next slice, a few HU brighter) has none either: nothing there is darker.
            expect(before.hu[q]).toBeGreaterThan(-700);
            if (!slicesWithMetal.has(k)) expect(d).toBeGreaterThan(0);
            if (d >= 10) up++;
            if (d <= -10) down++;
          }
        expect(info.slices).toBeGreaterThan(0);
        expect(info.slices).toBeLessThanOrEqual(slicesWithMetal.size);
        expect(up).toBeGreaterThan(metal.length);
        expect(down).toBeGreaterThan(100);
        // Where: a ureteral stent from a kidney's level down the ureter (at least 60 mm, or to the scan's end);
        // a biliary stent through the pancreatic head (its −x part); clips within 40 mm of the organ.
        const ks = metal.map((q) => Math.floor(q / plane));
        const is = metal.map((q) => q % ni);
        if (kind === 'ureteral stent') {
          expect(Math.max(...ks)).toBeGreaterThanOrEqual(20);
          expect(Math.max(...ks)).toBeLessThan(34);
          expect(Math.min(...ks)).toBeLessThanOrEqual(Math.max(0, Math.max(...ks) - 20));
        } else if (kind === 'biliary stent') {
          const mean = is.reduce((a, b) => a + b, 0) / is.length;
          expect(mean).toBeLessThan(30);
          expect(Math.max(...ks)).toBeGreaterThan(27);
        } else {
          for (const q of metal) {
            const i = q % ni;
            const j = Math.floor(q / ni) % nj;
            const k = Math.floor(q / plane);
            let near = Infinity;
            for (let p = 0; p < before.label.length; p++) {
              if (before.label[p] !== 1) continue;
              const di = (p % ni) - i;
              const dj = (Math.floor(p / ni) % nj) - j;
              const dk = Math.floor(p / plane) - k;
              near = Math.min(near, 3 * Math.hypot(di, dj, dk));
            }
            expect(near).toBeLessThan(40);
          }
        }
      }
    }
  });

  it('reproduces generator v4 synth cases with synthVersion 4; v5 adds metal to some, from its own stream', () => {
    // Made by the generator of commit e7451e4 (v4).
    const opts = { schema: 'kidney' as const, dims: [64, 64, 54] as Vec3 };
    for (const [seed, image, label] of [
      [2, 'bd53f3fab6b743a5', '1897b545df31902a'],
      [11, '898295aca60fb663', 'cc7ee69885c3d301'],
    ] as const) {
      const c = generatePhantom({ ...opts, seed, domain: 'synth', synthVersion: 4 });
      expect([hash(c.image.data), hash(c.label.data)]).toEqual([image, label]);
      expect(c.meta.metal).toBeUndefined();
    }
    let withMetal = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const small = { schema: 'pancreas' as const, dims: [40, 40, 34] as Vec3, seed, domain: 'synth' as const };
      const v4 = generatePhantom({ ...small, synthVersion: 4 });
      const v5 = generatePhantom({ ...small, synthVersion: 5 });
      expect(v5.meta.generatorVersion).toBe(5);
      if (v5.meta.metal?.kind !== 'biliary stent') expect(hash(v5.label.data)).toBe(hash(v4.label.data));
      if (v5.meta.metal === undefined) {
        expect(hash(v5.image.data)).toBe(hash(v4.image.data));
        continue;
      }
      withMetal++;
      expect(hash(v5.image.data)).not.toBe(hash(v4.image.data));
    }
    expect(withMetal).toBeGreaterThanOrEqual(1);
    expect(withMetal).toBeLessThanOrEqual(12);
    // The standard domain draws none; asked for, any domain has it.
    const standard = generatePhantom({ ...opts, seed: 3 });
    expect(standard.meta.metal).toBeUndefined();
    const forced = generatePhantom({ ...opts, seed: 3, metal: true });
    expect(forced.meta.metal).toBeDefined();
    expect(hash(forced.label.data)).toBe(hash(standard.label.data));
  });
});
