// Readable C++ references of every kernel, written straight from MODEL.md §1 and the conv definitions.
// Slow on purpose; the dev harness (native/harness) and the native tests check the optimised kernels against them.
#include <cmath>
#include <cstring>

#include "kernels.h"

namespace dx {

namespace {

// The trilinear cell of a sampling position: corner (cd,ch,cw) is voxel (d0+cd, h0+ch, w0+cw).
struct Cell {
  int64_t d0, h0, w0;
  double fd, fh, fw;
};

Cell make_cell(double pd, double ph, double pw) {
  Cell c;
  double fd0 = std::floor(pd), fh0 = std::floor(ph), fw0 = std::floor(pw);
  c.fd = pd - fd0;
  c.fh = ph - fh0;
  c.fw = pw - fw0;
  // Far outside: every corner is outside; clamp so the integer conversion stays defined.
  auto clampi = [](double v) { return static_cast<int64_t>(v < -4 ? -4 : (v > 1e9 ? 1e9 : v)); };
  c.d0 = clampi(fd0);
  c.h0 = clampi(fh0);
  c.w0 = clampi(fw0);
  return c;
}

}  // namespace

void deform_dwconv3d_forward_ref(float* y, const float* x, const float* offset, const float* weight, const float* bias,
                                 const DeformDims& s) {
  const int k = s.k, r = k / 2, K = k * k * k;
  const int64_t cpg = s.C / s.G;
  for (int64_t n = 0; n < s.N; n++)
    for (int64_t d = 0; d < s.D; d++)
      for (int64_t h = 0; h < s.H; h++)
        for (int64_t w = 0; w < s.W; w++) {
          const int64_t v = ((n * s.D + d) * s.H + h) * s.W + w;
          for (int64_t c = 0; c < s.C; c++) {
            const int64_t g = c / cpg;
            double acc = bias[c];
            for (int p = 0; p < K; p++) {
              const int i = p / (k * k), j = (p / k) % k, l = p % k;
              const float* o = offset + v * s.G * K * 3 + (g * K + p) * 3;
              Cell cl = make_cell(double(d + i - r) + o[0], double(h + j - r) + o[1], double(w + l - r) + o[2]);
              double sample = 0;
              for (int q = 0; q < 8; q++) {
                const int64_t zd = cl.d0 + (q >> 2), zh = cl.h0 + ((q >> 1) & 1), zw = cl.w0 + (q & 1);
                if (zd < 0 || zd >= s.D || zh < 0 || zh >= s.H || zw < 0 || zw >= s.W) continue;
                const double a = ((q >> 2) ? cl.fd : 1 - cl.fd) * (((q >> 1) & 1) ? cl.fh : 1 - cl.fh) *
                                 ((q & 1) ? cl.fw : 1 - cl.fw);
                sample += a * x[(((n * s.D + zd) * s.H + zh) * s.W + zw) * s.C + c];
              }
              acc += double(weight[p * s.C + c]) * sample;
            }
            y[v * s.C + c] = static_cast<float>(acc);
          }
        }
}

void deform_dwconv3d_backward_ref(float* dx, float* doffset, float* dweight, float* dbias, const float* dy,
                                  const float* x, const float* offset, const float* weight, const DeformDims& s) {
  const int k = s.k, r = k / 2, K = k * k * k;
  const int64_t cpg = s.C / s.G;
  std::memset(dx, 0, sizeof(float) * s.N * s.D * s.H * s.W * s.C);
  std::memset(dweight, 0, sizeof(float) * K * s.C);
  std::memset(dbias, 0, sizeof(float) * s.C);
  for (int64_t n = 0; n < s.N; n++)
    for (int64_t d = 0; d < s.D; d++)
      for (int64_t h = 0; h < s.H; h++)
        for (int64_t w = 0; w < s.W; w++) {
          const int64_t v = ((n * s.D + d) * s.H + h) * s.W + w;
          for (int64_t c = 0; c < s.C; c++) dbias[c] += dy[v * s.C + c];
          for (int g = 0; g < s.G; g++)
            for (int p = 0; p < K; p++) {
              const int i = p / (k * k), j = (p / k) % k, l = p % k;
              const float* o = offset + v * s.G * K * 3 + (g * K + p) * 3;
              Cell cl = make_cell(double(d + i - r) + o[0], double(h + j - r) + o[1], double(w + l - r) + o[2]);
              double grad[3] = {0, 0, 0};
              for (int64_t c = g * cpg; c < (g + 1) * cpg; c++) {
                const double dyc = dy[v * s.C + c], dyw = dyc * weight[p * s.C + c];
                double sample = 0;
                for (int q = 0; q < 8; q++) {
                  const int cd = q >> 2, ch = (q >> 1) & 1, cw = q & 1;
                  const int64_t zd = cl.d0 + cd, zh = cl.h0 + ch, zw = cl.w0 + cw;
                  if (zd < 0 || zd >= s.D || zh < 0 || zh >= s.H || zw < 0 || zw >= s.W) continue;
                  const double ad = cd ? cl.fd : 1 - cl.fd, ah = ch ? cl.fh : 1 - cl.fh, aw = cw ? cl.fw : 1 - cl.fw;
                  const int64_t z = (((n * s.D + zd) * s.H + zh) * s.W + zw) * s.C + c;
                  const double xv = x[z];
                  sample += ad * ah * aw * xv;
                  dx[z] += static_cast<float>(dyw * ad * ah * aw);
                  grad[0] += dyw * (cd ? 1 : -1) * ah * aw * xv;
                  grad[1] += dyw * ad * (ch ? 1 : -1) * aw * xv;
                  grad[2] += dyw * ad * ah * (cw ? 1 : -1) * xv;
                }
                dweight[p * s.C + c] += static_cast<float>(dyc * sample);
              }
              float* dof = doffset + v * s.G * K * 3 + (g * K + p) * 3;
              dof[0] = static_cast<float>(grad[0]);
              dof[1] = static_cast<float>(grad[1]);
              dof[2] = static_cast<float>(grad[2]);
            }
        }
}

void depthwise_conv3d_forward_ref(float* y, const float* x, const float* weight, const float* bias, const DwDims& s) {
  const int k = s.k, r = k / 2;
  for (int64_t n = 0; n < s.N; n++)
    for (int64_t d = 0; d < s.D; d++)
      for (int64_t h = 0; h < s.H; h++)
        for (int64_t w = 0; w < s.W; w++)
          for (int64_t c = 0; c < s.C; c++) {
            double acc = bias ? bias[c] : 0;
            for (int i = 0; i < k; i++)
              for (int j = 0; j < k; j++)
                for (int l = 0; l < k; l++) {
                  const int64_t zd = d + i - r, zh = h + j - r, zw = w + l - r;
                  if (zd < 0 || zd >= s.D || zh < 0 || zh >= s.H || zw < 0 || zw >= s.W) continue;
                  acc += double(weight[((i * k + j) * k + l) * s.C + c]) * x[(((n * s.D + zd) * s.H + zh) * s.W + zw) * s.C + c];
                }
            y[(((n * s.D + d) * s.H + h) * s.W + w) * s.C + c] = static_cast<float>(acc);
          }
}

void depthwise_conv3d_backward_ref(float* dx, float* dweight, float* dbias, const float* dy, const float* x,
                                   const float* weight, const DwDims& s) {
  const int k = s.k, r = k / 2;
  std::memset(dx, 0, sizeof(float) * s.N * s.D * s.H * s.W * s.C);
  std::memset(dweight, 0, sizeof(float) * k * k * k * s.C);
  if (dbias) std::memset(dbias, 0, sizeof(float) * s.C);
  for (int64_t n = 0; n < s.N; n++)
    for (int64_t d = 0; d < s.D; d++)
      for (int64_t h = 0; h < s.H; h++)
        for (int64_t w = 0; w < s.W; w++)
          for (int64_t c = 0; c < s.C; c++) {
            const float g = dy[(((n * s.D + d) * s.H + h) * s.W + w) * s.C + c];
            if (dbias) dbias[c] += g;
            for (int i = 0; i < k; i++)
              for (int j = 0; j < k; j++)
                for (int l = 0; l < k; l++) {
                  const int64_t zd = d + i - r, zh = h + j - r, zw = w + l - r;
                  if (zd < 0 || zd >= s.D || zh < 0 || zh >= s.H || zw < 0 || zw >= s.W) continue;
                  const int64_t t = ((i * k + j) * k + l) * s.C + c, z = (((n * s.D + zd) * s.H + zh) * s.W + zw) * s.C + c;
                  dweight[t] += g * x[z];
                  dx[z] += g * weight[t];
                }
          }
}

// Dense conv: y[n,o,co] = sum_{t,ci} x[n, o*s + t - pad, ci] * filter[t,ci,co].
void conv3d_forward_ref(float* y, const float* x, const float* f, const ConvDims& s) {
  for (int64_t n = 0; n < s.N; n++)
    for (int64_t od = 0; od < s.outD; od++)
      for (int64_t oh = 0; oh < s.outH; oh++)
        for (int64_t ow = 0; ow < s.outW; ow++)
          for (int64_t co = 0; co < s.Cout; co++) {
            double acc = 0;
            for (int i = 0; i < s.kd; i++)
              for (int j = 0; j < s.kh; j++)
                for (int l = 0; l < s.kw; l++) {
                  const int64_t zd = od * s.sd + i - s.pf, zh = oh * s.sh + j - s.pt, zw = ow * s.sw + l - s.pl;
                  if (zd < 0 || zd >= s.inD || zh < 0 || zh >= s.inH || zw < 0 || zw >= s.inW) continue;
                  for (int64_t ci = 0; ci < s.Cin; ci++)
                    acc += double(x[(((n * s.inD + zd) * s.inH + zh) * s.inW + zw) * s.Cin + ci]) *
                           f[(((int64_t(i) * s.kh + j) * s.kw + l) * s.Cin + ci) * s.Cout + co];
                }
            y[(((n * s.outD + od) * s.outH + oh) * s.outW + ow) * s.Cout + co] = static_cast<float>(acc);
          }
}

void conv3d_backprop_input_ref(float* dx, const float* dy, const float* f, const ConvDims& s) {
  std::memset(dx, 0, sizeof(float) * s.N * s.inD * s.inH * s.inW * s.Cin);
  for (int64_t n = 0; n < s.N; n++)
    for (int64_t od = 0; od < s.outD; od++)
      for (int64_t oh = 0; oh < s.outH; oh++)
        for (int64_t ow = 0; ow < s.outW; ow++)
          for (int i = 0; i < s.kd; i++)
            for (int j = 0; j < s.kh; j++)
              for (int l = 0; l < s.kw; l++) {
                const int64_t zd = od * s.sd + i - s.pf, zh = oh * s.sh + j - s.pt, zw = ow * s.sw + l - s.pl;
                if (zd < 0 || zd >= s.inD || zh < 0 || zh >= s.inH || zw < 0 || zw >= s.inW) continue;
                for (int64_t ci = 0; ci < s.Cin; ci++) {
                  double acc = 0;
                  for (int64_t co = 0; co < s.Cout; co++)
                    acc += double(dy[(((n * s.outD + od) * s.outH + oh) * s.outW + ow) * s.Cout + co]) *
                           f[(((int64_t(i) * s.kh + j) * s.kw + l) * s.Cin + ci) * s.Cout + co];
                  dx[(((n * s.inD + zd) * s.inH + zh) * s.inW + zw) * s.Cin + ci] += static_cast<float>(acc);
                }
              }
}

void conv3d_backprop_filter_ref(float* df, const float* x, const float* dy, const ConvDims& s) {
  for (int i = 0; i < s.kd; i++)
    for (int j = 0; j < s.kh; j++)
      for (int l = 0; l < s.kw; l++)
        for (int64_t ci = 0; ci < s.Cin; ci++)
          for (int64_t co = 0; co < s.Cout; co++) {
            double acc = 0;
            for (int64_t n = 0; n < s.N; n++)
              for (int64_t od = 0; od < s.outD; od++)
                for (int64_t oh = 0; oh < s.outH; oh++)
                  for (int64_t ow = 0; ow < s.outW; ow++) {
                    const int64_t zd = od * s.sd + i - s.pf, zh = oh * s.sh + j - s.pt, zw = ow * s.sw + l - s.pl;
                    if (zd < 0 || zd >= s.inD || zh < 0 || zh >= s.inH || zw < 0 || zw >= s.inW) continue;
                    acc += double(x[(((n * s.inD + zd) * s.inH + zh) * s.inW + zw) * s.Cin + ci]) *
                           dy[(((n * s.outD + od) * s.outH + oh) * s.outW + ow) * s.Cout + co];
                  }
            df[(((int64_t(i) * s.kh + j) * s.kw + l) * s.Cin + ci) * s.Cout + co] = static_cast<float>(acc);
          }
}

}  // namespace dx
