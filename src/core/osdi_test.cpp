#include <gtest/gtest.h>

#include <string>

#include "core/test_support.hpp"
#include "core/validate.hpp"

namespace rempart::core {
namespace {

using testing::expect_no_echo;

FieldErrors errors_of(const std::string& body) {
  const auto r = parse_osdi_signup(body);
  EXPECT_FALSE(r.has_value());
  return r ? FieldErrors{} : r.error();
}

// As OSDI's own Person Signup Helper example sends it: phone as a JSON number.
const char* const kSpecExample = R"({
    "person": {
        "identifiers": ["foreign_system:1"],
        "family_name": "Edwin",
        "given_name": "Labadie",
        "additional_name": "Marques",
        "origin_system": "OpenSupporter",
        "email_addresses": [
            {"address": "test-3@example.com", "primary": true, "address_type": "Personal"}
        ],
        "postal_addresses": [
            {
                "primary": true,
                "address_lines": ["935 Ed Lock"],
                "locality": "New Dudley",
                "region": "MN",
                "postal_code": "17678",
                "country": "RU",
                "address_type": "Home",
                "status": "Verified"
            }
        ],
        "phone_numbers": [
            {"primary": true, "number": 33612345678, "number_type": "Mobile", "sms_capable": true}
        ],
        "gender": "Male"
    },
    "add_tags": ["volunteer", "donor"],
    "add_tags_uri": ["https://osdi-sample-system.org/api/v1/tags/d91b4b2e"],
    "add_lists_uri": ["https://osdi-sample-system.org/api/v1/lists/d91b4b2e"]
})";

TEST(OsdiSignup, SpecExample) {
  const auto r = parse_osdi_signup(kSpecExample);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->given_name, "Labadie");
  EXPECT_EQ(r->family_name, "Edwin");
  EXPECT_EQ(r->email, "test-3@example.com");
  EXPECT_EQ(r->phone, "+33612345678");
  EXPECT_EQ(r->postal_code, "17678");
  EXPECT_EQ(r->locality, "New Dudley");
  EXPECT_EQ(r->street, "935 Ed Lock");
  EXPECT_EQ(r->country, "RU");
  EXPECT_EQ(r->tags, (std::vector<std::string>{"volunteer", "donor"}));
  EXPECT_FALSE(r->consent.email);

  const auto p = validate_submission(*r, IntakeOptions{});
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->phone, "+33612345678");
  EXPECT_EQ(p->tags, (std::vector<std::string>{"donor", "volunteer"}));
}

