#include "services/casework.hpp"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>
#include <sodium.h>

#include "audit/chain.hpp"
#include "core/hex.hpp"
#include "core/text.hpp"
#include "core/validate.hpp"
#include "crypto/blind_index.hpp"
#include "crypto/record_notes.hpp"
#include "services/records.hpp"

namespace rempart::services {
namespace {

constexpr std::size_t kIdBytes = 16;
constexpr std::size_t kMaxReasonBytes = 200;
constexpr std::size_t kMaxValueBytes = 1024;
constexpr std::size_t kMaxNoteBytes = 4 * kMaxNoteChars;

std::optional<store::Bytes> parse_id(std::string_view hex) { return core::from_hex(hex, kIdBytes); }

void wipe(std::string& s) noexcept {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

template <std::size_t N>
bool one_of(const std::string_view (&names)[N], std::string_view s) noexcept {
  return std::find(std::begin(names), std::end(names), s) != std::end(names);
}

// The field of `p` named `name` (one of kEditableFields).
std::string* field_of(core::Person& p, std::string_view name) {
  if (name == core::field::given_name) return &p.given_name;
  if (name == core::field::family_name) return &p.family_name;
  if (name == core::field::email) return &p.email;
  if (name == core::field::phone) return &p.phone;
  if (name == core::field::street) return &p.street;
  if (name == core::field::postal_code) return &p.postal_code;
  if (name == core::field::locality) return &p.locality;
  if (name == core::field::country) return &p.country;
  return nullptr;
}
std::string* field_of(core::RawSubmission& r, std::string_view name) {
  if (name == core::field::given_name) return &r.given_name;
  if (name == core::field::family_name) return &r.family_name;
  if (name == core::field::email) return &r.email;
  if (name == core::field::phone) return &r.phone;
  if (name == core::field::street) return &r.street;
  if (name == core::field::postal_code) return &r.postal_code;
  if (name == core::field::locality) return &r.locality;
  if (name == core::field::country) return &r.country;
  return nullptr;
}

void wipe_raw(core::RawSubmission& r) noexcept {
  for (std::string* s : {&r.given_name, &r.family_name, &r.email, &r.phone, &r.street, &r.postal_code, &r.locality,
                         &r.country}) {
    wipe(*s);
  }
}

// A note's or contact's text, cleaned: "\r\n" made "\n", white space
// trimmed at both ends, NFC; nullopt when it holds a control character
// other than a line break, a bidi control, malformed UTF-8 or too many code
// points.
std::optional<std::string> clean_note_text(std::string_view in, std::size_t max_chars) {
  if (in.size() > kMaxNoteBytes || !core::text::is_valid_utf8(in)) return std::nullopt;
  std::string s;
  s.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\r' && i + 1 < in.size() && in[i + 1] == '\n') continue;
    s.push_back(in[i]);
  }
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = core::text::decode_one(s, i);
    if (!c || (*c != U'\n' && core::text::is_control(*c)) || core::text::is_bidi_control(*c)) {
      wipe(s);
      return std::nullopt;
    }
  }
  auto nfc = core::text::to_nfc(core::text::trim_unicode(s));
  wipe(s);
  if (!nfc) return std::nullopt;
  if (core::text::count_code_points(*nfc) > max_chars) {
    wipe(*nfc);
    return std::nullopt;
  }
  return nfc;
}

// Who wrote a note, as people know them.
std::string author_name(store::KeeperTx& tx, const std::string& actor) {
  if (actor.starts_with("account:")) {
    if (auto id = core::from_hex(std::string_view(actor).substr(8))) {
      auto a = tx.find_account(*id);
      if (a && *a) return (*a)->name;
    }
  } else if (actor.starts_with("token:")) {
    return "API token " + actor.substr(6);
  }
  return actor;
}

nlohmann::json with_session(const Asker& who, nlohmann::json details) {
  if (!who.session.empty()) details["session"] = who.session;
  return details;
}

Result<void> record(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const Asker& who, std::string_view act,
                    const std::string& subject, nlohmann::json details) {
  auto e = audit::record(tx, keys,
                         audit::Event{who.actor, std::string(act), subject, with_session(who, std::move(details)),
                                      who.client});
  if (!e) return std::unexpected(e.error());
  return {};
}

}  // namespace

bool editable_field(std::string_view name) noexcept { return one_of(kEditableFields, name); }
bool request_channel(std::string_view name) noexcept { return one_of(kRequestChannels, name); }
bool note_kind(std::string_view name) noexcept { return one_of(kNoteKinds, name); }

Casework::Casework(store::KeeperStore& store, const Vault& vault, const guard::Budgets* budgets,
                   std::string default_region)
    : store_(&store),
      vault_(&vault),
      keys_(&vault.keyring()),
      budgets_(budgets),
      default_region_(std::move(default_region)),
      writer_(vault.keyring()) {}

