// Adapts a loaded model folder to the prediction pipeline's SegmentationModel (src-main/predict/types.ts).
import { tf } from '../tf';
import type { LoadedModel } from '../io/model_folder';
import type { SegmentationModel } from '../../predict/types';

/** The network runs channels-last, so logits come back [D, H, W, classes] ('DHWC'), no transpose needed. */
export function segmentationModelOf(model: LoadedModel): SegmentationModel {
  const { net, meta, config } = model;
  const inf = meta.inference;
  const [pd, ph, pw] = inf.patchSize;
  return {
    classes: config.out_channels,
    classNames: [...meta.classes],
    patchSize: [pd, ph, pw],
    ...(inf.maxPatchSize ? { maxPatchSize: [...inf.maxPatchSize] as [number, number, number] } : {}),
    patchMultiple: 2 ** config.feature_sizes.length,
    targetSpacingMm: [...inf.targetSpacingMm],
    intensity: { clipHu: [...inf.intensity.clipHu], mean: inf.intensity.mean, std: inf.intensity.std },
    canonicalFrame: inf.canonicalFrame,
    logitsLayout: 'DHWC',
    predictPatch(patch: Float32Array, signal?: AbortSignal, shape?: [number, number, number]): Promise<Float32Array> {
      const [d, h, w] = shape ?? [pd, ph, pw];
      if (signal?.aborted) return Promise.reject(new DOMException('prediction cancelled', 'AbortError'));
      // Copy: the pipeline may reuse `patch` after we return.
      // Not `return ...dataSync()` from tidy: tidy walks its result looking for tensors, and walking a
      // typed array of millions of logits element by element cost about 1 s per 64³ patch (as much as
      // the network itself).
      let out: Float32Array | undefined;
      tf.tidy(() => {
        const x = tf.tensor5d(Float32Array.from(patch), [1, d, h, w, config.in_channels]);
        out = net.forward(x).dataSync() as Float32Array;
      });
      return Promise.resolve(Float32Array.from(out!));
    },
  };
}
