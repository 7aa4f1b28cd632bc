// A project written by schema 1 (before saved edits) opens, migrates to the current schema, and its
// label versions read as unsubmitted with no editing time; new saves then work on it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { writeNifti } from '../../../src-main/imaging/nifti';
import { ProjectStore } from '../../../src-main/store/project';
import { MIGRATIONS, SCHEMA_VERSION } from '../../../src-main/store/schema';
import { huPattern, makeVolume, tempDir } from '../helpers';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

describe('schema migration', () => {
  it('upgrades a schema-1 project in place', async () => {
    const t = tempDir('migrate');
    cleanups.push(t.cleanup);
    const dir = join(t.dir, 'proj');
    mkdirSync(join(dir, 'cases', 'c1', 'labels'), { recursive: true });
    const image = makeVolume([4, 3, 2], huPattern);
    const label = makeVolume([4, 3, 2], (i) => i % 2, { type: 'uint8' });
    await writeNifti(join(dir, 'cases', 'c1', 'image.nii.gz'), image);
    await writeNifti(join(dir, 'cases', 'c1', 'labels', 'v0001-abcdef.nii.gz'), { ...label, modality: 'SEG' });

    const db = new Database(join(dir, 'project.sqlite'));
    db.exec(MIGRATIONS[0]);
    db.pragma('user_version = 1');
    const now = new Date().toISOString();
    db.prepare(`INSERT INTO project VALUES (1, 'old', 'kidney', 0, ?)`).run(now);
    db.prepare(
      `INSERT INTO cases (id, name, status, image_file, data_type, dims, spacing_mm, origin_mm, direction,
         modality, description, source, synthetic, created_at, updated_at)
       VALUES ('c1', 'old case', 'prelabelled', 'cases/c1/image.nii.gz', 'int16', ?, ?, ?, ?, 'CT', '', 'x', 0, ?, ?)`,
    ).run(
      JSON.stringify(image.dims),
      JSON.stringify(image.spacingMm),
      JSON.stringify(image.originMm),
      JSON.stringify(image.direction),
      now,
      now,
    );
    db.prepare(
      `INSERT INTO label_versions (case_id, version, label_file, kind, created_at)
       VALUES ('c1', 1, 'cases/c1/labels/v0001-abcdef.nii.gz', 'prediction', ?)`,
    ).run(now);
    db.close();

    const store = ProjectStore.open(dir);
    try {
      const [v1] = store.listLabelVersions('c1');
      expect(v1).toMatchObject({ version: 1, kind: 'prediction', submitted: false, activeEditSeconds: 0 });
      expect(v1.voxelsSha256).toBeNull();
      expect(store.dicomSource('c1')).toBeNull();
      const v2 = await store.addLabelVersion('c1', label, { kind: 'edit', submitted: true, status: 'submitted' });
      expect(v2).toMatchObject({ version: 2, submitted: true, parentVersion: 1 });
      expect(store.getCase('c1').status).toBe('submitted');
    } finally {
      store.close();
    }
    const after = new Database(join(dir, 'project.sqlite'), { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
    after.close();
  });
});
