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
enum Status : int { kOk = 0, kNonFiniteOffset = 1, kNoMemory = 2, kPathUnsupported = 3 };

/**
 * The kernel paths of dense conv3d (conv3d.inc), numbered as llm.c numbers its kernel variants so that the
 * harness and tests can force one (conv3dRun in binding.cc). The correlation cores serve forward and the
 * stride classes of backprop-input; the others serve one op. kConvAuto is the production choice.
 */
enum ConvPath : int {
  kConvAuto = 0,
  kConvDot,            // one output channel, a vector over the source channels per row (conv_core_dot)
  kConvWindowed,       // k = 3, 16/32/64 source channels: one broadcast serves three taps (conv_core_mr KW = 3)
  kConvGenericMr1,     // indirect GEMM, kMR1 rows x 1 vector of outputs (conv_core_mr<kMR1, 1>)
  kConvGenericBig,     // indirect GEMM, kMRBig rows x kNVBig vectors (conv_core_mr<kMRBig, kNVBig>)
  kConvInputK2s2,      // backprop-input of k = 2, stride 2, no padding: one tap per dx voxel
  kConvInputCol2im,    // backprop-input by per-voxel columns scattered into private dx copies
  kConvFilterHalo,     // backprop-filter on per-block source windows copied from x (no padded x)
  kConvFilterPadded,   // backprop-filter on a zero-padded copy of x
  kConvFilterCin1,     // backprop-filter for one input channel, kw = 3, 5 or 7
  kConvPathCount
};

enum ConvOp : int { kConvForward = 0, kConvBackpropInput = 1, kConvBackpropFilter = 2 };

/**
 * A conv3d call with a forced path (harness and tests; production passes none and gets kConvAuto).
 * path: in; ran: out, bit p set by each kernel path p that ran; why: out, the reason when the status is
 * kPathUnsupported.
 */
struct ConvRun {
  int path;
  uint32_t ran;
  char why[200];
};

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
  int conv3d_forward(float* y, const float* x, const float* filter, const dx::ConvDims& s,                          \
                     dx::ConvRun* run = nullptr);                                                                   \
  int conv3d_backprop_input(float* dx, const float* dy, const float* filter, const dx::ConvDims& s,                 \
                            dx::ConvRun* run = nullptr);                                                            \
  int conv3d_backprop_filter(float* dfilter, const float* x, const float* dy, const dx::ConvDims& s,                \
                             dx::ConvRun* run = nullptr);                                                           \
  }

DX_DECLARE_KERNELS(dx_avx512)
DX_DECLARE_KERNELS(dx_avx2)
DX_DECLARE_KERNELS(dx_generic)
