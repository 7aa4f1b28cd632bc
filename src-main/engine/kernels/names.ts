// Kernel names and attribute types of the deformux kernels (tfjs's own Conv3D* names come from tfjs).

export const DeformDwConv3D = 'DeformDwConv3D';
export const DeformDwConv3DGrad = 'DeformDwConv3DGrad';
export const DepthwiseConv3D = 'DepthwiseConv3D';
export const DepthwiseConv3DGrad = 'DepthwiseConv3DGrad';

export interface DeformDwConv3DAttrs {
  /** Deformable groups G (C % G == 0). */
  groups: number;
}
