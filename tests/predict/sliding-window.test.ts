// Sliding-window inference: Gaussian weighting leaves no seams, padding, mirror TTA un-flips
// correctly, uncertainty, cancellation and progress.
import { describe, expect, it } from 'vitest';
import { flipMasks, gaussian1d, slidingWindow, windowShape, windowStarts } from '../../src-main/predict/sliding-window';
import { fakeModel, pointwise, positional, rng } from './helpers';

function smoothInput(dims: [number, number, number], seed: number): Float32Array {
  const r = rng(seed);
  const [a, b, c] = [r() * 0.5, r() * 0.7, r() * 0.9];
  const out = new Float32Array(dims[0] * dims[1] * dims[2]);
  let n = 0;
  for (let z = 0; z < dims[0]; z++)
    for (let y = 0; y < dims[1]; y++)
      for (let x = 0; x < dims[2]; x++)
        out[n++] = Math.sin(a * z + 1) + Math.cos(b * y) + Math.sin(c * x + 2) + 0.1 * r();
  return out;
}

describe('window placement', () => {
  it('covers the axis with the requested overlap and centres a too-small volume', () => {
    expect(windowStarts(8, 8, 0.5)).toEqual([0]);
    expect(windowStarts(20, 8, 0.5)).toEqual([0, 4, 8, 12]);
    expect(windowStarts(17, 8, 0)).toEqual([0, 5, 9]);
    expect(windowStarts(5, 8, 0.5)).toEqual([-1]);
    const g = gaussian1d(16);
    expect(g[7]).toBeCloseTo(g[8], 12);
    expect(g[7] / g[0]).toBeCloseTo(Math.exp((7.5 * 7.5 - 0.25) / (2 * 2 * 2)), 6); // sigma = 16 / 8
    expect(flipMasks([0, 2])).toEqual([0, 1, 4, 5]);
  });
});

describe('a volume shorter than the window along D (edgeD)', () => {
  it('reads its end planes beyond its ends with edgeD, padValue without; in-plane overhang is padValue', async () => {
    // D 3 in a window of 8: start -2, so window planes 0-1 lie below the volume and 5-7 above; H 6 of 8 overhangs.
    const d: [number, number, number] = [3, 6, 8];
    const input = new Float32Array(3 * 6 * 8);
    for (let z = 0; z < 3; z++) input.fill(10 + z, z * 48, (z + 1) * 48);
    const seen: Float32Array[] = [];
    const model = fakeModel((patch, shape) => {
      seen.push(Float32Array.from(patch));
      return pointwise(2, () => 0)(patch, shape);
    });
    const plane = (p: Float32Array, z: number, y: number) =>
      Array.from(p.subarray((z * 8 + y) * 8, (z * 8 + y) * 8 + 8));
    await slidingWindow(input, d, model, { padValue: -7, edgeD: true });
    await slidingWindow(input, d, model, { padValue: -7 });
    const [edge, air] = seen;
    // Rows y 1..6 of the window are rows 0..5 of the volume (H start -1).
    for (let z = 0; z < 8; z++) {
      const src = Math.min(2, Math.max(0, z - 2));
      expect(plane(edge, z, 3)).toEqual(new Array(8).fill(10 + src));
      expect(plane(air, z, 3)).toEqual(new Array(8).fill(z >= 2 && z <= 4 ? 10 + src : -7));
      expect(plane(edge, z, 0)).toEqual(new Array(8).fill(-7));
      expect(plane(edge, z, 7)).toEqual(new Array(8).fill(-7));
    }
  });
});

describe('window growth (maxPatchSize)', () => {
  it('grows each axis toward the whole axis in multiples, capped, never below the patch', () => {
    const m = fakeModel(
      pointwise(2, () => 0),
      { patchSize: [16, 16, 32], maxPatchSize: [64, 40, 48], patchMultiple: 16 },
    );
    expect(windowShape([20, 100, 7], m)).toEqual([32, 32, 32]);
    expect(windowShape([70, 33, 47], m)).toEqual([64, 32, 48]);
    expect(
      windowShape(
        [70, 33, 47],
        fakeModel(
          pointwise(2, () => 0),
          { patchSize: [16, 16, 32] },
        ),
      ),
    ).toEqual([16, 16, 32]);
  });

  it('runs fewer, larger windows with the same result for a pointwise model', async () => {
    const d: [number, number, number] = [13, 11, 17];
    const f = (x: number, c: number) => (c === 0 ? 0 : 2 * x - 1);
    const input = smoothInput(d, 2);
    const small = fakeModel(pointwise(2, f), { patchSize: [8, 8, 8] });
    const big = fakeModel(pointwise(2, f), { patchSize: [8, 8, 8], maxPatchSize: [16, 16, 32], patchMultiple: 8 });
    const a = await slidingWindow(input, d, small, { padValue: 0 });
    const b = await slidingWindow(input, d, big, { padValue: 0 });
    expect(b.patches).toBe(1);
    expect(a.patches).toBeGreaterThan(8);
    let maxErr = 0;
    for (let n = 0; n < a.probs.length; n++) maxErr = Math.max(maxErr, Math.abs(a.probs[n] - b.probs[n]));
    expect(maxErr).toBeLessThan(1e-5);
  });
});

