// The AVX-512 build of the fused block kernels (fused_ops.inc), chosen at run time by fused_ops.cc. The same
// source as the AVX2 and baseline builds, with -ffp-contract=off, so all three round identically (the GELU's
// double-precision erf is twice as wide here: 8 lanes).
#if !defined(DX_NO_X86) && (defined(__x86_64__) || defined(__i386__))
#define DX_FUSED_NS fused_avx512
#include "fused_ops.inc"
#endif
