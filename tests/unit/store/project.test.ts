// Project store: create/open, migrations, cases with geometry, label versions, atomicity, bad input.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { readNifti, writeNifti } from '../../../src-main/imaging/nifti';
import { affineLps } from '../../../src-main/imaging/volume';
import { NotFoundError, StoreRequestError } from '../../../src-main/store/errors';
import { importPaths } from '../../../src-main/store/import';
import { PROJECT_DB_FILE, ProjectStore } from '../../../src-main/store/project';
import { SCHEMA_VERSION } from '../../../src-main/store/schema';
import { LEFTOVER_AGE_MS } from '../../../src-main/store/sweep';
import type { VolumeIo } from '../../../src-main/store/volume-io';
import { huPattern, makeVolume, tempDir } from '../helpers';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function newProject(schema: 'kidney' | 'pancreas' = 'kidney', io?: VolumeIo): { store: ProjectStore; dir: string } {
  const t = tempDir('store');
  const store = ProjectStore.create(join(t.dir, 'proj'), { schema, io });
  cleanups.push(() => {
    store.close();
    t.cleanup();
  });
  return { store, dir: join(t.dir, 'proj') };
}

describe('project store', () => {
  it('creates a project at the current schema version and reopens it', () => {
    const { store, dir } = newProject('pancreas');
    expect(store.info()).toMatchObject({ name: 'proj', caseCount: 0, synthetic: false });
    expect(store.info().schema.classes.map((c) => c.name)).toEqual(['pancreas', 'tumor']);
    const db = new Database(join(dir, PROJECT_DB_FILE), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
      (t) => t.name,
    );
    db.close();
    expect(tables).toEqual(expect.arrayContaining(['project', 'cases', 'label_versions', 'models', 'jobs']));
    const again = ProjectStore.open(dir);
    expect(again.info().schema.name).toBe('pancreas');
    again.close();
  });

  it('refuses to create over an existing project, and to open a folder without one', () => {
    const { dir } = newProject();
    expect(() => ProjectStore.create(dir, { schema: 'kidney' })).toThrow(/already holds a project/);
    const t = tempDir('empty');
    cleanups.push(t.cleanup);
    expect(() => ProjectStore.open(t.dir)).toThrow(NotFoundError);
  });

  it('refuses a project written by a newer schema version', () => {
    const { store, dir } = newProject();
    store.close();
    const db = new Database(join(dir, PROJECT_DB_FILE));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => ProjectStore.open(dir)).toThrow(/newer DeformUX Annotator/);
  });

  it('stores a case as .nii.gz with its exact geometry and voxels, and lists it', async () => {
    const { store, dir } = newProject();
    const image = makeVolume([7, 5, 3], huPattern);
    const summary = await store.addCase(image, { name: 'asym' });
    expect(summary).toMatchObject({
      name: 'asym',
      status: 'new',
      dims: [7, 5, 3],
      spacingMm: [0.8, 0.9, 2.5],
      synthetic: false,
    });
    expect(store.listCases().map((c) => c.id)).toEqual([summary.id]);
    const header = store.caseHeader(summary.id);
    expect(header.dataType).toBe('int16');
    expect(header.originMm).toEqual(image.originMm);
    expect(header.direction).toEqual(image.direction);
    // The file on disk is an independent check: decode it with the NIfTI reader.
    const onDisk = await readNifti(join(dir, 'cases', summary.id, 'image.nii.gz'));
    expect(Array.from(onDisk.data)).toEqual(Array.from(image.data));
    const a = affineLps(onDisk);
    const b = affineLps(image);
    a.forEach((x, n) => expect(x).toBeCloseTo(b[n], 4));
    const loaded = await store.loadImage(summary.id);
    expect(loaded.data).toBeInstanceOf(Int16Array);
    expect(Array.from(loaded.data)).toEqual(Array.from(image.data));
  });

  it('narrows whole-HU float CT to int16 and keeps fractional CT as float32', async () => {
    const { store } = newProject();
    const whole = await store.addCase(makeVolume([4, 3, 2], huPattern, { type: 'float32' }));
    const frac = await store.addCase(makeVolume([4, 3, 2], (i) => i + 0.5, { type: 'float32' }));
    expect(store.caseHeader(whole.id).dataType).toBe('int16');
    expect(store.caseHeader(frac.id).dataType).toBe('float32');
    const fracBack = await store.loadImage(frac.id);
    expect(fracBack.data).toBeInstanceOf(Float32Array);
    expect(Array.from(fracBack.data.slice(0, 4))).toEqual([0.5, 1.5, 2.5, 3.5]);
  });

  it('keeps label versions on the image grid, numbered, with provenance', async () => {
    const { store, dir } = newProject();
    const image = makeVolume([6, 4, 3], huPattern);
    const c = await store.addCase(image);
    const label = makeVolume([6, 4, 3], (i, j) => (i > 2 && j > 1 ? 2 : 0), { type: 'uint8' });
    const v1 = await store.addLabelVersion(c.id, label, { kind: 'reference' });
    const v2 = await store.addLabelVersion(c.id, label, { kind: 'edit', editor: 'ann', voxelsChanged: 0 });
    expect([v1.version, v2.version]).toEqual([1, 2]);
    expect(store.listLabelVersions(c.id).map((v) => [v.version, v.kind, v.editor])).toEqual([
      [1, 'reference', null],
      [2, 'edit', 'ann'],
    ]);
    const back = await store.loadLabel(c.id, 2);
    expect(Array.from(back.data)).toEqual(Array.from(label.data));
    expect(readdirSync(join(dir, 'cases', c.id, 'labels')).sort()).toEqual([
      expect.stringMatching(/^v0001-[0-9a-f]{6}\.nii\.gz$/),
      expect.stringMatching(/^v0002-[0-9a-f]{6}\.nii\.gz$/),
    ]);
    await expect(
      store.addLabelVersion(
        c.id,
        makeVolume([6, 4, 2], () => 0, { type: 'uint8' }),
        { kind: 'edit' },
      ),
    ).rejects.toThrow(/6×4×2 voxels, but the image has 6×4×3/);
    const shifted = makeVolume([6, 4, 3], () => 0, { type: 'uint8', originMm: [0, 0, 0] });
    await expect(store.addLabelVersion(c.id, shifted, { kind: 'edit' })).rejects.toThrow(StoreRequestError);
  });

  it('numbers concurrent label saves one after another, losing none', async () => {
    const { store } = newProject();
    const c = await store.addCase(makeVolume([4, 4, 2], huPattern));
    const labels = [1, 2, 3, 4, 5].map((value) => makeVolume([4, 4, 2], () => value, { type: 'uint8' }));
    const saved = await Promise.all(labels.map((l) => store.addLabelVersion(c.id, l, { kind: 'edit' })));
    expect(saved.map((v) => v.version).sort()).toEqual([1, 2, 3, 4, 5]);
    for (const v of saved) {
      const back = await store.loadLabel(c.id, v.version);
      expect(back.data[0]).toBe(saved.indexOf(v) + 1);
    }
    await expect(
      store.addLabelVersion(
        c.id,
        makeVolume([4, 4, 2], () => 300),
        { kind: 'edit' },
      ),
    ).rejects.toThrow(/holds 300; class values must be whole numbers 0-255/);
  });

  it('leaves no row and no file when writing the image fails', async () => {
    const failing: VolumeIo = {
      read: (p) => readNifti(p),
      listSeries: async () => [],
      write: async () => {
        throw new Error('disk full');
      },
    };
    const { store, dir } = newProject('kidney', failing);
    await expect(store.addCase(makeVolume([3, 3, 3], huPattern))).rejects.toThrow('disk full');
    expect(store.listCases()).toEqual([]);
    expect(readdirSync(join(dir, 'cases'))).toEqual([]);
  });

  it('sweeps old leftovers of interrupted writes, but not fresh ones or real cases', async () => {
    const { store, dir } = newProject();
    const c = await store.addCase(makeVolume([3, 3, 3], huPattern));
    const orphan = join(dir, 'cases', 'cOrphan');
    mkdirSync(orphan);
    writeFileSync(join(orphan, 'image.nii.gz'), 'partial');
    const staleTemp = join(dir, 'cases', c.id, 'labels', '.v0001.nii.gz.123.abcd.tmp');
    writeFileSync(staleTemp, 'partial');
    // An nnU-Net export cut short: its hidden temp folder goes, a published dataset stays.
    const staleExport = join(dir, 'exports', '.Dataset501_Kidney.123.abcd.tmp');
    mkdirSync(join(staleExport, 'imagesTr'), { recursive: true });
    const published = join(dir, 'exports', 'Dataset501_Kidney');
    mkdirSync(published);
    const now = Date.now();
    expect(await store.sweepLeftovers(now)).toEqual({
      removedTempFiles: [],
      removedCaseFolders: [],
      removedLabelFiles: [],
    });
    const later = now + LEFTOVER_AGE_MS + 1000;
    expect(await store.sweepLeftovers(later)).toEqual({
      removedTempFiles: [staleTemp, staleExport],
      removedCaseFolders: [orphan],
      removedLabelFiles: [],
    });
    expect(existsSync(staleExport)).toBe(false);
    expect(existsSync(published)).toBe(true);
    expect(existsSync(join(dir, 'cases', c.id, 'image.nii.gz'))).toBe(true);
    expect((await store.loadImage(c.id)).dims).toEqual([3, 3, 3]);
  });

  it('refuses unknown or malformed case ids without touching the disk', async () => {
    const { store } = newProject();
    expect(() => store.caseHeader('nope')).toThrow(/no case with id 'nope'/);
    expect(() => store.caseHeader('../../etc')).toThrow(/is not a case id/);
    expect(() => store.loadImage('a/b')).toThrow(NotFoundError);
  });

  it('updates the case status and refuses unknown statuses', async () => {
    const { store } = newProject();
    const c = await store.addCase(makeVolume([3, 3, 3], huPattern));
    expect(store.setCaseStatus(c.id, 'in_progress').status).toBe('in_progress');
    expect(() => store.setCaseStatus(c.id, 'done' as never)).toThrow(/unknown case status/);
  });
});

