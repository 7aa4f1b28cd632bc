// GradConfig of DepthwiseConv3D: one backward kernel gives dx, dfilter and dbias together.
import type { GradConfig, Tensor } from '@tensorflow/tfjs';
import { tf } from '../tf';
import { DepthwiseConv3D, DepthwiseConv3DGrad } from './names';

export const depthwiseConv3DGradConfig: GradConfig = {
  kernelName: DepthwiseConv3D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [x, filter] = saved;
    // Eager for the same reason as DeformDwConv3D_grad: siblings must outlive each thunk's tidy.
    const [dx, dfilter, dbias] = tf
      .engine()
      .runKernel(DepthwiseConv3DGrad, { dy: dy as Tensor, x, filter }, {}) as Tensor[];
    return { x: () => dx, filter: () => dfilter, bias: () => dbias };
  },
};
