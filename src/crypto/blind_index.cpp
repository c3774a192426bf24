#include "crypto/blind_index.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>

#include "crypto/byte_io.hpp"
#include "crypto/key_access.hpp"

namespace rempart::crypto {
namespace {

constexpr char kPersonal[] = "rempart-bindex-1";
static_assert(sizeof kPersonal - 1 == crypto_generichash_blake2b_PERSONALBYTES);

void absorb_lp(crypto_generichash_blake2b_state& st, std::string_view s) {
  std::array<std::uint8_t, 4> len{};
  for (std::size_t i = 0; i < len.size(); ++i) len[i] = static_cast<std::uint8_t>(s.size() >> (8 * i));
  crypto_generichash_blake2b_update(&st, len.data(), len.size());
  crypto_generichash_blake2b_update(&st, detail::as_bytes(s).data(), s.size());
}

}  // namespace

std::array<std::uint8_t, 32> blind_index(const KeySet& keys, std::string_view kind, std::string_view normalised) {
  const SecretBytes& key = detail::KeyAccess::blind_index(keys);
  if (key.size() != kKeySize) std::abort();
  std::array<std::uint8_t, 32> out{};
  crypto_generichash_blake2b_state st;
  crypto_generichash_blake2b_init_salt_personal(&st, key.data(), key.size(), out.size(),
                                                nullptr, reinterpret_cast<const unsigned char*>(kPersonal));
  absorb_lp(st, kind);
  absorb_lp(st, normalised);
  crypto_generichash_blake2b_final(&st, out.data(), out.size());
  sodium_memzero(&st, sizeof st);
  return out;
}

bool same_blind_index_key(const KeySet& a, const KeySet& b) noexcept {
  const SecretBytes& x = detail::KeyAccess::blind_index(a);
  const SecretBytes& y = detail::KeyAccess::blind_index(b);
  return x.size() == y.size() && (x.empty() || sodium_memcmp(x.data(), y.data(), x.size()) == 0);
}

std::vector<std::reference_wrapper<const KeySet>> blind_index_sets(const KeeperKeyring& keys) {
  const auto all = keys.all();
  std::vector<std::reference_wrapper<const KeySet>> out;
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const bool known = std::any_of(out.begin(), out.end(), [&](const KeySet& s) {
      return same_blind_index_key(s, it->get());
    });
    if (!known) out.push_back(*it);
  }
  return out;
}

std::vector<std::array<std::uint8_t, 32>> older_blind_indexes(const KeeperKeyring& keys, std::string_view kind,
                                                              std::string_view normalised) {
  std::vector<std::array<std::uint8_t, 32>> out;
  const auto sets = blind_index_sets(keys);
  for (std::size_t i = 1; i < sets.size(); ++i) out.push_back(blind_index(sets[i], kind, normalised));
  return out;
}

}  // namespace rempart::crypto
