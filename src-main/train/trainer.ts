// One training step of a DeformUX-Net (DiceCE, AdamW with offset-branch lr x0.1, global-norm clipping) and exact checkpoints.
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Tensor, Tensor4D, Tensor5D } from '@tensorflow/tfjs';
import { tf } from '../engine/tf';
import { createOutputReuse } from '../engine/kernels/output_pool';
import type { OutputReuse } from '../engine/kernels/output_pool';
import { InputError } from '../imaging/volume';
import { writeFileAtomic } from '../util/atomic';
import { parseSafetensors, readSafetensors, serializeSafetensors } from '../engine/io/safetensors';
import type { TensorMap } from '../engine/io/safetensors';
import type { DeformUXNet } from '../engine/model/network';
import { AdamW, clipScale, gradGlobalNorm } from './adamw';
import type { MomentState } from './adamw';
import { diceCeLoss } from './loss';

const CHECKPOINT_FORMAT = 'deformux-checkpoint';
type CheckpointPart = 'weights' | 'optimizer';

/** One tensor file of a checkpoint as state.json records it. */
interface CheckpointFile {
  name: string;
  bytes: number;
  sha256: string;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function writeCheckpointFile(dir: string, name: string, bytes: Uint8Array): Promise<CheckpointFile> {
  await writeFileAtomic(join(dir, name), bytes);
  return { name, bytes: bytes.length, sha256: sha256(bytes) };
}

async function readVerified(path: string, f: CheckpointFile, step: number): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (err) {
    throw new InputError(
      path,
      `is missing from the step-${step} checkpoint (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
  if (bytes.length !== f.bytes || sha256(bytes) !== f.sha256)
    throw new InputError(path, `does not match the step-${step} checkpoint's state.json (size or SHA-256 differs)`);
  return bytes;
}

/** Tensor files and temp files of earlier checkpoints in `dir` (after the commit nothing refers to them). */
async function removeStaleCheckpointFiles(dir: string, keep: Set<string>): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    if (keep.has(name)) continue;
    const stale =
      /^(weights|optimizer)(-\d+-[0-9a-f]+)?\.safetensors$/.test(name) ||
      /^\.(state\.json|weights-|optimizer-).*\.tmp$/.test(name);
    if (stale) await fs.rm(join(dir, name), { force: true });
  }
}

export interface TrainerOptions {
  lr: number;
  weightDecay?: number;
  /** Global L2 norm the gradients are clipped to (default 1). */
  clipNorm?: number;
  /** 'constant' or nnU-Net's poly decay lr * (1 - step/totalSteps)^0.9. */
  schedule?: 'constant' | 'poly';
  totalSteps?: number;
  /** Linear warm-up over the first this many steps (default 0): fresh Adam moments on a trained model make the first updates large. */
  warmupSteps?: number;
  ignoreLabel?: number;
  /** L2-SP toward the starting weights with this decoupled strength (AdamW anchorDecay); 0 or absent: off. */
  anchorDecay?: number;
  /**
   * Learning-rate multiplier of the encoder (stem, stages and downsampling) on top of each parameter's own: a
   * fine-tune on few cases adapts the decoder and keeps the features that generalised (default 1).
   */
  encoderLrMult?: number;
}

export interface StepResult {
  step: number;
  loss: number;
  gradNorm: number;
  lr: number;
  /** The gradients were not finite: no update was made and the step count did not move. */
  skipped?: true;
}

/**
 * Batches in a row whose gradients may overflow (a finite loss, a gradient norm that is not) before a run is called
 * diverged. One such batch is skipped, not applied: clipping cannot scale an infinite norm, and an update with it
 * turned every weight into NaN (a starter phase on 2026-12-07 died so at step ~230, in the next forward pass).
 */
export const MAX_SKIPPED_STEPS = 5;

export class Trainer {
  readonly net: DeformUXNet;
  readonly opts: Required<Omit<TrainerOptions, 'ignoreLabel' | 'anchorDecay' | 'encoderLrMult'>> & {
    ignoreLabel?: number;
  };
  readonly optimizer: AdamW;

  /** Batches skipped in a row for non-finite gradients (MAX_SKIPPED_STEPS). */
  private skippedInARow = 0;

