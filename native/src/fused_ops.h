// Fused channels-last norm/activation/grouped-1x1 kernels of the DeformUX-Net blocks (fused_ops.cc):
// forward + backward, multithreaded on the kernel pool, mirroring src-main/engine/model/fused.ts.
#pragma once
#include <stdint.h>

namespace Napi {
class Env;
class Object;
}  // namespace Napi

namespace dx {

// Every reduction (norm statistics, weight/bias gradients) is summed in double over fixed blocks of
// rows, then the block partials in block order: results do not depend on the thread count.

void ln_forward(float* y, float* xhat, float* rstd, const float* x, const float* w, const float* b, int64_t rows,
                int64_t C, double eps);
void ln_backward(float* dx, float* dw, float* db, const float* dy, const float* xhat, const float* rstd,
                 const float* w, int64_t rows, int64_t C);
/** y is written only when has_slope (the leaky ReLU output); xhat is the normalised input. */
void in_forward(float* y, float* xhat, float* rstd, const float* x, int64_t N, int64_t S, int64_t C, double eps,
                bool has_slope, double slope);
void in_backward(float* dx, const float* dy, const float* xhat, const float* rstd, int64_t N, int64_t S, int64_t C,
                 bool has_slope, double slope);
void gelu_forward(float* y, const float* x, int64_t n);
void gelu_backward(float* dx, const float* dy, const float* x, int64_t n);
void expand4_forward(float* y, const float* x, const float* w, const float* b, int64_t rows, int64_t C);
void expand4_backward(float* dx, float* dw, float* db, const float* dy, const float* x, const float* w, int64_t rows,
                      int64_t C);
void reduce4_forward(float* y, const float* x, const float* w, const float* b, int64_t rows, int64_t C);
void reduce4_backward(float* dx, float* dw, float* db, const float* dy, const float* x, const float* w, int64_t rows,
                      int64_t C);
void residual_forward(float* out, const float* x, const float* y, const float* g, int64_t rows, int64_t C);
void residual_backward(float* dy, float* dg, const float* dout, const float* y, const float* g, int64_t rows,
                       int64_t C);
void bias_forward(float* y, const float* x, const float* b, int64_t rows, int64_t C);
void column_sum(float* db, const float* dy, int64_t rows, int64_t C);
void add_lrelu_forward(float* y, const float* a, const float* b, int64_t n, double slope);
// y = a + b elementwise (tfjs's Add on equal shapes), rounded like the JS backend.
void add_forward(float* y, const float* a, const float* b, int64_t n);
void lrelu_backward(float* dx, const float* dy, const float* y, int64_t n, double slope);
/** Softmax + DiceCE sums (src-main/engine/train/loss.ts): prob, and out = [inter N*C, sums N*C, ce, wsum]. */
void dicece_forward(float* prob, double* out, const float* z, const int32_t* lab, const float* w, int64_t N,
                    int64_t V, int64_t C, bool has_ignore, int64_t ignore);
/** dz of the DiceCE loss (times scale) from dicece_forward's prob and stats; wsum already clamped. */
void dicece_backward(float* dz, const float* prob, const int32_t* lab, const float* w, const double* stats, int64_t N,
                     int64_t V, int64_t C, bool has_ignore, int64_t ignore, double scale, double w_dice, double w_ce,
                     double wsum, double smooth);
/** The scalar erf used by GELU (exposed for the accuracy test). */
double fused_erf(double x);

/** Adds the fused* functions to the addon's exports (called from binding.cc's Init). */
void register_fused_ops(Napi::Env env, Napi::Object exports);

}  // namespace dx
