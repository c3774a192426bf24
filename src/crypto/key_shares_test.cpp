#include "crypto/key_shares.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "crypto/test_support.hpp"

namespace rempart::crypto {
namespace {

using test::code_of;

KeeperKeyring make_keyring(unsigned versions = 1) {
  auto kr = KeeperKeyring::generate(1);
  if (!kr) throw std::runtime_error(kr.error().internal);
  for (unsigned v = 1; v < versions; ++v) {
    if (!kr->add_version()) throw std::runtime_error("add_version failed");
  }
  return std::move(*kr);
}

std::vector<std::uint8_t> serialised(const KeeperKeyring& kr) {
  auto bytes = serialise_keeper_keyring(kr);
  if (!bytes) throw std::runtime_error(bytes.error().internal);
  return {bytes->span().begin(), bytes->span().end()};
}

std::vector<KeyShare> split(const KeeperKeyring& kr, unsigned count, unsigned threshold) {
  auto shares = split_keeper_keyring(kr, count, threshold);
  if (!shares) throw std::runtime_error(shares.error().internal);
  return std::move(*shares);
}

// A share through its text and back, as a trustee's paper would carry it.
KeyShare through_text(const KeyShare& s) {
  auto text = encode_key_share(s);
  if (!text) throw std::runtime_error(text.error().internal);
  auto back = decode_key_share(text->text());
  if (!back) throw std::runtime_error(back.error().internal);
  return std::move(*back);
}

// The shares at `indexes` (0-based), each through its text.
std::vector<KeyShare> pick(const std::vector<KeyShare>& shares, const std::vector<std::size_t>& indexes) {
  std::vector<KeyShare> out;
  for (std::size_t i : indexes) out.push_back(through_text(shares.at(i)));
  return out;
}

// True if any 16 bytes of the keyring past its fixed header appear in `haystack`.
bool holds_part_of(std::span<const std::uint8_t> haystack, const std::vector<std::uint8_t>& keyring) {
  for (std::size_t at = 16; at + 16 <= keyring.size(); at += 8) {
    const auto from = keyring.begin() + static_cast<std::ptrdiff_t>(at);
    if (std::search(haystack.begin(), haystack.end(), from, from + 16) != haystack.end()) return true;
  }
  return false;
}

std::string error_text(const Result<KeeperKeyring>& r) { return r ? std::string("(combined)") : r.error().internal; }

TEST(KeyShares, RoundTripForSeveralSplits) {
  const KeeperKeyring kr = make_keyring();
  const auto original = serialised(kr);
  for (const auto& [count, threshold] : std::vector<std::pair<unsigned, unsigned>>{
           {3, 2}, {4, 3}, {5, 3}, {7, 4}, {16, 2}, {16, 15}}) {
    SCOPED_TRACE(std::to_string(threshold) + " of " + std::to_string(count));
    const auto shares = split(kr, count, threshold);
    ASSERT_EQ(shares.size(), count);
    for (std::size_t i = 0; i < shares.size(); ++i) {
      EXPECT_EQ(unsigned{shares[i].number}, i + 1);
      EXPECT_EQ(unsigned{shares[i].count}, count);
      EXPECT_EQ(unsigned{shares[i].threshold}, threshold);
      EXPECT_EQ(shares[i].bytes.size(), original.size());
      // A share holds no 16 bytes of the keyring, nor does its text.
      EXPECT_FALSE(holds_part_of(shares[i].bytes.span(), original));
      auto text = encode_key_share(shares[i]);
      ASSERT_TRUE(text);
      EXPECT_FALSE(holds_part_of(text->span(), original));
    }
    // The last `threshold` shares, through their text.
    std::vector<std::size_t> idx;
    for (unsigned i = count - threshold; i < count; ++i) idx.push_back(i);
    const auto given = pick(shares, idx);
    auto back = combine_key_shares(given);
    ASSERT_TRUE(back) << back.error().internal;
    EXPECT_EQ(serialised(*back), original);
  }
}

TEST(KeyShares, EveryThreeOfFiveRebuildTheKeyring) {
  const KeeperKeyring kr = make_keyring();
  const auto original = serialised(kr);
  const auto shares = split(kr, 5, 3);
  int subsets = 0;
  for (std::size_t a = 0; a < 5; ++a)
    for (std::size_t b = a + 1; b < 5; ++b)
      for (std::size_t c = b + 1; c < 5; ++c) {
        // The order the shares come in does not matter.
        const auto given = pick(shares, {c, a, b});
        auto back = combine_key_shares(given);
        ASSERT_TRUE(back) << a << b << c << ": " << back.error().internal;
        EXPECT_EQ(serialised(*back), original) << a << b << c;
        ++subsets;
      }
  EXPECT_EQ(subsets, 10);
  // More than the threshold: all five agree.
  auto all = combine_key_shares(pick(shares, {0, 1, 2, 3, 4}));
  ASSERT_TRUE(all) << all.error().internal;
  EXPECT_EQ(serialised(*all), original);
}

TEST(KeyShares, FewerThanTheThresholdAreRefused) {
  const auto shares = split(make_keyring(), 5, 3);
  for (const auto& idx : std::vector<std::vector<std::size_t>>{{0, 4}, {1}, {2, 3}}) {
    auto r = combine_key_shares(pick(shares, idx));
    EXPECT_EQ(code_of(r), Errc::crypto);
    EXPECT_EQ(error_text(r), "3 shares needed, " + std::to_string(idx.size()) + " given");
  }
  EXPECT_EQ(code_of(combine_key_shares({})), Errc::crypto);
}

TEST(KeyShares, SplitsOutsideTheLimitsAreRefused) {
  const KeeperKeyring kr = make_keyring();
  for (const auto& [count, threshold] : std::vector<std::pair<unsigned, unsigned>>{
           {5, 5}, {5, 6}, {5, 1}, {5, 0}, {2, 1}, {2, 2}, {17, 3}, {0, 0}, {255, 2}}) {
    auto r = split_keeper_keyring(kr, count, threshold);
    EXPECT_EQ(code_of(r), Errc::invalid_input) << threshold << " of " << count;
  }
}

TEST(KeyShares, AMistypedCharacterIsRefusedByTheChecksum) {
  const auto shares = split(make_keyring(), 5, 3);
  auto text = encode_key_share(shares[1]);
  ASSERT_TRUE(text);
  const std::string good(text->text());
  // Characters in the middle: the last one also carries padding bits.
  const std::size_t first_line = good.find('\n') + 1;
  for (std::size_t at : {first_line, first_line + 7, good.size() / 2}) {
    std::string bad = good;
    while (bad[at] == ' ' || bad[at] == '\n') ++at;
    bad[at] = bad[at] == 'A' ? 'B' : 'A';
    auto r = decode_key_share(bad);
    EXPECT_EQ(code_of(r), Errc::crypto) << at;
    if (!r) {
      EXPECT_EQ(r.error().internal, "a character was mistyped or the text is damaged");
      // The message never quotes the text.
      EXPECT_EQ(r.error().internal.find(bad.substr(first_line, 4)), std::string::npos);
    }
    wipe(bad);
  }
  // A character outside base32 (a 0 for an O), a dropped one, a line lost.
  std::string zero = good;
  zero[first_line + 2] = '0';
  EXPECT_EQ(code_of(decode_key_share(zero)), Errc::crypto);
  std::string dropped = good;
  dropped.erase(first_line + 5, 1);
  EXPECT_EQ(code_of(decode_key_share(dropped)), Errc::crypto);
  std::string short_one = good;
  short_one.erase(first_line, good.find('\n', first_line) + 1 - first_line);
  EXPECT_EQ(code_of(decode_key_share(short_one)), Errc::crypto);
  for (auto* s : {&zero, &dropped, &short_one}) wipe(*s);
}

TEST(KeyShares, TheTextIsGroupedAndReadsBackWhateverItsSpacingAndCase) {
  const auto shares = split(make_keyring(), 3, 2);
  auto text = encode_key_share(shares[0]);
  ASSERT_TRUE(text);
  const std::string good(text->text());
  ASSERT_EQ(good.rfind(std::string(kShareBeginLine) + "\n", 0), 0u);
  ASSERT_TRUE(good.ends_with(std::string(kShareEndLine) + "\n"));
  // Lines of 8 groups of 4 characters, base32 only.
  std::size_t pos = good.find('\n') + 1;
  const std::size_t end = good.find(kShareEndLine);
  std::size_t lines = 0;
  while (pos < end) {
    const std::size_t eol = good.find('\n', pos);
    const std::string line = good.substr(pos, eol - pos);
    EXPECT_LE(line.size(), 8u * 4 + 7) << line.size();
    if (pos + line.size() + 1 < end) {
      EXPECT_EQ(line.size(), 8u * 4 + 7);
    }
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (i % 5 == 4) {
        EXPECT_EQ(line[i], ' ');
      } else {
        EXPECT_TRUE((line[i] >= 'A' && line[i] <= 'Z') || (line[i] >= '2' && line[i] <= '7'));
      }
    }
    pos = eol + 1;
    ++lines;
  }
  EXPECT_GT(lines, 10u);

