// The audit decoder that reads text from outside the database: one line of
// the checkpoint file (audit/checkpoint.hpp). Anything but the exact shape is
// Errc::invalid_input; what parses formats back to a line that parses to the
// same checkpoint.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "audit/checkpoint.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  auto c = rempart::audit::parse_checkpoint(line);
  if (!c) {
    rempart::fuzz::require(c.error().code == rempart::Errc::invalid_input, "a bad line is invalid_input");
    return 0;
  }
  const std::string once = rempart::audit::format_checkpoint(*c);
  auto again = rempart::audit::parse_checkpoint(once);
  rempart::fuzz::require(again.has_value(), "a formatted checkpoint parses");
  rempart::fuzz::require(rempart::audit::format_checkpoint(*again) == once, "checkpoint lines round-trip");
  return 0;
}
