#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/test_support.hpp"
#include "core/urlencoded.hpp"
#include "core/validate.hpp"

namespace rempart::core {
namespace {

using testing::expect_no_echo;

TEST(SignupForm, DecodesAllFields) {
  const auto r = parse_signup_form(
      "given_name=%C3%89lise&family_name=Du+Pont&email=elise%40ex%C3%A4mple.fr"
      "&phone=%2B33+6+12+34+56+78&postal_code=75011&locality=Paris&country=fr"
      "&consent_email=on&consent_sms=0&tag=volunteer&tag=paris");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->given_name, "\xC3\x89lise");
  EXPECT_EQ(r->family_name, "Du Pont");
  EXPECT_EQ(r->email, "elise@ex\xC3\xA4mple.fr");
  EXPECT_EQ(r->phone, "+33 6 12 34 56 78");
  EXPECT_EQ(r->postal_code, "75011");
  EXPECT_EQ(r->locality, "Paris");
  EXPECT_EQ(r->country, "fr");
  EXPECT_TRUE(r->consent.email);
  EXPECT_FALSE(r->consent.sms);
  EXPECT_EQ(r->tags, (std::vector<std::string>{"volunteer", "paris"}));

  const auto p = validate_submission(*r, IntakeOptions{});
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->email, "elise@xn--exmple-cua.fr");
  EXPECT_EQ(p->phone, "+33612345678");
}

TEST(SignupForm, CheckboxValues) {
  for (const char* on : {"on", "1", "true", "yes", "ON", "Yes"}) {
    const auto r = parse_signup_form(std::string("email=a%40b.fr&consent_sms=") + on);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->consent.sms);
  }
  for (const char* off : {"", "0", "off", "false", "no", "maybe"}) {
    const auto r = parse_signup_form(std::string("consent_email=") + off);
    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(r->consent.email);
  }
  const auto none = parse_signup_form("email=a%40b.fr");
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->consent.email);
  EXPECT_FALSE(none->consent.sms);
}

TEST(SignupForm, EdgeCasesOfTheEncoding) {
  const auto r = parse_signup_form("&&given_name=a%3Db%26c&&family_name&locality=%2b+");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->given_name, "a=b&c");
  EXPECT_EQ(r->family_name, "");
  EXPECT_EQ(r->locality, "+ ");
  EXPECT_TRUE(parse_signup_form("").has_value());
}

TEST(SignupForm, MalformedPercentEncoding) {
  for (const char* body : {"email=%ZZ", "email=%4", "email=%", "given_name=ok&email=a%G1",
                           "%zzemail=x", "email=%%41"}) {
    const auto r = parse_signup_form(body);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), (FieldErrors{{"body", "malformed"}}));
  }
}

// A name the form does not know is set aside, not refused: the page may
// carry a hidden "source" input or utm_* parameters. Only the names the
// schema declares as sources are kept (signup_source); nothing else of
// them reaches the person, and an error never names them.
TEST(SignupForm, UnknownNamesAreSetAsideAndOnlyDeclaredSourcesKept) {
  const auto r = parse_signup_form(
      "email=a%40b.fr&is_admin=1&%27+OR+1%3D1+--=x&password=hunter2&given_name=Ada"
      "&utm_campaign=rentr%C3%A9e+2026&source=tract&utm_campaign=second&utm_medium=a%0Ab");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->given_name, "Ada");
  EXPECT_EQ(r->extra.size(), 7U);
  const IntakeOptions opts;
  // Declared order, the first value of each, a value with a line break dropped.
  EXPECT_EQ(signup_source(*r, opts), "source=tract\nutm_campaign=rentr\xC3\xA9" "e 2026");
  IntakeOptions none;
  none.sources.clear();
  EXPECT_EQ(signup_source(*r, none), "");
  const auto p = validate_submission(*r, opts);
  ASSERT_TRUE(p.has_value());
  Person ada;
  ada.given_name = "Ada";
  ada.email = "a@b.fr";
  EXPECT_EQ(to_fields(*p), to_fields(ada));

  RawSubmission long_value;
  long_value.extra = {{"source", std::string(kMaxSourceBytes + 1, 'x')}, {"utm_term", "  kept  "}};
  EXPECT_EQ(signup_source(long_value, opts), "utm_term=kept");
}

