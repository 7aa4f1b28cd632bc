// Problem sizes and entry points of every CPU kernel: the readable references (dx::*_ref) and the
// optimised versions compiled once per instruction set (dx_avx512, dx_avx2, dx_generic).
// Layouts are channels-last: x [N,D,H,W,C]; offset [N,D,H,W,G*K*3]; depthwise weight [k,k,k,C];
// dense filter [kd,kh,kw,Cin,Cout] (tfjs). Outputs come first, as in llm.c.
#pragma once
#include <stdint.h>

namespace dx {

struct DeformDims {
  int64_t N, D, H, W, C;
  int k, G;
};

struct DwDims {
  int64_t N, D, H, W, C;
  int k;
};

struct ConvDims {
  int64_t N, inD, inH, inW, Cin, outD, outH, outW, Cout;
  int kd, kh, kw, sd, sh, sw;
  int pf, pt, pl;  // front/top/left zero padding (back/bottom/right follow from the sizes)
};

/** Status codes of the optimised kernels (they never throw; binding.cc turns codes into errors). */
enum Status : int { kOk = 0, kNonFiniteOffset = 1, kNoMemory = 2 };

// Readable references (reference.cc): the specification the optimised kernels are checked against.
void deform_dwconv3d_forward_ref(float* y, const float* x, const float* offset, const float* weight, const float* bias,
                                 const DeformDims& s);
void deform_dwconv3d_backward_ref(float* dx, float* doffset, float* dweight, float* dbias, const float* dy,
                                  const float* x, const float* offset, const float* weight, const DeformDims& s);
void depthwise_conv3d_forward_ref(float* y, const float* x, const float* weight, const float* bias, const DwDims& s);
void depthwise_conv3d_backward_ref(float* dx, float* dweight, float* dbias, const float* dy, const float* x,
                                   const float* weight, const DwDims& s);
void conv3d_forward_ref(float* y, const float* x, const float* filter, const ConvDims& s);
void conv3d_backprop_input_ref(float* dx, const float* dy, const float* filter, const ConvDims& s);
void conv3d_backprop_filter_ref(float* dfilter, const float* x, const float* dy, const ConvDims& s);

}  // namespace dx

#define DX_DECLARE_KERNELS(ns)                                                                                      \
  namespace ns {                                                                                                    \
  int deform_dwconv3d_forward(float* y, const float* x, const float* offset, const float* weight, const float* bias, \
                              const dx::DeformDims& s);                                                             \
  int deform_dwconv3d_backward(float* dx, float* doffset, float* dweight, float* dbias, const float* dy,             \
                               const float* x, const float* offset, const float* weight, const dx::DeformDims& s);  \
  int depthwise_conv3d_forward(float* y, const float* x, const float* weight, const float* bias,                    \
                               const dx::DwDims& s);                                                                \
  int depthwise_conv3d_backward(float* dx, float* dweight, float* dbias, const float* dy, const float* x,           \
                                const float* weight, const dx::DwDims& s);                                          \
  int conv3d_forward(float* y, const float* x, const float* filter, const dx::ConvDims& s);                         \
  int conv3d_backprop_input(float* dx, const float* dy, const float* filter, const dx::ConvDims& s);                \
  int conv3d_backprop_filter(float* dfilter, const float* x, const float* dy, const dx::ConvDims& s);               \
  }

DX_DECLARE_KERNELS(dx_avx512)
DX_DECLARE_KERNELS(dx_avx2)
DX_DECLARE_KERNELS(dx_generic)
