#include "core/validate.hpp"

#include <gtest/gtest.h>

#include <random>
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

TEST(NormalizeTag, Table) {
  EXPECT_EQ(normalize_tag("Volunteer"), "volunteer");
  EXPECT_EQ(normalize_tag("region:idf.paris_75-1"), "region:idf.paris_75-1");
  EXPECT_EQ(normalize_tag(std::string(64, 'a')), std::string(64, 'a'));
  for (const std::string& bad : {std::string(""), std::string("a b"), std::string(65, 'a'),
                                 std::string("tag;drop"), std::string("\xC3\xA9t\xC3\xA9"),
                                 std::string("' OR 1=1 --"), std::string("a\0b", 3)}) {
    const auto r = normalize_tag(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), "invalid_tag");
  }
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
  r.tags = {"ok", "bad tag"};
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
