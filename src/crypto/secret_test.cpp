#include "crypto/secret.hpp"

#include <gtest/gtest.h>

#include <string>
#include <type_traits>
#include <utility>

namespace rempart::crypto {
namespace {

static_assert(!std::is_copy_constructible_v<SecretBytes>);
static_assert(!std::is_copy_assignable_v<SecretBytes>);
static_assert(std::is_nothrow_move_constructible_v<SecretBytes>);
static_assert(std::is_nothrow_move_assignable_v<SecretBytes>);
static_assert(!std::is_convertible_v<SecretBytes, std::string>);
static_assert(!std::is_constructible_v<std::string, SecretBytes>);

TEST(SecretBytes, InitIsIdempotent) {
  EXPECT_TRUE(init());
  EXPECT_TRUE(init());
}

TEST(SecretBytes, AllocateHasRequestedSize) {
  auto s = SecretBytes::allocate(48);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->size(), 48u);
  EXPECT_NE(s->data(), nullptr);
  EXPECT_EQ(s->span().size(), 48u);
  s->span()[47] = 7;  // writable to the last byte
  EXPECT_EQ(s->data()[47], 7);
}

TEST(SecretBytes, ZeroSizeIsEmpty) {
  auto s = SecretBytes::allocate(0);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->empty());
  EXPECT_EQ(s->data(), nullptr);
}

TEST(SecretBytes, RandomValuesDiffer) {
  auto a = SecretBytes::random(32);
  auto b = SecretBytes::random(32);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(a->equals(b->span()));
  EXPECT_TRUE(a->equals(a->span()));
}

TEST(SecretBytes, CopyOfCopiesContent) {
  const std::uint8_t src[] = {1, 2, 3, 4};
  auto s = SecretBytes::copy_of(src);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->equals(src));
  const std::uint8_t other[] = {1, 2, 3, 5};
  EXPECT_FALSE(s->equals(other));
  EXPECT_FALSE(s->equals(std::span(other).first(3)));
}

TEST(SecretBytes, MoveConstructionTransfersOwnership) {
  auto a = SecretBytes::random(32);
  ASSERT_TRUE(a);
  const std::uint8_t* p = a->data();
  SecretBytes b(std::move(*a));
  EXPECT_EQ(b.data(), p);
  EXPECT_EQ(b.size(), 32u);
  EXPECT_EQ(a->data(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_EQ(a->size(), 0u);
}

TEST(SecretBytes, MoveAssignmentReleasesPreviousAndTransfers) {
  auto a = SecretBytes::random(16);
  auto b = SecretBytes::random(64);
  ASSERT_TRUE(a && b);
  const std::uint8_t* pa = a->data();
  *b = std::move(*a);
  EXPECT_EQ(b->data(), pa);
  EXPECT_EQ(b->size(), 16u);
  EXPECT_TRUE(a->empty());
  SecretBytes& self = *b;
  *b = std::move(self);  // self-move keeps the content
  EXPECT_EQ(b->data(), pa);
}

TEST(SecretBytes, HoldsTextAndShowsItBack) {
  auto s = SecretBytes::copy_of_text("rmpe_not-a-real-code");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->text(), "rmpe_not-a-real-code");
  EXPECT_EQ(s->size(), 20u);
  EXPECT_TRUE(SecretBytes{}.text().empty());
}

}  // namespace
}  // namespace rempart::crypto
