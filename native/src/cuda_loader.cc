// dlopen()s the CUDA kernels only when asked: the addon itself links no CUDA library, so it loads on every
// machine; the CUDA library links the CUDA runtime statically and needs only the driver (libcuda.so).
#include "cuda_loader.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

#include "cuda_api.h"

namespace dx {

namespace {

struct CudaLib {
  std::string error = "not initialised";
  char name[256] = {0};
  dxc_deform_forward_fn deform_forward = nullptr;
  dxc_deform_backward_fn deform_backward = nullptr;
  dxc_depthwise_forward_fn depthwise_forward = nullptr;
  dxc_depthwise_backward_fn depthwise_backward = nullptr;
};

std::once_flag g_once;
CudaLib g_lib;
std::mutex g_call;  // one CUDA call at a time (the library keeps one set of device buffers)

std::string here_dir() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&cuda_init), &info) && info.dli_fname) {
    std::string p = info.dli_fname;
    auto slash = p.rfind('/');
    if (slash != std::string::npos) return p.substr(0, slash + 1);
  }
  return "";
}

void load() {
  const std::string path = here_dir() + "libdeformux_cuda.so";
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e = dlerror();
    g_lib.error = std::string("cannot load ") + path + ": " + (e ? e : "unknown error") +
                  " (built only where nvcc was found; needs an NVIDIA driver)";
    return;
  }
  auto ver = reinterpret_cast<dxc_abi_version_fn>(dlsym(h, "dxc_abi_version"));
  auto init = reinterpret_cast<dxc_init_fn>(dlsym(h, "dxc_init"));
  auto devname = reinterpret_cast<dxc_device_name_fn>(dlsym(h, "dxc_device_name"));
  g_lib.deform_forward = reinterpret_cast<dxc_deform_forward_fn>(dlsym(h, "dxc_deform_forward"));
  g_lib.deform_backward = reinterpret_cast<dxc_deform_backward_fn>(dlsym(h, "dxc_deform_backward"));
  g_lib.depthwise_forward = reinterpret_cast<dxc_depthwise_forward_fn>(dlsym(h, "dxc_depthwise_forward"));
  g_lib.depthwise_backward = reinterpret_cast<dxc_depthwise_backward_fn>(dlsym(h, "dxc_depthwise_backward"));
  if (!ver || !init || !devname || !g_lib.deform_forward || !g_lib.deform_backward || !g_lib.depthwise_forward ||
      !g_lib.depthwise_backward) {
    g_lib.error = path + " lacks the expected functions (rebuild with 'npm run build:native')";
    return;
  }
  if (ver() != DXC_ABI_VERSION) {
    g_lib.error = path + " has another ABI version (rebuild with 'npm run build:native')";
    return;
  }
  char err[512] = {0};
  if (init(err, sizeof(err)) != 0) {
    g_lib.error = std::string("no usable CUDA GPU: ") + err;
    return;
  }
  devname(g_lib.name, sizeof(g_lib.name));
  g_lib.error.clear();
}

std::string call(int rc, const char* err) { return rc == 0 ? std::string() : std::string(err[0] ? err : "CUDA error"); }

}  // namespace

std::string cuda_init() {
  std::call_once(g_once, load);
  return g_lib.error;
}

std::string cuda_device_name() { return cuda_init().empty() ? std::string(g_lib.name) : std::string(); }

#define DX_CUDA_CALL(fn, ...)                                   \
  std::string why = cuda_init();                                \
  if (!why.empty()) return why;                                 \
  std::lock_guard<std::mutex> lk(g_call);                       \
  char err[512] = {0};                                          \
  return call(g_lib.fn(__VA_ARGS__, err, sizeof(err)), err);

std::string cuda_deform_forward(float* y, const float* x, const float* offset, const float* weight, const float* bias,
                                const int64_t* dims) {
  DX_CUDA_CALL(deform_forward, y, x, offset, weight, bias, dims)
}

std::string cuda_deform_backward(float* dx, float* doffset, float* dweight, float* dbias, const float* dy,
                                 const float* x, const float* offset, const float* weight, const int64_t* dims) {
  DX_CUDA_CALL(deform_backward, dx, doffset, dweight, dbias, dy, x, offset, weight, dims)
}

std::string cuda_depthwise_forward(float* y, const float* x, const float* weight, const float* bias,
                                   const int64_t* dims) {
  DX_CUDA_CALL(depthwise_forward, y, x, weight, bias, dims)
}

std::string cuda_depthwise_backward(float* dx, float* dweight, float* dbias, const float* dy, const float* x,
                                    const float* weight, const int64_t* dims) {
  DX_CUDA_CALL(depthwise_backward, dx, dweight, dbias, dy, x, weight, dims)
}

}  // namespace dx
