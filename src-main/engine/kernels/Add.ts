// Native KernelConfig for tfjs's Add on the cpu backend, for the case the network produces by the hundred:
// two float32 tensors of the same shape (partial-conv sums of the decoder, and every gradient tfjs sums where a
// tensor feeds several ops). tfjs's own loop is single-threaded JS (~27 ms for 4 M values here); the native one
// is one multithreaded pass. Anything else (broadcasting, int32, small tensors) goes to tfjs's kernel unchanged.
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { tf } from '../tf';
import type { NativeAddon } from './addon';
import { makeF32, outputF32, readF32, sizeOf } from './io';

/** Below this many values the original kernel is as fast (no thread wake-up). */
export const NATIVE_ADD_MIN = 1 << 15;

export function addConfig(addon: NativeAddon, original: KernelConfig, backendName = 'cpu'): KernelConfig {
  const add = addon.fusedAdd!.bind(addon);
  const kernelFunc: KernelFunc = (args) => {
    const { a, b } = args.inputs;
    if (
      !a ||
      !b ||
      a.dtype !== 'float32' ||
      b.dtype !== 'float32' ||
      !tf.util.arraysEqual(a.shape, b.shape) ||
      sizeOf(a.shape) < NATIVE_ADD_MIN
    )
      return original.kernelFunc(args);
    const y = outputF32(sizeOf(a.shape));
    add(y, readF32(args.backend, a, 'a'), readF32(args.backend, b, 'b'));
    return makeF32(args.backend, a.shape, y);
  };
  return { kernelName: tf.Add, backendName, kernelFunc };
}
