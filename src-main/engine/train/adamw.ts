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
      // One pass over plain arrays: tfjs would make ~10 full-size temporaries per parameter.
      const gv = g.dataSync() as Float32Array;
      const mv = m.dataSync() as Float32Array;
      const vv = v.dataSync() as Float32Array;
      const pv = p.variable.dataSync() as Float32Array;
      const m1 = new Float32Array(mv.length);
      const v1 = new Float32Array(vv.length);
      const p1 = new Float32Array(pv.length);
      const decay = p.decay && this.weightDecay > 0 ? 1 - lr * this.weightDecay : 1;
      const sqrtBc2 = Math.sqrt(bc2);
      for (let i = 0; i < gv.length; i++) {
        const gi = gv[i];
        m1[i] = this.beta1 * mv[i] + (1 - this.beta1) * gi;
        v1[i] = this.beta2 * vv[i] + (1 - this.beta2) * gi * gi;
        p1[i] = pv[i] * decay - ((lr / bc1) * m1[i]) / (Math.sqrt(v1[i]) / sqrtBc2 + this.eps);
      }
      tf.tidy(() => {
        m.assign(tf.tensor(m1, m.shape));
        v.assign(tf.tensor(v1, v.shape));
        p.variable.assign(tf.tensor(p1, p.variable.shape));
      });
    }
  }

  /** Moments as plain arrays (for checkpoints). */
  getState(): Map<string, MomentState> {
    const out = new Map<string, MomentState>();
    for (const p of this.params) {
      out.set(p.name, {
        m: this.m.get(p.name)!.dataSync() as Float32Array,
        v: this.v.get(p.name)!.dataSync() as Float32Array,
      });
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
  let sq = 0;
  for (const g of grads.values()) {
    const v = g.dataSync();
    for (let i = 0; i < v.length; i++) sq += v[i] * v[i];
  }
  const norm = Math.sqrt(sq);
  if (Number.isFinite(norm) && norm > maxNorm) {
    const scale = maxNorm / (norm + 1e-6);
    for (const [name, g] of grads) {
      grads.set(name, tf.mul(g, scale));
      g.dispose();
    }
  }
  return norm;
}
