// N-API glue of the deformux kernels: checks every argument (DX_CHECK -> JS exception), picks the ISA,
// and runs each kernel synchronously (tfjs kernelFunc) or on the libuv pool (the *Async variants).
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#include <unistd.h>
#endif
#include <napi.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "check.h"
#include "cpu_features.h"
#include "cuda_loader.h"
#include "fused_ops.h"
#include "kernels.h"
#include "threadpool.h"

namespace {

#define DX_ADDON_VERSION "1.0.0"

struct Arr {
  float* p;
  int64_t n;
};

// A prepared kernel call: run() returns "" or an error; `keep` holds the arrays alive for async calls.
struct Job {
  std::function<std::string()> run;
  std::vector<Napi::Value> keep;
};

Arr f32(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, bool nullable = false) {
  if (nullable && (info.Length() <= i || info[i].IsNull() || info[i].IsUndefined())) return {nullptr, 0};
  DX_CHECK(info.Length() > i && info[i].IsTypedArray(), op << ": argument " << name << " must be a Float32Array");
  Napi::TypedArray ta = info[i].As<Napi::TypedArray>();
  DX_CHECK(ta.TypedArrayType() == napi_float32_array, op << ": argument " << name << " must be a Float32Array");
  Napi::Float32Array fa = ta.As<Napi::Float32Array>();
  dx::advise_huge_pages(fa.Data(), fa.ElementLength() * sizeof(float));
  return {fa.Data(), int64_t(fa.ElementLength())};
}

std::vector<int64_t> ints(const Napi::CallbackInfo& info, size_t i, const char* op, size_t count) {
  DX_CHECK(info.Length() > i && info[i].IsArray(), op << ": the last argument must be an array of " << count << " sizes");
  Napi::Array a = info[i].As<Napi::Array>();
  DX_CHECK(a.Length() == count, op << ": expected " << count << " sizes, got " << a.Length());
  std::vector<int64_t> out(count);
  for (uint32_t j = 0; j < count; j++) {
    Napi::Value v = a.Get(j);
    DX_CHECK(v.IsNumber(), op << ": size " << j << " is not a number");
    const double d = v.As<Napi::Number>().DoubleValue();
    DX_CHECK(d == d && d >= 0 && d < 9e15 && double(int64_t(d)) == d, op << ": size " << j << " must be a non-negative integer, got " << d);
    out[j] = int64_t(d);
  }
  return out;
}

int64_t prod(const char* op, std::initializer_list<int64_t> xs) {
  int64_t p = 1;
  for (int64_t x : xs) DX_CHECK(!__builtin_mul_overflow(p, x, &p) && p < (int64_t(1) << 40), op << ": tensor too large");
  return p;
}

void check_len(const char* op, const char* name, const Arr& a, int64_t want) {
  DX_CHECK(a.n == want, op << ": " << name << " has " << a.n << " values, expected " << want);
}

std::string status_text(int st, const char* op) {
  switch (st) {
    case dx::kOk:
      return "";
    case dx::kNonFiniteOffset:
      return std::string(op) + ": offset contains a non-finite value (NaN or Infinity)";
    case dx::kNoMemory:
      return std::string(op) + ": out of memory for kernel scratch buffers";
    default:
      return std::string(op) + ": kernel failed with status " + std::to_string(st);
  }
}

bool all_finite(const Arr& a) {
  for (int64_t i = 0; i < a.n; i++)
    if (!std::isfinite(a.p[i])) return false;
  return true;
}

#define DX_DISPATCH(fn, ...)                                                          \
  (dx::current_isa() == dx::Isa::Avx512 ? dx_avx512::fn(__VA_ARGS__)                 \
   : dx::current_isa() == dx::Isa::Avx2 ? dx_avx2::fn(__VA_ARGS__)                    \
                                        : dx_generic::fn(__VA_ARGS__))

// ---- DeformDwConv3D -------------------------------------------------------------------------------

dx::DeformDims deform_dims(const char* op, const std::vector<int64_t>& v) {
  dx::DeformDims s{v[0], v[1], v[2], v[3], v[4], int(v[5]), int(v[6])};
  DX_CHECK(s.N > 0 && s.D > 0 && s.H > 0 && s.W > 0 && s.C > 0, op << ": sizes must be positive");
  DX_CHECK(s.k >= 1 && s.k <= 7 && s.k % 2 == 1, op << ": kernel size must be odd and at most 7, got " << s.k);
  DX_CHECK(s.G >= 1 && s.C % s.G == 0, op << ": channels C=" << s.C << " must be divisible by groups G=" << s.G);
  // The kernels index x with 32-bit element offsets.
  DX_CHECK(double(s.N) * s.D * s.H * s.W * (s.C + 1) < 2147483647.0, op << ": x is too large (2^31 values at most)");
  return s;
}

enum class Impl { Cpu, Ref, Cuda };

template <Impl I>
Job deform_forward_job(const Napi::CallbackInfo& info) {
  const char* op = "deformDwConv3d";
  Arr y = f32(info, 0, op, "y"), x = f32(info, 1, op, "x"), off = f32(info, 2, op, "offset"),
      w = f32(info, 3, op, "weight"), b = f32(info, 4, op, "bias");
  const std::vector<int64_t> v = ints(info, 5, op, 7);
  const dx::DeformDims s = deform_dims(op, v);
  const int64_t K = int64_t(s.k) * s.k * s.k, nx = prod(op, {s.N, s.D, s.H, s.W, s.C});
  check_len(op, "y", y, nx);
  check_len(op, "x", x, nx);
  check_len(op, "offset", off, prod(op, {s.N, s.D, s.H, s.W, s.G, K, 3}));
  check_len(op, "weight", w, K * s.C);
  check_len(op, "bias", b, s.C);
  Job j;
  j.run = [=]() -> std::string {
    if (I == Impl::Ref) {
      dx::deform_dwconv3d_forward_ref(y.p, x.p, off.p, w.p, b.p, s);
      return "";
    }
    if (I == Impl::Cuda) {
      if (!all_finite(off)) return status_text(dx::kNonFiniteOffset, op);
      return dx::cuda_deform_forward(y.p, x.p, off.p, w.p, b.p, v.data());
    }
    return status_text(DX_DISPATCH(deform_dwconv3d_forward, y.p, x.p, off.p, w.p, b.p, s), op);
  };
  for (size_t i = 0; i < 5; i++) j.keep.push_back(info[i]);
  return j;
}

template <Impl I>
Job deform_backward_job(const Napi::CallbackInfo& info) {
  const char* op = "deformDwConv3d backward";
  Arr dxa = f32(info, 0, op, "dx"), dof = f32(info, 1, op, "doffset"), dw = f32(info, 2, op, "dweight"),
      db = f32(info, 3, op, "dbias"), dy = f32(info, 4, op, "dy"), x = f32(info, 5, op, "x"),
      off = f32(info, 6, op, "offset"), w = f32(info, 7, op, "weight");
  const std::vector<int64_t> v = ints(info, 8, op, 7);
  const dx::DeformDims s = deform_dims(op, v);
  const int64_t K = int64_t(s.k) * s.k * s.k, nx = prod(op, {s.N, s.D, s.H, s.W, s.C}),
                noff = prod(op, {s.N, s.D, s.H, s.W, s.G, K, 3});
  check_len(op, "dx", dxa, nx);
  check_len(op, "doffset", dof, noff);
  check_len(op, "dweight", dw, K * s.C);
  check_len(op, "dbias", db, s.C);
  check_len(op, "dy", dy, nx);
  check_len(op, "x", x, nx);
  check_len(op, "offset", off, noff);
  check_len(op, "weight", w, K * s.C);
  Job j;
  j.run = [=]() -> std::string {
    if (I == Impl::Ref) {
      dx::deform_dwconv3d_backward_ref(dxa.p, dof.p, dw.p, db.p, dy.p, x.p, off.p, w.p, s);
      return "";
    }
    if (I == Impl::Cuda) {
      if (!all_finite(off)) return status_text(dx::kNonFiniteOffset, op);
      return dx::cuda_deform_backward(dxa.p, dof.p, dw.p, db.p, dy.p, x.p, off.p, w.p, v.data());
    }
    return status_text(DX_DISPATCH(deform_dwconv3d_backward, dxa.p, dof.p, dw.p, db.p, dy.p, x.p, off.p, w.p, s), op);
  };
  for (size_t i = 0; i < 8; i++) j.keep.push_back(info[i]);
  return j;
}

// ---- Depthwise conv3d -------------------------------------------------------------------------------

dx::DwDims dw_dims(const char* op, const std::vector<int64_t>& v) {
  dx::DwDims s{v[0], v[1], v[2], v[3], v[4], int(v[5])};
  DX_CHECK(s.N > 0 && s.D > 0 && s.H > 0 && s.W > 0 && s.C > 0, op << ": sizes must be positive");
  DX_CHECK(s.k >= 1 && s.k <= 7 && s.k % 2 == 1, op << ": kernel size must be odd and at most 7, got " << s.k);
  return s;
}

template <Impl I>
Job depthwise_forward_job(const Napi::CallbackInfo& info) {
  const char* op = "depthwiseConv3d";
  Arr y = f32(info, 0, op, "y"), x = f32(info, 1, op, "x"), w = f32(info, 2, op, "weight"),
      b = f32(info, 3, op, "bias", true);
  const std::vector<int64_t> v = ints(info, 4, op, 6);
  const dx::DwDims s = dw_dims(op, v);
  const int64_t nx = prod(op, {s.N, s.D, s.H, s.W, s.C});
  check_len(op, "y", y, nx);
  check_len(op, "x", x, nx);
  check_len(op, "weight", w, int64_t(s.k) * s.k * s.k * s.C);
  if (b.p) check_len(op, "bias", b, s.C);
  Job j;
  j.run = [=]() -> std::string {
    if (I == Impl::Ref) {
      dx::depthwise_conv3d_forward_ref(y.p, x.p, w.p, b.p, s);
      return "";
    }
    if (I == Impl::Cuda) return dx::cuda_depthwise_forward(y.p, x.p, w.p, b.p, v.data());
    return status_text(DX_DISPATCH(depthwise_conv3d_forward, y.p, x.p, w.p, b.p, s), op);
  };
  for (size_t i = 0; i < 4; i++) j.keep.push_back(info[i]);
  return j;
}

template <Impl I>
Job depthwise_backward_job(const Napi::CallbackInfo& info) {
  const char* op = "depthwiseConv3d backward";
  Arr dxa = f32(info, 0, op, "dx"), dw = f32(info, 1, op, "dweight"), db = f32(info, 2, op, "dbias", true),
      dy = f32(info, 3, op, "dy"), x = f32(info, 4, op, "x"), w = f32(info, 5, op, "weight");
  const std::vector<int64_t> v = ints(info, 6, op, 6);
  const dx::DwDims s = dw_dims(op, v);
  const int64_t nx = prod(op, {s.N, s.D, s.H, s.W, s.C}), nw = int64_t(s.k) * s.k * s.k * s.C;
  check_len(op, "dx", dxa, nx);
  check_len(op, "dweight", dw, nw);
  if (db.p) check_len(op, "dbias", db, s.C);
  check_len(op, "dy", dy, nx);
  check_len(op, "x", x, nx);
  check_len(op, "weight", w, nw);
  Job j;
  j.run = [=]() -> std::string {
    if (I == Impl::Ref) {
      dx::depthwise_conv3d_backward_ref(dxa.p, dw.p, db.p, dy.p, x.p, w.p, s);
      return "";
    }
    if (I == Impl::Cuda) return dx::cuda_depthwise_backward(dxa.p, dw.p, db.p, dy.p, x.p, w.p, v.data());
    return status_text(DX_DISPATCH(depthwise_conv3d_backward, dxa.p, dw.p, db.p, dy.p, x.p, w.p, s), op);
  };
  for (size_t i = 0; i < 6; i++) j.keep.push_back(info[i]);
  return j;
}

// ---- Dense conv3d -------------------------------------------------------------------------------------

dx::ConvDims conv_dims(const char* op, const std::vector<int64_t>& v) {
  dx::ConvDims s{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], int(v[9]), int(v[10]), int(v[11]),
                 int(v[12]), int(v[13]), int(v[14]), int(v[15]), int(v[16]), int(v[17])};
  DX_CHECK(s.N > 0 && s.inD > 0 && s.inH > 0 && s.inW > 0 && s.Cin > 0 && s.outD > 0 && s.outH > 0 && s.outW > 0 &&
               s.Cout > 0,
           op << ": sizes must be positive");
  DX_CHECK(s.kd >= 1 && s.kh >= 1 && s.kw >= 1 && s.kd <= 15 && s.kh <= 15 && s.kw <= 15, op << ": filter size must be 1..15");
  DX_CHECK(s.sd >= 1 && s.sh >= 1 && s.sw >= 1 && s.sd <= 8 && s.sh <= 8 && s.sw <= 8, op << ": strides must be 1..8");
  DX_CHECK(s.pf >= 0 && s.pt >= 0 && s.pl >= 0 && s.pf < s.kd && s.pt < s.kh && s.pl < s.kw,
           op << ": padding must be >= 0 and smaller than the filter");
  // Output size must be what this padding gives (at most filter-1 zeros at the back).
  DX_CHECK((s.outD - 1) * s.sd + s.kd - s.pf <= s.inD + s.kd - 1 && (s.outH - 1) * s.sh + s.kh - s.pt <= s.inH + s.kh - 1 &&
               (s.outW - 1) * s.sw + s.kw - s.pl <= s.inW + s.kw - 1,
           op << ": output size does not fit the input, filter, stride and padding");
  return s;
}

