#include "drill/plaintext.hpp"

#include <gtest/gtest.h>

namespace rempart::drill {
namespace {

TEST(DrillNeedles, FindsAddressesAndNumbersInBinaryNoise) {
  Needles n;
  n.add_email("jeanne.morel.17@example.org");
  n.add_phone("+33199000017");
  Needles::Found f;
  const std::string bytes = std::string("\x01\x02zzJeanne.Morel.17@Example.ORG\x00", 32) + "..33199000017..";
  n.scan(bytes, f);
  EXPECT_EQ(f.emails.size(), 1U);
  EXPECT_EQ(f.phones.size(), 1U);
  Needles::Found national;
  n.scan("tel 0199000017;", national);
  EXPECT_EQ(national.phones.size(), 1U);
}

TEST(DrillNeedles, IgnoresLookalikes) {
  Needles n;
  n.add_email("a.b.1@example.org");
  n.add_phone("+33199000001");
  Needles::Found f;
  n.scan("a.b.11@example.org a.b.1@example.org.uk 331990000012 +3319900000 f33199000001e", f);
  EXPECT_EQ(f.records(), 0U);
}

TEST(DrillNeedles, ValuesTheAttackSendsAreLeftOut) {
  Needles n;
  n.add_phone("+33199001234");
  n.add_phone("+33199001235");
  EXPECT_EQ(n.forget_found_in("+33199001234"), 1U);
  EXPECT_EQ(n.phones(), 1U);
  Needles::Found f;
  n.scan("tag|+33199001234|", f);
  EXPECT_EQ(f.records(), 0U);
}

TEST(DrillNeedles, ErrorTextIsRecognised) {
  EXPECT_TRUE(looks_like_internal_error("near \"OR\": syntax error"));
  EXPECT_TRUE(looks_like_internal_error("terminate called after throwing"));
  EXPECT_FALSE(looks_like_internal_error("<p>Thank you for signing up.</p>"));
}

}  // namespace
}  // namespace rempart::drill
