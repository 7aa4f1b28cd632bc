// Resampling to the model grid and mapping probabilities back: identity is exact, linear ramps are
// reproduced, and the slab-wise map-back equals a naive full-volume float64 reference.
import { describe, expect, it } from 'vitest';
import type { Vec3 } from '../../src-main/imaging/volume';
import { canonicalTransform, fromCanonicalOrder } from '../../src-main/imaging/orient';
import { antialiasAxisFilter, linearAxisMap, resampledDims, resampleToGrid } from '../../src-main/imaging/resample';
import { mapBackToOriginal } from '../../src-main/predict/map-back';
import { normaliseInPlace, normalisedValue } from '../../src-main/imaging/intensity';
import { rng, signedPermutations } from './helpers';

describe('resampling to the model grid', () => {
  it('is the identity when the grid does not change', () => {
    const dims: Vec3 = [7, 5, 4];
    const r = rng(1);
    const src = new Int16Array(7 * 5 * 4).map(() => Math.floor(r() * 3000) - 1500);
    const t = canonicalTransform({ dims, direction: [-1, 0, 0, 0, -1, 0, 0, 0, 1] }, 'RAS');
    const out = resampleToGrid(src, t, dims);
    expect(Array.from(out)).toEqual(Array.from(src));
  });

  it('chooses dims from the physical extent', () => {
    expect(resampledDims([512, 512, 300], [0.8, 0.8, 2.5], [1.6, 1.6, 2.5])).toEqual([256, 256, 300]);
    expect(resampledDims([3, 100, 1], [1, 1, 1], [5, 3, 1])).toEqual([1, 33, 1]);
  });

  it('trilinear: reproduces a linear ramp at the mapped positions (down- and upsampling, any orientation)', () => {
    const dims: Vec3 = [12, 10, 9];
    const ramp = (i: number, j: number, k: number) => 3 * i - 2 * j + 5 * k + 7;
    const src = new Float32Array(12 * 10 * 9);
    for (let k = 0; k < 9; k++)
      for (let j = 0; j < 10; j++) for (let i = 0; i < 12; i++) src[i + 12 * (j + 10 * k)] = ramp(i, j, k);
    for (const direction of signedPermutations().filter((_, n) => n % 7 === 0)) {
      const t = canonicalTransform({ dims, direction }, 'RAS');
      for (const outDims of [
        [5, 7, 4],
        [20, 13, 11],
      ] as Vec3[]) {
        const out = resampleToGrid(src, t, outDims, { antialias: false });
        const maps = [0, 1, 2].map((a) => linearAxisMap(t.dims[a], outDims[a]));
        for (let z = 0; z < outDims[2]; z++) {
          for (let y = 0; y < outDims[1]; y++) {
            for (let x = 0; x < outDims[0]; x++) {
              // Continuous canonical coordinate, then back to original (i, j, k).
              const cc = [x, y, z].map((o, a) => maps[a].lo[o] + maps[a].w[o]);
              const orig = [0, 0, 0];
              for (let a = 0; a < 3; a++) {
                const s = t.srcAxis[a];
                orig[s] = t.flip[a] ? t.dims[a] - 1 - cc[a] : cc[a];
              }
              // Half-voxel-aligned map: interior samples sit at (o + 0.5) * n / m - 0.5.
              const expected = ramp(orig[0], orig[1], orig[2]);
              expect(out[x + outDims[0] * (y + outDims[1] * z)]).toBeCloseTo(expected, 3);
            }
          }
        }
        // And the map itself is the half-voxel-aligned one where not clamped.
        const m = maps[0];
        const o = 2;
        expect(m.lo[o] + m.w[o]).toBeCloseTo(
          Math.min(t.dims[0] - 1, Math.max(0, ((o + 0.5) * t.dims[0]) / outDims[0] - 0.5)),
          5,
        );
      }
    }
  });
});

