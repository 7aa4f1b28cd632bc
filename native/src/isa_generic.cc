// The optimised CPU kernels compiled for one instruction set (generic); see simd.h for why each ISA gets its own file.

#include <new>

#include "kernels.h"
#include "threadpool.h"
#include "simd.h"

#include "deform_dwconv3d.inc"
#include "depthwise_conv3d.inc"
#include "conv3d.inc"
