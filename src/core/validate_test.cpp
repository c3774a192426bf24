#include "core/validate.hpp"

#include <gtest/gtest.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>
#include <unicode/uloc.h>
#include <unicode/unistr.h>

#include <array>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/test_support.hpp"

namespace rempart::core {
namespace {

using testing::expect_code_no_echo;
using testing::expect_no_echo;

struct Ok {
  std::string in;
  std::string out;
};
struct Bad {
  std::string in;
  std::string code;
};

std::string s(const char* p, std::size_t n) { return std::string(p, n); }

// ---- e-mail ---------------------------------------------------------------

TEST(NormalizeEmail, AcceptsAndNormalises) {
  const std::vector<Ok> cases = {
      {"Alice@Example.COM", "alice@example.com"},
      {"  bob.smith+tag@mail.example.org \n", "bob.smith+tag@mail.example.org"},
      {"o'brien@example.ie", "o'brien@example.ie"},
      {"elise@ex\xC3\xA4mple.fr", "elise@xn--exmple-cua.fr"},  // exämple.fr
      {"user@B\xC3\x9C" "CHER.de", "user@xn--bcher-kva.de"},   // BÜCHER.de
      {"x@xn--exmple-cua.fr", "x@xn--exmple-cua.fr"},
      {"a@\xE4\xBE\x8B\xE3\x81\x88.jp", "a@xn--r8jz45g.jp"},    // 例え.jp
      {"first.last@sub-domain.example.co.uk", "first.last@sub-domain.example.co.uk"},
  };
  for (const auto& c : cases) {
    const auto r = normalize_email(c.in);
    ASSERT_TRUE(r.has_value()) << "expected valid: " << c.out;
    EXPECT_EQ(*r, c.out);
    // A normalised address is a fixed point.
    EXPECT_EQ(normalize_email(*r), r);
  }
}

TEST(NormalizeEmail, RefusesHostileAndMalformed) {
  const std::string local65(65, 'a');
  const std::string label64(64, 'b');
  const std::string long_domain = std::string(60, 'c') + "." + std::string(60, 'd') + "." +
                                  std::string(60, 'e') + "." + std::string(60, 'f') + ".com";
  const std::vector<Bad> cases = {
      {"", "required"},
      {"   ", "required"},
      {"plainaddress", "invalid_email"},
      {"a@b", "invalid_email"},
      {"a@@b.com", "invalid_email"},
      {"a@b@c.com", "invalid_email"},
      {"a@b..com", "invalid_email"},
      {".a@b.com", "invalid_email"},
      {"a.@b.com", "invalid_email"},
      {"a..b@c.com", "invalid_email"},
      {"a b@c.com", "invalid_email"},
      {"\"quoted\"@example.com", "invalid_email"},
      {"' OR 1=1 --", "invalid_email"},
      {"' OR 1=1 --@example.com", "invalid_email"},
      {"x@example.com' OR '1'='1", "invalid_email"},
      {"\"; DROP TABLE supporters; --@x.com", "invalid_email"},
      {"admin@example.com;DROP TABLE supporters", "invalid_email"},
      {s("a\0b@example.com", 15), "invalid_email"},
      {s("ab@exam\0ple.com", 15), "invalid_email"},
      {"a@-b.com", "invalid_email"},
      {"a@b-.com", "invalid_email"},
      {"a@b_c.com", "invalid_email"},
      {"a@1.2.3.4", "invalid_email"},
      {"a@[127.0.0.1]", "invalid_email"},
      {"a@example.com.", "invalid_email"},
      {"\xC3\xA9lise@ex\xC3\xA4mple.fr", "invalid_email"},  // non-ASCII local part
      {"a@exa\xE2\x80\xAEmple.com", "invalid_email"},       // bidi override in domain
      {"a@ex\xC0\xAFmple.com", "invalid_utf8"},
      {"a@\xED\xA0\x80.com", "invalid_utf8"},
      {"a@\xF4\x90\x80\x80.com", "invalid_utf8"},
      {"a@xn--zz.com", "invalid_email"},  // not a valid A-label
      {local65 + "@example.com", "too_long"},
      {"a@" + long_domain + "." + long_domain, "too_long"},
      {std::string(100000, 'x'), "too_long"},
      {std::string(100000, 'x') + "@example.com", "too_long"},
  };
  for (const auto& c : cases) {
    const auto r = normalize_email(c.in);
    ASSERT_FALSE(r.has_value()) << "expected invalid, code " << c.code;
    EXPECT_EQ(r.error(), c.code) << "expected code " << c.code;
    expect_code_no_echo(r.error(), c.in);
  }
  // A label over 63 octets is refused whichever check catches it.
  const auto r = normalize_email("a@" + label64 + ".com");
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error() == "invalid_email" || r.error() == "too_long");
}

TEST(NormalizeEmail, WholeAddressBoundedAt254) {
  // 64 + 1 + 189 = 254 octets: accepted; one more: refused.
  const std::string local(64, 'l');
  const std::string dom189 = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                             std::string(57, 'c') + ".com";
  ASSERT_EQ(dom189.size(), 189u);
  EXPECT_TRUE(normalize_email(local + "@" + dom189).has_value());
  const auto r = normalize_email(local + "@" + "x" + dom189);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), "too_long");
}

