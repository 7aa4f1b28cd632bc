// Depthwise 3D convolution ("same", stride 1) forward/backward on CUDA, channels-last.
// dx is the forward with the flipped kernel; dweight/dbias are two-pass reductions in a fixed order.
#include "../src/cuda_api.h"
#include "common.cuh"

namespace dxc {

struct DwDims {
  int64_t N, D, H, W, C;
  int k;
};

__global__ void dw_forward_kernel(float* __restrict__ y, const float* __restrict__ x, const float* __restrict__ w,
                                  const float* __restrict__ bias, DwDims s, int flip) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= s.N * s.D * s.H * s.W * s.C) return;
  const int64_t c = i % s.C, v = i / s.C;
  const int64_t ww = v % s.W, h = (v / s.W) % s.H, d = (v / (s.W * s.H)) % s.D, n = v / (s.W * s.H * s.D);
  const int k = s.k, r = k / 2, K = k * k * k;
  float acc = bias ? bias[c] : 0.f;
  for (int ii = 0; ii < k; ii++) {
    const int64_t zd = d + ii - r;
    if (zd < 0 || zd >= s.D) continue;
    for (int jj = 0; jj < k; jj++) {
      const int64_t zh = h + jj - r;
      if (zh < 0 || zh >= s.H) continue;
      for (int ll = 0; ll < k; ll++) {
        const int64_t zw = ww + ll - r;
        if (zw < 0 || zw >= s.W) continue;
        const int t = (ii * k + jj) * k + ll;
        acc += w[(flip ? K - 1 - t : t) * s.C + c] * x[(((n * s.D + zd) * s.H + zh) * s.W + zw) * s.C + c];
      }
    }
  }
  y[i] = acc;
}

// Partial sums over a chunk of voxels: rows t < K hold dy*x(shifted by tap t), row K holds dy (bias).
__global__ void dw_filter_partial_kernel(float* __restrict__ partial, const float* __restrict__ dy,
                                         const float* __restrict__ x, DwDims s, int64_t chunk) {
  const int k = s.k, r = k / 2, K = k * k * k;
  const int64_t nv = s.N * s.D * s.H * s.W, rows = int64_t(K + 1) * s.C, nchunks = (nv + chunk - 1) / chunk;
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= rows * nchunks) return;
  const int64_t c = i % s.C, t = (i / s.C) % (K + 1), ch = i / rows;
  const int ii = int(t) / (k * k), jj = (int(t) / k) % k, ll = int(t) % k;
  float acc = 0.f;
  const int64_t v1 = min(nv, (ch + 1) * chunk);
  for (int64_t v = ch * chunk; v < v1; v++) {
    const float g = dy[v * s.C + c];
    if (t == K) {
      acc += g;
      continue;
    }
    const int64_t ww = v % s.W, h = (v / s.W) % s.H, d = (v / (s.W * s.H)) % s.D, n = v / (s.W * s.H * s.D);
    const int64_t zd = d + ii - r, zh = h + jj - r, zw = ww + ll - r;
    if (zd < 0 || zd >= s.D || zh < 0 || zh >= s.H || zw < 0 || zw >= s.W) continue;
    acc += g * x[(((n * s.D + zd) * s.H + zh) * s.W + zw) * s.C + c];
  }
  partial[ch * rows + t * s.C + c] = acc;
}

__global__ void dw_sum_partials_kernel(float* __restrict__ out, const float* __restrict__ partial, int64_t rows,
                                       int64_t nchunks) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= rows) return;
  float acc = 0.f;
  for (int64_t ch = 0; ch < nchunks; ch++) acc += partial[ch * rows + i];
  out[i] = acc;
}

}  // namespace dxc

using dxc::DwDims;

static DwDims dw_dims_of(const int64_t* d) { return DwDims{d[0], d[1], d[2], d[3], d[4], int(d[5])}; }

