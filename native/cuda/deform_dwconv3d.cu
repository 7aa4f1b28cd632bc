// DeformDwConv3D forward/backward on CUDA (MODEL.md §1), channels-last, checked against the CPU kernels.
// Forward: one thread per (voxel, channel). Backward: one thread per (voxel, group, point) writes doffset and
// scatters dx with int64 fixed-point atomics (integer sums are exact, so dx is deterministic); dweight and
// dbias are two-pass reductions in a fixed order.
#include <cmath>

#include "../src/cuda_api.h"
#include "common.cuh"

namespace dxc {

struct Dims {
  int64_t N, D, H, W, C;
  int k, G;
};

// The trilinear cell of a position: 8 corner voxel indices (-1 outside), weights and their derivatives.
struct Cell {
  int64_t z[8];
  float wt[8], eD[8], eH[8], eW[8];
};

__device__ inline void make_cell(Cell& c, const Dims& s, int64_t n, float pd, float ph, float pw, bool deriv) {
  pd = fminf(fmaxf(pd, -2.f), float(s.D + 1));  // NaN offsets are rejected on the host
  ph = fminf(fmaxf(ph, -2.f), float(s.H + 1));
  pw = fminf(fmaxf(pw, -2.f), float(s.W + 1));
  const float fd0 = floorf(pd), fh0 = floorf(ph), fw0 = floorf(pw);
  const int64_t d0 = int64_t(fd0), h0 = int64_t(fh0), w0 = int64_t(fw0);
  const float fd = pd - fd0, fh = ph - fh0, fw = pw - fw0;
  const bool vd[2] = {d0 >= 0 && d0 < s.D, d0 + 1 >= 0 && d0 + 1 < s.D};
  const bool vh[2] = {h0 >= 0 && h0 < s.H, h0 + 1 >= 0 && h0 + 1 < s.H};
  const bool vw[2] = {w0 >= 0 && w0 < s.W, w0 + 1 >= 0 && w0 + 1 < s.W};
  const float ad[2] = {vd[0] ? 1.f - fd : 0.f, vd[1] ? fd : 0.f};
  const float ah[2] = {vh[0] ? 1.f - fh : 0.f, vh[1] ? fh : 0.f};
  const float aw[2] = {vw[0] ? 1.f - fw : 0.f, vw[1] ? fw : 0.f};
#pragma unroll
  for (int q = 0; q < 8; q++) {
    const int cd = q >> 2, ch = (q >> 1) & 1, cw = q & 1;
    const bool in = vd[cd] && vh[ch] && vw[cw];
    c.z[q] = in ? ((n * s.D + d0 + cd) * s.H + h0 + ch) * s.W + w0 + cw : -1;
    c.wt[q] = ad[cd] * ah[ch] * aw[cw];
    if (deriv) {
      const float sd = cd ? (vd[1] ? 1.f : 0.f) : (vd[0] ? -1.f : 0.f);
      const float sh = ch ? (vh[1] ? 1.f : 0.f) : (vh[0] ? -1.f : 0.f);
      const float sw = cw ? (vw[1] ? 1.f : 0.f) : (vw[0] ? -1.f : 0.f);
      c.eD[q] = sd * ah[ch] * aw[cw];
      c.eH[q] = ad[cd] * sh * aw[cw];
      c.eW[q] = ad[cd] * ah[ch] * sw;
    }
  }
}

__global__ void deform_forward_kernel(float* __restrict__ y, const float* __restrict__ x,
                                      const float* __restrict__ offset, const float* __restrict__ weight,
                                      const float* __restrict__ bias, Dims s) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t nx = s.N * s.D * s.H * s.W * s.C;
  if (i >= nx) return;
  const int64_t c = i % s.C, v = i / s.C;
  const int64_t w = v % s.W, h = (v / s.W) % s.H, d = (v / (s.W * s.H)) % s.D, n = v / (s.W * s.H * s.D);
  const int k = s.k, K = k * k * k, r = k / 2;
  const int g = int(c / (s.C / s.G));
  const float* off = offset + (v * s.G + g) * K * 3;
  float acc = bias[c];
  Cell cl;
  for (int p = 0; p < K; p++) {
    const int ii = p / (k * k), jj = (p / k) % k, ll = p % k;
    make_cell(cl, s, n, float(d + ii - r) + off[3 * p], float(h + jj - r) + off[3 * p + 1],
              float(w + ll - r) + off[3 * p + 2], false);
    float sample = 0.f;
#pragma unroll
    for (int q = 0; q < 8; q++)
      if (cl.z[q] >= 0) sample += cl.wt[q] * x[cl.z[q] * s.C + c];
    acc += weight[p * s.C + c] * sample;
  }
  y[i] = acc;
}