struct ConvArrs {
  dx::ConvDims s;
  int64_t nx, ny, nf;
};

ConvArrs conv_sizes(const char* op, const Napi::CallbackInfo& info, size_t i) {
  ConvArrs c;
  c.s = conv_dims(op, ints(info, i, op, 18));
  c.nx = prod(op, {c.s.N, c.s.inD, c.s.inH, c.s.inW, c.s.Cin});
  c.ny = prod(op, {c.s.N, c.s.outD, c.s.outH, c.s.outW, c.s.Cout});
  c.nf = prod(op, {c.s.kd, c.s.kh, c.s.kw, c.s.Cin, c.s.Cout});
  return c;
}

// The three ops share one layout of arguments: (out, a, b, sizes), outputs first.
const char* const kConvOpName[3] = {"conv3d", "conv3dBackpropInput", "conv3dBackpropFilter"};
const char* const kConvOpKey[3] = {"forward", "backpropInput", "backpropFilter"};
const char* const kConvArgName[3][3] = {{"y", "x", "filter"}, {"dx", "dy", "filter"}, {"dfilter", "x", "dy"}};

struct ConvCall {
  Arr out, a, b;
  dx::ConvDims s;
};

// Reads and checks the arrays at info[at .. at + 2] and the sizes at info[at + 3] of op `o` (a dx::ConvOp).
ConvCall conv_call(const Napi::CallbackInfo& info, size_t at, int o) {
  const char* op = kConvOpName[o];
  const char* const* nm = kConvArgName[o];
  ConvCall c{f32(info, at, op, nm[0]), f32(info, at + 1, op, nm[1]), f32(info, at + 2, op, nm[2]), {}};
  const ConvArrs z = conv_sizes(op, info, at + 3);
  const int64_t want[3][3] = {{z.ny, z.nx, z.nf}, {z.nx, z.ny, z.nf}, {z.nf, z.nx, z.ny}};
  check_len(op, nm[0], c.out, want[o][0]);
  check_len(op, nm[1], c.a, want[o][1]);
  check_len(op, nm[2], c.b, want[o][2]);
  c.s = z.s;
  return c;
}