Result<std::vector<std::string>> Casework::edit(const Asker& who, std::string_view id_hex,
                                                const std::vector<FieldChange>& changes, std::string_view reason) {
  auto id = parse_id(id_hex);
  if (!id) return fail(Errc::invalid_input, "edit: invalid id");
  if (changes.empty() || changes.size() > std::size(kEditableFields)) {
    return fail(Errc::invalid_input, "edit: between 1 and 8 fields");
  }
  for (std::size_t i = 0; i < changes.size(); ++i) {
    if (!editable_field(changes[i].field)) return fail(Errc::invalid_input, "edit: unknown field");
    if (changes[i].value.size() > kMaxValueBytes) return fail(Errc::invalid_input, "edit: " + changes[i].field + ": too_long");
    for (std::size_t j = i + 1; j < changes.size(); ++j) {
      if (changes[j].field == changes[i].field) return fail(Errc::invalid_input, "edit: repeated field");
    }
  }
  if (!core::text::is_plain_line(reason, kMaxReasonBytes)) return fail(Errc::invalid_input, "edit: invalid reason");

  enum class Outcome { none, not_found, unchanged, edited, taken } outcome = Outcome::none;
  std::vector<std::string> changed;
  std::string taken;
  guard::Verdict verdict;
  std::string honey;
  const std::string hex = audit::to_hex(*id);
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto row = tx.find_supporter(*id);
    if (!row) return std::unexpected(row.error());
    if (!*row) {
      outcome = Outcome::not_found;
      return {};
    }
    auto current = vault_->open_for_edit(**row);
    if (!current) return std::unexpected(current.error());
    core::Person& before = *current;
    // The record as intake would see it with the corrections made, then
    // validated as intake validates: every stored field is checked again,
    // the corrected ones for the first time.
    core::RawSubmission raw = core::to_raw(before);
    raw.tags.clear();
    for (const auto& c : changes) *field_of(raw, c.field) = c.value;
    core::IntakeOptions opts;
    opts.default_region = default_region_;
    opts.collect.assign(std::begin(kEditableFields), std::end(kEditableFields));
    auto after = core::validate_submission(raw, opts);
    wipe_raw(raw);
    if (!after) {
      wipe_person(before);
      // The first error on a corrected field, else the first of all.
      const auto& errs = after.error();
      auto it = std::find_if(errs.begin(), errs.end(), [&](const core::FieldError& e) {
        return std::any_of(changes.begin(), changes.end(), [&](const FieldChange& c) { return c.field == e.field; });
      });
      const core::FieldError& e = it != errs.end() ? *it : errs.front();
      return fail(Errc::invalid_input, "edit: " + e.field + ": " + e.code);
    }
    core::Person& next = *after;
    next.tags.clear();
    next.consent = {};
    for (std::string_view f : kEditableFields) {
      if (*field_of(next, f) != *field_of(before, f)) changed.emplace_back(f);
    }
    const bool email_changed = next.email != before.email;
    const bool phone_changed = next.phone != before.phone;
    auto done = [&](Result<void> res) {
      wipe_person(before);
      wipe_person(next);
      return res;
    };
    if (changed.empty()) {
      outcome = Outcome::unchanged;
      return done({});
    }
    // Whether an e-mail or phone is free tells whether someone holds it:
    // charged like a search (one masked row per value looked up).
    const auto looked_up = static_cast<std::int64_t>((email_changed && !next.email.empty()) +
                                                     (phone_changed && !next.phone.empty()));
    if (budgets_ && looked_up > 0) {
      auto v = charge_asker(tx, *keys_, *budgets_, who, guard::Counted::masked, looked_up);
      if (!v) return done(std::unexpected(v.error()));
      if (v->locked) {
        verdict = std::move(*v);
        return done({});
      }
    }
    const auto idx = writer_.indexes(next);
    std::optional<store::SupporterRow> owner;
    for (const bool is_email : {true, false}) {
      if (is_email ? !email_changed || !idx.email_index : !phone_changed || !idx.phone_index) continue;
      auto found = is_email ? writer_.find_holder(tx, crypto::kBlindIndexEmail, *idx.email_index, next.email)
                            : writer_.find_holder(tx, crypto::kBlindIndexPhone, *idx.phone_index, next.phone);
      if (!found) return done(std::unexpected(found.error()));
      if (*found && (*found)->id != (*row)->id) {
        taken = is_email ? "email_taken" : "phone_taken";
        owner = std::move(*found);
        break;
      }
    }
    if (owner) {
      outcome = Outcome::taken;
      if (budgets_) {
        auto h = tx.is_honeytoken(owner->id);
        if (!h) return done(std::unexpected(h.error()));
        if (*h) {
          verdict = {true, std::string(guard::kReasonHoneytoken)};
          honey = audit::to_hex(owner->id);
          return done(lock_asker(tx, *keys_, who, verdict.reason, {{"record", honey}, {"by", "edit"}}));
        }
        auto m = charge_asker(tx, *keys_, *budgets_, who, guard::Counted::miss, 1);
        if (!m) return done(std::unexpected(m.error()));
        if (m->locked) {
          verdict = std::move(*m);
          return done({});
        }
      }
      return done(record(tx, *keys_, who, audit::action::supporter_edit, hex,
                         {{"fields", changed}, {"reason", reason}, {"refused", taken}}));
    }
    store::SupporterRow updated = **row;
    if (auto w = writer_.rewrite(tx, updated, next, unix_now()); !w) return done(w);
    outcome = Outcome::edited;
    return done(record(tx, *keys_, who, audit::action::supporter_edit, hex, {{"fields", changed}, {"reason", reason}}));
  });
  if (!r) return std::unexpected(r.error());
  if (verdict.locked) return std::unexpected(locked_error(verdict, honey).error());
  switch (outcome) {
    case Outcome::not_found: return fail(Errc::not_found, "edit: no such record");
    case Outcome::taken: return fail(Errc::conflict, "edit: " + taken);
    case Outcome::unchanged: return std::vector<std::string>{};
    default: return changed;
  }
}

