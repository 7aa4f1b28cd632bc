// The layers of MODEL.md sections 2-5 on channels-last tensors [N, D, H, W, C], built from tfjs ops and our kernels.
import type { Tensor, Tensor5D } from '@tensorflow/tfjs';
import { tf } from '../tf';
import { deformDwConv3d, depthwiseConv3d } from '../kernels';
import type { ModelConfig } from './config';
import {
  addBias,
  addLeakyRelu,
  expand4,
  geluFused,
  instanceNormLast,
  layerNormLast,
  reduce4,
  scaledResidual,
  sliceInChannels,
} from './fused';

/** Looks up a parameter by its PyTorch name (engine layout). */
export type ParamLookup = (name: string) => Tensor;

const layerNorm6 = layerNormLast(1e-6);
const instanceNorm5 = instanceNormLast(1e-5);
const instanceNormLrelu = instanceNormLast(1e-5, 0.01);
const addLrelu = addLeakyRelu(0.01);

/** LayerNorm over the channel axis, biased variance, eps 1e-6, affine (MODEL.md section 3). */
export function layerNormC(x: Tensor5D, p: ParamLookup, prefix: string): Tensor5D {
  return layerNorm6(x, p(`${prefix}.weight`), p(`${prefix}.bias`)) as Tensor5D;
}

/** Instance norm without affine parameters, eps 1e-5, statistics of each sample over D, H, W. */
export function instanceNorm(x: Tensor5D): Tensor5D {
  return instanceNorm5(x) as Tensor5D;
}

/** layerNormC built from tfjs ops: the reference the fused version is tested against. */
export function layerNormCOps(x: Tensor5D, p: ParamLookup, prefix: string): Tensor5D {
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true);
    const xc = tf.sub(x, mean);
    const variance = tf.mean(tf.square(xc), -1, true);
    const y = tf.mul(xc, tf.rsqrt(tf.add(variance, 1e-6)));
    return tf.add(tf.mul(y, p(`${prefix}.weight`)), p(`${prefix}.bias`)) as Tensor5D;
  });
}

/** instanceNorm built from tfjs ops: the reference the fused version is tested against. */
export function instanceNormOps(x: Tensor5D): Tensor5D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, [1, 2, 3], true);
    return tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))) as Tensor5D;
  });
}

/** Exact (erf) GELU. */
export function gelu(x: Tensor): Tensor {
  return geluFused(x);
}

/** GELU built from tfjs ops: the fused version's reference. */
export function geluOps(x: Tensor): Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)));
}

/**
 * 1x1x1 convolution; weight is [1, 1, 1, in, out]. Runs as tf.conv3d so the native GEMM kernels do the
 * work (tfjs's own matMul on the cpu backend is plain JS and ~10x slower).
 */
export function pointwise(x: Tensor5D, weight: Tensor, bias?: Tensor): Tensor5D {
  return tf.tidy(() => {
    const y = tf.conv3d(x, weight as Tensor5D, 1, 'valid');
    return (bias ? addBias(y, bias) : y) as Tensor5D;
  });
}

/** Dense 3-D convolution, PyTorch-style symmetric zero padding `pad`, with optional bias. */
export function conv(x: Tensor5D, weight: Tensor, bias: Tensor | undefined, stride: number, pad: number): Tensor5D {
  return tf.tidy(() => {
    const k = weight.shape[0] as number;
    if (k === 1 && stride === 1) return pointwise(x, weight, bias);
    const xp =
      pad > 0
        ? tf.pad(x, [
            [0, 0],
            [pad, pad],
            [pad, pad],
            [pad, pad],
            [0, 0],
          ])
        : x;
    const y = tf.conv3d(xp, weight as Tensor5D, stride, 'valid');
    return (bias ? addBias(y, bias) : y) as Tensor5D;
  });
}

/**
 * Convolution of the channel concatenation of `parts` without building it: the weight's input-channel
 * axis (3) is split instead. Same sums, but no concat copy and no SplitV in the backward pass (slow on
 * the cpu backend for the last axis). `same` = PyTorch padding k//2 at stride 1 (tfjs 'same' for odd k).
 */
