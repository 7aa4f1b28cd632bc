// N-API glue of the fused block kernels (fused_ops.cc): argument checks naming the op and argument, then a
// synchronous call (they run inside tfjs customGrad functions, which are synchronous). Outputs come first.
#include <napi.h>

#include <cmath>
#include <string>

#include "fused_ops.h"
#include "threadpool.h"

namespace dx {
namespace {

struct Args {
  const Napi::CallbackInfo& info;
  const char* op;

  [[noreturn]] void fail(const std::string& msg) const { throw Napi::Error::New(info.Env(), std::string(op) + ": " + msg); }

  float* arr(size_t i, const char* name, int64_t want) const {
    if (info.Length() <= i || !info[i].IsTypedArray() ||
        info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      fail(std::string("argument ") + name + " must be a Float32Array");
    Napi::Float32Array a = info[i].As<Napi::Float32Array>();
    if (int64_t(a.ElementLength()) != want)
      fail(std::string(name) + " has " + std::to_string(a.ElementLength()) + " values, expected " + std::to_string(want));
    advise_huge_pages(a.Data(), a.ElementLength() * sizeof(float));
    return a.Data();
  }

  template <class T, napi_typedarray_type kType>
  T* typed(size_t i, const char* name, const char* type_name, int64_t want) const {
    if (info.Length() <= i || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != kType)
      fail(std::string("argument ") + name + " must be " + type_name);
    Napi::TypedArrayOf<T> a = info[i].As<Napi::TypedArrayOf<T>>();
    if (int64_t(a.ElementLength()) != want)
      fail(std::string(name) + " has " + std::to_string(a.ElementLength()) + " values, expected " + std::to_string(want));
    return a.Data();
  }
  int32_t* i32(size_t i, const char* name, int64_t want) const {
    return typed<int32_t, napi_int32_array>(i, name, "an Int32Array", want);
  }
  double* f64(size_t i, const char* name, int64_t want) const {
    return typed<double, napi_float64_array>(i, name, "a Float64Array", want);
  }

  double num(size_t i, const char* name) const {
    if (info.Length() <= i || !info[i].IsNumber()) fail(std::string("argument ") + name + " must be a number");
    const double d = info[i].As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d)) fail(std::string("argument ") + name + " must be finite");
    return d;
  }

  int64_t size(size_t i, const char* name) const {
    const double d = num(i, name);
    if (!(d >= 1 && d < 9e15 && double(int64_t(d)) == d)) fail(std::string(name) + " must be a positive integer, got " + std::to_string(d));
    return int64_t(d);
  }