// Every name of the OSDI person schema and helper, which rempart drops
// where it does not store them.
TEST(OsdiSignup, AcceptsTheWholeSchema) {
  const auto r = parse_osdi_signup(R"({
    "identifiers": ["a:1"], "origin_system": "X", "created_date": "2014-03-20T21:04:31Z",
    "modified_date": "2014-03-20T21:04:31Z",
    "person": {
      "identifiers": ["osdi_sample_system:d91b4b2e", "foreign_system:1"],
      "identifier": "x:1",
      "origin_system": "OSDI Sample System",
      "created_date": "2014-03-20T21:04:31Z", "modified_date": "2014-03-20T21:04:31Z",
      "given_name": "John", "family_name": "Smith", "additional_name": "Scott",
      "honorific_prefix": "Mr.", "honorific_suffix": "Ph.D",
      "gender": "Male", "gender_identity": "Male", "gender_pronouns": "he/him",
      "party_identification": "Democratic",
      "parties": [{"identification": "Democratic", "last_verified_date": "2014-03-20T21:04:31Z", "active": true}],
      "source": "october_canvass",
      "browser_url": "http://osdi-sample-system.org/people/d91b4b2e",
      "administrative_url": "http://osdi-sample-system.org/people/d91b4b2e/manage",
      "birthdate": {"month": 6, "day": 2, "year": 1973},
      "ethnicities": ["African American"],
      "languages_spoken": ["en-US", "fr-CA"], "preferred_language": "fr-CA",
      "employer": "Acme Corp",
      "employer_address": {"venue": "Bull Hall", "address_lines": ["123 Acme Street", "Suite 400"],
        "locality": "New Yorkhaven", "region": "NY", "postal_code": "10001", "country": "US",
        "language": "en", "location": {"latitude": 38.9382, "longitude": -77.3349, "accuracy": "Rooftop"},
        "status": "Verified"},
      "occupation": "Accountant",
      "postal_addresses": [{"primary": true, "address_type": "Home",
        "address_lines": ["1900 Pennsylvania Ave"], "locality": "Washington", "region": "DC",
        "postal_code": "20009", "country": "US", "language": "en",
        "location": {"latitude": "38.919", "longitude": "-77.0379", "accuracy": "Rooftop"},
        "status": "Verified", "last_verified_date": "2014-03-20T21:04:31Z"}],
      "email_addresses": [{"primary": true, "address": "johnsmith@mail.com",
        "address_type": "Personal", "status": "subscribed"}],
      "phone_numbers": [{"primary": true, "number": "12015550123", "extension": "432",
        "description": "Worksite line", "number_type": "Work", "operator": "ATT",
        "country": "US", "sms_capable": false, "do_not_call": true, "status": "subscribed"}],
      "profiles": [{"provider": "Facebook", "id": "john.doe.1234", "url": "https://facebook.com/john.doe"},
                   {"provider": "Twitter", "id": "eds34d8j2kddfd45", "url": "https://twitter.com/johndoe", "handle": "johndoe"}],
      "custom_fields": {"most_important_issue": "Equal pay", "volunteer": true, "score": 3},
      "_links": {
        "self": {"href": "https://osdi-sample-system.org/api/v1/people/d91b4b2e"},
        "osdi:taggings": {"href": "https://osdi-sample-system.org/api/v1/people/d91b4b2e/taggings"},
        "curies": [{"name": "osdi", "href": "https://osdi-sample-system.org/docs/v1/{rel}", "templated": true}]
      }
    },
    "add_tags": ["volunteer"], "add_tags_uri": [], "add_lists": ["supporters"], "add_lists_uri": [],
    "add_questions_responses_uri": [{"question": "q:1", "responses": ["yes"], "value": "free text"}],
    "triggers": {"autoresponse": {"enabled": true, "identifiers": ["sys:12"]},
                 "sms_response": {"enabled": false}, "call_response": {"enabled": false, "identifiers": []}},
    "consent": {"email": true, "sms": false},
    "_links": {"self": {"href": "https://example.org/x", "title": "t"}}
  })");
  ASSERT_TRUE(r.has_value()) << (r ? "" : r.error()[0].field + " " + r.error()[0].code);
  EXPECT_EQ(r->given_name, "John");
  EXPECT_EQ(r->email, "johnsmith@mail.com");
  EXPECT_EQ(r->phone, "12015550123");
  EXPECT_EQ(r->postal_code, "20009");
  EXPECT_EQ(r->locality, "Washington");
  EXPECT_EQ(r->street, "1900 Pennsylvania Ave") << "the chosen address's lines, not the employer's";
  EXPECT_EQ(r->country, "US");
  EXPECT_TRUE(r->consent.email);
  EXPECT_FALSE(r->consent.sms);
}

TEST(OsdiSignup, ChoosesPrimaryEntries) {
  const auto r = parse_osdi_signup(R"({"person": {
      "email_addresses": [{"address": "old@example.com"}, {"address": "new@example.com", "primary": true},
                          {"address": "work@example.com", "primary": false}],
      "phone_numbers": [{"number": "+44 7400 123456", "primary": false}, {"number": 33612345678, "primary": true}],
      "postal_addresses": [{"postal_code": "1000"}, {"primary": true, "locality": "Lyon", "postal_code": "69001", "country": "FR"}]
    }, "consent": {"sms": true}})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->email, "new@example.com");
  EXPECT_EQ(r->phone, "+33612345678");
  EXPECT_EQ(r->postal_code, "69001");
  EXPECT_EQ(r->locality, "Lyon");
  EXPECT_TRUE(r->consent.sms);
  EXPECT_FALSE(r->consent.email);

  // Without a primary, the first entry that has a value.
  const auto f = parse_osdi_signup(R"({"person": {
      "email_addresses": [{"address_type": "Work"}, {"address": "first@example.com"}, {"address": "second@example.com"}],
      "phone_numbers": [{"number": "+44 7400 123456"}, {"number": 33612345678}]}})");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->email, "first@example.com");
  EXPECT_EQ(f->phone, "+44 7400 123456");
}

// OSDI clients say yes to e-mail with a "subscribed" status (and to texts
// on a phone number); rempart's own consent object has the last word.
TEST(OsdiSignup, SubscribedStatusIsConsentUnlessTheConsentObjectSaysNo) {
  auto sub = parse_osdi_signup(R"({"person": {"email_addresses": [{"address": "a@example.org",
      "status": "Subscribed"}], "phone_numbers": [{"number": "+33612345678", "status": "subscribed"}]}})");
  ASSERT_TRUE(sub.has_value());
  EXPECT_TRUE(sub->consent.email);
  EXPECT_TRUE(sub->consent.sms);
  auto other = parse_osdi_signup(R"({"person": {"email_addresses": [{"address": "a@example.org",
      "status": "unsubscribed"}]}})");
  ASSERT_TRUE(other.has_value());
  EXPECT_FALSE(other->consent.email);
  auto said_no = parse_osdi_signup(R"({"person": {"email_addresses": [{"address": "a@example.org",
      "status": "subscribed"}]}, "consent": {"email": false}})");
  ASSERT_TRUE(said_no.has_value());
  EXPECT_FALSE(said_no->consent.email);
  auto only_sms = parse_osdi_signup(R"({"person": {"email_addresses": [{"address": "a@example.org",
      "status": "subscribed"}]}, "consent": {"sms": true}})");
  ASSERT_TRUE(only_sms.has_value());
  EXPECT_TRUE(only_sms->consent.email);  // not overridden by a consent object silent on e-mail
  EXPECT_TRUE(only_sms->consent.sms);
}