int conv_kernel(int o, const ConvCall& c, dx::ConvRun* run) {
  if (o == dx::kConvForward) return DX_DISPATCH(conv3d_forward, c.out.p, c.a.p, c.b.p, c.s, run);
  if (o == dx::kConvBackpropInput) return DX_DISPATCH(conv3d_backprop_input, c.out.p, c.a.p, c.b.p, c.s, run);
  return DX_DISPATCH(conv3d_backprop_filter, c.out.p, c.a.p, c.b.p, c.s, run);
}

void conv_reference(int o, const ConvCall& c) {
  if (o == dx::kConvForward)
    dx::conv3d_forward_ref(c.out.p, c.a.p, c.b.p, c.s);
  else if (o == dx::kConvBackpropInput)
    dx::conv3d_backprop_input_ref(c.out.p, c.a.p, c.b.p, c.s);
  else
    dx::conv3d_backprop_filter_ref(c.out.p, c.a.p, c.b.p, c.s);
}

template <Impl I, int O>
Job conv_job(const Napi::CallbackInfo& info) {
  const ConvCall c = conv_call(info, 0, O);
  Job j;
  j.run = [=]() -> std::string {
    if (I == Impl::Ref) {
      conv_reference(O, c);
      return "";
    }
    return status_text(conv_kernel(O, c, nullptr), kConvOpName[O]);
  };
  for (size_t i = 0; i < 3; i++) j.keep.push_back(info[i]);
  return j;
}

