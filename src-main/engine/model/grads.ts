// Logits and the gradients of sum(logits * G) for every parameter and the input, in PyTorch names/layouts (for `deformux forward` and the golden tests).
import type { Tensor5D } from '@tensorflow/tfjs';
import { tf } from '../tf';
import type { TensorMap } from '../io/safetensors';
import type { DeformUXNet } from './network';

export interface ForwardWithGrads {
  /** NCDHW logits. */
  logits: { shape: number[]; data: Float32Array };
  /** d sum(logits * G) / d parameter, PyTorch names and layouts, plus `input` (NCDHW). */
  grads: TensorMap;
}

/** `input` and `gradOutput` are NCDHW float32 tensors; both stay owned by the caller. */
export function forwardWithGrads(net: DeformUXNet, input: Tensor5D, gradOutput: Tensor5D): ForwardWithGrads {
  const x = tf.variable(input, true);
  const vars = [x, ...net.params.values()];
  let logits: ForwardWithGrads['logits'] | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const y = net.forwardNcdhw(x);
    logits = { shape: [...y.shape], data: y.dataSync() as Float32Array };
    return tf.sum(tf.mul(y, gradOutput));
  }, vars);
  value.dispose();
  const out: TensorMap = new Map();
  out.set('input', { shape: [...input.shape], data: grads[x.name].dataSync() as Float32Array });
  for (const spec of net.specs) {
    const g = grads[net.params.get(spec.name)!.name];
    out.set(spec.name, net.torchTensorOf(spec, g));
  }
  for (const g of Object.values(grads)) g.dispose();
  x.dispose();
  return { logits: logits!, grads: out };
}
