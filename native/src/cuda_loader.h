// Loads libdeformux_cuda.so (beside the addon) on demand and forwards calls to it.
#pragma once
#include <stdint.h>

#include <string>

namespace dx {

/** Loads the library and finds a GPU; "" when ready, else why not. Cached after the first call. */
std::string cuda_init();
std::string cuda_device_name();
/** Each returns "" or the error text. */
std::string cuda_deform_forward(float* y, const float* x, const float* offset, const float* weight, const float* bias,
                                const int64_t* dims);
std::string cuda_deform_backward(float* dx, float* doffset, float* dweight, float* dbias, const float* dy,
                                 const float* x, const float* offset, const float* weight, const int64_t* dims);
std::string cuda_depthwise_forward(float* y, const float* x, const float* weight, const float* bias,
                                   const int64_t* dims);
std::string cuda_depthwise_backward(float* dx, float* dweight, float* dbias, const float* dy, const float* x,
                                    const float* weight, const int64_t* dims);

}  // namespace dx
