// Messages between the job manager (main thread) and the engine worker thread that runs predictions.
import type { Volume } from '../../imaging/volume';
import type { SchemaName } from '../../api/contract';

export type ToWorker =
  | { type: 'load'; modelDir: string; schema: SchemaName }
  | { type: 'predict'; id: number; image: Volume; tta: boolean }
  | { type: 'cancel'; id: number };

export interface ModelSummary {
  modelId: string;
  modelVersion: string;
  classes: string[];
  patchSize: [number, number, number];
  targetSpacingMm: [number, number, number];
}

export type FromWorker =
  | { type: 'loaded'; model: ModelSummary }
  | { type: 'progress'; id: number; fraction: number; message: string }
  | {
      type: 'result';
      id: number;
      label: Uint8Array;
      uncertainty: Uint8Array | null;
      voxelsPerClass: number[];
      seconds: number;
    }
  | { type: 'cancelled'; id: number }
  /** `id` -1: the load failed. `input`: the problem is the data or model folder, not a bug. */
  | { type: 'error'; id: number; message: string; input: boolean };
