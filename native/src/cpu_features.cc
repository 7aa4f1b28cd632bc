// Detects AVX2/FMA and AVX-512 (F, BW, DQ, VL) with OS support (XSAVE state enabled), once.
#include "cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace dx {

namespace {

Isa machine_isa() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  // libgcc's __builtin_cpu_supports also checks that the OS saves the AVX/AVX-512 registers.
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma"))
    return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
#endif
  return Isa::Scalar;
}

Isa g_machine = Isa::Scalar;
Isa g_current = Isa::Scalar;
bool g_init = false;

void init() {
  if (g_init) return;
  g_machine = machine_isa();
  g_current = g_machine;
  if (const char* env = std::getenv("DEFORMUX_ISA")) {
    if (!std::strcmp(env, "scalar")) g_current = Isa::Scalar;
    if (!std::strcmp(env, "avx2") && g_machine >= Isa::Avx2) g_current = Isa::Avx2;
  }
  g_init = true;
}

}  // namespace

Isa detect_isa() {
  init();
  return g_machine;
}

Isa current_isa() {
  init();
  return g_current;
}

Isa set_isa(Isa want) {
  init();
  g_current = want > g_machine ? g_machine : want;
  return g_current;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512:
      return "avx512";
    case Isa::Avx2:
      return "avx2";
    default:
      return "scalar";
  }
}

}  // namespace dx