extern "C" int dxc_depthwise_forward(float* y, const float* x, const float* weight, const float* bias,
                                     const int64_t* dims, char* err, int errlen) {
  const DwDims s = dw_dims_of(dims);
  const int64_t nx = s.N * s.D * s.H * s.W * s.C, nw = int64_t(s.k) * s.k * s.k * s.C;
  float* d_y = static_cast<float*>(dxc::device_buffer(10, nx * 4, err, errlen));
  float* d_x = static_cast<float*>(dxc::device_buffer(11, nx * 4, err, errlen));
  float* d_w = static_cast<float*>(dxc::device_buffer(12, (nw + s.C) * 4, err, errlen));
  if (!d_y || !d_x || !d_w) return 1;
  DXC_TRY(cudaMemcpy(d_x, x, nx * 4, cudaMemcpyHostToDevice), "copy x");
  DXC_TRY(cudaMemcpy(d_w, weight, nw * 4, cudaMemcpyHostToDevice), "copy weight");
  if (bias) DXC_TRY(cudaMemcpy(d_w + nw, bias, s.C * 4, cudaMemcpyHostToDevice), "copy bias");
  dxc::dw_forward_kernel<<<dxc::blocks_for(nx), dxc::kThreads>>>(d_y, d_x, d_w, bias ? d_w + nw : nullptr, s, 0);
  DXC_TRY(cudaGetLastError(), "depthwise forward launch");
  DXC_TRY(cudaMemcpy(y, d_y, nx * 4, cudaMemcpyDeviceToHost), "copy y");
  return 0;
}

extern "C" int dxc_depthwise_backward(float* dx, float* dweight, float* dbias, const float* dy, const float* x,
                                      const float* weight, const int64_t* dims, char* err, int errlen) {
  const DwDims s = dw_dims_of(dims);
  const int64_t K = int64_t(s.k) * s.k * s.k, nv = s.N * s.D * s.H * s.W, nx = nv * s.C, nw = K * s.C;
  const int64_t chunk = 512, nchunks = (nv + chunk - 1) / chunk, rows = (K + 1) * s.C;
  float* d_dy = static_cast<float*>(dxc::device_buffer(10, nx * 4, err, errlen));
  float* d_x = static_cast<float*>(dxc::device_buffer(11, nx * 4, err, errlen));
  float* d_w = static_cast<float*>(dxc::device_buffer(12, (nw + s.C) * 4, err, errlen));
  float* d_dx = static_cast<float*>(dxc::device_buffer(13, nx * 4, err, errlen));
  float* d_part = static_cast<float*>(dxc::device_buffer(14, nchunks * rows * 4, err, errlen));
  float* d_sum = static_cast<float*>(dxc::device_buffer(15, rows * 4, err, errlen));
  if (!d_dy || !d_x || !d_w || !d_dx || !d_part || !d_sum) return 1;
  DXC_TRY(cudaMemcpy(d_dy, dy, nx * 4, cudaMemcpyHostToDevice), "copy dy");
  DXC_TRY(cudaMemcpy(d_x, x, nx * 4, cudaMemcpyHostToDevice), "copy x");
  DXC_TRY(cudaMemcpy(d_w, weight, nw * 4, cudaMemcpyHostToDevice), "copy weight");
  dxc::dw_forward_kernel<<<dxc::blocks_for(nx), dxc::kThreads>>>(d_dx, d_dy, d_w, nullptr, s, 1);
  dxc::dw_filter_partial_kernel<<<dxc::blocks_for(rows * nchunks), dxc::kThreads>>>(d_part, d_dy, d_x, s, chunk);
  dxc::dw_sum_partials_kernel<<<dxc::blocks_for(rows), dxc::kThreads>>>(d_sum, d_part, rows, nchunks);
  DXC_TRY(cudaGetLastError(), "depthwise backward launch");
  DXC_TRY(cudaMemcpy(dx, d_dx, nx * 4, cudaMemcpyDeviceToHost), "copy dx");
  DXC_TRY(cudaMemcpy(dweight, d_sum, nw * 4, cudaMemcpyDeviceToHost), "copy dweight");
  if (dbias) DXC_TRY(cudaMemcpy(dbias, d_sum + nw, s.C * 4, cudaMemcpyDeviceToHost), "copy dbias");
  return 0;
}
