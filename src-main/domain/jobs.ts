// Long work (pre-labels, fine-tunes, imports, nnU-Net exports) as the job manager persists and reports it.
// Types and plain constants only, no imports from outside src-main/domain: the renderer gets them through
// api/contract.ts too.

/** 'paused' and 'interrupted' are fine-tunes that can be resumed from their last checkpoint. */
export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'paused' | 'interrupted';

/** Long work run by the job manager; persisted, so it survives a restart as 'failed (interrupted)'. */
export interface JobInfo {
  id: string;
  kind: string;
  /** The case of a one-case job; null for jobs over several cases. */
  caseId: string | null;
  status: JobStatus;
  fraction: number;
  message: string;
  params: Record<string, unknown>;
  /**
   * For a pre-label: { done: [caseIds], failed: [{ caseId, message }] }; an import: { imported: [caseIds],
   * errors: [sentences], choices: [paths] }; an nnU-Net export: { path, cases }.
   */
  result: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}
