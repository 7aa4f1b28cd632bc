// Engine worker thread: loads a model folder once, then pre-labels volumes sent by the job manager, off
// the main thread; also runs fine-tunes (finetune-worker.ts).
import { parentPort } from 'node:worker_threads';
import { InputError } from '../imaging/volume';
import { initEngine } from '../engine/tf';
import { releaseFreeMemory } from '../engine/kernels';
import { segmentationModelOf } from '../engine/model/segmentation_model';
import type { LoadedModel } from '../engine/io/model_folder';
import { predictVolume } from '../predict/predict';
import type { SegmentationModel } from '../predict/types';
import { loadModelForSchema, modelIdOf } from './load-model';
import type { SchemaName } from '../domain/label-schemas';
import type { FromWorker, ToWorker } from './protocol';
import { runFinetuneMessage } from './finetune-worker';
import { isAbortError } from '../util/abort';
import { readVolume } from '../imaging/read';
import { throwIfAborted } from '../predict/progress';

const port = parentPort;
if (!port) throw new Error('predict-worker must run in a worker thread');

let loaded: LoadedModel | null = null;
let model: SegmentationModel | null = null;
let schema: SchemaName | undefined;
const running = new Map<number, AbortController>();

function send(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

async function onMessage(msg: ToWorker): Promise<void> {
  if (msg.type === 'load') {
    try {
      await initEngine();
      loaded?.net.dispose();
      loaded = await loadModelForSchema(msg.modelDir, msg.schema);
      model = segmentationModelOf(loaded);
      schema = msg.schema;
      const steps = loaded.meta.training.reduce((s, t) => s + t.steps, 0);
      send({
        type: 'loaded',
        id: msg.id,
        model: {
          modelId: modelIdOf(msg.modelDir, loaded),
          modelVersion: `${msg.modelDir} (${steps} training steps; ${loaded.meta.provenance})`,
          classes: [...loaded.meta.classes],
          patchSize: [...loaded.meta.inference.patchSize],
          targetSpacingMm: [...loaded.meta.inference.targetSpacingMm],
        },
      });
    } catch (err) {
      send({ type: 'error', id: msg.id, message: (err as Error).message, input: err instanceof InputError });
    }
    return;
  }
  if (msg.type === 'cancel') {
    running.get(msg.id)?.abort();
    return;
  }
  if (msg.type === 'finetune') {
    await runFinetuneMessage(msg, (m) => send(m), running);
    return;
  }
  const { id } = msg;
  if (!model) {
    send({ type: 'error', id, message: 'no model loaded', input: false });
    return;
  }
  const abort = new AbortController();
  running.set(id, abort);
  const t0 = performance.now();
  let lastSent = 0;
  try {
    const image = await readVolume(msg.imagePath);
    throwIfAborted(abort.signal);
    const res = await predictVolume(image, model, {
      tta: msg.tta,
      schema,
      uncertaintyFormat: 'uint8',
      signal: abort.signal,
      onProgress: (fraction, message) => {
        // At most ~10 messages a second: the main thread forwards each one to the renderer.
        const now = performance.now();
        if (now - lastSent < 100 && fraction < 1) return;
        lastSent = now;
        send({ type: 'progress', id, fraction, message });
      },
    });
    const label = res.label.data as Uint8Array;
    const unc = (res.uncertainty?.data as Uint8Array | undefined) ?? null;
    send(
      {
        type: 'result',
        id,
        label,
        uncertainty: unc,
        voxelsPerClass: res.stats.voxelsPerClass,
        dims: [...image.dims],
        settings: res.stats.settings,
        seconds: (performance.now() - t0) / 1000,
      },
      [label.buffer as ArrayBuffer, ...(unc ? [unc.buffer as ArrayBuffer] : [])],
    );
  } catch (err) {
    if (abort.signal.aborted || isAbortError(err)) send({ type: 'cancelled', id });
    else send({ type: 'error', id, message: (err as Error).message, input: err instanceof InputError });
  } finally {
    running.delete(id);
    releaseFreeMemory();
  }
}

port.on('message', (msg: ToWorker) => {
  void onMessage(msg);
});
