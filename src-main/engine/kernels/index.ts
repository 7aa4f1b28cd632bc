// The ops the network is written with: deformDwConv3d and depthwiseConv3d (channels-last, tfjs autograd).
import type { Tensor, Tensor5D } from '@tensorflow/tfjs';
import { tf } from '../tf';
import { DeformDwConv3D, DepthwiseConv3D, type DeformDwConv3DAttrs } from './names';
import { registerAllKernels } from './register_all';
import { checkDeformArgs, checkDepthwiseArgs } from './validate';

export { DeformDwConv3D, DeformDwConv3DGrad, DepthwiseConv3D, DepthwiseConv3DGrad } from './names';
export {
  deformuxKernel,
  registerAllKernels,
  registration,
  releaseFreeMemory,
  nativeAddon,
  withOriginalConv3dKernels,
} from './register_all';

/** Registers the kernels for the current backend if initEngine has not (warnings go to the console). */
function ensureKernels(): void {
  const backend = tf.getBackend();
  if (tf.getKernel(DeformDwConv3D, backend)) return;
  const res = registerAllKernels(tf, backend);
  for (const w of res.warnings) console.warn(`[deformux engine] ${w}`);
}

/**
 * Depthwise deformable 3D convolution (MODEL.md §1), channels-last.
 * x [N,D,H,W,C], offset [N,D,H,W,G*k^3*3] (channel g*K*3 + p*3 + a; a = 0 D, 1 H, 2 W),
 * weight [k,k,k,C] (= PyTorch weight[c,0,i,j,l] at [i,j,l,c]), bias [C]. Returns [N,D,H,W,C].
 */
export function deformDwConv3d(
  x: Tensor,
  offset: Tensor,
  weight: Tensor,
  bias: Tensor,
  attrs: DeformDwConv3DAttrs,
): Tensor5D {
  checkDeformArgs(x.shape, offset.shape, weight.shape, bias.shape, attrs?.groups);
  ensureKernels();
  return tf.engine().runKernel(DeformDwConv3D, { x, offset, weight, bias }, { groups: attrs.groups }) as Tensor5D;
}

/** Depthwise 3D convolution (shapes are checked at run time, so any-rank tensor types are accepted), "same" zero padding, stride 1: x [N,D,H,W,C], weight [k,k,k,C], bias [C]. */
export function depthwiseConv3d(x: Tensor, weight: Tensor, bias?: Tensor): Tensor5D {
  checkDepthwiseArgs(x.shape, weight.shape, bias?.shape);
  ensureKernels();
  const inputs: Record<string, Tensor> = { x, filter: weight };
  if (bias) inputs.bias = bias;
  return tf.engine().runKernel(DepthwiseConv3D, inputs, {}) as Tensor5D;
}
