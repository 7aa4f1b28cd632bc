// A training run from scratch or a start (the starters): data -> patches -> steps (steps.ts, the loop the
// fine-tune shares) with progress, cancel, checkpoints, final model folder.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { saveModelFolder } from '../engine/io/model_folder';
import type { ModelMeta } from '../engine/io/model_folder';
import type { DeformUXNet } from '../engine/model/network';
import { Rng } from '../engine/model/rng';
import { findPairs, loadCase } from './data';
import { EDGE_PAD_IGNORE, sampleAugmentedBatch, sampleBatch, type TrainCase } from './sampler';
import { defaultAugmentSettings } from './augment';
import type { AugmentSettings } from './augment';
import { Trainer } from './trainer';
import { runSteps } from './steps';

export interface TrainRunOptions {
  dataDir: string;
  outDir: string;
  net: DeformUXNet;
  meta: ModelMeta;
  /** Name of the base model folder or preset (recorded in model.json). */
  base: string;
  steps: number;
  batch: number;
  patch: [number, number, number];
  lr: number;
  seed: number;
  foregroundProb?: number;
  /** Foreground centres drawn class-balanced (sampler.ts foregroundByClass); default off. */
  classBalanced?: boolean;
  ignoreLabel?: number;
  /**
   * Patches past a case's ends along D (and past a drawn short field of view) read its end planes, as the sliding
   * window pads a short scan with shortScanPad 'edge'; those voxels count for nothing in the loss. Default: air.
   */
  edgePad?: boolean;
  /** Patch augmentation: true = the defaults for meta.schema (flips only where the schema allows); default off. */
  augment?: boolean | AugmentSettings;
  /**
   * Stop after this many steps of the `steps`-step schedule (default: all of it). The learning rate
   * still follows the whole schedule, so a run stopped at N equals the first N steps of the full run.
   */
  stopAt?: number;
  /** Save a checkpoint every this many steps (0: only at the end or when cancelled). */
  checkpointEvery?: number;
  /** Continue from outDir/checkpoint when it exists. */
  resume?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
}

export interface TrainProgress {
  step: number;
  steps: number;
  loss: number;
  lr: number;
  gradNorm: number;
  /** Seconds left at the pace of this run so far. */
  etaS: number;
  elapsedS: number;
}

export interface TrainRunResult {
  steps: number;
  finalLoss: number;
  cancelled: boolean;
  losses: number[];
}

export async function trainRun(o: TrainRunOptions): Promise<TrainRunResult> {
  const numClasses = o.net.config.out_channels;
  const pairs = await findPairs(o.dataDir);
  const cases: TrainCase[] = [];
  for (const p of pairs) cases.push(await loadCase(p, o.meta.inference.intensity, numClasses, o.ignoreLabel));
  // With edgePad, voxels read past a case's end carry the ignore label (the given one, else EDGE_PAD_IGNORE).
  const ignoreLabel = o.ignoreLabel ?? (o.edgePad ? EDGE_PAD_IGNORE : undefined);
  const edgeIgnore = o.edgePad ? ignoreLabel : undefined;
  const trainer = new Trainer(o.net, { lr: o.lr, schedule: 'poly', totalSteps: o.steps, ignoreLabel });
  const end = Math.min(o.steps, o.stopAt ?? o.steps);
  const rng = new Rng(o.seed);
  const ckptDir = join(o.outDir, 'checkpoint');
  if (o.resume && existsSync(join(ckptDir, 'state.json'))) {
    const extra = await trainer.loadCheckpoint(ckptDir);
    if (typeof extra.rngState === 'number') rng.state = extra.rngState;
  }
  const augment =
    o.augment === true ? defaultAugmentSettings(o.meta.schema) : o.augment === false ? undefined : o.augment;
  const losses: number[] = [];
  const t0 = performance.now();
  try {
    const { cancelled } = await runSteps({
      trainer,
      end,
      sample: () =>
        augment || edgeIgnore !== undefined
          ? sampleAugmentedBatch(cases, o.batch, o.patch, rng, {
              foregroundProb: o.foregroundProb ?? 0.33,
              classBalanced: o.classBalanced,
              augment,
              edgePadIgnore: edgeIgnore,
            })
          : sampleBatch(cases, o.batch, o.patch, rng, o.foregroundProb ?? 0.33, o.classBalanced ?? false),
      onStep: (r, perStepS) => {
        losses.push(r.loss);
        o.onProgress?.({
          step: r.step,
          steps: o.steps,
          loss: r.loss,
          lr: r.lr,
          gradNorm: r.gradNorm,
          elapsedS: (performance.now() - t0) / 1000,
          etaS: perStepS * (end - r.step),
        });
      },
      checkpointEvery: o.checkpointEvery ?? 0,
      save: () => trainer.saveCheckpoint(ckptDir, { rngState: rng.state }),
      signal: o.signal,
    });
    if (cancelled) {
      await trainer.saveCheckpoint(ckptDir, { rngState: rng.state });
    } else {
      const finalLoss = losses.length ? losses[losses.length - 1] : NaN;
      const meta: ModelMeta = {
        ...o.meta,
        inference: { ...o.meta.inference, patchSize: o.patch },
        provenance: `trained by deformux train from ${o.base} on ${o.dataDir}`,
        training: [
          ...o.meta.training,
          {
            at: new Date().toISOString(),
            steps: trainer.step,
            patchSize: o.patch,
            batch: o.batch,
            lr: o.lr,
            finalLoss,
            data: o.dataDir,
            base: o.base,
            seed: o.seed,
          },
        ],
      };
      await saveModelFolder(o.outDir, o.net, meta);
    }
    return { steps: trainer.step, finalLoss: losses.length ? losses[losses.length - 1] : NaN, cancelled, losses };
  } finally {
    trainer.dispose();
  }
}
