// Fused channels-last kernels of the DeformUX-Net blocks (LayerNorm, InstanceNorm+LeakyReLU, exact GELU, grouped
// 1x1 convs, bias, layer-scaled residual), forward + backward on the kernel thread pool: the baseline build of
// fused_ops.inc plus the run-time choice between it, the AVX2+FMA build (fused_ops_avx2.cc) and the AVX-512 build
// (fused_ops_avx512.cc).
// They mirror the JS loops of src-main/engine/model/fused.ts (the reference; tests/native/fused_ops.test.ts):
// per-element arithmetic is done in double and rounded once, as the JS does, so results agree to ~1 ulp.
#define DX_FUSED_NS fused_generic
#include "fused_ops.inc"
#undef DX_FUSED_NS

#include "check.h"
#include "cpu_features.h"
#include "fused_ops.h"

#define DX_FUSED_DECLARE(ns)                                                                                         \
  namespace dx {                                                                                                     \
  namespace ns {                                                                                                     \
  int ln_forward(float*, float*, float*, const float*, const float*, const float*, int64_t, int64_t, double);        \
  int ln_backward(float*, float*, float*, const float*, const float*, const float*, const float*, int64_t, int64_t); \
  int in_forward(float*, float*, float*, const float*, int64_t, int64_t, int64_t, double, bool, double);             \
  int in_backward(float*, const float*, const float*, const float*, int64_t, int64_t, int64_t, bool, double);        \
  int gelu_forward(float*, const float*, int64_t);                                                                   \
  int gelu_backward(float*, const float*, const float*, int64_t);                                                    \
  int expand4_forward(float*, const float*, const float*, const float*, int64_t, int64_t);                           \
  int expand4_backward(float*, float*, float*, const float*, const float*, const float*, int64_t, int64_t);           \
  int reduce4_forward(float*, const float*, const float*, const float*, int64_t, int64_t);                           \
  int reduce4_backward(float*, float*, float*, const float*, const float*, const float*, int64_t, int64_t);           \
  int residual_forward(float*, const float*, const float*, const float*, int64_t, int64_t);                          \
  int residual_backward(float*, float*, const float*, const float*, const float*, int64_t, int64_t);                 \
  int bias_forward(float*, const float*, const float*, int64_t, int64_t);                                            \
  int column_sum(float*, const float*, int64_t, int64_t);                                                            \
  int add_lrelu_forward(float*, const float*, const float*, int64_t, double);                                        \
  int lrelu_backward(float*, const float*, const float*, int64_t, double);                                           \
  int add_forward(float*, const float*, const float*, int64_t);                                                      \
  int dicece_forward(float*, double*, const float*, const int32_t*, const float*, int64_t, int64_t, int64_t, bool,   \
                     int64_t);                                                                                       \
  int dicece_backward(float*, const float*, const int32_t*, const float*, const double*, int64_t, int64_t, int64_t,  \
                      bool, int64_t, double, double, double, double, double);                                       \
  }                                                                                                                  \
  }

#if !defined(DX_NO_X86) && (defined(__x86_64__) || defined(__i386__))
#define DX_FUSED_HAVE_X86 1
DX_FUSED_DECLARE(fused_avx2)
DX_FUSED_DECLARE(fused_avx512)
#endif