// The shortcut past libidn2 for plain ASCII domains must give what libidn2
// gives, value or error, on every domain: the edge cases by name, then
// 50,000 random domains over an alphabet that makes labels at the edges
// (hyphens in every place, "xn--" prefixes, empty labels, lengths around 63
// and 253) common.
TEST(NormalizeEmail, AsciiShortcutAgreesWithIdna) {
  const auto same = [](const std::string& d) {
    const auto fast = detail::domain_to_a_labels(d, true);
    const auto slow = detail::domain_to_a_labels(d, false);
    EXPECT_EQ(fast.has_value(), slow.has_value()) << d;
    if (fast && slow) {
      EXPECT_EQ(*fast, *slow) << d;
    } else if (!fast && !slow) {
      EXPECT_EQ(fast.error(), slow.error()) << d;
    }
    return fast.has_value();
  };
  EXPECT_TRUE(same("example.com"));
  EXPECT_TRUE(same("Example.COM"));
  EXPECT_TRUE(same("xn--exmple-cua.fr"));
  EXPECT_FALSE(same("xn--zz.com"));
  EXPECT_FALSE(same("xn--.com"));
  same("ab--cd.com");
  same("a--b.com");
  same("-ab.com");
  same("ab-.com");
  same("a..com");
  same(".com");
  same("com.");
  same(std::string(63, 'a') + ".com");
  same(std::string(64, 'a') + ".com");
  same(std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." + std::string(61, 'd'));
  same(std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." + std::string(62, 'd'));

  std::mt19937 rng(20261124);
  const std::string alphabet = "abxnXN09-.-.";
  int accepted = 0;
  for (int i = 0; i < 50000; ++i) {
    std::string d;
    const int shape = static_cast<int>(rng() % 4);
    if (shape == 0) {
      // Short random strings: hyphens and dots in every place.
      const std::size_t n = 1 + rng() % 12;
      for (std::size_t k = 0; k < n; ++k) d += alphabet[rng() % alphabet.size()];
    } else if (shape == 1) {
      // Labels that may start "xn--" or carry "--" in their third place.
      const int labels = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < labels; ++k) {
        if (k > 0) d += '.';
        d += (rng() % 2 == 0) ? "xn--" : "ab--";
        for (int m = static_cast<int>(rng() % 8); m > 0; --m) d += alphabet[rng() % 6];
      }
    } else {
      // Long labels and long names around the 63- and 253-octet limits.
      const int labels = 1 + static_cast<int>(rng() % 5);
      for (int k = 0; k < labels; ++k) {
        if (k > 0) d += '.';
        d += std::string(58 + rng() % 8, static_cast<char>('a' + rng() % 3));
      }
    }
    if (same(d)) ++accepted;
    if (::testing::Test::HasFailure()) break;
  }
  // The random domains reach both outcomes.
  EXPECT_GT(accepted, 500);
}

// ---- phone ----------------------------------------------------------------

struct PhoneOk {
  std::string in;
  std::string region;
  std::string out;
};

TEST(NormalizePhone, ManyRegions) {
  const std::vector<PhoneOk> cases = {
      {"06 12 34 56 78", "FR", "+33612345678"},
      {"06.12.34.56.78", "FR", "+33612345678"},
      {"06-12-34-56-78", "FR", "+33612345678"},
      {"+33 6 12 34 56 78", "FR", "+33612345678"},
      {"0033 6 12 34 56 78", "FR", "+33612345678"},
      {"+33 1 42 68 53 00", "US", "+33142685300"},
      {"+49 30 123456", "FR", "+4930123456"},
      {"+49 1512 3456789", "FR", "+4915123456789"},
      {"01512 3456789", "DE", "+4915123456789"},
      {"+44 7400 123456", "FR", "+447400123456"},
      {"07400 123456", "GB", "+447400123456"},
      {"+1 (201) 555-0123", "FR", "+12015550123"},
      {"(201) 555-0123", "US", "+12015550123"},
      {"+81 90-1234-5678", "FR", "+819012345678"},
      {"090-1234-5678", "JP", "+819012345678"},
      {"+55 11 96123-4567", "FR", "+5511961234567"},
      {"(11) 96123-4567", "BR", "+5511961234567"},
      {"+91 81234 56789", "FR", "+918123456789"},
      {"081234 56789", "IN", "+918123456789"},
      {"+234 802 123 4567", "FR", "+2348021234567"},
      {"0802 123 4567", "NG", "+2348021234567"},
  };
  for (const auto& c : cases) {
    const auto r = normalize_phone(c.in, c.region);
    ASSERT_TRUE(r.has_value()) << "expected valid: " << c.out << " (" << c.region << ")";
    EXPECT_EQ(*r, c.out);
    EXPECT_EQ(normalize_phone(*r, "FR"), r);  // E.164 is a fixed point
  }
}

TEST(NormalizePhone, RefusesHostileAndInvalid) {
  const std::vector<Bad> cases = {
      {"", "required"},
      {"12", "invalid_phone"},
      {"+33 1 23", "invalid_phone"},
      {"0000000000", "invalid_phone"},
      {"+999 1234 5678", "invalid_phone"},
      {"06 12 AB 56 78", "invalid_phone"},
      {"' OR 1=1 --", "invalid_phone"},
      {"06;DROP TABLE x", "invalid_phone"},
      {"++33612345678", "invalid_phone"},
      {"06+12345678", "invalid_phone"},
      {s("06\0" "12345678", 11), "invalid_phone"},
      {"\xEF\xBC\x90\xEF\xBC\x96 12 34 56 78", "invalid_phone"},  // full-width digits
      {"+1 (201) 555-01234", "invalid_phone"},
      {std::string(33, '1'), "too_long"},
      {std::string(100000, '6'), "too_long"},
  };
  for (const auto& c : cases) {
    const auto r = normalize_phone(c.in, "FR");
    ASSERT_FALSE(r.has_value()) << "expected invalid, code " << c.code;
    EXPECT_EQ(r.error(), c.code);
    expect_code_no_echo(r.error(), c.in);
  }
}

TEST(NormalizePhone, NationalFormNeedsTheRightRegion) {
  EXPECT_TRUE(normalize_phone("(201) 555-0123", "US").has_value());
  EXPECT_FALSE(normalize_phone("(201) 555-0123", "FR").has_value());
  EXPECT_FALSE(normalize_phone("06 12 34 56 78", "ZZ").has_value());
}

TEST(PhoneForDisplay, GroupsAsTheCountryWritesIt) {
  EXPECT_EQ(phone_for_display("+33612345678"), "+33 6 12 34 56 78");
  EXPECT_EQ(phone_for_display("+12015550123"), "+1 201-555-0123");
  EXPECT_EQ(phone_for_display("not a number"), "not a number");
}

// ---- names ------------------------------------------------------------------

TEST(NormalizeName, AcceptsAllScriptsAndEmoji) {
  const std::vector<Ok> cases = {
      {"  \xC3\x89lise \t", "\xC3\x89lise"},                   // Élise, trimmed
      {"E\xCC\x81lise", "\xC3\x89lise"},                       // NFD -> NFC
      {"\xF0\x9F\x8C\xBB Sunny \xF0\x9F\x91\xA9\xF0\x9F\x8F\xBD\xE2\x80\x8D\xF0\x9F\x8C\xBE",
       "\xF0\x9F\x8C\xBB Sunny \xF0\x9F\x91\xA9\xF0\x9F\x8F\xBD\xE2\x80\x8D\xF0\x9F\x8C\xBE"},
      {"\xD9\x85\xD8\xAD\xD9\x85\xD8\xAF", "\xD9\x85\xD8\xAD\xD9\x85\xD8\xAF"},  // محمد
      {"\xE5\xB1\xB1\xE7\x94\xB0", "\xE5\xB1\xB1\xE7\x94\xB0"},                  // 山田
      {"\xE0\xA4\xAA\xE0\xA5\x8D\xE0\xA4\xB0\xE0\xA4\xBF\xE0\xA4\xAF\xE0\xA4\xBE",
       "\xE0\xA4\xAA\xE0\xA5\x8D\xE0\xA4\xB0\xE0\xA4\xBF\xE0\xA4\xAF\xE0\xA4\xBE"},  // प्रिया
      {"O'Brien-Smith", "O'Brien-Smith"},
      // SQL metacharacters are just text: statements are parameterised.
      {"' OR 1=1 --", "' OR 1=1 --"},
      {"Robert'); DROP TABLE supporters;--", "Robert'); DROP TABLE supporters;--"},
  };
  for (const auto& c : cases) {
    const auto r = normalize_name(c.in);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, c.out);
    EXPECT_EQ(normalize_name(*r), r);
  }
}