// doffset and dx (fixed point, scale `scale`) for one (voxel, group, point).
__global__ void deform_backward_offset_dx_kernel(float* __restrict__ doffset, unsigned long long* __restrict__ dx_fixed,
                                                 const float* __restrict__ dy, const float* __restrict__ x,
                                                 const float* __restrict__ offset, const float* __restrict__ weight,
                                                 Dims s, double scale) {
  const int k = s.k, K = k * k * k, r = k / 2;
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t total = s.N * s.D * s.H * s.W * s.G * K;
  if (i >= total) return;
  const int p = int(i % K);
  const int g = int((i / K) % s.G);
  const int64_t v = i / (int64_t(K) * s.G);
  const int64_t w = v % s.W, h = (v / s.W) % s.H, d = (v / (s.W * s.H)) % s.D, n = v / (s.W * s.H * s.D);
  const int ii = p / (k * k), jj = (p / k) % k, ll = p % k;
  const float* off = offset + ((v * s.G + g) * K + p) * 3;
  Cell cl;
  make_cell(cl, s, n, float(d + ii - r) + off[0], float(h + jj - r) + off[1], float(w + ll - r) + off[2], true);
  const int64_t cpg = s.C / s.G;
  float gD = 0.f, gH = 0.f, gW = 0.f;
  for (int64_t c = g * cpg; c < (g + 1) * cpg; c++) {
    const float dyw = dy[v * s.C + c] * weight[p * s.C + c];
#pragma unroll
    for (int q = 0; q < 8; q++) {
      if (cl.z[q] < 0) continue;
      const float xv = x[cl.z[q] * s.C + c];
      gD += dyw * cl.eD[q] * xv;
      gH += dyw * cl.eH[q] * xv;
      gW += dyw * cl.eW[q] * xv;
      const long long fixed = llrint(double(dyw) * double(cl.wt[q]) * scale);
      atomicAdd(dx_fixed + cl.z[q] * s.C + c, static_cast<unsigned long long>(fixed));
    }
  }
  float* dof = doffset + ((v * s.G + g) * K + p) * 3;
  dof[0] = gD;
  dof[1] = gH;
  dof[2] = gW;
}

__global__ void fixed_to_float_kernel(float* __restrict__ out, const unsigned long long* __restrict__ in, int64_t n,
                                      double inv_scale) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) out[i] = float(double(static_cast<long long>(in[i])) * inv_scale);
}