/** Per output index, the triangle weights of half-width max(1, n/m) over source indices (clamped), in float64. */
function triangleWeights(n: number, m: number): Map<number, number>[] {
  const s = n / m;
  const h = Math.max(1, s);
  return Array.from({ length: m }, (_, o) => {
    const c = (o + 0.5) * s - 0.5;
    const w = new Map<number, number>();
    let sum = 0;
    for (let j = Math.floor(c - h) - 1; j <= Math.ceil(c + h) + 1; j++) {
      const v = Math.max(0, 1 - Math.abs(j - c) / h);
      if (v === 0) continue;
      const jj = Math.min(n - 1, Math.max(0, j));
      w.set(jj, (w.get(jj) ?? 0) + v);
      sum += v;
    }
    for (const [j, v] of w) w.set(j, v / sum);
    return w;
  });
}

describe('antialiased downsampling', () => {
  it('filter rows are normalised triangles, and a row never reads outside the source', () => {
    for (const [n, m] of [
      [512, 128],
      [300, 107],
      [7, 3],
      [3, 1],
      [2, 5],
      [1, 4],
      [40, 40],
    ]) {
      const f = antialiasAxisFilter(n, m);
      const ref = triangleWeights(n, m);
      for (let o = 0; o < m; o++) {
        let sum = 0;
        for (let q = 0; q < f.taps; q++) {
          const j = f.start[o] + q;
          const w = f.weights[o * f.taps + q];
          sum += w;
          if (w !== 0) expect(j).toBeLessThan(n);
          expect(w).toBeCloseTo(ref[o].get(j) ?? 0, 6);
        }
        expect(sum).toBeCloseTo(1, 6);
        expect(f.start[o]).toBeGreaterThanOrEqual(0);
        expect(f.start[o] + f.taps).toBeLessThanOrEqual(n);
      }
    }
    // Upsampling and equal sizes: the linear interpolation weights.
    const up = antialiasAxisFilter(4, 10);
    const lin = linearAxisMap(4, 10);
    for (let o = 0; o < 10; o++) {
      const at = (j: number) =>
        j >= up.start[o] && j < up.start[o] + up.taps ? up.weights[o * up.taps + j - up.start[o]] : 0;
      const expected = new Map<number, number>([[lin.lo[o], 0]]);
      expected.set(lin.lo[o], 1 - lin.w[o] + (lin.hi[o] === lin.lo[o] ? lin.w[o] : 0));
      if (lin.hi[o] !== lin.lo[o]) expected.set(lin.hi[o], lin.w[o]);
      for (const [j, w] of expected) expect(at(j)).toBeCloseTo(w, 6);
    }
  });

  it('equals the separable triangle filter computed voxel by voxel, in any orientation', () => {
    const dims: Vec3 = [19, 14, 11];
    const r = rng(3);
    const src = new Float32Array(19 * 14 * 11).map(() => r() * 200 - 100);
    for (const direction of signedPermutations().filter((_, n) => n % 11 === 0)) {
      const t = canonicalTransform({ dims, direction }, 'RAS');
      // One axis kept, one down by ~3, one up: every kind of axis in one call.
      const outDims: Vec3 = [Math.ceil(t.dims[0] / 3), t.dims[1] + 3, t.dims[2]];
      const out = resampleToGrid(src, t, outDims);
      const w = [0, 1, 2].map((a) => triangleWeights(t.dims[a], outDims[a]));
      const at = (c: number[]) => {
        const orig = [0, 0, 0];
        for (let a = 0; a < 3; a++) orig[t.srcAxis[a]] = t.flip[a] ? t.dims[a] - 1 - c[a] : c[a];
        return src[orig[0] + dims[0] * (orig[1] + dims[1] * orig[2])];
      };
      for (let z = 0; z < outDims[2]; z++)
        for (let y = 0; y < outDims[1]; y++)
          for (let x = 0; x < outDims[0]; x++) {
            let v = 0;
            for (const [k, wz] of w[2][z])
              for (const [j, wy] of w[1][y]) for (const [i, wx] of w[0][x]) v += wz * wy * wx * at([i, j, k]);
            const got = out[x + outDims[0] * (y + outDims[1] * z)];
            if (Math.abs(got - v) > 1e-3) expect.fail(`(${x}, ${y}, ${z}): ${got} vs reference ${v}`);
          }
    }
  });

  it('keeps a constant, and averages away a thin-slice scan noise that point sampling keeps', () => {
    const dims: Vec3 = [64, 64, 48];
    const t = canonicalTransform({ dims, direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] }, 'RAS');
    const out: Vec3 = [16, 16, 12];
    const flat = resampleToGrid(new Int16Array(64 * 64 * 48).fill(40), t, out);
    for (const v of flat) expect(v).toBeCloseTo(40, 4);
    // White noise of 50 HU around 40 HU, downsampled 4x per axis (0.75 mm onto 3 mm).
    const r = rng(9);
    const noisy = new Float32Array(64 * 64 * 48).map(() => {
      const u = Math.max(1e-12, r());
      return 40 + 50 * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
    });
    const sd = (a: Float32Array) => {
      const m = a.reduce((s, v) => s + v, 0) / a.length;
      return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length);
    };
    const smooth = sd(resampleToGrid(noisy, t, out));
    const point = sd(resampleToGrid(noisy, t, out, { antialias: false }));
    // Triangle of half-width 4 per axis: variance x (sum of w^2)^3, about (1/6)^3, so about 50 / 14. Point sampling
    // here lands halfway between two voxels per axis: variance x (1/2)^3, about 50 / 2.8.
    expect(smooth).toBeLessThan(50 / 8);
    expect(point).toBeGreaterThan(50 / 3.5);
    expect(point / smooth).toBeGreaterThan(3);
  });
});