TEST(NormalizeName, RefusesHostile) {
  std::string emoji101;
  for (int i = 0; i < 101; ++i) emoji101 += "\xF0\x9F\x98\x80";
  const std::vector<Bad> cases = {
      {"", "required"},
      {" \t\xE3\x80\x80", "required"},
      {"\xC0\xAF", "invalid_utf8"},
      {"abc\xC0\xAF", "invalid_utf8"},
      {"Jo\xED\xA0\x80", "invalid_utf8"},
      {"Jo\xF4\x90\x80\x80", "invalid_utf8"},
      {"Jo\xC3", "invalid_utf8"},
      {"\x80Jo", "invalid_utf8"},
      {s("Ali\0ce", 6), "forbidden_characters"},
      {"A\x1B[31mlice", "forbidden_characters"},
      {"Ali\nce", "forbidden_characters"},
      {"Ali\xC2\x85" "ce", "forbidden_characters"},            // NEL (C1)
      {"abc\xE2\x80\xAE" "fdp.exe", "forbidden_characters"},   // RLO
      {"\xE2\x81\xA6x\xE2\x81\xA9", "forbidden_characters"},   // LRI..PDI
      {"a\xE2\x80\x8F" "b", "forbidden_characters"},           // RLM
      {"a\xE2\x80\x8E" "b", "forbidden_characters"},           // LRM
      {"a\xD8\x9C" "b", "forbidden_characters"},               // ALM
      {std::string(101, 'a'), "too_long"},
      {emoji101, "too_long"},
      {std::string(100000, 'A'), "too_long"},
  };
  for (const auto& c : cases) {
    const auto r = normalize_name(c.in);
    ASSERT_FALSE(r.has_value()) << "expected code " << c.code;
    EXPECT_EQ(r.error(), c.code);
    expect_code_no_echo(r.error(), c.in);
  }
}

TEST(NormalizeName, LimitCountsCodePointsAfterNfc) {
  std::string e100;
  std::string nfd100;
  for (int i = 0; i < 100; ++i) {
    e100 += "\xC3\xA9";    // 2 bytes each
    nfd100 += "e\xCC\x81";  // 3 bytes, 2 code points, 1 after NFC
  }
  EXPECT_EQ(normalize_name(e100), e100);
  EXPECT_EQ(normalize_name(nfd100), e100);
  EXPECT_EQ(normalize_name(std::string(100, 'a')), std::string(100, 'a'));
}

// ---- street, postal code, country, tag ------------------------------------------

