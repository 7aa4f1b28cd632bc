// KernelConfig of the DeformDwConv3D forward kernel (inputs x, offset, weight, bias; attrs groups).
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { activeCompute } from './compute';
import { makeF32, outputF32, readF32, sizeOf } from './io';
import { DeformDwConv3D, type DeformDwConv3DAttrs } from './names';
import { checkDeformArgs } from './validate';

export function deformDwConv3DConfig(backendName: string): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const { x, offset, weight, bias } = inputs;
    if (!x || !offset || !weight || !bias) throw new Error('deformDwConv3d: needs inputs x, offset, weight and bias.');
    const { groups } = attrs as unknown as DeformDwConv3DAttrs;
    const s = checkDeformArgs(x.shape, offset.shape, weight.shape, bias.shape, groups);
    const y = outputF32(sizeOf(x.shape));
    activeCompute().deformForward(
      y,
      readF32(backend, x, 'x'),
      readF32(backend, offset, 'offset'),
      readF32(backend, weight, 'weight'),
      readF32(backend, bias, 'bias'),
      s,
    );
    return makeF32(backend, x.shape, y);
  };
  return { kernelName: DeformDwConv3D, backendName, kernelFunc };
}
