// Shared helpers of the CUDA kernels: error text, cached device buffers, launch sizes.
#pragma once
#include <cuda_runtime.h>
#include <stdint.h>

#include <cstdio>

namespace dxc {

/** Formats an error into err and returns 1 (so callers can `return fail(...)`). */
int fail(char* err, int errlen, const char* what, cudaError_t e);

/** Grow-only device buffers, one per slot (the library serves one call at a time). */
void* device_buffer(int slot, size_t bytes, char* err, int errlen);

constexpr int kThreads = 256;

inline unsigned blocks_for(int64_t n) { return unsigned((n + kThreads - 1) / kThreads); }

}  // namespace dxc

#define DXC_TRY(call, what)                                         \
  do {                                                              \
    cudaError_t dxc_e_ = (call);                                    \
    if (dxc_e_ != cudaSuccess) return dxc::fail(err, errlen, what, dxc_e_); \
  } while (0)
