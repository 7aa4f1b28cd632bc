// The jobs table: long work (pre-labels) with status, progress and a result, surviving restarts.
import type { JobInfo, JobStatus } from '../api/contract';
import type { ProjectStore } from './project';

interface JobRow {
  id: string;
  kind: string;
  case_id: string | null;
  status: JobStatus;
  fraction: number;
  message: string;
  params: string;
  result: string;
  created_at: string;
  updated_at: string;
}

function infoOf(row: JobRow): JobInfo {
  return {
    id: row.id,
    kind: row.kind,
    caseId: row.case_id,
    status: row.status,
    fraction: row.fraction,
    message: row.message,
    params: JSON.parse(row.params) as Record<string, unknown>,
    result: JSON.parse(row.result) as Record<string, unknown>,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function insertJob(
  store: ProjectStore,
  job: { id: string; kind: string; caseId?: string | null; params: Record<string, unknown> },
): JobInfo {
  const now = new Date().toISOString();
  store.database
    .prepare(
      `INSERT INTO jobs (id, kind, case_id, status, fraction, message, params, created_at, updated_at)
       VALUES (?, ?, ?, 'queued', 0, 'queued', ?, ?, ?)`,
    )
    .run(job.id, job.kind, job.caseId ?? null, JSON.stringify(job.params), now, now);
  return getJob(store, job.id)!;
}

export function updateJob(
  store: ProjectStore,
  id: string,
  u: { status?: JobStatus; fraction?: number; message?: string; result?: Record<string, unknown> },
): void {
  const cur = getJob(store, id);
  if (!cur) return;
  store.database
    .prepare('UPDATE jobs SET status = ?, fraction = ?, message = ?, result = ?, updated_at = ? WHERE id = ?')
    .run(
      u.status ?? cur.status,
      u.fraction ?? cur.fraction,
      u.message ?? cur.message,
      JSON.stringify(u.result ?? cur.result),
      new Date().toISOString(),
      id,
    );
}

export function getJob(store: ProjectStore, id: string): JobInfo | null {
  const row = store.database.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
  return row ? infoOf(row) : null;
}

/** Newest first. */
export function listJobs(store: ProjectStore, limit = 50): JobInfo[] {
  return (
    store.database.prepare('SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT ?').all(limit) as JobRow[]
  ).map(infoOf);
}

/**
 * Jobs still queued or running when the project opens were cut off by a closed or crashed app:
 * mark them failed with a message saying so (the table's statuses have no 'interrupted').
 */
export function markInterruptedJobs(store: ProjectStore): number {
  const info = store.database
    .prepare(
      `UPDATE jobs SET status = 'failed', message = 'interrupted: the app closed while this job ran; start it again',
       updated_at = ? WHERE status IN ('queued', 'running')`,
    )
    .run(new Date().toISOString());
  return info.changes;
}
