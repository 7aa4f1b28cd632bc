// Events src-main pushes to whoever listens: the job manager emits them, the API forwards them to the renderer.
// Types and plain constants only, no imports from outside src-main/domain: the renderer gets them through
// api/contract.ts too.

/** Events pushed from src-main to the renderer (IPC `deformux:event`; SSE on `/api/events`). */
export interface ApiEvents {
  'cases.changed': { caseIds: string[] };
  /** The app now serves another project: everything shown belongs to the old one. */
  'project.changed': { dir: string };
  /** step .. holdoutDice: fine-tunes only (holdoutDice is the last evaluation's). */
  'job.progress': {
    jobId: string;
    kind: string;
    caseId?: string;
    fraction: number;
    message: string;
    step?: number;
    steps?: number;
    loss?: number | null;
    etaS?: number | null;
    holdoutDice?: number | null;
  };
  'job.done': { jobId: string; kind: string; ok: boolean; message: string };
}

export type ApiEventName = keyof ApiEvents;

export type ApiEvent = { [K in ApiEventName]: { name: K; payload: ApiEvents[K] } }[ApiEventName];
