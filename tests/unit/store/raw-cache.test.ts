// The raw copies of case images (cache/images/) and single-slice reads: a second open reads the copy
// instead of inflating the NIfTI, a rewritten image is never answered from its old copy, broken copies
// are ignored, the budget keeps the most recently used, and slices match the volume on every axis.
import { existsSync, readdirSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readNifti, writeNifti } from '../../../src-main/imaging/nifti';
import { extractSlice, sliceShape } from '../../../src-main/imaging/slice';
import type { Volume } from '../../../src-main/imaging/volume';
import { ProjectStore } from '../../../src-main/store/project';
import { RAW_CACHE_DIR } from '../../../src-main/store/raw-cache';
import { LEFTOVER_AGE_MS } from '../../../src-main/store/sweep';
import type { VolumeIo } from '../../../src-main/store/volume-io';
import { gzipNifti } from '../../../src-main/store/volume-io';
import { writeFileAtomic } from '../../../src-main/util/atomic';
import { huPattern, makeVolume, tempDir } from '../helpers';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** A NIfTI reader/writer that counts full reads (an inflate of the whole image each). */
function countingIo(): VolumeIo & { reads: number } {
  const io = {
    reads: 0,
    read: async (p: string) => {
      io.reads++;
      return readNifti(p);
    },
    listSeries: async () => [],
    write: async (p: string, v: Volume) => writeFileAtomic(p, await gzipNifti(v, 1)),
  };
  return io;
}

function project(rawCache: { minBytes?: number; budgetBytes?: number } = { minBytes: 0 }) {
  const t = tempDir('rawcache');
  const dir = join(t.dir, 'proj');
  const io = countingIo();
  const store = ProjectStore.create(dir, { schema: 'kidney', io, rawCache });
  const stores = [store];
  cleanups.push(() => {
    for (const s of stores) s.close();
    t.cleanup();
  });
  /** The same project opened again (a new session: nothing in memory). */
  const reopen = () => {
    const again = countingIo();
    const s = ProjectStore.open(dir, { io: again, rawCache });
    stores.push(s);
    return { store: s, io: again };
  };
  return { store, io, dir, reopen };
}

const copies = (dir: string) => readdirSync(join(dir, RAW_CACHE_DIR)).filter((n) => n.endsWith('.raw'));

describe('raw image copies', () => {
  it('an imported case gets its copy at once: even the first open reads it, not the NIfTI', async () => {
    const { store, io, dir } = project();
    const image = makeVolume([9, 7, 5], huPattern);
    const c = await store.addCase(image);
    expect(copies(dir)).toHaveLength(1);
    expect(copies(dir)[0].startsWith(`${c.id}.`)).toBe(true);
    const v = await store.loadImage(c.id);
    expect(io.reads).toBe(0);
    expect(v.data).toBeInstanceOf(Int16Array);
    expect(Array.from(v.data)).toEqual(Array.from(image.data));
    expect([v.dims, v.spacingMm, v.originMm, v.direction]).toEqual([
      image.dims,
      image.spacingMm,
      image.originMm,
      image.direction,
    ]);
  });

  it('a case without a copy is inflated once; the next session reads the copy made then', async () => {
    const { store, io, dir, reopen } = project();
    const c = await store.addCase(makeVolume([9, 7, 5], huPattern));
    rmSync(join(dir, RAW_CACHE_DIR), { recursive: true });
    const first = await store.loadImage(c.id);
    expect(io.reads).toBe(1);
    await store.rawCache.settled();
    expect(copies(dir)).toHaveLength(1);

    const { store: s2, io: io2 } = reopen();
    const second = await s2.loadImage(c.id);
    expect(io2.reads).toBe(0);
    expect(Array.from(second.data)).toEqual(Array.from(first.data));
    // Geometry and description as the NIfTI reader gave them.
    const { data: _a, ...geometryFirst } = first;
    const { data: _b, ...geometrySecond } = second;
    expect(geometrySecond).toEqual(geometryFirst);
  });

  it('never answers from the copy of an image that was rewritten since', async () => {
    const { store, dir, reopen } = project();
    const c = await store.addCase(makeVolume([6, 5, 4], huPattern));
    const oldCopy = copies(dir)[0];
    // Another program replaces the image (same grid, other voxels).
    await writeNifti(
      join(dir, 'cases', c.id, 'image.nii.gz'),
      makeVolume([6, 5, 4], () => 42),
    );
    const { store: s2, io: io2 } = reopen();
    const v = await s2.loadImage(c.id);
    expect(io2.reads).toBe(1);
    expect(new Set(v.data)).toEqual(new Set([42]));
    await s2.rawCache.settled();
    expect(copies(dir)).toHaveLength(1);
    expect(copies(dir)[0]).not.toBe(oldCopy);
  });

  it('ignores a truncated or foreign copy and reads the NIfTI instead', async () => {
    const { store, dir, reopen } = project();
    const image = makeVolume([6, 5, 4], huPattern);
    const c = await store.addCase(image);
    const file = join(dir, RAW_CACHE_DIR, copies(dir)[0]);
    truncateSync(file, 100);
    const a = reopen();
    expect(Array.from((await a.store.loadImage(c.id)).data)).toEqual(Array.from(image.data));
    expect(a.io.reads).toBe(1);
    await a.store.rawCache.settled();
    writeFileSync(join(dir, RAW_CACHE_DIR, copies(dir)[0]), Buffer.alloc(6 * 5 * 4 * 2 + 64, 1));
    const b = reopen();
    expect(Array.from((await b.store.loadImage(c.id)).data)).toEqual(Array.from(image.data));
    expect(b.io.reads).toBe(1);
  });

  it('keeps the most recently used copies within the budget', async () => {
    // Room for two copies (voxels plus a header of a few hundred bytes each), not three.
    const bytes = 10 * 10 * 10 * 2;
    const { store, dir } = project({ minBytes: 0, budgetBytes: bytes * 3 - 1 });
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) {
      ids.push((await store.addCase(makeVolume([10, 10, 10], (i) => i + n))).id);
      // Distinct use times even on coarse file-system clocks.
      const copy = copies(dir).find((name) => name.startsWith(`${ids[n]}.`))!;
      const t = new Date(Date.now() - (10 - n) * 1000);
      utimesSync(join(dir, RAW_CACHE_DIR, copy), t, t);
    }
    expect(
      copies(dir)
        .map((name) => name.split('.')[0])
        .sort(),
    ).toEqual([ids[1], ids[2]].sort());
    // Reading the oldest kept copy makes it the most recent: the next copy pushes out the other one.
    await store.loadImage(ids[1]);
    ids.push((await store.addCase(makeVolume([10, 10, 10], (i) => i + 7))).id);
    expect(
      copies(dir)
        .map((name) => name.split('.')[0])
        .sort(),
    ).toEqual([ids[1], ids[3]].sort());
  });

  it('makes no copy of small images by default', async () => {
    const { store, dir } = project({});
    const c = await store.addCase(makeVolume([8, 8, 8], huPattern));
    await store.loadImage(c.id);
    await store.rawCache.settled();
    expect(existsSync(join(dir, RAW_CACHE_DIR))).toBe(false);
  });

  it('sweeps temp files of cut-short copies and copies of cases that are gone, once old', async () => {
    const { store, dir } = project();
    const c = await store.addCase(makeVolume([4, 4, 4], huPattern));
    const cacheDir = join(dir, RAW_CACHE_DIR);
    const temp = join(cacheDir, `.${c.id}.x.raw.123.abcd.tmp`);
    const dead = join(cacheDir, 'cGone.1-2-3.raw');
    writeFileSync(temp, 'partial');
    writeFileSync(dead, 'old');
    const now = Date.now();
    await store.sweepLeftovers(now);
    expect(existsSync(temp) && existsSync(dead)).toBe(true);
    const swept = await store.sweepLeftovers(now + LEFTOVER_AGE_MS + 1000);
    expect(swept.removedTempFiles).toEqual([temp]);
    expect(existsSync(temp) || existsSync(dead)).toBe(false);
    expect(copies(dir)).toHaveLength(1);
  });
});

