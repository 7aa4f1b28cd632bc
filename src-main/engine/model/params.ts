// The parameter list of a DeformUX-Net (MODEL.md section 7): PyTorch names and shapes, the engine's
// channels-last layouts, the conversions between them, and the initialisation.
import type { ModelConfig } from './config';
import { Rng } from './rng';

/**
 * How a PyTorch tensor maps to the engine's layout.
 * conv:      [out, in, kd, kh, kw] -> [kd, kh, kw, in, out]   (tf.conv3d filter; 1x1x1 ones used as [in, out])
 * convT:     [in, out, kd, kh, kw] -> [kd, kh, kw, out, in]   (tf.conv3dTranspose filter)
 * depthwise: [C, 1, k, k, k]       -> [k, k, k, C]
 * grouped4:  [4C, 1, 1, 1, 1] or [C, 4, 1, 1, 1] -> [C, 4]   (same memory order, no permutation)
 * vector:    [C] -> [C]
 */
export type ParamKind = 'conv' | 'convT' | 'depthwise' | 'grouped4' | 'vector';

export type InitRule =
  | { kind: 'fanIn'; fanIn: number } // U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default conv init
  | { kind: 'const'; value: number };

export interface ParamSpec {
  /** PyTorch state-dict name. */
  name: string;
  torchShape: number[];
  kind: ParamKind;
  init: InitRule;
  /** Learning-rate multiplier (0.1 for the offset branches, MODEL.md section 2). */
  lrMult: number;
}

function convSpecs(
  out: ParamSpec[],
  prefix: string,
  cin: number,
  cout: number,
  k: number,
  bias: boolean,
  lrMult = 1,
  groups = 1,
): void {
  const fanIn = (cin / groups) * k * k * k;
  out.push({
    name: `${prefix}.weight`,
    torchShape: [cout, cin / groups, k, k, k],
    kind: 'conv',
    init: { kind: 'fanIn', fanIn },
    lrMult,
  });
  if (bias)
    out.push({ name: `${prefix}.bias`, torchShape: [cout], kind: 'vector', init: { kind: 'fanIn', fanIn }, lrMult });
}

function normSpecs(out: ParamSpec[], prefix: string, c: number): void {
  out.push({ name: `${prefix}.weight`, torchShape: [c], kind: 'vector', init: { kind: 'const', value: 1 }, lrMult: 1 });
  out.push({ name: `${prefix}.bias`, torchShape: [c], kind: 'vector', init: { kind: 'const', value: 0 }, lrMult: 1 });
}

function resBlockSpecs(out: ParamSpec[], prefix: string, cin: number, cout: number): void {
  convSpecs(out, `${prefix}.conv1.conv`, cin, cout, 3, false);
  convSpecs(out, `${prefix}.conv2.conv`, cout, cout, 3, false);
  if (cin !== cout) convSpecs(out, `${prefix}.conv3.conv`, cin, cout, 1, false);
}

