// Readable reference of the depthwise deformable 3D convolution (MODEL.md §1), channels-last, forward and backward.
// It is the specification the native kernels are tested against and the fallback when the addon cannot load.
// Works on Float32Array or Float64Array (tests run it in float64 for finite differences).

export type FloatArray = Float32Array | Float64Array;

export interface DeformShape {
  N: number;
  D: number;
  H: number;
  W: number;
  C: number;
  /** Kernel size (odd). */
  k: number;
  /** Deformable groups (C % G == 0). */
  G: number;
}

// Trilinear sampling cell of one kernel point: 8 corners, their weights, and the weights' derivatives.
interface Cell {
  idx: number[]; // voxel index (n,d,h,w flattened) of each valid corner, -1 when outside
  wt: number[]; // interpolation weight of each corner
  dD: number[]; // d weight / d position along D
  dH: number[];
  dW: number[];
}

function cell(s: DeformShape, n: number, pd: number, ph: number, pw: number, out: Cell): void {
  const { D, H, W } = s;
  const d0 = Math.floor(pd);
  const h0 = Math.floor(ph);
  const w0 = Math.floor(pw);
  const fd = pd - d0;
  const fh = ph - h0;
  const fw = pw - w0;
  for (let corner = 0; corner < 8; corner++) {
    const cd = corner >> 2;
    const ch = (corner >> 1) & 1;
    const cw = corner & 1;
    const zd = d0 + cd;
    const zh = h0 + ch;
    const zw = w0 + cw;
    const ad = cd ? fd : 1 - fd;
    const ah = ch ? fh : 1 - fh;
    const aw = cw ? fw : 1 - fw;
    const sd = cd ? 1 : -1;
    const sh = ch ? 1 : -1;
    const sw = cw ? 1 : -1;
    const inside = zd >= 0 && zd < D && zh >= 0 && zh < H && zw >= 0 && zw < W;
    out.idx[corner] = inside ? ((n * D + zd) * H + zh) * W + zw : -1;
    out.wt[corner] = ad * ah * aw;
    out.dD[corner] = sd * ah * aw;
    out.dH[corner] = ad * sh * aw;
    out.dW[corner] = ad * ah * sw;
  }
}

function newCell(): Cell {
  return {
    idx: new Array(8).fill(-1),
    wt: new Array(8).fill(0),
    dD: new Array(8).fill(0),
    dH: new Array(8).fill(0),
    dW: new Array(8).fill(0),
  };
}

/** y[N,D,H,W,C] = bias + sum_p weight[p,c] * trilinear(x[n,:,:,:,c], position(p) + offset). */
export function deformDwConv3dForwardRef(
  y: FloatArray,
  x: FloatArray,
  offset: FloatArray,
  weight: FloatArray,
  bias: FloatArray,
  s: DeformShape,
): void {
  const { N, D, H, W, C, k, G } = s;
  const K = k * k * k;
  const r = (k - 1) >> 1;
  const cpg = C / G;
  const cl = newCell();
  for (let n = 0; n < N; n++)
    for (let d = 0; d < D; d++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          const v = ((n * D + d) * H + h) * W + w;
          for (let c = 0; c < C; c++) y[v * C + c] = bias[c];
          for (let g = 0; g < G; g++)
            for (let p = 0; p < K; p++) {
              const i = Math.floor(p / (k * k));
              const j = Math.floor(p / k) % k;
              const l = p % k;
              const o = v * G * K * 3 + (g * K + p) * 3;
              cell(s, n, d + i - r + offset[o], h + j - r + offset[o + 1], w + l - r + offset[o + 2], cl);
              for (let c = g * cpg; c < (g + 1) * cpg; c++) {
                let sample = 0;
                for (let q = 0; q < 8; q++) if (cl.idx[q] >= 0) sample += cl.wt[q] * x[cl.idx[q] * C + c];
                y[v * C + c] += weight[p * C + c] * sample;
              }
            }
        }
}

/** Gradients of deformDwConv3dForwardRef for x, offset, weight and bias (all overwritten). */
export function deformDwConv3dBackwardRef(
  dx: FloatArray,
  doffset: FloatArray,
  dweight: FloatArray,
  dbias: FloatArray,
  dy: FloatArray,
  x: FloatArray,
  offset: FloatArray,
  weight: FloatArray,
  s: DeformShape,
): void {
  const { N, D, H, W, C, k, G } = s;
  const K = k * k * k;
  const r = (k - 1) >> 1;
  const cpg = C / G;
  dx.fill(0);
  doffset.fill(0);
  dweight.fill(0);
  dbias.fill(0);
  const cl = newCell();
  for (let n = 0; n < N; n++)
    for (let d = 0; d < D; d++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          const v = ((n * D + d) * H + h) * W + w;
          for (let c = 0; c < C; c++) dbias[c] += dy[v * C + c];
          for (let g = 0; g < G; g++)
            for (let p = 0; p < K; p++) {
              const i = Math.floor(p / (k * k));
              const j = Math.floor(p / k) % k;
              const l = p % k;
              const o = v * G * K * 3 + (g * K + p) * 3;
              cell(s, n, d + i - r + offset[o], h + j - r + offset[o + 1], w + l - r + offset[o + 2], cl);
              let gD = 0;
              let gH = 0;
              let gW = 0;
              for (let c = g * cpg; c < (g + 1) * cpg; c++) {
                const dyc = dy[v * C + c];
                const dyw = dyc * weight[p * C + c];
                let sample = 0;
                for (let q = 0; q < 8; q++) {
                  const z = cl.idx[q];
                  if (z < 0) continue;
                  const xv = x[z * C + c];
                  sample += cl.wt[q] * xv;
                  dx[z * C + c] += dyw * cl.wt[q];
                  gD += dyw * cl.dD[q] * xv;
                  gH += dyw * cl.dH[q] * xv;
                  gW += dyw * cl.dW[q] * xv;
                }
                dweight[p * C + c] += dyc * sample;
              }
              doffset[o] = gD;
              doffset[o + 1] = gH;
              doffset[o + 2] = gW;
            }
        }
}
