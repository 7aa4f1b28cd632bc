// C ABI of the optional CUDA library (native/cuda/*.cu -> libdeformux_cuda.so), loaded with dlopen by
// cuda_loader.cc only when asked for, so the addon never needs CUDA libraries to load.
// All pointers are host pointers; the library copies to and from the GPU. Returns 0 or an error with text in err.
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DXC_ABI_VERSION 1

typedef int (*dxc_abi_version_fn)(void);
typedef int (*dxc_init_fn)(char* err, int errlen);
typedef int (*dxc_device_name_fn)(char* name, int len);
// dims = {N, D, H, W, C, k, G}
typedef int (*dxc_deform_forward_fn)(float* y, const float* x, const float* offset, const float* weight,
                                     const float* bias, const int64_t* dims, char* err, int errlen);
typedef int (*dxc_deform_backward_fn)(float* dx, float* doffset, float* dweight, float* dbias, const float* dy,
                                      const float* x, const float* offset, const float* weight, const int64_t* dims,
                                      char* err, int errlen);
// dims = {N, D, H, W, C, k}; bias / dbias may be NULL
typedef int (*dxc_depthwise_forward_fn)(float* y, const float* x, const float* weight, const float* bias,
                                        const int64_t* dims, char* err, int errlen);
typedef int (*dxc_depthwise_backward_fn)(float* dx, float* dweight, float* dbias, const float* dy, const float* x,
                                         const float* weight, const int64_t* dims, char* err, int errlen);

#ifdef __cplusplus
}
#endif
