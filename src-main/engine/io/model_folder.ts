// A model on disk: a folder with config.json, weights.safetensors (PyTorch names/layouts) and model.json.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../imaging/volume';
import { writeFileAtomic } from '../../util/atomic';
import { parseInferenceSpec } from './inference_spec';
import { parseConfig } from '../model/config';
import type { ModelConfig } from '../model/config';
import { DeformUXNet } from '../model/network';
import { readSafetensors, writeSafetensors } from './safetensors';

export const MODEL_JSON_SCHEMA_VERSION = 1;

export interface TrainingRecord {
  /** ISO time the run finished (or was checkpointed). */
  at: string;
  steps: number;
  patchSize: [number, number, number];
  batch: number;
  lr: number;
  finalLoss: number;
  /** Cases or data folder the run used. */
  data: string;
  /** The model folder it started from, or the preset name. */
  base: string;
  seed: number;
}

/** What the app needs beside the network (ARCHITECTURE.md; MODEL.md section 7). */
export interface ModelMeta {
  format: 'deformux-model';
  version: number;
  /** Label schema name ('kidney', 'pancreas') or a custom name. */
  schema: string;
  /** Class names by output channel; index 0 is background. */
  classes: string[];
  /** What inference needs (the section src-main/engine/io/inference_spec.ts reads and validates). */
  inference: {
    canonicalFrame: 'RAS' | 'LPS';
    /** Spacing the network runs at, per canonical voxel axis (i, j, k), mm. */
    targetSpacingMm: [number, number, number];
    /** Sliding-window / training patch, tensor order [D, H, W]. */
    patchSize: [number, number, number];
    /** Optional largest sliding window (see src-main/domain/segmentation-model.ts); absent: always patchSize. */
    maxPatchSize?: [number, number, number];
    /** CT preprocessing: clip to clipHu, then (x - mean) / std. */
    intensity: { clipHu: [number, number]; mean: number; std: number };
    /** Tensor axes the network was trained mirrored along, the only ones TTA mirrors; absent: the schema's. */
    mirrorAxes?: number[];
    /** Beyond the ends of a scan shorter than a window: the end slice or air (predict.ts); absent: air. */
    shortScanPad?: 'edge' | 'air';
  };
  training: TrainingRecord[];
  metrics: Record<string, number>;
  /** Where the weights came from (e.g. 'random init seed 0', 'trained by deformux train', 'synthetic'). */
  provenance: string;
  /**
   * True when the shared real CT of ../shared/data/real (or anything made from it) was in the training data:
   * its scores then no longer measure generalisation. Absent: not seen.
   */
  realDataSeen?: boolean;
  /**
   * How a starter was trained (jobs/train-starter.ts StarterSettings, kept through fine-tunes): a fine-tune replays
   * its phantom recipe (train/recipe.ts) and augments as it did (lesionShiftJitter). Absent: a model of
   * unknown recipe.
   */
  starterSettings?: Record<string, unknown>;
}

export function defaultMeta(config: ModelConfig, schema = 'custom', classes?: string[]): ModelMeta {
  return {
    format: 'deformux-model',
    version: MODEL_JSON_SCHEMA_VERSION,
    schema,
    classes: classes ?? ['background', ...Array.from({ length: config.out_channels - 1 }, (_, i) => `class${i + 1}`)],
    inference: {
      canonicalFrame: 'RAS',
      targetSpacingMm: [1.5, 1.5, 2],
      patchSize: [96, 96, 96],
      intensity: { clipHu: [-200, 300], mean: 50, std: 125 },
    },
    training: [],
    metrics: {},
    provenance: 'random initialisation',
  };
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(path, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new InputError(path, 'is not valid JSON');
  }
}

function checkMeta(raw: unknown, file: string, config: ModelConfig): ModelMeta {
  if (typeof raw !== 'object' || raw === null) throw new InputError(file, 'is not a JSON object');
  const m = raw as Partial<ModelMeta>;
  if (m.format !== 'deformux-model')
    throw new InputError(file, "is not a DeformUX model description (format must be 'deformux-model')");
  if (!Array.isArray(m.classes) || m.classes.length !== config.out_channels) {
    throw new InputError(
      file,
      `lists ${Array.isArray(m.classes) ? m.classes.length : 'no'} classes but the network has ${config.out_channels} outputs`,
    );
  }
  parseInferenceSpec(raw, file); // the same checks the prediction pipeline applies
  const base = defaultMeta(config);
  return { ...base, ...m, training: m.training ?? [], metrics: m.metrics ?? {} } as ModelMeta;
}

export interface LoadedModel {
  net: DeformUXNet;
  config: ModelConfig;
  meta: ModelMeta;
}

export async function readModelConfig(dir: string): Promise<ModelConfig> {
  const path = join(dir, 'config.json');
  return parseConfig(await readJson(path), path);
}

export async function loadModelFolder(dir: string): Promise<LoadedModel> {
  const config = await readModelConfig(dir);
  const metaPath = join(dir, 'model.json');
  const meta = checkMeta(await readJson(metaPath), metaPath, config);
  const weightsPath = join(dir, 'weights.safetensors');
  const net = DeformUXNet.fromTorch(config, await readSafetensors(weightsPath), weightsPath);
  return { net, config, meta };
}

/** Writes the three files, each atomically (weights first, so a new model.json never points at old weights). */
export async function saveModelFolder(dir: string, net: DeformUXNet, meta: ModelMeta): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await writeSafetensors(join(dir, 'weights.safetensors'), net.toTorch(), { format: 'pt' });
  await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(net.config, null, 2) + '\n');
  await writeFileAtomic(join(dir, 'model.json'), JSON.stringify(meta, null, 2) + '\n');
}
