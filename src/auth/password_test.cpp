#include "auth/password.hpp"

#include <sodium.h>

#include <filesystem>

#include <gtest/gtest.h>

namespace rempart::auth {
namespace {

TEST(PasswordPolicy, RefusesShortPasswords) {
  EXPECT_FALSE(check_password_policy("Sh0rt!pass", "alice"));
  EXPECT_FALSE(check_password_policy("élan-vital1", "alice"));  // 11 code points, more bytes
  EXPECT_TRUE(check_password_policy("élan-vital12", "alice"));
}

TEST(PasswordPolicy, RefusesCommonPasswords) {
  EXPECT_TRUE(is_common_password("PASSWORD1234"));
  auto r = check_password_policy("password1234", "alice");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_input);
  EXPECT_EQ(r.error().internal.find("password1234"), std::string::npos);
}

TEST(PasswordPolicy, UsesTheSystemListWhenPresent) {
  if (!std::filesystem::exists("/usr/share/john/password.lst")) GTEST_SKIP() << "john-data not installed";
  EXPECT_TRUE(is_common_password("letmein"));
  EXPECT_TRUE(is_common_password("trustno1"));
  EXPECT_FALSE(is_common_password("#!comment: This list has been compiled by Solar Designer of Openwall Project"));
}

TEST(PasswordPolicy, RefusesPasswordsContainingTheName) {
  EXPECT_FALSE(check_password_policy("xx-Marianne.Q-2026", "marianne.q"));
  EXPECT_TRUE(check_password_policy("xx-Marianne.Q-2026", "bob"));
}

TEST(PasswordHash, Argon2idVerifies) {
  auto h = hash_password("correct horse battery", PwhashLimits::for_tests());
  ASSERT_TRUE(h) << h.error().internal;
  EXPECT_TRUE(h->starts_with("$argon2id$"));
  EXPECT_TRUE(verify_password("correct horse battery", *h));
  EXPECT_FALSE(verify_password("correct horse batterY", *h));
  EXPECT_FALSE(verify_password("correct horse battery", "garbage"));
  auto h2 = hash_password("correct horse battery", PwhashLimits::for_tests());
  ASSERT_TRUE(h2);
  EXPECT_NE(*h, *h2);  // salted
}

TEST(PasswordHash, ProductionParametersMeetOwasp) {
  const auto p = PwhashLimits::production();
  EXPECT_GE(p.opslimit, 2u);
  EXPECT_GE(p.memlimit, std::size_t{19} << 20);
  auto h = hash_password("a production-cost password", p);
  ASSERT_TRUE(h) << h.error().internal;
  EXPECT_NE(h->find("m=65536,t=3"), std::string::npos) << *h;
  EXPECT_TRUE(verify_password("a production-cost password", *h));
  EXPECT_FALSE(crypto_pwhash_str_needs_rehash(h->c_str(), p.opslimit, p.memlimit));
}

}  // namespace
}  // namespace rempart::auth