TEST(NormalizeStreet, LinesAreNamesAndAtMostThree) {
  EXPECT_EQ(normalize_street("  12 rue de la Paix "), "12 rue de la Paix");
  EXPECT_EQ(normalize_street("12 rue de la Paix\r\n\r\n  Bâtiment B\n"), "12 rue de la Paix\nBâtiment B");
  EXPECT_EQ(normalize_street("3 rue de l'E\xCC\x81glise"), "3 rue de l'Église");  // NFD in, NFC out
  const auto three = normalize_street("a\nb\nc");
  EXPECT_EQ(three, "a\nb\nc");
  EXPECT_EQ(normalize_street(*three), *three) << "a fixed point";
  for (const Bad& c : std::vector<Bad>{
           {"a\nb\nc\nd", "too_long"},
           {std::string(101, 'x'), "too_long"},
           {std::string(4000, 'x'), "too_long"},
           {"1 rue\x07", "forbidden_characters"},
           {"\xE2\x80\xAE" "1 rue", "forbidden_characters"},
           {"1 rue \xC3", "invalid_utf8"},
           {"\n \n", "required"},
       }) {
    const auto r = normalize_street(c.in);
    ASSERT_FALSE(r.has_value()) << c.code;
    EXPECT_EQ(r.error(), c.code);
  }
}

TEST(ValidateSubmission, AStreetIsKeptOnlyWhenCollected) {
  RawSubmission raw;
  raw.email = "anouk@example.org";
  raw.street = "5 impasse des Lilas";
  IntakeOptions o;
  EXPECT_EQ(validate_submission(raw, o)->street, "") << "not collected by default";
  o.collect.push_back("street");
  EXPECT_EQ(validate_submission(raw, o)->street, "5 impasse des Lilas");
}

// ---- postal code, country, tag ------------------------------------------------

TEST(NormalizePostalCode, Table) {
  EXPECT_EQ(normalize_postal_code("75001"), "75001");
  EXPECT_EQ(normalize_postal_code(" sw1a \t 1aa "), "SW1A 1AA");
  EXPECT_EQ(normalize_postal_code("1234-567"), "1234-567");
  EXPECT_EQ(normalize_postal_code("SW1A 1AA"), "SW1A 1AA");
  for (const Bad& c : std::vector<Bad>{
           {"", "required"},
           {"75001;DROP", "invalid_postal_code"},
           {"<script>", "invalid_postal_code"},
           {"' OR 1=1 --", "invalid_postal_code"},
           {"---", "invalid_postal_code"},
           {s("750\0" "01", 6), "invalid_postal_code"},
           {"75\xC3\xA9", "invalid_postal_code"},
           {"12345678901234567", "too_long"},
           {std::string(100000, '7'), "too_long"},
       }) {
    const auto r = normalize_postal_code(c.in);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), c.code);
    expect_code_no_echo(r.error(), c.in);
  }
}

TEST(NormalizeCountry, Table) {
  EXPECT_EQ(normalize_country("fr"), "FR");
  EXPECT_EQ(normalize_country(" Gb "), "GB");
  EXPECT_EQ(normalize_country("NG"), "NG");
  for (const char* bad : {"XX", "ZZ", "FRA", "F1", "F", "' OR 1=1 --", "\xC3\x89S"}) {
    const auto r = normalize_country(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), "invalid_country");
  }
  EXPECT_EQ(normalize_country("").error(), "required");
}

TEST(NormalizeCountry, FrenchAndEnglishNames) {
  const std::vector<Ok> cases = {
      {"France", "FR"},
      {"france", "FR"},
      {"FRANCE", "FR"},
      {"  France.", "FR"},
      {"La Réunion", "RE"},
      {"Réunion", "RE"},
      {"Reunion", "RE"},
      {"la reunion", "RE"},
      {"Re\xCC\x81union", "RE"},  // NFD
      {"Guadeloupe", "GP"},
      {"Martinique", "MQ"},
      {"Guyane française", "GF"},
      {"Guyane francaise", "GF"},
      {"French Guiana", "GF"},
      {"Guyane", "GF"},
      {"Mayotte", "YT"},
      {"Saint-Pierre-et-Miquelon", "PM"},
      {"Saint Pierre et Miquelon", "PM"},
      {"Nouvelle-Calédonie", "NC"},
      {"Nouvelle Caledonie", "NC"},
      {"Polynésie française", "PF"},
      {"Wallis-et-Futuna", "WF"},
      {"Belgique", "BE"},
      {"Belgium", "BE"},
      {"Allemagne", "DE"},
      {"Germany", "DE"},
      {"Royaume-Uni", "GB"},
      {"United Kingdom", "GB"},
      {"UK", "GB"},
      {"U.K.", "GB"},
      {"Great Britain", "GB"},
      {"Angleterre", "GB"},
      {"États-Unis", "US"},
      {"Etats-Unis", "US"},
      {"ETATS UNIS", "US"},
      {"USA", "US"},
      {"U.S.A.", "US"},
      {"United States", "US"},
      {"United States of America", "US"},
      {"The United States", "US"},
      {"Côte d'Ivoire", "CI"},  // CLDR writes U+2019
      {"Cote d’Ivoire", "CI"},
      {"Czech Republic", "CZ"},
      {"Suisse", "CH"},
      {"Switzerland", "CH"},
      {"Sénégal", "SN"},
      {"Maroc", "MA"},
      {"Algérie", "DZ"},
  };
  for (const auto& c : cases) {
    const auto r = normalize_country(c.in);
    ASSERT_TRUE(r.has_value()) << c.in << ": " << r.error();
    EXPECT_EQ(*r, c.out) << c.in;
    EXPECT_EQ(normalize_country(*r), r) << c.in;  // the code is a fixed point
  }
}