// ---- Sync / async wrappers -----------------------------------------------------------------------------

using Maker = Job (*)(const Napi::CallbackInfo&);

[[noreturn]] void throw_js(Napi::Env env, const std::string& msg) { throw Napi::Error::New(env, msg); }

template <Maker M>
Napi::Value Sync(const Napi::CallbackInfo& info) {
  std::string err;
  try {
    Job j = M(info);
    err = j.run();
  } catch (const dx::Error& e) {
    err = e.what();
  } catch (const std::bad_alloc&) {
    err = "out of memory";
  }
  if (!err.empty()) throw_js(info.Env(), err);
  return info.Env().Undefined();
}

class KernelWorker : public Napi::AsyncWorker {
 public:
  KernelWorker(Napi::Env env, Job job)
      : Napi::AsyncWorker(env, "deformux-kernel"), job_(std::move(job)), deferred_(Napi::Promise::Deferred::New(env)) {
    for (auto& v : job_.keep) refs_.push_back(Napi::Persistent(v.As<Napi::Object>()));
    job_.keep.clear();
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      std::string err = job_.run();
      if (!err.empty()) SetError(err);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Job job_;
  std::vector<Napi::ObjectReference> refs_;
  Napi::Promise::Deferred deferred_;
};

template <Maker M>
Napi::Value Async(const Napi::CallbackInfo& info) {
  std::string err;
  try {
    Job j = M(info);
    auto* w = new KernelWorker(info.Env(), std::move(j));
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  } catch (const dx::Error& e) {
    err = e.what();
  }
  throw_js(info.Env(), err);
}

// ---- Dense conv3d kernel paths (harness and tests only) -------------------------------------------------

struct ConvPathInfo {
  const char* name;
  unsigned ops;  // bit o: serves dx::ConvOp o
  const char* about;
};

ConvPathInfo conv_path_info(dx::ConvPath p) {
  constexpr unsigned F = 1u << dx::kConvForward, I = 1u << dx::kConvBackpropInput, W = 1u << dx::kConvBackpropFilter;
  switch (p) {
    case dx::kConvAuto: return {"auto", F | I | W, "the production choice"};
    case dx::kConvDot: return {"dot", F | I, "one output channel: a vector over the source channels per row"};
    case dx::kConvWindowed: return {"windowed", F | I, "k = 3, 16/32/64 source channels: one broadcast, three taps"};
    case dx::kConvGenericMr1: return {"generic-mr1", F | I, "indirect GEMM, one vector of outputs per tile"};
    case dx::kConvGenericBig: return {"generic-big", F | I, "indirect GEMM, several vectors of outputs per tile"};
    case dx::kConvInputK2s2: return {"input-k2s2", I, "k = 2, stride 2, no padding: one tap per dx voxel"};
    case dx::kConvInputCol2im: return {"input-col2im", I, "per-voxel columns scattered into private dx copies"};
    case dx::kConvFilterHalo: return {"filter-halo", W, "per-block source windows copied from x"};
    case dx::kConvFilterPadded: return {"filter-padded", W, "a zero-padded copy of x"};
    case dx::kConvFilterCin1: return {"filter-cin1", W, "one input channel, kw = 3, 5 or 7"};
    case dx::kConvPathCount: break;
  }
  return {"?", 0, ""};
}

// conv3dPaths() -> [{name, ops, about}] for every named path (not 'auto').
Napi::Value ConvPaths(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  for (int p = 1; p < dx::kConvPathCount; p++) {
    const ConvPathInfo d = conv_path_info(dx::ConvPath(p));
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", d.name);
    Napi::Array ops = Napi::Array::New(env);
    for (int k = 0; k < 3; k++)
      if (d.ops & (1u << k)) ops.Set(ops.Length(), kConvOpKey[k]);
    o.Set("ops", ops);
    o.Set("about", d.about);
    out.Set(out.Length(), o);
  }
  return out;
}

// conv3dRun(op, path, out, a, b, p) runs one conv3d op ('forward' | 'backpropInput' | 'backpropFilter', with the
// arrays of conv3dForward / conv3dBackpropInput / conv3dBackpropFilter) on a named path, or 'auto', at the current
// ISA. Returns the names of the paths that ran. Throws when the path does not serve the op or cannot serve the shape.
Napi::Value ConvRunPath(const Napi::CallbackInfo& info) {
  std::string err;
  uint32_t ran = 0;
  try {
    DX_CHECK(info.Length() >= 6 && info[0].IsString() && info[1].IsString(),
             "conv3dRun: expects (op, path, out, a, b, sizes)");
    const std::string ops = info[0].As<Napi::String>().Utf8Value(), name = info[1].As<Napi::String>().Utf8Value();
    int o = -1;
    for (int k = 0; k < 3; k++)
      if (ops == kConvOpKey[k]) o = k;
    DX_CHECK(o >= 0, "conv3dRun: op must be 'forward', 'backpropInput' or 'backpropFilter', got '" << ops << "'");
    int path = -1;
    std::string known;
    for (int p = 0; p < dx::kConvPathCount; p++) {
      const ConvPathInfo d = conv_path_info(dx::ConvPath(p));
      if (name == d.name) path = p;
      known += (p ? ", " : "") + std::string(d.name);
    }
    DX_CHECK(path >= 0, "conv3dRun: unknown conv3d path '" << name << "' (known: " << known << ")");
    const char* op = kConvOpName[o];
    const ConvPathInfo d = conv_path_info(dx::ConvPath(path));
    if (!(d.ops & (1u << o))) {
      std::string serves;
      for (int k = 0; k < 3; k++)
        if (d.ops & (1u << k)) serves += (serves.empty() ? "" : ", ") + std::string(kConvOpName[k]);
      DX_CHECK(false, op << ": path '" << name << "' does not serve this op (it serves " << serves << ")");
    }
    const ConvCall c = conv_call(info, 2, o);
    dx::ConvRun run{path, 0, {0}};
    const int st = conv_kernel(o, c, &run);
    if (st == dx::kPathUnsupported)
      err = std::string(op) + ": path '" + name + "' cannot serve this shape: " + run.why;
    else
      err = status_text(st, op);
    ran = run.ran;
  } catch (const dx::Error& e) {
    err = e.what();
  } catch (const std::bad_alloc&) {
    err = "out of memory";
  }
  if (!err.empty()) throw_js(info.Env(), err);
  Napi::Array out = Napi::Array::New(info.Env());
  for (int p = 0; p < dx::kConvPathCount; p++)
    if (ran & (1u << p)) out.Set(out.Length(), conv_path_info(dx::ConvPath(p)).name);
  return out;
}

// ---- Info and settings ---------------------------------------------------------------------------------

Napi::Value GetIsa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), dx::isa_name(dx::current_isa())); }
Napi::Value GetMachineIsa(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), dx::isa_name(dx::detect_isa()));
}
Napi::Value GetThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), dx::pool_threads()); }

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) throw_js(info.Env(), "setThreads: expects a number (0 = machine size)");
  dx::pool_set_threads(info[0].As<Napi::Number>().Int32Value());
  return Napi::Number::New(info.Env(), dx::pool_threads());
}

Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) throw_js(info.Env(), "setIsa: expects 'avx512', 'avx2' or 'scalar'");
  const std::string s = info[0].As<Napi::String>().Utf8Value();
  dx::Isa want = s == "avx512" ? dx::Isa::Avx512 : s == "avx2" ? dx::Isa::Avx2 : dx::Isa::Scalar;
  if (s != "avx512" && s != "avx2" && s != "scalar") throw_js(info.Env(), "setIsa: expects 'avx512', 'avx2' or 'scalar', got '" + s + "'");
  return Napi::String::New(info.Env(), dx::isa_name(dx::set_isa(want)));
}