describe('sliding-window inference', () => {
  const dims: [number, number, number] = [13, 11, 17];

  it('gives constant output for a constant-logit model (no seams), also with padding', async () => {
    const model = fakeModel(
      positional(3, (_z, _y, _x, c) => [0.3, 1.1, -0.4][c]),
      { classes: 3, patchSize: [6, 8, 5] },
    );
    const e = [0.3, 1.1, -0.4].map(Math.exp);
    const s = e[0] + e[1] + e[2];
    for (const d of [dims, [3, 5, 2]] as [number, number, number][]) {
      const res = await slidingWindow(new Float32Array(d[0] * d[1] * d[2]), d, model, { padValue: 0 });
      const N = d[0] * d[1] * d[2];
      for (let c = 0; c < 3; c++)
        for (let n = 0; n < N; n++) expect(Math.abs(res.probs[c * N + n] - e[c] / s)).toBeLessThan(1e-6);
      const ent = -e.reduce((acc, v) => acc + (v / s) * Math.log(v / s), 0) / Math.log(3);
      for (let n = 0; n < N; n++) expect(Math.abs(res.uncertainty![n] - ent)).toBeLessThan(1e-5);
    }
  });

  it('reconstructs a position-dependent (input-driven) model exactly, with and without mirror TTA', async () => {
    const f = (x: number, c: number) => (c === 0 ? 0 : c === 1 ? 2 * x : -x * x + 1);
    const model = fakeModel(pointwise(3, f), { classes: 3, patchSize: [6, 8, 5] });
    const input = smoothInput(dims, 3);
    const N = input.length;
    for (const ttaAxes of [[], [0, 1, 2]]) {
      const res = await slidingWindow(input, dims, model, { padValue: -5, overlap: 0.4, ttaAxes });
      expect(res.runsPerPatch).toBe(ttaAxes.length ? 8 : 1);
      for (let n = 0; n < N; n++) {
        const l = [0, 1, 2].map((c) => f(input[n], c));
        const m = Math.max(...l);
        const e = l.map((v) => Math.exp(v - m));
        const s = e[0] + e[1] + e[2];
        for (let c = 0; c < 3; c++)
          if (Math.abs(res.probs[c * N + n] - e[c] / s) > 2e-5)
            expect.fail(`voxel ${n} class ${c}: ${res.probs[c * N + n]} vs ${e[c] / s}`);
      }
    }
  });

  it('weights overlapping patches by the Gaussian importance map (vs a brute-force 3-D weight volume)', async () => {
    const shape: [number, number, number] = [6, 8, 5];
    const logit = (z: number, y: number, x: number) => 0.3 * z - 0.2 * y + 0.5 * x;
    const model = fakeModel(
      positional(2, (z, y, x, c) => (c === 1 ? logit(z, y, x) : 0)),
      { patchSize: shape },
    );
    const res = await slidingWindow(new Float32Array(dims[0] * dims[1] * dims[2]), dims, model, {
      padValue: 0,
      overlap: 0.5,
    });
    const num = new Float64Array(dims[0] * dims[1] * dims[2]);
    const den = new Float64Array(num.length);
    const starts = [0, 1, 2].map((a) => windowStarts(dims[a], shape[a], 0.5));
    const g = shape.map((p) => gaussian1d(p));
    for (const sz of starts[0])
      for (const sy of starts[1])
        for (const sx of starts[2]) {
          for (let z = 0; z < shape[0]; z++)
            for (let y = 0; y < shape[1]; y++)
              for (let x = 0; x < shape[2]; x++) {
                const w = g[0][z] * g[1][y] * g[2][x];
                const v = ((sz + z) * dims[1] + sy + y) * dims[2] + sx + x;
                num[v] += w * logit(z, y, x);
                den[v] += w;
              }
        }
    const N = num.length;
    let distinct = 0;
    for (let v = 0; v < N; v++) {
      const p1 = 1 / (1 + Math.exp(-num[v] / den[v]));
      if (Math.abs(res.probs[N + v] - p1) > 1e-5) expect.fail(`voxel ${v}: ${res.probs[N + v]} vs ${p1}`);
      if (Math.abs(p1 - res.probs[N]) > 1e-3) distinct++;
    }
    expect(distinct).toBeGreaterThan(N / 2); // the model really is position-dependent
  });

  it('batches network runs (patches, and mirrored copies) with the same result as one run at a time', async () => {
    const f = (x: number, c: number) => (c === 0 ? 0 : c === 1 ? 2 * x : -x * x + 1);
    const input = smoothInput(dims, 5);
    for (const [ttaAxes, batch] of [
      [[], 3],
      [[0, 2], 3],
      [[0, 1, 2], 2],
    ] as [number[], number][]) {
      const one = await slidingWindow(input, dims, fakeModel(pointwise(3, f), { classes: 3, patchSize: [6, 8, 5] }), {
        padValue: -5,
        overlap: 0.4,
        ttaAxes,
        uncertainty: ttaAxes.length ? 'tta-disagreement' : 'entropy',
      });
      const batches: number[] = [];
      const calls = { n: 0 };
      const model = fakeModel(pointwise(3, f), { classes: 3, patchSize: [6, 8, 5], batch, batches, calls });
      const many = await slidingWindow(input, dims, model, {
        padValue: -5,
        overlap: 0.4,
        ttaAxes,
        uncertainty: ttaAxes.length ? 'tta-disagreement' : 'entropy',
      });
      expect(many.probs).toEqual(one.probs);
      expect(many.uncertainty).toEqual(one.uncertainty);
      expect(many.patches).toBe(one.patches);
      // Each network run happened once (a lone leftover run goes through predictPatch), most of them in full batches.
      const runs = one.patches * one.runsPerPatch;
      expect(calls.n).toBe(runs);
      expect(Math.max(...batches)).toBe(batch);
      expect(batches.reduce((a, b) => a + b, 0)).toBeGreaterThan(runs / 2);
    }
  });

  it('tells the model to release its buffers when a volume is done, also when cancelled', async () => {
    const model = fakeModel(
      pointwise(2, () => 0),
      { patchSize: [6, 8, 5], delayMs: 5 },
    );
    let released = 0;
    model.releaseBuffers = () => released++;
    await slidingWindow(smoothInput(dims, 1), dims, model, { padValue: 0 });
    expect(released).toBe(1);
    const ac = new AbortController();
    const p = slidingWindow(smoothInput(dims, 1), dims, model, { padValue: 0, signal: ac.signal });
    setTimeout(() => ac.abort(), 12);
    await expect(p).rejects.toThrow();
    expect(released).toBe(2);
  });

  it('un-mirrors TTA outputs on the right axes', async () => {
    const shape: [number, number, number] = [6, 8, 4];
    const d: [number, number, number] = [6, 8, 4]; // one patch: the raw average is visible
    const N = 6 * 8 * 4;
    // Logit = local x: mirroring W and averaging gives (pw - 1) / 2 everywhere; mirroring only D leaves it.
    const model = fakeModel(
      positional(2, (_z, _y, x, c) => (c === 1 ? x : 0)),
      { patchSize: shape },
    );
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const w = await slidingWindow(new Float32Array(N), d, model, { padValue: 0, ttaAxes: [2] });
    for (let n = 0; n < N; n++) expect(w.probs[N + n]).toBeCloseTo(sig(1.5), 6);
    const z = await slidingWindow(new Float32Array(N), d, model, { padValue: 0, ttaAxes: [0] });
    for (let n = 0; n < N; n++) expect(z.probs[N + n]).toBeCloseTo(sig(n % 4), 6);
  });

  it('measures TTA disagreement as the share of mirrored runs that differ from the consensus', async () => {
    const shape: [number, number, number] = [4, 4, 8];
    const c0 = 3.5 + 0.25;
    const model = fakeModel(
      positional(2, (_z, _y, x, c) => (c === 1 ? x - c0 : 0)),
      { patchSize: shape },
    );
    const d: [number, number, number] = [4, 4, 8];
    const res = await slidingWindow(new Float32Array(128), d, model, {
      padValue: 0,
      ttaAxes: [2],
      uncertainty: 'tta-disagreement',
    });
    for (let n = 0; n < 128; n++) expect(res.uncertainty![n]).toBeCloseTo(0.5, 6);
    const agree = await slidingWindow(
      new Float32Array(128),
      d,
      fakeModel(
        pointwise(2, (x, c) => c * x),
        { patchSize: shape },
      ),
      {
        padValue: 0,
        ttaAxes: [0, 1, 2],
        uncertainty: 'tta-disagreement',
      },
    );
    expect(Math.max(...agree.uncertainty!)).toBe(0);
  });

  it('accepts channels-last logits (DHWC) with the same result as channels-first', async () => {
    const shape: [number, number, number] = [6, 8, 5];
    const f = (z: number, y: number, x: number, c: number) => Math.sin(z * 1.3 + c) + 0.4 * y * (c - 1) - 0.2 * x * c;
    const first = fakeModel(positional(3, f), { classes: 3, patchSize: shape });
    const last = fakeModel(
      (patch, [pd, ph, pw]) => {
        const out = new Float32Array(3 * pd * ph * pw);
        let n = 0;
        for (let z = 0; z < pd; z++)
          for (let y = 0; y < ph; y++)
            for (let x = 0; x < pw; x++, n++) for (let c = 0; c < 3; c++) out[n * 3 + c] = f(z, y, x, c);
        return out;
      },
      { classes: 3, patchSize: shape, logitsLayout: 'DHWC' },
    );
    for (const ttaAxes of [[], [0, 2]]) {
      const a = await slidingWindow(new Float32Array(dims[0] * dims[1] * dims[2]), dims, first, {
        padValue: 0,
        ttaAxes,
      });
      const b = await slidingWindow(new Float32Array(dims[0] * dims[1] * dims[2]), dims, last, {
        padValue: 0,
        ttaAxes,
      });
      expect(Array.from(b.probs)).toEqual(Array.from(a.probs));
    }
  });

  it('rejects a model that returns the wrong number of logits', async () => {
    const model = fakeModel(() => new Float32Array(10), { patchSize: [4, 4, 4] });
    await expect(slidingWindow(new Float32Array(64), [4, 4, 4], model, { padValue: 0 })).rejects.toThrow(
      /returned 10 logits/,
    );
  });

  it('stops promptly when cancelled and reports monotone progress', async () => {
    const calls = { n: 0 };
    const model = fakeModel(
      pointwise(2, (x, c) => c * x),
      { patchSize: [4, 4, 4], delayMs: 5, calls },
    );
    const d: [number, number, number] = [8, 16, 16];
    const fractions: number[] = [];
    const full = await slidingWindow(new Float32Array(2048), d, model, {
      padValue: 0,
      onProgress: (f) => fractions.push(f),
    });
    expect(full.patches).toBe(3 * 7 * 7);
    expect(fractions.length).toBe(full.patches);
    for (let n = 1; n < fractions.length; n++) expect(fractions[n]).toBeGreaterThanOrEqual(fractions[n - 1]);
    expect(fractions.at(-1)).toBe(1);

    calls.n = 0;
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 40);
    const t0 = performance.now();
    await expect(slidingWindow(new Float32Array(2048), d, model, { padValue: 0, signal: ac.signal })).rejects.toThrow(
      /abort/i,
    );
    const afterMs = performance.now() - t0 - 40;
    expect(afterMs).toBeLessThan(100);
    expect(calls.n).toBeLessThan(full.patches / 2);
  });
});

