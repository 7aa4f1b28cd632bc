// Readable reference of the depthwise 3D convolution ("same" zero padding, stride 1), channels-last, forward and backward.
import type { FloatArray } from './deform_dwconv3d_ref';

export interface DepthwiseShape {
  N: number;
  D: number;
  H: number;
  W: number;
  C: number;
  /** Kernel size (odd). */
  k: number;
}

/** y[n,v,c] = bias[c] + sum_t weight[t,c] * x[n, v + t - r, c] (zero outside). bias may be null. */
export function depthwiseConv3dForwardRef(
  y: FloatArray,
  x: FloatArray,
  weight: FloatArray,
  bias: FloatArray | null,
  s: DepthwiseShape,
): void {
  const { N, D, H, W, C, k } = s;
  const r = (k - 1) >> 1;
  for (let n = 0; n < N; n++)
    for (let d = 0; d < D; d++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          const v = ((n * D + d) * H + h) * W + w;
          for (let c = 0; c < C; c++) {
            let acc = bias ? bias[c] : 0;
            for (let i = 0; i < k; i++) {
              const zd = d + i - r;
              if (zd < 0 || zd >= D) continue;
              for (let j = 0; j < k; j++) {
                const zh = h + j - r;
                if (zh < 0 || zh >= H) continue;
                for (let l = 0; l < k; l++) {
                  const zw = w + l - r;
                  if (zw < 0 || zw >= W) continue;
                  acc += weight[((i * k + j) * k + l) * C + c] * x[(((n * D + zd) * H + zh) * W + zw) * C + c];
                }
              }
            }
            y[v * C + c] = acc;
          }
        }
}

/** Gradients for x, weight and bias (all overwritten; dbias may be null). */
export function depthwiseConv3dBackwardRef(
  dx: FloatArray,
  dweight: FloatArray,
  dbias: FloatArray | null,
  dy: FloatArray,
  x: FloatArray,
  weight: FloatArray,
  s: DepthwiseShape,
): void {
  const { N, D, H, W, C, k } = s;
  const r = (k - 1) >> 1;
  dx.fill(0);
  dweight.fill(0);
  if (dbias) dbias.fill(0);
  for (let n = 0; n < N; n++)
    for (let d = 0; d < D; d++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          const v = ((n * D + d) * H + h) * W + w;
          for (let c = 0; c < C; c++) {
            const g = dy[v * C + c];
            if (dbias) dbias[c] += g;
            for (let i = 0; i < k; i++) {
              const zd = d + i - r;
              if (zd < 0 || zd >= D) continue;
              for (let j = 0; j < k; j++) {
                const zh = h + j - r;
                if (zh < 0 || zh >= H) continue;
                for (let l = 0; l < k; l++) {
                  const zw = w + l - r;
                  if (zw < 0 || zw >= W) continue;
                  const t = ((i * k + j) * k + l) * C + c;
                  const z = (((n * D + zd) * H + zh) * W + zw) * C + c;
                  dweight[t] += g * x[z];
                  dx[z] += g * weight[t];
                }
              }
            }
          }
        }
}