function blockSpecs(out: ParamSpec[], prefix: string, c: number, cfg: ModelConfig): void {
  const k = cfg.kernel_size;
  const ko = cfg.offset_kernel_size;
  const offCh = cfg.deform_groups * k * k * k * 3;
  out.push({
    name: `${prefix}.ddc.weight`,
    torchShape: [c, 1, k, k, k],
    kind: 'depthwise',
    init: { kind: 'fanIn', fanIn: k ** 3 },
    lrMult: 1,
  });
  out.push({
    name: `${prefix}.ddc.bias`,
    torchShape: [c],
    kind: 'vector',
    init: { kind: 'fanIn', fanIn: k ** 3 },
    lrMult: 1,
  });
  convSpecs(out, `${prefix}.ddc.offset.pw1`, c, c, 1, true, 0.1);
  out.push({
    name: `${prefix}.ddc.offset.dw.weight`,
    torchShape: [c, 1, ko, ko, ko],
    kind: 'depthwise',
    init: { kind: 'fanIn', fanIn: ko ** 3 },
    lrMult: 0.1,
  });
  out.push({
    name: `${prefix}.ddc.offset.dw.bias`,
    torchShape: [c],
    kind: 'vector',
    init: { kind: 'fanIn', fanIn: ko ** 3 },
    lrMult: 0.1,
  });
  // Zero offset projection: a fresh block is a plain depthwise convolution (MODEL.md section 2).
  out.push({
    name: `${prefix}.ddc.offset.pw2.weight`,
    torchShape: [offCh, c, 1, 1, 1],
    kind: 'conv',
    init: { kind: 'const', value: 0 },
    lrMult: 0.1,
  });
  out.push({
    name: `${prefix}.ddc.offset.pw2.bias`,
    torchShape: [offCh],
    kind: 'vector',
    init: { kind: 'const', value: 0 },
    lrMult: 0.1,
  });
  normSpecs(out, `${prefix}.norm`, c);
  out.push({
    name: `${prefix}.pwconv1.weight`,
    torchShape: [4 * c, 1, 1, 1, 1],
    kind: 'grouped4',
    init: { kind: 'fanIn', fanIn: 1 },
    lrMult: 1,
  });
  out.push({
    name: `${prefix}.pwconv1.bias`,
    torchShape: [4 * c],
    kind: 'vector',
    init: { kind: 'fanIn', fanIn: 1 },
    lrMult: 1,
  });
  out.push({
    name: `${prefix}.pwconv2.weight`,
    torchShape: [c, 4, 1, 1, 1],
    kind: 'grouped4',
    init: { kind: 'fanIn', fanIn: 4 },
    lrMult: 1,
  });
  out.push({
    name: `${prefix}.pwconv2.bias`,
    torchShape: [c],
    kind: 'vector',
    init: { kind: 'fanIn', fanIn: 4 },
    lrMult: 1,
  });
  out.push({
    name: `${prefix}.gamma`,
    torchShape: [c],
    kind: 'vector',
    init: { kind: 'const', value: 1e-6 },
    lrMult: 1,
  });
}

/** Every parameter of the network, in a fixed order. */
export function paramSpecs(cfg: ModelConfig): ParamSpec[] {
  const d = cfg.feature_sizes;
  const out: ParamSpec[] = [];
  const enc = 'deformuxnet_3d';
  convSpecs(out, `${enc}.downsample_layers.0.0`, cfg.in_channels, d[0], 7, true);
  normSpecs(out, `${enc}.downsample_layers.0.1`, d[0]);
  for (let i = 1; i < 4; i++) {
    normSpecs(out, `${enc}.downsample_layers.${i}.0`, d[i - 1]);
    convSpecs(out, `${enc}.downsample_layers.${i}.1`, d[i - 1], d[i], 2, true);
  }
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < cfg.depths[i]; j++) blockSpecs(out, `${enc}.stages.${i}.${j}`, d[i], cfg);
  for (let i = 0; i < 4; i++) normSpecs(out, `${enc}.norm${i}`, d[i]);
  resBlockSpecs(out, 'encoder1.layer', cfg.in_channels, d[0]);
  resBlockSpecs(out, 'encoder2.layer', d[0], d[1]);
  resBlockSpecs(out, 'encoder3.layer', d[1], d[2]);
  resBlockSpecs(out, 'encoder4.layer', d[2], d[3]);
  resBlockSpecs(out, 'encoder5.layer', d[3], cfg.hidden_size);
  const ups: [string, number, number][] = [
    ['decoder5', cfg.hidden_size, d[3]],
    ['decoder4', d[3], d[2]],
    ['decoder3', d[2], d[1]],
    ['decoder2', d[1], d[0]],
  ];
  for (const [name, cin, cout] of ups) {
    // PyTorch's ConvTranspose3d computes fan-in from weight.size(1) = out channels.
    out.push({
      name: `${name}.transp_conv.conv.weight`,
      torchShape: [cin, cout, 2, 2, 2],
      kind: 'convT',
      init: { kind: 'fanIn', fanIn: cout * 8 },
      lrMult: 1,
    });
    resBlockSpecs(out, `${name}.conv_block`, 2 * cout, cout);
  }
  resBlockSpecs(out, 'decoder1.layer', d[0], d[0]);
  convSpecs(out, 'out.conv.conv', d[0], cfg.out_channels, 1, true);
  return out;
}

