#pragma once
// Test-only helpers for the core layer's tests (not part of rempart_core).
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>

#include "core/validate.hpp"

namespace rempart::core {
// Readable failure output for FieldError comparisons.
inline void PrintTo(const FieldError& e, std::ostream* os) { *os << e.field << ':' << e.code; }
}  // namespace rempart::core

namespace rempart::core::testing {

// Field paths and codes are built from our own names: lower-case ASCII,
// digits, '_', '.', '[' and ']' only.
inline bool is_safe_token(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                    c == '[' || c == ']';
    if (!ok) return false;
  }
  return true;
}

// Asserts that no error echoes `hostile` (or any text outside our names).
inline void expect_no_echo(const FieldErrors& errors, std::string_view hostile) {
  for (const auto& e : errors) {
    EXPECT_TRUE(is_safe_token(e.field)) << "unsafe field path";
    EXPECT_TRUE(is_safe_token(e.code)) << "unsafe code";
    if (hostile.size() >= 3) {
      EXPECT_EQ(e.field.find(hostile), std::string::npos);
      EXPECT_EQ(e.code.find(hostile), std::string::npos);
    }
  }
}

inline void expect_code_no_echo(const std::string& code, std::string_view hostile) {
  EXPECT_TRUE(is_safe_token(code));
  if (hostile.size() >= 3) {
    EXPECT_EQ(code.find(hostile), std::string::npos);
  }
}

// Person::operator== is defaulted, but Consent (person.hpp) declares no
// operator==, which makes Person's deleted; compare member by member.
inline bool same_person(const Person& a, const Person& b) {
  return a.given_name == b.given_name && a.family_name == b.family_name && a.email == b.email &&
         a.phone == b.phone && a.postal_code == b.postal_code && a.locality == b.locality &&
         a.country == b.country && a.tags == b.tags && a.consent == b.consent;
}

}  // namespace rempart::core::testing
