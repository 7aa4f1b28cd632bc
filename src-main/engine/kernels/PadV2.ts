// KernelConfig for tfjs's PadV2 (constant padding) on the cpu backend: the stem's symmetric zero padding of a
// full-size input (96^3: 117 ms in tfjs's kernel, which converts every index) becomes a fill plus one
// TypedArray.set per contiguous run. Other dtypes go to tfjs's own kernel.
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { tf } from '../tf';
import { makeF32, readF32, sizeOf } from './io';

/**
 * Constant padding of a row-major array: out has shape in + before + after on every axis. Trailing axes without
 * padding are merged into one block, so each copy is a run of (last padded axis) x block values.
 */
export function padConstant(
  src: Float32Array,
  inShape: readonly number[],
  paddings: readonly (readonly [number, number])[],
  value: number,
): { out: Float32Array; shape: number[] } {
  const rank = inShape.length;
  const shape = inShape.map((s, i) => s + paddings[i][0] + paddings[i][1]);
  const out = new Float32Array(sizeOf(shape));
  if (value !== 0) out.fill(value);
  if (src.length === 0) return { out, shape };
  // last = the innermost axis with padding; block = product of the unpadded axes after it.
  let last = rank - 1;
  let block = 1;
  while (last >= 0 && paddings[last][0] === 0 && paddings[last][1] === 0) block *= inShape[last--];
  if (last < 0) {
    out.set(src);
    return { out, shape };
  }
  const run = inShape[last] * block;
  const outStride = new Array<number>(rank).fill(0);
  let s = block;
  for (let i = last; i >= 0; i--) {
    outStride[i] = s;
    s *= shape[i];
  }
  // Iterate over every index of the axes before `last` (an odometer), copying one run each.
  const idx = new Array<number>(last).fill(0);
  const runs = src.length / run;
  let base = 0;
  for (let i = 0; i <= last; i++) base += paddings[i][0] * outStride[i];
  for (let r = 0; r < runs; r++) {
    let o = base;
    for (let i = 0; i < last; i++) o += idx[i] * outStride[i];
    out.set(src.subarray(r * run, (r + 1) * run), o);
    for (let i = last - 1; i >= 0; i--) {
      if (++idx[i] < inShape[i]) break;
      idx[i] = 0;
    }
  }
  return { out, shape };
}

export function padV2Config(original: KernelConfig, backendName = 'cpu'): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { x } = args.inputs;
    const { paddings, constantValue } = args.attrs as unknown as {
      paddings: [number, number][];
      constantValue: number;
    };
    if (!x || x.dtype !== 'float32') return original.kernelFunc(args);
    const { out, shape } = padConstant(readF32(args.backend, x, 'x'), x.shape, paddings, constantValue ?? 0);
    return makeF32(args.backend, shape, out);
  };
  return { kernelName: tf.PadV2, backendName, kernelFunc };
}
