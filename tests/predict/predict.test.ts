// End to end: predictVolume returns labels on exactly the input grid, sees the image in the
// canonical frame whatever the file's orientation, applies post-processing, cancels and reports progress.
import { describe, expect, it } from 'vitest';
import { InputError, voxelToWorld } from '../../src-main/imaging/volume';
import type { Direction, Vec3, Volume } from '../../src-main/imaging/volume';
import { predictVolume } from '../../src-main/predict/predict';
import { fakeModel, gradientModel, makeVolume, pointwise, rng, rotated, signedPermutations } from './helpers';

/** A physical ramp: value = 10 × (world position · towards), whatever the grid. */
function rampVolume(dims: Vec3, spacingMm: Vec3, direction: Direction, towardsLps: Vec3): Volume {
  const v = makeVolume(dims, new Float32Array(dims[0] * dims[1] * dims[2]), {
    spacingMm,
    direction,
    originMm: [12, -30, 7],
  });
  let n = 0;
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++) {
        const w = voxelToWorld(v, i, j, k);
        v.data[n++] = 10 * (w[0] * towardsLps[0] + w[1] * towardsLps[1] + w[2] * towardsLps[2]);
      }
    }
  }
  return v;
}

describe('short scans (shortScanPad)', () => {
  it("the model's setting decides what windows read past a short scan's ends; the option overrides it", async () => {
    // 3 slices of 100 HU on the model grid, in a window of 8: with 'edge' the network never sees -1024 HU.
    const v = makeVolume([8, 8, 3], new Float32Array(8 * 8 * 3).fill(100), { spacingMm: [1, 1, 1] });
    const lows: number[] = [];
    const record = (shortScanPad?: 'edge' | 'air') =>
      fakeModel(
        (patch, shape) => {
          lows.push(Math.min(...patch));
          return pointwise(2, () => 0)(patch, shape);
        },
        { shortScanPad, intensity: { clipHu: [-1024, 3071], mean: 0, std: 1 } },
      );
    const opts = {
      postprocess: false,
      uncertainty: 'none',
      cropToBody: false,
      anatomyRegion: false,
      denoise: false,
    } as const;
    await predictVolume(v, record('edge'), opts);
    await predictVolume(v, record(undefined), opts);
    await predictVolume(v, record('edge'), { ...opts, shortScanPad: 'air' });
    await predictVolume(v, record('air'), { ...opts, shortScanPad: 'edge' });
    expect(lows).toEqual([100, -1024, -1024, 100]);
  });
});

