#pragma once
// The vault: the one place in the keeper that opens a supporter record.
//
// Every open goes through a method of this class, and its name says what
// the open is for:
//
// - Opens that serve a person — a full reveal (`reveal`, `reveal_by_contact`)
//   or a masked view (`view`) — write their audit entry in a store
//   transaction, and the values leave the vault only once that transaction
//   has committed: if the entry cannot be written, nothing is shown.
// - Opens that only move data are named for the move, and the caller
//   records them as the move's own entry: `open_for_merge` (a sign-up, an
//   import or synthetic data merged into a known record: RecordWriter),
//   `open_for_export` (an approved export's rows, each named in its
//   `supporter.export` entry: exports.cpp) and `open_for_honeytoken_shape`
//   (the real records whose shape honeytokens copy, each named in a
//   `supporter.sample` entry: honeytokens.cpp), `open_for_indexing`
//   (records whose search tokens are computed from their fields, counted in
//   a `search.index` entry: RecordWriter::index_backlog) and `open_for_edit`
//   (a record whose fields a staff member corrects without seeing them, in
//   the transaction of its `supporter.edit` entry: casework.cpp).
// - A record opened to mail the person (`open_for_mail`: the outbox's
//   sender, in the transaction of its `supporter.mail` entry) serves that
//   person alone: what opens goes to their own address.
// - A record's notes are opened by `read_notes`, an open that serves a
//   person: its `supporter.notes_read` entry is appended in the caller's
//   transaction, and the texts leave only once it has committed.
//
// The fold opens sealed submissions, not records: crypto::BatchOpener in
// folder.cpp, a data-moving open whose outcome the fold records per item
// (supporter.create / merge / unchanged, intake.reject).
//
// The vault holds the keeper keyring by reference; whoever loads the
// keyring (the CLI's open_keeper, `serve`, test fixtures) constructs the
// vault beside it, and the keyring must outlive it. `keyring()` is there
// for sealing, blind indexes and the audit chain, never for opening a
// record: crypto::open_record is called in vault.cpp only.
//
// Thread-safe: a Vault holds no state of its own; the stores handed to its
// methods are used from the calling thread.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/chain.hpp"
#include "core/error.hpp"
#include "core/person.hpp"
#include "crypto/keyring.hpp"
#include "store/store.hpp"

namespace rempart::services {

// A record opened in full for a person to see (reveal_by_contact).
struct Supporter {
  store::Bytes id;
  core::Person person;  // tags and consents included
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

// What the `supporter.reveal` entry of a reveal records, besides the
// record id (its subject). No personal data anywhere.
struct RevealEntry {
  std::string actor;
  std::string client;  // client address, or ""
  // "by", "reason", "session", …: as the caller records them. "fields" is
  // set here.
  nlohmann::json details = nlohmann::json::object();
  // The names recorded under "fields": those the person asked for, in that
  // order; nullopt records the names of every sealed field the record
  // holds (core::field names).
  std::optional<std::vector<std::string>> fields;
};

// A record opened to be mailed: the person, and their anti-phishing phrase
// ("" while they have none).
struct MailOpen {
  core::Person person;
  std::string phrase;
  std::vector<std::string> notes;  // the texts of the notes asked for, in their order
};

// Zeroes and clears every field of an opened person (sodium_memzero), for
// callers done with the plaintext.
void wipe_person(core::Person& p) noexcept;

class Vault {
 public:
  // `keys` must outlive the vault.
  explicit Vault(const crypto::KeeperKeyring& keys) : keys_(&keys) {}

  // For sealing, blind indexes and the audit chain; never to open a record.
  const crypto::KeeperKeyring& keyring() const noexcept { return *keys_; }

  // ---- Opens that serve a person ----------------------------------------------

  // The one full reveal: opens `row` (read in `tx`) and appends its
  // `supporter.reveal` entry (subject: the record id; details: `entry`'s,
  // with "fields") in `tx`. The caller returns the values only after `tx`
  // commits, and returns the error of this call to roll `tx` back. Tags and
  // consents are not sealed (they come back empty): read them from the row
  // and its tags. Errc::crypto if the record does not open (nothing is
  // appended).
  Result<core::Person> reveal(store::KeeperTx& tx, const store::SupporterRow& row, RevealEntry entry) const;

