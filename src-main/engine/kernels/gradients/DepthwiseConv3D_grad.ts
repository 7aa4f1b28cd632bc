// GradConfig of DepthwiseConv3D (tfjs autodiff): the DepthwiseConv3DGrad kernel (../DepthwiseConv3DGrad.ts) gives
// dx, dfilter and dbias in one pass.
import type { GradConfig, Tensor } from '@tensorflow/tfjs';
import { tf } from '../../tf';
import { DepthwiseConv3D, DepthwiseConv3DGrad } from '../names';

export const depthwiseConv3DGradConfig: GradConfig = {
  kernelName: DepthwiseConv3D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [x, filter] = saved;
    // Computed eagerly, not inside a thunk: each thunk runs in its own tidy, which would dispose the
    // siblings. Unused ones are disposed by the enclosing 'backward' tidy.
    const [dx, dfilter, dbias] = tf
      .engine()
      .runKernel(DepthwiseConv3DGrad, { dy: dy as Tensor, x, filter }, {}) as Tensor[];
    return { x: () => dx, filter: () => dfilter, bias: () => dbias };
  },
};