Napi::Value CudaInit(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), dx::cuda_init()); }
Napi::Value CudaDeviceName(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), dx::cuda_device_name());
}

// glibc serves every allocation above its mmap threshold (128 KiB, rising to at most 32 MiB) with a fresh
// mmap and returns it on free, so each new activation tensor pays a page fault per 4 KiB and kernel zeroing
// on first write (32 ms for 56 MiB here). Serving them from the heap instead (no mmap) lets freed tensors be
// reused: measured on lite at 96^3, a training step went from ~6.7 s to ~5.3 s. The top of the heap is trimmed
// only beyond 2 GiB: with a 512 MiB threshold, V8's background sweeper (it frees tensors' arrays off the main
// thread) trimmed the heap mid-forward and the next layers faulted the pages back in, 300-500 MB of page faults
// and 0.4-0.6 s of system time per 96^3 forward (strace: brk shrinking from sweeper threads); now ~2 MB.
// Memory the heap keeps is handed back after each engine job (trimMemory). Once per process, at the first load;
// DEFORMUX_MALLOC_TUNE=0 leaves the allocator alone.
//
// Huge pages for the heap: the first write to a fresh 4 KiB page costs a fault, and in a virtual machine (this
// workplace) about 1 ms per MB, so a pre-label's first batch of windows (every activation new) ran 3.5x slower
// than the next (2.1 s against 0.6 s at 7 x 48^3). advise_huge_pages covers one array's aligned interior, but not
// the many arrays under 8 MB nor what JS touches first. So the heap is grown once by an untouched block advised
// MADV_HUGEPAGE (kernel THP mode 'madvise' or 'always') and that block is freed into the heap's top: later
// allocations carve it up and fault in 2 MB at a time. It is address space only (no memory is touched, resident
// size does not grow), it stays below M_TRIM_THRESHOLD so free() keeps it, and trimMemory re-grows it after
// handing memory back. Measured on the shared 3 mm CT (80 windows): the network 7.6 s -> 6.9 s, model load
// 0.76 -> 0.59 s; first batch 2.1 s -> 1.2 s, page faults 100k -> 50k. DEFORMUX_HEAP_RESERVE_MB sets the size
// (0: none); default 1536 MB, at most a quarter of physical memory.
int64_t g_heap_reserved_mb = 0;

