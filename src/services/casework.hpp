#pragma once
// The record page's writes, for staff doing daily work on one supporter:
// correcting a field without seeing it, withdrawing a consent on the
// person's behalf, notes and contact history, and erasure on the person's
// request. Each write and its audit entry are one transaction: if the entry
// cannot be written, nothing changes.
//
// - `edit` opens the record through the vault (Vault::open_for_edit),
//   validates the new values exactly as intake does (core::validate),
//   re-seals the record under its own data key (RecordWriter::rewrite) and
//   moves the blind indexes. An e-mail or phone held by another record is
//   refused and nothing changes; since that answer tells whether someone is
//   a supporter, it is charged like a search that finds someone (a masked
//   row, and one `miss`: docs/guard.md), and an owner that is a honeytoken
//   locks the asker.
// - Notes are sealed under the record's data key (crypto/record_notes.hpp)
//   and opened through Vault::read_notes, audited in the transaction that
//   reads them.
// - `erase` deletes the record and everything that refers to it
//   (store::ErasurePort); the audit log keeps the entries naming its id.
//
// Audit entries name the record id, field names, kinds and reasons, never a
// value; errors never carry personal data. Thread-compatible, like
// Directory: one per worker thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "guard/budget.hpp"
#include "services/directory.hpp"
#include "services/records.hpp"
#include "services/vault.hpp"
#include "store/store.hpp"

namespace rempart::services {

// The fields a staff member may correct, by their core::field names.
inline constexpr std::string_view kEditableFields[] = {"given_name", "family_name", "email",    "phone",
                                                       "street",     "postal_code", "locality", "country"};
bool editable_field(std::string_view name) noexcept;

// One correction: a field of kEditableFields and its new value as typed
// ("" clears it; at least one of e-mail and phone must remain).
struct FieldChange {
  std::string field;
  std::string value;
};

// How the person asked, recorded with a consent withdrawn or an erasure.
inline constexpr std::string_view kRequestChannels[] = {"phone_call", "letter", "email", "in_person"};
bool request_channel(std::string_view name) noexcept;

// What a note records: a note, or one contact with the person.
inline constexpr std::string_view kNoteKinds[] = {"note",     "called",    "left_message", "rsvp",
                                                  "attended", "no_answer", "wrong_number"};
bool note_kind(std::string_view name) noexcept;
inline constexpr std::size_t kMaxNoteChars = 2000;     // a note's text, in code points
inline constexpr std::size_t kMaxContactChars = 200;   // a contact's optional text
inline constexpr std::size_t kNotesShown = 100;        // the newest notes a read opens

// A note as the record page shows it. Its text is personal data.
struct NoteView {
  std::string id;      // hex
  std::string kind;    // one of kNoteKinds
  std::string text;    // "" for a contact without text
  std::string author;  // account name, "API token <n>", or the audit actor
  std::int64_t created_at = 0;
};

// The history entry the fold writes for a sign-up that said where it came
// from (core::signup_source): kind "signup", author "intake", sealed under
// the data key of the record `id` like a note. No audit entry of its own:
// the fold's entry for the item says {"source": true}. `text` is wiped.
inline constexpr std::string_view kSignupNoteKind = "signup";
Result<void> add_signup_entry(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const store::Bytes& id,
                              std::string& text, std::int64_t now);

// A note's or contact's text as it is sealed, for `kind` (kNoteKinds): a
// note's 1..2000 code points, a contact's 0..200; line breaks kept, other
// control and bidi characters refused; NFC. Errc::invalid_input.
Result<std::string> checked_note_text(std::string_view kind, std::string_view text);

// Inside `tx`: seals `text` (from checked_note_text; wiped here) under the
// data key of the record `s`, inserts the note, and audits `supporter.note`
// {"kind", "note": id, "session"} plus the keys of `extra`. Returns the
// note id (hex). For callers that write a note with other changes
// (services/call_lists.hpp).
Result<std::string> write_note(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const Asker& who,
                               const store::SupporterRow& s, std::string_view kind, std::string& text,
                               nlohmann::json extra);

class Casework {
 public:
  // `store` and `vault` must outlive it, and `budgets` when given (charges
  // and honeytoken locks as Directory's). `default_region`: the region of
  // phone numbers without a country code, as at intake.
  Casework(store::KeeperStore& store, const Vault& vault, const guard::Budgets* budgets, std::string default_region);

