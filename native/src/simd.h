// A small vector abstraction compiled once per instruction set (DX_ISA_AVX512, DX_ISA_AVX2, or scalar).
// Everything here is static inline inside the per-ISA namespace DX_NS: nothing is shared between the
// differently-compiled files, so no AVX-512 code can leak into the baseline build through the linker.
#pragma once
#include <stdint.h>
#if defined(DX_ISA_AVX512) || defined(DX_ISA_AVX2)
#include <immintrin.h>
#endif

#if defined(DX_ISA_AVX512)
#define DX_NS dx_avx512
#elif defined(DX_ISA_AVX2)
#define DX_NS dx_avx2
#else
#define DX_NS dx_generic
#endif

namespace DX_NS {

#if defined(DX_ISA_AVX512)
constexpr int VW = 16;
struct vf {
  __m512 v;
};
static inline vf vzero() { return {_mm512_setzero_ps()}; }
static inline vf vset1(float a) { return {_mm512_set1_ps(a)}; }
static inline vf vload(const float* p) { return {_mm512_loadu_ps(p)}; }
static inline __mmask16 vmask(int n) {
  return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}
static inline vf vload_n(const float* p, int n) { return {_mm512_maskz_loadu_ps(vmask(n), p)}; }
static inline void vstore(float* p, vf a) { _mm512_storeu_ps(p, a.v); }
static inline void vstore_n(float* p, vf a, int n) { _mm512_mask_storeu_ps(p, vmask(n), a.v); }
static inline vf vadd(vf a, vf b) { return {_mm512_add_ps(a.v, b.v)}; }
static inline vf vsub(vf a, vf b) { return {_mm512_sub_ps(a.v, b.v)}; }
static inline vf vmul(vf a, vf b) { return {_mm512_mul_ps(a.v, b.v)}; }
static inline vf vfma(vf a, vf b, vf c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
static inline float vhsum(vf a) { return _mm512_reduce_add_ps(a.v); }
#elif defined(DX_ISA_AVX2)
constexpr int VW = 8;
struct vf {
  __m256 v;
};
static inline vf vzero() { return {_mm256_setzero_ps()}; }
static inline vf vset1(float a) { return {_mm256_set1_ps(a)}; }
static inline vf vload(const float* p) { return {_mm256_loadu_ps(p)}; }
static inline __m256i vmask(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline vf vload_n(const float* p, int n) {
  return n >= 8 ? vload(p) : vf{_mm256_maskload_ps(p, vmask(n))};
}
static inline void vstore(float* p, vf a) { _mm256_storeu_ps(p, a.v); }
static inline void vstore_n(float* p, vf a, int n) {
  if (n >= 8)
    _mm256_storeu_ps(p, a.v);
  else
    _mm256_maskstore_ps(p, vmask(n), a.v);
}
static inline vf vadd(vf a, vf b) { return {_mm256_add_ps(a.v, b.v)}; }
static inline vf vsub(vf a, vf b) { return {_mm256_sub_ps(a.v, b.v)}; }
static inline vf vmul(vf a, vf b) { return {_mm256_mul_ps(a.v, b.v)}; }
static inline vf vfma(vf a, vf b, vf c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
static inline float vhsum(vf a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
#else
constexpr int VW = 1;
struct vf {
  float v;
};
static inline vf vzero() { return {0.f}; }
static inline vf vset1(float a) { return {a}; }
static inline vf vload(const float* p) { return {*p}; }
static inline vf vload_n(const float* p, int n) { return {n > 0 ? *p : 0.f}; }
static inline void vstore(float* p, vf a) { *p = a.v; }
static inline void vstore_n(float* p, vf a, int n) {
  if (n > 0) *p = a.v;
}
static inline vf vadd(vf a, vf b) { return {a.v + b.v}; }
static inline vf vsub(vf a, vf b) { return {a.v - b.v}; }
static inline vf vmul(vf a, vf b) { return {a.v * b.v}; }
static inline vf vfma(vf a, vf b, vf c) { return {a.v * b.v + c.v}; }
static inline float vhsum(vf a) { return a.v; }
#endif

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }
static inline int64_t lmin(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t lmax(int64_t a, int64_t b) { return a > b ? a : b; }

/** Runs f(tid, nthreads) on every pool thread; the lambda type is local to this ISA's file. */
template <class F>
static inline void parallel(F& f) {
  dx::pool_run([](void* ctx, int tid, int nt) { (*static_cast<F*>(ctx))(tid, nt); }, &f);
}

/** The [begin, end) share of `n` items for thread tid of nt (static: deterministic partials). */
static inline void split(int64_t n, int tid, int nt, int64_t* begin, int64_t* end) {
  *begin = n * tid / nt;
  *end = n * (tid + 1) / nt;
}

}  // namespace DX_NS
