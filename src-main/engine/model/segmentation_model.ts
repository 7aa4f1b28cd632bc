// Adapts a loaded model folder to the prediction pipeline's SegmentationModel (src-main/domain/segmentation-model.ts).
import { tf } from '../tf';
import { createOutputReuse } from '../kernels/output_pool';
import type { LoadedModel } from '../io/model_folder';
import type { SegmentationModel } from '../../domain/segmentation-model';
import { mirrorAxesForSchema } from '../../domain/label-schemas';

/** The network runs channels-last, so logits come back [D, H, W, classes] ('DHWC'), no transpose needed. */
export function segmentationModelOf(model: LoadedModel): SegmentationModel {
  const { net, meta, config } = model;
  const inf = meta.inference;
  const [pd, ph, pw] = inf.patchSize;
  // One pool for the windows of a pre-label: from the second run on, the network allocates (almost) nothing new.
  const reuse = createOutputReuse();
  /**
   * Logits of B patches [B, d, h, w, in] (channels-last), copied out right after the network's output tensor is
   * disposed, before its array can serve a later run. Not `return ...dataSync()` from tidy: tidy walks its result
   * looking for tensors, and walking a typed array of millions of logits element by element cost about 1 s per
   * 64³ patch (as much as the network itself). `input` becomes the input tensor's array: pass a buffer of your own.
   */
  const logits = (input: Float32Array, B: number, [d, h, w]: [number, number, number]): Float32Array => {
    let out: Float32Array | undefined;
    tf.tidy(() => {
      const x = tf.tensor5d(input, [B, d, h, w, config.in_channels]);
      out = reuse.run(() => net.forward(x)).dataSync() as Float32Array;
    });
    return Float32Array.from(out!);
  };
  return {
    classes: config.out_channels,
    classNames: [...meta.classes],
    patchSize: [pd, ph, pw],
    ...(inf.maxPatchSize ? { maxPatchSize: [...inf.maxPatchSize] as [number, number, number] } : {}),
    patchMultiple: 2 ** config.feature_sizes.length,
    targetSpacingMm: [...inf.targetSpacingMm],
    intensity: { clipHu: [...inf.intensity.clipHu], mean: inf.intensity.mean, std: inf.intensity.std },
    canonicalFrame: inf.canonicalFrame,
    // Models of this app train with their schema's flips (train/augment.ts); one that records its own keeps it.
    mirrorAxes: [...(inf.mirrorAxes ?? mirrorAxesForSchema(meta.schema))],
    ...(inf.shortScanPad ? { shortScanPad: inf.shortScanPad } : {}),
    logitsLayout: 'DHWC',
    predictPatch(patch: Float32Array, signal?: AbortSignal, shape?: [number, number, number]): Promise<Float32Array> {
      if (signal?.aborted) return Promise.reject(new DOMException('prediction cancelled', 'AbortError'));
      // A copy: the pipeline may reuse `patch` after we return.
      return Promise.resolve(logits(Float32Array.from(patch), 1, shape ?? [pd, ph, pw]));
    },
    releaseBuffers(): void {
      reuse.release();
    },
    // Three 64^3 windows per run (real CT, 27 windows on 2 cores: 16.0 s one at a time, 14.7 s in pairs, 13.8 s in
    // threes: the small layers and per-op overhead then keep both cores busy); 96^3 windows run alone (memory).
    batchFor(shape: [number, number, number]): number {
      return Math.max(1, Math.floor(BATCH_VOXELS / (shape[0] * shape[1] * shape[2])));
    },
    predictPatches(
      patches: Float32Array[],
      signal?: AbortSignal,
      shape?: [number, number, number],
    ): Promise<Float32Array[]> {
      const [d, h, w] = shape ?? [pd, ph, pw];
      if (signal?.aborted) return Promise.reject(new DOMException('prediction cancelled', 'AbortError'));
      const P = d * h * w * config.in_channels;
      const input = new Float32Array(patches.length * P);
      patches.forEach((p, i) => {
        if (p.length !== P) throw new Error(`patch ${i} has ${p.length} values, expected ${d}×${h}×${w}`);
        input.set(p, i * P);
      });
      const out = logits(input, patches.length, [d, h, w]);
      const per = out.length / patches.length;
      return Promise.resolve(patches.map((_, i) => out.subarray(i * per, (i + 1) * per)));
    },
  };
}

/** Voxels per batched network run at inference: three 64^3 windows (fewer than one 96^3 window, so a batch needs no more memory than the training-size forward; 1.3 GB peak RSS on the real CT). */
const BATCH_VOXELS = 3 * 64 ** 3;