// Partial sums over a chunk of voxels of dy*sample (rows p < K) and dy (row K, the bias), per channel.
__global__ void deform_weight_partial_kernel(float* __restrict__ partial, const float* __restrict__ dy,
                                             const float* __restrict__ x, const float* __restrict__ offset, Dims s,
                                             int64_t chunk) {
  const int k = s.k, K = k * k * k, r = k / 2;
  const int64_t nv = s.N * s.D * s.H * s.W;
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t rows = int64_t(K + 1) * s.C;
  const int64_t nchunks = (nv + chunk - 1) / chunk;
  if (i >= rows * nchunks) return;
  const int64_t c = i % s.C, p = (i / s.C) % (K + 1), ch = i / rows;
  const int g = int(c / (s.C / s.G));
  const int ii = int(p) / (k * k), jj = (int(p) / k) % k, ll = int(p) % k;
  float acc = 0.f;
  Cell cl;
  const int64_t v1 = min(nv, (ch + 1) * chunk);
  for (int64_t v = ch * chunk; v < v1; v++) {
    const float g_ = dy[v * s.C + c];
    if (p == K) {
      acc += g_;
      continue;
    }
    const int64_t w = v % s.W, h = (v / s.W) % s.H, d = (v / (s.W * s.H)) % s.D, n = v / (s.W * s.H * s.D);
    const float* off = offset + ((v * s.G + g) * K + p) * 3;
    make_cell(cl, s, n, float(d + ii - r) + off[0], float(h + jj - r) + off[1], float(w + ll - r) + off[2], false);
    float sample = 0.f;
#pragma unroll
    for (int q = 0; q < 8; q++)
      if (cl.z[q] >= 0) sample += cl.wt[q] * x[cl.z[q] * s.C + c];
    acc += g_ * sample;
  }
  partial[ch * rows + p * s.C + c] = acc;
}

// Sums the partial rows in chunk order (deterministic).
__global__ void sum_partials_kernel(float* __restrict__ out, const float* __restrict__ partial, int64_t rows,
                                    int64_t nchunks) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= rows) return;
  float acc = 0.f;
  for (int64_t ch = 0; ch < nchunks; ch++) acc += partial[ch * rows + i];
  out[i] = acc;
}

}  // namespace dxc

using dxc::Dims;

static Dims dims_of(const int64_t* d) { return Dims{d[0], d[1], d[2], d[3], d[4], int(d[5]), int(d[6])}; }

extern "C" int dxc_deform_forward(float* y, const float* x, const float* offset, const float* weight, const float* bias,
                                  const int64_t* dims, char* err, int errlen) {
  const Dims s = dims_of(dims);
  const int64_t K = int64_t(s.k) * s.k * s.k, nx = s.N * s.D * s.H * s.W * s.C, noff = s.N * s.D * s.H * s.W * s.G * K * 3;
  float* d_y = static_cast<float*>(dxc::device_buffer(0, nx * 4, err, errlen));
  float* d_x = static_cast<float*>(dxc::device_buffer(1, nx * 4, err, errlen));
  float* d_off = static_cast<float*>(dxc::device_buffer(2, noff * 4, err, errlen));
  float* d_w = static_cast<float*>(dxc::device_buffer(3, K * s.C * 4, err, errlen));
  float* d_b = static_cast<float*>(dxc::device_buffer(4, s.C * 4, err, errlen));
  if (!d_y || !d_x || !d_off || !d_w || !d_b) return 1;
  DXC_TRY(cudaMemcpy(d_x, x, nx * 4, cudaMemcpyHostToDevice), "copy x");
  DXC_TRY(cudaMemcpy(d_off, offset, noff * 4, cudaMemcpyHostToDevice), "copy offset");
  DXC_TRY(cudaMemcpy(d_w, weight, K * s.C * 4, cudaMemcpyHostToDevice), "copy weight");
  DXC_TRY(cudaMemcpy(d_b, bias, s.C * 4, cudaMemcpyHostToDevice), "copy bias");
  dxc::deform_forward_kernel<<<dxc::blocks_for(nx), dxc::kThreads>>>(d_y, d_x, d_off, d_w, d_b, s);
  DXC_TRY(cudaGetLastError(), "deform forward launch");
  DXC_TRY(cudaMemcpy(y, d_y, nx * 4, cudaMemcpyDeviceToHost), "copy y");
  return 0;
}

static float max_abs(const float* a, int64_t n) {
  float m = 0.f;
  for (int64_t i = 0; i < n; i++) m = std::fmax(m, std::fabs(a[i]));
  return m;
}

