// KernelConfig of DeformDwConv3DGrad, the DeformDwConv3D backward kernel: inputs dy, x, offset, weight; outputs
// [dx, doffset, dweight, dbias]. Autodiff runs it through the GradConfig in gradients/DeformDwConv3D_grad.ts.
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { activeCompute } from './compute';
import { makeF32, outputF32, readF32, sizeOf } from './io';
import { DeformDwConv3DGrad, type DeformDwConv3DAttrs } from './names';
import { checkDeformArgs } from './validate';

export function deformDwConv3DGradKernelConfig(backendName: string): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const { dy, x, offset, weight } = inputs;
    if (!dy || !x || !offset || !weight)
      throw new Error('deformDwConv3d backward: needs inputs dy, x, offset and weight.');
    const { groups } = attrs as unknown as DeformDwConv3DAttrs;
    const s = checkDeformArgs(x.shape, offset.shape, weight.shape, undefined, groups);
    if (dy.shape.join(',') !== x.shape.join(','))
      throw new Error(`deformDwConv3d backward: dy must have the shape of x [${x.shape}], got [${dy.shape}].`);
    const dx = outputF32(sizeOf(x.shape));
    const doffset = outputF32(sizeOf(offset.shape));
    const dweight = new Float32Array(sizeOf(weight.shape));
    const dbias = new Float32Array(s.C);
    activeCompute().deformBackward(
      dx,
      doffset,
      dweight,
      dbias,
      readF32(backend, dy, 'dy'),
      readF32(backend, x, 'x'),
      readF32(backend, offset, 'offset'),
      readF32(backend, weight, 'weight'),
      s,
    );
    return [
      makeF32(backend, x.shape, dx),
      makeF32(backend, offset.shape, doffset),
      makeF32(backend, weight.shape, dweight),
      makeF32(backend, [s.C], dbias),
    ];
  };
  return { kernelName: DeformDwConv3DGrad, backendName, kernelFunc };
}
