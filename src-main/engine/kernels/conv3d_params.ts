// Turns tfjs's Conv3DInfo into the flat parameter list of the native dense conv3d kernels.
import type { backend_util } from '@tensorflow/tfjs';

/** [N, inD,inH,inW,Cin, outD,outH,outW,Cout, kd,kh,kw, sd,sh,sw, padFront,padTop,padLeft] */
export function conv3dParams(ci: backend_util.Conv3DInfo): number[] {
  return [
    ci.batchSize,
    ci.inDepth,
    ci.inHeight,
    ci.inWidth,
    ci.inChannels,
    ci.outDepth,
    ci.outHeight,
    ci.outWidth,
    ci.outChannels,
    ci.filterDepth,
    ci.filterHeight,
    ci.filterWidth,
    ci.strideDepth,
    ci.strideHeight,
    ci.strideWidth,
    ci.padInfo.front,
    ci.padInfo.top,
    ci.padInfo.left,
  ];
}

/** True when the native kernels handle this case (channels-last, no dilation). */
export function nativeSupports(ci: backend_util.Conv3DInfo): boolean {
  return (
    ci.dilationDepth === 1 && ci.dilationHeight === 1 && ci.dilationWidth === 1 && ci.dataFormat === 'channelsLast'
  );
}
