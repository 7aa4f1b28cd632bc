// `deformux bench deform|conv3d`: native kernel timings (median after warm-up) as JSON, optionally against
import type { Tensor } from '@tensorflow/tfjs';
// the pure-JS reference (deform) or tfjs's own kernels (conv3d) in the same run; kernelSuite() is `bench all`.
import { parseArgs } from 'node:util';
import { initEngine, tf } from '../engine/tf';
import { nativeAddon, withOriginalConv3dKernels } from '../engine/kernels';
import type { NativeAddon } from '../engine/kernels/addon';
import { conv3dParams } from '../engine/kernels/conv3d_params';
import { deformDwConv3dBackwardRef, deformDwConv3dForwardRef } from '../engine/kernels/reference/deform_dwconv3d_ref';

class BenchUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function ints(text: string, n: number, what: string): number[] {
  const v = text.split(',').map((s) => Number(s.trim()));
  if (v.length !== n || v.some((x) => !Number.isInteger(x) || x < 1))
    throw new BenchUsageError(`${what} must be ${n} positive integers separated by commas, got '${text}'.`);
  return v;
}

function posInt(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isInteger(v) || v < 0)
    throw new BenchUsageError(`${what} must be a non-negative integer, got '${text}'.`);
  return v;
}

/** Median wall time (ms) of `runs` calls after `warmup` calls. */
function timeMs(fn: () => void, runs: number, warmup: number): number {
  for (let i = 0; i < warmup; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < Math.max(1, runs); i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

const round = (v: number, digits = 2) => Number(v.toFixed(digits));

function random(n: number, scale: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296 - 0.5) * 2 * scale;
  }
  return out;
}

async function addonOrFail(threads: number, isa: string | undefined): Promise<NativeAddon> {
  const info = await initEngine({ device: 'cpu' });
  const addon = nativeAddon();
  if (!addon) throw new Error(`the native addon is not loaded (${info.warnings.join(' ')})`);
  if (threads > 0) addon.setThreads(threads);
  if (isa) addon.setIsa(isa);
  return addon;
}

export interface DeformBenchOptions {
  shape: number[];
  k: number;
  groups: number;
  device: 'cpu' | 'cuda';
  runs: number;
  warmup: number;
  threads: number;
  isa?: string;
  offsetScale: number;
  baseline: boolean;
}

export interface DeformBenchResult {
  forward_ms: number;
  backward_ms: number;
  device: string;
  isa: string;
  threads: number;
  shape: number[];
  k: number;
  groups: number;
  js_reference_forward_ms?: number;
  js_reference_backward_ms?: number;
  speedup_vs_js?: number;
}

export async function benchDeform(o: DeformBenchOptions): Promise<DeformBenchResult> {
  const addon = await addonOrFail(o.threads, o.isa);
  const [N, D, H, W, C] = o.shape;
  if (C % o.groups !== 0) throw new BenchUsageError(`channels C=${C} must be divisible by --groups ${o.groups}.`);
  if (o.k % 2 === 0 || o.k > 7) throw new BenchUsageError(`--k must be odd and at most 7, got ${o.k}.`);
  const K = o.k ** 3;
  const nx = N * D * H * W * C;
  const x = random(nx, 1, 1),
    offset = random(N * D * H * W * o.groups * K * 3, o.offsetScale, 2);
  const weight = random(K * C, 0.2, 3),
    bias = random(C, 0.1, 4),
    dy = random(nx, 1, 5);
  const dims = [N, D, H, W, C, o.k, o.groups];
  const y = new Float32Array(nx),
    dx = new Float32Array(nx),
    doff = new Float32Array(offset.length);
  const dw = new Float32Array(K * C),
    db = new Float32Array(C);
  let device = 'cpu';
  let fwd = () => addon.deformForward(y, x, offset, weight, bias, dims);
  let bwd = () => addon.deformBackward(dx, doff, dw, db, dy, x, offset, weight, dims);
  if (o.device === 'cuda') {
    const why = addon.cudaInit();
    if (why) throw new Error(`--device cuda: ${why}`);
    device = `cuda: ${addon.cudaDeviceName()}`;
    fwd = () => addon.deformForwardCuda(y, x, offset, weight, bias, dims);
    bwd = () => addon.deformBackwardCuda(dx, doff, dw, db, dy, x, offset, weight, dims);
  }
  const result: DeformBenchResult = {
    forward_ms: round(timeMs(fwd, o.runs, o.warmup)),
    backward_ms: round(timeMs(bwd, o.runs, o.warmup)),
    device,
    isa: addon.isa,
    threads: addon.threads,
    shape: o.shape,
    k: o.k,
    groups: o.groups,
  };
  if (o.baseline) {
    // The pure-JS reference (the fallback when the addon cannot load): tfjs has no deformable conv.
    const s = { N, D, H, W, C, k: o.k, G: o.groups };
    result.js_reference_forward_ms = round(
      timeMs(() => deformDwConv3dForwardRef(y, x, offset, weight, bias, s), 1, 0),
      1,
    );
    result.js_reference_backward_ms = round(
      timeMs(() => deformDwConv3dBackwardRef(dx, doff, dw, db, dy, x, offset, weight, s), 1, 0),
      1,
    );
    result.speedup_vs_js = round(
      (result.js_reference_forward_ms + result.js_reference_backward_ms) / (result.forward_ms + result.backward_ms),
      1,
    );
  }
  return result;
}

