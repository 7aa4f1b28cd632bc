// The file jobs the task runner runs: importing CT into the project, and exporting its submitted cases as an
// nnU-Net dataset. Both stop at their next check when cancelled and never leave half-written output.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImportRequest, ImportResult } from '../domain/cases';
import { RequestError } from '../domain/errors';
import { exportNnunetDataset } from '../export';
import { ImportCancelledError, importPaths } from '../store/import';
import type { ProjectStore } from '../store/project';
import type { TaskSpec } from './task-runner';

export const IMPORT_KIND = 'import';
export const EXPORT_NNUNET_KIND = 'export-nnunet';

/** Where exports of a project go. */
export function exportsDir(store: ProjectStore): string {
  return join(store.dir, 'exports');
}

/** An import's value: what it imported, and the cancel that stopped it early (null when it ran to the end). */
export interface ImportRun {
  result: ImportResult;
  cancelled: ImportCancelledError | null;
}

export function importJob(store: ProjectStore, req: ImportRequest): TaskSpec<ImportRun> {
  return {
    kind: IMPORT_KIND,
    params: { paths: req.paths, ...(req.seriesInstanceUid ? { seriesInstanceUid: req.seriesInstanceUid } : {}) },
    work: async ({ signal, progress }) => {
      try {
        return { result: await importPaths(store, req, { signal, onProgress: progress }), cancelled: null };
      } catch (err) {
        if (!(err instanceof ImportCancelledError)) throw err;
        // The request still answers with the cases kept; the cancel is one more line among the errors.
        return { result: { ...err.result, errors: [...err.result.errors, err.message] }, cancelled: err };
      }
    },
    ended: ({ result, cancelled }) => {
      const summary = {
        imported: result.imported.map((c) => c.id),
        errors: result.errors,
        choices: result.choices.map((c) => c.path),
      };
      if (cancelled) return { status: 'cancelled', message: cancelled.message, result: summary };
      const n = result.imported.length;
      const parts = [`Imported ${n} case(s)`];
      if (result.errors.length) parts.push(`${result.errors.length} input(s) failed: ${result.errors.join(' ')}`);
      if (result.choices.length) parts.push(`${result.choices.length} folder(s) hold several series: choose one`);
      const failed = n === 0 && result.errors.length > 0;
      return { status: failed ? 'failed' : 'done', message: `${parts.join('; ')}.`, result: summary };
    },
  };
}

interface NnunetPlan {
  outDir: string;
  datasetId: number;
  datasetName: string;
  /** Each case's last submitted version. */
  cases: { caseId: string; version: number }[];
}

/** What an nnU-Net export of the project would write; throws when no case was submitted. */
export function planNnunetExport(store: ProjectStore): NnunetPlan {
  const project = store.info();
  const cases = store
    .listCases()
    .map((c) => ({
      caseId: c.id,
      version: store
        .listLabelVersions(c.id)
        .filter((v) => v.submitted)
        .at(-1)?.version,
    }))
    .filter((c): c is { caseId: string; version: number } => c.version !== undefined);
  if (cases.length === 0) throw new RequestError('no submitted cases to export: submit at least one case first.');
  const datasetName = project.name.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^[^A-Za-z0-9]+/, '') || 'DeformUX';
  return { outDir: exportsDir(store), datasetId: 501, datasetName, cases };
}

/**
 * Exports each submitted case's last submitted label as an nnU-Net v2 dataset under exports/. The dataset is
 * built in a temp folder renamed into place at the end: a cancel (`signal`) or a failure removes the temp
 * folder and leaves an earlier export of the same dataset as it was.
 */
export async function exportNnunet(
  store: ProjectStore,
  opts: {
    plan?: NnunetPlan;
    signal?: AbortSignal;
    onProgress?: (fraction: number, message: string) => void;
  } = {},
): Promise<{ path: string; cases: number }> {
  const plan = opts.plan ?? planNnunetExport(store);
  const project = store.info();
  await mkdir(plan.outDir, { recursive: true });
  const result = await exportNnunetDataset({
    outDir: plan.outDir,
    datasetId: plan.datasetId,
    datasetName: plan.datasetName,
    schema: project.schema,
    cases: plan.cases.map(({ caseId, version }) => ({
      caseId,
      loadImage: () => store.loadImage(caseId),
      loadLabel: () => store.loadLabel(caseId, version),
    })),
    description: project.synthetic ? 'synthetic phantoms' : undefined,
    overwrite: true,
    onProgress: opts.onProgress,
    signal: opts.signal,
  });
  return { path: result.datasetDir, cases: result.numTraining };
}

/** The export as a job; the plan is made at once, so "nothing submitted" answers the request without a job. */
export function exportNnunetJob(store: ProjectStore): TaskSpec<{ path: string; cases: number }> {
  const plan = planNnunetExport(store);
  return {
    kind: EXPORT_NNUNET_KIND,
    params: {
      ...plan,
      datasetDir: join(plan.outDir, `Dataset${String(plan.datasetId).padStart(3, '0')}_${plan.datasetName}`),
    },
    work: ({ signal, progress }) => exportNnunet(store, { plan, signal, onProgress: progress }),
    ended: (r) => ({ status: 'done', message: `Exported ${r.cases} case(s) to ${r.path}.`, result: r }),
    cancelledMessage:
      'nnU-Net export cancelled: nothing was written (the partial dataset folder was removed; an earlier export is unchanged).',
  };
}
