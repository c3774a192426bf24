#pragma once
// Creating and merging supporter records: the one place that turns a
// validated Person into a sealed supporter row. Used by folding, import and
// synthetic data, so that dedup and merge rules are the same everywhere.
#include <cstdint>
#include <string_view>
#include <optional>
#include <span>
#include <string>

#include "core/error.hpp"
#include "core/person.hpp"
#include "crypto/keyring.hpp"
#include "services/vault.hpp"
#include "store/store.hpp"

namespace rempart::services {

// suppressed: not written, the person asked to be erased and this data is
// not from them (an import: Provenance::from_the_person false).
enum class Upsert { created, merged, unchanged, suppressed };

// A record id is 16 bytes: the record's creation time in unix milliseconds
// (48 bits, big-endian), then 80 random bits. New records therefore land at
// the end of the id index and of the audit log's subject index instead of
// on a random page of each (bulk writes: see docs/benchmarks.md), and two
// records made in the same millisecond still differ. The time says nothing
// the record's own created_at does not already show; a honeytoken's id
// carries its invented creation time (honeytokens.cpp).
inline constexpr std::size_t kRecordIdBytes = 16;
inline constexpr std::size_t kRecordIdTimeBytes = 6;
// The creation time in an id made as above; nullopt for an id of another
// size. Ids made before this layout hold random bytes there.
std::optional<std::int64_t> record_id_millis(std::span<const std::uint8_t> id);

struct FoldCounts {
  std::size_t created = 0;
  std::size_t merged = 0;
  std::size_t unchanged = 0;
  std::size_t rejected = 0;  // invalid on re-validation or failed to open
  std::size_t suppressed = 0;  // people who asked to be erased, not brought back
  std::size_t links = 0;     // mailed links followed (confirm, unsubscribe), valid or not
  std::size_t confirmations = 0;  // confirmation mails queued
  std::size_t erased = 0;         // records erased by a self-service link
  void add(Upsert u);
  void add(const FoldCounts& o) {
    created += o.created;
    merged += o.merged;
    unchanged += o.unchanged;
    rejected += o.rejected;
    suppressed += o.suppressed;
    links += o.links;
    confirmations += o.confirmations;
    erased += o.erased;
  }
};

// The CPU work of one upsert that needs no database: the blind indexes and,
// in case the person turns out to be new, a record sealed under a fresh id
// and data key. Made before the transaction (RecordWriter::prepare) so that
// the write lock is held for the SQL only. Holds no secret: ciphertexts and
// keyed hashes. Valid for the keyring that made it, until its current key
// version changes.
struct PreparedUpsert {
  std::optional<store::Bytes> email_index, phone_index;
  // Record id, key version, wrapped key and fields for a creation that keeps
  // the phone; nullopt if sealing failed (upsert then reports the error).
  std::optional<store::SupporterRow> fresh;
  // The person's search tokens (search_tokens.hpp), for a creation; nullopt
  // when not made (upsert then makes them).
  std::optional<std::vector<store::Bytes>> search_tokens;
};

// Where a person's data comes from, beyond the data itself.
struct Provenance {
  // Recorded with each consent statement in the consent log.
  std::string_view consent_source = "signup";
  // The person acted themself (a sign-up): their yes replaces an earlier
  // no. An import's yes does not: a refusal stands until the person says
  // otherwise. A no, from anyone, always stands.
  bool from_the_person = true;
  // The sign-up date the source system recorded (unix seconds).
  std::optional<std::int64_t> joined_at;
  // RecordWriter::source_index of "<tool>:<its id>": the record it names is
  // updated (its fields replaced by the row's non-empty ones) rather than a
  // record of the same e-mail or phone merged into.
  std::optional<store::Bytes> source_index;
  // The same id's indexes under older blind-index keys
  // (RecordWriter::older_source_indexes): tried when source_index finds
  // nothing. Empty unless the blind-index key was rotated.
  std::vector<store::Bytes> older_source_indexes;
  // Where a record created from this data comes from (SupporterRow::origin):
  // "intake" for folded sign-ups (the form and the OSDI API alike),
  // "import:<tool>", "synth". A merge keeps the record's own.
  std::string origin = "intake";
  // The hashes of the consent wordings the person was shown
  // (consent_wording_hash), logged with a "yes" of that channel.
  std::optional<store::Bytes> email_wording = std::nullopt;
  std::optional<store::Bytes> sms_wording = std::nullopt;
};

// What a merge found besides its outcome.
struct UpsertNote {
  // The record merged into holds a given or family name, and `p` another one
  // (the record's is kept): two people may share an e-mail or a phone.
  bool name_differs = false;
};

class RecordWriter {
 public:
  // `keys` must outlive the writer. A merge opens the known record through
  // the writer's Vault (Vault::open_for_merge).
  explicit RecordWriter(const crypto::KeeperKeyring& keys) : keys_(keys), vault_(keys) {}

