// The model-line calls: promote, roll back, and the learning curve's data.
import type { LearningCurve, ModelInfo } from './contract';
import { changedVoxels, compareLabels } from '../labels/metrics';
import type { ProjectStore } from '../store/project';
import { activeModel, getModel, listModels, promoteModel, rollbackModel } from '../store/model-rows';
import { holdoutCaseIds, lossCurves, submittedCases } from '../store/training-rows';
import { ApiRequestError } from './errors';

export function promote(store: ProjectStore, modelId: string): ModelInfo[] {
  const model = getModel(store, modelId);
  if (!model) throw new ApiRequestError(404, `models.promote: no model with id '${modelId}' in this project.`);
  const before = activeModel(store, model.schema);
  promoteModel(store, modelId, `promoted by hand${before ? ` over version ${before.version}` : ''}`);
  return listModels(store);
}

export function rollback(store: ProjectStore): ModelInfo[] {
  rollbackModel(store, store.info().schema.name);
  return listModels(store);
}

/** Pre-label vs submitted comparisons already computed, by case:prelabel:submitted versions (labels never change). */
const comparisons = new WeakMap<ProjectStore, Map<string, { dice: number; changed: number }>>();

async function compare(store: ProjectStore, caseId: string, pre: number, sub: number) {
  let cache = comparisons.get(store);
  if (!cache) comparisons.set(store, (cache = new Map()));
  const key = `${caseId}:${pre}:${sub}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const [a, b] = await Promise.all([store.loadLabel(caseId, pre), store.loadLabel(caseId, sub)]);
  const classValues = store.info().schema.classes.map((c) => c.value);
  // meanDice is null when no class is present in either map: both agree there is nothing, so 1.
  const value = {
    dice: compareLabels(a.data, b.data, classValues).meanDice ?? 1,
    changed: changedVoxels(a.data, b.data),
  };
  cache.set(key, value);
  return value;
}

export async function learningCurve(store: ProjectStore): Promise<LearningCurve> {
  const models = listModels(store);
  const byId = new Map(models.map((m) => [m.id, m]));
  const modelOfJob = new Map<string, string>();
  for (const m of models) if (typeof m.training.jobId === 'string') modelOfJob.set(m.training.jobId, m.id);
  const trainingLoss = lossCurves(store).map((p) => ({ ...p, modelId: modelOfJob.get(p.jobId) ?? null }));
  const modelDice = models.map((m) => ({
    modelId: m.id,
    version: m.version,
    holdoutDice: m.metrics.holdoutDice ?? null,
    createdAt: m.createdAt,
  }));
  const holdout = holdoutCaseIds(store);
  const cases: LearningCurve['cases'] = [];
  for (const c of submittedCases(store)) {
    const cmp = c.prelabelVersion === null ? null : await compare(store, c.caseId, c.prelabelVersion, c.labelVersion);
    cases.push({
      caseId: c.caseId,
      name: c.name,
      submittedAt: c.submittedAt,
      modelId: c.prelabelModelId,
      modelVersion: c.prelabelModelId ? (byId.get(c.prelabelModelId)?.version ?? null) : null,
      dicePrelabelVsSubmitted: cmp?.dice ?? null,
      voxelsChanged: cmp?.changed ?? null,
      activeEditMinutes: c.activeEditSeconds / 60,
      holdout: holdout.has(c.caseId),
    });
  }
  return { trainingLoss, modelDice, cases };
}