  // As typed back: lower case, other spacing and line breaks.
  std::string typed = "\r\n";
  for (char c : good.substr(good.find('\n') + 1, end - good.find('\n') - 1)) {
    if (c == '\n') {
      typed += "  \r\n\t";
    } else if (c != ' ') {
      typed += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
  }
  auto body_only = decode_key_share(typed);
  ASSERT_TRUE(body_only) << body_only.error().internal;
  EXPECT_EQ(body_only->number, 1);
  EXPECT_TRUE(body_only->bytes.equals(shares[0].bytes.span()));
  // With its BEGIN and END lines, and words around them.
  const std::string framed =
      "Share from the safe:\n" + std::string(kShareBeginLine) + "\n" + typed + std::string(kShareEndLine) + "\nok\n";
  auto with_lines = decode_key_share(framed);
  ASSERT_TRUE(with_lines) << with_lines.error().internal;
  EXPECT_TRUE(with_lines->bytes.equals(shares[0].bytes.span()));
  EXPECT_EQ(with_lines->fingerprint, shares[0].fingerprint);
  wipe(typed);
}

TEST(KeyShares, SharesOfDifferentKeyringsAreRefused) {
  const KeeperKeyring a = make_keyring();
  const KeeperKeyring b = make_keyring();
  const auto sa = split(a, 5, 3);
  const auto sb = split(b, 5, 3);
  std::vector<KeyShare> mixed = pick(sa, {0, 1});
  mixed.push_back(through_text(sb[2]));
  auto r = combine_key_shares(mixed);
  EXPECT_EQ(code_of(r), Errc::crypto);
  EXPECT_NE(error_text(r).find("different keyrings"), std::string::npos) << error_text(r);
  auto fa = keyring_fingerprint(a);
  ASSERT_TRUE(fa);
  EXPECT_EQ(*fa, sa[0].fingerprint);
  EXPECT_NE(error_text(r).find(fingerprint_hex(*fa)), std::string::npos) << error_text(r);
}

TEST(KeyShares, SharesOfDifferentSplitsAreRefused) {
  const KeeperKeyring kr = make_keyring();
  // Another threshold, or the same one drawn again: the same fingerprint,
  // but other polynomials.
  const auto first = split(kr, 5, 3);
  const auto other_threshold = split(kr, 5, 2);
  std::vector<KeyShare> mixed = pick(first, {0, 1});
  mixed.push_back(through_text(other_threshold[2]));
  auto r = combine_key_shares(mixed);
  EXPECT_EQ(code_of(r), Errc::crypto);
  EXPECT_NE(error_text(r).find("different backups"), std::string::npos) << error_text(r);

  const auto again = split(kr, 5, 3);
  std::vector<KeyShare> two_backups = pick(first, {0, 1});
  two_backups.push_back(through_text(again[2]));
  auto bad = combine_key_shares(two_backups);
  EXPECT_EQ(code_of(bad), Errc::crypto);
  EXPECT_NE(error_text(bad).find("do not rebuild the keyring"), std::string::npos) << error_text(bad);
}

TEST(KeyShares, ASameShareGivenTwiceIsRefused) {
  const auto shares = split(make_keyring(), 5, 3);
  auto r = combine_key_shares(pick(shares, {0, 1, 1}));
  EXPECT_EQ(code_of(r), Errc::crypto);
  EXPECT_EQ(error_text(r), "share 2 is given twice");
  // Even with enough other shares.
  auto r2 = combine_key_shares(pick(shares, {3, 0, 1, 3}));
  EXPECT_EQ(error_text(r2), "share 4 is given twice");
}

TEST(KeyShares, AKeyringOfTwoVersionsRoundTrips) {
  const KeeperKeyring kr = make_keyring(2);
  ASSERT_EQ(kr.all().size(), 2u);
  const auto shares = split(kr, 4, 3);
  auto back = combine_key_shares(pick(shares, {3, 0, 2}));
  ASSERT_TRUE(back) << back.error().internal;
  ASSERT_EQ(back->all().size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(back->all()[i].get().version, kr.all()[i].get().version);
    EXPECT_EQ(back->all()[i].get().seal_public, kr.all()[i].get().seal_public);
    EXPECT_EQ(back->all()[i].get().audit_sign_public, kr.all()[i].get().audit_sign_public);
  }
  EXPECT_EQ(back->current().version, 2u);
  EXPECT_EQ(back->intake().seal_public, kr.intake().seal_public);
  EXPECT_EQ(serialised(*back), serialised(kr));
}

TEST(KeyShares, FindsEveryBlockInAText) {
  const auto shares = split(make_keyring(), 3, 2);
  auto t1 = encode_key_share(shares[0]);
  auto t3 = encode_key_share(shares[2]);
  ASSERT_TRUE(t1 && t3);
  std::string text = "pasted:\n" + std::string(t1->text()) + "\nsome words\n" + std::string(t3->text()) + "end\n";
  auto blocks = find_key_share_blocks(text);
  ASSERT_TRUE(blocks) << blocks.error().internal;
  ASSERT_EQ(blocks->size(), 2u);
  std::vector<KeyShare> given;
  for (std::string_view b : *blocks) {
    auto s = decode_key_share(b);
    ASSERT_TRUE(s) << s.error().internal;
    given.push_back(std::move(*s));
  }
  EXPECT_EQ(given[0].number, 1);
  EXPECT_EQ(given[1].number, 3);
  EXPECT_TRUE(combine_key_shares(given));

  auto none = find_key_share_blocks("nothing here");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  // A block cut short: its END line lost, or another block starting first.
  const std::string cut(t1->text().substr(0, t1->text().size() / 2));
  EXPECT_EQ(code_of(find_key_share_blocks(cut)), Errc::invalid_input);
  EXPECT_EQ(code_of(find_key_share_blocks(cut + std::string(t3->text()))), Errc::invalid_input);
  wipe(text);
}

TEST(KeyShares, TheSerialisedKeyringParsesBackAndDamageIsRefused) {
  const KeeperKeyring kr = make_keyring(2);
  auto bytes = serialised(kr);
  auto back = parse_keeper_keyring(bytes);
  ASSERT_TRUE(back) << back.error().internal;
  EXPECT_EQ(serialised(*back), bytes);
  bytes[40] ^= 1;
  auto bad = parse_keeper_keyring(bytes);
  EXPECT_EQ(code_of(bad), Errc::invalid_input);
  EXPECT_EQ(code_of(parse_keeper_keyring({})), Errc::invalid_input);
}

}  // namespace
}  // namespace rempart::crypto