describe('clip and normalise', () => {
  it('clips to clipHu and applies (x - mean) / std', () => {
    const p = { clipHu: [-100, 200] as [number, number], mean: 40, std: 80 };
    const x = new Float32Array([-1000, -100, 0, 40, 200, 3000]);
    normaliseInPlace(x, p);
    const expected = [-140 / 80, -140 / 80, -40 / 80, 0, 160 / 80, 160 / 80];
    expected.forEach((e, n) => expect(x[n]).toBeCloseTo(e, 6));
    expect(normalisedValue(-1024, p)).toBeCloseTo(-140 / 80, 12);
  });
});

/** Naive float64 reference: per output voxel, trilinear of every class on the canonical grid, argmax. */
function referenceMapBack(probs: Float32Array, C: number, m: Vec3, n: Vec3) {
  const maps = [0, 1, 2].map((a) => linearAxisMap(m[a], n[a]));
  const M = m[0] * m[1] * m[2];
  const N = n[0] * n[1] * n[2];
  const label = new Uint8Array(N);
  const margin = new Float64Array(N);
  const first = new Float64Array(N);
  const at = (c: number, x: number, y: number, z: number) => probs[c * M + x + m[0] * (y + m[1] * z)];
  let o = 0;
  for (let z = 0; z < n[2]; z++) {
    for (let y = 0; y < n[1]; y++) {
      for (let x = 0; x < n[0]; x++, o++) {
        const vals: number[] = [];
        for (let c = 0; c < C; c++) {
          let v = 0;
          for (const [zi, wz] of [
            [maps[2].lo[z], 1 - maps[2].w[z]],
            [maps[2].hi[z], maps[2].w[z]],
          ]) {
            for (const [yi, wy] of [
              [maps[1].lo[y], 1 - maps[1].w[y]],
              [maps[1].hi[y], maps[1].w[y]],
            ]) {
              for (const [xi, wx] of [
                [maps[0].lo[x], 1 - maps[0].w[x]],
                [maps[0].hi[x], maps[0].w[x]],
              ])
                v += wz * wy * wx * at(c, xi, yi, zi);
            }
          }
          vals.push(v);
        }
        first[o] = vals[0];
        const sorted = [...vals, -Infinity].sort((a, b) => b - a);
        label[o] = vals.indexOf(sorted[0]);
        margin[o] = sorted[0] - sorted[1];
      }
    }
  }
  return { label, margin, first };
}