TEST(NormalizeCountry, RefusesUnknownNamesWithFixedCodes) {
  const std::vector<Bad> cases = {
      {"Narnia", "invalid_country"},
      {"Les", "invalid_country"},  // an article alone ("La" is Laos)
      {"the", "invalid_country"},
      {"...", "invalid_country"},
      {"France Narnia", "invalid_country"},
      {"<script>France</script>", "invalid_country"},
      {"\xFF" "France", "invalid_utf8"},
      {std::string(129, 'a'), "too_long"},
      {" \t ", "required"},
  };
  for (const auto& c : cases) {
    const auto r = normalize_country(c.in);
    ASSERT_FALSE(r.has_value()) << "expected " << c.code;
    EXPECT_EQ(r.error(), c.code);
    expect_code_no_echo(r.error(), c.in);
  }
}

// Every French and English CLDR name of every region the phone library
// knows leads back to its code (no name is shared by two regions), and
// regions it does not know are refused by name as by code.
TEST(NormalizeCountry, EveryCldrNameRoundTrips) {
  std::set<std::string> phone_regions;
  i18n::phonenumbers::PhoneNumberUtil::GetInstance()->GetSupportedRegions(&phone_regions);
  std::size_t names = 0;
  for (const char* const* c = uloc_getISOCountries(); *c != nullptr; ++c) {
    const std::string code = *c;
    const bool known = phone_regions.contains(code);
    EXPECT_EQ(normalize_country(code).has_value(), known) << code;
    for (const char* lang : {"fr", "en"}) {
      std::array<UChar, 128> buf{};
      UErrorCode status = U_ZERO_ERROR;
      const int32_t len = uloc_getDisplayCountry(("und_" + code).c_str(), lang, buf.data(),
                                                 static_cast<int32_t>(buf.size()), &status);
      ASSERT_TRUE(U_SUCCESS(status)) << code;
      std::string name;
      icu::UnicodeString(buf.data(), len).toUTF8String(name);
      const auto r = normalize_country(name);
      if (known) {
        ++names;
        EXPECT_EQ(r, code) << name;
      } else if (name.size() != 2) {  // ICU names a region it has no name for by its code
        EXPECT_FALSE(r.has_value()) << name;
      }
    }
  }
  EXPECT_GT(names, 400u);
}

TEST(NormalizeTag, Table) {
  EXPECT_EQ(normalize_tag("Volunteer"), "volunteer");
  EXPECT_EQ(normalize_tag("region:idf.paris_75-1"), "region:idf.paris_75-1");
  EXPECT_EQ(normalize_tag(std::string(64, 'a')), std::string(64, 'a'));
  for (const std::string& bad : {std::string(""), std::string(" \t "), std::string(65, 'a'),
                                 std::string("tag;drop"), std::string("a,b"), std::string("a|b"),
                                 std::string("a\0b", 3), std::string("\xFF"), std::string("a\nb"),
                                 std::string(1025, ' ') + "a"}) {
    const auto r = normalize_tag(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), "invalid_tag");
    expect_code_no_echo(r.error(), bad);
  }
}

TEST(NormalizeTag, LabelsAsPeopleWriteThem) {
  const std::vector<Ok> cases = {
      {"Comité Paris 2", "comité paris 2"},
      {"  Comité   Paris\t2 ", "comité paris 2"},
      // No-break space, em space, ideographic space, a final line break.
      {"\xC2\xA0" "Comité\xE2\x80\x83Paris\xE3\x80\x80" "2\n", "comité paris 2"},
      {"Come\xCC\x80" "te", "comète"},                                             // NFD in, NFC out
      {"STRASSE", "strasse"},
      {"Straße", "straße"},  // lower-cased, not case-folded
      {"ÉTÉ 2024", "été 2024"},
      {"a b", "a b"},
      {"' OR 1=1 --", "' or 1=1 --"},  // a label, stored as a bound parameter
      {"Pêche & Nature (Jura)", "pêche & nature (jura)"},
      {"«Marche» #1 / 2024: ok? ok! + c’est ça", "«marche» #1 / 2024: ok? ok! + c’est ça"},
      {"<b>\"x\"</b>", "<b>\"x\"</b>"},
      {"Αθήνα", "αθήνα"},
      {"Москва", "москва"},
      {"東京", "東京"},
      {"القاهرة", "القاهرة"},
      {"\xF0\x9F\x8C\xBB Tournesol", "\xF0\x9F\x8C\xBB tournesol"},  // 🌻
      {"\xE2\x9D\xA4\xEF\xB8\x8F", "\xE2\x9D\xA4\xEF\xB8\x8F"},          // ❤️ with its variation selector
      {"\xC4\xB0stanbul", "i\xCC\x87stanbul"},  // root lower-casing of İ, not Turkish
  };
  for (const auto& c : cases) {
    const auto r = normalize_tag(c.in);
    ASSERT_TRUE(r.has_value()) << c.out;
    EXPECT_EQ(*r, c.out);
    EXPECT_EQ(normalize_tag(*r), r) << c.out;  // idempotent
  }
}

