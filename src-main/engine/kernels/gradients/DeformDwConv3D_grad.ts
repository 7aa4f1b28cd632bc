// GradConfig of DeformDwConv3D (tfjs autodiff): the DeformDwConv3DGrad kernel (../DeformDwConv3DGrad.ts) computes
// all four gradients in one pass, since they share the sampling.
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs';
import { tf } from '../../tf';
import { DeformDwConv3D, DeformDwConv3DGrad } from '../names';

export const deformDwConv3DGradConfig: GradConfig = {
  kernelName: DeformDwConv3D,
  inputsToSave: ['x', 'offset', 'weight'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x, offset, weight] = saved;
    // Computed eagerly, not inside a thunk: each thunk runs in its own tidy, which would dispose the
    // siblings. Unused ones are disposed by the enclosing 'backward' tidy.
    const [dx, doffset, dweight, dbias] = tf
      .engine()
      .runKernel(DeformDwConv3DGrad, { dy: dy as Tensor, x, offset, weight }, attrs) as Tensor[];
    return { x: () => dx, offset: () => doffset, weight: () => dweight, bias: () => dbias };
  },
};
