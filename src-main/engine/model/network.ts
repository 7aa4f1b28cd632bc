// The DeformUX-Net (MODEL.md sections 4-5): parameters as tfjs variables in channels-last layouts,
// loading from / saving to PyTorch-layout tensors by state-dict name, and the forward pass.
import type { Tensor, Tensor5D, Variable } from '@tensorflow/tfjs';
import { tf } from '../tf';
import { InputError } from '../../imaging/volume';
import type { NamedTensor, TensorMap } from '../io/safetensors';
import type { ModelConfig } from './config';
import { checkSpatial } from './config';
import { conv, deformBlock, layerNormC, resBlock, upBlock } from './layers';
import type { ParamLookup } from './layers';
import { engineShape, engineToTorch, initialValue, paramSpecs, torchToEngine } from './params';
import type { ParamSpec } from './params';
import { Rng } from './rng';

export class DeformUXNet {
  readonly config: ModelConfig;
  readonly specs: ParamSpec[];
  /** PyTorch name -> trainable variable in the engine layout. */
  readonly params = new Map<string, Variable>();

  private constructor(config: ModelConfig, values: Map<string, Float32Array>) {
    this.config = config;
    this.specs = paramSpecs(config);
    for (const spec of this.specs) {
      const v = values.get(spec.name)!;
      // Unnamed variables: tfjs names must be globally unique, and several models may coexist.
      const t = tf.tensor(v, engineShape(spec));
      this.params.set(spec.name, tf.variable(t, true));
      t.dispose(); // the variable holds its own reference to the data
    }
  }

  /** A freshly initialised network (MODEL.md initialisation), deterministic for a seed. */
  static create(config: ModelConfig, seed = 0): DeformUXNet {
    const rng = new Rng(seed);
    const values = new Map<string, Float32Array>();
    for (const spec of paramSpecs(config)) values.set(spec.name, initialValue(spec, rng));
    return new DeformUXNet(config, values);
  }

  /**
   * A network from PyTorch-named, PyTorch-layout tensors (a state dict). Every expected tensor must be
   * present with its exact shape and no others may be: `file` is named in the error.
   */
  static fromTorch(config: ModelConfig, tensors: TensorMap, file: string): DeformUXNet {
    const specs = paramSpecs(config);
    const expected = new Set(specs.map((s) => s.name));
    const extra = [...tensors.keys()].filter((k) => !expected.has(k));
    if (extra.length) {
      throw new InputError(file, `has ${extra.length} tensor(s) this config does not use, first '${extra[0]}'`);
    }
    const values = new Map<string, Float32Array>();
    for (const spec of specs) {
      const t = tensors.get(spec.name);
      if (!t)
        throw new InputError(file, `is missing the tensor '${spec.name}' (shape [${spec.torchShape.join(', ')}])`);
      if (t.shape.length !== spec.torchShape.length || t.shape.some((n, i) => n !== spec.torchShape[i])) {
        throw new InputError(
          file,
          `tensor '${spec.name}' has shape [${t.shape.join(', ')}]; this config needs [${spec.torchShape.join(', ')}]`,
        );
      }
      for (let i = 0; i < t.data.length; i++) {
        if (!Number.isFinite(t.data[i]))
          throw new InputError(file, `tensor '${spec.name}' holds a non-finite value at index ${i}`);
      }
      values.set(spec.name, torchToEngine(spec, t.data));
    }
    return new DeformUXNet(config, values);
  }

  /** The parameters as PyTorch-named, PyTorch-layout float32 tensors. */
  toTorch(): TensorMap {
    const out: TensorMap = new Map();
    for (const spec of this.specs) out.set(spec.name, this.torchTensorOf(spec, this.params.get(spec.name)!));
    return out;
  }

  /** Converts an engine-layout tensor of the parameter `spec` (a value or a gradient) to PyTorch layout. */
  torchTensorOf(spec: ParamSpec, t: Tensor): NamedTensor {
    return { shape: [...spec.torchShape], data: engineToTorch(spec, t.dataSync() as Float32Array) };
  }

  /** Replaces all parameter values (e.g. when resuming); same checks as fromTorch. */
  assignFromTorch(tensors: TensorMap, file: string): void {
    const fresh = DeformUXNet.fromTorch(this.config, tensors, file);
    for (const [name, v] of fresh.params) this.params.get(name)!.assign(v);
    fresh.dispose();
  }