// osdi:control is accepted (rempart never returns the person anyway); its
// members are checked like the rest.
TEST(OsdiSignup, OsdiControlIsAccepted) {
  auto r = parse_osdi_signup(R"({"person": {"given_name": "Ana"}, "osdi:control": {"return_response": false}})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->given_name, "Ana");
  EXPECT_FALSE(errors_of(R"({"person": {}, "osdi:control": {"return_response": "no"}})").empty());
}

TEST(OsdiSignup, NullMeansAbsent) {
  const auto r = parse_osdi_signup(
      R"({"person": {"given_name": null, "family_name": "X", "email_addresses": [{"address": "a@example.com", "primary": null}],
          "custom_fields": null, "birthdate": null}, "add_tags": null, "consent": null})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->given_name, "");
  EXPECT_EQ(r->email, "a@example.com");
}

TEST(OsdiSignup, DuplicateKeys) {
  EXPECT_EQ(errors_of(R"({"person": {"given_name": "a"}, "person": {"given_name": "b"}})"),
            (FieldErrors{{"person", "duplicate_key"}}));
  EXPECT_EQ(errors_of(R"({"person": {"email_addresses": [{"address": "a@example.com", "address": "evil@example.com"}]}})"),
            (FieldErrors{{"person.email_addresses[0].address", "duplicate_key"}}));
  EXPECT_EQ(errors_of(R"({"person": {"email_addresses": [{}, {"primary": true, "primary": false}]}})"),
            (FieldErrors{{"person.email_addresses[1].primary", "duplicate_key"}}));
  // Names outside the schema are not echoed: the path stops where they start.
  const auto custom = errors_of(R"({"person": {"custom_fields": {"secret_x": "1", "secret_x": "2"}}})");
  EXPECT_EQ(custom, (FieldErrors{{"person.custom_fields", "duplicate_key"}}));
  expect_no_echo(custom, "secret_x");
  const auto root = errors_of(R"({"evil_key": 1, "evil_key": 2})");
  EXPECT_EQ(root, (FieldErrors{{"body", "duplicate_key"}}));
  expect_no_echo(root, "evil_key");
  EXPECT_EQ(errors_of(R"({"person": {"evil": {"a": 1, "a": 2}}})"),
            (FieldErrors{{"person", "duplicate_key"}}));
}

