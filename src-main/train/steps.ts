// The one step loop of every training run (the starters' trainRun and the app's and CLI's fine-tune):
// draw a batch, take a step, report, checkpoint every N steps, yield between steps so a cancel gets in.
// What is drawn, reported and saved is the caller's; the loop is the same.
import type { Tensor4D, Tensor5D } from '@tensorflow/tfjs-core';
import { tf } from '../engine/tf';
import type { StepResult, Trainer } from './trainer';

export interface StepBatch {
  image: Tensor5D;
  labels: Tensor4D;
  /** Per-voxel loss weights (corrected voxels count more); absent: all 1. */
  weights?: Tensor4D;
}

export interface StepLoopOptions {
  trainer: Trainer;
  /** Train until the trainer's step count reaches this. */
  end: number;
  /** The next batch (the loop disposes it after the step). */
  sample: () => StepBatch;
  /** Called after each step with the seconds per step of this loop so far. */
  onStep: (r: StepResult, perStepS: number) => void;
  /** Checkpoint every this many steps (0: never inside the loop); not at `end` (the caller finishes there). */
  checkpointEvery: number;
  save: () => Promise<void>;
  signal?: AbortSignal;
}

/** Runs steps until `end` or an abort; `cancelled` says which (the caller saves what a cancel needs). */
export async function runSteps(o: StepLoopOptions): Promise<{ cancelled: boolean }> {
  const { trainer } = o;
  const startStep = trainer.step;
  const t0 = performance.now();
  while (trainer.step < o.end) {
    if (o.signal?.aborted) return { cancelled: true };
    const b = o.sample();
    let r: StepResult;
    try {
      r = trainer.trainStep(b.image, b.labels, b.weights);
    } finally {
      tf.dispose([b.image, b.labels, ...(b.weights ? [b.weights] : [])]);
    }
    o.onStep(r, (performance.now() - t0) / 1000 / Math.max(1, trainer.step - startStep));
    const saveNow = o.checkpointEvery > 0 && trainer.step % o.checkpointEvery === 0 && trainer.step < o.end;
    // A skipped batch (non-finite gradients) left the step count where the last save may have been.
    if (saveNow && !r.skipped) await o.save();
    // Let an abort (and other events) through between steps.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { cancelled: false };
}
