#pragma once
// For the auth tests, and the console tests that act as an account's owner:
// a real AccountService over a real SQLite file, and the secret an
// authenticator app reads from a set-up.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "auth/accounts.hpp"
#include "crypto/keyring.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/test_support.hpp"

namespace rempart::auth::test_support {

// RFC 4648 base32 (upper case, no padding) to bytes, as an authenticator
// app reads a set-up's secret.
inline std::vector<std::uint8_t> from_base32(std::string_view b32) {
  std::vector<std::uint8_t> out;
  unsigned buf = 0;
  int bits = 0;
  for (const char ch : b32) {
    buf = (buf << 5) | static_cast<unsigned>(ch >= 'A' ? ch - 'A' : ch - '2' + 26);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<std::uint8_t>(buf >> (bits - 8)));
      bits -= 8;
    }
  }
  return out;
}

// The secret of an otpauth:// URI.
inline std::vector<std::uint8_t> secret_of(std::string_view uri) {
  const auto at = uri.find("secret=") + 7;
  return from_base32(uri.substr(at, uri.find('&', at) - at));
}

// A fresh keeper keyring, a SQLite keeper store in a temporary directory and
// an AccountService on them, whose clock is now_ (tests move it).
class AccountServiceTest : public ::testing::Test {
 protected:
  // Opens the service with `o` (pwhash limits for tests and the clock set here).
  void open_service(AuthOptions o = {}) {
    auto k = crypto::KeeperKeyring::generate();
    ASSERT_TRUE(k.has_value());
    keys_.emplace(std::move(*k));
    auto s = store::open_sqlite_keeper(dir_.file("rempart.db"));
    ASSERT_TRUE(s.has_value()) << s.error().internal;
    store_ = std::move(*s);
    o.pwhash = PwhashLimits::for_tests();
    o.clock = [this] { return now_; };
    svc_.emplace(*store_, *keys_, o);
  }

  store::test_support::TempDir dir_;
  std::optional<crypto::KeeperKeyring> keys_;
  std::unique_ptr<store::KeeperStore> store_;
  std::optional<AccountService> svc_;
  std::int64_t now_ = 0;
};

}  // namespace rempart::auth::test_support