  // Creates a supporter for `p`, or merges `p` into the supporter already
  // known by its source id (Provenance::source_index), e-mail or phone, in
  // that order. Merging adds tags and the fields the record lacks; it never
  // overwrites a stored value (except for a record found by its source id,
  // whose source is authoritative) and never moves an e-mail or phone that
  // belongs to another record. Consent follows Provenance: a no always
  // stands, a yes replaces a no only from the person; each change of consent
  // is logged with its source. Runs
  // inside the caller's transaction. When `record_id` is given it receives
  // the id of the record created or merged into (for the audit entry the
  // caller writes in the same transaction). Thread-compatible.
  Result<Upsert> upsert(store::KeeperTx& tx, const core::Person& p, std::int64_t now,
                        store::Bytes* record_id = nullptr) const;

  // The same in two steps: `prepare` outside any transaction (thread-safe,
  // no I/O), then `upsert` inside it with what prepare made for the same
  // `p`. A creation then costs no crypto in the transaction; a merge, or a
  // creation whose phone belongs to another record, seals there as before
  // (the prepared record is dropped unused).
  PreparedUpsert prepare(const core::Person& p) const;
  // The same, the new record's id made as if created at `created_ms` (unix
  // milliseconds, clamped to what 48 bits hold) instead of now.
  PreparedUpsert prepare(const core::Person& p, std::int64_t created_ms) const;
  Result<Upsert> upsert(store::KeeperTx& tx, const core::Person& p, const PreparedUpsert& prepared,
                        std::int64_t now, store::Bytes* record_id = nullptr, UpsertNote* note = nullptr,
                        const Provenance& from = {}) const;
  // Replaces the personal fields of the known record `row` (read in `tx`)
  // by `p`'s (tags and consents are not sealed: untouched), re-sealed under
  // the record's own data key, with both blind indexes made from `p`, and
  // writes the row with updated_at = `now`. On success `row` is what was
  // written. The caller checks first that no other record holds `p`'s
  // e-mail or phone (Errc::conflict from the store otherwise), and writes
  // the audit entry in the same transaction.
  Result<void> rewrite(store::KeeperTx& tx, store::SupporterRow& row, const core::Person& p, std::int64_t now) const;
  // The blind indexes alone (no record sealed): to look a person up.
  PreparedUpsert indexes(const core::Person& p) const;
  // The blind index of a source system's id ("action-network:<uuid>").
  store::Bytes source_index(std::string_view key) const;
  // Its indexes under older blind-index keys, newest first: empty unless
  // the blind-index key was rotated (crypto::older_blind_indexes). A
  // source id is not kept in the record, so its index stays under the key
  // that made it.
  std::vector<store::Bytes> older_source_indexes(std::string_view key) const;
  // The indexes of the normalised `value` of `kind` ("email", "phone")
  // under older blind-index keys, newest first: where a record not yet
  // indexed again, or a suppression, is found. Empty unless the
  // blind-index key was rotated, or for an empty value.
  std::vector<store::Bytes> older_indexes(std::string_view kind, const std::string& value) const;
  // The record whose e-mail ("email") or phone ("phone") index is `idx`
  // (made from the normalised `value` under the current key) or, failing
  // that, one of older_indexes(kind, value): who holds that value.
  Result<std::optional<store::SupporterRow>> find_holder(store::KeeperTx& tx, std::string_view kind,
                                                         const store::Bytes& idx, const std::string& value) const;

  // Computes the search tokens of up to `limit` records on the search
  // backlog (store::SupporterReads::search_backlog), in one transaction,
  // and moves their e-mail and phone indexes to the current blind-index
  // key when they are under an older one (after `keys rotate --key
  // blind-index`). Each record is opened through the vault for that move
  // alone (Vault::open_for_indexing); the transaction's `search.index`
  // entry names how many (no ids: nothing about anyone is shown), and how
  // many records' indexes moved (added to `*moved` when given). Returns how
  // many records were indexed; 0 when the backlog is empty.
  Result<std::size_t> index_backlog(store::KeeperStore& store, std::size_t limit,
                                    std::size_t* moved = nullptr) const;

 private:
  const crypto::KeeperKeyring& keys_;
  Vault vault_;
};

// The sealed part of a record: its personal fields (names, e-mail, phone,
// postal code, locality, country), empty ones left out. Tags and consents
// are not sealed: the supporter_tags table and the consent columns are
// their only copy.
std::vector<core::Field> sealed_fields(const core::Person& p);

// The audit action of an upsert outcome.
std::string_view audit_action(Upsert u);

// Erases the supporter `id` (ErasurePort::erase_supporter: the record, its
// key and everything that refers to it) and keeps the blind indexes of its
// e-mail and phone as suppressed since `now`, so that no import brings the
// person back; a sign-up of their own lifts it (RecordWriter::upsert).
// False (nothing done) if there is no such supporter. In the caller's
// transaction, which writes the audit entry.
Result<bool> erase_and_suppress(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const store::Bytes& id,
                                std::int64_t now);

// After the transaction of an erasure has committed: the store's files stop
// holding the erased bytes (KeeperStore::flush_deleted). A reader that kept
// part of it back is logged; the next checkpoint finishes the work.
void flush_after_erasure(store::KeeperStore& store);

// Seconds since the Unix epoch: core's, named here too.
using ::rempart::unix_now;

}  // namespace rempart::services
