// Rules the model panel shows buttons by (mirrors src-main/store/model-rows.ts).
import type { ModelInfo } from '../../../src-main/api/contract';

/** Whether a roll-back has somewhere to go: a version promoted before the active one. */
export function canRollback(models: ModelInfo[]): boolean {
  const active = models.find((m) => m.status === 'active');
  const since = active?.promotedAt;
  if (!active || !since) return false;
  return models.some((m) => m.id !== active.id && m.promotedAt !== null && m.promotedAt < since);
}