describe('predictVolume', () => {
  it('sees every orientation in the canonical RAS frame (direction-sensing model)', async () => {
    const model = fakeModel(gradientModel, { classes: 4, patchSize: [4, 4, 4], targetSpacingMm: [2, 2, 2] });
    // Gradient model classes: 1 = rises along canonical i (W), 2 = along j (H), 3 = along k (D); 0 = none.
    const towards: Array<[Vec3, number]> = [
      [[-1, 0, 0], 1], // towards R: RAS +x
      [[0, -1, 0], 2], // towards A: RAS +y
      [[0, 0, 1], 3], // towards S: RAS +z
      [[1, 0, 0], 0], // towards L: falling along every canonical axis
    ];
    const perms = signedPermutations();
    for (let p = 0; p < perms.length; p += 5) {
      const [dir, cls] = towards[p % 4];
      const v = rampVolume([9, 7, 6], [1.5, 2, 2.5], perms[p], dir);
      const res = await predictVolume(v, model, { postprocess: false, uncertainty: 'none', overlap: 0.25 });
      const counts = res.stats.voxelsPerClass;
      expect(counts[cls]).toBe(v.data.length);
    }
  });

  it('returns labels on exactly the input grid (dims and affine), for odd spacings and oblique grids', async () => {
    const model = fakeModel(
      pointwise(3, (x, c) => [0, x / 100, (x - 150) / 20][c]),
      { classes: 3, patchSize: [8, 8, 8], targetSpacingMm: [1.7, 1.3, 3.1] },
    );
    const r = rng(4);
    const oblique = rotated(rotated(signedPermutations()[13], 0, 17), 2, -23);
    for (const direction of [signedPermutations()[0], signedPermutations()[37], oblique]) {
      const dims: Vec3 = [11, 14, 9];
      const data = new Int16Array(11 * 14 * 9).map(() => Math.floor(r() * 600) - 200);
      const v = makeVolume(dims, data, { spacingMm: [0.9, 1.1, 2.7], originMm: [-3.5, 8.25, 100], direction });
      const res = await predictVolume(v, model, { postprocess: false, uncertaintyFormat: 'float32' });
      for (const out of [res.label, res.uncertainty!]) {
        expect(out.dims).toEqual(v.dims);
        expect(out.spacingMm).toEqual(v.spacingMm);
        expect(out.originMm).toEqual(v.originMm);
        expect(out.direction).toEqual(v.direction);
        expect(out.data.length).toBe(v.data.length);
      }
      expect(res.label.data).toBeInstanceOf(Uint8Array);
      expect(res.uncertainty!.data).toBeInstanceOf(Float32Array);
      const u = res.uncertainty!.data as Float32Array;
      expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...u)).toBeLessThanOrEqual(1);
      expect(res.stats.voxelsPerClass.reduce((a, b) => a + b, 0)).toBe(v.data.length);
    }
  });

  it('gives the exact per-voxel answer of a pointwise model when no resampling is needed', async () => {
    const f = (x: number, c: number) => [0, (x - 20) / 30, (x - 180) / 10][c];
    const model = fakeModel(pointwise(3, f), {
      classes: 3,
      patchSize: [6, 6, 6],
      targetSpacingMm: [1.2, 1.2, 2], // canonical (i, j, k) spacing after the permutation below
      intensity: { clipHu: [-500, 500], mean: 0, std: 1 },
    });
    const r = rng(9);
    // j ↔ k swapped and flipped: canonical spacing becomes (1.2, 1.2, 2) from (1.2, 2, 1.2).
    const direction: Direction = [-1, 0, 0, 0, 0, -1, 0, 1, 0];
    const dims: Vec3 = [13, 7, 10];
    const data = new Int16Array(13 * 7 * 10).map(() => Math.floor(r() * 1400) - 700);
    const v = makeVolume(dims, data, { spacingMm: [1.2, 2, 1.2], direction });
    // Random voxels read as very noisy tissue: no smoothing here, the answer is checked voxel by voxel.
    const res = await predictVolume(v, model, { postprocess: false, tta: true, denoise: false });
    for (let n = 0; n < data.length; n++) {
      const x = Math.min(500, Math.max(-500, data[n]));
      const l = [0, 1, 2].map((c) => f(x, c));
      const want = l.indexOf(Math.max(...l));
      if (res.label.data[n] !== want) expect.fail(`voxel ${n} (HU ${data[n]}): ${res.label.data[n]} vs ${want}`);
    }
    expect(res.stats.runsPerPatch).toBe(8);
  });

  it('mirrors for TTA only along the axes the model was trained mirrored', async () => {
    // A ramp rising toward S (canonical D): the gradient model's class 3. A mirror along D turns the rise into a
    // fall, so a model that never saw that mirror loses the class when TTA applies it anyway.
    const v = rampVolume([8, 8, 8], [2, 2, 2], signedPermutations()[0], [0, 0, 1]);
    const opts = { postprocess: false, tta: true, denoise: false, uncertainty: 'none' } as const;
    const spec = { classes: 4, patchSize: [4, 4, 4] as Vec3, targetSpacingMm: [2, 2, 2] as Vec3 };
    const leftRight = await predictVolume(v, fakeModel(gradientModel, { ...spec, mirrorAxes: [2] }), opts);
    expect(leftRight.stats.runsPerPatch).toBe(2);
    expect(leftRight.stats.settings.ttaAxes).toEqual([2]);
    expect(leftRight.stats.voxelsPerClass[3]).toBe(v.data.length);
    const none = await predictVolume(v, fakeModel(gradientModel, { ...spec, mirrorAxes: [] }), opts);
    expect(none.stats.runsPerPatch).toBe(1);
    expect(none.stats.voxelsPerClass[3]).toBe(v.data.length);
    // A model that names no axes is mirrored along all three: the D mirror cancels the ramp's class.
    const all = await predictVolume(v, fakeModel(gradientModel, spec), opts);
    expect(all.stats.runsPerPatch).toBe(8);
    expect(all.stats.voxelsPerClass[3]).toBe(0);
  });

  it('labels block structures correctly after resampling, and post-processes (kidney schema)', async () => {
    const dims: Vec3 = [72, 60, 24];
    const spacing: Vec3 = [0.8, 0.8, 2.5];
    const data = new Int16Array(dims[0] * dims[1] * dims[2]).fill(-1000);
    const truth = new Uint8Array(data.length);
    const put = (lo: Vec3, hi: Vec3, hu: number, cls: number) => {
      for (let k = lo[2]; k < hi[2]; k++)
        for (let j = lo[1]; j < hi[1]; j++)
          for (let i = lo[0]; i < hi[0]; i++) {
            const n = i + dims[0] * (j + dims[1] * k);
            data[n] = hu;
            truth[n] = cls;
          }
    };
    put([4, 10, 4], [24, 40, 20], 40, 1); // kidney 1
    put([10, 20, 8], [16, 28, 14], 200, 2); // tumour inside kidney 1
    put([40, 10, 4], [58, 36, 20], 40, 1); // kidney 2
    put([62, 44, 8], [70, 54, 14], 40, 1); // small third "kidney": removed by the two-kidney rule
    const model = fakeModel(
      pointwise(4, (x, c) => [0, x > -300 && x < 120 ? 5 : -5, x >= 120 && x < 500 ? 5 : -5, -10][c]),
      {
        classes: 4,
        classNames: ['background', 'kidney', 'tumor', 'cyst'],
        patchSize: [8, 16, 16],
        targetSpacingMm: [2, 2, 2],
      },
    );
    const fractions: number[] = [];
    const res = await predictVolume(makeVolume(dims, data, { spacingMm: spacing }), model, {
      onProgress: (f) => fractions.push(f),
    });
    for (let n = 1; n < fractions.length; n++) expect(fractions[n]).toBeGreaterThanOrEqual(fractions[n - 1]);
    expect(fractions[0]).toBe(0);
    expect(fractions.at(-1)).toBe(1);
    expect(res.stats.postprocess?.removedComponents).toBe(1);
    // Away from block edges (2 mm model voxels: 3 voxels in-plane, 1 slice), the label is the truth.
    const third = (i: number, j: number, k: number) => i >= 62 && j >= 44 && k >= 8 && i < 70 && j < 54 && k < 14;
    let checked = 0;
    let wrong = 0;
    for (let k = 1; k < dims[2] - 1; k++)
      for (let j = 3; j < dims[1] - 3; j++)
        for (let i = 3; i < dims[0] - 3; i++) {
          const n = i + dims[0] * (j + dims[1] * k);
          let edge = false;
          for (const [di, dj, dk] of [
            [3, 0, 0],
            [-3, 0, 0],
            [0, 3, 0],
            [0, -3, 0],
            [0, 0, 1],
            [0, 0, -1],
          ]) {
            if (truth[n + di + dims[0] * (dj + dims[1] * dk)] !== truth[n]) edge = true;
          }
          if (edge) continue;
          checked++;
          const want = third(i, j, k) ? 0 : truth[n];
          if (res.label.data[n] !== want) wrong++;
        }
    expect(checked).toBeGreaterThan(data.length / 2);
    expect(wrong).toBe(0);
    expect(res.stats.voxelsPerClass[3]).toBe(0);
    expect(Object.values(res.stats.stageMs).every((ms) => ms >= 0)).toBe(true);
  });

  it("keeps a pancreas's second piece across the same axial slices, however the scan is stored", async () => {
    // In patient voxels (2 mm): x left, y posterior, z superior. Head 12×8×8 = 768 voxels; body and tail beside it
    // 10×8×8 = 640 across slices 10..17; a bowel loop below, 26×8×3 = 624 voxels on slices 1..3. All at 40 HU.
    const blocks: [Vec3, Vec3, boolean][] = [
      [[4, 6, 8], [16, 14, 16], true],
      [[20, 6, 10], [30, 14, 18], true],
      [[4, 6, 1], [30, 14, 4], false],
    ];
    const size: Vec3 = [34, 20, 20];
    const model = fakeModel(
      pointwise(3, (x, c) => [0, x > 0 && x < 100 ? 5 : -5, -10][c]),
      {
        classes: 3,
        classNames: ['background', 'pancreas', 'tumor'],
        patchSize: [8, 16, 16],
        targetSpacingMm: [2, 2, 2],
      },
    );
    // Stored axially (k superior), and as coronal slices (j superior, k posterior).
    for (const [order, direction] of [
      [
        [0, 1, 2],
        [1, 0, 0, 0, 1, 0, 0, 0, 1],
      ],
      [
        [0, 2, 1],
        [1, 0, 0, 0, 0, 1, 0, 1, 0],
      ],
    ] as [Vec3, Direction][]) {
      const dims = order.map((a) => size[a]) as Vec3;
      const at = (p: Vec3) => {
        const q = order.map((a) => p[a]);
        return q[0] + dims[0] * (q[1] + dims[1] * q[2]);
      };
      const data = new Int16Array(dims[0] * dims[1] * dims[2]).fill(-1000);
      const each = (lo: Vec3, hi: Vec3, f: (n: number) => void) => {
        for (let z = lo[2]; z < hi[2]; z++)
          for (let y = lo[1]; y < hi[1]; y++) for (let x = lo[0]; x < hi[0]; x++) f(at([x, y, z]));
      };
      for (const [lo, hi] of blocks) each(lo, hi, (n) => (data[n] = 40));
      const res = await predictVolume(makeVolume(dims, data, { spacingMm: [2, 2, 2], direction }), model, {
        schema: 'pancreas',
      });
      for (const [lo, hi, kept] of blocks) {
        const seen: number[] = [];
        each(lo, hi, (n) => seen.push(res.label.data[n]));
        expect(seen.every((v) => v === (kept ? 1 : 0))).toBe(true);
      }
      expect(res.stats.postprocess?.removedComponents).toBe(1);
    }
  });

  it('cancels promptly in the middle of inference', async () => {
    const calls = { n: 0 };
    const model = fakeModel(
      pointwise(2, (x, c) => c * x),
      { patchSize: [4, 4, 4], delayMs: 3, calls },
    );
    const v = makeVolume([24, 24, 24], new Int16Array(24 ** 3));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    await expect(predictVolume(v, model, { signal: ac.signal })).rejects.toThrow(/abort/i);
    expect(calls.n).toBeLessThan(50);
    const pre = new AbortController();
    pre.abort();
    await expect(predictVolume(v, model, { signal: pre.signal })).rejects.toThrow(/abort/i);
  });

  it('refuses bad input with a message naming the file', async () => {
    const model = fakeModel(
      pointwise(2, (x, c) => c * x),
      { patchSize: [4, 4, 4] },
    );
    const short = makeVolume([4, 4, 4], new Int16Array(10));
    await expect(predictVolume(short, model)).rejects.toThrow(InputError);
    await expect(predictVolume(short, model)).rejects.toThrow(/test\.nii\.gz: holds 10 voxels/);
    const zeroSpacing = makeVolume([4, 4, 4], new Int16Array(64), { spacingMm: [1, 0, 1] });
    await expect(predictVolume(zeroSpacing, model)).rejects.toThrow(/test\.nii\.gz: voxel spacing 0 mm/);
    const badModel = { ...model, intensity: { clipHu: [100, -100] as [number, number], mean: 0, std: 1 } };
    await expect(predictVolume(makeVolume([4, 4, 4], new Int16Array(64)), badModel)).rejects.toThrow(/clipHu/);
  });
});
