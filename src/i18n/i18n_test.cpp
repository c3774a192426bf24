#include "i18n/i18n.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace rempart::i18n {
namespace {

TEST(I18n, AcceptLanguagePicksTheHeaviestOfOursAndTheFirstAmongEquals) {
  EXPECT_EQ(negotiate("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", Lang::en), Lang::fr);
  EXPECT_EQ(negotiate("en-GB, fr;q=0.5", Lang::fr), Lang::en);
  EXPECT_EQ(negotiate("de-DE, fr;q=0.3, en;q=0.2", Lang::en), Lang::fr);
  EXPECT_EQ(negotiate("fr;q=0.2, en;q=0.9", Lang::fr), Lang::en);
  EXPECT_EQ(negotiate("fr, en", Lang::en), Lang::fr);
  EXPECT_EQ(negotiate("en, fr", Lang::fr), Lang::en);
  // Nothing of ours, excluded, malformed or empty: the fallback.
  EXPECT_EQ(negotiate("de, it;q=0.8, *;q=0.1", Lang::fr), Lang::fr);
  EXPECT_EQ(negotiate("fr;q=0", Lang::en), Lang::en);
  EXPECT_EQ(negotiate("fr;q=2", Lang::en), Lang::en);
  EXPECT_EQ(negotiate("fr;q=0.1234", Lang::en), Lang::en);
  EXPECT_EQ(negotiate("fr;x=1", Lang::en), Lang::en);
  EXPECT_EQ(negotiate("", Lang::fr), Lang::fr);
  EXPECT_EQ(negotiate(",,,;;;=", Lang::en), Lang::en);
  EXPECT_EQ(negotiate("french, fra", Lang::en), Lang::en);
  EXPECT_EQ(parse("FR_ca"), Lang::fr);
  EXPECT_EQ(parse("en"), Lang::en);
  EXPECT_FALSE(parse("f").has_value());
  EXPECT_FALSE(parse("frx").has_value());
}

TEST(I18n, MessagesFollowTheThreadsLanguageAndFallBackToTheEnglish) {
  EXPECT_STREQ(tr("Sign up"), "Sign up");
  {
    const Scope fr(Lang::fr);
    EXPECT_STREQ(tr("Sign up"), "S’inscrire");
    EXPECT_EQ(trf("Sign up – {}", "Org"), "S’inscrire – Org");
    // Not in the catalogue: the English as written.
    EXPECT_STREQ(tr("A message nobody marked"), "A message nobody marked");
    // Another thread keeps its own language.
    std::thread([] { EXPECT_STREQ(tr("Sign up"), "Sign up"); }).join();
    {
      const Scope en(Lang::en);
      EXPECT_STREQ(tr("Sign up"), "Sign up");
    }
    EXPECT_STREQ(tr("Sign up"), "S’inscrire");
  }
  EXPECT_STREQ(tr("Sign up"), "Sign up");
  // A translation whose placeholders do not fit falls back, never throws.
  const Scope fr(Lang::fr);
  EXPECT_NO_THROW((void)trf("Sign up – {}"));
}

TEST(I18n, DatesNumbersAndCountriesFollowTheLanguage) {
  constexpr std::int64_t kAt = 1796563200;  // 2026-12-06 13:20 UTC
  EXPECT_EQ(date_time(kAt), "6 Dec 2026, 13:20 UTC");
  EXPECT_EQ(number(120000), "120,000");
  EXPECT_EQ(country_name("DE"), "Germany");
  const Scope fr(Lang::fr);
  EXPECT_EQ(date_time(kAt), "6 d\u00e9c. 2026, 13:20 UTC");
  EXPECT_EQ(date(kAt), "6 d\u00e9c. 2026");
  EXPECT_EQ(number(120000), "120\u202f000");
  EXPECT_EQ(country_name("DE"), "Allemagne");
  EXPECT_EQ(country_name("XX"), "XX");
  // Sorted by the language's collation: accents do not send a name to the end.
  const auto& all = countries();
  ASSERT_GT(all.size(), 240u);
  std::size_t egypt = 0, spain = 0, estonia = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].first == "EG") egypt = i;
    if (all[i].first == "ES") spain = i;
    if (all[i].first == "EE") estonia = i;
  }
  EXPECT_LT(egypt, spain);    // Égypte < Espagne
  EXPECT_LT(spain, estonia);  // Espagne < Estonie
}

}  // namespace
}  // namespace rempart::i18n
