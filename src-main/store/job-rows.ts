// The jobs table: long work (pre-labels, fine-tunes, imports, nnU-Net exports) with status, progress and a
// result, surviving restarts.
import type { JobInfo, JobStatus } from '../domain/jobs';
import type { ProjectStore } from './project';

/** Statuses the table's CHECK allows; 'paused'/'interrupted' are stored as a substatus over them. */
type StoredStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

interface JobRow {
  id: string;
  kind: string;
  case_id: string | null;
  status: StoredStatus;
  substatus: 'paused' | 'interrupted' | null;
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
    status: row.substatus ?? row.status,
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
  const status = u.status ?? cur.status;
  const stored: StoredStatus = status === 'paused' ? 'cancelled' : status === 'interrupted' ? 'failed' : status;
  const substatus = status === 'paused' || status === 'interrupted' ? status : null;
  store.database
    .prepare(
      'UPDATE jobs SET status = ?, substatus = ?, fraction = ?, message = ?, result = ?, updated_at = ? WHERE id = ?',
    )
    .run(
      stored,
      substatus,
      u.fraction ?? cur.fraction,
      u.message ?? cur.message,
      JSON.stringify(u.result ?? cur.result),
      new Date().toISOString(),
      id,
    );
}

/** Replaces a job's params (a resumed fine-tune records that it continues from a checkpoint). */
export function setJobParams(store: ProjectStore, id: string, params: Record<string, unknown>): void {
  store.database
    .prepare('UPDATE jobs SET params = ?, updated_at = ? WHERE id = ?')
    .run(JSON.stringify(params), new Date().toISOString(), id);
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

/** Job kinds that keep a checkpoint and can continue after a pause or a restart. */
export const RESUMABLE_JOB_KINDS: readonly string[] = ['finetune'];

/**
 * Jobs still queued or running when the project opens were cut off by a closed or crashed app: a
 * fine-tune becomes 'interrupted' (it resumes from its last checkpoint); other jobs (pre-label, import,
 * export-nnunet) are marked failed with a message saying so.
 */
export function markInterruptedJobs(store: ProjectStore): number {
  const now = new Date().toISOString();
  const kinds = RESUMABLE_JOB_KINDS.map(() => '?').join(', ');
  const resumable = store.database
    .prepare(
      `UPDATE jobs SET status = 'failed', substatus = 'interrupted',
       message = 'interrupted: the app closed while this job ran; resume continues from the last checkpoint',
       updated_at = ? WHERE status IN ('queued', 'running') AND kind IN (${kinds})`,
    )
    .run(now, ...RESUMABLE_JOB_KINDS);
  const info = store.database
    .prepare(
      `UPDATE jobs SET status = 'failed', message = 'interrupted: the app closed while this job ran; start it again',
       updated_at = ? WHERE status IN ('queued', 'running')`,
    )
    .run(now);
  return info.changes + resumable.changes;
}