  // A full reveal by exact e-mail or phone (`kind` "email" | "phone",
  // `normalised` already normalised): the CLI's. Finds the record, reveals
  // it as above with details {"by": kind, "reason": reason (left out when
  // empty), "fields": the fields the record holds}, and returns it, tags and
  // consents included, once the entry has committed. A miss commits
  // `supporter.lookup_miss` {"by", "reason"} instead (asking whether someone
  // is a supporter is itself worth recording) and returns nullopt. `actor`
  // names who asks; `reason` must hold no personal data. Errc::invalid_input
  // for another kind.
  Result<std::optional<Supporter>> reveal_by_contact(store::KeeperStore& store, const std::string& actor,
                                                     std::string_view kind, std::string_view normalised,
                                                     const std::string& reason) const;

  // A masked view (the directory's lists, searches and record page): opens
  // `rows`, then commits `entry` followed by whatever `also` writes (the
  // guard's charges) in one transaction, and only then returns the opened
  // records, in the order of `rows`. A record that does not open fails the
  // call before anything is written (Errc::crypto); an error from `also`
  // rolls the entry back and is returned. The caller masks what it shows.
  // Tags and consents come back empty, as from `reveal`.
  Result<std::vector<core::Person>> view(store::KeeperStore& store,
                                         std::span<const store::SupporterRow* const> rows, const audit::Event& entry,
                                         const std::function<Result<void>(store::KeeperTx&)>& also) const;

  // The notes `notes` of `row` (both read in `tx`), opened for a person to
  // read: appends `supporter.notes_read` (subject: the record id; details:
  // `details` with "notes": how many, and "fields": ["notes"], which the
  // blast radius reads as revealed) in `tx` and returns the texts in the
  // order of `notes`. The caller shows them only after `tx` commits, and
  // returns the error of this call to roll `tx` back. Nothing is appended
  // for an empty `notes`. Errc::crypto if one does not open (nothing is
  // appended, nothing returned).
  Result<std::vector<std::string>> read_notes(store::KeeperTx& tx, const store::SupporterRow& row,
                                              std::span<const store::NoteRow> notes, const std::string& actor,
                                              const std::string& client, nlohmann::json details) const;

  // ---- Opens that only move data ------------------------------------------------

  // A record opened to mail the person (services/supporter_mail.hpp), with
  // its anti-phishing phrase when it has one, inside the transaction that
  // writes the message's `supporter.mail` entry. The values leave the
  // keeper only in the mail, to the person's own address.
  // `notes` (read in that transaction) are opened too: the person's copy
  // of what is held about them includes staff's notes.
  Result<MailOpen> open_for_mail(const store::SupporterRow& row, const std::optional<store::PhraseRow>& phrase,
                                 std::span<const store::NoteRow> notes = {}) const;

  // Seals `phrase` under the record's data key, as a `supporter_phrases`
  // row made at `now` (sealing opens nothing).
  Result<store::PhraseRow> seal_phrase(const store::SupporterRow& row, std::string_view phrase,
                                       std::int64_t now) const;

  // A known record opened to merge a sign-up, an import row or a synthetic
  // person into it (RecordWriter::upsert), inside the transaction that
  // writes the merge (and the fold's supporter.merge entry).
  Result<core::Person> open_for_merge(const store::SupporterRow& row) const;

  // A record opened so that a staff member's corrections replace some of
  // its fields (Casework::edit), inside the transaction that re-seals it and
  // writes its `supporter.edit` entry. Nothing opened leaves the keeper.
  Result<core::Person> open_for_edit(const store::SupporterRow& row) const;

  // A record opened so that a retention policy drops a field (the phone)
  // and re-seals it, inside the transaction that writes its
  // `supporter.retention` entry (retention.cpp). Nothing leaves the keeper.
  Result<core::Person> open_for_retention(const store::SupporterRow& row) const;

  // A record opened to write it into an approved export, inside the
  // transaction that names it in the export's `supporter.export` entry.
  Result<core::Person> open_for_export(const store::SupporterRow& row) const;

  // A real record opened to copy its shape into honeytokens; the planting
  // names it in a `supporter.sample` entry. The caller wipes the values
  // once the shape is taken.
  Result<core::Person> open_for_honeytoken_shape(const store::SupporterRow& row) const;

  // A record opened to compute its search tokens (search_tokens.hpp),
  // inside the transaction that stores them and writes the `search.index`
  // entry. The caller wipes the values once the tokens are made.
  Result<core::Person> open_for_indexing(const store::SupporterRow& row) const;

 private:
  Result<core::Person> open(const store::SupporterRow& row) const;

  const crypto::KeeperKeyring* keys_;
};

}  // namespace rempart::services