export interface Conv3dBenchOptions {
  shape: number[];
  filter: number[];
  stride: number;
  pad: 'same' | 'valid';
  runs: number;
  warmup: number;
  threads: number;
  isa?: string;
  baseline: boolean;
}

export interface Conv3dBenchResult {
  forward_ms: number;
  backprop_input_ms: number;
  backprop_filter_ms: number;
  gflops: number;
  isa: string;
  threads: number;
  shape: number[];
  filter: number[];
  stride: number;
  pad: string;
  out_shape: number[];
  tfjs_forward_ms?: number;
  tfjs_backprop_input_ms?: number;
  tfjs_backprop_filter_ms?: number;
  tfjs_gflops?: number;
  speedup_vs_tfjs?: number;
}

export async function benchConv3d(o: Conv3dBenchOptions): Promise<Conv3dBenchResult> {
  const addon = await addonOrFail(o.threads, o.isa);
  const [kd, kh, kw, cout] = o.filter;
  const xShape = o.shape as [number, number, number, number, number];
  const fShape: [number, number, number, number, number] = [kd, kh, kw, xShape[4], cout];
  const ci = tf.backend_util.computeConv3DInfo(xShape, fShape, o.stride, 1, o.pad);
  const p = conv3dParams(ci);
  const nx = xShape.reduce((a, b) => a * b),
    ny = ci.outShape.reduce((a, b) => a * b),
    nf = fShape.reduce((a, b) => a * b);
  const x = random(nx, 1, 1),
    f = random(nf, 0.1, 2),
    dy = random(ny, 1, 3);
  const y = new Float32Array(ny),
    dx = new Float32Array(nx),
    df = new Float32Array(nf);
  const flop = 2 * ny * kd * kh * kw * xShape[4];
  const tf_ = timeMs(() => addon.conv3dForward(y, x, f, p), o.runs, o.warmup);
  const ti = timeMs(() => addon.conv3dBackpropInput(dx, dy, f, p), o.runs, o.warmup);
  const tw = timeMs(() => addon.conv3dBackpropFilter(df, x, dy, p), o.runs, o.warmup);
  const result: Conv3dBenchResult = {
    forward_ms: round(tf_),
    backprop_input_ms: round(ti),
    backprop_filter_ms: round(tw),
    gflops: round((3 * flop) / ((tf_ + ti + tw) * 1e6), 1),
    isa: addon.isa,
    threads: addon.threads,
    shape: o.shape,
    filter: o.filter,
    stride: o.stride,
    pad: o.pad,
    out_shape: ci.outShape,
  };
  if (o.baseline) {
    // tfjs's own cpu kernels, one run each (they are slow), through the same kernel interface.
    const strides: [number, number, number] = [o.stride, o.stride, o.stride];
    const xt = tf.tensor5d(x, xShape),
      ft = tf.tensor5d(f, fShape),
      dyt = tf.tensor(dy, ci.outShape);
    const run = (name: string, inputs: Record<string, Tensor>, attrs: Record<string, unknown>) =>
      timeMs(
        () =>
          tf.tidy(() => {
            // A block body: returning the values would make tidy walk them element by element.
            (tf.engine().runKernel(name, inputs, attrs as never) as Tensor).dataSync();
          }),
        1,
        0,
      );
    withOriginalConv3dKernels(tf, () => {
      result.tfjs_forward_ms = round(
        run('Conv3D', { x: xt, filter: ft }, { strides, pad: o.pad, dataFormat: 'NDHWC', dilations: 1 }),
        1,
      );
      result.tfjs_backprop_input_ms = round(
        run('Conv3DBackpropInputV2', { dy: dyt, filter: ft }, { strides, pad: o.pad, inputShape: xShape }),
        1,
      );
      result.tfjs_backprop_filter_ms = round(
        run('Conv3DBackpropFilterV2', { x: xt, dy: dyt }, { strides, pad: o.pad, filterShape: fShape }),
        1,
      );
    });
    const tfjsTotal = result.tfjs_forward_ms! + result.tfjs_backprop_input_ms! + result.tfjs_backprop_filter_ms!;
    result.tfjs_gflops = round((3 * flop) / (tfjsTotal * 1e6), 2);
    result.speedup_vs_tfjs = round(tfjsTotal / (tf_ + ti + tw), 1);
    tf.dispose([xt, ft, dyt]);
  }
  return result;
}

const DEFORM_HELP = `Usage: deformux bench deform [--shape N,D,H,W,C] [--k 3] [--groups G] [--device cpu|cuda]
                              [--runs 5] [--warmup 5] [--threads T] [--isa avx512|avx2|scalar]
                              [--offset-scale S] [--baseline] [--json]

Times the native DeformDwConv3D forward and backward (median of --runs after --warmup) on random data.
--baseline also times the pure-JS reference once. Defaults: --shape 1,48,48,48,16 --k 3 --groups 1.`;

