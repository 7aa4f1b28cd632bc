// Training data of a project: submitted cases in submission order, the persisted holdout,
// fine-tune loss curves and project settings.
import type { ProjectSettings } from '../domain/project';
import type { ProjectStore } from './project';
import { nextHoldoutIds } from '../domain/holdout-rule';

export interface SubmittedCase {
  caseId: string;
  name: string;
  /** When the case was first submitted (its place in submission order). */
  submittedAt: string;
  /** The latest submitted label version: the training label. */
  labelVersion: number;
  /** The first prediction version (the pre-label the annotator corrected), if any. */
  prelabelVersion: number | null;
  /** The model of that pre-label. */
  prelabelModelId: string | null;
  activeEditSeconds: number;
  /**
   * False when the submitted voxels are exactly the pre-label's (submitted without a change): such a label is
   * the model's own answer, no evidence of truth, so it neither trains nor scores a model.
   */
  edited: boolean;
}

/** Cases with a submitted label version, in the order they were first submitted. */
export function submittedCases(store: ProjectStore): SubmittedCase[] {
  const rows = store.database
    .prepare(
      `SELECT c.id AS case_id, c.name AS name,
         (SELECT MIN(created_at) FROM label_versions v WHERE v.case_id = c.id AND v.submitted = 1) AS submitted_at,
         (SELECT MAX(version) FROM label_versions v WHERE v.case_id = c.id AND v.submitted = 1) AS label_version,
         (SELECT MIN(version) FROM label_versions v WHERE v.case_id = c.id AND v.kind = 'prediction') AS pre_version,
         (SELECT SUM(active_edit_seconds) FROM label_versions v WHERE v.case_id = c.id) AS seconds,
         (SELECT MIN(id) FROM label_versions v WHERE v.case_id = c.id AND v.submitted = 1) AS first_row
       FROM cases c WHERE EXISTS (SELECT 1 FROM label_versions v WHERE v.case_id = c.id AND v.submitted = 1)
       ORDER BY submitted_at, first_row`,
    )
    .all() as {
    case_id: string;
    name: string;
    submitted_at: string;
    label_version: number;
    pre_version: number | null;
    seconds: number | null;
  }[];
  const modelOf = store.database.prepare('SELECT model_id FROM label_versions WHERE case_id = ? AND version = ?');
  const hashOf = store.database.prepare('SELECT voxels_sha256 FROM label_versions WHERE case_id = ? AND version = ?');
  const hash = (caseId: string, version: number): string | null =>
    (hashOf.get(caseId, version) as { voxels_sha256: string | null } | undefined)?.voxels_sha256 ?? null;
  const edited = (caseId: string, label: number, pre: number | null): boolean => {
    if (pre === null) return true;
    const a = hash(caseId, label);
    const b = hash(caseId, pre);
    return a === null || b === null || a !== b;
  };
  return rows.map((r) => ({
    caseId: r.case_id,
    name: r.name,
    submittedAt: r.submitted_at,
    labelVersion: r.label_version,
    prelabelVersion: r.pre_version,
    prelabelModelId:
      r.pre_version === null
        ? null
        : ((modelOf.get(r.case_id, r.pre_version) as { model_id: string | null } | undefined)?.model_id ?? null),
    activeEditSeconds: r.seconds ?? 0,
    edited: edited(r.case_id, r.label_version, r.pre_version),
  }));
}

export function holdoutCaseIds(store: ProjectStore): Set<string> {
  const rows = store.database.prepare('SELECT case_id FROM holdout').all() as { case_id: string }[];
  return new Set(rows.map((r) => r.case_id));
}

export { holdoutTarget } from '../domain/holdout-rule';

/**
 * Grows the holdout by its rule (domain/holdout-rule.ts) and returns it. Cases once chosen stay; a new one is a
 * submitted case never trained on, preferring the one at the rule's place in submission order (the 3rd, 8th, ...).
 */
export function updateHoldout(store: ProjectStore, trainedOn: ReadonlySet<string>): Set<string> {
  const held = holdoutCaseIds(store);
  const added = nextHoldoutIds(
    submittedCases(store).map((c) => c.caseId),
    held,
    trainedOn,
  );
  const insert = store.database.prepare('INSERT OR IGNORE INTO holdout (case_id, added_at) VALUES (?, ?)');
  for (const id of added) {
    insert.run(id, new Date().toISOString());
    held.add(id);
  }
  return held;
}

/** Evenly spaced points of a curve, at most `max`, always keeping the first and the last. */
export function downsample<T>(points: readonly T[], max: number): T[] {
  if (points.length <= max) return [...points];
  const out: T[] = [];
  for (let n = 0; n < max; n++) out.push(points[Math.round((n * (points.length - 1)) / (max - 1))]);
  return out;
}

export const MAX_CURVE_POINTS = 500;

/** Replaces a fine-tune's stored loss curve (`losses[s]` is the loss of step s + 1), downsampled. */
export function saveLossCurve(store: ProjectStore, jobId: string, losses: readonly number[]): void {
  const points = downsample(
    losses.map((loss, s) => ({ step: s + 1, loss })).filter((p) => Number.isFinite(p.loss)),
    MAX_CURVE_POINTS,
  );
  const db = store.database;
  db.transaction(() => {
    db.prepare('DELETE FROM training_curve WHERE job_id = ?').run(jobId);
    const insert = db.prepare('INSERT INTO training_curve (job_id, step, loss) VALUES (?, ?, ?)');
    for (const p of points) insert.run(jobId, p.step, p.loss);
  })();
}

export function lossCurves(store: ProjectStore): { jobId: string; step: number; loss: number }[] {
  return (
    store.database
      .prepare(
        `SELECT t.job_id, t.step, t.loss FROM training_curve t JOIN jobs j ON j.id = t.job_id
         ORDER BY j.created_at, j.id, t.step`,
      )
      .all() as { job_id: string; step: number; loss: number }[]
  ).map((r) => ({ jobId: r.job_id, step: r.step, loss: r.loss }));
}

const DEFAULT_SETTINGS: ProjectSettings = { promoteIfNotWorse: true };

export function projectSettings(store: ProjectStore): ProjectSettings {
  const rows = store.database.prepare('SELECT key, value FROM settings').all() as { key: string; value: string }[];
  const out: ProjectSettings = { ...DEFAULT_SETTINGS };
  for (const r of rows) if (r.key === 'promoteIfNotWorse') out.promoteIfNotWorse = JSON.parse(r.value) === true;
  return out;
}

export function setProjectSettings(store: ProjectStore, s: Partial<ProjectSettings>): ProjectSettings {
  const upsert = store.database.prepare(
    'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  );
  if (s.promoteIfNotWorse !== undefined) upsert.run('promoteIfNotWorse', JSON.stringify(s.promoteIfNotWorse));
  return projectSettings(store);
}
