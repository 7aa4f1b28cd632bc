// Messages between the engine client (jobs/engine-client.ts, main thread) and the engine worker thread that runs
// predictions and fine-tunes. Every request carries an id; every answer names the request it belongs to.
import type { PredictSettings } from '../predict/predict';
import type { SchemaName } from '../domain/label-schemas';
import type { FinetuneOptions, FinetuneProgress, FinetuneResult } from '../train/finetune';

/** A submitted case as files: the worker reads them itself (no copies of full-size scans between threads). */
export interface FinetuneCaseFiles {
  id: string;
  image: string;
  label: string;
  prelabel?: string;
}

/** A fine-tune's options as they cross the thread boundary (the signal and callback live in the worker). */
export type FinetuneRequest = Omit<
  FinetuneOptions,
  'signal' | 'onProgress' | 'train' | 'holdout' | 'replay' | 'replayHoldout'
> & {
  train: FinetuneCaseFiles[];
  holdout: FinetuneCaseFiles[];
  /**
   * Replay of the base model's synthetic recipe, generated in the worker: `cases` mixed into the batches and
   * `holdout` scored before and after (0: none). Absent: none.
   */
  recipe?: { cases: number; holdout: number };
};

export type ToWorker =
  | { type: 'load'; id: number; modelDir: string; schema: SchemaName }
  /** The worker reads the image itself (no copy of a full-size scan crosses threads) and sends the label back. */
  | { type: 'predict'; id: number; imagePath: string; tta: boolean }
  | { type: 'finetune'; id: number; options: FinetuneRequest }
  /** Stops a predict (at once) or a fine-tune (after its current step, with a checkpoint). */
  | { type: 'cancel'; id: number };

export interface ModelSummary {
  modelId: string;
  modelVersion: string;
  classes: string[];
  patchSize: [number, number, number];
  targetSpacingMm: [number, number, number];
}

export type FromWorker =
  | { type: 'loaded'; id: number; model: ModelSummary }
  | { type: 'progress'; id: number; fraction: number; message: string }
  | {
      type: 'result';
      id: number;
      label: Uint8Array;
      uncertainty: Uint8Array | null;
      voxelsPerClass: number[];
      /** The grid the label is on (the image's) and the settings the prediction actually ran with. */
      dims: [number, number, number];
      settings: PredictSettings;
      seconds: number;
    }
  | { type: 'cancelled'; id: number }
  | { type: 'finetune-progress'; id: number; progress: FinetuneProgress }
  /** Also sent for a stopped fine-tune: then result.cancelled is true and a checkpoint was kept. */
  | { type: 'finetune-result'; id: number; result: FinetuneResult }
  /** `input`: the problem is the data or model folder, not a bug. */
  | { type: 'error'; id: number; message: string; input: boolean };