  /** Output arrays of one step serve the next (output_pool.ts); released by dispose(). */
  private readonly reuse: OutputReuse = createOutputReuse();

  constructor(net: DeformUXNet, opts: TrainerOptions) {
    this.net = net;
    this.opts = {
      lr: opts.lr,
      weightDecay: opts.weightDecay ?? 0.01,
      clipNorm: opts.clipNorm ?? 1,
      schedule: opts.schedule ?? 'constant',
      totalSteps: opts.totalSteps ?? 0,
      warmupSteps: opts.warmupSteps ?? 0,
      ignoreLabel: opts.ignoreLabel,
    };
    const anchorDecay = opts.anchorDecay ?? 0;
    const anchor =
      anchorDecay > 0
        ? new Map(net.specs.map((s) => [s.name, (net.params.get(s.name)!.dataSync() as Float32Array).slice()]))
        : undefined;
    const encoderMult = opts.encoderLrMult ?? 1;
    this.optimizer = new AdamW(
      net.specs.map((s) => ({
        name: s.name,
        variable: net.params.get(s.name)!,
        lrMult: s.lrMult * (isEncoderParam(s.name) ? encoderMult : 1),
        decay: s.torchShape.length > 1,
      })),
      { lr: this.opts.lr, weightDecay: this.opts.weightDecay, anchor, anchorDecay },
    );
  }

  get step(): number {
    return this.optimizer.step;
  }

  lrAt(step: number): number {
    const warm = this.opts.warmupSteps > 0 ? Math.min(1, (step + 1) / this.opts.warmupSteps) : 1;
    if (this.opts.schedule === 'poly' && this.opts.totalSteps > 0) {
      return warm * this.opts.lr * Math.max(0, 1 - step / this.opts.totalSteps) ** 0.9;
    }
    return warm * this.opts.lr;
  }

  /** One update on a batch: image [N, D, H, W, in] channels-last, labels int32 [N, D, H, W]. */
  trainStep(image: Tensor5D, labels: Tensor4D, voxelWeights?: Tensor4D): StepResult {
    const lr = this.lrAt(this.optimizer.step);
    this.optimizer.lr = lr;
    const vars = [...this.net.params.values()];
    // Forward and backward reuse the arrays of disposed activations and gradients, this step's and the last
    // step's (output_pool.ts); nothing here keeps a disposed tensor's array.
    const { value, grads } = this.reuse.run(() =>
      tf.variableGrads(
        () => diceCeLoss(this.net.forward(image), labels, voxelWeights, { ignoreLabel: this.opts.ignoreLabel }),
        vars,
      ),
    );
    const loss = value.dataSync()[0];
    value.dispose();
    const byName = new Map<string, Tensor>();
    for (const [name, v] of this.net.params) byName.set(name, grads[v.name]);
    if (!Number.isFinite(loss)) {
      for (const g of byName.values()) g.dispose();
      throw new Error(`training diverged at step ${this.optimizer.step + 1}: the loss is ${loss}; lower --lr`);
    }
    // Clipping is folded into the update (no scaled copies of the gradients).
    const gradNorm = gradGlobalNorm(byName);
    if (!Number.isFinite(gradNorm)) {
      for (const g of byName.values()) g.dispose();
      if (++this.skippedInARow >= MAX_SKIPPED_STEPS) {
        throw new Error(
          `training diverged at step ${this.optimizer.step + 1}: the gradients were not finite on ${MAX_SKIPPED_STEPS} batches in a row; lower --lr`,
        );
      }
      return { step: this.optimizer.step, loss, gradNorm, lr, skipped: true };
    }
    this.skippedInARow = 0;
    this.optimizer.apply(byName, clipScale(gradNorm, this.opts.clipNorm));
    for (const g of byName.values()) g.dispose();
    return { step: this.optimizer.step, loss, gradNorm, lr };
  }

