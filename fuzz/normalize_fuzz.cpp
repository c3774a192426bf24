// Every field normaliser (e-mail with IDN, phone via libphonenumber, names
// via ICU NFC, postcode, country, tag). The first byte picks the normaliser,
// the rest is its input. A normalised value must normalise to itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/validate.hpp"
#include "fuzz_support.hpp"

namespace {

std::expected<std::string, std::string> normalise(unsigned which, std::string_view in) {
  using namespace rempart::core;
  switch (which % 7) {
    case 0: return normalize_email(in);
    case 1: return normalize_phone(in, "FR");
    case 2: return normalize_phone(in, "US");
    case 3: return normalize_name(in);
    case 4: return normalize_postal_code(in);
    case 5: return normalize_country(in);
    default: return normalize_tag(in);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned which = data[0];
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  auto once = normalise(which, in);
  if (!once) {
    rempart::fuzz::require(rempart::fuzz::is_token(once.error()), "normaliser error is a fixed code");
    return 0;
  }
  auto twice = normalise(which, *once);
  rempart::fuzz::require(twice.has_value(), "a normalised value is accepted again");
  rempart::fuzz::require(*twice == *once, "normalisation is idempotent");
  return 0;
}