// Printable ASCII takes a path without ICU; it must read as ICU reads it.
TEST(NormalizeTag, PrintableAsciiReadsAsTheUnicodePathDoes) {
  for (const std::string& in : {std::string("A   B"), std::string("Comite Paris 2"), std::string("X;y"),
                                std::string("a|b"), std::string("(Jura) & CO"), std::string(63, 'Q'),
                                std::string(64, 'Q')}) {
    const auto ascii = normalize_tag(in);
    const auto unicode = normalize_tag("\xC3\xA9" + in);  // "é" first: the ICU path
    ASSERT_EQ(ascii.has_value(), unicode.has_value() || in.size() == 64) << in;
    if (ascii && unicode) {
      EXPECT_EQ("\xC3\xA9" + *ascii, *unicode) << in;
    }
  }
}

TEST(NormalizeTag, LengthCountsCodePointsAfterNormalising) {
  std::string e64, e65, nfd64, emoji64;
  for (int i = 0; i < 64; ++i) {
    e64 += "é";
    nfd64 += "e\xCC\x81";
    emoji64 += "\xF0\x9F\x8C\xBB";
  }
  e65 = e64 + "é";
  ASSERT_EQ(e64.size(), 128u);
  EXPECT_EQ(normalize_tag(e64), e64);
  EXPECT_EQ(normalize_tag(nfd64), e64);  // 128 code points in, 64 after NFC
  EXPECT_EQ(normalize_tag(emoji64), emoji64);
  EXPECT_EQ(normalize_tag(e65).error(), "invalid_tag");
  EXPECT_EQ(normalize_tag(e64 + " x").error(), "invalid_tag");  // the space counts
  EXPECT_EQ(normalize_tag(e64 + "   \t "), e64);                 // trailing space does not
  EXPECT_EQ(normalize_tag(std::string(63, 'a') + "\xC3\x89"), std::string(63, 'a') + "é");
}

TEST(NormalizeTag, RefusesInvisibleAndSeparatorCharacters) {
  const std::vector<std::string> cases = {
      "abc\xE2\x80\xAE" "def",         // U+202E right-to-left override
      "\xE2\x80\xAA" "abc",            // U+202A
      "abc\xE2\x81\xA6" "d",           // U+2066 left-to-right isolate
      "abc\xE2\x81\xA9",               // U+2069 pop directional isolate
      "a\xE2\x80\x8E" "b",             // U+200E left-to-right mark
      "a\xE2\x80\x8F" "b",             // U+200F right-to-left mark
      "a\xE2\x80\x8D" "b",             // U+200D zero-width joiner
      "a\xE2\x80\x8C" "b",             // U+200C zero-width non-joiner
      "a\xE2\x80\x8B" "b",             // U+200B zero-width space
      "a\xEF\xBB\xBF" "b",             // U+FEFF
      "a\xC2\xAD" "b",                 // U+00AD soft hyphen
      "a\xE2\x80\xA8" "b",             // U+2028 line separator
      "a\xE2\x80\xA9" "b",             // U+2029 paragraph separator
      "a\r\nb",                        // a line break inside
      "a\xC2\x85" "b",                 // U+0085 next line
      "a\x07" "b",                     // Cc
      "a\xC2\x9B" "b",                 // C1 control
      "a\xEE\x80\x80" "b",             // U+E000 private use
      "a\xF3\xB0\x80\x80" "b",         // U+F0000 private use
      "a\xED\xA0\x80" "b",             // a surrogate, as UTF-8
      "a\xEF\xB7\x90" "b",             // U+FDD0 noncharacter
      "a\xF4\x8F\xBF\xBF",             // U+10FFFF noncharacter
      "a\xF0\xAF\xBF\xBF",             // U+2FFFF unassigned
      "a\xF3\xA0\x80\x81",             // U+E0001 language tag
      "a, b", "a;b", "a|b", "a\xEF\xBC\x8C" "b",  // full-width comma: NFC keeps it, allowed
  };
  for (std::size_t i = 0; i + 1 < cases.size(); ++i) {
    const auto r = normalize_tag(cases[i]);
    ASSERT_FALSE(r.has_value()) << "case " << i;
    EXPECT_EQ(r.error(), "invalid_tag");
  }
  // U+FF0C FULLWIDTH COMMA is punctuation, not one of the CSV separators.
  EXPECT_TRUE(normalize_tag(cases.back()).has_value());
}

TEST(NormalizeTag, IdempotentOnRandomText) {
  // Code points from the ranges that case mapping and normalisation touch.
  const std::vector<std::pair<char32_t, char32_t>> ranges = {
      {0x20, 0x7E}, {0xA0, 0x24F}, {0x300, 0x36F}, {0x370, 0x3FF}, {0x400, 0x4FF}, {0x1E00, 0x1FFF},
      {0x2000, 0x206F}, {0x2160, 0x218F}, {0x24B6, 0x24E9}, {0x3000, 0x303F}, {0xAC00, 0xAC40},
      {0xFB00, 0xFB4F}, {0xFF00, 0xFF60}, {0x1F300, 0x1F64F}, {0x10400, 0x1044F}};
  std::mt19937 rng(20240601);
  const auto utf8 = [](char32_t c) {
    std::string o;
    if (c < 0x80) {
      o += static_cast<char>(c);
    } else if (c < 0x800) {
      o += static_cast<char>(0xC0 | (c >> 6));
      o += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      o += static_cast<char>(0xE0 | (c >> 12));
      o += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      o += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      o += static_cast<char>(0xF0 | (c >> 18));
      o += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      o += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      o += static_cast<char>(0x80 | (c & 0x3F));
    }
    return o;
  };
  std::size_t accepted = 0;
  for (int n = 0; n < 20000; ++n) {
    std::string in;
    const int len = 1 + static_cast<int>(rng() % 12);
    for (int k = 0; k < len; ++k) {
      const auto& [lo, hi] = ranges[rng() % ranges.size()];
      in += utf8(lo + static_cast<char32_t>(rng() % (hi - lo + 1)));
    }
    const auto once = normalize_tag(in);
    if (!once) continue;
    ++accepted;
    const auto twice = normalize_tag(*once);
    ASSERT_TRUE(twice.has_value()) << "accepted once, refused after";
    ASSERT_EQ(*twice, *once);
  }
  EXPECT_GT(accepted, 1000u);
}