  // Corrects 1..8 fields (no repeats, each value at most 1,024 bytes) of
  // the record `id_hex`, for `reason` (as a reveal's: 1..200 bytes, no
  // control characters, no personal data). Returns the names of the fields
  // whose value changed, in kEditableFields order; none (and nothing
  // written) when every value was already the record's. Audit, same
  // transaction: `supporter.edit` subject = id, details {"fields",
  // "reason", "session"}. Errors, nothing changed: Errc::invalid_input
  // ("edit: <field>: <code>" for a value intake would refuse, or a bad id,
  // field list or reason), Errc::not_found, Errc::conflict ("edit:
  // email_taken" / "edit: phone_taken": another record holds it; the
  // refusal and its charges are committed, with a `supporter.edit` entry
  // {"fields", "reason", "refused": "<field>_taken"}), Errc::locked as
  // Directory's.
  Result<std::vector<std::string>> edit(const Asker& who, std::string_view id_hex,
                                        const std::vector<FieldChange>& changes, std::string_view reason);

  // Withdraws the e-mail or SMS consent (`channel` "email" | "sms") of the
  // record on the person's behalf, asked through `source` (one of
  // kRequestChannels): sets its refusal, logs {channel, "no", now,
  // "console:<source>"} in the consent log, and audits `supporter.consent`
  // {"channel", "choice": "no", "source", "session"}, one transaction.
  // false (nothing written) when it was withdrawn already. Errc::invalid_input,
  // Errc::not_found.
  Result<bool> withdraw_consent(const Asker& who, std::string_view id_hex, std::string_view channel,
                                std::string_view source);

  // The record's consent log, oldest first. Not audited on its own: the
  // record view that shows it writes its `supporter.list` entry.
  Result<std::vector<store::ConsentEventRow>> consent_log(std::string_view id_hex);

  // Writes a note or contact (`kind` of kNoteKinds) on the record. A note's
  // text is required (1..2000 code points), a contact's optional (up to
  // 200); line breaks are kept, other control and bidi characters refused;
  // NFC. Sealed under the record's data key. Audit, same transaction:
  // `supporter.note` {"kind", "note": id, "session"}, never the text.
  // Returns the note id (hex). Errc::invalid_input, Errc::not_found.
  Result<std::string> add_note(const Asker& who, std::string_view id_hex, std::string_view kind,
                               std::string_view text);

  // The record's newest kNotesShown notes, newest first, opened through
  // Vault::read_notes: `supporter.notes_read` {"notes": n, "session"}
  // committed (and one masked row charged) before they are returned; a
  // record without notes writes nothing. nullopt if there is no such record.
  Result<std::optional<std::vector<NoteView>>> notes(const Asker& who, std::string_view id_hex);

  // Erases the record on the person's request, asked through `reason` (one
  // of kRequestChannels): the record (wrapped key, fields, blind indexes),
  // its tags, consent log, notes, honeytoken mark and whatever else refers
  // to it go in one transaction with the `supporter.erase` entry (subject:
  // the id; details {"reason", "session"}). false if there is no such
  // record (nothing written). Errc::invalid_input.
  Result<bool> erase(const Asker& who, std::string_view id_hex, std::string_view reason);

 private:
  store::KeeperStore* store_;
  const Vault* vault_;
  const crypto::KeeperKeyring* keys_;
  const guard::Budgets* budgets_;
  std::string default_region_;
  RecordWriter writer_;
};

}  // namespace rempart::services
