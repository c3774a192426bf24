#pragma once
// A supporter's submitted data after validation and normalisation. This is
// what the intake role seals and what the keeper folds into a record.
// Every string here is personal data: never log it, never put it in an Error.
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rempart::core {

// What the submission or row says of consent, per channel: agreed, refused,
// or (both false) nothing, which is not a refusal. Never both.
struct Consent {
  bool email = false;  // agreed to receive e-mail
  bool sms = false;    // agreed to receive text messages
  bool email_refused = false;  // said no, e.g. "unsubscribed" in the tool an import comes from
  bool sms_refused = false;
  bool operator==(const Consent&) const = default;
};

struct Person {
  std::string given_name;   // NFC, trimmed, may be empty
  std::string family_name;  // NFC, trimmed, may be empty
  std::string email;        // normalised (lower-cased, A-label domain), may be empty
  std::string phone;        // E.164, may be empty
  std::string street;       // street address, up to 3 lines joined by '\n', NFC, may be empty
  std::string postal_code;  // upper-cased, may be empty
  std::string locality;     // NFC, may be empty
  std::string country;      // ISO 3166-1 alpha-2, may be empty
  std::vector<std::string> tags;  // validated tag names, sorted, unique
  Consent consent;

  bool operator==(const Person&) const = default;
};

// One named field of a sealed submission or record. Field names are fixed
// identifiers (the constants below); values are plaintext personal data.
struct Field {
  std::string name;
  std::string value;
  bool operator==(const Field&) const = default;
};

namespace field {
inline constexpr const char* given_name = "given_name";
inline constexpr const char* family_name = "family_name";
inline constexpr const char* email = "email";
inline constexpr const char* phone = "phone";
inline constexpr const char* street = "street";            // address lines, '\n'-joined
inline constexpr const char* postal_code = "postal_code";
inline constexpr const char* locality = "locality";
inline constexpr const char* country = "country";
inline constexpr const char* tags = "tags";              // '\n'-joined
inline constexpr const char* consent_email = "consent_email";  // "1" agreed, "no" refused, "0" nothing said
inline constexpr const char* consent_sms = "consent_sms";      // the same
// Not part of a person: "0" when an OSDI client asked for no autoresponse
// (no confirmation mail); absent otherwise.
inline constexpr const char* autoresponse = "autoresponse";
// Not part of a person: the consent wording the form showed beside a box
// the person ticked (IntakeOptions::consent_email_text, _sms_text).
inline constexpr const char* consent_email_text = "consent_email_text";
inline constexpr const char* consent_sms_text = "consent_sms_text";
// Not part of a person: where the sign-up came from (signup_source's
// "name=value" lines), kept by the keeper as a "signup" entry of the
// record's history, sealed under the record's key.
inline constexpr const char* source = "source";
// Not part of a person: the language of the page the item was sent from
// ("en" | "fr"), that of the mails it leads to.
inline constexpr const char* lang = "lang";
// A mailed link followed, instead of a person (LinkAction).
inline constexpr const char* link = "link";    // "confirm" | "unsubscribe" | "manage" | "manage_request"
inline constexpr const char* token = "token";  // the link's token, as received
inline constexpr const char* step = "step";    // what a self-service link asks: export | withdraw | correct | erase
}  // namespace field

// The language an item's fields name (field::lang): "en", "fr", or "" when
// they name none of ours.
std::string language_of(const std::vector<Field>& fields);

// Person <-> fields, so that sealing code deals with named byte strings only.
// Empty fields are omitted. to_person ignores unknown field names.
std::vector<Field> to_fields(const Person& p);
Person to_person(const std::vector<Field>& fields);

// False when the fields say "autoresponse" "0" (field::autoresponse).
bool wants_autoresponse(const std::vector<Field>& fields);
// The value of the field `name`, or "" when there is none.
std::string field_value(const std::vector<Field>& fields, std::string_view name);

// A mailed link the intake received (docs/supporter-mail.md): what it is
// for and its token, both as received (the keeper checks them). Sealed into
// the inbox like a sign-up, so the intake learns nothing of it.
struct LinkAction {
  std::string purpose;  // "confirm" | "unsubscribe" | "manage" as the route says, or "manage_request"
  std::string token;    // 43 base64url characters, unchecked; "" for a manage_request
  std::string step;     // manage: export | withdraw | correct | erase
  std::string email;    // manage_request: the normalised address a self-service link is asked for
  std::string lang{};   // the page's language ("en" | "fr"; "" = the default), that of the mail it leads to
  bool operator==(const LinkAction&) const = default;
};
// The link's fields, then `corrections`' (a self-service correction: the
// values to write, empty ones kept as they are).
std::vector<Field> to_fields(const LinkAction& a, const Person& corrections = {});
// The link an item's fields hold, or nullopt for a sign-up.
std::optional<LinkAction> to_link_action(const std::vector<Field>& fields);

}  // namespace rempart::core
