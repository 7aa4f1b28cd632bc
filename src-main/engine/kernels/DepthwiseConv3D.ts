// KernelConfig of the depthwise 3D convolution ("same", stride 1): inputs x, filter [k,k,k,C], optional bias.
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { activeCompute } from './compute';
import { makeF32, outputF32, readF32, sizeOf } from './io';
import { DepthwiseConv3D } from './names';
import { checkDepthwiseArgs } from './validate';

export function depthwiseConv3DConfig(backendName: string): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend }) => {
    const { x, filter, bias } = inputs;
    if (!x || !filter) throw new Error('depthwiseConv3d: needs inputs x and filter.');
    const s = checkDepthwiseArgs(x.shape, filter.shape, bias?.shape);
    const y = outputF32(sizeOf(x.shape));
    activeCompute().depthwiseForward(
      y,
      readF32(backend, x, 'x'),
      readF32(backend, filter, 'filter'),
      bias ? readF32(backend, bias, 'bias') : null,
      s,
    );
    return makeF32(backend, x.shape, y);
  };
  return { kernelName: DepthwiseConv3D, backendName, kernelFunc };
}
