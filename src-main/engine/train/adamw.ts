// AdamW (decoupled weight decay, Loshchilov & Hutter) with per-parameter learning-rate multipliers, and global-norm gradient clipping.
import type { Tensor, Variable } from '@tensorflow/tfjs';
import { tf } from '../tf';

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export interface AdamWParam {
  name: string;
  variable: Variable;
  /** Multiplies the learning rate (0.1 for offset branches). */
  lrMult: number;
  /** Whether weight decay applies (conv weights yes; norms, biases and gamma no). */
  decay: boolean;
}

/** State of one parameter: first and second moments, same layout as the variable. */
export interface MomentState {
  m: Float32Array;
  v: Float32Array;
}

export class AdamW {
  readonly params: AdamWParam[];
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Number of updates applied so far (bias correction uses step + 1 for the next update). */
  step = 0;
  private readonly m = new Map<string, Variable>();
  private readonly v = new Map<string, Variable>();

  constructor(params: AdamWParam[], opts: AdamWOptions) {
    this.params = params;
    this.lr = opts.lr;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.01;
    for (const p of params) {
      this.m.set(p.name, tf.variable(tf.zerosLike(p.variable), false));
      this.v.set(p.name, tf.variable(tf.zerosLike(p.variable), false));
    }
  }

  /** One update, PyTorch's AdamW order: p *= 1 - lr*wd; p -= lr * m_hat / (sqrt(v_hat) + eps). */
  apply(grads: Map<string, Tensor>): void {
    this.step += 1;
    const t = this.step;
    const bc1 = 1 - this.beta1 ** t;
    const bc2 = 1 - this.beta2 ** t;
    for (const p of this.params) {
      const g = grads.get(p.name);
      if (!g) continue;
      const lr = this.lr * p.lrMult;
      const m = this.m.get(p.name)!;
      const v = this.v.get(p.name)!;
      tf.tidy(() => {
        const m1 = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v1 = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        m.assign(m1);
        v.assign(v1);
        const denom = tf.add(tf.div(tf.sqrt(v1), Math.sqrt(bc2)), this.eps);
        const stepT = tf.mul(tf.div(m1, denom), lr / bc1);
        const decayed = p.decay && this.weightDecay > 0 ? tf.mul(p.variable, 1 - lr * this.weightDecay) : p.variable;
        p.variable.assign(tf.sub(decayed, stepT));
      });
    }
  }

  /** Moments as plain arrays (for checkpoints). */
  getState(): Map<string, MomentState> {
    const out = new Map<string, MomentState>();
    for (const p of this.params) {
      out.set(p.name, { m: this.m.get(p.name)!.dataSync() as Float32Array, v: this.v.get(p.name)!.dataSync() as Float32Array });
    }
    return out;
  }

  setState(step: number, state: Map<string, MomentState>): void {
    this.step = step;
    for (const p of this.params) {
      const s = state.get(p.name);
      if (!s) throw new Error(`optimizer state has no moments for '${p.name}'`);
      tf.tidy(() => {
        this.m.get(p.name)!.assign(tf.tensor(s.m, p.variable.shape));
        this.v.get(p.name)!.assign(tf.tensor(s.v, p.variable.shape));
      });
    }
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
  }
}

/** Scales all gradients so their global L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradsByGlobalNorm(grads: Map<string, Tensor>, maxNorm: number): number {
  const sq = tf.tidy(() => tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g)))));
  const norm = Math.sqrt(sq.dataSync()[0]);
  sq.dispose();
  if (Number.isFinite(norm) && norm > maxNorm) {
    const scale = maxNorm / (norm + 1e-6);
    for (const [name, g] of grads) {
      grads.set(name, tf.mul(g, scale));
      g.dispose();
    }
  }
  return norm;
}
