// The sealed-field decoder and the wrapped-key decoder on arbitrary bytes
// (what a tampered database file would hand the keeper): never a crash,
// only Errc::invalid_input or Errc::crypto. A blob that does open must
// re-encrypt and open to the same fields. The seed corpus holds a blob of
// each format (1: one AEAD per field; 2: one for the item) that opens.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "crypto/field_codec.hpp"
#include "crypto/secret.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace rempart::crypto::detail;

const std::array<std::uint8_t, 16> kItem{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
const std::array<std::uint8_t, 32> kWrapping{7};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!rempart::crypto::init()) rempart::fuzz::violated("libsodium init");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  DataKey key;
  key.bytes.fill(0x42);
  const Binding b{kRecordContext, kItem, 1, {}};

  auto fields = decrypt_fields(key, b, in);
  if (fields) {
    auto again = encrypt_fields(key, b, *fields);
    rempart::fuzz::require(again.has_value(), "opened fields seal again");
    auto back = decrypt_fields(key, b, *again);
    rempart::fuzz::require(back.has_value() && *back == *fields, "seal/open round-trips");
  } else {
    const auto c = fields.error().code;
    rempart::fuzz::require(c == rempart::Errc::invalid_input || c == rempart::Errc::crypto,
                           "decode fails as invalid_input or crypto");
  }

  DataKey out;
  auto unwrapped = unwrap_key(kWrapping, in, b, out);
  if (!unwrapped) {
    const auto c = unwrapped.error().code;
    rempart::fuzz::require(c == rempart::Errc::invalid_input || c == rempart::Errc::crypto,
                           "unwrap fails as invalid_input or crypto");
  }
  return 0;
}
