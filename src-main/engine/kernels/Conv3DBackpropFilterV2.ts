// Native KernelConfig for tfjs's Conv3DBackpropFilterV2 (gradient of conv3d for the filter).
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { tf } from '../tf';
import type { NativeAddon } from './addon';
import { conv3dParams } from './conv3d_params';
import { makeF32, outputF32, readF32, sizeOf } from './io';

export function conv3DBackpropFilterV2Config(addon: NativeAddon, backendName = 'cpu'): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs;
    if (!x || !dy) throw new Error('conv3dBackpropFilter: needs inputs x and dy.');
    const { strides, pad, filterShape } = attrs as unknown as {
      strides: [number, number, number] | number;
      pad: 'same' | 'valid';
      filterShape: [number, number, number, number, number];
    };
    const ci = tf.backend_util.computeConv3DInfo(
      x.shape as [number, number, number, number, number],
      filterShape,
      strides,
      1,
      pad,
    );
    if (ci.outShape.join(',') !== dy.shape.join(',')) {
      throw new Error(
        `conv3dBackpropFilter: dy must be [${ci.outShape}] for x [${x.shape}] and filter [${filterShape}], got [${dy.shape}].`,
      );
    }
    const dfilter = outputF32(sizeOf(filterShape));
    addon.conv3dBackpropFilter(dfilter, readF32(backend, x, 'x'), readF32(backend, dy, 'dy'), conv3dParams(ci));
    return makeF32(backend, filterShape, dfilter);
  };
  return { kernelName: tf.Conv3DBackpropFilterV2, backendName, kernelFunc };
}
