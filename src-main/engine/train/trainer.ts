// One training step of a DeformUX-Net (DiceCE, AdamW with offset-branch lr x0.1, global-norm clipping) and exact checkpoints.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Tensor, Tensor4D, Tensor5D } from '@tensorflow/tfjs';
import { tf } from '../tf';
import { createOutputReuse } from '../kernels/output_pool';
import type { OutputReuse } from '../kernels/output_pool';
import { InputError } from '../../imaging/volume';
import { writeFileAtomic } from '../../util/atomic';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import type { TensorMap } from '../io/safetensors';
import type { DeformUXNet } from '../model/network';
import { AdamW, clipScale, gradGlobalNorm } from './adamw';
import type { MomentState } from './adamw';
import { diceCeLoss } from './loss';

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
}

export class Trainer {
  readonly net: DeformUXNet;
  readonly opts: Required<Omit<TrainerOptions, 'ignoreLabel' | 'anchorDecay' | 'encoderLrMult'>> & {
    ignoreLabel?: number;
  };
  readonly optimizer: AdamW;

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
    this.optimizer.apply(byName, clipScale(gradNorm, this.opts.clipNorm));
    for (const g of byName.values()) g.dispose();
    return { step: this.optimizer.step, loss, gradNorm, lr };
  }

  /** Weights (PyTorch layout), optimizer moments and `extra` (e.g. the sampler's RNG state) in `dir`. */
  async saveCheckpoint(dir: string, extra: Record<string, unknown> = {}): Promise<void> {
    await fs.mkdir(dir, { recursive: true });
    await writeSafetensors(join(dir, 'weights.safetensors'), this.net.toTorch());
    const moments: TensorMap = new Map();
    for (const [name, s] of this.optimizer.getState()) {
      const shape = [...this.net.params.get(name)!.shape];
      moments.set(`m.${name}`, { shape, data: s.m });
      moments.set(`v.${name}`, { shape, data: s.v });
    }
    await writeSafetensors(join(dir, 'optimizer.safetensors'), moments);
    // state.json last: its presence marks a complete checkpoint.
    const state = {
      format: 'deformux-checkpoint',
      version: 1,
      step: this.optimizer.step,
      options: this.opts,
      config: this.net.config,
      extra,
    };
    await writeFileAtomic(join(dir, 'state.json'), JSON.stringify(state, null, 2) + '\n');
  }

  /** Restores weights, moments and step from `dir`; returns the saved `extra`. */
  async loadCheckpoint(dir: string): Promise<Record<string, unknown>> {
    const statePath = join(dir, 'state.json');
    let state: { format?: string; step?: number; extra?: Record<string, unknown>; config?: unknown };
    try {
      state = JSON.parse(await fs.readFile(statePath, 'utf8')) as typeof state;
    } catch {
      throw new InputError(statePath, 'is missing or not valid JSON: not a complete checkpoint');
    }
    if (state.format !== 'deformux-checkpoint' || typeof state.step !== 'number')
      throw new InputError(statePath, 'is not a DeformUX checkpoint');
    if (JSON.stringify(state.config) !== JSON.stringify(this.net.config)) {
      throw new InputError(statePath, 'was saved for a different network configuration');
    }
    const weightsPath = join(dir, 'weights.safetensors');
    this.net.assignFromTorch(await readSafetensors(weightsPath), weightsPath);
    const optPath = join(dir, 'optimizer.safetensors');
    const moments = await readSafetensors(optPath);
    const state2 = new Map<string, MomentState>();
    for (const name of this.net.params.keys()) {
      const m = moments.get(`m.${name}`);
      const v = moments.get(`v.${name}`);
      if (!m || !v) throw new InputError(optPath, `has no moments for '${name}'`);
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
