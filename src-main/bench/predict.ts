// `deformux bench predict`: times the pre-segmentation stages (reorient/resample, normalise,
// sliding window, map back, post-process) on a NIfTI file, a DICOM folder or a phantom.
//
//   bench predict [--input FILE.nii.gz|DICOMDIR | --phantom kidney|pancreas] [--dims 512,512,300]
//                 [--spacing 0.8,0.8,2.5] [--model DIR | --starter kidney|pancreas]
//                 [--target 3,3,3] [--patch 96,96,96] [--max-patch d,h,w] [--overlap 0.5]
//                 [--tta] [--no-postprocess] [--no-crop] [--no-denoise] [--json]
//
// Without --model/--starter the network is a per-voxel HU threshold (kidney-like soft tissue,
// enhancing lesion), so the numbers are the pipeline's own cost. With a model folder it is the real
// end-to-end pre-label; `modelMs` is the time spent inside the network either way, reported apart. `engine` names
// the tfjs the engine loaded and the addon's huge-page heap reserve (null without a model).
import { readVolume } from '../imaging/read';
import type { Vec3, Volume } from '../imaging/volume';
import { generatePhantom } from '../phantom';
import { predictVolume } from '../predict/predict';
import type { SegmentationModel } from '../predict/types';
import { resolveModelDir } from '../jobs/model-source';

function starterSchema(v: string | undefined): 'kidney' | 'pancreas' {
  if (v !== 'kidney' && v !== 'pancreas') throw new BenchUsageError('--starter must be kidney or pancreas');
  return v;
}

class BenchUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function triple(flag: string, text: string | undefined): Vec3 {
  const parts = (text ?? '').split(/[,x×]/).map(Number);
  if (parts.length !== 3 || !parts.every((v) => Number.isFinite(v) && v > 0))
    throw new BenchUsageError(`${flag} needs three positive numbers like 1.5,1.5,2.5`);
  return parts as Vec3;
}

/** Threshold "network": logits [bg, organ, lesion, cyst] from the normalised intensity (window -200..300 HU). */
export function thresholdModel(
  patchSize: Vec3,
  targetSpacingMm: Vec3,
  timing: { ms: number; calls: number },
): SegmentationModel {
  const intensity = { clipHu: [-200, 300] as [number, number], mean: 50, std: 125 };
  const organLo = (20 - 50) / 125;
  const lesionLo = (150 - 50) / 125;
  const cystHi = (15 - 50) / 125;
  return {
    classes: 4,
    classNames: ['background', 'kidney', 'tumor', 'cyst'],
    patchSize: [patchSize[0], patchSize[1], patchSize[2]],
    targetSpacingMm: [targetSpacingMm[0], targetSpacingMm[1], targetSpacingMm[2]],
    intensity,
    canonicalFrame: 'RAS',
    async predictPatch(patch: Float32Array): Promise<Float32Array> {
      const t0 = performance.now();
      const P = patch.length;
      const out = new Float32Array(4 * P);
      for (let n = 0; n < P; n++) {
        const x = patch[n];
        out[n] = 0;
        out[P + n] = 4 * (x - organLo) * (lesionLo - x);
        out[2 * P + n] = 3 * (x - lesionLo);
        out[3 * P + n] = 2 * (cystHi - x) * (x + 1.2);
      }
      timing.ms += performance.now() - t0;
      timing.calls++;
      return out;
    },
  };
}

