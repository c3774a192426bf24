// The OSDI person signup helper JSON parser, then validation.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/validate.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto raw = rempart::core::parse_osdi_signup(body);
  if (!raw) {
    rempart::fuzz::check_errors(raw.error());
    return 0;
  }
  rempart::fuzz::check_validated(*raw, rempart::core::IntakeOptions{});
  return 0;
}