describe('import', () => {
  it('imports NIfTI files as cases and reports bad inputs by name', async () => {
    const { store } = newProject();
    const t = tempDir('import');
    cleanups.push(t.cleanup);
    const good = join(t.dir, 'kidney_007.nii.gz');
    await writeNifti(good, makeVolume([5, 4, 3], huPattern));
    const bad = join(t.dir, 'broken.nii');
    writeFileSync(bad, 'not a nifti');
    const missing = join(t.dir, 'missing.nii.gz');
    const progress: number[] = [];
    const result = await importPaths(store, { paths: [good, bad, missing] }, { onProgress: (f) => progress.push(f) });
    expect(result.imported.map((c) => c.name)).toEqual(['kidney_007']);
    expect(result.errors).toHaveLength(2);
    expect(result.errors[0]).toContain(bad);
    expect(result.errors[1]).toBe(`${missing}: no such file or folder.`);
    expect(progress.at(-1)).toBe(1);
    expect(store.listCases()).toHaveLength(1);
    expect(existsSync(join(store.dir, 'cases', result.imported[0].id, 'image.nii.gz'))).toBe(true);
  });

  it('refuses to import the same image twice (content hash) or the same DICOM series twice (its UID)', async () => {
    const { store } = newProject();
    const t = tempDir('dupes');
    cleanups.push(t.cleanup);
    const scan = join(t.dir, 'scan.nii.gz');
    await writeNifti(scan, makeVolume([5, 4, 3], huPattern));
    const copy = join(t.dir, 'copy_of_scan.nii');
    await writeNifti(copy, makeVolume([5, 4, 3], huPattern));
    const other = join(t.dir, 'other.nii.gz');
    await writeNifti(
      other,
      makeVolume([5, 4, 3], (i, j, k) => huPattern(i, j, k) + 1),
    );
    const first = await importPaths(store, { paths: [scan] });
    expect(first.imported.map((c) => c.name)).toEqual(['scan']);
    const again = await importPaths(store, { paths: [scan, copy, other] });
    expect(again.imported.map((c) => c.name)).toEqual(['other']);
    expect(again.errors).toEqual([
      `${scan}: the same image is already in this project as case 'scan'.`,
      `${copy}: the same image is already in this project as case 'scan'.`,
    ]);

    let reads = 0;
    let value = 0;
    const io: VolumeIo = {
      read: async () => {
        reads++;
        value++;
        return makeVolume([3, 3, 3], () => value);
      },
      listSeries: async () => [{ uid: '1.2.9', description: 'venous', slices: 3 }],
      write: (p, v) => writeNifti(p, v),
    };
    const dicom = newProject('kidney', io).store;
    expect((await importPaths(dicom, { paths: [t.dir] })).imported).toHaveLength(1);
    const twice = await importPaths(dicom, { paths: [t.dir] });
    expect(twice.imported).toEqual([]);
    expect(twice.errors[0]).toMatch(/series 1\.2\.9 is already in this project as case '.*venous'/);
    expect(reads).toBe(1); // refused before reading the series again
  });

  it('asks which series to take when a folder holds several, and can be cancelled', async () => {
    const io: VolumeIo = {
      read: async () => makeVolume([3, 3, 3], huPattern),
      listSeries: async () => [
        { uid: '1.2.3', description: 'arterial', slices: 3 },
        { uid: '1.2.4', description: 'venous', slices: 3 },
      ],
      write: (p, v) => writeNifti(p, v),
    };
    const { store } = newProject('kidney', io);
    const t = tempDir('series');
    cleanups.push(t.cleanup);
    const first = await importPaths(store, { paths: [t.dir] });
    expect(first.imported).toEqual([]);
    expect(first.choices).toEqual([
      { path: t.dir, series: expect.arrayContaining([expect.objectContaining({ uid: '1.2.4' })]) },
    ]);
    const chosen = await importPaths(store, { paths: [t.dir], seriesInstanceUid: '1.2.4' });
    expect(chosen.imported[0].name).toMatch(/venous$/);
    const controller = new AbortController();
    controller.abort();
    await expect(importPaths(store, { paths: [t.dir] }, { signal: controller.signal })).rejects.toThrow();
  });
});