namespace dx {
namespace {

void check_status(int st, const char* op) { DX_CHECK(st == 0, op << ": out of memory for reduction partials"); }

}  // namespace

// AVX-512 machines run the AVX2 build: these kernels are memory-bound, wider vectors gain nothing.
#ifdef DX_FUSED_HAVE_X86
#define DX_FUSED_CALL(op, fn, ...)                                                                   \
  check_status(current_isa() == Isa::Avx512 ? fused_avx512::fn(__VA_ARGS__)                            \
               : current_isa() == Isa::Avx2 ? fused_avx2::fn(__VA_ARGS__)                              \
                                            : fused_generic::fn(__VA_ARGS__),                          \
               op)
#else
#define DX_FUSED_CALL(op, fn, ...) check_status(fused_generic::fn(__VA_ARGS__), op)
#endif

void ln_forward(float* y, float* xhat, float* rstd, const float* x, const float* w, const float* b, int64_t rows,
                int64_t C, double eps) {
  DX_FUSED_CALL("fusedLayerNormForward", ln_forward, y, xhat, rstd, x, w, b, rows, C, eps);
}
void ln_backward(float* dx, float* dw, float* db, const float* dy, const float* xhat, const float* rstd,
                 const float* w, int64_t rows, int64_t C) {
  DX_FUSED_CALL("fusedLayerNormBackward", ln_backward, dx, dw, db, dy, xhat, rstd, w, rows, C);
}
void in_forward(float* y, float* xhat, float* rstd, const float* x, int64_t N, int64_t S, int64_t C, double eps,
                bool has_slope, double slope) {
  DX_FUSED_CALL("fusedInstanceNormForward", in_forward, y, xhat, rstd, x, N, S, C, eps, has_slope, slope);
}
void in_backward(float* dx, const float* dy, const float* xhat, const float* rstd, int64_t N, int64_t S, int64_t C,
                 bool has_slope, double slope) {
  DX_FUSED_CALL("fusedInstanceNormBackward", in_backward, dx, dy, xhat, rstd, N, S, C, has_slope, slope);
}
void gelu_forward(float* y, const float* x, int64_t n) { DX_FUSED_CALL("fusedGeluForward", gelu_forward, y, x, n); }
void gelu_backward(float* dx, const float* dy, const float* x, int64_t n) {
  DX_FUSED_CALL("fusedGeluBackward", gelu_backward, dx, dy, x, n);
}
void expand4_forward(float* y, const float* x, const float* w, const float* b, int64_t rows, int64_t C) {
  DX_FUSED_CALL("fusedExpand4Forward", expand4_forward, y, x, w, b, rows, C);
}
void expand4_backward(float* dx, float* dw, float* db, const float* dy, const float* x, const float* w, int64_t rows,
                      int64_t C) {
  DX_FUSED_CALL("fusedExpand4Backward", expand4_backward, dx, dw, db, dy, x, w, rows, C);
}
void reduce4_forward(float* y, const float* x, const float* w, const float* b, int64_t rows, int64_t C) {
  DX_FUSED_CALL("fusedReduce4Forward", reduce4_forward, y, x, w, b, rows, C);
}
void reduce4_backward(float* dx, float* dw, float* db, const float* dy, const float* x, const float* w, int64_t rows,
                      int64_t C) {
  DX_FUSED_CALL("fusedReduce4Backward", reduce4_backward, dx, dw, db, dy, x, w, rows, C);
}
void residual_forward(float* out, const float* x, const float* y, const float* g, int64_t rows, int64_t C) {
  DX_FUSED_CALL("fusedResidualForward", residual_forward, out, x, y, g, rows, C);
}
void residual_backward(float* dy, float* dg, const float* dout, const float* y, const float* g, int64_t rows,
                       int64_t C) {
  DX_FUSED_CALL("fusedResidualBackward", residual_backward, dy, dg, dout, y, g, rows, C);
}
void bias_forward(float* y, const float* x, const float* b, int64_t rows, int64_t C) {
  DX_FUSED_CALL("fusedBiasForward", bias_forward, y, x, b, rows, C);
}
void column_sum(float* db, const float* dy, int64_t rows, int64_t C) {
  DX_FUSED_CALL("fusedColumnSum", column_sum, db, dy, rows, C);
}
void add_lrelu_forward(float* y, const float* a, const float* b, int64_t n, double slope) {
  DX_FUSED_CALL("fusedAddLeakyReluForward", add_lrelu_forward, y, a, b, n, slope);
}
void add_forward(float* y, const float* a, const float* b, int64_t n) {
  DX_FUSED_CALL("fusedAdd", add_forward, y, a, b, n);
}
void lrelu_backward(float* dx, const float* dy, const float* y, int64_t n, double slope) {
  DX_FUSED_CALL("fusedLeakyReluBackward", lrelu_backward, dx, dy, y, n, slope);
}
void dicece_forward(float* prob, double* out, const float* z, const int32_t* lab, const float* w, int64_t N,
                    int64_t V, int64_t C, bool has_ignore, int64_t ignore) {
  DX_FUSED_CALL("fusedDiceCeForward", dicece_forward, prob, out, z, lab, w, N, V, C, has_ignore, ignore);
}
void dicece_backward(float* dz, const float* prob, const int32_t* lab, const float* w, const double* stats, int64_t N,
                     int64_t V, int64_t C, bool has_ignore, int64_t ignore, double scale, double w_dice, double w_ce,
                     double wsum, double smooth) {
  DX_FUSED_CALL("fusedDiceCeBackward", dicece_backward, dz, prob, lab, w, stats, N, V, C, has_ignore, ignore, scale,
                w_dice, w_ce, wsum, smooth);
}
double fused_erf(double x) { return fused_generic::fused_erf(x); }

}  // namespace dx