export function engineShape(spec: Pick<ParamSpec, 'torchShape' | 'kind'>): number[] {
  const s = spec.torchShape;
  switch (spec.kind) {
    case 'conv':
      return [s[2], s[3], s[4], s[1], s[0]];
    case 'convT':
      return [s[2], s[3], s[4], s[1], s[0]];
    case 'depthwise':
      return [s[2], s[3], s[4], s[0]];
    case 'grouped4':
      return s[1] === 1 ? [s[0] / 4, 4] : [s[0], s[1]];
    case 'vector':
      return [s[0]];
  }
}

/** Moves the 5-D tensor `src` of shape `shape` to axis order `perm` (out axis a = in axis perm[a]). */
export function permute5(src: Float32Array | Float64Array, shape: number[], perm: number[]): Float32Array {
  const outShape = perm.map((p) => shape[p]);
  const inStride = [0, 0, 0, 0, 0];
  let acc = 1;
  for (let a = 4; a >= 0; a--) {
    inStride[a] = acc;
    acc *= shape[a];
  }
  const st = perm.map((p) => inStride[p]);
  const out = new Float32Array(src.length);
  let o = 0;
  for (let a = 0; a < outShape[0]; a++)
    for (let b = 0; b < outShape[1]; b++)
      for (let c = 0; c < outShape[2]; c++)
        for (let d = 0; d < outShape[3]; d++) {
          const base = a * st[0] + b * st[1] + c * st[2] + d * st[3];
          for (let e = 0; e < outShape[4]; e++) out[o++] = src[base + e * st[4]];
        }
  return out;
}

// conv/convT: torch (0..4) -> engine (2, 3, 4, 1, 0); depthwise: (2, 3, 4, 0, 1) with the unit axis last.
const TO_ENGINE = [2, 3, 4, 1, 0];
const TO_ENGINE_DW = [2, 3, 4, 0, 1];

export function torchToEngine(
  spec: Pick<ParamSpec, 'torchShape' | 'kind'>,
  data: Float32Array | Float64Array,
): Float32Array {
  if (spec.kind === 'conv' || spec.kind === 'convT') return permute5(data, spec.torchShape, TO_ENGINE);
  if (spec.kind === 'depthwise') return permute5(data, spec.torchShape, TO_ENGINE_DW);
  return Float32Array.from(data);
}

function inversePerm(p: number[]): number[] {
  const inv = new Array<number>(p.length);
  p.forEach((v, i) => (inv[v] = i));
  return inv;
}

export function engineToTorch(
  spec: Pick<ParamSpec, 'torchShape' | 'kind'>,
  data: Float32Array | Float64Array,
): Float32Array {
  if (spec.kind === 'conv' || spec.kind === 'convT') {
    const s = spec.torchShape;
    return permute5(
      data,
      TO_ENGINE.map((p) => s[p]),
      inversePerm(TO_ENGINE),
    );
  }
  if (spec.kind === 'depthwise') {
    const s = spec.torchShape;
    return permute5(
      data,
      TO_ENGINE_DW.map((p) => s[p]),
      inversePerm(TO_ENGINE_DW),
    );
  }
  return Float32Array.from(data);
}

/** Initial values in the engine layout (MODEL.md: offset projection zero, gamma 1e-6, fan-in conv init). */
export function initialValue(spec: ParamSpec, rng: Rng): Float32Array {
  const n = spec.torchShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  if (spec.init.kind === 'const') {
    out.fill(spec.init.value);
    return out;
  }
  const bound = 1 / Math.sqrt(spec.init.fanIn);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(-bound, bound);
  return torchToEngine(spec, out);
}

export function countParams(cfg: ModelConfig): number {
  return paramSpecs(cfg).reduce((sum, s) => sum + s.torchShape.reduce((a, b) => a * b, 1), 0);
}
