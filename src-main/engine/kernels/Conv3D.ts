// Native KernelConfig for tfjs's Conv3D on the cpu backend (im2col + GEMM); other cases go to tfjs's own kernel.
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { tf } from '../tf';
import type { NativeAddon } from './addon';
import { conv3dParams, nativeSupports } from './conv3d_params';
import { makeF32, outputF32, readF32, sizeOf } from './io';

export function conv3DConfig(
  addon: NativeAddon,
  original: KernelConfig | undefined,
  backendName = 'cpu',
): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const { x, filter } = inputs;
    if (!x || !filter) throw new Error('conv3d: needs inputs x and filter.');
    const { strides, pad, dilations, dataFormat } = attrs as unknown as {
      strides: [number, number, number] | number;
      pad: 'same' | 'valid';
      dilations: [number, number, number] | number;
      dataFormat: 'NDHWC' | 'NCDHW';
    };
    const ci = tf.backend_util.computeConv3DInfo(
      x.shape as [number, number, number, number, number],
      filter.shape as [number, number, number, number, number],
      strides,
      dilations ?? 1,
      pad,
      false,
      dataFormat === 'NCDHW' ? 'channelsFirst' : 'channelsLast',
    );
    if (!nativeSupports(ci)) {
      if (!original) throw new Error('conv3d: dilations or NCDHW are not supported by the native kernel.');
      return original.kernelFunc(args);
    }
    const y = outputF32(sizeOf(ci.outShape));
    addon.conv3dForward(y, readF32(backend, x, 'x'), readF32(backend, filter, 'filter'), conv3dParams(ci));
    return makeF32(backend, ci.outShape, y);
  };
  return { kernelName: tf.Conv3D, backendName, kernelFunc };
}