export async function run(argv: string[]): Promise<number> {
  const args = new Map<string, string | true>();
  for (let a = 0; a < argv.length; a++) {
    const k = argv[a];
    if (!k.startsWith('--')) throw new BenchUsageError(`unexpected argument '${k}'`);
    const next = argv[a + 1];
    if (next !== undefined && !next.startsWith('--')) {
      args.set(k, next);
      a++;
    } else args.set(k, true);
  }
  if (args.has('--help')) {
    console.log(
      'bench predict [--input FILE|DICOMDIR | --phantom kidney|pancreas] [--dims a,b,c] [--spacing a,b,c] [--model DIR | --starter kidney|pancreas] [--target a,b,c] [--patch d,h,w] [--max-patch d,h,w] [--overlap f] [--tta] [--no-postprocess] [--no-crop] [--no-denoise] [--json]',
    );
    return 0;
  }
  const str = (k: string) => (typeof args.get(k) === 'string' ? (args.get(k) as string) : undefined);
  let image: Volume;
  const t0 = performance.now();
  const input = str('--input');
  if (input) image = await readVolume(input);
  else {
    const schema = str('--phantom') ?? 'kidney';
    if (schema !== 'kidney' && schema !== 'pancreas') throw new BenchUsageError('--phantom must be kidney or pancreas');
    image = generatePhantom({
      seed: 1,
      schema,
      dims: args.has('--dims') ? triple('--dims', str('--dims')) : [256, 256, 128],
      spacingMm: args.has('--spacing') ? triple('--spacing', str('--spacing')) : undefined,
    }).image;
  }
  const loadMs = performance.now() - t0;
  const target = args.has('--target') ? triple('--target', str('--target')) : ([3, 3, 3] as Vec3);
  const patch = args.has('--patch') ? triple('--patch', str('--patch')) : ([96, 96, 96] as Vec3);
  const overlap = args.has('--overlap') ? Number(str('--overlap')) : 0.5;
  const timing = { ms: 0, calls: 0 };
  const modelArg = str('--model') ?? (str('--starter') ? resolveModelDir(starterSchema(str('--starter'))) : undefined);
  let model: SegmentationModel;
  let dispose = () => {};
  let modelLoadMs = 0;
  // Which tfjs the engine loaded and the addon's huge-page heap reserve: both move the timings below.
  let engineInfo: { tfjs: string; heapReservedMb: number | null } | null = null;
  if (modelArg) {
    const t1 = performance.now();
    const { initEngine, tfChoice } = await import('../engine/tf');
    const { loadModelFolder } = await import('../engine/io/model_folder');
    const { segmentationModelOf } = await import('../engine/model/segmentation_model');
    await initEngine();
    const { nativeAddon } = await import('../engine/kernels');
    engineInfo = { tfjs: tfChoice.moduleName, heapReservedMb: nativeAddon()?.heapReservedMb ?? null };
    const loaded = await loadModelFolder(modelArg);
    dispose = () => loaded.net.dispose();
    const inner = segmentationModelOf(loaded);
    if (args.has('--patch')) inner.patchSize = [patch[0], patch[1], patch[2]];
    if (args.has('--max-patch')) {
      const m = triple('--max-patch', str('--max-patch'));
      inner.maxPatchSize = [m[0], m[1], m[2]];
    }
    model = {
      ...inner,
      async predictPatch(p, signal, shape) {
        const t = performance.now();
        const out = await inner.predictPatch(p, signal, shape);
        timing.ms += performance.now() - t;
        timing.calls++;
        return out;
      },
      async predictPatches(ps, signal, shape) {
        const t = performance.now();
        const out = await inner.predictPatches!(ps, signal, shape);
        timing.ms += performance.now() - t;
        timing.calls += ps.length;
        return out;
      },
    };
    modelLoadMs = performance.now() - t1;
  } else {
    model = thresholdModel(patch, target, timing);
    if (args.has('--max-patch')) {
      const m = triple('--max-patch', str('--max-patch'));
      model.maxPatchSize = [m[0], m[1], m[2]];
    }
  }
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  let lastPct = -1;
  const cpu0 = process.cpuUsage();
  try {
    const res = await predictVolume(image, model, {
      overlap,
      tta: args.has('--tta'),
      postprocess: !args.has('--no-postprocess'),
      cropToBody: !args.has('--no-crop'),
      denoise: !args.has('--no-denoise'),
      onProgress: (f, msg) => {
        const pct = Math.floor(f * 100);
        if (!args.has('--json') && pct !== lastPct) process.stderr.write(`\r${pct}% ${msg}`.padEnd(60));
        lastPct = pct;
      },
    });
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const cpu = process.cpuUsage(cpu0);
    if (!args.has('--json')) process.stderr.write('\n');
    const s = res.stats;
    const round = (v: number) => Math.round(v * 10) / 10;
    const report = {
      bench: 'predict',
      input: input ?? `phantom ${str('--phantom') ?? 'kidney'}`,
      dims: image.dims,
      spacingMm: image.spacingMm,
      model: modelArg ?? 'threshold stand-in',
      engine: engineInfo,
      targetSpacingMm: model.targetSpacingMm,
      patchSize: model.patchSize,
      maxPatchSize: model.maxPatchSize ?? null,
      overlap,
      tta: args.has('--tta'),
      modelGridDims: s.modelGridDims,
      bodyBox: s.bodyBox ?? null,
      patches: s.patches,
      skippedPatches: s.skippedPatches,
      // Noise on the model grid (HU) and the smoothing passes it took (predict/denoise.ts).
      noiseHu: s.denoise ? round(s.denoise.noiseHu) : null,
      denoisePasses: s.denoise?.passes ?? 0,
      networkRuns: timing.calls,
      loadMs: round(loadMs),
      modelLoadMs: round(modelLoadMs),
      stageMs: Object.fromEntries(Object.entries(s.stageMs).map(([k, v]) => [k, round(v)])),
      modelMs: round(timing.ms),
      pipelineMs: round(s.stageMs.total - timing.ms),
      // CPU time of the whole call (this process): steadier than wall time on a shared machine.
      cpuMs: round((cpu.user + cpu.system) / 1000),
      peakRssMb: Math.round(peakRss / 2 ** 20),
      rssBeforeMb: Math.round(rssBefore / 2 ** 20),
      voxelsPerClass: s.voxelsPerClass,
    };
    console.log(args.has('--json') ? JSON.stringify(report) : JSON.stringify(report, null, 2));
    return 0;
  } finally {
    clearInterval(sampler);
    dispose();
  }
}

// Runnable on its own too: `npx tsx src-main/bench/predict.ts --json`.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  run(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(err instanceof Error && err.name === 'UsageError' ? 2 : 1);
    },
  );
}
