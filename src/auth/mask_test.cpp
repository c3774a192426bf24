#include "auth/mask.hpp"

#include <gtest/gtest.h>

namespace rempart::auth {
namespace {

TEST(Mask, Email) {
  EXPECT_EQ(mask_email("jean@example.org"), "j•••@e•••.org");
  EXPECT_EQ(mask_email("élise.x@mail.sub.fr"), "é•••@m•••.fr");
  EXPECT_EQ(mask_email("no-at-sign"), "•••");
  EXPECT_EQ(mask_email("@example.org"), "•••");
  EXPECT_EQ(mask_email("a@localhost"), "a•••@l•••");
}

TEST(Mask, Phone) {
  EXPECT_EQ(mask_phone("+33612345642"), "+33 6•• •• •• 42");
  EXPECT_EQ(mask_phone("+447911123456"), "+44 7• •• •• •• 56");
  EXPECT_EQ(mask_phone("+14155550123"), "+1 4• •• •• •• 23");
  EXPECT_EQ(mask_phone("+352621123456").substr(0, 5), "+352 ");
  EXPECT_EQ(mask_phone("0612345642"), "•••");
  EXPECT_EQ(mask_phone("+33x12345642"), "•••");
}

TEST(Mask, MaskedPhoneNeverHoldsTheMiddleDigits) {
  const std::string m = mask_phone("+33698765442");
  EXPECT_EQ(m.find("987654"), std::string::npos);
  EXPECT_EQ(m.find("98"), std::string::npos);
}

TEST(Mask, Initials) {
  EXPECT_EQ(initials("Jean-Luc Dupont"), "J. D.");
  EXPECT_EQ(initials("  émile   zola "), "é. Z.");
  EXPECT_EQ(initials(""), "");
}

}  // namespace
}  // namespace rempart::auth