const CONV_HELP = `Usage: deformux bench conv3d [--shape N,D,H,W,Cin] [--filter kd,kh,kw,Cout] [--stride s]
                              [--pad same|valid] [--runs 5] [--warmup 5] [--threads T] [--isa ...]
                              [--baseline] [--json]

Times the native conv3d forward, backprop-input and backprop-filter (median of --runs after --warmup);
gflops counts all three. --baseline also times tfjs's own cpu kernels once.
Defaults: --shape 1,48,48,48,16 --filter 3,3,3,16 --stride 1 --pad same.`;

function print(result: object, json: boolean): void {
  if (json) console.log(JSON.stringify(result));
  else
    for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(26)} ${Array.isArray(v) ? v.join(',') : v}`);
}

export async function runDeform(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      shape: { type: 'string' },
      k: { type: 'string' },
      groups: { type: 'string' },
      device: { type: 'string' },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      threads: { type: 'string' },
      isa: { type: 'string' },
      'offset-scale': { type: 'string' },
      baseline: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) {
    console.log(DEFORM_HELP);
    return 0;
  }
  if (v.device && v.device !== 'cpu' && v.device !== 'cuda')
    throw new BenchUsageError(`--device must be cpu or cuda, got '${v.device}'.`);
  const result = await benchDeform({
    shape: ints(v.shape ?? '1,48,48,48,16', 5, '--shape'),
    k: posInt(v.k, 3, '--k'),
    groups: Math.max(1, posInt(v.groups, 1, '--groups')),
    device: (v.device ?? 'cpu') as 'cpu' | 'cuda',
    runs: posInt(v.runs, 5, '--runs'),
    warmup: posInt(v.warmup, 5, '--warmup'),
    threads: posInt(v.threads, 0, '--threads'),
    isa: v.isa,
    offsetScale: v['offset-scale'] === undefined ? 1 : Number(v['offset-scale']),
    baseline: v.baseline ?? false,
  });
  print(result, v.json ?? false);
  return 0;
}

export async function runConv3d(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      shape: { type: 'string' },
      filter: { type: 'string' },
      stride: { type: 'string' },
      pad: { type: 'string' },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      threads: { type: 'string' },
      isa: { type: 'string' },
      baseline: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) {
    console.log(CONV_HELP);
    return 0;
  }
  if (v.pad && v.pad !== 'same' && v.pad !== 'valid')
    throw new BenchUsageError(`--pad must be same or valid, got '${v.pad}'.`);
  const result = await benchConv3d({
    shape: ints(v.shape ?? '1,48,48,48,16', 5, '--shape'),
    filter: ints(v.filter ?? '3,3,3,16', 4, '--filter'),
    stride: Math.max(1, posInt(v.stride, 1, '--stride')),
    pad: (v.pad ?? 'same') as 'same' | 'valid',
    runs: posInt(v.runs, 5, '--runs'),
    warmup: posInt(v.warmup, 5, '--warmup'),
    threads: posInt(v.threads, 0, '--threads'),
    isa: v.isa,
    baseline: v.baseline ?? false,
  });
  print(result, v.json ?? false);
  return 0;
}

/** The named kernel set of `bench all`, each against the JS reference or tfjs's own kernel in the same run. */
export async function kernelSuite(json: boolean): Promise<void> {
  const common = { runs: 5, warmup: 5, threads: 0 };
  const deform = await benchDeform({
    ...common,
    shape: [1, 48, 48, 48, 16],
    k: 3,
    groups: 1,
    device: 'cpu',
    offsetScale: 1,
    baseline: true,
  });
  print({ bench: 'deform 1,48,48,48,16 k=3 G=1', target: 'forward+backward <= 50 ms', ...deform }, json);
  const convs: [string, number[], number[], number, 'same' | 'valid', string][] = [
    ['conv3d 1,48,48,48,16 -> 16 k=3', [1, 48, 48, 48, 16], [3, 3, 3, 16], 1, 'same', '>= 200 GFLOP/s'],
    ['conv3d stem 1,96,96,96,1 -> 16 k=7 s=2', [1, 96, 96, 96, 1], [7, 7, 7, 16], 2, 'same', '>= 100 GFLOP/s'],
    ['conv3d downsample 1,48,48,48,16 -> 32 k=2 s=2', [1, 48, 48, 48, 16], [2, 2, 2, 32], 2, 'valid', '>= 100 GFLOP/s'],
    ['conv3d 1,24,24,24,32 -> 32 k=3', [1, 24, 24, 24, 32], [3, 3, 3, 32], 1, 'same', '>= 100 GFLOP/s'],
    ['conv3d 1x1 1,48,48,48,16 -> 8', [1, 48, 48, 48, 16], [1, 1, 1, 8], 1, 'same', '>= 100 GFLOP/s'],
  ];
  for (const [bench, shape, filter, stride, pad, target] of convs) {
    const r = await benchConv3d({ ...common, shape, filter, stride, pad, baseline: true });
    print({ bench, target, ...r }, json);
  }
}