// ---- validate_submission ------------------------------------------------------

RawSubmission good_raw() {
  RawSubmission r;
  r.given_name = " \xC3\x89lise ";
  r.family_name = "Durand";
  r.email = "Elise.Durand@Ex\xC3\xA4mple.FR";
  r.phone = "06 12 34 56 78";
  r.postal_code = "75011";
  r.locality = "Paris";
  r.country = "fr";
  r.tags = {"Volunteer", "paris", "volunteer"};
  r.consent = Consent{true, false};
  return r;
}

TEST(ValidateSubmission, NormalisesEverything) {
  const auto p = validate_submission(good_raw(), IntakeOptions{});
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->given_name, "\xC3\x89lise");
  EXPECT_EQ(p->family_name, "Durand");
  EXPECT_EQ(p->email, "elise.durand@xn--exmple-cua.fr");
  EXPECT_EQ(p->phone, "+33612345678");
  EXPECT_EQ(p->postal_code, "75011");
  EXPECT_EQ(p->locality, "Paris");
  EXPECT_EQ(p->country, "FR");
  EXPECT_EQ(p->tags, (std::vector<std::string>{"paris", "volunteer"}));
  EXPECT_TRUE(p->consent.email);
  EXPECT_FALSE(p->consent.sms);
}

TEST(ValidateSubmission, CollectsAllErrors) {
  RawSubmission r = good_raw();
  r.given_name = "' OR 1=1 --\xE2\x80\xAE";
  r.email = "\"; DROP TABLE supporters; --";
  r.phone = "' OR 1=1 --";
  r.postal_code = "<script>alert(1)</script>";
  r.locality = std::string(100000, 'x');
  r.country = "XX";
  r.tags = {"ok", "bad\xE2\x80\xAEtag"};
  const auto p = validate_submission(r, IntakeOptions{});
  ASSERT_FALSE(p.has_value());
  const FieldErrors expected = {
      {"given_name", "forbidden_characters"}, {"email", "invalid_email"},
      {"phone", "invalid_phone"},             {"postal_code", "invalid_postal_code"},
      {"locality", "too_long"},               {"country", "invalid_country"},
      {"tags", "invalid_tag"},
  };
  EXPECT_EQ(p.error(), expected);
  for (const auto* hostile : {"' OR 1=1", "DROP TABLE", "<script>", "xxxxxxxx"}) {
    expect_no_echo(p.error(), hostile);
  }
}

TEST(ValidateSubmission, RequiresEmailOrPhone) {
  RawSubmission r;
  r.given_name = "Ada";
  auto p = validate_submission(r, IntakeOptions{});
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error(), (FieldErrors{{"email", "required"}}));

  r.phone = "+44 7400 123456";
  p = validate_submission(r, IntakeOptions{});
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->phone, "+447400123456");
  EXPECT_TRUE(p->email.empty());

  r.phone = "   ";
  p = validate_submission(r, IntakeOptions{});
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error(), (FieldErrors{{"email", "required"}}));
}

TEST(ValidateSubmission, DropsFieldsNotCollected) {
  IntakeOptions opts;
  opts.collect = {"email", "given_name"};
  RawSubmission r = good_raw();
  r.phone = "' OR 1=1 --";  // not collected: never validated, never stored
  r.family_name = "\xC0\xAF";
  const auto p = validate_submission(r, opts);
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->phone.empty());
  EXPECT_TRUE(p->family_name.empty());
  EXPECT_TRUE(p->postal_code.empty());
  EXPECT_TRUE(p->locality.empty());
  EXPECT_TRUE(p->country.empty());
  EXPECT_EQ(p->given_name, "\xC3\x89lise");
  EXPECT_EQ(p->email, "elise.durand@xn--exmple-cua.fr");

  // With only the phone collected, a given e-mail does not count.
  opts.collect = {"phone"};
  r = RawSubmission{};
  r.email = "a@example.com";
  const auto q = validate_submission(r, opts);
  ASSERT_FALSE(q.has_value());
  EXPECT_EQ(q.error(), (FieldErrors{{"email", "required"}}));
}

TEST(ValidateSubmission, TagsSortedUniqueAndBounded) {
  IntakeOptions opts;
  opts.max_tags = 2;
  RawSubmission r;
  r.email = "a@example.com";
  r.tags = {"b", "A", "a", " b "};
  auto p = validate_submission(r, opts);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->tags, (std::vector<std::string>{"a", "b"}));

  r.tags = {"c", "b", "a"};
  p = validate_submission(r, opts);
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error(), (FieldErrors{{"tags", "too_many"}}));

  r.tags.assign(100000, "x");
  p = validate_submission(r, opts);
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error(), (FieldErrors{{"tags", "too_many"}}));
}

