// The model line of a project: one row per model version.
// Types and plain constants only, no imports from outside src-main/domain: the renderer gets them through
// api/contract.ts too.

/** A model folder the project knows (models table): one version of the schema's model line. */
export interface ModelInfo {
  /** e.g. 'kidney:kidney-lite@2000' (schema, folder name, training steps). */
  id: string;
  schema: string;
  folder: string;
  /** 1, 2, ... per schema in the order the project first used them (the starter is usually 1). */
  version: number;
  /** The model this one was fine-tuned from (null for a starter or imported model). */
  parentId: string | null;
  status: 'candidate' | 'active' | 'retired';
  /** holdoutDice (mean foreground Dice on the holdout), baseHoldoutDice, finalLoss, trainCases, holdoutCases, steps. */
  metrics: Record<string, number>;
  /** What trained it (job, steps, cases, correction weight, seconds); {} for models not trained here. */
  training: Record<string, unknown>;
  /** Why a candidate was not promoted, or why the status last changed. */
  note: string;
  createdAt: string;
  /** When it last became the active model (null if never). */
  promotedAt: string | null;
  retiredAt: string | null;
}
