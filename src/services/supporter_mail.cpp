#include "services/supporter_mail.hpp"

#include <nlohmann/json.hpp>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <ctime>
#include <utility>

#include "core/hex.hpp"
#include "core/metrics.hpp"
#include "core/text.hpp"
#include "crypto/blind_index.hpp"
#include "core/validate.hpp"
#include "i18n/i18n.hpp"
#include "mail/message.hpp"
#include "services/casework.hpp"
#include "services/mailings.hpp"
#include "services/records.hpp"
#include "mail/template.hpp"

namespace rempart::services {
namespace {

using i18n::tr;
using i18n::trf;

constexpr std::size_t kTokenBytes = 32;
constexpr std::size_t kTokenChars = 43;  // base64url of 32 bytes, no padding
constexpr std::string_view kTokenDomain = "rempart/link/v1";
constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kMaxBackoff = 6 * 3600;
constexpr std::int64_t kManageLinksPerDay = 5;  // per address, five minutes apart at least
constexpr std::int64_t kManageLinkSeconds = 30 * 60;

// 256 words: a phrase of four is 32 bits.
constexpr std::array<std::string_view, 256> kWords = {
"abeille", "abricot", "acier", "agneau", "aigle", "aiguille", "algue", "amande", "ananas", "ancre", 
"anneau", "arbre", "arche", "argile", "armoire", "artichaut", "atelier", "aube", "auberge", "autruche", 
"avion", "avoine", "badge", "balcon", "baleine", "bambou", "banane", "banc", "barque", "bassin", 
"bateau", "berger", "betterave", "biscuit", "bison", "blason", "bleuet", "bocal", "bois", "bougie", 
"bouleau", "boussole", "branche", "brebis", "brioche", "brouette", "brume", "bruyere", "buisson", "cabane", 
"cactus", "cadran", "caillou", "calme", "camion", "canard", "canne", "canot", "cantine", "carafe", 
"carotte", "carton", "cascade", "castor", "cerise", "chalet", "chameau", "champ", "chapeau", "charbon", 
"chariot", "chateau", "chaton", "chemin", "chene", "cheval", "chevre", "ciboule", "cigale", "citron", 
"clairiere", "clocher", "colline", "comete", "concombre", "corail", "corbeau", "corde", "costume", "coton", 
"couronne", "crabe", "craie", "crayon", "criquet", "cuivre", "cygne", "dauphin", "dentelle", "desert", 
"domino", "dragon", "dune", "ecureuil", "encre", "epice", "erable", "escargot", "etang", "etoile", 
"faucon", "fenetre", "fenouil", "figue", "flamme", "fleuve", "flocon", "foret", "fougere", "fourmi", 
"fraise", "framboise", "frene", "fromage", "fusee", "galet", "gazelle", "girafe", "glacier", "gland", 
"gorille", "goutte", "grain", "granit", "grenier", "grenouille", "griffon", "guitare", "hamac", "harpe", 
"hermine", "hibou", "horloge", "houblon", "ile", "iris", "jardin", "jasmin", "jonquille", "kiwi", 
"lac", "lagune", "lampe", "lanterne", "lapin", "laurier", "lavande", "lezard", "licorne", "lierre", 
"lilas", "lion", "loup", "loutre", "lune", "luth", "marais", "marmotte", "marron", "melon", 
"merle", "meteore", "miel", "moineau", "montagne", "moulin", "mousse", "mouton", "muguet", "myrtille", 
"navet", "neige", "noisette", "nuage", "oasis", "ocean", "olive", "orage", "orange", "orchidee", 
"ortie", "ours", "paille", "palmier", "panda", "papillon", "parapluie", "pelican", "perle", "phare", 
"piano", "pigeon", "pin", "pinceau", "pivoine", "plage", "plume", "poire", "pomme", "pont", 
"prairie", "prune", "puits", "quartz", "radis", "raisin", "recif", "renard", "riviere", "rocher", 
"roseau", "ruban", "ruche", "sable", "sapin", "saule", "savane", "sentier", "serpent", "silex", 
"sirop", "soleil", "source", "tambour", "tapis", "tigre", "tilleul", "tomate", "tonneau", "tortue", 
"toupie", "tournesol", "train", "trefle", "tulipe", "vague", "vallee", "vanille", "velo", "verger", 
"violette", "voilier", "volcan", "yaourt", "zebre", "zephyr"};

void wipe(std::string& s) noexcept {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

// Wipes the strings it names when it goes.
struct WipeOnExit {
  std::vector<std::string*> strings;
  ~WipeOnExit() {
    for (auto* s : strings) wipe(*s);
  }
};

// In the mail's language (the calling thread's i18n::Scope).
std::string utc_time(std::int64_t at) { return i18n::date_time(at); }
std::string iso_time(std::int64_t at) { return core::text::utc_text(at, "%Y-%m-%dT%H:%M:%SZ"); }

// Where a consent statement came from, for the person's receipt.
const char* source_words(std::string_view source) {
  if (source == "signup") return tr("the sign-up form");
  if (source == "link") return tr("the link in our e-mail");
  if (source == "unsubscribe") return tr("the unsubscribe link");
  if (source == "self_service") return tr("your own request, by a link we mailed you");
  if (source == "complaint") return tr("your complaint to your mail provider about one of our messages");
  if (source.starts_with("api")) return tr("a sign-up through our website's interface");
  if (source.starts_with("import:")) return tr("our previous supporter tool");
  if (source.starts_with("console:")) return tr("our staff, at your request");
  return tr("our records");
}

// Consent wordings by hash, as the log names them.
using Wordings = std::map<store::Bytes, std::string>;

std::string receipt(std::span<const store::ConsentEventRow> events, const Wordings& wordings) {
  std::string out;
  for (const auto& e : events) {
    const bool email = e.channel == "email";
    const char* line = e.choice == "yes"         ? (email ? N_("E-mail: agreed on {}, through {}")
                                                          : N_("Text messages: agreed on {}, through {}"))
                       : e.choice == "confirmed" ? (email ? N_("E-mail: confirmed on {}, through {}")
                                                          : N_("Text messages: confirmed on {}, through {}"))
                                                 : (email ? N_("E-mail: declined or withdrawn on {}, through {}")
                                                          : N_("Text messages: declined or withdrawn on {}, through {}"));
    out += "- " + trf(line, utc_time(e.at), source_words(e.source));
    if (e.wording) {
      if (auto it = wordings.find(*e.wording); it != wordings.end()) {
        out += trf(", to the words \u201C{}\u201D", it->second);
      }
    }
    out += "\n";
  }
  if (out.empty()) out = std::string("- ") + tr("No consent given or refused: we send you no news.") + "\n";
  return out;
}


// What is held about a person, for them: readable lines and JSON. Every
// value is theirs; the caller wipes both once sent.
struct DataCopy {
  std::string text;
  std::string json;
};

DataCopy data_copy(const store::SupporterRow& row, const MailOpen& opened, std::span<const store::NoteRow> notes,
                   std::span<const std::string> tags, std::span<const store::ConsentEventRow> events, const Wordings& wordings,
                   std::optional<std::int64_t> confirmed_at, const std::string& organisation) {
  const core::Person& p = opened.person;
  const std::pair<const char*, const std::string*> fields[] = {
      {N_("First name"), &p.given_name},  {N_("Last name"), &p.family_name}, {N_("E-mail address"), &p.email},
      {N_("Phone number"), &p.phone},     {N_("Street address"), &p.street}, {N_("Postcode"), &p.postal_code},
      {N_("Town or city"), &p.locality},  {N_("Country"), &p.country}};
  std::string text;
  for (const auto& [label, value] : fields) {
    if (!value->empty()) text += trf("{}: {}", tr(label), *value) + "\n";
  }
  std::string joined;
  for (const auto& t : tags) joined += (joined.empty() ? "" : ", ") + t;
  if (!joined.empty()) text += trf("Tags: {}", joined) + "\n";
  text += trf("In our records since: {}", utc_time(row.created_at)) + "\n";
  // opened.notes are `notes` opened, in order: the sign-ups' sources
  // (kSignupNoteKind) apart from what staff wrote.
  nlohmann::json staff_notes = nlohmann::json::array(), signups = nlohmann::json::array();
  std::string staff_text, signup_text;
  for (std::size_t i = 0; i < opened.notes.size() && i < notes.size(); ++i) {
    if (notes[i].kind == kSignupNoteKind) {
      signups.push_back({{"at", iso_time(notes[i].created_at)}, {"source", opened.notes[i]}});
      std::string one_line = opened.notes[i];
      std::replace(one_line.begin(), one_line.end(), '\n', ' ');
      signup_text += "- " + utc_time(notes[i].created_at) + ": " + one_line + "\n";
    } else {
      staff_notes.push_back(opened.notes[i]);
      staff_text += "- " + opened.notes[i] + "\n";
    }
  }
  if (!signup_text.empty()) text += std::string(tr("Where you signed up from:")) + "\n" + signup_text;
  if (!staff_text.empty()) text += std::string(tr("Notes our staff wrote about you:")) + "\n" + staff_text;
  nlohmann::json consent = nlohmann::json::object();
  auto channel = [](std::optional<std::int64_t> given, std::optional<std::int64_t> refused) {
    nlohmann::json c = {{"state", given ? "given" : refused ? "refused" : "unknown"}};
    if (given) c["since"] = iso_time(*given);
    if (refused) c["since"] = iso_time(*refused);
    return c;
  };
  consent["email"] = channel(row.consent_email_at, row.consent_email_refused_at);
  if (confirmed_at) consent["email"]["confirmed_at"] = iso_time(*confirmed_at);
  consent["sms"] = channel(row.consent_sms_at, row.consent_sms_refused_at);
  nlohmann::json log = nlohmann::json::array();
  for (const auto& e : events) {
    nlohmann::json entry = {{"channel", e.channel}, {"choice", e.choice}, {"at", iso_time(e.at)}, {"source", e.source}};
    if (e.wording) {
      if (auto it = wordings.find(*e.wording); it != wordings.end()) entry["wording"] = it->second;
    }
    log.push_back(std::move(entry));
  }
  nlohmann::json j = {{"organisation", organisation},
                      {"record",
                       {{"id", audit::to_hex(row.id)},
                        {"created_at", iso_time(row.created_at)},
                        {"updated_at", iso_time(row.updated_at)},
                        {"given_name", p.given_name},
                        {"family_name", p.family_name},
                        {"email", p.email},
                        {"phone", p.phone},
                        {"street", p.street},
                        {"postal_code", p.postal_code},
                        {"locality", p.locality},
                        {"country", p.country},
                        {"tags", tags},
                        {"notes", std::move(staff_notes)},
                        {"signed_up_from", std::move(signups)},
                        {"anti_phishing_phrase", opened.phrase},
                        {"consent", std::move(consent)},
                        {"consent_log", std::move(log)}}}};
  return {std::move(text), j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
}

// English as written; tr() gives the mail's language (parsed() below).
struct Template {
  const char* subject;
  const char* text;
};

constexpr Template kConfirm{
    N_("Please confirm your subscription to {{organisation}}"),
    N_("{{greeting}}\n\n"
    "Someone, probably you, signed up to {{organisation}} with this address and agreed to receive "
    "its e-mails. To confirm, open this link and press the button on the page:\n\n"
    "{{confirm_link}}\n\n"
    "The link works once, for {{confirm_days}} days. If it was not you, ignore this message: "
    "without a confirmation we send this address nothing else.\n\n"
    "{{phrase_line}}"
    "{{organisation}}\n")};

constexpr Template kWelcome{
    N_("Welcome to {{organisation}}"),
    N_("{{greeting}}\n\n"
    "Your subscription is confirmed. Thank you.\n\n"
    "Your personal anti-phishing phrase is: {{phrase}}\n\n"
    "Every message from {{organisation}} quotes this phrase. A message that claims to come from us "
    "without it is not from us: do not open its links, do not answer it, and tell us.\n\n"
    "Your consent receipt, what we have recorded of your choices:\n"
    "{{receipt}}\n"
    "To stop receiving our e-mails at any time, open this link: {{unsubscribe_link}}\n\n"
    "{{organisation}}\n")};

constexpr Template kManage{
    N_("Your data at {{organisation}}"),
    N_("{{greeting}}\n\n"
    "You asked to receive, correct or erase what {{organisation}} holds about you, or to stop our "
    "messages. Open this link: it works once, for 30 minutes.\n\n"
    "{{manage_link}}\n\n"
    "If you did not ask, ignore this message: nothing changes.\n\n"
    "{{phrase_line}}"
    "{{organisation}}\n")};

constexpr Template kData{
    N_("What {{organisation}} holds about you"),
    N_("{{greeting}}\n\n"
    "As you asked, here is everything {{organisation}} holds about you. The attached file holds the same "
    "in JSON, for another service to read.\n\n"
    "{{data}}\n"
    "Your consent record:\n"
    "{{receipt}}\n"
    "To correct or erase any of it, ask for a new link on our site's \"Your data\" page.\n\n"
    "{{phrase_line}}"
    "{{organisation}}\n")};

constexpr std::string_view kPlaceholders[] = {"organisation", "greeting",    "confirm_link", "confirm_days",
                                              "unsubscribe_link", "phrase", "receipt", "manage_link",
                                              "phrase_line", "data"};

struct Parsed {
  mail::Template subject;
  mail::Template text;
};

std::optional<Parsed> parse(const Template& t) {
  auto subject = mail::Template::parse(tr(t.subject), kPlaceholders);
  auto text = mail::Template::parse(tr(t.text), kPlaceholders);
  if (!subject || !text) return std::nullopt;
  return Parsed{std::move(*subject), std::move(*text)};
}

// The templates of each kind in each language, parsed once; nullopt only
// if a template (or its translation) names an unknown placeholder
// (check() reports it at start-up).
using ParsedSet = std::array<std::optional<Parsed>, 4>;
const ParsedSet& parsed_in(i18n::Lang lang) {
  static const std::array<ParsedSet, 2> all = [] {
    std::array<ParsedSet, 2> out;
    for (const auto l : i18n::kLanguages) {
      const i18n::Scope in(l);
      out[static_cast<std::size_t>(l)] = {parse(kConfirm), parse(kWelcome), parse(kManage), parse(kData)};
    }
    return out;
  }();
  return all[static_cast<std::size_t>(lang)];
}

// The kind's template in the calling thread's language.
const std::optional<Parsed>& parsed(std::string_view kind) {
  const ParsedSet& set = parsed_in(i18n::current());
  return kind == "confirm" ? set[0] : kind == "welcome" ? set[1] : kind == "manage" ? set[2] : set[3];
}

store::Bytes token_hash(std::span<const std::uint8_t> raw) {
  store::Bytes h(crypto_generichash_BYTES);
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, h.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(kTokenDomain.data()), kTokenDomain.size());
  crypto_generichash_update(&st, raw.data(), raw.size());
  crypto_generichash_final(&st, h.data(), h.size());
  return h;
}

std::int64_t backoff(const SupporterMailOptions& o, int attempts) {
  std::int64_t d = o.first_backoff.count();
  for (int i = 1; i < attempts && d < kMaxBackoff; ++i) d *= 2;
  return std::min(d, kMaxBackoff);
}

Result<void> mint(store::KeeperTx& tx, const store::Bytes& id, std::string_view purpose, std::int64_t now,
                  std::chrono::seconds valid, std::string& text) {
  auto t = new_link_token();
  if (auto r = tx.insert_link_token(store::LinkTokenRow{t.hash, id, std::string(purpose), now, now + valid.count(),
                                                        std::nullopt});
      !r) {
    return r;
  }
  text = std::move(t.text);
  return {};
}

}  // namespace

Result<void> check(const SupporterMailOptions& o) {
  if (o.organisation.empty() || o.organisation.size() > 200) {
    return fail(Errc::config, "[mail].organisation must be 1 to 200 bytes");
  }
  if (!mail::is_plain_address(o.from)) return fail(Errc::config, "[mail].from is not a plain address");
  if (!o.bounce_address.empty() && !mail::is_plain_address(o.bounce_address)) {
    return fail(Errc::config, "[mail].bounce_address is not a plain address");
  }
  // RFC 5321 allows 64 bytes of local part: "+" and the 48 of the token.
  const std::string& bounces = o.bounce_address.empty() ? o.from : o.bounce_address;
  if (bounces.rfind('@') > 15) {
    return fail(Errc::config, "[mail].bounce_address (or, without it, from) needs a local part of at most 15 "
                              "characters, so that a record's token fits after it (VERP); e.g. bounces@your.domain");
  }
  if (!(o.links_base.starts_with("https://") || o.links_base.starts_with("http://")) || o.links_base.ends_with('/') ||
      o.links_base.find_first_of(" \t\r\n\"<>?#") != std::string::npos) {
    return fail(Errc::config, "[mail].links_base must be an http(s) address without a trailing '/', query or fragment");
  }
  if (o.confirm_valid.count() < 3600 || o.confirm_valid.count() > 90 * kDay) {
    return fail(Errc::config, "[mail].confirm_days must be 1 to 90 (or confirm_hours at least 1)");
  }
  if (o.confirmations_per_day < 1 || o.confirmations_per_day > 20) {
    return fail(Errc::config, "[mail].confirmations_per_day must be 1 to 20");
  }
  if (o.max_attempts < 1 || o.max_attempts > 50) return fail(Errc::config, "[mail].max_attempts must be 1 to 50");
  if (!(o.per_minute > 0 && o.per_minute <= 1000000)) {
    return fail(Errc::config, "[mail].per_minute must be 1 to 1000000");
  }
  for (const auto l : i18n::kLanguages) {
    for (const auto& t : parsed_in(l)) {
      if (!t) return fail(Errc::internal, "supporter mail: a template does not parse");
    }
  }
  return {};
}

namespace {

constexpr std::string_view kStandingUnsubscribe = "unsubscribe-link";  // the blind-index kind of standing tokens
constexpr std::size_t kStandingIdBytes = 16;

// A token's 32 bytes as its 43 base64url characters (no padding), and back
// (false for anything else).
std::string token_text(const std::array<std::uint8_t, kTokenBytes>& raw) {
  std::string text(sodium_base64_ENCODED_LEN(kTokenBytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(text.data(), text.size(), raw.data(), raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  text.resize(std::strlen(text.c_str()));
  return text;
}

bool token_bytes(std::string_view text, std::array<std::uint8_t, kTokenBytes>& raw) {
  if (text.size() != kTokenChars) return false;
  std::size_t len = 0;
  const char* end = nullptr;
  return sodium_base642bin(raw.data(), raw.size(), text.data(), text.size(), nullptr, &len, &end,
                           sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
         len == kTokenBytes && end == text.data() + text.size();
}

}  // namespace

LinkToken new_link_token() {
  std::array<std::uint8_t, kTokenBytes> raw{};
  randombytes_buf(raw.data(), raw.size());
  LinkToken t{token_text(raw), token_hash(raw)};
  sodium_memzero(raw.data(), raw.size());
  return t;
}

std::string standing_unsubscribe_token(const crypto::KeySet& keys, const store::Bytes& supporter_id) {
  std::array<std::uint8_t, kTokenBytes> raw{};
  if (supporter_id.size() != kStandingIdBytes) return "";
  const auto mac = crypto::blind_index(keys, kStandingUnsubscribe, audit::to_hex(supporter_id));
  std::copy(supporter_id.begin(), supporter_id.end(), raw.begin());
  std::copy(mac.begin(), mac.begin() + (kTokenBytes - kStandingIdBytes), raw.begin() + kStandingIdBytes);
  return token_text(raw);
}

std::optional<store::Bytes> standing_unsubscribe_id(const crypto::KeeperKeyring& keys, std::string_view token) {
  std::array<std::uint8_t, kTokenBytes> raw{};
  if (!token_bytes(token, raw)) return std::nullopt;
  const store::Bytes id(raw.begin(), raw.begin() + kStandingIdBytes);
  const std::string hex = audit::to_hex(id);
  for (const crypto::KeySet& set : keys.all()) {
    const auto mac = crypto::blind_index(set, kStandingUnsubscribe, hex);
    if (sodium_memcmp(mac.data(), raw.data() + kStandingIdBytes, kTokenBytes - kStandingIdBytes) == 0) return id;
  }
  return std::nullopt;
}

namespace {
constexpr std::string_view kVerpKind = "bounce-address";
constexpr std::string_view kUnsubscribeAddressKind = "unsubscribe-address";
constexpr std::size_t kVerpMacHex = 16;

std::string address_mac(const crypto::KeySet& keys, std::string_view kind, std::string_view id_hex) {
  const auto mac = crypto::blind_index(keys, kind, id_hex);
  return core::to_hex(std::span(mac.data(), kVerpMacHex / 2));
}

std::string record_address(const crypto::KeySet& keys, std::string_view kind, std::string_view base,
                           const store::Bytes& id) {
  const auto at = base.rfind('@');
  if (at == std::string_view::npos) return std::string(base);
  const std::string hex = audit::to_hex(id);
  return std::string(base.substr(0, at)) + "+" + hex + address_mac(keys, kind, hex) + std::string(base.substr(at));
}

std::optional<store::Bytes> address_record(const crypto::KeeperKeyring& keys, std::string_view kind,
                                           std::string_view address) {
  const auto at = address.rfind('@');
  const auto plus = address.substr(0, at == std::string_view::npos ? 0 : at).rfind('+');
  if (at == std::string_view::npos || plus == std::string_view::npos) return std::nullopt;
  const std::string token = core::text::ascii_lower(address.substr(plus + 1, at - plus - 1));
  if (token.size() != 2 * kStandingIdBytes + kVerpMacHex) return std::nullopt;
  const std::string hex = token.substr(0, 2 * kStandingIdBytes);
  auto id = core::from_hex(hex, kStandingIdBytes);
  if (!id) return std::nullopt;
  const std::string_view given = std::string_view(token).substr(2 * kStandingIdBytes);
  for (const crypto::KeySet& set : keys.all()) {
    const std::string want = address_mac(set, kind, hex);
    if (sodium_memcmp(want.data(), given.data(), kVerpMacHex) == 0) return store::Bytes(id->begin(), id->end());
  }
  return std::nullopt;
}
}  // namespace

std::string verp_address(const crypto::KeySet& keys, std::string_view bounce_address, const store::Bytes& id) {
  return record_address(keys, kVerpKind, bounce_address, id);
}

std::optional<store::Bytes> verp_record(const crypto::KeeperKeyring& keys, std::string_view address) {
  return address_record(keys, kVerpKind, address);
}

std::string unsubscribe_address(const crypto::KeySet& keys, std::string_view bounce_address, const store::Bytes& id) {
  return record_address(keys, kUnsubscribeAddressKind, bounce_address, id);
}

std::string list_unsubscribe(const crypto::KeySet& keys, const SupporterMailOptions& o, const store::Bytes& id,
                             const std::string& https_link) {
  std::string v = "<" + https_link + ">";
  if (o.mailto_unsubscribe) {
    v += ", <mailto:" + unsubscribe_address(keys, o.bounce_address.empty() ? o.from : o.bounce_address, id) +
         "?subject=unsubscribe>";
  }
  return v;
}

std::optional<store::Bytes> unsubscribe_address_record(const crypto::KeeperKeyring& keys, std::string_view address) {
  return address_record(keys, kUnsubscribeAddressKind, address);
}

std::optional<store::Bytes> link_token_hash(std::string_view text) {
  std::array<std::uint8_t, kTokenBytes> raw{};
  if (!token_bytes(text, raw)) return std::nullopt;
  auto h = token_hash(raw);
  sodium_memzero(raw.data(), raw.size());
  return h;
}

store::Bytes consent_wording_hash(std::string_view text) {
  static constexpr std::string_view kDomain = "rempart/consent-wording/v1";
  store::Bytes h(crypto_generichash_BYTES);
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, h.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(kDomain.data()), kDomain.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  crypto_generichash_final(&st, h.data(), h.size());
  return h;
}

std::string new_phrase() {
  std::string out;
  for (int i = 0; i < 4; ++i) {
    if (i) out += ' ';
    out += kWords[randombytes_uniform(static_cast<std::uint32_t>(kWords.size()))];
  }
  return out;
}

Result<bool> queue_confirmation(store::KeeperTx& tx, const store::Bytes& supporter_id, std::int64_t now,
                                const SupporterMailOptions& o, const std::string& lang) {
  auto confirmed = tx.email_confirmed_at(supporter_id);
  if (!confirmed) return std::unexpected(confirmed.error());
  if (*confirmed) return false;
  if (o.confirmation_gap.count() > 0) {
    auto recent = tx.mail_queued_since(supporter_id, "confirm", now - o.confirmation_gap.count() + 1);
    if (!recent) return std::unexpected(recent.error());
    if (*recent > 0) return false;
  }
  auto today = tx.mail_queued_since(supporter_id, "confirm", now - kDay);
  if (!today) return std::unexpected(today.error());
  if (*today >= o.confirmations_per_day) return false;
  auto id = tx.enqueue_mail(supporter_id, "confirm", now, lang);
  if (!id) return std::unexpected(id.error());
  return true;
}

Result<bool> withdraw_consent(store::KeeperTx& tx, store::SupporterRow& r, std::string_view channel, std::int64_t now,
                              const char* source) {
  auto& given = channel == "email" ? r.consent_email_at : r.consent_sms_at;
  auto& refused = channel == "email" ? r.consent_email_refused_at : r.consent_sms_refused_at;
  if (!given && refused) return false;
  given.reset();
  refused = now;
  r.updated_at = now;
  if (auto e = tx.append_consent_event(r.id, store::ConsentEventRow{std::string(channel), "no", now, source}); !e) {
    return std::unexpected(e.error());
  }
  return true;
}

namespace {

// A self-service correction: the non-empty values of `c` replace the
// record's, except a phone another record holds. The names of the fields
// changed; the record is opened and re-sealed inside `tx`.
Result<std::vector<std::string>> correct(store::KeeperTx& tx, const LinkContext& c, store::SupporterRow& row,
                                         const core::Person& wanted, std::int64_t now) {
  auto opened = c.vault.open_for_edit(row);
  if (!opened) return std::unexpected(opened.error());
  core::Person p = std::move(*opened);
  std::vector<std::string> changed;
  auto take = [&](const char* name, std::string& have, const std::string& want) {
    if (want.empty() || want == have) return;
    have = want;
    changed.emplace_back(name);
  };
  take(core::field::given_name, p.given_name, wanted.given_name);
  take(core::field::family_name, p.family_name, wanted.family_name);
  take(core::field::postal_code, p.postal_code, wanted.postal_code);
  take(core::field::locality, p.locality, wanted.locality);
  take(core::field::country, p.country, wanted.country);
  if (!wanted.phone.empty() && wanted.phone != p.phone) {
    const auto idx = c.writer.indexes(wanted).phone_index;
    auto owner = idx ? c.writer.find_holder(tx, crypto::kBlindIndexPhone, *idx, wanted.phone)
                     : Result<std::optional<store::SupporterRow>>{};
    if (!owner) return std::unexpected(owner.error());
    if (!*owner || (*owner)->id == row.id) {
      p.phone = wanted.phone;
      changed.emplace_back(core::field::phone);
    }
  }
  if (!changed.empty()) {
    // The keeper validates again what the intake checked.
    auto valid = core::validate_submission(core::to_raw(p), c.intake);
    if (!valid) {
      wipe_person(p);
      return std::vector<std::string>{};
    }
    if (auto w = c.writer.rewrite(tx, row, *valid, now); !w) {
      wipe_person(p);
      return std::unexpected(w.error());
    }
    core::Person v = std::move(*valid);
    wipe_person(v);
  }
  wipe_person(p);
  return changed;
}

// A self-service link asked for an address: mailed if the address is a
// record's (and no honeytoken's), within bounds.
Result<LinkOutcome> request_manage_link(store::KeeperTx& tx, const LinkContext& c, std::string_view email,
                                        const std::string& lang, std::int64_t now) {
  LinkOutcome out;
  out.event = audit::Event{std::string(audit::kSupporterActor), std::string(audit::action::self_service_request), "",
                           {{"known", false}}, ""};
  auto normalised = core::normalize_email(email);
  if (!normalised || c.mail == nullptr) return out;
  core::Person asked;
  asked.email = std::move(*normalised);
  const auto idx = c.writer.indexes(asked).email_index;
  if (!idx) return out;
  auto row = c.writer.find_holder(tx, crypto::kBlindIndexEmail, *idx, asked.email);
  if (!row) return std::unexpected(row.error());
  if (!*row) return out;
  const store::Bytes id = (*row)->id;
  out.event.subject = audit::to_hex(id);
  out.event.details = {{"known", true}, {"mailed", false}};
  auto honeytoken = tx.is_honeytoken(id);
  if (!honeytoken) return std::unexpected(honeytoken.error());
  if (*honeytoken) {
    // A decoy's address asked for: someone holds a leaked list. Nothing is
    // mailed; the entry says so for the audit's readers.
    out.event.details["honeytoken"] = true;
    return out;
  }
  auto recent = tx.mail_queued_since(id, "manage", now - 300 + 1);
  if (!recent) return std::unexpected(recent.error());
  auto today = tx.mail_queued_since(id, "manage", now - kDay);
  if (!today) return std::unexpected(today.error());
  if (*recent > 0 || *today >= kManageLinksPerDay) return out;
  if (auto q = tx.enqueue_mail(id, "manage", now, lang); !q) return std::unexpected(q.error());
  out.event.details["mailed"] = true;
  return out;
}

}  // namespace

Result<LinkOutcome> apply_link(store::KeeperTx& tx, const LinkContext& c, const core::LinkAction& link,
                               const std::vector<core::Field>& fields, std::int64_t now) {
  const std::string_view purpose = link.purpose;
  if (purpose == "manage_request") return request_manage_link(tx, c, link.email, link.lang, now);
  const bool known_purpose = purpose == "confirm" || purpose == "unsubscribe" || purpose == "manage";
  LinkOutcome out;
  audit::Event& refused = out.event;
  refused = audit::Event{std::string(audit::kKeeperActor), std::string(audit::action::link_refused), "",
                         {{"purpose", known_purpose ? purpose : "other"}}, ""};
  auto hash = link_token_hash(link.token);
  if (!hash || !known_purpose) {
    refused.details["reason"] = "unknown";
    return out;
  }
  auto row = tx.link_token(*hash);
  if (!row) return std::unexpected(row.error());
  // A mailing's standing unsubscribe link (nothing stored for it).
  std::optional<store::Bytes> standing;
  if (!*row && purpose == "unsubscribe") standing = standing_unsubscribe_id(c.keys, link.token);
  if (!standing && (!*row || (*row)->purpose != purpose)) {
    refused.details["reason"] = "unknown";
    return out;
  }
  if (!standing && (*row)->expires_at <= now) {
    refused.details["reason"] = "expired";
    return out;
  }
  const store::Bytes id = standing ? *standing : (*row)->supporter_id;
  if (purpose != "unsubscribe") {  // single-use links
    auto used = tx.use_link_token(*hash, now);
    if (!used) return std::unexpected(used.error());
    if (!*used) {
      refused.details["reason"] = "used";
      return out;
    }
  }
  LinkOutcome done;
  done.event = audit::Event{std::string(audit::kKeeperActor), "", audit::to_hex(id), nlohmann::json::object(), ""};
  if (purpose == "confirm") {
    auto changed = tx.confirm_email_consent(id, now);
    if (!changed) return std::unexpected(changed.error());
    done.event.action = audit::action::supporter_confirm;
    done.event.details = {{"channel", "email"}, {"changed", *changed}};
    if (!*changed) return done;  // withdrawn meanwhile, or confirmed by an earlier link
    if (auto e = tx.append_consent_event(id, store::ConsentEventRow{"email", "confirmed", now, "link"}); !e) {
      return std::unexpected(e.error());
    }
    if (auto q = tx.enqueue_mail(id, "welcome", now, link.lang); !q) return std::unexpected(q.error());
    return done;
  }
  auto s = tx.find_supporter(id);
  if (!s) return std::unexpected(s.error());
  if (purpose == "unsubscribe") {  // may be followed again (mail clients repeat the POST)
    done.event.action = audit::action::supporter_unsubscribe;
    done.event.details = {{"channel", "email"}, {"changed", false}};
    if (standing) done.event.details["link"] = "mailing";
    if (!*s) return done;
    auto w = withdraw_consent(tx, **s, "email", now, "unsubscribe");
    if (!w) return std::unexpected(w.error());
    if (*w) {
      if (auto u = tx.update_supporter(**s); !u) return std::unexpected(u.error());
    }
    done.event.details["changed"] = *w;
    if (standing) {  // the statistics of the mailing it came in (the last one sent to them)
      auto m = tx.note_mailing_outcome(id, std::nullopt, "unsubscribed", now);
      if (!m) return std::unexpected(m.error());
      if (*m) done.event.details["mailing"] = **m;
    }
    return done;
  }
  // A self-service step, the person's own act through their mailbox.
  done.event.actor = std::string(audit::kSupporterActor);
  done.event.action = audit::action::supporter_self_service;
  done.event.details = {{"step", link.step}};
  if (!*s) return done;
  store::SupporterRow& r = **s;
  if (link.step == "export") {
    if (auto q = tx.enqueue_mail(id, "data", now, link.lang); !q) return std::unexpected(q.error());
  } else if (link.step == "withdraw") {
    auto e = withdraw_consent(tx, r, "email", now, "self_service");
    if (!e) return std::unexpected(e.error());
    auto m = withdraw_consent(tx, r, "sms", now, "self_service");
    if (!m) return std::unexpected(m.error());
    if (*e || *m) {
      if (auto u = tx.update_supporter(r); !u) return std::unexpected(u.error());
    }
    done.event.details["changed"] = *e || *m;
  } else if (link.step == "correct") {
    core::Person wanted = core::to_person(fields);
    auto changed = correct(tx, c, r, wanted, now);
    wipe_person(wanted);
    if (!changed) return std::unexpected(changed.error());
    done.event.action = audit::action::supporter_edit;
    done.event.details = {{"via", "self_service"}, {"fields", *changed}};
  } else if (link.step == "erase") {
    auto gone = erase_and_suppress(tx, c.keys, id, now);
    if (!gone) return std::unexpected(gone.error());
    done.event.action = audit::action::supporter_erase;
    done.event.details = {{"reason", "self_service"}};
    done.erased = *gone;
  } else {
    done.event.details["step"] = "other";
  }
  return done;
}

// ---- MailSender ------------------------------------------------------------------

MailSender::MailSender(const Vault& vault, store::KeeperStore& store, const mail::SmtpTransport& transport,
                       SupporterMailOptions o)
    : vault_(vault), store_(store), transport_(transport), o_(std::move(o)) {}

Result<SendCounts> MailSender::send_due(std::int64_t now, std::size_t limit, std::stop_token stop) {
  SendCounts counts;
  std::vector<store::OutboxRow> due;
  auto r = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto d = tx.due_mail(now, limit);
    if (!d) return std::unexpected(d.error());
    due = std::move(*d);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  const auto gap = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(60.0 / o_.per_minute));
  for (const auto& row : due) {
    if (stop.stop_requested()) break;
    // Pacing: one message per gap at most, across passes.
    const auto wait_until = last_handed_ + gap;
    while (std::chrono::steady_clock::now() < wait_until && !stop.stop_requested()) {
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          wait_until - std::chrono::steady_clock::now(), std::chrono::milliseconds(50)));
    }
    if (stop.stop_requested()) break;
    auto step = send_one(row, unix_now(), stop);
    if (!step && (step.error().code == Errc::busy || step.error().code == Errc::storage)) {
      return std::unexpected(step.error());  // the database: the whole pass again later
    }
    if (!step) {
      // This message cannot be made (a record that does not open, a
      // template that does not render): failed, so that it holds up no
      // other; the log names the message and the error's kind only.
      spdlog::error("supporter mail: message {} ({}) cannot be made ({}); marked failed", row.id, row.kind,
                    errc_name(step.error().code));
      auto w = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
        store::OutboxRow failed = row;
        failed.state = "failed";
        failed.done_at = unix_now();
        auto u = tx.update_mail(failed);
        if (!u && u.error().code == Errc::not_found) return {};
        return u;
      });
      if (!w) return std::unexpected(w.error());
      ++counts.failed;
      continue;
    }
    switch (*step) {
      case Step::sent: ++counts.sent; break;
      case Step::retried: ++counts.retried; break;
      case Step::failed: ++counts.failed; break;
      case Step::dropped: ++counts.dropped; break;
      case Step::stopped: return counts;
    }
  }
  return counts;
}

Result<MailSender::Step> MailSender::send_one(const store::OutboxRow& due, std::int64_t now, std::stop_token stop) {
  // In the language of the page the person acted on, else the instance's.
  const i18n::Scope language(i18n::parse(due.lang).value_or(i18n::current()));
  mail::Message m;
  store::OutboxRow row = due;
  bool dropped = false;
  // The opening, its entry and the links, in one transaction.
  auto r = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto current = tx.mail_by_id(due.id);
    if (!current) return std::unexpected(current.error());
    // Erased with its record, done by another pass, or being sent by one
    // (another keeper took it since this pass read it as due: it counted
    // an attempt).
    if (!*current || ((*current)->state != "queued" && (*current)->state != "sending") ||
        (*current)->attempts != due.attempts) {
      dropped = true;
      return {};
    }
    row = **current;
    auto s = tx.find_supporter(row.supporter_id);
    if (!s) return std::unexpected(s.error());
    auto confirmed = tx.email_confirmed_at(row.supporter_id);
    if (!confirmed) return std::unexpected(confirmed.error());
    // Confirmation and welcome follow the consent; what the person asked
    // for (a self-service link, their data) goes whatever the consent.
    const bool consent_kind = row.kind == "confirm" || row.kind == "welcome";
    const bool still_due = *s && (*s)->email_index &&
                           (!consent_kind || ((*s)->consent_email_at &&
                                              (row.kind == "confirm" ? !*confirmed : confirmed->has_value())));
    if (!still_due) {
      row.state = "dropped";
      row.done_at = now;
      dropped = true;
      return tx.update_mail(row);
    }
    const store::SupporterRow& rec = **s;
    auto phrase = tx.phrase_of(rec.id);
    if (!phrase) return std::unexpected(phrase.error());
    if (!*phrase && row.kind == "welcome") {
      auto sealed = vault_.seal_phrase(rec, new_phrase(), now);
      if (!sealed) return std::unexpected(sealed.error());
      if (auto i = tx.insert_phrase(*sealed); !i) return i;
      *phrase = std::move(*sealed);
    }
    // A link's token is the person's key to act: it lives in this
    // transaction's memory and in the mail only, wiped on every way out.
    std::string confirm_token, unsubscribe_token, manage_token;
    const WipeOnExit tokens{{&confirm_token, &unsubscribe_token, &manage_token}};
    if (row.kind == "confirm") {
      if (auto t = mint(tx, rec.id, "confirm", now, o_.confirm_valid, confirm_token); !t) return t;
    }
    if (row.kind == "manage") {
      if (auto t = mint(tx, rec.id, "manage", now, std::chrono::seconds(kManageLinkSeconds), manage_token); !t) {
        return t;
      }
    }
    if (auto t = mint(tx, rec.id, "unsubscribe", now, o_.unsubscribe_valid, unsubscribe_token); !t) return t;
    std::vector<store::ConsentEventRow> events;
    std::vector<std::string> tags;
    std::vector<store::NoteRow> notes;
    Wordings wordings;
    if (row.kind == "welcome" || row.kind == "data") {
      auto ev = tx.consent_events(rec.id);
      if (!ev) return std::unexpected(ev.error());
      events = std::move(*ev);
      for (const auto& e : events) {
        if (!e.wording || wordings.contains(*e.wording)) continue;
        auto text = tx.consent_wording(*e.wording);
        if (!text) return std::unexpected(text.error());
        if (*text) wordings.emplace(*e.wording, std::move(**text));
      }
    }
    if (row.kind == "data") {
      auto t = tx.tags(rec.id);
      if (!t) return std::unexpected(t.error());
      tags = std::move(*t);
      auto n = tx.notes_of(rec.id, 10000);
      if (!n) return std::unexpected(n.error());
      notes = std::move(*n);
    }
    auto opened = vault_.open_for_mail(rec, *phrase, notes);
    if (!opened) return std::unexpected(opened.error());
    if (auto e = audit::record(tx, vault_.keyring(),
                               audit::Event{std::string(audit::kKeeperActor), std::string(audit::action::supporter_mail),
                                            audit::to_hex(rec.id), {{"kind", row.kind}, {"message", row.id}}, ""});
        !e) {
      wipe_person(opened->person);
      wipe(opened->phrase);
      return std::unexpected(e.error());
    }
    // Handed to the relay next; a crash before the answer is recorded
    // tries again at next_at.
    row.state = "sending";
    row.attempts += 1;
    row.next_at = now + backoff(o_, row.attempts);
    if (auto u = tx.update_mail(row); !u) {
      wipe_person(opened->person);
      wipe(opened->phrase);
      return u;
    }

    // The pages the links open speak the mail's language when it is not
    // the instance's default (the intake reads ?lang= beside the token).
    const std::string lang = i18n::current() == i18n::default_language()
                                 ? std::string()
                                 : "&lang=" + std::string(i18n::code(i18n::current()));
    std::string unsubscribe_link = o_.links_base + "/unsubscribe?t=" + unsubscribe_token + lang;
    const WipeOnExit link{{&unsubscribe_link}};
    mail::Vars vars{
        {"organisation", o_.organisation},
        {"greeting", opened->person.given_name.empty() ? std::string(tr("Hello,"))
                                                       : trf("Hello {},", opened->person.given_name)},
        {"confirm_link", o_.links_base + "/confirm?t=" + confirm_token + lang},
        {"confirm_days", std::to_string(o_.confirm_valid.count() / kDay)},
        {"unsubscribe_link", unsubscribe_link},
        {"phrase", opened->phrase},
        {"receipt", receipt(events, wordings)},
        {"manage_link", o_.links_base + "/manage?t=" + manage_token + lang},
        {"phrase_line", opened->phrase.empty() ? std::string()
                                               : trf("Your anti-phishing phrase: {}", opened->phrase) + "\n\n"},
        {"data", ""},
    };
    DataCopy copy;
    if (row.kind == "data") {
      copy = data_copy(rec, *opened, notes, tags, events, wordings, *confirmed, o_.organisation);
      vars["data"] = copy.text;
    }
    const auto& t = parsed(row.kind);
    if (!t) {
      wipe_person(opened->person);
      wipe(opened->phrase);
      return fail(Errc::internal, "supporter mail: a template does not parse");
    }
    auto subject = mail::render_text(t->subject, vars);
    auto text = mail::render_text(t->text, vars);
    auto html = subject ? mail::render_html(t->text, vars, i18n::code(i18n::current()), *subject) : subject;
    for (auto& [k, v] : vars) wipe(v);
    if (!subject || !text || !html) {
      wipe_person(opened->person);
      wipe(opened->phrase);
      return fail(Errc::internal, "supporter mail: a template did not render");
    }
    const auto at = o_.from.rfind('@');
    m.return_path = verp_address(vault_.keyring().current(), o_.bounce_address.empty() ? o_.from : o_.bounce_address,
                                 rec.id);
    m.from_address = o_.from;
    m.from_name = o_.organisation;
    m.to = opened->person.email;
    m.subject = std::move(*subject);
    m.message_id = audit::to_hex(new_link_token().hash).substr(0, 32) + "." + row.kind + o_.from.substr(at);
    m.headers = {{"List-Unsubscribe", list_unsubscribe(vault_.keyring().current(), o_, rec.id, unsubscribe_link)},
                 {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
                 {"Auto-Submitted", "auto-generated"}};
    m.text = std::move(*text);
    m.html = std::move(*html);
    if (row.kind == "data") {
      m.attachments.push_back(mail::Attachment{"my-data.json", "application/json; charset=utf-8", std::move(copy.json)});
      wipe(copy.text);
    }
    wipe_person(opened->person);
    wipe(opened->phrase);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  if (dropped) return Step::dropped;

  const auto result = transport_.send(m, stop);
  last_handed_ = std::chrono::steady_clock::now();
  wipe(m.to);
  wipe(m.text);
  wipe(m.html);
  for (auto& [name, value] : m.headers) wipe(value);
  for (auto& a : m.attachments) wipe(a.data);
  if (result.outcome == mail::Delivery::stopped) return Step::stopped;
  const std::int64_t after = unix_now();
  Step step = Step::sent;
  row.last_reply = result.reply;
  switch (result.outcome) {
    case mail::Delivery::delivered:
      row.state = "sent";
      row.done_at = after;
      break;
    case mail::Delivery::refused:
      row.state = "failed";
      row.done_at = after;
      step = Step::failed;
      break;
    default:
      if (row.attempts >= o_.max_attempts) {
        row.state = "failed";
        row.done_at = after;
        step = Step::failed;
      } else {
        row.state = "queued";
        row.next_at = after + backoff(o_, row.attempts);
        step = Step::retried;
      }
      break;
  }
  if (step != Step::sent) {
    spdlog::warn("supporter mail: message {} ({}) {} after attempt {}: {}", row.id, row.kind,
                 step == Step::failed ? "failed" : "will be tried again", row.attempts, result.why);
  }
  auto w = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto u = tx.update_mail(row);
    if (!u && u.error().code == Errc::not_found) return {};  // erased meanwhile
    return u;
  });
  if (!w) return std::unexpected(w.error());
  return step;
}