  /**
   * Logits [N, D, H, W, classes] for input [N, D, H, W, in_channels]; sizes multiples of 16.
   * `timingsMs`, when given, collects wall time per layer (the cpu backend runs ops synchronously, so
   * wall time around a call is that layer's cost): the per-layer profile of `bench model --profile`.
   */
  forward(x: Tensor5D, timingsMs?: Map<string, number>): Tensor5D {
    const cfg = this.config;
    if (x.rank !== 5 || x.shape[4] !== cfg.in_channels) {
      throw new InputError(
        'input',
        `must be [N, D, H, W, ${cfg.in_channels}] channels-last, got [${x.shape.join(', ')}]`,
      );
    }
    checkSpatial(x.shape.slice(1, 4), 'input');
    const p: ParamLookup = (name) => {
      const v = this.params.get(name);
      if (!v) throw new Error(`internal: no parameter '${name}'`);
      return v;
    };
    const d = cfg.feature_sizes;
    const timed = <T>(name: string, f: () => T): T => {
      if (!timingsMs) return f();
      const t0 = performance.now();
      const out = f();
      timingsMs.set(name, (timingsMs.get(name) ?? 0) + performance.now() - t0);
      return out;
    };
    return tf.tidy(() => {
      const outs = this.encoder(x, p, timed);
      const enc1 = timed('encoder1', () => resBlock(x, p, 'encoder1.layer', cfg.in_channels, d[0]));
      const enc2 = timed('encoder2', () => resBlock(outs[0], p, 'encoder2.layer', d[0], d[1]));
      const enc3 = timed('encoder3', () => resBlock(outs[1], p, 'encoder3.layer', d[1], d[2]));
      const enc4 = timed('encoder4', () => resBlock(outs[2], p, 'encoder4.layer', d[2], d[3]));
      const hid = timed('encoder5', () => resBlock(outs[3], p, 'encoder5.layer', d[3], cfg.hidden_size));
      const u3 = timed('decoder5', () => upBlock(hid, enc4, p, 'decoder5', d[3]));
      const u2 = timed('decoder4', () => upBlock(u3, enc3, p, 'decoder4', d[2]));
      const u1 = timed('decoder3', () => upBlock(u2, enc2, p, 'decoder3', d[1]));
      const u0 = timed('decoder2', () => upBlock(u1, enc1, p, 'decoder2', d[0]));
      const top = timed('decoder1', () => resBlock(u0, p, 'decoder1.layer', d[0], d[0]));
      return timed('out', () => conv(top, p('out.conv.conv.weight'), p('out.conv.conv.bias'), 1, 0));
    });
  }

  /** Encoder outputs out_0..out_3 (MODEL.md section 4). */
  private encoder(x: Tensor5D, p: ParamLookup, timed: <T>(name: string, f: () => T) => T): Tensor5D[] {
    const cfg = this.config;
    const e = 'deformuxnet_3d';
    const outs: Tensor5D[] = [];
    let s = timed('stem', () =>
      layerNormC(
        conv(x, p(`${e}.downsample_layers.0.0.weight`), p(`${e}.downsample_layers.0.0.bias`), 2, 3),
        p,
        `${e}.downsample_layers.0.1`,
      ),
    );
    for (let i = 0; i < 4; i++) {
      if (i > 0) {
        const prev = s;
        s = timed(`downsample${i}`, () =>
          conv(
            layerNormC(prev, p, `${e}.downsample_layers.${i}.0`),
            p(`${e}.downsample_layers.${i}.1.weight`),
            p(`${e}.downsample_layers.${i}.1.bias`),
            2,
            0,
          ),
        );
      }
      for (let j = 0; j < cfg.depths[i]; j++) {
        const prev = s;
        s = timed(`stage${i}.blocks`, () => deformBlock(prev, p, `${e}.stages.${i}.${j}`, cfg));
      }
      const last = s;
      outs.push(timed(`stage${i}.norm`, () => layerNormC(last, p, `${e}.norm${i}`)));
    }
    return outs;
  }

  /** Logits NCDHW for input NCDHW (the PyTorch layout used by files and the CLI). */
  forwardNcdhw(x: Tensor5D): Tensor5D {
    return tf.tidy(() => tf.transpose(this.forward(tf.transpose(x, [0, 2, 3, 4, 1])), [0, 4, 1, 2, 3]));
  }

  paramCount(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}
