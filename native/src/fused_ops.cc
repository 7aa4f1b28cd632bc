// Fused channels-last kernels of the DeformUX-Net blocks (LayerNorm, InstanceNorm+LeakyReLU, exact GELU,
// grouped 1x1 convs, bias, layer-scaled residual): forward + backward on the kernel thread pool.
// They mirror the JS loops of src-main/engine/model/fused.ts (the reference; tests/native/fused_ops.test.ts):
// per-element arithmetic is done in double and rounded once, as the JS does, so results agree to ~1 ulp.
#include "fused_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "threadpool.h"

namespace dx {
namespace {

// Rows (voxels) per block: the unit of both work splitting and of the fixed reduction order.
constexpr int64_t kRowsPerBlock = 1024;
// Below this many values a kernel runs on the calling thread (waking the pool costs more).
constexpr int64_t kSerialBelow = 1 << 15;

template <class F>
void parallel_blocks(int64_t nblocks, int64_t work, F&& f) {
  if (nblocks <= 1 || work < kSerialBelow || pool_threads() == 1) {
    for (int64_t b = 0; b < nblocks; b++) f(b);
    return;
  }
  struct Ctx {
    F* f;
    int64_t nb;
  } ctx{&f, nblocks};
  pool_run(
      [](void* p, int tid, int nt) {
        auto* c = static_cast<Ctx*>(p);
        const int64_t lo = c->nb * tid / nt, hi = c->nb * (tid + 1) / nt;
        for (int64_t b = lo; b < hi; b++) (*c->f)(b);
      },
      &ctx);
}

int64_t blocks_of(int64_t rows) { return (rows + kRowsPerBlock - 1) / kRowsPerBlock; }

// Sums per-block partials [nb][C] in block order into out (float).
void sum_partials(float* out, const std::vector<double>& part, int64_t nb, int64_t C) {
  for (int64_t c = 0; c < C; c++) {
    double s = 0;
    for (int64_t b = 0; b < nb; b++) s += part[b * C + c];
    out[c] = float(s);
  }
}

}  // namespace

void ln_forward(float* y, float* xhat, float* rstd, const float* x, const float* w, const float* b, int64_t rows,
                int64_t C, double eps) {
  const int64_t nb = blocks_of(rows);
  parallel_blocks(nb, rows * C, [&](int64_t blk) {
    const int64_t r1 = std::min(rows, (blk + 1) * kRowsPerBlock);
    for (int64_t r = blk * kRowsPerBlock; r < r1; r++) {
      const float* xr = x + r * C;
      double mean = 0;
      for (int64_t c = 0; c < C; c++) mean += xr[c];
      mean /= double(C);
      double v = 0;
      for (int64_t c = 0; c < C; c++) {
        const double d = xr[c] - mean;
        v += d * d;
      }
      const double rs = 1 / std::sqrt(v / double(C) + eps);
      rstd[r] = float(rs);
      float* hr = xhat + r * C;
      float* yr = y + r * C;
      for (int64_t c = 0; c < C; c++) {
        const double h = (xr[c] - mean) * rs;
        hr[c] = float(h);
        yr[c] = float(h * w[c] + b[c]);
      }
    }
  });
}

void ln_backward(float* dx, float* dw, float* db, const float* dy, const float* xhat, const float* rstd,
                 const float* w, int64_t rows, int64_t C) {
  const int64_t nb = blocks_of(rows);
  std::vector<double> pw(size_t(nb * C), 0.0), pb(size_t(nb * C), 0.0);
  parallel_blocks(nb, rows * C, [&](int64_t blk) {
    double* dwp = &pw[size_t(blk * C)];
    double* dbp = &pb[size_t(blk * C)];
    const int64_t r1 = std::min(rows, (blk + 1) * kRowsPerBlock);
    for (int64_t r = blk * kRowsPerBlock; r < r1; r++) {
      const float* g = dy + r * C;
      const float* h = xhat + r * C;
      double m1 = 0, m2 = 0;
      for (int64_t c = 0; c < C; c++) {
        const double gw = double(g[c]) * w[c];
        m1 += gw;
        m2 += gw * h[c];
        dwp[c] += double(g[c]) * h[c];
        dbp[c] += g[c];
      }
      m1 /= double(C);
      m2 /= double(C);
      const double rs = rstd[r];
      float* d = dx + r * C;
      for (int64_t c = 0; c < C; c++) d[c] = float(rs * (double(g[c]) * w[c] - m1 - h[c] * m2));
    }
  });
  sum_partials(dw, pw, nb, C);
  sum_partials(db, pb, nb, C);
}

void in_forward(float* y, float* xhat, float* rstd, const float* x, int64_t N, int64_t S, int64_t C, double eps,
                bool has_slope, double slope) {
  const int64_t nb = blocks_of(S);
  std::vector<double> part(static_cast<size_t>(nb * C)), mean(static_cast<size_t>(C)), rs(static_cast<size_t>(C));
  for (int64_t n = 0; n < N; n++) {
    const int64_t base = n * S * C;
    // Two passes (mean, then squared deviations): no cancellation for large-mean channels.
    std::fill(part.begin(), part.end(), 0.0);
    parallel_blocks(nb, S * C, [&](int64_t blk) {
      double* p = &part[size_t(blk * C)];
      const int64_t s1 = std::min(S, (blk + 1) * kRowsPerBlock);
      for (int64_t s = blk * kRowsPerBlock; s < s1; s++) {
        const float* xr = x + base + s * C;
        for (int64_t c = 0; c < C; c++) p[c] += xr[c];
      }
    });
    for (int64_t c = 0; c < C; c++) {
      double t = 0;
      for (int64_t b = 0; b < nb; b++) t += part[size_t(b * C + c)];
      mean[size_t(c)] = t / double(S);
    }
    std::fill(part.begin(), part.end(), 0.0);
    parallel_blocks(nb, S * C, [&](int64_t blk) {
      double* p = &part[size_t(blk * C)];
      const int64_t s1 = std::min(S, (blk + 1) * kRowsPerBlock);
      for (int64_t s = blk * kRowsPerBlock; s < s1; s++) {
        const float* xr = x + base + s * C;
        for (int64_t c = 0; c < C; c++) {
          const double d = xr[c] - mean[size_t(c)];
          p[c] += d * d;
        }
      }
    });
    for (int64_t c = 0; c < C; c++) {
      double t = 0;
      for (int64_t b = 0; b < nb; b++) t += part[size_t(b * C + c)];
      const float r = float(1 / std::sqrt(t / double(S) + eps));
      rstd[n * C + c] = r;
      rs[size_t(c)] = r;  // the JS normalises with the float32-rounded rstd
    }
    parallel_blocks(nb, S * C, [&](int64_t blk) {
      const int64_t s1 = std::min(S, (blk + 1) * kRowsPerBlock);
      for (int64_t s = blk * kRowsPerBlock; s < s1; s++) {
        const int64_t o = base + s * C;
        for (int64_t c = 0; c < C; c++) {
          const float h = float((x[o + c] - mean[size_t(c)]) * rs[size_t(c)]);
          xhat[o + c] = h;
          if (has_slope) y[o + c] = h > 0 ? h : float(slope * h);
        }
      }
    });
  }
}

void in_backward(float* dx, const float* dy, const float* xhat, const float* rstd, int64_t N, int64_t S, int64_t C,
                 bool has_slope, double slope) {
  const int64_t nb = blocks_of(S);
  std::vector<double> p1(static_cast<size_t>(nb * C)), p2(static_cast<size_t>(nb * C)), m1(static_cast<size_t>(C)),
      m2(static_cast<size_t>(C));
  // The leaky-ReLU mask, recomputed where needed instead of stored (xhat > 0 <=> output > 0); without the
  // activation the factor 1 gives dy exactly. Branch-free so that the channel loops vectorise.
  const double sl = has_slope ? slope : 1.0;
  for (int64_t n = 0; n < N; n++) {
    const int64_t base = n * S * C;
    std::fill(p1.begin(), p1.end(), 0.0);
    std::fill(p2.begin(), p2.end(), 0.0);
    parallel_blocks(nb, S * C, [&](int64_t blk) {
      double* __restrict a = &p1[size_t(blk * C)];
      double* __restrict q = &p2[size_t(blk * C)];
      const int64_t s1 = std::min(S, (blk + 1) * kRowsPerBlock);
      for (int64_t s = blk * kRowsPerBlock; s < s1; s++) {
        const float* __restrict h = xhat + base + s * C;
        const float* __restrict d = dy + base + s * C;
        for (int64_t c = 0; c < C; c++) {
          const float g = h[c] > 0 ? d[c] : float(sl * d[c]);
          a[c] += g;
          q[c] += double(g) * h[c];
        }
      }
    });
    for (int64_t c = 0; c < C; c++) {
      double t1 = 0, t2 = 0;
      for (int64_t b = 0; b < nb; b++) {
        t1 += p1[size_t(b * C + c)];
        t2 += p2[size_t(b * C + c)];
      }
      m1[size_t(c)] = t1 / double(S);
      m2[size_t(c)] = t2 / double(S);
    }
    parallel_blocks(nb, S * C, [&](int64_t blk) {
      const double* __restrict mm1 = m1.data();
      const double* __restrict mm2 = m2.data();
      const float* __restrict r = rstd + n * C;
      const int64_t s1 = std::min(S, (blk + 1) * kRowsPerBlock);
      for (int64_t s = blk * kRowsPerBlock; s < s1; s++) {
        const float* __restrict h = xhat + base + s * C;
        const float* __restrict d = dy + base + s * C;
        float* __restrict o = dx + base + s * C;
        for (int64_t c = 0; c < C; c++) {
          const float g = h[c] > 0 ? d[c] : float(sl * d[c]);
          o[c] = float(double(r[c]) * (g - mm1[c] - h[c] * mm2[c]));
        }
      }
    });
  }
}

// erf: Taylor series (7 terms, error < 1e-9) for |x| < 0.5, where GELU's gradient needs erf(x)/x accurately;
// beyond, the Chebyshev-fitted erfc (fractional error < 1.2e-7), the same formula as fused.ts.
namespace {
double erfc_fit(double a) {  // a >= 0.5
  const double t = 1 / (1 + 0.5 * a);
  return t * std::exp(-a * a - 1.26551223 +
                      t * (1.00002368 +
                           t * (0.37409196 +
                                t * (0.09678418 +
                                     t * (-0.18628806 +
                                          t * (0.27886807 +
                                               t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
}
double erf_taylor(double x) {  // |x| < 0.5
  const double x2 = x * x;
  return 1.1283791670955126 * x *
         (1 + x2 * (-1.0 / 3 + x2 * (1.0 / 10 + x2 * (-1.0 / 42 + x2 * (1.0 / 216 + x2 * (-1.0 / 1320 + x2 / 9360))))));
}
// Phi(v) = (1 + erf(v / sqrt 2)) / 2, taken from erfc directly in the left tail (1 + erf would cancel to 0).
double normal_cdf(double v) {
  const double z = v * M_SQRT1_2, a = std::fabs(z);
  if (a < 0.5) return 0.5 * (1 + erf_taylor(z));
  const double tail = 0.5 * erfc_fit(a);
  return z >= 0 ? 1 - tail : tail;
}
}  // namespace

double fused_erf(double x) {
  const double a = std::fabs(x);
  if (a < 0.5) return erf_taylor(x);
  const double erfc = erfc_fit(a);
  return x >= 0 ? 1 - erfc : erfc - 1;
}

void gelu_forward(float* y, const float* x, int64_t n) {
  const int64_t nb = (n + 16 * kRowsPerBlock - 1) / (16 * kRowsPerBlock);
  parallel_blocks(nb, n * 8, [&](int64_t blk) {
    const int64_t i1 = std::min(n, (blk + 1) * 16 * kRowsPerBlock);
    for (int64_t i = blk * 16 * kRowsPerBlock; i < i1; i++) {
      const double v = x[i];
      y[i] = float(v * normal_cdf(v));
    }
  });
}

void gelu_backward(float* dx, const float* dy, const float* x, int64_t n) {
  const double k = 1 / std::sqrt(2 * M_PI);
  const int64_t nb = (n + 16 * kRowsPerBlock - 1) / (16 * kRowsPerBlock);
  parallel_blocks(nb, n * 8, [&](int64_t blk) {
    const int64_t i1 = std::min(n, (blk + 1) * 16 * kRowsPerBlock);
    for (int64_t i = blk * 16 * kRowsPerBlock; i < i1; i++) {
      const double v = x[i];
      dx[i] = float(dy[i] * (normal_cdf(v) + v * k * std::exp(-0.5 * v * v)));
    }
  });
}

void expand4_forward(float* y, const float* x, const float* w, const float* b, int64_t rows, int64_t C) {
  parallel_blocks(blocks_of(rows), rows * C * 4, [&](int64_t blk) {
    const int64_t r1 = std::min(rows, (blk + 1) * kRowsPerBlock);
    for (int64_t r = blk * kRowsPerBlock; r < r1; r++) {
      const float* xr = x + r * C;
      float* yr = y + r * 4 * C;
      for (int64_t c = 0; c < C; c++)
        for (int j = 0; j < 4; j++) yr[4 * c + j] = float(double(xr[c]) * w[4 * c + j] + b[4 * c + j]);
    }
  });
}

void expand4_backward(float* dx, float* dw, float* db, const float* dy, const float* x, const float* w, int64_t rows,
                      int64_t C) {
  const int64_t nb = blocks_of(rows), C4 = 4 * C;
  std::vector<double> pw(size_t(nb * C4), 0.0), pb(size_t(nb * C4), 0.0);
  parallel_blocks(nb, rows * C4, [&](int64_t blk) {
    double* dwp = &pw[size_t(blk * C4)];
    double* dbp = &pb[size_t(blk * C4)];
    const int64_t r1 = std::min(rows, (blk + 1) * kRowsPerBlock);
    for (int64_t r = blk * kRowsPerBlock; r < r1; r++) {
      const float* xr = x + r * C;
      const float* g = dy + r * C4;
      for (int64_t c = 0; c < C; c++) {
        double acc = 0;
        const double v = xr[c];
        for (int j = 0; j < 4; j++) {
          const double gj = g[4 * c + j];
          acc += gj * w[4 * c + j];
          dwp[4 * c + j] += gj * v;
          dbp[4 * c + j] += gj;
        }
        dx[r * C + c] = float(acc);
      }
    }
  });
  sum_partials(dw, pw, nb, C4);
  sum_partials(db, pb, nb, C4);
}

void reduce4_forward(float* y, const float* x, const float* w, const float* b, int64_t rows, int64_t C) {
  parallel_blocks(blocks_of(rows), rows * C * 4, [&](int64_t blk) {
    const int64_t r1 = std::min(rows, (blk + 1) * kRowsPerBlock);
    for (int64_t r = blk * kRowsPerBlock; r < r1; r++) {
      const float* xr = x + r * 4 * C;
      for (int64_t c = 0; c < C; c++) {
        double acc = b[c];
        for (int j = 0; j < 4; j++) acc += double(xr[4 * c + j]) * w[4 * c + j];
        y[r * C + c] = float(acc);
      }
    }
  });
}

void reduce4_backward(float* dx, float* dw, float* db, const float* dy, const float* x, const float* w, int64_t rows,
                      int64_t C) {
  const int64_t nb = blocks_of(rows), C4 = 4 * C;
  std::vector<double> pw(size_t(nb * C4), 0.0), pb(size_t(nb * C), 0.0);
  parallel_blocks(nb, rows * C4, [&](int64_t blk) {
    double* dwp = &pw[size_t(blk * C4)];
    double* dbp = &pb[size_t(blk * C)];
    const int64_t r1 = std::min(rows, (blk + 1) * kRowsPerBlock);
    for (int64_t r = blk * kRowsPerBlock; r < r1; r++) {
      const float* xr = x + r * C4;
      float* d = dx + r * C4;
      for (int64_t c = 0; c < C; c++) {
        const float g = dy[r * C + c];
        dbp[c] += g;
        for (int j = 0; j < 4; j++) {
          d[4 * c + j] = g * w[4 * c + j];
          dwp[4 * c + j] += double(g) * xr[4 * c + j];
        }
      }
    }
  });
  sum_partials(dw, pw, nb, C4);
  sum_partials(db, pb, nb, C);
}

void residual_forward(float* out, const float* x, const float* y, const float* g, int64_t rows, int64_t C) {
  parallel_blocks(blocks_of(rows), rows * C, [&](int64_t blk) {
    const int64_t r1 = std::min(rows, (blk + 1) * kRowsPerBlock);
    for (int64_t o = blk * kRowsPerBlock * C; o < r1 * C; o += C)
      for (int64_t c = 0; c < C; c++) out[o + c] = float(x[o + c] + double(g[c]) * y[o + c]);
  });
}

void residual_backward(float* dy, float* dg, const float* dout, const float* y, const float* g, int64_t rows,
                       int64_t C) {
  const int64_t nb = blocks_of(rows);
  std::vector<double> pg(size_t(nb * C), 0.0);
  parallel_blocks(nb, rows * C, [&](int64_t blk) {
    double* p = &pg[size_t(blk * C)];
    const int64_t r1 = std::min(rows, (blk + 1) * kRowsPerBlock);
    for (int64_t o = blk * kRowsPerBlock * C; o < r1 * C; o += C)
      for (int64_t c = 0; c < C; c++) {
        dy[o + c] = dout[o + c] * g[c];
        p[c] += double(dout[o + c]) * y[o + c];
      }
  });
  sum_partials(dg, pg, nb, C);
}

void bias_forward(float* y, const float* x, const float* b, int64_t rows, int64_t C) {
  parallel_blocks(blocks_of(rows), rows * C, [&](int64_t blk) {
    const int64_t r1 = std::min(rows, (blk + 1) * kRowsPerBlock);
    for (int64_t o = blk * kRowsPerBlock * C; o < r1 * C; o += C)
      for (int64_t c = 0; c < C; c++) y[o + c] = x[o + c] + b[c];
  });
}

void column_sum(float* db, const float* dy, int64_t rows, int64_t C) {
  const int64_t nb = blocks_of(rows);
  std::vector<double> pb(size_t(nb * C), 0.0);
  parallel_blocks(nb, rows * C, [&](int64_t blk) {
    double* p = &pb[size_t(blk * C)];
    const int64_t r1 = std::min(rows, (blk + 1) * kRowsPerBlock);
    for (int64_t o = blk * kRowsPerBlock * C; o < r1 * C; o += C)
      for (int64_t c = 0; c < C; c++) p[c] += dy[o + c];
  });
  sum_partials(db, pb, nb, C);
}

void add_lrelu_forward(float* y, const float* a, const float* b, int64_t n, double slope) {
  const int64_t blk_n = 16 * kRowsPerBlock, nb = (n + blk_n - 1) / blk_n;
  parallel_blocks(nb, n, [&](int64_t blk) {
    const int64_t i1 = std::min(n, (blk + 1) * blk_n);
    for (int64_t i = blk * blk_n; i < i1; i++) {
      const double s = double(a[i]) + b[i];
      y[i] = float(s > 0 ? s : slope * s);
    }
  });
}

void lrelu_backward(float* dx, const float* dy, const float* y, int64_t n, double slope) {
  const int64_t blk_n = 16 * kRowsPerBlock, nb = (n + blk_n - 1) / blk_n;
  parallel_blocks(nb, n, [&](int64_t blk) {
    const int64_t i1 = std::min(n, (blk + 1) * blk_n);
    for (int64_t i = blk * blk_n; i < i1; i++) dx[i] = y[i] > 0 ? dy[i] : float(slope * dy[i]);
  });
}

}  // namespace dx