describe('mapping back to the original grid', () => {
  it('equals a naive reference slab by slab, written in the original voxel order', async () => {
    const r = rng(11);
    const C = 4;
    const srcDims: Vec3 = [21, 17, 13];
    for (const direction of [signedPermutations()[0], signedPermutations()[29], signedPermutations()[46]]) {
      const t = canonicalTransform({ dims: srcDims, direction }, 'RAS');
      const m: Vec3 = [Math.ceil(t.dims[0] / 3), Math.ceil(t.dims[1] / 2), Math.ceil(t.dims[2] / 2.5)];
      const M = m[0] * m[1] * m[2];
      const probs = new Float32Array(C * M).map(() => r());
      const unc = new Float32Array(M).map(() => r());
      const back = await mapBackToOriginal({ probs, classes: C, modelDims: m, uncertainty: unc }, t, {
        uncertaintyFormat: 'float32',
      });
      expect(back.label.length).toBe(srcDims[0] * srcDims[1] * srcDims[2]);
      const ref = referenceMapBack(probs, C, m, t.dims);
      const refOrig = fromCanonicalOrder(ref.label, t);
      const marginOrig = fromCanonicalOrder(Float64Array.from(ref.margin), t);
      let compared = 0;
      for (let n = 0; n < refOrig.length; n++) {
        if (marginOrig[n] < 1e-5) continue; // float32 vs float64 near-ties may differ
        compared++;
        if (back.label[n] !== refOrig[n]) expect.fail(`voxel ${n}: ${back.label[n]} vs reference ${refOrig[n]}`);
      }
      expect(compared).toBeGreaterThan(refOrig.length * 0.99);
      // Uncertainty is interpolated like a class channel; uint8 is that value scaled to 0..255.
      const refU = fromCanonicalOrder(referenceMapBack(unc, 1, m, t.dims).first, t);
      const u32f = back.uncertainty as Float32Array;
      for (let n = 0; n < refU.length; n++)
        if (Math.abs(u32f[n] - refU[n]) > 1e-5) expect.fail(`uncertainty at ${n}: ${u32f[n]} vs ${refU[n]}`);
      const back8 = await mapBackToOriginal({ probs, classes: C, modelDims: m, uncertainty: unc }, t, {
        uncertaintyFormat: 'uint8',
      });
      const u32 = back.uncertainty as Float32Array;
      const u8 = back8.uncertainty as Uint8Array;
      for (let n = 0; n < u32.length; n++) expect(Math.abs(u8[n] - u32[n] * 255)).toBeLessThanOrEqual(0.5 + 1e-3);
    }
  });

  it('is the exact argmax when the model grid is the original grid', async () => {
    const r = rng(5);
    const dims: Vec3 = [9, 8, 7];
    const t = canonicalTransform({ dims, direction: [1, 0, 0, 0, 0, 1, 0, -1, 0] }, 'RAS');
    const C = 3;
    const M = 9 * 8 * 7;
    const probs = new Float32Array(C * M).map(() => r());
    const back = await mapBackToOriginal({ probs, classes: C, modelDims: t.dims, uncertainty: undefined }, t);
    const canon = new Uint8Array(M);
    for (let n = 0; n < M; n++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (probs[c * M + n] > probs[best * M + n]) best = c;
      canon[n] = best;
    }
    expect(Array.from(back.label)).toEqual(Array.from(fromCanonicalOrder(canon, t)));
    expect(back.uncertainty).toBeUndefined();
  });
});

describe('map-back cancellation', () => {
  it('stops between slices once the signal is aborted, with monotone progress', async () => {
    const dims: Vec3 = [40, 30, 60];
    const t = canonicalTransform({ dims, direction: [-1, 0, 0, 0, -1, 0, 0, 0, 1] }, 'RAS');
    const m: Vec3 = [20, 15, 30];
    const probs = new Float32Array(2 * 20 * 15 * 30).fill(0.5);
    const ac = new AbortController();
    const seen: number[] = [];
    const run = mapBackToOriginal({ probs, classes: 2, modelDims: m }, t, {
      signal: ac.signal,
      onProgress: (f) => {
        seen.push(f);
        if (seen.length === 5) ac.abort();
      },
    });
    await expect(run).rejects.toThrow(/abort/i);
    expect(seen.length).toBe(5);
    for (let n = 1; n < seen.length; n++) expect(seen[n]).toBeGreaterThan(seen[n - 1]);
  });
});
