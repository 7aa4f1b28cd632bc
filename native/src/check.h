// Boundary errors: DX_CHECK names file and line; binding.cc turns dx::Error into a JS exception.
// Only baseline-compiled files (binding, references, thread pool) may throw; the ISA kernels return codes.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace dx {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const char* file, int line, const std::string& msg);

}  // namespace dx

// msg is streamed: DX_CHECK(n > 0, "x has " << n << " values").
#define DX_CHECK(cond, msg)                    \
  do {                                         \
    if (!(cond)) {                             \
      std::ostringstream dx_os_;               \
      dx_os_ << msg;                           \
      ::dx::fail(__FILE__, __LINE__, dx_os_.str()); \
    }                                          \
  } while (0)