  bool has(size_t i) const { return info.Length() > i && !info[i].IsNull() && !info[i].IsUndefined(); }
};

int64_t mul(const Args& a, int64_t x, int64_t y) {
  int64_t p;
  if (__builtin_mul_overflow(x, y, &p) || p >= (int64_t(1) << 40)) a.fail("tensor too large");
  return p;
}

// (y, xhat, rstd, x, w, b, rows, C, eps)
Napi::Value LnForward(const Napi::CallbackInfo& info) {
  Args a{info, "fusedLayerNormForward"};
  const int64_t rows = a.size(6, "rows"), C = a.size(7, "C"), n = mul(a, rows, C);
  const double eps = a.num(8, "eps");
  ln_forward(a.arr(0, "y", n), a.has(1) ? a.arr(1, "xhat", n) : nullptr, a.arr(2, "rstd", rows), a.arr(3, "x", n), a.arr(4, "w", C),
             a.arr(5, "b", C), rows, C, eps);
  return info.Env().Undefined();
}

// (dx, dw, db, dy, xhat, rstd, w, rows, C)
Napi::Value LnBackward(const Napi::CallbackInfo& info) {
  Args a{info, "fusedLayerNormBackward"};
  const int64_t rows = a.size(7, "rows"), C = a.size(8, "C"), n = mul(a, rows, C);
  ln_backward(a.arr(0, "dx", n), a.arr(1, "dw", C), a.arr(2, "db", C), a.arr(3, "dy", n), a.arr(4, "xhat", n),
              a.arr(5, "rstd", rows), a.arr(6, "w", C), rows, C);
  return info.Env().Undefined();
}

// (y | null, xhat, rstd, x, N, S, C, eps, slope | null): y is required exactly when slope is given.
Napi::Value InForward(const Napi::CallbackInfo& info) {
  Args a{info, "fusedInstanceNormForward"};
  const int64_t N = a.size(4, "N"), S = a.size(5, "S"), C = a.size(6, "C"), n = mul(a, mul(a, N, S), C);
  const double eps = a.num(7, "eps");
  const bool act = a.has(8);
  const double slope = act ? a.num(8, "slope") : 0.0;
  if (act != a.has(0)) a.fail("y must be given exactly when slope is");
  float* y = act ? a.arr(0, "y", n) : nullptr;
  if (!act && !a.has(1)) a.fail("xhat must be given when there is no slope (it is the output)");
  float* xhat = a.has(1) ? a.arr(1, "xhat", n) : nullptr;  // null with a slope: inference keeps no xhat
  in_forward(y, xhat, a.arr(2, "rstd", N * C), a.arr(3, "x", n), N, S, C, eps, act, slope);
  return info.Env().Undefined();
}

// (dx, dy, xhat, rstd, N, S, C, slope | null)
Napi::Value InBackward(const Napi::CallbackInfo& info) {
  Args a{info, "fusedInstanceNormBackward"};
  const int64_t N = a.size(4, "N"), S = a.size(5, "S"), C = a.size(6, "C"), n = mul(a, mul(a, N, S), C);
  const bool act = a.has(7);
  const double slope = act ? a.num(7, "slope") : 0.0;
  in_backward(a.arr(0, "dx", n), a.arr(1, "dy", n), a.arr(2, "xhat", n), a.arr(3, "rstd", N * C), N, S, C, act, slope);
  return info.Env().Undefined();
}

int64_t len(const Args& a, size_t i) {
  if (a.info.Length() <= i || !a.info[i].IsTypedArray()) a.fail("argument " + std::to_string(i) + " must be a Float32Array");
  return int64_t(a.info[i].As<Napi::TypedArray>().ElementLength());
}

// (y, x)
Napi::Value GeluForward(const Napi::CallbackInfo& info) {
  Args a{info, "fusedGeluForward"};
  const int64_t n = len(a, 1);
  gelu_forward(a.arr(0, "y", n), a.arr(1, "x", n), n);
  return info.Env().Undefined();
}

// (dx, dy, x)
Napi::Value GeluBackward(const Napi::CallbackInfo& info) {
  Args a{info, "fusedGeluBackward"};
  const int64_t n = len(a, 2);
  gelu_backward(a.arr(0, "dx", n), a.arr(1, "dy", n), a.arr(2, "x", n), n);
  return info.Env().Undefined();
}

// (y, x, w, b, rows, C): C -> 4C
Napi::Value Expand4Forward(const Napi::CallbackInfo& info) {
  Args a{info, "fusedExpand4Forward"};
  const int64_t rows = a.size(4, "rows"), C = a.size(5, "C"), n = mul(a, rows, C);
  expand4_forward(a.arr(0, "y", 4 * n), a.arr(1, "x", n), a.arr(2, "w", 4 * C), a.arr(3, "b", 4 * C), rows, C);
  return info.Env().Undefined();
}

// (dx, dw, db, dy, x, w, rows, C)
Napi::Value Expand4Backward(const Napi::CallbackInfo& info) {
  Args a{info, "fusedExpand4Backward"};
  const int64_t rows = a.size(6, "rows"), C = a.size(7, "C"), n = mul(a, rows, C);
  expand4_backward(a.arr(0, "dx", n), a.arr(1, "dw", 4 * C), a.arr(2, "db", 4 * C), a.arr(3, "dy", 4 * n),
                   a.arr(4, "x", n), a.arr(5, "w", 4 * C), rows, C);
  return info.Env().Undefined();
}

// (y, x, w, b, rows, C): 4C -> C
Napi::Value Reduce4Forward(const Napi::CallbackInfo& info) {
  Args a{info, "fusedReduce4Forward"};
  const int64_t rows = a.size(4, "rows"), C = a.size(5, "C"), n = mul(a, rows, C);
  reduce4_forward(a.arr(0, "y", n), a.arr(1, "x", 4 * n), a.arr(2, "w", 4 * C), a.arr(3, "b", C), rows, C);
  return info.Env().Undefined();
}

// (dx, dw, db, dy, x, w, rows, C)
Napi::Value Reduce4Backward(const Napi::CallbackInfo& info) {
  Args a{info, "fusedReduce4Backward"};
  const int64_t rows = a.size(6, "rows"), C = a.size(7, "C"), n = mul(a, rows, C);
  reduce4_backward(a.arr(0, "dx", 4 * n), a.arr(1, "dw", 4 * C), a.arr(2, "db", C), a.arr(3, "dy", n),
                   a.arr(4, "x", 4 * n), a.arr(5, "w", 4 * C), rows, C);
  return info.Env().Undefined();
}

// (out, x, y, gamma, rows, C)
Napi::Value ResidualForward(const Napi::CallbackInfo& info) {
  Args a{info, "fusedResidualForward"};
  const int64_t rows = a.size(4, "rows"), C = a.size(5, "C"), n = mul(a, rows, C);
  residual_forward(a.arr(0, "out", n), a.arr(1, "x", n), a.arr(2, "y", n), a.arr(3, "gamma", C), rows, C);
  return info.Env().Undefined();
}

// (dy, dgamma, dout, y, gamma, rows, C)
Napi::Value ResidualBackward(const Napi::CallbackInfo& info) {
  Args a{info, "fusedResidualBackward"};
  const int64_t rows = a.size(5, "rows"), C = a.size(6, "C"), n = mul(a, rows, C);
  residual_backward(a.arr(0, "dy", n), a.arr(1, "dgamma", C), a.arr(2, "dout", n), a.arr(3, "y", n),
                    a.arr(4, "gamma", C), rows, C);
  return info.Env().Undefined();
}

// (y, x, b, rows, C)
Napi::Value BiasForward(const Napi::CallbackInfo& info) {
  Args a{info, "fusedBiasForward"};
  const int64_t rows = a.size(3, "rows"), C = a.size(4, "C"), n = mul(a, rows, C);
  bias_forward(a.arr(0, "y", n), a.arr(1, "x", n), a.arr(2, "b", C), rows, C);
  return info.Env().Undefined();
}

// (db, dy, rows, C): column sums of dy [rows, C]
Napi::Value ColumnSum(const Napi::CallbackInfo& info) {
  Args a{info, "fusedColumnSum"};
  const int64_t rows = a.size(2, "rows"), C = a.size(3, "C"), n = mul(a, rows, C);
  column_sum(a.arr(0, "db", C), a.arr(1, "dy", n), rows, C);
  return info.Env().Undefined();
}

// (y, a, b, slope)
Napi::Value AddLreluForward(const Napi::CallbackInfo& info) {
  Args a{info, "fusedAddLeakyReluForward"};
  const int64_t n = len(a, 1);
  const double slope = a.num(3, "slope");
  add_lrelu_forward(a.arr(0, "y", n), a.arr(1, "a", n), a.arr(2, "b", n), n, slope);
  return info.Env().Undefined();
}

// (y, a, b)
Napi::Value AddForward(const Napi::CallbackInfo& info) {
  Args a{info, "fusedAdd"};
  const int64_t n = len(a, 1);
  add_forward(a.arr(0, "y", n), a.arr(1, "a", n), a.arr(2, "b", n), n);
  return info.Env().Undefined();
}

// (dx, dy, y, slope)
Napi::Value LreluBackward(const Napi::CallbackInfo& info) {
  Args a{info, "fusedLeakyReluBackward"};
  const int64_t n = len(a, 1);
  const double slope = a.num(3, "slope");
  lrelu_backward(a.arr(0, "dx", n), a.arr(1, "dy", n), a.arr(2, "y", n), n, slope);
  return info.Env().Undefined();
}

// Labels must be classes 0..C-1 wherever the weight is not 0 (the JS checks them before calling).
void check_labels(const Args& a, const int32_t* lab, const float* w, int64_t n, int64_t C, bool has_ignore,
                  int64_t ignore) {
  for (int64_t i = 0; i < n; i++) {
    if (has_ignore && lab[i] == ignore) continue;
    if (w && w[i] == 0) continue;
    if (lab[i] < 0 || lab[i] >= C)
      a.fail("label value " + std::to_string(lab[i]) + " is outside the " + std::to_string(C) + " classes");
  }
}

// The loss calls' shared arguments: sizes at 5..7, the ignore label at 8, labels and weights where given.
struct LossArgs {
  int64_t N, V, C, nv, n;
  bool has_ignore;
  int64_t ignore;
  const float* w;
  const int32_t* lab;
};

LossArgs loss_args(const Args& a, size_t lab_at, size_t w_at) {
  LossArgs l{};
  l.N = a.size(5, "N");
  l.V = a.size(6, "V");
  l.C = a.size(7, "C");
  l.nv = mul(a, l.N, l.V);
  l.n = mul(a, l.nv, l.C);
  l.has_ignore = a.has(8);
  l.ignore = l.has_ignore ? int64_t(a.num(8, "ignoreLabel")) : 0;
  l.w = a.has(w_at) ? a.arr(w_at, "weights", l.nv) : nullptr;
  l.lab = a.i32(lab_at, "labels", l.nv);
  check_labels(a, l.lab, l.w, l.nv, l.C, l.has_ignore, l.ignore);
  return l;
}

// (prob, out, z, labels, weights | null, N, V, C, ignoreLabel | null)
Napi::Value DiceCeForward(const Napi::CallbackInfo& info) {
  Args a{info, "fusedDiceCeForward"};
  const LossArgs l = loss_args(a, 3, 4);
  dicece_forward(a.arr(0, "prob", l.n), a.f64(1, "out", 2 * l.N * l.C + 2), a.arr(2, "z", l.n), l.lab, l.w, l.N, l.V,
                 l.C, l.has_ignore, l.ignore);
  return info.Env().Undefined();
}

// (dz, prob, labels, weights | null, stats, N, V, C, ignoreLabel | null, scale, diceWeight, ceWeight, wsum, smooth)
Napi::Value DiceCeBackward(const Napi::CallbackInfo& info) {
  Args a{info, "fusedDiceCeBackward"};
  const LossArgs l = loss_args(a, 2, 3);
  dicece_backward(a.arr(0, "dz", l.n), a.arr(1, "prob", l.n), l.lab, l.w, a.f64(4, "stats", 2 * l.N * l.C + 2), l.N,
                  l.V, l.C, l.has_ignore, l.ignore, a.num(9, "scale"), a.num(10, "diceWeight"), a.num(11, "ceWeight"),
                  a.num(12, "wsum"), a.num(13, "smooth"));
  return info.Env().Undefined();
}

// (x) -> erf(x) as a number: for the accuracy test of the GELU kernels.
Napi::Value Erf(const Napi::CallbackInfo& info) {
  Args a{info, "fusedErf"};
  return Napi::Number::New(info.Env(), fused_erf(a.num(0, "x")));
}

}  // namespace