// Numbers chosen invalid in France: read in France they are refused, so
// these pass only because the row's country is the region.
TEST(ValidateSubmission, PhoneIsReadInTheRowsCountry) {
  struct Case {
    const char* phone;
    const char* country;
    const char* region;
    const char* e164;
  };
  const std::vector<Case> cases = {
      {"0692 12 34 56", "RE", "RE", "+262692123456"},
      {"0693 40 12 34", "La Réunion", "RE", "+262693401234"},
      {"0690 12 34 56", "GP", "GP", "+590690123456"},
      {"0691 22 34 56", "Guadeloupe", "GP", "+590691223456"},
      {"0696 12 34 56", "MQ", "MQ", "+596696123456"},
      {"0697 27 12 34", "martinique", "MQ", "+596697271234"},
      {"0694 20 12 34", "Guyane", "GF", "+594694201234"},
      {"0639 01 23 45", "YT", "YT", "+262639012345"},
      {"55 12 34", "Saint-Pierre-et-Miquelon", "PM", "+508551234"},
      {"75 12 34", "NC", "NC", "+687751234"},
      {"87 12 34 56", "Polynésie française", "PF", "+68987123456"},
  };
  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  for (const auto& c : cases) {
    // libphonenumber's own view of the expected number: a mobile of that region.
    PhoneNumber n;
    ASSERT_EQ(util->Parse(c.e164, "ZZ", &n), PhoneNumberUtil::NO_PARSING_ERROR) << c.e164;
    EXPECT_TRUE(util->IsValidNumberForRegion(n, c.region)) << c.e164;
    EXPECT_EQ(util->GetNumberType(n), PhoneNumberUtil::MOBILE) << c.e164;
    EXPECT_FALSE(normalize_phone(c.phone, "FR").has_value()) << c.phone;

    RawSubmission r;
    r.phone = c.phone;
    r.country = c.country;
    const auto p = validate_submission(r, IntakeOptions{});
    ASSERT_TRUE(p.has_value()) << c.phone << " in " << c.country;
    EXPECT_EQ(p->phone, c.e164);
    EXPECT_EQ(p->country, c.region);
    // Read back from E.164, the row's country no longer matters.
    const auto again = validate_submission(to_raw(*p), IntakeOptions{});
    ASSERT_TRUE(again.has_value());
    EXPECT_TRUE(testing::same_person(*again, *p));
  }
}

TEST(ValidateSubmission, PhoneFallsBackToTheDefaultRegion) {
  RawSubmission r;
  r.phone = "06 12 34 56 78";  // a metropolitan mobile, from a row in La Réunion
  r.country = "RE";
  auto p = validate_submission(r, IntakeOptions{});
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->phone, "+33612345678");
  EXPECT_EQ(p->country, "RE");

  // Without a valid country, or with the country not collected, the
  // default region alone reads the number.
  r.phone = "0692 12 34 56";
  r.country = "Narnia";
  p = validate_submission(r, IntakeOptions{});
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error(), (FieldErrors{{"phone", "invalid_phone"}, {"country", "invalid_country"}}));
  r.country = "RE";
  IntakeOptions no_country;
  no_country.collect = {"phone"};
  p = validate_submission(r, no_country);
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error(), (FieldErrors{{"phone", "invalid_phone"}}));
  r.country = "";
  EXPECT_FALSE(validate_submission(r, IntakeOptions{}).has_value());
}

TEST(ValidateSubmission, PhonesThatAreNotNumbersStayRefused) {
  for (const char* country : {"FR", "RE", ""}) {
    for (const char* phone : {"06 71 42 20 18 ext 2", "12345", "0692 12 34 56 x2"}) {
      RawSubmission r;
      r.email = "a@example.org";
      r.phone = phone;
      r.country = country;
      const auto p = validate_submission(r, IntakeOptions{});
      ASSERT_FALSE(p.has_value()) << phone << " in " << country;
      EXPECT_EQ(p.error(), (FieldErrors{{"phone", "invalid_phone"}}));
      expect_no_echo(p.error(), phone);
    }
  }
}

TEST(ValidateSubmission, IsIdempotent) {
  std::vector<RawSubmission> raws;
  raws.push_back(good_raw());
  RawSubmission r2;
  r2.phone = "(201) 555-0123";
  r2.given_name = "E\xCC\x81mile  ";
  r2.tags = {"Z", "y"};
  r2.consent = Consent{false, true};
  raws.push_back(r2);
  RawSubmission r3;
  r3.email = "  USER@B\xC3\x9C" "CHER.de";
  r3.postal_code = "sw1a   1aa";
  r3.country = "gb";
  r3.family_name = "\xF0\x9F\x8C\xBB";
  raws.push_back(r3);

  IntakeOptions us;
  us.default_region = "US";
  for (const auto& opts : {IntakeOptions{}, us}) {
    for (const auto& raw : raws) {
      const auto p = validate_submission(raw, opts);
      if (!p) continue;  // r2 is only valid with the US region
      const auto again = validate_submission(to_raw(*p), opts);
      ASSERT_TRUE(again.has_value());
      EXPECT_TRUE(testing::same_person(*again, *p));
      // Through the sealed-field form as well.
      const auto via_fields = validate_submission(to_raw(to_person(to_fields(*p))), opts);
      ASSERT_TRUE(via_fields.has_value());
      EXPECT_TRUE(testing::same_person(*via_fields, *p));
    }
  }
  EXPECT_TRUE(validate_submission(raws[1], us).has_value());
}

}  // namespace
}  // namespace rempart::core