// ---- MailLoop ------------------------------------------------------------------------

namespace {

// A pass's counts on /metrics (core/metrics.hpp).
void count_mail(const SendCounts& c) {
  namespace m = core::metrics;
  auto& reg = m::process_registry();
  reg.mail[m::MailResult::sent].add(c.sent);
  reg.mail[m::MailResult::retried].add(c.retried);
  reg.mail[m::MailResult::failed].add(c.failed);
  reg.mail[m::MailResult::dropped].add(c.dropped);
}

void count_mailing(const MailingSendCounts& c) {
  namespace m = core::metrics;
  auto& reg = m::process_registry();
  reg.mailing[m::MailingResult::sent].add(c.sent);
  reg.mailing[m::MailingResult::failed].add(c.failed);
  reg.mailing[m::MailingResult::skipped].add(c.skipped);
}

}  // namespace

MailLoop::MailLoop(MailSender& sender, store::KeeperStore& store, std::chrono::milliseconds interval,
                   MailingSender* mailings)
    : sender_(sender),
      store_(store),
      interval_(interval),
      mailings_(mailings),
      thread_([this](std::stop_token st) { run(st); }) {}

MailLoop::~MailLoop() { stop(); }

void MailLoop::poke() {
  {
    MutexLock lock(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

void MailLoop::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  cv_.notify_all();
  thread_.join();
}

SendCounts MailLoop::counts() const {
  MutexLock lock(mu_);
  return counts_;
}

void MailLoop::run(std::stop_token stop) {
  std::int64_t next_sweep = 0;
  while (!stop.stop_requested()) {
    const std::int64_t now = unix_now();
    // Where keepers share the database, one sends at a time; the others
    // wait their turn (their leader's session ends: it stopped or died).
    if (auto lead = store_.lead_mail(); !lead || !*lead) {
      if (!lead) spdlog::error("supporter mail: cannot tell which keeper sends ({})", errc_name(lead.error().code));
      MutexLock lock(mu_);
      const auto until = std::chrono::steady_clock::now() + interval_;
      while (!poked_ && !stop.stop_requested()) {
        if (!lock.wait_until(cv_, until)) break;
      }
      poked_ = false;
      continue;
    }
    auto c = sender_.send_due(now, 50, stop);
    if (!c) {
      spdlog::error("supporter mail: a pass failed ({})", errc_name(c.error().code));
    } else {
      MutexLock lock(mu_);
      counts_.sent += c->sent;
      counts_.retried += c->retried;
      counts_.failed += c->failed;
      counts_.dropped += c->dropped;
      count_mail(*c);
    }
    if (now >= next_sweep) {
      auto swept = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
        auto n = tx.delete_expired_link_tokens(now);
        if (!n) return std::unexpected(n.error());
        return {};
      });
      if (!swept) spdlog::error("supporter mail: expired links not swept ({})", errc_name(swept.error().code));
      next_sweep = now + 3600;
    }
    // A full pass may have left more due: go on at once.
    if (c && c->sent + c->retried + c->failed + c->dropped >= 50) continue;
    // Then one batch of a mailing being sent; another pass at once if
    // there was one (the outbox is looked at between batches).
    if (mailings_ != nullptr && !stop.stop_requested()) {
      auto b = mailings_->send_batch(stop);
      if (!b) {
        spdlog::error("mailings: a batch failed ({})", errc_name(b.error().code));
      } else {
        count_mailing(*b);
        if (b->sent + b->failed + b->skipped > 0) continue;
      }
    }
    MutexLock lock(mu_);
    const auto until = std::chrono::steady_clock::now() + interval_;
    while (!poked_ && !stop.stop_requested()) {
      if (!lock.wait_until(cv_, until)) break;
    }
    poked_ = false;
  }
}

}  // namespace rempart::services
