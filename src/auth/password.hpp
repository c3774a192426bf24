#pragma once
// Console passwords: the policy a new password must meet and its Argon2id
// hash (libsodium crypto_pwhash_str, which embeds salt and parameters in the
// string so verification needs no other input).
#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace rempart::auth {

inline constexpr std::size_t kMinPasswordLength = 12;
inline constexpr std::size_t kMaxPasswordLength = 1024;

// Argon2id cost. Production() is at least OWASP's recommendation (t=2,
// m=19 MiB); we use t=3, m=64 MiB. for_tests() is libsodium's minimum and
// must never be used outside tests: it exists so the suite stays fast.
struct PwhashLimits {
  unsigned long long opslimit = 0;
  std::size_t memlimit = 0;
  static PwhashLimits production() noexcept;
  static PwhashLimits for_tests() noexcept;
};

// Refuses (Errc::invalid_input, message without the password) a password
// shorter than kMinPasswordLength characters (UTF-8 code points) or longer
// than kMaxPasswordLength bytes, one found in the common-password list
// (case-insensitive), or one containing the account name (case-insensitive).
Result<void> check_password_policy(std::string_view password, std::string_view account_name);

// True if `password` (lowercased) is in the common-password list: the
// system list /usr/share/john/password.lst when present, plus a small
// built-in one. Loaded once per process; thread-safe.
bool is_common_password(std::string_view password);

// Argon2id hash string. Errc::internal if libsodium runs out of memory.
// Thread-safe; takes the time and memory `limits` say (run it off I/O threads).
Result<std::string> hash_password(std::string_view password, const PwhashLimits& limits);

// Constant-time check of `password` against a hash_password() string; false
// on mismatch or on a malformed hash. Thread-safe.
bool verify_password(std::string_view password, const std::string& hash);

}  // namespace rempart::auth
