// Run-time instruction-set choice: AVX-512 when the CPU and OS have it, else AVX2+FMA, else scalar.
#pragma once

namespace dx {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };

/** The best ISA this machine runs ($DEFORMUX_ISA=avx2|scalar caps it, for tests and comparisons). */
Isa detect_isa();
Isa current_isa();
/** Caps the ISA (never above what the machine has); returns the one in effect. */
Isa set_isa(Isa want);
const char* isa_name(Isa isa);

}  // namespace dx
