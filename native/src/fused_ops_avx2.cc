// The AVX2+FMA build of the fused block kernels (fused_ops.inc), chosen at run time by fused_ops.cc.
#if !defined(DX_NO_X86) && (defined(__x86_64__) || defined(__i386__))
#define DX_FUSED_NS fused_avx2
#include "fused_ops.inc"
#endif
