// KernelConfig of DepthwiseConv3DGrad, the depthwise 3D convolution's backward kernel: inputs dy, x, filter;
// outputs [dx, dfilter, dbias]. Autodiff runs it through the GradConfig in gradients/DepthwiseConv3D_grad.ts.
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { activeCompute } from './compute';
import { makeF32, outputF32, readF32, sizeOf } from './io';
import { DepthwiseConv3DGrad } from './names';
import { checkDepthwiseArgs } from './validate';

export function depthwiseConv3DGradKernelConfig(backendName: string): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend }) => {
    const { dy, x, filter } = inputs;
    if (!dy || !x || !filter) throw new Error('depthwiseConv3d backward: needs inputs dy, x and filter.');
    const s = checkDepthwiseArgs(x.shape, filter.shape, undefined);
    if (dy.shape.join(',') !== x.shape.join(','))
      throw new Error(`depthwiseConv3d backward: dy must have the shape of x [${x.shape}], got [${dy.shape}].`);
    const dx = outputF32(sizeOf(x.shape));
    const dfilter = new Float32Array(sizeOf(filter.shape));
    const dbias = new Float32Array(s.C);
    activeCompute().depthwiseBackward(
      dx,
      dfilter,
      dbias,
      readF32(backend, dy, 'dy'),
      readF32(backend, x, 'x'),
      readF32(backend, filter, 'filter'),
      s,
    );
    return [makeF32(backend, x.shape, dx), makeF32(backend, filter.shape, dfilter), makeF32(backend, [s.C], dbias)];
  };
  return { kernelName: DepthwiseConv3DGrad, backendName, kernelFunc };
}