void register_fused_ops(Napi::Env env, Napi::Object exports) {
  auto fn = [&](const char* name, Napi::Function::Callback cb) { exports.Set(name, Napi::Function::New(env, cb, name)); };
  fn("fusedLayerNormForward", LnForward);
  fn("fusedLayerNormBackward", LnBackward);
  fn("fusedInstanceNormForward", InForward);
  fn("fusedInstanceNormBackward", InBackward);
  fn("fusedGeluForward", GeluForward);
  fn("fusedGeluBackward", GeluBackward);
  fn("fusedExpand4Forward", Expand4Forward);
  fn("fusedExpand4Backward", Expand4Backward);
  fn("fusedReduce4Forward", Reduce4Forward);
  fn("fusedReduce4Backward", Reduce4Backward);
  fn("fusedResidualForward", ResidualForward);
  fn("fusedResidualBackward", ResidualBackward);
  fn("fusedBiasForward", BiasForward);
  fn("fusedColumnSum", ColumnSum);
  fn("fusedAddLeakyReluForward", AddLreluForward);
  fn("fusedLeakyReluBackward", LreluBackward);
  fn("fusedAdd", AddForward);
  fn("fusedDiceCeForward", DiceCeForward);
  fn("fusedDiceCeBackward", DiceCeBackward);
  fn("fusedErf", Erf);
}

}  // namespace dx
