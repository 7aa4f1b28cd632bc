// The C ABI of libdeformux_cuda.so (see native/src/cuda_api.h): initialisation, device name, buffers.
#include <cstring>

#include "../src/cuda_api.h"
#include "common.cuh"

namespace dxc {

int fail(char* err, int errlen, const char* what, cudaError_t e) {
  if (err && errlen > 0) std::snprintf(err, size_t(errlen), "%s: %s", what, cudaGetErrorString(e));
  return 1;
}

namespace {
constexpr int kSlots = 16;
void* g_buf[kSlots] = {nullptr};
size_t g_size[kSlots] = {0};
}  // namespace

void* device_buffer(int slot, size_t bytes, char* err, int errlen) {
  if (bytes == 0) bytes = 4;
  if (g_size[slot] >= bytes) return g_buf[slot];
  if (g_buf[slot]) cudaFree(g_buf[slot]);
  g_buf[slot] = nullptr;
  g_size[slot] = 0;
  cudaError_t e = cudaMalloc(&g_buf[slot], bytes);
  if (e != cudaSuccess) {
    fail(err, errlen, "cudaMalloc", e);
    return nullptr;
  }
  g_size[slot] = bytes;
  return g_buf[slot];
}

}  // namespace dxc

extern "C" {

int dxc_abi_version(void) { return DXC_ABI_VERSION; }

int dxc_init(char* err, int errlen) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) return dxc::fail(err, errlen, "cudaGetDeviceCount", e);
  if (n == 0) {
    std::snprintf(err, size_t(errlen), "no CUDA device");
    return 1;
  }
  cudaDeviceProp prop;
  e = cudaGetDeviceProperties(&prop, 0);
  if (e != cudaSuccess) return dxc::fail(err, errlen, "cudaGetDeviceProperties", e);
  if (prop.major < 8) {
    std::snprintf(err, size_t(errlen), "GPU %s has compute capability %d.%d; sm_80 or newer is needed", prop.name,
                  prop.major, prop.minor);
    return 1;
  }
  e = cudaSetDevice(0);
  if (e != cudaSuccess) return dxc::fail(err, errlen, "cudaSetDevice", e);
  return 0;
}

int dxc_device_name(char* name, int len) {
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return 1;
  std::snprintf(name, size_t(len), "%s (sm_%d%d)", prop.name, prop.major, prop.minor);
  return 0;
}

}  // extern "C"