Result<bool> Casework::withdraw_consent(const Asker& who, std::string_view id_hex, std::string_view channel,
                                        std::string_view source) {
  auto id = parse_id(id_hex);
  if (!id) return fail(Errc::invalid_input, "consent: invalid id");
  if (channel != "email" && channel != "sms") return fail(Errc::invalid_input, "consent: unknown channel");
  if (!request_channel(source)) return fail(Errc::invalid_input, "consent: unknown source");
  bool found = false, changed = false;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto row = tx.find_supporter(*id);
    if (!row) return std::unexpected(row.error());
    if (!*row) return {};
    found = true;
    store::SupporterRow& s = **row;
    auto& given = channel == "email" ? s.consent_email_at : s.consent_sms_at;
    auto& refused = channel == "email" ? s.consent_email_refused_at : s.consent_sms_refused_at;
    if (refused) return {};  // a no stands already
    const std::int64_t now = unix_now();
    refused = now;
    given.reset();
    s.updated_at = now;
    const std::string logged = "console:" + std::string(source);
    if (auto u = tx.update_supporter(s); !u) return u;
    if (auto e = tx.append_consent_event(s.id, store::ConsentEventRow{std::string(channel), "no", now, logged}); !e) {
      return e;
    }
    changed = true;
    return record(tx, *keys_, who, audit::action::supporter_consent, audit::to_hex(s.id),
                  {{"channel", channel}, {"choice", "no"}, {"source", logged}});
  });
  if (!r) return std::unexpected(r.error());
  if (!found) return fail(Errc::not_found, "consent: no such record");
  return changed;
}

Result<std::vector<store::ConsentEventRow>> Casework::consent_log(std::string_view id_hex) {
  auto id = parse_id(id_hex);
  if (!id) return fail(Errc::invalid_input, "consent: invalid id");
  return store_->consent_events(*id);
}

Result<std::string> checked_note_text(std::string_view kind, std::string_view text) {
  if (!note_kind(kind)) return fail(Errc::invalid_input, "note: unknown kind");
  const bool is_note = kind == "note";
  auto clean = clean_note_text(text, is_note ? kMaxNoteChars : kMaxContactChars);
  if (!clean) return fail(Errc::invalid_input, "note: invalid text");
  if (is_note && clean->empty()) return fail(Errc::invalid_input, "note: empty text");
  return std::move(*clean);
}

Result<std::string> write_note(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const Asker& who,
                               const store::SupporterRow& s, std::string_view kind, std::string& text,
                               nlohmann::json extra) {
  std::vector<core::Field> fields{{"text", std::move(text)}};
  struct Wipe {
    std::vector<core::Field>& f;
    ~Wipe() { wipe(f.front().value); }
  } wipe_fields{fields};
  crypto::NoteId note_id{};
  auto sealed = crypto::seal_record_note(keys, s.id, crypto::SealedRecord{s.key_version, s.wrapped_key, s.fields},
                                         kind, fields, note_id);
  if (!sealed) return std::unexpected(sealed.error());
  store::NoteRow n{store::Bytes(note_id.begin(), note_id.end()), s.id, std::string(kind), std::move(*sealed),
                   who.actor, unix_now()};
  if (auto ins = tx.insert_note(n); !ins) return std::unexpected(ins.error());
  std::string note_hex = audit::to_hex(n.id);
  if (!extra.is_object()) extra = nlohmann::json::object();
  extra["kind"] = kind;
  extra["note"] = note_hex;
  if (auto r = record(tx, keys, who, audit::action::supporter_note, audit::to_hex(s.id), std::move(extra)); !r) {
    return std::unexpected(r.error());
  }
  return note_hex;
}