// A field the schema requires is refused empty, on the field itself; one
// not collected cannot be required (the config refuses it), and is ignored.
TEST(SignupForm, RequiredFieldsAreRefusedEmpty) {
  IntakeOptions opts;
  opts.require = {"given_name", "postal_code", "email"};
  RawSubmission raw;
  raw.phone = "+33612345678";
  raw.given_name = "  ";
  auto r = validate_submission(raw, opts);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), (FieldErrors{{"given_name", "required"}, {"email", "required"}, {"postal_code", "required"}}));
  raw.given_name = "Ada";
  raw.email = "ada@example.org";
  raw.postal_code = "75011";
  EXPECT_TRUE(validate_submission(raw, opts).has_value());
  opts.collect = {"email", "phone"};
  raw.given_name.clear();
  EXPECT_TRUE(validate_submission(raw, opts).has_value());
}

TEST(SignupForm, DuplicateSingleValuedNames) {
  const auto r = parse_signup_form("email=a%40b.fr&email=c%40d.fr&phone=1&phone=2&consent_sms=on"
                                   "&consent_sms=on&tag=a&tag=a");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), (FieldErrors{{"email", "duplicate_key"},
                                    {"phone", "duplicate_key"},
                                    {"consent_sms", "duplicate_key"}}));
}

TEST(SignupForm, BoundsThePairCount) {
  std::string body = "email=a%40b.fr";
  for (int i = 0; i < 64; ++i) body += "&tag=t";
  const auto r = parse_signup_form(body);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), (FieldErrors{{"body", "too_many"}}));
}

TEST(SignupForm, HostileValuesReachValidationUnchanged) {
  const auto r = parse_signup_form(
      "given_name=%27+OR+1%3D1+--&family_name=Ali%00ce&locality=%E2%80%AEevil"
      "&email=%22%3B+DROP+TABLE+supporters%3B+--&postal_code=%C0%AF");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->given_name, "' OR 1=1 --");
  EXPECT_EQ(r->family_name, std::string("Ali\0ce", 6));
  const auto p = validate_submission(*r, IntakeOptions{});
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error(), (FieldErrors{{"family_name", "forbidden_characters"},
                                    {"email", "invalid_email"},
                                    {"postal_code", "invalid_postal_code"},
                                    {"locality", "forbidden_characters"}}));
  for (const char* hostile : {"DROP TABLE", "Ali", "evil"}) expect_no_echo(p.error(), hostile);
}

TEST(SignupForm, HugeFieldIsParsedThenRefusedCheaply) {
  const std::string big(100000, 'A');
  const auto r = parse_signup_form("email=a%40b.fr&given_name=" + big);
  ASSERT_TRUE(r.has_value());
  const auto p = validate_submission(*r, IntakeOptions{});
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error(), (FieldErrors{{"given_name", "too_long"}}));
}

}  // namespace
}  // namespace rempart::core

namespace rempart::core {
namespace {

TEST(FormEncode, RoundTripsThroughFormDecode) {
  const std::vector<std::string> cases = {"volunteer", "comité paris 2", "a&b=c#d?e+f%g/h", "<b>\"x\"</b>",
                                          "\xF0\x9F\x8C\xBB ok", std::string("a\0b", 3), "-._~"};
  for (const std::string& in : cases) {
    const std::string enc = form_encode(in);
    for (const char c : enc) {
      const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                         c == '.' || c == '_' || c == '~' || c == '%';
      EXPECT_TRUE(plain) << enc;
    }
    EXPECT_EQ(form_decode(enc), in);
  }
  EXPECT_EQ(form_encode("comité paris+2"), "comit%C3%A9%20paris%2B2");
}

}  // namespace
}  // namespace rempart::core