int64_t heap_reserve_mb() {
  const char* env = getenv("DEFORMUX_HEAP_RESERVE_MB");
  if (env && *env) {
    char* end = nullptr;
    const long long v = strtoll(env, &end, 10);
    return end && *end == 0 && v >= 0 ? int64_t(v < 2000 ? v : 2000) : 0;
  }
#if defined(__GLIBC__)
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  const int64_t quarter_mb = pages > 0 && page > 0 ? int64_t(pages) * page / 4 / (1 << 20) : 0;
  return quarter_mb < 1536 ? quarter_mb : 1536;
#else
  return 0;
#endif
}

// Grows the heap by the reserve, advises it for huge pages and frees it into the top (see above); returns MB.
int64_t reserve_huge_heap() {
#if defined(__GLIBC__)
  const int64_t mb = heap_reserve_mb();
  if (mb <= 0) return 0;
  const size_t bytes = size_t(mb) << 20;
  void* p = malloc(bytes);  // M_MMAP_MAX = 0: from the heap's top, never touched (malloc, not calloc)
  if (!p) return 0;
  dx::advise_huge_pages(p, bytes);
  free(p);
  return mb;
#else
  return 0;
#endif
}

bool tune_malloc_once() {
#if defined(__GLIBC__)
  static const bool tuned = [] {
    const char* env = getenv("DEFORMUX_MALLOC_TUNE");
    if (env && strcmp(env, "0") == 0) return false;
    const bool ok = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_MMAP_MAX, 0) == 1 &&
                    mallopt(M_TRIM_THRESHOLD, 2047 << 20) == 1 && mallopt(M_TOP_PAD, 64 << 20) == 1;
    if (ok) g_heap_reserved_mb = reserve_huge_heap();
    return ok;
  }();
  return tuned;