Result<void> add_signup_entry(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const store::Bytes& id,
                              std::string& text, std::int64_t now) {
  std::vector<core::Field> fields{{"text", std::move(text)}};
  wipe(text);
  struct Wipe {
    std::vector<core::Field>& f;
    ~Wipe() { wipe(f.front().value); }
  } wipe_fields{fields};
  auto row = tx.find_supporter(id);
  if (!row) return std::unexpected(row.error());
  if (!*row) return fail(Errc::internal, "signup entry: the record just folded is not there");
  const store::SupporterRow& s = **row;
  crypto::NoteId note_id{};
  auto sealed = crypto::seal_record_note(keys, s.id, crypto::SealedRecord{s.key_version, s.wrapped_key, s.fields},
                                         kSignupNoteKind, fields, note_id);
  if (!sealed) return std::unexpected(sealed.error());
  store::NoteRow n{store::Bytes(note_id.begin(), note_id.end()), s.id, std::string(kSignupNoteKind),
                   std::move(*sealed), "intake", now};
  return tx.insert_note(n);
}

Result<std::string> Casework::add_note(const Asker& who, std::string_view id_hex, std::string_view kind,
                                       std::string_view text) {
  auto id = parse_id(id_hex);
  if (!id) return fail(Errc::invalid_input, "note: invalid id");
  auto clean = checked_note_text(kind, text);
  if (!clean) return std::unexpected(clean.error());
  std::string note_hex;
  bool found = false;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto row = tx.find_supporter(*id);
    if (!row) return std::unexpected(row.error());
    if (!*row) return {};
    found = true;
    auto written = write_note(tx, *keys_, who, **row, kind, *clean, nlohmann::json::object());
    if (!written) return std::unexpected(written.error());
    note_hex = std::move(*written);
    return {};
  });
  wipe(*clean);
  if (!r) return std::unexpected(r.error());
  if (!found) return fail(Errc::not_found, "note: no such record");
  return note_hex;
}

Result<std::optional<std::vector<NoteView>>> Casework::notes(const Asker& who, std::string_view id_hex) {
  auto id = parse_id(id_hex);
  if (!id) return fail(Errc::invalid_input, "notes: invalid id");
  std::optional<std::vector<NoteView>> out;
  guard::Verdict verdict;
  auto wipe_out = [&] {
    if (out) {
      for (auto& n : *out) wipe(n.text);
    }
  };
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto row = tx.find_supporter(*id);
    if (!row) return std::unexpected(row.error());
    if (!*row) return {};
    auto rows = tx.notes_of((*row)->id, kNotesShown);
    if (!rows) return std::unexpected(rows.error());
    out.emplace();
    if (rows->empty()) return {};
    if (budgets_) {
      auto v = charge_asker(tx, *keys_, *budgets_, who, guard::Counted::masked, 1);
      if (!v) return std::unexpected(v.error());
      if (v->locked) {
        verdict = std::move(*v);
        return {};
      }
    }
    auto texts = vault_->read_notes(tx, **row, *rows, who.actor, who.client, with_session(who, nlohmann::json::object()));
    if (!texts) return std::unexpected(texts.error());
    out->reserve(rows->size());
    for (std::size_t i = 0; i < rows->size(); ++i) {
      const auto& n = (*rows)[i];
      out->push_back(NoteView{audit::to_hex(n.id), n.kind, std::move((*texts)[i]), author_name(tx, n.author),
                              n.created_at});
    }
    return {};
  });
  // Only after the commit: if the entry cannot be written, nothing is shown.
  if (!r) {
    wipe_out();
    return std::unexpected(r.error());
  }
  if (verdict.locked) {
    wipe_out();
    return std::unexpected(locked_error(verdict).error());
  }
  return out;
}

Result<bool> Casework::erase(const Asker& who, std::string_view id_hex, std::string_view reason) {
  auto id = parse_id(id_hex);
  if (!id) return fail(Errc::invalid_input, "erase: invalid id");
  if (!request_channel(reason)) return fail(Errc::invalid_input, "erase: unknown reason");
  bool erased = false;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto gone = erase_and_suppress(tx, *keys_, *id, unix_now());
    if (!gone) return std::unexpected(gone.error());
    if (!*gone) return {};
    erased = true;
    return record(tx, *keys_, who, audit::action::supporter_erase, audit::to_hex(*id), {{"reason", reason}});
  });
  if (!r) return std::unexpected(r.error());
  if (erased) flush_after_erasure(*store_);
  return erased;
}

}  // namespace rempart::services
