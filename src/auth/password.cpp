#include "auth/password.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <string>
#include <unordered_set>

#include "crypto/secret.hpp"

namespace rempart::auth {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Kept even when the system list loads: it holds the long (>= 12 characters)
// favourites that a short historical list lacks.
constexpr std::array kBuiltIn = {
    "123456789012", "1234567890123", "12345678901234", "password1234", "password12345", "passwordpassword",
    "qwertyuiopasdf", "qwertyuiop123", "qwerty123456", "iloveyou1234", "aaaaaaaaaaaa", "111111111111",
    "000000000000", "abcdefghijkl", "abc123456789", "letmein12345", "welcome12345", "administrator",
    "motdepasse123", "azertyuiop123", "azertyuiopqsd", "changeme1234", "football1234", "trustno1trustno1",
};

const std::unordered_set<std::string>& common_list() {
  static const std::unordered_set<std::string> list = [] {
    std::unordered_set<std::string> s;
    for (const char* p : kBuiltIn) s.insert(p);
    std::ifstream in("/usr/share/john/password.lst");
    std::string line;
    while (std::getline(in, line)) {
      if (line.starts_with("#!comment")) continue;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) s.insert(lower(line));
    }
    return s;
  }();
  return list;
}

std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

PwhashLimits PwhashLimits::production() noexcept { return {3, std::size_t{64} << 20}; }
PwhashLimits PwhashLimits::for_tests() noexcept {
  return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

bool is_common_password(std::string_view password) { return common_list().contains(lower(password)); }

Result<void> check_password_policy(std::string_view password, std::string_view account_name) {
  if (password.size() > kMaxPasswordLength) return fail(Errc::invalid_input, "password too long");
  if (code_points(password) < kMinPasswordLength) {
    return fail(Errc::invalid_input, "password too short (at least 12 characters)");
  }
  if (is_common_password(password)) return fail(Errc::invalid_input, "password is in the list of common passwords");
  if (!account_name.empty() && lower(password).find(lower(account_name)) != std::string::npos) {
    return fail(Errc::invalid_input, "password contains the account name");
  }
  return {};
}

Result<std::string> hash_password(std::string_view password, const PwhashLimits& limits) {
  if (auto r = crypto::init(); !r) return std::unexpected(r.error());
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), limits.opslimit, limits.memlimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return fail(Errc::internal, "password hashing failed (out of memory?)");
  }
  return std::string(out.data());
}

bool verify_password(std::string_view password, const std::string& hash) {
  if (!crypto::init()) return false;
  if (hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

}  // namespace rempart::auth