function convParts(parts: Tensor5D[], weight: Tensor): Tensor5D {
  if (parts.length === 1) return tf.conv3d(parts[0], weight as Tensor5D, 1, 'same');
  let off = 0;
  let acc: Tensor5D | undefined;
  for (const part of parts) {
    const c = part.shape[4];
    const w = sliceInChannels(weight, off, c) as Tensor5D;
    const y = tf.conv3d(part, w, 1, 'same');
    acc = acc ? (tf.add(acc, y) as Tensor5D) : y;
    off += c;
  }
  return acc!;
}

/** MONAI UnetResBlock (MODEL.md section 5) on the channel concatenation of `parts` (one part: plain input). */
export function resBlock(
  parts: Tensor5D | Tensor5D[],
  p: ParamLookup,
  prefix: string,
  cin: number,
  cout: number,
): Tensor5D {
  return tf.tidy(() => {
    const xs = Array.isArray(parts) ? parts : [parts];
    const a = instanceNormLrelu(convParts(xs, p(`${prefix}.conv1.conv.weight`))) as Tensor5D;
    const b = instanceNorm(convParts([a], p(`${prefix}.conv2.conv.weight`)));
    const res = cin === cout ? xs[0] : instanceNorm(convParts(xs, p(`${prefix}.conv3.conv.weight`)));
    return addLrelu(b, res) as Tensor5D;
  });
}

/** MONAI UnetrUpBlock: transposed 2x2x2 conv stride 2, then ResBlock(2*out, out) on [upsampled, skip]. */
export function upBlock(x: Tensor5D, skip: Tensor5D, p: ParamLookup, prefix: string, cout: number): Tensor5D {
  return tf.tidy(() => {
    const [n, d, h, w] = x.shape;
    const weight = p(`${prefix}.transp_conv.conv.weight`) as Tensor5D;
    const u = tf.conv3dTranspose(x, weight, [n, 2 * d, 2 * h, 2 * w, cout], 2, 'valid');
    return resBlock([u, skip], p, `${prefix}.conv_block`, 2 * cout, cout);
  });
}

/** Offsets of one DDC from its own input: pw2(dw(pw1(x))) (MODEL.md section 2). */
export function offsetBranch(x: Tensor5D, p: ParamLookup, prefix: string): Tensor5D {
  return tf.tidy(() => {
    const a = pointwise(x, p(`${prefix}.pw1.weight`), p(`${prefix}.pw1.bias`));
    const b = depthwiseConv3d(a, p(`${prefix}.dw.weight`), p(`${prefix}.dw.bias`)) as Tensor5D;
    return pointwise(b, p(`${prefix}.pw2.weight`), p(`${prefix}.pw2.bias`));
  });
}

/** Grouped 1x1x1 conv C -> 4C built from ops (each channel feeds 4 outputs): weight [C, 4]; the fused version's reference. */
export function expand4Ops(x: Tensor5D, weight: Tensor, bias: Tensor): Tensor5D {
  const [n, d, h, w, c] = x.shape;
  const y = tf.mul(tf.reshape(x, [n, d, h, w, c, 1]), weight);
  return tf.add(tf.reshape(y, [n, d, h, w, 4 * c]), bias) as Tensor5D;
}

/** Grouped 1x1x1 conv 4C -> C built from ops (each output sums its 4 inputs): weight [C, 4]; the fused version's reference. */
export function reduce4Ops(x: Tensor5D, weight: Tensor, bias: Tensor): Tensor5D {
  const [n, d, h, w, c4] = x.shape;
  const y = tf.sum(tf.mul(tf.reshape(x, [n, d, h, w, c4 / 4, 4]), weight), -1);
  return tf.add(y, bias) as Tensor5D;
}

/** DeformUX block (MODEL.md section 3). */
export function deformBlock(x: Tensor5D, p: ParamLookup, prefix: string, cfg: ModelConfig): Tensor5D {
  return tf.tidy(() => {
    const offset = offsetBranch(x, p, `${prefix}.ddc.offset`);
    let y = deformDwConv3d(x, offset, p(`${prefix}.ddc.weight`), p(`${prefix}.ddc.bias`), {
      groups: cfg.deform_groups,
    }) as Tensor5D;
    y = layerNormC(y, p, `${prefix}.norm`);
    y = gelu(expand4(y, p(`${prefix}.pwconv1.weight`), p(`${prefix}.pwconv1.bias`))) as Tensor5D;
    y = reduce4(y, p(`${prefix}.pwconv2.weight`), p(`${prefix}.pwconv2.bias`)) as Tensor5D;
    return scaledResidual(x, y, p(`${prefix}.gamma`)) as Tensor5D;
  });
}