TEST(OsdiSignup, UnknownFieldsAreNotEchoed) {
  const auto e1 = errors_of(R"({"person": {"given_name": "a", "is_admin": true, "' OR 1=1 --": 1}})");
  EXPECT_EQ(e1, (FieldErrors{{"person", "unknown_field"}}));
  expect_no_echo(e1, "is_admin");
  expect_no_echo(e1, "' OR 1=1");
  EXPECT_EQ(errors_of(R"({"person": {}, "drop_table": 1})"), (FieldErrors{{"body", "unknown_field"}}));
  EXPECT_EQ(errors_of(R"({"person": {"email_addresses": [{"address": "a@b.fr", "sql": "x"}]}})"),
            (FieldErrors{{"person.email_addresses[0]", "unknown_field"}}));
  EXPECT_EQ(errors_of(R"({"person": {}, "consent": {"email": true, "phone": true}})"),
            (FieldErrors{{"consent", "unknown_field"}}));
  EXPECT_EQ(errors_of(R"({"person": {"_links": {"self": {"href": "x", "evil": 1}}}})"),
            (FieldErrors{{"person._links", "unknown_field"}}));
}

TEST(OsdiSignup, WrongTypes) {
  EXPECT_EQ(errors_of(R"({"person": {"given_name": 42}})"),
            (FieldErrors{{"person.given_name", "wrong_type"}}));
  EXPECT_EQ(errors_of(R"({"person": {"email_addresses": {"address": "a@b.fr"}}})"),
            (FieldErrors{{"person.email_addresses", "wrong_type"}}));
  EXPECT_EQ(errors_of(R"({"person": {"phone_numbers": [{"number": 1.5}, {"number": -33612345678}, {"number": true}]}})"),
            (FieldErrors{{"person.phone_numbers[0].number", "wrong_type"},
                         {"person.phone_numbers[1].number", "wrong_type"},
                         {"person.phone_numbers[2].number", "wrong_type"}}));
  EXPECT_EQ(errors_of(R"({"person": {}, "add_tags": "volunteer"})"),
            (FieldErrors{{"add_tags", "wrong_type"}}));
  EXPECT_EQ(errors_of(R"({"person": {}, "add_tags": ["a", 1]})"),
            (FieldErrors{{"add_tags[1]", "wrong_type"}}));
  EXPECT_EQ(errors_of(R"({"person": {}, "consent": {"email": "yes"}})"),
            (FieldErrors{{"consent.email", "wrong_type"}}));
  EXPECT_EQ(errors_of(R"({"person": {"birthdate": {"year": "1973"}}})"),
            (FieldErrors{{"person.birthdate.year", "wrong_type"}}));
  EXPECT_EQ(errors_of(R"({"person": {"custom_fields": {"k": {"nested": 1}}}})"),
            (FieldErrors{{"person.custom_fields", "wrong_type"}}));
  EXPECT_EQ(errors_of(R"({"person": "Ada"})"), (FieldErrors{{"person", "wrong_type"}}));
  EXPECT_EQ(errors_of(R"(["person"])"), (FieldErrors{{"body", "wrong_type"}}));
  EXPECT_EQ(errors_of(R"("just a string")"), (FieldErrors{{"body", "wrong_type"}}));
  EXPECT_EQ(errors_of("null"), (FieldErrors{{"body", "wrong_type"}}));
  EXPECT_EQ(errors_of(R"({"add_tags": []})"), (FieldErrors{{"person", "required"}}));
}

TEST(OsdiSignup, Malformed) {
  for (const std::string& body : {std::string(""), std::string("{"), std::string(R"({"person":})"),
                                 std::string(R"({"person": {}} trailing)"),
                                 std::string("{\"person\": {\"given_name\": \"\xC0\xAF\"}}"),
                                 std::string("{\"person\": {\"given_name\": \"\xED\xA0\x80\"}}"),
                                 std::string(R"({'person': {}})"), std::string(R"({"person": {},})"),
                                 std::string("{\"person\": {}}\0", 15),
                                 std::string(R"({"person": {"given_name": "a\x"}})"),
                                 std::string(R"({"person": {"birthdate": {"year": 1e999}}})")}) {
    EXPECT_EQ(errors_of(body), (FieldErrors{{"body", "malformed"}}));
  }
}

TEST(OsdiSignup, BoundsDepthAndArrays) {
  EXPECT_EQ(errors_of(std::string(100000, '[') + std::string(100000, ']')),
            (FieldErrors{{"body", "too_deep"}}));
  std::string deep = R"({"person": {"custom_fields": {"k": )";
  for (int i = 0; i < 20; ++i) deep += "[";
  for (int i = 0; i < 20; ++i) deep += "]";
  deep += "}}}";
  EXPECT_EQ(errors_of(deep), (FieldErrors{{"body", "too_deep"}}));

  std::string many = R"({"person": {"email_addresses": [)";
  for (int i = 0; i < 11; ++i) many += std::string(i ? "," : "") + R"({"address": "a@b.fr"})";
  many += "]}}";
  EXPECT_EQ(errors_of(many), (FieldErrors{{"person.email_addresses", "too_many"}}));

  EXPECT_EQ(errors_of(std::string(300 * 1024, ' ')), (FieldErrors{{"body", "too_long"}}));
}

TEST(OsdiSignup, HostileValuesAreValidatedNotEchoed) {
  const auto r = parse_osdi_signup(
      R"({"person": {"given_name": "\u202Eevil", "family_name": "Ali\u0000ce",
          "email_addresses": [{"address": "\"; DROP TABLE supporters; --"}],
          "phone_numbers": [{"number": "' OR 1=1 --"}]}, "add_tags": ["Robert'); DROP TABLE x;--"]})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->family_name, std::string("Ali\0ce", 6));
  const auto p = validate_submission(*r, IntakeOptions{});
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error(), (FieldErrors{{"given_name", "forbidden_characters"},
                                    {"family_name", "forbidden_characters"},
                                    {"email", "invalid_email"},
                                    {"phone", "invalid_phone"},
                                    {"tags", "invalid_tag"}}));
  for (const char* hostile : {"evil", "DROP TABLE", "' OR 1=1", "Robert"}) {
    expect_no_echo(p.error(), hostile);
  }
}

}  // namespace
}  // namespace rempart::core