describe('skipped windows', () => {
  it('leaves every voxel that only run windows cover exactly as with all windows, and counts the skipped', async () => {
    const d: [number, number, number] = [20, 16, 24];
    const input = smoothInput(d, 5);
    // Position-dependent logits, so each window's contribution differs and a missing one would show.
    const fn = positional(3, (z, y, x, c) => Math.sin(z * 0.3 + c) + Math.cos(y * 0.2 * c + x * 0.1));
    const model = fakeModel(fn, { classes: 3, patchSize: [8, 8, 8] });
    const all = await slidingWindow(input, d, model, { padValue: 0 });
    // Skip the windows that start in the upper half of z.
    const skip = (start: [number, number, number]) => start[0] >= 10;
    const some = await slidingWindow(input, d, model, { padValue: 0, skipWindow: skip });
    expect(some.skippedPatches).toBeGreaterThan(0);
    expect(some.patches + some.skippedPatches).toBe(all.patches);
    const zStarts = windowStarts(d[0], 8, 0.5);
    const N = d[0] * d[1] * d[2];
    let compared = 0;
    for (let z = 0; z < d[0]; z++) {
      // A slice whose every covering window ran.
      const covering = zStarts.filter((s) => z >= s && z < s + 8);
      if (!covering.every((s) => !skip([s, 0, 0]))) continue;
      for (let v = z * d[1] * d[2]; v < (z + 1) * d[1] * d[2]; v++) {
        for (let c = 0; c < 3; c++) expect(some.probs[c * N + v]).toBe(all.probs[c * N + v]);
        expect(some.uncertainty![v]).toBe(all.uncertainty![v]);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(0);
    expect(compared).toBeLessThan(N);
  });
});