extern "C" int dxc_deform_backward(float* dx, float* doffset, float* dweight, float* dbias, const float* dy,
                                   const float* x, const float* offset, const float* weight, const int64_t* dims,
                                   char* err, int errlen) {
  const Dims s = dims_of(dims);
  const int64_t K = int64_t(s.k) * s.k * s.k, nv = s.N * s.D * s.H * s.W, nx = nv * s.C, noff = nv * s.G * K * 3;
  // Fixed-point scale: the sum of every dx contribution stays below 2^62 whatever their targets.
  const double bound = double(max_abs(dy, nx)) * double(max_abs(weight, K * s.C)) * double(nv * K * 8) + 1e-30;
  const double scale = std::ldexp(1.0, int(std::floor(62.0 - std::log2(bound))) - 1);
  const int64_t chunk = 512, nchunks = (nv + chunk - 1) / chunk, rows = (K + 1) * s.C;
  float* d_dy = static_cast<float*>(dxc::device_buffer(0, nx * 4, err, errlen));
  float* d_x = static_cast<float*>(dxc::device_buffer(1, nx * 4, err, errlen));
  float* d_off = static_cast<float*>(dxc::device_buffer(2, noff * 4, err, errlen));
  float* d_w = static_cast<float*>(dxc::device_buffer(3, K * s.C * 4, err, errlen));
  float* d_doff = static_cast<float*>(dxc::device_buffer(5, noff * 4, err, errlen));
  auto* d_fixed = static_cast<unsigned long long*>(dxc::device_buffer(6, nx * 8, err, errlen));
  float* d_dx = static_cast<float*>(dxc::device_buffer(7, nx * 4, err, errlen));
  float* d_part = static_cast<float*>(dxc::device_buffer(8, nchunks * rows * 4, err, errlen));
  float* d_sum = static_cast<float*>(dxc::device_buffer(9, rows * 4, err, errlen));
  if (!d_dy || !d_x || !d_off || !d_w || !d_doff || !d_fixed || !d_dx || !d_part || !d_sum) return 1;
  DXC_TRY(cudaMemcpy(d_dy, dy, nx * 4, cudaMemcpyHostToDevice), "copy dy");
  DXC_TRY(cudaMemcpy(d_x, x, nx * 4, cudaMemcpyHostToDevice), "copy x");
  DXC_TRY(cudaMemcpy(d_off, offset, noff * 4, cudaMemcpyHostToDevice), "copy offset");
  DXC_TRY(cudaMemcpy(d_w, weight, K * s.C * 4, cudaMemcpyHostToDevice), "copy weight");
  DXC_TRY(cudaMemset(d_fixed, 0, nx * 8), "clear dx");
  dxc::deform_backward_offset_dx_kernel<<<dxc::blocks_for(nv * s.G * K), dxc::kThreads>>>(d_doff, d_fixed, d_dy, d_x,
                                                                                        d_off, d_w, s, scale);
  DXC_TRY(cudaGetLastError(), "deform backward launch");
  dxc::fixed_to_float_kernel<<<dxc::blocks_for(nx), dxc::kThreads>>>(d_dx, d_fixed, nx, 1.0 / scale);
  dxc::deform_weight_partial_kernel<<<dxc::blocks_for(rows * nchunks), dxc::kThreads>>>(d_part, d_dy, d_x, d_off, s,
                                                                                        chunk);
  dxc::sum_partials_kernel<<<dxc::blocks_for(rows), dxc::kThreads>>>(d_sum, d_part, rows, nchunks);
  DXC_TRY(cudaGetLastError(), "deform weight gradient launch");
  DXC_TRY(cudaMemcpy(dx, d_dx, nx * 4, cudaMemcpyDeviceToHost), "copy dx");
  DXC_TRY(cudaMemcpy(doffset, d_doff, noff * 4, cudaMemcpyDeviceToHost), "copy doffset");
  DXC_TRY(cudaMemcpy(dweight, d_sum, K * s.C * 4, cudaMemcpyDeviceToHost), "copy dweight");
  DXC_TRY(cudaMemcpy(dbias, d_sum + K * s.C, s.C * 4, cudaMemcpyDeviceToHost), "copy dbias");
  return 0;
}
