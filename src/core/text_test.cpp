#include "core/text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace rempart::core::text {
namespace {

TEST(Utf8, AcceptsWellFormed) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("\xC3\xA9"));              // é
  EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC"));          // €
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x8C\xBB"));      // 🌻
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));      // U+10FFFF
  EXPECT_TRUE(is_valid_utf8(std::string("a\0b", 3)));  // NUL is well-formed UTF-8
}

TEST(Utf8, RefusesMalformed) {
  for (const char* bad : {
           "\xC0\xAF",          // overlong '/'
           "\xC1\xBF",          // overlong
           "\xE0\x80\xAF",      // overlong 3-byte
           "\xF0\x80\x80\xAF",  // overlong 4-byte
           "\xED\xA0\x80",      // surrogate U+D800
           "\xED\xBF\xBF",      // surrogate U+DFFF
           "\xF4\x90\x80\x80",  // U+110000
           "\xF5\x80\x80\x80",  // beyond any plane
           "\xC3",              // truncated
           "\xE2\x82",          // truncated
           "\x80",              // lone continuation
           "a\xFF",             // invalid byte
           "\xC3\x28",          // bad continuation
       }) {
    EXPECT_FALSE(is_valid_utf8(bad)) << "case index failed";
  }
}

TEST(Utf8, DecodeOneAdvances) {
  const std::string s = "a\xC3\xA9\xF0\x9F\x8C\xBB";
  std::size_t i = 0;
  EXPECT_EQ(decode_one(s, i), U'a');
  EXPECT_EQ(decode_one(s, i), U'\u00E9');
  EXPECT_EQ(decode_one(s, i), U'\U0001F33B');
  EXPECT_EQ(i, s.size());
  EXPECT_FALSE(decode_one(s, i).has_value());
  EXPECT_EQ(count_code_points(s), 3u);
}

TEST(Text, ControlsAndBidi) {
  EXPECT_TRUE(is_control(0));
  EXPECT_TRUE(is_control(0x1B));
  EXPECT_TRUE(is_control(0x7F));
  EXPECT_TRUE(is_control(0x85));
  EXPECT_FALSE(is_control(U'a'));
  EXPECT_FALSE(is_control(0xA0));
  for (char32_t c : {0x202Au, 0x202Bu, 0x202Cu, 0x202Du, 0x202Eu, 0x2066u, 0x2067u, 0x2068u,
                     0x2069u, 0x200Eu, 0x200Fu, 0x061Cu}) {
    EXPECT_TRUE(is_bidi_control(c));
  }
  EXPECT_FALSE(is_bidi_control(0x200D));  // ZWJ is needed by emoji sequences
}

TEST(Text, Trim) {
  EXPECT_EQ(trim_ascii(" \t a b \r\n"), "a b");
  EXPECT_EQ(trim_ascii("   "), "");
  // U+3000 ideographic space and U+00A0 no-break space around a name.
  EXPECT_EQ(trim_unicode("\xE3\x80\x80\xC2\xA0Jos\xC3\xA9\xC2\xA0 "), "Jos\xC3\xA9");
  EXPECT_EQ(trim_unicode("\xE3\x80\x80"), "");
}

TEST(Text, NfcComposes) {
  // "e" + COMBINING ACUTE ACCENT -> "é"
  EXPECT_EQ(to_nfc("e\xCC\x81"), std::optional<std::string>("\xC3\xA9"));
  EXPECT_EQ(to_nfc("already"), std::optional<std::string>("already"));
}

TEST(Text, AsciiCase) {
  EXPECT_EQ(ascii_lower("AbC-\xC3\x89"), "abc-\xC3\x89");  // non-ASCII untouched
  EXPECT_EQ(ascii_upper("sw1a 1aa"), "SW1A 1AA");
}

}  // namespace
}  // namespace rempart::core::text

namespace rempart::core::text {
namespace {

TEST(Text, PlainLineRefusesEmptyLongControlAndBidi) {
  EXPECT_TRUE(is_plain_line("calling back about the rally", 200));
  EXPECT_TRUE(is_plain_line("réunion à 18 h", 200));
  EXPECT_FALSE(is_plain_line("", 200));
  EXPECT_FALSE(is_plain_line(std::string(201, 'a'), 200));
  EXPECT_FALSE(is_plain_line("two\nlines", 200));
  EXPECT_FALSE(is_plain_line("tab\there", 200));
  EXPECT_FALSE(is_plain_line("\xe2\x80\xae" "evil", 200));  // U+202E right-to-left override
  EXPECT_FALSE(is_plain_line("\xff", 200));
}

}  // namespace
}  // namespace rempart::core::text
