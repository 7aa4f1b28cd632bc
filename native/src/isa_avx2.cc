// The optimised CPU kernels compiled for one instruction set (avx2); see simd.h for why each ISA gets its own file.
#define DX_ISA_AVX2 1
#include <new>

#include "kernels.h"
#include "threadpool.h"
#include "simd.h"

#include "deform_dwconv3d.inc"
#include "depthwise_conv3d.inc"
#include "conv3d.inc"
