// `deformux bench model`: forward and training-step time and peak memory of a DeformUX-Net at a patch size, with an optional per-kernel profile.
//
//   bench model [--config lite|paper|FILE.json] [--patch 96 | D,H,W] [--repeats 3] [--profile] [--json]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Tensor4D, Tensor5D } from '@tensorflow/tfjs';
import { initEngine, tf } from '../engine/tf';
import { checkSpatial, parseConfig, presetConfig } from '../engine/model/config';
import type { ModelConfig } from '../engine/model/config';
import { DeformUXNet } from '../engine/model/network';
import { Rng } from '../engine/model/rng';
import { Trainer } from '../train/trainer';
import { withOutputReuse } from '../engine/kernels/output_pool';

class BenchUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Peak resident memory of this process so far, MB (getrusage's ru_maxrss). */
function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Gives the offset projections small random weights so the DDCs sample at fractional positions, as a trained model does. */
function perturbOffsets(net: DeformUXNet, rng: Rng): void {
  for (const [name, v] of net.params) {
    if (!name.endsWith('ddc.offset.pw2.weight')) continue;
    const vals = Float32Array.from({ length: v.size }, () => 0.02 * rng.normal());
    tf.tidy(() => v.assign(tf.tensor(vals, v.shape)));
  }
}

export interface ModelBenchResult {
  config: string;
  patch: [number, number, number];
  params: number;
  backend: string;
  native: boolean;
  forward_ms: number;
  train_step_ms: number;
  peak_rss_mb: number;
  repeats: number;
  /** Milliseconds per kernel name over one forward and one training step (with --profile). */
  profile_forward_ms?: Record<string, number>;
  profile_train_step_ms?: Record<string, number>;
  /** Milliseconds per network layer in one forward pass (with --profile). */
  layers_forward_ms?: Record<string, number>;
}

async function profileOf(f: () => void): Promise<Record<string, number>> {
  const info = await tf.profile(f);
  const byKernel = new Map<string, number>();
  for (const k of info.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + Number(k.kernelTimeMs));
  return Object.fromEntries([...byKernel].sort((a, b) => b[1] - a[1]).map(([n, ms]) => [n, Math.round(ms)]));
}

export async function run(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        patch: { type: 'string' },
        repeats: { type: 'string' },
        profile: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new BenchUsageError(
      `${(err as Error).message}; usage: bench model [--config lite|paper|FILE.json] [--patch 96] [--repeats 3] [--profile] [--json]`,
    );
  }
  if (values.help) {
    console.log(
      'Usage: deformux bench model [--config lite|paper|FILE.json] [--patch 96 | D,H,W] [--repeats 3] [--profile] [--json]\n  --profile adds per-layer forward times and per-kernel times (slow at 96^3: use --patch 64)',
    );
    return 0;
  }
  const configName = (values.config as string | undefined) ?? 'lite';
  const config: ModelConfig =
    configName === 'lite' || configName === 'paper'
      ? presetConfig(configName)
      : parseConfig(JSON.parse(readFileSync(configName, 'utf8')), configName);
  const p = String(values.patch ?? '96')
    .split(',')
    .map(Number);
  const patch = (p.length === 1 ? [p[0], p[0], p[0]] : p) as [number, number, number];
  checkSpatial(patch, '--patch');
  const repeats = Math.max(1, Number(values.repeats ?? 3) | 0);

  const engine = await initEngine();
  const rng = new Rng(0);
  const net = DeformUXNet.create(config, 0);
  perturbOffsets(net, rng);
  const vox = patch[0] * patch[1] * patch[2];
  const image = tf.tensor5d(
    Float32Array.from({ length: vox * config.in_channels }, () => rng.normal()),
    [1, ...patch, config.in_channels],
  ) as Tensor5D;
  const labels = tf.tensor4d(
    Int32Array.from({ length: vox }, () => rng.int(config.out_channels)),
    [1, ...patch],
    'int32',
  ) as Tensor4D;

  // As the app runs it (segmentation_model.ts): output arrays reused inside the forward.
  const forwardOnce = (): void => {
    tf.tidy(() => {
      withOutputReuse(() => net.forward(image)).dataSync();
    });
  };
  forwardOnce(); // warm-up: first calls allocate and pack weights
  const fwd: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    forwardOnce();
    fwd.push(performance.now() - t);
  }
  const trainer = new Trainer(net, { lr: 1e-4 });
  trainer.trainStep(image, labels);
  const step: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    trainer.trainStep(image, labels);
    step.push(performance.now() - t);
  }
  const result: ModelBenchResult = {
    config: configName,
    patch,
    params: net.paramCount(),
    backend: engine.backend,
    native: engine.native,
    forward_ms: Math.round(median(fwd)),
    train_step_ms: Math.round(median(step)),
    peak_rss_mb: Math.round(peakRssMb()),
    repeats,
  };
  if (values.profile) {
    const layers = new Map<string, number>();
    tf.tidy(() => {
      net.forward(image, layers).dataSync();
    });
    result.layers_forward_ms = Object.fromEntries([...layers].map(([n, ms]) => [n, Math.round(ms)]));
    result.profile_forward_ms = await profileOf(forwardOnce);
    result.profile_train_step_ms = await profileOf(() => void trainer.trainStep(image, labels));
  }
  trainer.dispose();
  net.dispose();
  tf.dispose([image, labels]);
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(
      `model ${configName} patch ${patch.join('x')} (${(result.params / 1e6).toFixed(2)} M params, backend ${result.backend}${result.native ? ' + native kernels' : ', NO native kernels'})`,
    );
    console.log(
      `  forward ${result.forward_ms} ms, training step ${result.train_step_ms} ms (median of ${repeats}), peak RSS ${result.peak_rss_mb} MB`,
    );
    if (result.layers_forward_ms) console.log(`  forward by layer (ms): ${JSON.stringify(result.layers_forward_ms)}`);
    if (result.profile_train_step_ms)
      console.log(`  training-step kernels (ms): ${JSON.stringify(result.profile_train_step_ms)}`);
  }
  return 0;
}