describe('image slices', () => {
  const dims: [number, number, number] = [7, 5, 4];
  const image = makeVolume(dims, huPattern);

  it('cuts each axis in the documented layout (lower remaining axis fastest)', () => {
    expect(sliceShape(dims, 0)).toEqual({ width: 5, height: 4 });
    expect(sliceShape(dims, 1)).toEqual({ width: 7, height: 4 });
    expect(sliceShape(dims, 2)).toEqual({ width: 7, height: 5 });
    const at = (i: number, j: number, k: number) => huPattern(i, j, k);
    expect(Array.from(extractSlice(image.data, dims, 2, 3).slice(0, 3))).toEqual([
      at(0, 0, 3),
      at(1, 0, 3),
      at(2, 0, 3),
    ]);
    const s1 = extractSlice(image.data, dims, 1, 2);
    expect([s1[0], s1[1], s1[7]]).toEqual([at(0, 2, 0), at(1, 2, 0), at(0, 2, 1)]);
    const s0 = extractSlice(image.data, dims, 0, 6);
    expect([s0[0], s0[1], s0[5]]).toEqual([at(6, 0, 0), at(6, 1, 0), at(6, 0, 1)]);
    expect(() => extractSlice(image.data, dims, 0, 7)).toThrow(RangeError);
  });

  it('serves the same slice from memory, from the raw copy and after a fresh load', async () => {
    const { store, dir, reopen } = project();
    const c = await store.addCase(image);
    const want = (axis: 0 | 1 | 2, index: number) => Array.from(extractSlice(image.data, dims, axis, index));
    // Without a copy, nothing in memory yet: the slice waits for the image (which then makes the copy).
    rmSync(join(dir, RAW_CACHE_DIR), { recursive: true });
    expect(Array.from((await store.loadImageSlice(c.id, 2, 1)).data)).toEqual(want(2, 1));
    expect(Array.from((await store.loadImageSlice(c.id, 0, 5)).data)).toEqual(want(0, 5)); // from memory
    await store.rawCache.settled();
    const { store: s2, io } = reopen();
    for (const [axis, index] of [
      [2, 3],
      [1, 4],
    ] as const) {
      const slice = await s2.loadImageSlice(c.id, axis, index);
      expect(Array.from(slice.data)).toEqual(want(axis, index));
      expect(slice).toMatchObject(sliceShape(dims, axis));
    }
    expect(io.reads).toBe(0); // Read from the copy alone.
    expect(Array.from((await s2.loadImageSlice(c.id, 0, 2)).data)).toEqual(want(0, 2));
    expect(Array.from((await s2.loadImageSlice(c.id, 1, 0)).data)).toEqual(want(1, 0));
    await expect(s2.loadImageSlice(c.id, 2, 4)).rejects.toThrow(/outside the case's 4 slices/);
  });
});
