// Native KernelConfig for tfjs's Conv3DBackpropInputV2 (gradient of conv3d for x; also conv3dTranspose).
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { tf } from '../tf';
import type { NativeAddon } from './addon';
import { conv3dParams } from './conv3d_params';
import { makeF32, outputF32, readF32, sizeOf } from './io';

export function conv3DBackpropInputV2Config(addon: NativeAddon, backendName = 'cpu'): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs;
    if (!dy || !filter) throw new Error('conv3dBackpropInput: needs inputs dy and filter.');
    const { strides, pad, inputShape } = attrs as unknown as {
      strides: [number, number, number] | number;
      pad: 'same' | 'valid';
      inputShape: [number, number, number, number, number];
    };
    const ci = tf.backend_util.computeConv3DInfo(
      inputShape,
      filter.shape as [number, number, number, number, number],
      strides,
      1,
      pad,
    );
    if (ci.outShape.join(',') !== dy.shape.join(',')) {
      throw new Error(
        `conv3dBackpropInput: dy must be [${ci.outShape}] for input [${inputShape}] and filter [${filter.shape}], got [${dy.shape}].`,
      );
    }
    const dx = outputF32(sizeOf(ci.inShape));
    addon.conv3dBackpropInput(dx, readF32(backend, dy, 'dy'), readF32(backend, filter, 'filter'), conv3dParams(ci));
    return makeF32(backend, ci.inShape, dx);
  };
  return { kernelName: tf.Conv3DBackpropInputV2, backendName, kernelFunc };
}
