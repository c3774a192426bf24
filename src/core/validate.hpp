#pragma once
// Parsing and validation of untrusted sign-up input. Everything that reaches
// the intake role from the network or a CSV file goes through here first.
// Errors name the field and a stable code; they never echo the input.
#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/person.hpp"

namespace rempart::core {

// One problem with one input field. `field` is a stable path such as
// "email", "person.email_addresses[0].address" or "body"; `code` is a stable
// machine-readable code such as "required", "invalid_email", "too_long",
// "invalid_utf8", "forbidden_characters", "unknown_field", "duplicate_key",
// "wrong_type", "invalid_phone", "malformed". Neither ever holds input text.
struct FieldError {
  std::string field;
  std::string code;
  bool operator==(const FieldError&) const = default;
};
using FieldErrors = std::vector<FieldError>;

// Untrusted strings as they came in, before validation. Produced by the
// form/OSDI/CSV front ends, consumed by validate_submission.
struct RawSubmission {
  std::string given_name;
  std::string family_name;
  std::string email;
  std::string phone;
  std::string street;  // address lines separated by '\n'
  std::string postal_code;
  std::string locality;
  std::string country;
  std::vector<std::string> tags;
  Consent consent;
  // Names the schema does not know, with their values as received (a form's
  // hidden "source" or utm_* inputs, OSDI custom_fields). Only the names
  // IntakeOptions::sources declares are kept (signup_source); the rest are
  // dropped, never a reason to refuse the sign-up.
  std::vector<std::pair<std::string, std::string>> extra;
  // False when an OSDI client sent triggers.autoresponse.enabled = false:
  // no confirmation mail (the consent stays unconfirmed). Not validated
  // into the Person: the intake seals it beside it (field::autoresponse).
  bool autoresponse = true;
};

struct IntakeOptions {
  std::string default_region = "FR";  // region for phone numbers without +CC
  // Which fields this organisation's form collects; others are dropped
  // (data minimisation), never stored. Names as in core::field; "street"
  // is collected only when the organisation asks for it.
  std::vector<std::string> collect = {"given_name", "family_name", "email", "phone",
                                      "postal_code", "locality", "country"};
  // Fields a sign-up must fill in (each also in `collect`). E-mail or phone
  // is required anyway; naming one of them here requires that one.
  std::vector<std::string> require = {};
  // Extra names a sign-up may carry that are kept as where it came from
  // (signup_source): a hidden "source" input of the page, the utm_*
  // parameters of the link that led to it (copied by the page into hidden
  // inputs), OSDI custom_fields of these names.
  std::vector<std::string> sources = {"source",       "utm_source", "utm_medium",
                                      "utm_campaign", "utm_term",   "utm_content"};
  std::size_t max_tags = 20;
  // The consent wording the sign-up form shows beside each box, sealed
  // with each sign-up that ticks it (field::consent_email_text) and kept in
  // the consent log by its hash: what the person agreed to, word for word.
  // "" (the default): rempart's own wording in the page's language.
  std::string consent_email_text{};
  std::string consent_sms_text{};
  // Who collects: named in the sign-up page's title and heading; "" shows
  // "Sign up" alone.
  std::string organisation{};
  // The privacy notice under the form ([intake.privacy]), what the CNIL
  // asks an organisation to tell people when it collects their data:
  // who is responsible (controller), what for (purpose), how long it is
  // kept (retention), who receives it (recipients; "" = the controller
  // only) and whom to write to (contact). No notice while controller is "".
  struct Privacy {
    std::string controller, purpose, retention, recipients, contact;
  } privacy{};
  // The page's look ([intake] colour, logo): the accent of its buttons and
  // links ("#rrggbb", dark enough for white text; "" = rempart's green),
  // and the organisation's logo above the heading: its bytes and media
  // type, served at /static/logo ("" = none).
  std::string colour{};
  std::string logo{};
  std::string logo_type{};
};

// Parses an application/x-www-form-urlencoded sign-up form body (the page's
// own form: given_name, family_name, email, phone, postal_code, locality,
// country, consent_email, consent_sms, tag (repeatable)). Other names go to
// RawSubmission::extra, unchecked. Repeated single-valued names and bad
// percent-encoding are errors.
std::expected<RawSubmission, FieldErrors> parse_signup_form(std::string_view body);

// Parses an OSDI Person Signup Helper JSON body, plus rempart's own
// "consent": {"email": bool, "sms": bool}. Every OSDI schema name is
// accepted (and dropped where rempart does not store it); names outside the
// schema, duplicate keys, wrong JSON types and malformed JSON are errors.
std::expected<RawSubmission, FieldErrors> parse_osdi_signup(std::string_view body);

// Where a sign-up came from: the values of `raw.extra` whose names
// opts.sources declares, first value of each, in the order declared, as
// "name=value" lines. A value that is empty, longer than kMaxSourceBytes or
// not one plain line (text::is_plain_line) is dropped, as is any undeclared
// name. "" when nothing is kept. Not personal data by intent, but free text
// from the network: the keeper seals it with the record (docs/intake-api.md).
inline constexpr std::size_t kMaxSourceBytes = 200;
std::string signup_source(const RawSubmission& raw, const IntakeOptions& opts);

// Validates and normalises. Requires at least one of email or phone, and
// every field of opts.require.
// Fields not in opts.collect are dropped. A phone number without +country is
// read in the submission's own country when it is collected and valid, else
// in opts.default_region. Idempotent: validating the fields of a returned
// Person again yields the same Person.
std::expected<Person, FieldErrors> validate_submission(const RawSubmission& raw,
                                                       const IntakeOptions& opts);

// Field validators, each returning the normalised value or an error code.
// All are pure and thread-safe.
std::expected<std::string, std::string> normalize_email(std::string_view in);
std::expected<std::string, std::string> normalize_phone(std::string_view in,
                                                         std::string_view default_region);

// A stored (E.164) number as people dial it from abroad, grouped the way
// its country writes it: "+33612345678" -> "+33 6 12 34 56 78". `e164` is
// returned as it is when it does not parse.
std::string phone_for_display(std::string_view e164);
std::expected<std::string, std::string> normalize_name(std::string_view in);
std::expected<std::string, std::string> normalize_postal_code(std::string_view in);
// Street address lines separated by '\n' (or "\r\n"): each line as a name
// is (NFC, trimmed, spaces collapsed, no control or bidi characters, at most
// 100 code points); blank lines dropped; at most 3 lines.
std::expected<std::string, std::string> normalize_street(std::string_view in);

// An ISO 3166-1 alpha-2 code (any case), or the country's name in French or
// English as CLDR gives it through ICU ("Allemagne", "Germany", "La
// Réunion"), or one of a few names exports carry that CLDR's do not ("USA",
// "UK", "Great Britain", "Guyane", ...: kCountryAliases in validate.cpp).
// Names match whatever their case, accents, spacing and punctuation, with or
// without a leading article ("la", "le", "les", "l'", "the"). Returns the
// upper-case alpha-2 code of a region the phone library knows; otherwise
// "invalid_country" ("required" when blank, "too_long" past 128 bytes,
// "invalid_utf8").
std::expected<std::string, std::string> normalize_country(std::string_view in);

// A tag as people write it: white space trimmed at both ends and each run of
// spaces or tabs inside made one U+0020; NFC; lower-cased with ICU's root
// locale (not case folding: "ß" stays "ß"), so tags stored as lower-case
// ASCII before keep matching. 1..64 code points of letters, marks, digits,
// punctuation, symbols and spaces. Refused, all with "invalid_tag": control
// and format characters (bidi controls, zero-width joiners), unassigned,
// private-use and surrogate code points, line breaks inside the tag, the
// list separators ',' ';' '|' (CSV exports and imports join tags with
// them), malformed UTF-8, more than 64 code points. Idempotent.
std::expected<std::string, std::string> normalize_tag(std::string_view in);

// Raw form of a Person, for re-validation by the keeper.
RawSubmission to_raw(const Person& p);

namespace detail {
// The domain's conversion to lower-case A-labels that normalize_email makes,
// with or without its shortcut past libidn2 for domains IDNA leaves as they
// are; exposed for the test that holds the two equal.
std::expected<std::string, std::string> domain_to_a_labels(std::string_view domain, bool shortcut);
}  // namespace detail

}  // namespace rempart::core
