// The compute provider behind the kernels: native CPU, native CUDA, or the pure-JS reference (slow fallback).
import { currentEngine } from '../engine';
import type { NativeAddon } from './addon';
import { deformDwConv3dBackwardRef, deformDwConv3dForwardRef, type DeformShape } from './reference/deform_dwconv3d_ref';
import {
  depthwiseConv3dBackwardRef,
  depthwiseConv3dForwardRef,
  type DepthwiseShape,
} from './reference/depthwise_conv3d_ref';
import { checkFinite } from './validate';

type F32 = Float32Array;

export interface Compute {
  name: 'native' | 'cuda' | 'js';
  deformForward(y: F32, x: F32, offset: F32, weight: F32, bias: F32, s: DeformShape): void;
  deformBackward(
    dx: F32,
    doffset: F32,
    dweight: F32,
    dbias: F32,
    dy: F32,
    x: F32,
    offset: F32,
    weight: F32,
    s: DeformShape,
  ): void;
  depthwiseForward(y: F32, x: F32, weight: F32, bias: F32 | null, s: DepthwiseShape): void;
  depthwiseBackward(dx: F32, dweight: F32, dbias: F32 | null, dy: F32, x: F32, weight: F32, s: DepthwiseShape): void;
}

const deformDims = (s: DeformShape) => [s.N, s.D, s.H, s.W, s.C, s.k, s.G];
const dwDims = (s: DepthwiseShape) => [s.N, s.D, s.H, s.W, s.C, s.k];

export const jsCompute: Compute = {
  name: 'js',
  deformForward(y, x, offset, weight, bias, s) {
    checkFinite('deformDwConv3d', 'offset', offset);
    deformDwConv3dForwardRef(y, x, offset, weight, bias, s);
  },
  deformBackward(dx, doffset, dweight, dbias, dy, x, offset, weight, s) {
    checkFinite('deformDwConv3d', 'offset', offset);
    deformDwConv3dBackwardRef(dx, doffset, dweight, dbias, dy, x, offset, weight, s);
  },
  depthwiseForward: depthwiseConv3dForwardRef,
  depthwiseBackward: depthwiseConv3dBackwardRef,
};

export function nativeCompute(a: NativeAddon): Compute {
  return {
    name: 'native',
    deformForward: (y, x, o, w, b, s) => a.deformForward(y, x, o, w, b, deformDims(s)),
    deformBackward: (dx, dof, dw, db, dy, x, o, w, s) => a.deformBackward(dx, dof, dw, db, dy, x, o, w, deformDims(s)),
    depthwiseForward: (y, x, w, b, s) => a.depthwiseForward(y, x, w, b, dwDims(s)),
    depthwiseBackward: (dx, dw, db, dy, x, w, s) => a.depthwiseBackward(dx, dw, db, dy, x, w, dwDims(s)),
  };
}

export function cudaCompute(a: NativeAddon): Compute {
  return {
    name: 'cuda',
    deformForward: (y, x, o, w, b, s) => a.deformForwardCuda(y, x, o, w, b, deformDims(s)),
    deformBackward: (dx, dof, dw, db, dy, x, o, w, s) =>
      a.deformBackwardCuda(dx, dof, dw, db, dy, x, o, w, deformDims(s)),
    depthwiseForward: (y, x, w, b, s) => a.depthwiseForwardCuda(y, x, w, b, dwDims(s)),
    depthwiseBackward: (dx, dw, db, dy, x, w, s) => a.depthwiseBackwardCuda(dx, dw, db, dy, x, w, dwDims(s)),
  };
}

/** The provider the registered kernels use now: the current engine's (the JS reference until one is chosen). */
export function activeCompute(): Compute {
  return currentEngine().compute ?? jsCompute;
}

/** Sets the current engine's provider (registerAllKernels does; tests pick one). */
export function setActiveCompute(c: Compute): void {
  currentEngine().compute = c;
}