#else
  return false;
#endif
}

Napi::Value GetHeapReservedMb(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), double(g_heap_reserved_mb));
}

// Returns free heap memory to the system (malloc_trim); true when glibc released some. Called after engine jobs.
Napi::Value TrimMemory(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__)
  const bool released = malloc_trim(0) == 1;
  // The trim gave the heap's free top back, huge-page reserve included: grow it again (address space only).
  if (tune_malloc_once()) g_heap_reserved_mb = reserve_huge_heap();
  return Napi::Boolean::New(info.Env(), released);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  const bool malloc_tuned = tune_malloc_once();
  exports.Set("mallocTuned", Napi::Boolean::New(env, malloc_tuned));
  auto fn = [&](const char* name, Napi::Function::Callback cb) { exports.Set(name, Napi::Function::New(env, cb, name)); };
  exports.Set("version", Napi::String::New(env, DX_ADDON_VERSION));
  exports.DefineProperty(Napi::PropertyDescriptor::Accessor<GetIsa>("isa", napi_enumerable));
  exports.DefineProperty(Napi::PropertyDescriptor::Accessor<GetMachineIsa>("machineIsa", napi_enumerable));
  exports.DefineProperty(Napi::PropertyDescriptor::Accessor<GetThreads>("threads", napi_enumerable));
  exports.DefineProperty(Napi::PropertyDescriptor::Accessor<GetHeapReservedMb>("heapReservedMb", napi_enumerable));
  fn("setThreads", SetThreads);
  fn("trimMemory", TrimMemory);
  fn("setIsa", SetIsa);
  fn("deformForward", Sync<deform_forward_job<Impl::Cpu>>);
  fn("deformBackward", Sync<deform_backward_job<Impl::Cpu>>);
  fn("depthwiseForward", Sync<depthwise_forward_job<Impl::Cpu>>);
  fn("depthwiseBackward", Sync<depthwise_backward_job<Impl::Cpu>>);
  fn("conv3dForward", Sync<conv_job<Impl::Cpu, dx::kConvForward>>);
  fn("conv3dBackpropInput", Sync<conv_job<Impl::Cpu, dx::kConvBackpropInput>>);
  fn("conv3dBackpropFilter", Sync<conv_job<Impl::Cpu, dx::kConvBackpropFilter>>);
  fn("deformForwardAsync", Async<deform_forward_job<Impl::Cpu>>);
  fn("deformBackwardAsync", Async<deform_backward_job<Impl::Cpu>>);
  fn("depthwiseForwardAsync", Async<depthwise_forward_job<Impl::Cpu>>);
  fn("depthwiseBackwardAsync", Async<depthwise_backward_job<Impl::Cpu>>);
  fn("conv3dForwardAsync", Async<conv_job<Impl::Cpu, dx::kConvForward>>);
  fn("conv3dBackpropInputAsync", Async<conv_job<Impl::Cpu, dx::kConvBackpropInput>>);
  fn("conv3dBackpropFilterAsync", Async<conv_job<Impl::Cpu, dx::kConvBackpropFilter>>);
  fn("deformForwardRef", Sync<deform_forward_job<Impl::Ref>>);
  fn("deformBackwardRef", Sync<deform_backward_job<Impl::Ref>>);
  fn("depthwiseForwardRef", Sync<depthwise_forward_job<Impl::Ref>>);
  fn("depthwiseBackwardRef", Sync<depthwise_backward_job<Impl::Ref>>);
  fn("conv3dForwardRef", Sync<conv_job<Impl::Ref, dx::kConvForward>>);
  fn("conv3dBackpropInputRef", Sync<conv_job<Impl::Ref, dx::kConvBackpropInput>>);
  fn("conv3dBackpropFilterRef", Sync<conv_job<Impl::Ref, dx::kConvBackpropFilter>>);
  fn("conv3dPaths", ConvPaths);
  fn("conv3dRun", ConvRunPath);
  fn("cudaInit", CudaInit);
  fn("cudaDeviceName", CudaDeviceName);
  fn("deformForwardCuda", Sync<deform_forward_job<Impl::Cuda>>);
  fn("deformBackwardCuda", Sync<deform_backward_job<Impl::Cuda>>);
  fn("depthwiseForwardCuda", Sync<depthwise_forward_job<Impl::Cuda>>);
  fn("depthwiseBackwardCuda", Sync<depthwise_backward_job<Impl::Cuda>>);
  dx::register_fused_ops(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(deformux_native, Init)
