// A project as a whole: what it is and its settings.
// Types and plain constants only, no imports from outside src-main/domain: the renderer gets them through
// api/contract.ts too.
import type { LabelSchema } from './label-schemas';

export interface ProjectInfo {
  name: string;
  dir: string;
  schema: LabelSchema;
  caseCount: number;
  /** True when the project was generated from synthetic phantoms (the demo). */
  synthetic: boolean;
}

/** Project settings (settings table). */
export interface ProjectSettings {
  /** Promote a fine-tuned candidate automatically when its holdout Dice is not worse than the active model's. */
  promoteIfNotWorse: boolean;
}