  /**
   * Weights (PyTorch layout), optimizer moments and `extra` (e.g. the sampler's RNG state) in `dir`,
   * as one atomic unit. The two tensor files get fresh names and are fsynced first; state.json, which
   * names them with their size and SHA-256 and the step, is then replaced atomically: that rename is
   * the commit. A crash at any moment leaves the previous complete checkpoint (its files are removed
   * only after the commit) or the new one, never weights of one step with moments of another.
   */
  async saveCheckpoint(dir: string, extra: Record<string, unknown> = {}): Promise<void> {
    await fs.mkdir(dir, { recursive: true });
    const step = this.optimizer.step;
    const tag = `${step}-${randomBytes(4).toString('hex')}`;
    const moments: TensorMap = new Map();
    for (const [name, s] of this.optimizer.getState()) {
      const shape = [...this.net.params.get(name)!.shape];
      moments.set(`m.${name}`, { shape, data: s.m });
      moments.set(`v.${name}`, { shape, data: s.v });
    }
    const files: Record<CheckpointPart, CheckpointFile> = {
      weights: await writeCheckpointFile(dir, `weights-${tag}.safetensors`, serializeSafetensors(this.net.toTorch())),
      optimizer: await writeCheckpointFile(dir, `optimizer-${tag}.safetensors`, serializeSafetensors(moments)),
    };
    const state = {
      format: CHECKPOINT_FORMAT,
      version: 2,
      step,
      files,
      options: this.opts,
      config: this.net.config,
      extra,
    };
    await writeFileAtomic(join(dir, 'state.json'), JSON.stringify(state, null, 2) + '\n');
    await removeStaleCheckpointFiles(dir, new Set(Object.values(files).map((f) => f.name)));
  }

  /**
   * Restores weights, moments and step from `dir`; returns the saved `extra`. A checkpoint whose
   * files do not match what state.json recorded (size, SHA-256) is refused, naming the file.
   */
  async loadCheckpoint(dir: string): Promise<Record<string, unknown>> {
    const statePath = join(dir, 'state.json');
    let state: {
      format?: string;
      version?: number;
      step?: number;
      files?: Partial<Record<CheckpointPart, CheckpointFile>>;
      extra?: Record<string, unknown>;
      config?: unknown;
    };
    try {
      state = JSON.parse(await fs.readFile(statePath, 'utf8')) as typeof state;
    } catch {
      throw new InputError(statePath, 'is missing or not valid JSON: not a complete checkpoint');
    }
    if (state.format !== CHECKPOINT_FORMAT || typeof state.step !== 'number')
      throw new InputError(statePath, 'is not a DeformUX checkpoint');
    if (JSON.stringify(state.config) !== JSON.stringify(this.net.config)) {
      throw new InputError(statePath, 'was saved for a different network configuration');
    }
    // Version 1 (before the manifest) named fixed files; they load as they are.
    const legacy = state.version === 1 && !state.files;
    const part = async (which: CheckpointPart): Promise<{ path: string; tensors: TensorMap }> => {
      if (legacy) {
        const path = join(dir, `${which}.safetensors`);
        return { path, tensors: await readSafetensors(path) };
      }
      const f = state.files?.[which];
      if (!f || typeof f.name !== 'string' || f.name.includes('/') || f.name.includes('\\'))
        throw new InputError(statePath, `does not name its ${which} file: not a complete checkpoint`);
      const path = join(dir, f.name);
      return { path, tensors: parseSafetensors(await readVerified(path, f, state.step!), path) };
    };
    const weights = await part('weights');
    const optimizer = await part('optimizer');
    this.net.assignFromTorch(weights.tensors, weights.path);
    const state2 = new Map<string, MomentState>();
    for (const name of this.net.params.keys()) {
      const m = optimizer.tensors.get(`m.${name}`);
      const v = optimizer.tensors.get(`v.${name}`);
      if (!m || !v) throw new InputError(optimizer.path, `has no moments for '${name}'`);
      state2.set(name, { m: Float32Array.from(m.data), v: Float32Array.from(v.data) });
    }
    this.optimizer.setState(state.step, state2);
    return state.extra ?? {};
  }

  dispose(): void {
    this.optimizer.dispose();
    this.reuse.release();
  }
}

/** The backbone (stem, deformable stages, downsampling and their norms), as against the skip and decoder blocks. */
export function isEncoderParam(name: string): boolean {
  return name.startsWith('deformuxnet_3d.');
}
