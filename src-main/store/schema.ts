// The project database layout and its migrations (PRAGMA user_version is the schema version).
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';

/**
 * Each entry migrates from version `index` to `index + 1`. Append only: never edit a shipped step,
 * because projects on users' disks were created by it.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE project (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    name        TEXT NOT NULL,
    schema_name TEXT NOT NULL CHECK (schema_name IN ('kidney', 'pancreas')),
    synthetic   INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
  );
  CREATE TABLE cases (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'new'
                CHECK (status IN ('new', 'prelabelled', 'in_progress', 'submitted')),
    image_file  TEXT NOT NULL,
    data_type   TEXT NOT NULL CHECK (data_type IN ('int16', 'float32', 'uint8')),
    dims        TEXT NOT NULL,
    spacing_mm  TEXT NOT NULL,
    origin_mm   TEXT NOT NULL,
    direction   TEXT NOT NULL,
    modality    TEXT NOT NULL,
    description TEXT NOT NULL,
    source      TEXT NOT NULL,
    synthetic   INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
  );
  CREATE TABLE models (
    id          TEXT PRIMARY KEY,
    schema_name TEXT NOT NULL,
    folder      TEXT NOT NULL,
    parent_id   TEXT REFERENCES models(id),
    status      TEXT NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate', 'active', 'retired')),
    metrics     TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL
  );
  CREATE TABLE label_versions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id        TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    version        INTEGER NOT NULL,
    label_file     TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('reference', 'prediction', 'edit', 'import')),
    parent_id      INTEGER REFERENCES label_versions(id),
    model_id       TEXT REFERENCES models(id),
    editor         TEXT,
    voxels_changed INTEGER,
    created_at     TEXT NOT NULL,
    UNIQUE (case_id, version)
  );
  CREATE TABLE jobs (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    case_id    TEXT REFERENCES cases(id) ON DELETE SET NULL,
    status     TEXT NOT NULL DEFAULT 'queued'
               CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    fraction   REAL NOT NULL DEFAULT 0,
    message    TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX label_versions_case ON label_versions(case_id, version);
  CREATE INDEX jobs_status ON jobs(status);
  `,
  // 2: saved edits: submitted flag, active editing time, a checksum of the voxels so a
  // restored version can be verified, and the DICOM source series of a case for SEG export.
  `
  ALTER TABLE label_versions ADD COLUMN submitted INTEGER NOT NULL DEFAULT 0 CHECK (submitted IN (0, 1));
  ALTER TABLE label_versions ADD COLUMN active_edit_seconds REAL NOT NULL DEFAULT 0;
  ALTER TABLE label_versions ADD COLUMN voxels_sha256 TEXT;
  ALTER TABLE cases ADD COLUMN dicom_source TEXT;
  `,
  // 3: pre-labels: what a job was asked (JSON), and per prediction version its provenance
  // (model version, settings, timing) and the uncertainty volume stored beside the label.
  `
  ALTER TABLE jobs ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE jobs ADD COLUMN result TEXT NOT NULL DEFAULT '{}';
  CREATE TABLE predictions (
    label_version_id INTEGER PRIMARY KEY REFERENCES label_versions(id) ON DELETE CASCADE,
    model_version    TEXT NOT NULL,
    settings         TEXT NOT NULL,
    uncertainty_file TEXT,
    seconds          REAL NOT NULL,
    job_id           TEXT REFERENCES jobs(id) ON DELETE SET NULL
  );
  `,
  // 4: fine-tuning: model versions (number, training info, promotion/retirement times, why a
  // candidate was not promoted); a job sub-state for paused/interrupted fine-tunes (the jobs CHECK
  // cannot be altered, so it overlays 'cancelled'/'failed'); the holdout cases; loss curves; settings.
  `
  ALTER TABLE models ADD COLUMN version INTEGER;
  ALTER TABLE models ADD COLUMN training TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE models ADD COLUMN promoted_at TEXT;
  ALTER TABLE models ADD COLUMN retired_at TEXT;
  ALTER TABLE models ADD COLUMN note TEXT NOT NULL DEFAULT '';
  UPDATE models SET version = (
    SELECT COUNT(*) FROM models m2 WHERE m2.schema_name = models.schema_name
      AND (m2.created_at < models.created_at OR (m2.created_at = models.created_at AND m2.id <= models.id)));
  ALTER TABLE jobs ADD COLUMN substatus TEXT CHECK (substatus IS NULL OR substatus IN ('paused', 'interrupted'));
  CREATE TABLE holdout (
    case_id  TEXT PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
    added_at TEXT NOT NULL
  );
  CREATE TABLE training_curve (
    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    step   INTEGER NOT NULL,
    loss   REAL NOT NULL,
    PRIMARY KEY (job_id, step)
  );
  CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 5: a restored version names the version it restored; cases remember the series UID and the
  // content hash of what was imported, so importing the same data again is refused.
  `
  ALTER TABLE label_versions ADD COLUMN restored_from INTEGER;
  ALTER TABLE cases ADD COLUMN series_uid TEXT;
  ALTER TABLE cases ADD COLUMN content_sha256 TEXT;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Opens (creating when asked) the project database and brings it to SCHEMA_VERSION. */
export function openDatabase(file: string, opts: { create: boolean }): SqliteDatabase {
  const db = new Database(file, { fileMustExist: !opts.create });
  try {
    // WAL keeps readers unblocked during a write; FULL sync makes each commit durable.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db, file);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function migrate(db: SqliteDatabase, file: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `${file}: this project was written by a newer DeformUX Annotator (schema ${current}; this version knows up to ${SCHEMA_VERSION}).`,
    );
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    // One transaction per step: a crash leaves the database at a whole version.
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
