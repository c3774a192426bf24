#include "auth/totp.hpp"

#include <liboath/oath.h>

#include <algorithm>
#include <array>
#include <string>

#include <gtest/gtest.h>

namespace rempart::auth {
namespace {

// RFC 6238 appendix B secret (SHA-1): "12345678901234567890".
const std::array<std::uint8_t, 20> kSecret = {'1', '2', '3', '4', '5', '6', '7', '8', '9', '0',
                                              '1', '2', '3', '4', '5', '6', '7', '8', '9', '0'};
constexpr std::int64_t kNow = 1'111'111'109;  // RFC vector: 081804 (8 digits 07081804)

std::string oath_code(std::int64_t t) {
  std::array<char, 7> out{};
  EXPECT_EQ(oath_init(), OATH_OK);
  EXPECT_EQ(oath_totp_generate(reinterpret_cast<const char*>(kSecret.data()), kSecret.size(), static_cast<time_t>(t),
                               30, 0, 6, out.data()),
            OATH_OK);
  return std::string(out.data(), 6);
}

TEST(Totp, MatchesRfc6238Vector) { EXPECT_EQ(totp_code(kSecret, kNow), "081804"); }

TEST(Totp, AcceptsCurrentAndOneStepEitherSide) {
  const std::int64_t step = kNow / 30;
  EXPECT_EQ(totp_check(kSecret, oath_code(kNow), kNow, -1), step);
  EXPECT_EQ(totp_check(kSecret, oath_code(kNow - 30), kNow, -1), step - 1);
  EXPECT_EQ(totp_check(kSecret, oath_code(kNow + 30), kNow, -1), step + 1);
}

TEST(Totp, RefusesTwoStepsAway) {
  EXPECT_FALSE(totp_check(kSecret, oath_code(kNow - 60), kNow, -1));
  EXPECT_FALSE(totp_check(kSecret, oath_code(kNow + 60), kNow, -1));
}

TEST(Totp, RefusesReplayAndOlderCodes) {
  const std::int64_t step = kNow / 30;
  EXPECT_FALSE(totp_check(kSecret, oath_code(kNow), kNow, step));
  EXPECT_FALSE(totp_check(kSecret, oath_code(kNow - 30), kNow, step));
  EXPECT_EQ(totp_check(kSecret, oath_code(kNow + 30), kNow, step), step + 1);
}

TEST(Totp, RefusesMalformedCodes) {
  EXPECT_FALSE(totp_check(kSecret, "", kNow, -1));
  EXPECT_FALSE(totp_check(kSecret, "08180", kNow, -1));
  EXPECT_FALSE(totp_check(kSecret, "0818044", kNow, -1));
  EXPECT_FALSE(totp_check(kSecret, "08180a", kNow, -1));
}

TEST(Totp, Base32AndUri) {
  EXPECT_EQ(base32(std::span<const std::uint8_t>(kSecret)), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  const std::array<std::uint8_t, 1> f = {'f'};
  EXPECT_EQ(base32(f), "MY");  // RFC 4648 "f" -> "MY======"
  EXPECT_EQ(otpauth_uri("alice.b", kSecret)->text(),
            "otpauth://totp/rempart:alice.b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=rempart&algorithm=SHA1"
            "&digits=6&period=30");
}

// For paper the same code is drawn the other way round: every cell's ink
// swapped (full block and blank, upper and lower half), so that printed
// black on white it is not inverted.
TEST(Totp, APaperQrCodeIsTheTerminalOneInverted) {
  const std::string text = "rempart key share, 1 of 5";
  const std::string screen = qr_terminal(text), paper = qr_terminal(text, QrInk::dark);
  ASSERT_FALSE(screen.empty());
  ASSERT_FALSE(paper.empty());
  const auto swapped = [](std::string s) {
    const std::pair<std::string, std::string> pairs[] = {{"\u2588", "@"}, {" ", "\u2588"}, {"@", " "},
                                                         {"\u2580", "#"}, {"\u2584", "\u2580"}, {"#", "\u2584"}};
    for (const auto& [from, to] : pairs) {
      for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
        s.replace(at, from.size(), to);
      }
    }
    return s;
  };
  // The last line's lower half lies past the code (its height is odd):
  // left blank in both, so only the lines above swap exactly.
  const auto cut = [](const std::string& q) { return q.substr(0, q.rfind('\n', q.size() - 2) + 1); };
  EXPECT_EQ(swapped(cut(screen)), cut(paper));
  EXPECT_EQ(paper.substr(cut(paper).size()).find_first_not_of(" \n"), std::string::npos);
  EXPECT_NE(screen, paper);
}

TEST(Totp, QrCodeIsSquareOfHalfBlocks) {
  const std::string qr = qr_terminal("otpauth://totp/rempart:alice?secret=GEZDGNBV&issuer=rempart");
  ASSERT_FALSE(qr.empty());
  EXPECT_NE(qr.find("\u2580"), std::string::npos);
  EXPECT_NE(qr.find("\u2584"), std::string::npos);
  // Every line the same width, in characters (code points).
  auto width = [](std::string_view line) {
    return std::count_if(line.begin(), line.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
  };
  std::size_t lines = 0;
  const auto first_len = width(std::string_view(qr).substr(0, qr.find('\n')));
  std::size_t pos = 0;
  while (pos < qr.size()) {
    const std::size_t nl = qr.find('\n', pos);
    ASSERT_NE(nl, std::string::npos);
    EXPECT_EQ(width(std::string_view(qr).substr(pos, nl - pos)), first_len);
    pos = nl + 1;
    ++lines;
  }
  EXPECT_GT(lines, 10u);
}

}  // namespace
}  // namespace rempart::auth
