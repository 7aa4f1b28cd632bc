// Provenance of prediction label versions (model version, settings, time) and their uncertainty volumes.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { LabelVersionInfo, PredictionProvenance } from '../domain/cases';
import type { Volume } from '../imaging/volume';
import { NotFoundError } from './errors';
import { assertSameGrid } from './label-rows';
import type { LabelVersionSummary, ProjectStore } from './project';

export interface NewPrediction {
  modelId: string;
  modelVersion: string;
  settings: Record<string, unknown>;
  seconds: number;
  jobId?: string;
  /** uint8 0..255 = uncertainty 0..1 on the image grid. */
  uncertainty?: Volume;
}

/**
 * Saves a model's label as the case's next version (kind 'prediction'; the store moves a 'new' case
 * to 'prelabelled'), then its uncertainty file and provenance row.
 */
export async function savePrediction(
  store: ProjectStore,
  caseId: string,
  label: Volume,
  p: NewPrediction,
): Promise<LabelVersionSummary & { provenance: PredictionProvenance }> {
  const header = store.caseHeader(caseId);
  let uncertaintyFile: string | null = null;
  if (p.uncertainty) {
    assertSameGrid(header, p.uncertainty);
    if (!(p.uncertainty.data instanceof Uint8Array)) throw new Error('uncertainty must be uint8 (0..255 = 0..1)');
    // Written first under a name the label sweep never matches; a crash before the rows leaves a stray file only.
    uncertaintyFile = join('cases', caseId, 'labels', `u-${randomBytes(4).toString('hex')}.nii.gz`);
    await fs.mkdir(join(store.dir, 'cases', caseId, 'labels'), { recursive: true });
    await (await store.io()).write(join(store.dir, uncertaintyFile), { ...p.uncertainty, modality: 'OT' });
  }
  try {
    const version = await store.addLabelVersion(caseId, label, {
      kind: 'prediction',
      modelId: p.modelId,
      parentVersion: null,
    });
    store.database
      .prepare(
        `INSERT INTO predictions (label_version_id, model_version, settings, uncertainty_file, seconds, job_id)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(version.id, p.modelVersion, JSON.stringify(p.settings), uncertaintyFile, p.seconds, p.jobId ?? null);
    return { ...version, provenance: provenanceOf(store, caseId, version.version)! };
  } catch (err) {
    if (uncertaintyFile) await fs.rm(join(store.dir, uncertaintyFile), { force: true });
    throw err;
  }
}

interface PredictionRow {
  model_version: string;
  settings: string;
  uncertainty_file: string | null;
  seconds: number;
  job_id: string | null;
  model_id: string | null;
  created_at: string;
}

function rowOf(store: ProjectStore, caseId: string, version: number): PredictionRow | undefined {
  return store.database
    .prepare(
      `SELECT p.*, v.model_id, v.created_at FROM predictions p JOIN label_versions v ON v.id = p.label_version_id
       WHERE v.case_id = ? AND v.version = ?`,
    )
    .get(caseId, version) as PredictionRow | undefined;
}

export function provenanceOf(store: ProjectStore, caseId: string, version: number): PredictionProvenance | null {
  const row = rowOf(store, caseId, version);
  if (!row) return null;
  return {
    modelId: row.model_id ?? '',
    modelVersion: row.model_version,
    settings: JSON.parse(row.settings) as Record<string, unknown>,
    seconds: row.seconds,
    createdAt: row.created_at,
    hasUncertainty: row.uncertainty_file !== null,
  };
}

/** The uncertainty voxels (uint8, 0..255 = 0..1) of a prediction version; `version` omitted: the latest prediction. */
export async function loadUncertainty(store: ProjectStore, caseId: string, version?: number): Promise<Uint8Array> {
  const v = version ?? latestPrediction(store.listLabelVersions(caseId))?.version;
  const row = v === undefined ? undefined : rowOf(store, caseId, v);
  if (!row?.uncertainty_file)
    throw new NotFoundError(
      `case ${caseId} has no uncertainty map${v === undefined ? '' : ` for label version ${v}`}.`,
    );
  const vol = await (await store.io()).read(join(store.dir, row.uncertainty_file));
  assertSameGrid(store.caseHeader(caseId), vol);
  return vol.data instanceof Uint8Array ? vol.data : Uint8Array.from(vol.data);
}

export function latestPrediction<T extends LabelVersionInfo>(versions: T[]): T | undefined {
  return versions.filter((v) => v.kind === 'prediction').pop();
}
