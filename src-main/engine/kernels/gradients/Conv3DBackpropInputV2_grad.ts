// GradConfig of Conv3DBackpropInputV2 (tfjs autodiff), which tfjs lacks: makes conv3dTranspose (the decoder's
// upsampling) trainable.
import type { GradConfig, NamedAttrMap, Tensor, Tensor5D } from '@tensorflow/tfjs';
import { tf } from '../../tf';

export const conv3DBackpropInputV2GradConfig: GradConfig = {
  kernelName: 'Conv3DBackpropInputV2',
  inputsToSave: ['dy', 'filter'],
  gradFunc: (ddx: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [dy, filter] = saved as Tensor5D[];
    const { strides, pad } = attrs as unknown as { strides: [number, number, number]; pad: 'same' | 'valid' };
    return {
      dy: () => tf.conv3d(ddx as Tensor5D, filter, strides, pad),
      // tfjs exports no conv3DBackpropFilter op: run the kernel directly.
      filter: () =>
        tf
          .engine()
          .runKernel(
            'Conv3DBackpropFilterV2',
            { x: ddx as Tensor5D, dy },
            { strides, pad, filterShape: filter.shape },
          ) as Tensor5D,
    };
  },
};
