#pragma once
// The storage interfaces, independent of any database engine. The store moves
// opaque byte strings: ciphertexts, wrapped keys, blind indexes and public keys
// are all `Bytes` to it. It never sees plaintext personal data and knows
// nothing of cryptography.
//
// The split mirrors the two roles: the internet-facing intake role holds only
// an IntakeStore, which can append sealed submissions and nothing else; the
// keeper role holds a KeeperStore, which reads the inbox and owns the records.
//
// Thread-safety (all implementations): a store object owns its database
// connection(s) and must be used by one thread at a time. Open one store per
// thread; stores opened on the same database, in one process or several, may
// be used concurrently.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace rempart::store {

// The most tags one record holds. Sign-ups of one address merge into one
// record and each may bring tags of its own (up to [intake] max_tags): past
// this, a merge's new tags are left out, so no sender can grow a record,
// or the dashboard's tag counts, without bound.
inline constexpr std::int64_t kMaxTagsPerRecord = 200;

using Bytes = std::vector<std::uint8_t>;

// One intake batch: the ephemeral public key its items' data keys are wrapped
// under (see DESIGN.md, key hierarchy).
struct BatchRow {
  Bytes uid;
  std::uint32_t key_version = 0;  // version of the sealing key pair
  Bytes ephemeral_public;
  std::int64_t created_at = 0;  // unix seconds

  bool operator==(const BatchRow&) const = default;
};

// One sealed submission waiting in the inbox to be folded by the keeper.
struct InboxRow {
  std::int64_t id = 0;  // assigned by the store on append (ignored there); never reused
  Bytes batch_uid;
  Bytes item_uid;  // unique across the inbox
  Bytes wrapped_key;
  Bytes fields;
  std::int64_t received_at = 0;  // unix seconds

  bool operator==(const InboxRow&) const = default;
};

// One supporter record after folding.
struct SupporterRow {
  Bytes id;
  std::uint32_t key_version = 0;  // version of the record key-wrapping key
  Bytes wrapped_key;
  Bytes fields;
  std::optional<Bytes> email_index;  // blind index; unique when present
  std::optional<Bytes> phone_index;  // blind index; unique when present
  std::optional<std::int64_t> consent_email_at;  // consent given, since (unix seconds)
  std::optional<std::int64_t> consent_sms_at;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::optional<std::int64_t> consent_email_refused_at;  // consent refused or withdrawn, since
  std::optional<std::int64_t> consent_sms_refused_at;    // (neither this nor *_at: unknown)
  std::optional<std::int64_t> joined_at;  // sign-up date a source system recorded (unix seconds)
  std::optional<Bytes> source_index;      // blind index of "<tool>:<its id>"; unique when present
  // Where the record was created: "intake", "import:<tool>", "synth"; ""
  // when unknown (records older than migration 0015). Written by
  // insert_supporter only: update_supporter keeps it.
  std::string origin;

  bool operator==(const SupporterRow&) const = default;
};

// One statement of consent, as the consent log keeps it.
struct ConsentEventRow {
  std::string channel;  // "email" | "sms"
  std::string choice;   // "yes" | "no"
  std::int64_t at = 0;  // unix seconds
  std::string source;   // "signup", "import:<tool>:<file fingerprint>", ...
  // The BLAKE2b hash of the wording the person was shown (consent_wordings),
  // or nullopt when none is on record.
  std::optional<Bytes> wording = std::nullopt;

  bool operator==(const ConsentEventRow&) const = default;
};

// One entry of the audit log (see docs/audit.md). The store keeps and
// returns it as is; hashing and MACs belong to the audit layer.
struct AuditEntryRow {
  std::int64_t seq = 0;     // 1, 2, 3 … without gaps
  std::int64_t at = 0;      // unix microseconds
  std::string actor;
  std::string action;
  std::string client;       // empty when none
  std::string subject;      // record id (hex) or empty
  std::string details;      // JSON object text
  std::uint32_t key_version = 0;  // of the audit MAC key
  Bytes prev_hash;
  Bytes hash;
  Bytes mac;

  bool operator==(const AuditEntryRow&) const = default;
};

// ---- Accounts, sessions, API tokens (docs/accounts.md) ----------------------
// The store keeps hashes and sealed blobs only; the auth layer makes them.

struct AccountRow {
  Bytes id;  // 16 random bytes
  std::string name;
  std::string role;           // viewer | organiser | admin | auditor
  std::string password_hash;  // crypto_pwhash_str output
  Bytes totp_sealed;          // sealed TOTP secret
  std::int64_t totp_last_step = -1;  // last accepted time step; -1: none yet
  bool disabled = false;
  bool locked = false;
  std::string lock_reason;           // a code: "too many failed logins", "guard: <reason>"; "" while unlocked
  std::optional<std::int64_t> locked_at;  // unix seconds; nullopt while unlocked (and for locks before 0012)
  std::string lock_detail;           // JSON object, no personal data: what crossed (counted, window, limit); "" if none
  std::int64_t failures = 0;         // consecutive failed logins
  std::int64_t last_failure_at = 0;  // unix seconds
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::string state = "active";         // active | enrolling (waits for its owner to set password and TOTP)
  std::string created_by;               // audit actor that asked for the account
  std::optional<std::int64_t> admin_since;  // unix seconds the admin role was granted; nullopt unless admin
  std::optional<Bytes> enrol_hash;      // BLAKE2b of the single-use enrolment code while enrolling
  std::int64_t enrol_expires_at = 0;    // unix seconds

  bool operator==(const AccountRow&) const = default;
};

// A request for a privilege change (docs/accounts.md, migration 0009).
struct PrivilegeRequestRow {
  std::int64_t id = 0;  // assigned by the store on insert
  std::string kind;     // create_account | set_role | unlock | reset_mfa | reveal_token | raise_budget
  Bytes requester_id;   // account id
  std::string target;   // account name, or the token's label
  std::string params;   // JSON, no secret
  std::optional<Bytes> secret_hash;  // hash of the enrolment code or token handed to the requester
  std::string status;   // pending | approved | refused | expired
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  std::optional<Bytes> decided_by;
  std::optional<std::int64_t> decided_at;

  bool operator==(const PrivilegeRequestRow&) const = default;
};

// A raised budget of one account for one counted kind.
struct AccountBudgetRow {
  Bytes account_id;
  std::string counted;
  std::int64_t per_minute = 0;
  std::int64_t per_hour = 0;
  std::int64_t per_day = 0;
  std::int64_t expires_at = 0;

  bool operator==(const AccountBudgetRow&) const = default;
};

struct SessionRow {
  Bytes token_hash;
  Bytes account_id;
  std::int64_t created_at = 0;    // unix seconds
  std::int64_t last_seen_at = 0;  // unix seconds
  std::string client;

  bool operator==(const SessionRow&) const = default;
};

struct ApiTokenRow {
  std::int64_t id = 0;  // assigned by the store on insert
  std::string label;
  std::string scope;   // intake | read-masked | reveal | metrics
  std::string prefix;  // public part of the token, for lists
  Bytes token_hash;
  std::string created_by;  // audit actor
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  std::optional<std::int64_t> revoked_at;

  bool operator==(const ApiTokenRow&) const = default;
};

// Failed logins from one client address.
struct LoginThrottleRow {
  std::int64_t failures = 0;
  std::int64_t last_failure_at = 0;
};

// ---- Exports (docs/exports.md, migration 0006) ------------------------------

// One two-person bulk export request.
struct ExportRow {
  std::int64_t id = 0;  // assigned by the store on insert
  Bytes requester_id;   // account id
  std::string tag;      // "" for every supporter
  std::string fields;   // field kind names, comma-joined
  std::string reason;
  std::string status;   // pending | approved | expired | downloaded
  std::int64_t created_at = 0;  // unix seconds
  std::int64_t expires_at = 0;
  std::optional<Bytes> approver_id;
  std::optional<std::int64_t> approved_at;
  std::int64_t rows = 0;  // real records written into the file
  std::string segment;    // the saved segment the supporters come from; "" (by tag) when none

  bool operator==(const ExportRow&) const = default;
};

// A canary value planted in one export, found again by its blind index.
struct CanaryRow {
  Bytes blind_index;
  std::uint32_t key_version = 0;  // keyring version the blind index was made with
  std::string kind;               // email | phone
  std::int64_t export_id = 0;

  bool operator==(const CanaryRow&) const = default;
};

// Visits supporter rows one at a time; return false to stop early.
using SupporterVisitor = std::function<bool(const SupporterRow&)>;

// ---- Directory reads -----------------------------------------------------------

// A place in the directory order (created_at, then id, both descending).
struct SupporterPosition {
  std::int64_t created_at = 0;
  Bytes id;

  bool operator==(const SupporterPosition&) const = default;
};

// One page request of KeeperStore::supporter_page.
struct SupporterPageQuery {
  std::string tag;  // only supporters with this tag; "" for all
  std::optional<SupporterPosition> after;  // rows strictly after this place; nullopt from the top
  std::size_t limit = 50;  // rows at most; 0 reads no row (the total is still counted)
};

// A supporter row with its tags.
struct SupporterListing {
  SupporterRow row;
  std::vector<std::string> tags;  // sorted

  bool operator==(const SupporterListing&) const = default;
};

struct SupporterPage {
  std::vector<SupporterListing> items;  // newest first by (created_at, id); honeytokens included
  std::int64_t total = 0;  // supporters matching the tag (or all), whatever the position;
                           // honeytokens are not counted
};

// A tag in use and how many supporters (honeytokens not counted) carry it.
struct TagCountRow {
  std::string tag;
  std::int64_t supporters = 0;

  bool operator==(const TagCountRow&) const = default;
};

// Supporters by where they came from (supporters.origin; "unknown" for
// records made before origins were kept).
struct OriginCountRow {
  std::string origin;
  std::int64_t supporters = 0;

  bool operator==(const OriginCountRow&) const = default;
};

// The last entry of the chain: what the next entry links to.
struct AuditHead {
  std::int64_t seq = 0;
  Bytes hash;
};

// A signed head of the chain.
struct AuditCheckpointRow {
  std::int64_t seq = 0;
  Bytes head_hash;
  std::int64_t at = 0;  // unix microseconds
  std::uint32_t key_version = 0;  // of the audit signing key
  Bytes signature;

  bool operator==(const AuditCheckpointRow&) const = default;
};

// Filters of KeeperStore::scan_audit_filtered. Times are unix microseconds,
// `since` inclusive and `until` exclusive. Empty strings do not filter.
struct AuditFilter {
  std::string actor;
  std::string action;
  std::string subject;
  std::int64_t since = std::numeric_limits<std::int64_t>::min();
  std::int64_t until = std::numeric_limits<std::int64_t>::max();
};

// Visits rows one at a time; return false to stop early. The row is reused
// between calls: copy what must outlive the call.
using AuditVisitor = std::function<bool(const AuditEntryRow&)>;

// The sign-up rate limit that every intake node of a deployment shares
// (PostgreSQL): one token bucket per key, kept by the database. Used by one
// thread at a time.
class SignupLimiter {
 public:
  virtual ~SignupLimiter();
  // Takes a token from `key`'s bucket, which refills at `rate` tokens a
  // second up to `burst` (every caller passes the same two): 0 when taken,
  // else the seconds until one is back.
  virtual Result<double> take(std::string_view key, double rate, double burst) = 0;

 protected:
  SignupLimiter() = default;
  SignupLimiter(const SignupLimiter&) = default;
  SignupLimiter& operator=(const SignupLimiter&) = default;
};

// The only store the internet-facing intake role holds. Write-only by
// construction: there is no method that reads anything back, and the SQLite
// implementation's connection is additionally refused every read of the
// database by an authorizer.
class IntakeStore {
 public:
  virtual ~IntakeStore();

  // Appends, in one durable transaction, `batches` (a batch whose uid is
  // already stored is ignored) then `items` (their ids are ignored; the store
  // assigns them). When this returns success the transaction is on stable
  // storage. On failure nothing of this call is written. Errors:
  // Errc::conflict if an item_uid is already in the inbox, Errc::invalid_input
  // if an item names a batch that is neither stored nor in `batches`,
  // Errc::busy if the database stayed locked, Errc::storage otherwise.
  virtual Result<void> append(std::span<const BatchRow> batches,
                              std::span<const InboxRow> items) = 0;

 protected:
  IntakeStore() = default;
  IntakeStore(const IntakeStore&) = default;
  IntakeStore& operator=(const IntakeStore&) = default;
};

// The keeper's side of the inbox: read what is waiting, delete what is
// folded. Nothing here writes a record.
//
// No order of ids may be assumed: with several intake writers, an item may
// commit after items with higher ids. The keeper folds each item exactly
// once by its item_uid (FoldLedger), never by an id range.
// How many stored items depend on one key version, by kind: "records"
// (wrapped under its record wrapping key), "audit entries" (MAC'd),
// "checkpoints" (signed), "accounts" (TOTP secret sealed, recovery codes
// hashed), "export canaries" and "suppressions" (blind indexes made with
// it), "inbox items" (sealed to its public key).
struct KeyUsageRow {
  std::string kind;
  std::uint32_t key_version = 0;
  std::int64_t count = 0;
};

class InboxStore {
 public:
  virtual ~InboxStore();

  // Up to `limit` items with an id above `after`, by id. An item that
  // commits later may have an id below the last one returned: a caller that
  // wants every item starts again from 0 once a call returns fewer than
  // `limit`.
  virtual Result<std::vector<InboxRow>> peek(std::size_t limit, std::int64_t after) = 0;
  // The batch with this uid, or nullopt.
  virtual Result<std::optional<BatchRow>> batch(const Bytes& uid) = 0;
  virtual Result<std::int64_t> count() = 0;
  // In one durable transaction, deletes the items `ids`, then each of
  // `batches` no item refers to any more; once the inbox is empty, every
  // batch. Returns how many items were deleted. Ids that are gone already
  // are not errors.
  virtual Result<std::int64_t> remove(std::span<const std::int64_t> ids, std::span<const Bytes> batches) = 0;
  // Deletes, by a scan of the inbox, the items whose item_uid is one of
  // `item_uids` (what a stop left folded but not deleted), then every batch
  // no item refers to any more; returns how many items were deleted.
  virtual Result<std::int64_t> remove_by_uid(std::span<const Bytes> item_uids) = 0;
  // How many items wait, per key version their batch was sealed with.
  virtual Result<std::vector<KeyUsageRow>> count_by_key_version() = 0;

 protected:
  InboxStore() = default;
  InboxStore(const InboxStore&) = default;
  InboxStore& operator=(const InboxStore&) = default;
};

// ---- Keeper ports ----------------------------------------------------------------
// The keeper's store is cut by aggregate. Each read is declared once, in a
// *Reads port that both a transaction (KeeperTx) and the store outside one
// (KeeperStore) offer; writes are only in a transaction. A KeeperTx is only
// valid during the KeeperStore::transact call that hands it out; do not keep
// it. Any error returned by a port leaves the transaction open: return it
// from the transact callback to roll everything back.
//
// Outside a transaction, each read sees one consistent snapshot of its own
// (KeeperStore::snapshot shares one between several); inside, it reads the
// transaction's state.

// Supporters, their tags and the honeytoken marks, read side.
class SupporterReads {
 public:
  virtual ~SupporterReads();

  // Lookups; nullopt when no supporter matches.
  virtual Result<std::optional<SupporterRow>> find_supporter_by_email_index(const Bytes& index) = 0;
  virtual Result<std::optional<SupporterRow>> find_supporter_by_phone_index(const Bytes& index) = 0;
  virtual Result<std::optional<SupporterRow>> find_supporter(const Bytes& id) = 0;
  virtual Result<std::optional<SupporterRow>> find_supporter_by_source_index(const Bytes& index) = 0;
  // Whether `blind_index` is suppressed (an erased person's e-mail or
  // phone: ErasurePort::suppress).
  virtual Result<bool> suppressed(const Bytes& blind_index) = 0;
  virtual Result<std::int64_t> count_suppressions() = 0;
  // Retention (docs/retention.md): up to `limit` ids, in id order after
  // `after` (empty: from the first), of real records (no honeytoken) that
  // a policy reaches at `cutoff` (unix seconds): "inactive" (last activity
  // before it), "phone" (the same, holding a phone), "unconfirmed" (a
  // sign-up whose e-mail consent stayed unconfirmed, with no other consent,
  // unchanged since it came before it). Errc::invalid_input for another
  // policy.
  virtual Result<std::vector<Bytes>> retention_candidates(std::string_view policy, std::int64_t cutoff,
                                                          const Bytes& after, std::size_t limit) = 0;
  // The consent log of one supporter, oldest first.
  virtual Result<std::vector<ConsentEventRow>> consent_events(const Bytes& supporter_id) = 0;
  // The text of the consent wording `hash`, or nullopt.
  virtual Result<std::optional<std::string>> consent_wording(const Bytes& hash) = 0;
  // The supporter's tags, sorted; empty if none or no such supporter.
  virtual Result<std::vector<std::string>> tags(const Bytes& supporter_id) = 0;
  // The supporter with this e-mail blind index (phone blind index, id) and
  // its tags, read by one statement (what the console's search and record
  // views read). nullopt when there is none.
  virtual Result<std::optional<SupporterListing>> find_listing_by_email_index(const Bytes& index) = 0;
  virtual Result<std::optional<SupporterListing>> find_listing_by_phone_index(const Bytes& index) = 0;
  virtual Result<std::optional<SupporterListing>> find_listing(const Bytes& id) = 0;
  // A keyset page: up to `q.limit` supporters (with `q.tag`, if given)
  // strictly after `q.after` in (created_at DESC, id DESC) order, each with
  // its tags, and the number of supporters matching the tag (or all). The
  // rows include honeytokens in their place; the total leaves them out. The
  // cost of a page does not grow with its depth.
  virtual Result<SupporterPage> supporter_page(const SupporterPageQuery& q) = 0;
  // Every tag in use with its number of supporters, by tag; honeytokens
  // are not counted (a tag only they carry is not listed).
  virtual Result<std::vector<TagCountRow>> tag_counts() = 0;
  // Streams every supporter that is not a honeytoken (with tag `tag`, or
  // all when ""), oldest first by (created_at, id). The visitor must not
  // call scan_real_supporters again.
  virtual Result<void> scan_real_supporters(const std::string& tag, const SupporterVisitor& visit) = 0;

  // Every supporter row, honeytokens included (operator tools); what people
  // are shown is count_supporters() - count_honeytokens().
  virtual Result<std::int64_t> count_supporters() = 0;
  virtual Result<std::int64_t> count_honeytokens() = 0;
  virtual Result<bool> is_honeytoken(const Bytes& supporter_id) = 0;

  // The ids of the supporters holding one search token (a keyed hash made
  // by services/search_tokens.hpp), in id order; honeytokens included.
  virtual Result<std::vector<Bytes>> ids_by_search_token(const Bytes& token) = 0;
  // A page of the same, highest id first: at most `limit` ids, each below
  // `before` when given.
  virtual Result<std::vector<Bytes>> search_token_page(const Bytes& token, const std::optional<Bytes>& before,
                                                       std::size_t limit) = 0;
  // How many supporters hold `token`, counting no further than `cap`.
  virtual Result<std::int64_t> count_search_token(const Bytes& token, std::int64_t cap) = 0;
  // The next three count by whole UTC days: `since` (unix seconds) counts
  // from the start of its day. They read counts kept as records come and
  // go, not the records.
  // Supporters added per UTC day from `since` on, as (day number since the
  // epoch, count), days without any left out; honeytokens not counted.
  virtual Result<std::vector<std::pair<std::int64_t, std::int64_t>>> added_per_day(std::int64_t since) = 0;
  // The `limit` tags most carried by the supporters added from `since` on,
  // most first (ties by tag); honeytokens not counted.
  virtual Result<std::vector<TagCountRow>> tag_counts_since(std::int64_t since, std::size_t limit) = 0;
  // The supporters added from `since` on, counted by origin (NULL counted
  // as "unknown"), most first (ties by origin); honeytokens not counted.
  virtual Result<std::vector<OriginCountRow>> added_by_origin(std::int64_t since) = 0;
  // The ids of every honeytoken, in id order.
  virtual Result<std::vector<Bytes>> honeytoken_ids() = 0;
  // Up to `limit` supporters whose search tokens are still to be computed,
  // in id order.
  virtual Result<std::vector<Bytes>> search_backlog(std::size_t limit) = 0;

 protected:
  SupporterReads() = default;
  SupporterReads(const SupporterReads&) = default;
  SupporterReads& operator=(const SupporterReads&) = default;
};

// Supporters, write side.
class SupporterWrites {
 public:
  virtual ~SupporterWrites();

  // Errc::conflict if the id, email_index or phone_index is already taken.
  virtual Result<void> insert_supporter(const SupporterRow& row) = 0;
  // Replaces, for the supporter with `row.id`, key_version, wrapped_key,
  // fields, both indexes, both consents and updated_at (created_at is kept).
  // Errc::not_found if there is no such supporter, Errc::conflict if an
  // index is taken by another supporter.
  virtual Result<void> update_supporter(const SupporterRow& row) = 0;
  // Appends one statement to the supporter's consent log.
  virtual Result<void> append_consent_event(const Bytes& supporter_id, const ConsentEventRow& e) = 0;
  // Keeps the text of a consent wording under its hash (a hash known
  // already is left as it is).
  virtual Result<void> put_consent_wording(const Bytes& hash, std::string_view text, std::int64_t now) = 0;
  // Adds tags to a supporter; tags it already has are ignored (their
  // added_at is kept), and so are those past kMaxTagsPerRecord (callers
  // that must say so check first). Errc::not_found if there is no such
  // supporter.
  virtual Result<void> add_tags(const Bytes& supporter_id, std::span<const std::string> tags,
                                std::int64_t now) = 0;
  // Removes tags from a supporter. Tags it does not have, and a supporter
  // that does not exist, are not errors: nothing is removed for them.
  virtual Result<void> remove_tags(const Bytes& supporter_id, std::span<const std::string> tags) = 0;
  // Marks an existing supporter as a honeytoken (docs/honeytokens.md).
  // Errc::not_found if there is no such supporter, Errc::conflict if it is
  // marked already.
  virtual Result<void> insert_honeytoken(const Bytes& supporter_id, std::int64_t now,
                                         const std::string& planted_by) = 0;
  // Replaces the search tokens of a supporter with `tokens` (empty: none)
  // and takes it off the search backlog. Tokens for a supporter that does
  // not exist are refused by the foreign key (an error, nothing written).
  virtual Result<void> put_search_tokens(const Bytes& supporter_id, std::span<const Bytes> tokens) = 0;
  // The same for a supporter just inserted in this transaction, which has
  // no tokens and is on no backlog yet: only the inserts.
  virtual Result<void> add_search_tokens(const Bytes& supporter_id, std::span<const Bytes> tokens) = 0;
  // Puts every supporter on the search backlog (after a change of the
  // tokens' key or rules); returns how many were added.
  virtual Result<std::int64_t> queue_all_for_search_tokens() = 0;

 protected:
  SupporterWrites() = default;
  SupporterWrites(const SupporterWrites&) = default;
  SupporterWrites& operator=(const SupporterWrites&) = default;
};

// Which inbox items are folded: each item exactly once, by its item_uid,
// whatever order the inbox commits them in. The fold records an item in the
// transaction that folds it; once the inbox has deleted the item, the record
// is forgotten.
class FoldLedger {
 public:
  virtual ~FoldLedger();

  // Records `item_uid` as folded at `now`; false (and nothing written) if it
  // is recorded already: the item was folded before and must not be again.
  virtual Result<bool> record_folded(const Bytes& item_uid, std::int64_t now) = 0;
  // Forgets these items (their inbox delete is done). Unknown uids are not
  // errors.
  virtual Result<void> forget_folded(std::span<const Bytes> item_uids) = 0;
  // Up to `limit` recorded items, oldest first: after a stop, those whose
  // inbox delete may not have happened.
  virtual Result<std::vector<Bytes>> folded_items(std::size_t limit) = 0;

 protected:
  FoldLedger() = default;
  FoldLedger(const FoldLedger&) = default;
  FoldLedger& operator=(const FoldLedger&) = default;
};

// The audit log, read side (docs/audit.md).
class AuditReads {
 public:
  virtual ~AuditReads();

  // The last entry, nullopt while the log is empty.
  virtual Result<std::optional<AuditHead>> audit_head() = 0;
  // The checkpoint with the highest seq, or nullopt.
  virtual Result<std::optional<AuditCheckpointRow>> last_audit_checkpoint() = 0;
  // Every checkpoint, by seq.
  virtual Result<std::vector<AuditCheckpointRow>> audit_checkpoints() = 0;
  // Streams the entries with seq >= from_seq in seq order, without loading
  // them all. Errors of the store end the scan.
  virtual Result<void> scan_audit(std::int64_t from_seq, const AuditVisitor& visit) = 0;
  // Streams the entries matching `f`: by (at, seq) when an actor is given,
  // otherwise by seq. Uses the actor, action or subject index when one of
  // them is given.
  virtual Result<void> scan_audit_filtered(const AuditFilter& f, const AuditVisitor& visit) = 0;
  // Streams the newest `limit` entries matching `f`, newest first: the
  // reverse of scan_audit_filtered's order, reading no more than it returns.
  virtual Result<void> scan_audit_newest(const AuditFilter& f, std::size_t limit, const AuditVisitor& visit) = 0;
  // Streams the entries whose action is one of `actions` (at most 8) in
  // [since, until), optionally of one actor: the blast-radius read.
  virtual Result<void> scan_audit_actions(std::span<const std::string> actions, const std::string& actor,
                                          std::int64_t since, std::int64_t until, const AuditVisitor& visit) = 0;

 protected:
  AuditReads() = default;
  AuditReads(const AuditReads&) = default;
  AuditReads& operator=(const AuditReads&) = default;
};

// The audit log, write side. Every backend serialises the transactions that
// append: reading the head and appending in one transaction never forks the
// chain, whatever number of keepers append at once.
class AuditWrites {
 public:
  virtual ~AuditWrites();

  // Errc::conflict if the seq is taken.
  virtual Result<void> append_audit_entry(const AuditEntryRow& row) = 0;
  // Errc::conflict if a checkpoint for that seq exists.
  virtual Result<void> insert_audit_checkpoint(const AuditCheckpointRow& row) = 0;

 protected:
  AuditWrites() = default;
  AuditWrites(const AuditWrites&) = default;
  AuditWrites& operator=(const AuditWrites&) = default;
};

// Accounts, sessions, API tokens, privilege requests and raised budgets
// (docs/accounts.md). The store keeps hashes and sealed blobs only; the auth
// layer makes them.
class AccountPort {
 public:
  virtual ~AccountPort();

  // Errc::conflict if the id or name is taken.
  virtual Result<void> insert_account(const AccountRow& row) = 0;
  virtual Result<std::optional<AccountRow>> find_account(const Bytes& id) = 0;
  virtual Result<std::optional<AccountRow>> find_account_by_name(const std::string& name) = 0;
  // The account whose enrolment code hashes to `enrol_hash`, or nullopt.
  virtual Result<std::optional<AccountRow>> find_account_by_enrol_hash(const Bytes& enrol_hash) = 0;
  // Every account, by name.
  virtual Result<std::vector<AccountRow>> accounts() = 0;
  // Replaces every mutable column (all but id, name, created_at) of the
  // account `row.id`. Errc::not_found if there is no such account.
  virtual Result<void> update_account(const AccountRow& row) = 0;

  // Errc::conflict if a hash is repeated for the account.
  virtual Result<void> insert_recovery_codes(const Bytes& account_id, std::span<const Bytes> code_hashes) = 0;
  virtual Result<void> delete_recovery_codes(const Bytes& account_id) = 0;
  // Marks one unused code used; false if no unused code has this hash.
  virtual Result<bool> use_recovery_code(const Bytes& account_id, const Bytes& code_hash, std::int64_t now) = 0;
  virtual Result<std::int64_t> count_unused_recovery_codes(const Bytes& account_id) = 0;

  virtual Result<void> insert_session(const SessionRow& row) = 0;
  virtual Result<std::optional<SessionRow>> find_session(const Bytes& token_hash) = 0;
  // The account's sessions, most recently used first.
  virtual Result<std::vector<SessionRow>> sessions_of(const Bytes& account_id) = 0;
  virtual Result<void> touch_session(const Bytes& token_hash, std::int64_t now) = 0;
  // Returns how many sessions were deleted (0 or 1).
  virtual Result<std::int64_t> delete_session(const Bytes& token_hash) = 0;
  virtual Result<std::int64_t> delete_sessions_of(const Bytes& account_id) = 0;

  // Returns the id assigned (row.id is ignored). Errc::conflict if the hash is taken.
  virtual Result<std::int64_t> insert_api_token(const ApiTokenRow& row) = 0;
  virtual Result<std::optional<ApiTokenRow>> find_api_token(const Bytes& token_hash) = 0;
  // Every token, by id.
  virtual Result<std::vector<ApiTokenRow>> api_tokens() = 0;
  // False if there is no such token or it is already revoked.
  virtual Result<bool> revoke_api_token(std::int64_t id, std::int64_t now) = 0;
  // Revokes every unrevoked token whose created_by is `created_by`; returns how many.
  virtual Result<std::int64_t> revoke_api_tokens_of(const std::string& created_by, std::int64_t now) = 0;

  // Records that `sponsor_id` requested or approved a privilege of
  // `account_id` (a repeat is not an error).
  virtual Result<void> insert_sponsor(const Bytes& account_id, const Bytes& sponsor_id) = 0;
  virtual Result<bool> is_sponsor(const Bytes& account_id, const Bytes& sponsor_id) = 0;

  // Privilege requests (migration 0009). Returns the id assigned (row.id is ignored).
  virtual Result<std::int64_t> insert_privilege_request(const PrivilegeRequestRow& row) = 0;
  virtual Result<std::optional<PrivilegeRequestRow>> find_privilege_request(std::int64_t id) = 0;
  // The newest `limit` requests, newest first.
  virtual Result<std::vector<PrivilegeRequestRow>> privilege_requests(std::size_t limit) = 0;
  // Replaces status, decided_by and decided_at. Errc::not_found if there is no such request.
  virtual Result<void> update_privilege_request(const PrivilegeRequestRow& row) = 0;
  // Inserts or replaces the raised budget of (account, counted).
  virtual Result<void> put_account_budget(const AccountBudgetRow& row) = 0;
  // The raised budget of (account, counted), nullopt when none.
  virtual Result<std::optional<AccountBudgetRow>> account_budget(const Bytes& account_id,
                                                                 const std::string& counted) = 0;

  // Failed logins from one client address; nullopt when the client has no
  // recorded failure.
  virtual Result<std::optional<LoginThrottleRow>> login_throttle(const std::string& client) = 0;
  virtual Result<void> put_login_throttle(const std::string& client, const LoginThrottleRow& row) = 0;
  virtual Result<void> clear_login_throttle(const std::string& client) = 0;

 protected:
  AccountPort() = default;
  AccountPort(const AccountPort&) = default;
  AccountPort& operator=(const AccountPort&) = default;
};

// The exfiltration guard's counters (docs/guard.md), read side.
class GuardReads {
 public:
  virtual ~GuardReads();

  // The count of (actor, kind, window_start); 0 when there is none.
  virtual Result<std::int64_t> counter(const std::string& actor, const std::string& kind,
                                       std::int64_t window_start) = 0;

 protected:
  GuardReads() = default;
  GuardReads(const GuardReads&) = default;
  GuardReads& operator=(const GuardReads&) = default;
};

// The exfiltration guard's counters, write side.
class GuardWrites {
 public:
  virtual ~GuardWrites();

  // Adds `delta` to the counter (actor, kind, window_start), creating it at
  // `delta` if absent, and returns the count after the change. One
  // statement: concurrent keepers never lose an increment.
  virtual Result<std::int64_t> add_to_counter(const std::string& actor, const std::string& kind,
                                              std::int64_t window_start, std::int64_t delta) = 0;
  // Deletes every counter whose window started before `window_start`;
  // returns how many.
  virtual Result<std::int64_t> delete_counters_before(std::int64_t window_start) = 0;
  // Deletes every counter of `actor`, in every window (an unlock starts the
  // account afresh); returns how many.
  virtual Result<std::int64_t> delete_counters_of(const std::string& actor) = 0;

 protected:
  GuardWrites() = default;
  GuardWrites(const GuardWrites&) = default;
  GuardWrites& operator=(const GuardWrites&) = default;
};

// Two-person exports and their canaries (docs/exports.md), read side.
class ExportReads {
 public:
  virtual ~ExportReads();

  virtual Result<std::optional<ExportRow>> find_export(std::int64_t id) = 0;
  // Every export (of one requester when `requester_id` is given), newest first.
  virtual Result<std::vector<ExportRow>> exports(const std::optional<Bytes>& requester_id) = 0;
  // The account's export public key; nullopt when it has none.
  // Errc::not_found if there is no such account.
  virtual Result<std::optional<Bytes>> export_public_key(const Bytes& account_id) = 0;
  virtual Result<std::optional<CanaryRow>> find_canary(const Bytes& blind_index) = 0;

 protected:
  ExportReads() = default;
  ExportReads(const ExportReads&) = default;
  ExportReads& operator=(const ExportReads&) = default;
};

// Two-person exports and their canaries, write side.
class ExportWrites {
 public:
  virtual ~ExportWrites();

  // Sets (or, with nullopt, clears) the account's export public key.
  // Errc::not_found if there is no such account.
  virtual Result<void> set_export_public_key(const Bytes& account_id, const std::optional<Bytes>& public_key) = 0;
  // Returns the id assigned (row.id is ignored). Errc::invalid_input if the
  // requester (or a set approver) is not an account.
  virtual Result<std::int64_t> insert_export(const ExportRow& row) = 0;
  // Replaces status, approver_id, approved_at and rows of export `row.id`.
  // Errc::not_found if there is no such export.
  virtual Result<void> update_export(const ExportRow& row) = 0;
  // Errc::conflict if the blind index is taken, Errc::invalid_input if the
  // export does not exist.
  virtual Result<void> insert_canary(const CanaryRow& row) = 0;

 protected:
  ExportWrites() = default;
  ExportWrites(const ExportWrites&) = default;
  ExportWrites& operator=(const ExportWrites&) = default;
};

// ---- Notes and erasure (migration 0014) ------------------------------------------

// One note or contact event of a supporter, sealed under the record's data
// key by the services layer (crypto/record_notes.hpp).
struct NoteRow {
  Bytes id;            // 16 random bytes
  Bytes supporter_id;
  std::string kind;    // note | called | left_message | rsvp | attended | no_answer | wrong_number
  Bytes sealed;
  std::string author;  // audit actor
  std::int64_t created_at = 0;  // unix seconds

  bool operator==(const NoteRow&) const = default;
};

// A supporter's notes, in a transaction only: reading them is an opening
// that the services layer audits in the same transaction.
class NotePort {
 public:
  virtual ~NotePort();

  // Errc::conflict if the id is taken, Errc::not_found if there is no such
  // supporter, Errc::invalid_input for an unknown kind.
  virtual Result<void> insert_note(const NoteRow& row) = 0;
  // The supporter's newest `limit` notes, newest first.
  virtual Result<std::vector<NoteRow>> notes_of(const Bytes& supporter_id, std::size_t limit) = 0;

 protected:
  NotePort() = default;
  NotePort(const NotePort&) = default;
  NotePort& operator=(const NotePort&) = default;
};

// Erasure on the person's request (crypto-shredding).
class ErasurePort {
 public:
  virtual ~ErasurePort();

  // Deletes the supporter `id` and everything that refers to it: notes,
  // consent log, tags, honeytoken mark, and whatever else references the
  // record (ON DELETE CASCADE). The audit log is not touched. Returns false
  // (nothing deleted) if there is no such supporter.
  virtual Result<bool> erase_supporter(const Bytes& id) = 0;
  // Keeps `blind_index` (of an erased person's e-mail or phone) as
  // suppressed since `at`, so that imports do not bring the person back
  // (migration 0021). Suppressing an index again updates the entry.
  virtual Result<void> suppress(const Bytes& blind_index, std::uint32_t key_version, std::int64_t at) = 0;
  // Lifts the suppression of `blind_index` (the person signed up again);
  // false if there was none.
  virtual Result<bool> lift_suppression(const Bytes& blind_index) = 0;

 protected:
  ErasurePort() = default;
  ErasurePort(const ErasurePort&) = default;
  ErasurePort& operator=(const ErasurePort&) = default;
};

// ---- Key versions (docs/key-custody.md) ------------------------------------------

// A record's wrapped data key, as a rewrap reads and replaces it.
struct WrappedKeyRow {
  Bytes id;
  std::uint32_t key_version = 0;
  Bytes wrapped_key;
};

class KeyVersionPort {
 public:
  virtual ~KeyVersionPort();

  // Up to `limit` records whose key version is below `below`, with an id
  // above `after` (empty: from the first), by id: a rewrap walks the table
  // once, resumably, without an index on key_version.
  virtual Result<std::vector<WrappedKeyRow>> records_to_rewrap(std::uint32_t below, const Bytes& after,
                                                                std::size_t limit) = 0;
  // Replaces a record's wrapped key and key version, only if both are still
  // those of `old` (an edit or erasure since the read wins). The fields and
  // updated_at are untouched. True if the record was changed.
  virtual Result<bool> rewrap_record(const WrappedKeyRow& old, std::uint32_t new_version, const Bytes& new_wrapped) = 0;
  // What depends on each key version in the keeper's database (every kind
  // but the inbox's, which InboxStore::count_by_key_version gives), by kind
  // then version; kinds with nothing stored are left out.
  virtual Result<std::vector<KeyUsageRow>> key_usage() = 0;

 protected:
  KeyVersionPort() = default;
  KeyVersionPort(const KeyVersionPort&) = default;
  KeyVersionPort& operator=(const KeyVersionPort&) = default;
};

// ---- Segments (docs/console.md, migration 0015) ---------------------------------

// A saved segment. `definition` is a JSON object the service validates when
// it loads one; the store keeps it as text.
struct SegmentRow {
  std::int64_t id = 0;  // assigned by the store on insert
  std::string name;     // unique
  std::string definition;
  std::string created_by;  // audit actor
  std::int64_t created_at = 0;  // unix seconds
  std::int64_t updated_at = 0;

  bool operator==(const SegmentRow&) const = default;
};

// A segment as the store applies it: every part that is set must hold.
struct SegmentFilter {
  std::vector<std::string> tags_all{};   // normalised tags: the supporter holds every one
  std::vector<std::string> tags_any{};   // at least one of them
  std::vector<std::string> tags_none{};  // none of them
  std::string email{};  // "" any | "given" | "refused" (refused or withdrawn) | "unknown" (never asked)
  std::string sms{};    // the same
  // The sign-up date is the earlier of created_at and joined_at (a source
  // system's own sign-up date); unix seconds, from inclusive, before exclusive.
  std::optional<std::int64_t> signed_from{}, signed_before{};
  std::optional<std::int64_t> updated_from{}, updated_before{};
  std::string origin{};  // "" any | "unknown" (no origin) | "import" (any tool) | an exact origin
  // Search tokens of one place (services::place_query: up to 4 readings of
  // it): the supporter holds at least one. Empty: any place. Records still
  // waiting for their tokens (the search backlog) hold none.
  std::vector<Bytes> place_tokens{};

  bool operator==(const SegmentFilter&) const = default;
};

// Saved segments and what they match, read side.
class SegmentReads {
 public:
  virtual ~SegmentReads();

  // Supporters matching `f`; honeytokens are not counted. Errc::invalid_input
  // for a tag list of more than 10 or more than 4 place tokens (here and in
  // segment_page).
  virtual Result<std::int64_t> count_segment(const SegmentFilter& f) = 0;
  // A keyset page of the supporters matching `f`, as supporter_page (`q.tag`
  // must be empty: Errc::invalid_input otherwise): newest first, with tags,
  // honeytokens in their place; total = count_segment(f) when `with_total`,
  // else 0 (a walk through every member need not count them each time).
  virtual Result<SupporterPage> segment_page(const SegmentFilter& f, const SupporterPageQuery& q,
                                             bool with_total) = 0;
  virtual Result<std::optional<SegmentRow>> find_segment(const std::string& name) = 0;
  // Every saved segment, by name.
  virtual Result<std::vector<SegmentRow>> segments() = 0;

 protected:
  SegmentReads() = default;
  SegmentReads(const SegmentReads&) = default;
  SegmentReads& operator=(const SegmentReads&) = default;
};

// Saved segments and tags across records, write side.
class SegmentWrites {
 public:
  virtual ~SegmentWrites();

  // Returns the id assigned (row.id is ignored). Errc::conflict if the name is taken.
  virtual Result<std::int64_t> insert_segment(const SegmentRow& row) = 0;
  // Replaces definition and updated_at of the segment named `row.name`.
  // Errc::not_found if there is none.
  virtual Result<void> update_segment(const SegmentRow& row) = 0;
  // False if there was no such segment.
  virtual Result<bool> delete_segment(const std::string& name) = 0;
  // Every supporter holding tag `from` holds `to` instead (one row each:
  // a supporter holding both keeps `to` with its own added_at). Returns how
  // many supporters held `from`, honeytokens included.
  virtual Result<std::int64_t> move_tag(const std::string& from, const std::string& to, std::int64_t now) = 0;

 protected:
  SegmentWrites() = default;
  SegmentWrites(const SegmentWrites&) = default;
  SegmentWrites& operator=(const SegmentWrites&) = default;
};

// ---- Call lists (docs/console.md, "Call lists", migration 0016) ----------------

struct CallListRow {
  std::int64_t id = 0;   // assigned by the store on insert
  std::string name;      // unique
  std::string segment;   // the segment the entries came from, by name
  std::string script;    // what callers are to say; not personal data
  std::string created_by;  // audit actor
  std::int64_t created_at = 0, starts_at = 0, ends_at = 0;  // unix seconds
  std::optional<std::int64_t> closed_at;

  bool operator==(const CallListRow&) const = default;
};

// One person to call, by record id.
struct CallEntryRow {
  std::int64_t list_id = 0;
  std::int64_t position = 0;  // 1.. in the list
  Bytes supporter_id;
  std::string caller;  // audit actor of the caller's account
  std::optional<std::int64_t> opened_at;
  std::string outcome;  // "" until done
  std::optional<std::int64_t> done_at;

  bool operator==(const CallEntryRow&) const = default;
};

// Where one caller's share of a list stands.
struct CallShareRow {
  std::int64_t list_id = 0;
  std::string caller;
  std::int64_t entries = 0, opened = 0, done = 0;

  bool operator==(const CallShareRow&) const = default;
};

// Call lists and their entries, inside a transaction.
class CallListPort {
 public:
  virtual ~CallListPort();

  // Returns the id assigned (row.id is ignored). Errc::conflict if the name is taken.
  virtual Result<std::int64_t> insert_call_list(const CallListRow& row) = 0;
  // Errc::conflict for a position taken, Errc::not_found for no such list or record.
  virtual Result<void> insert_call_entries(std::span<const CallEntryRow> rows) = 0;
  virtual Result<std::optional<CallListRow>> find_call_list(const std::string& name) = 0;
  // Every list, newest first.
  virtual Result<std::vector<CallListRow>> call_lists() = 0;
  // Per caller, the shares of the list `list_id` (0: of every list), by
  // list then caller.
  virtual Result<std::vector<CallShareRow>> call_shares(std::int64_t list_id) = 0;
  // The shares of `caller` in every list, by list.
  virtual Result<std::vector<CallShareRow>> call_shares_of(const std::string& caller) = 0;
  // How many entries of the list ended with each outcome, by outcome.
  virtual Result<std::vector<std::pair<std::string, std::int64_t>>> call_outcomes(std::int64_t list_id) = 0;
  // The caller's entry to work on: the one opened and not done if there is
  // one, else the first not opened; nullopt when their share is done.
  virtual Result<std::optional<CallEntryRow>> next_call_entry(std::int64_t list_id, const std::string& caller) = 0;
  virtual Result<std::optional<CallEntryRow>> find_call_entry(std::int64_t list_id, std::int64_t position) = 0;
  // Sets opened_at where it is not set yet.
  virtual Result<void> open_call_entry(std::int64_t list_id, std::int64_t position, std::int64_t now) = 0;
  // Records the outcome of an opened entry not done yet; false if there is none.
  virtual Result<bool> finish_call_entry(std::int64_t list_id, std::int64_t position, const std::string& outcome,
                                         std::int64_t now) = 0;
  // False if the list was closed already (or there is none).
  virtual Result<bool> close_call_list(std::int64_t list_id, std::int64_t now) = 0;

 protected:
  CallListPort() = default;
  CallListPort(const CallListPort&) = default;
  CallListPort& operator=(const CallListPort&) = default;
};

// ---- Supporter mail (docs/supporter-mail.md, migration 0020) --------------------

// Mail the keeper owes a supporter: which template, for whom, and how far
// it got. Never an address nor a text.
struct OutboxRow {
  std::int64_t id = 0;  // assigned by the store
  Bytes supporter_id;
  std::string kind;   // confirm | welcome
  std::string state;  // queued | sending | sent | failed | dropped
  int attempts = 0;
  std::int64_t created_at = 0;  // unix seconds
  std::int64_t next_at = 0;     // when to try (again)
  std::optional<std::int64_t> done_at;  // sent, failed or dropped, since
  int last_reply = 0;  // the relay's last SMTP reply code, 0 for none
  std::string lang{};  // "en" | "fr" | "" (the instance's default language)

  bool operator==(const OutboxRow&) const = default;
};

// A link mailed to a supporter, by the hash of its token.
struct LinkTokenRow {
  Bytes hash;  // 32 bytes
  Bytes supporter_id;
  std::string purpose;  // confirm | unsubscribe
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  std::optional<std::int64_t> used_at;

  bool operator==(const LinkTokenRow&) const = default;
};

// A supporter's anti-phishing phrase, sealed under the record's data key.
struct PhraseRow {
  Bytes supporter_id;
  Bytes phrase_id;  // 16 random bytes, bound into the seal
  Bytes sealed;
  std::int64_t created_at = 0;

  bool operator==(const PhraseRow&) const = default;
};

// How many outbox messages are in each state.
struct OutboxCounts {
  std::int64_t queued = 0;
  std::int64_t sending = 0;
  std::int64_t sent = 0;
  std::int64_t failed = 0;
  std::int64_t dropped = 0;

  bool operator==(const OutboxCounts&) const = default;
};

// The outbox, the mailed links and the phrases, in a transaction only: what
// reads them either opens a record to mail it (audited in the same
// transaction) or acts on a link.
class MailPort {
 public:
  virtual ~MailPort();

  // Queues a message of `kind` for the supporter, due now, in `lang` ("en",
  // "fr", or "" for the instance's default); returns its id. Errc::not_found
  // if there is no such supporter, Errc::invalid_input for an unknown kind
  // or language.
  virtual Result<std::int64_t> enqueue_mail(const Bytes& supporter_id, const std::string& kind, std::int64_t now,
                                            const std::string& lang) = 0;
  // How many messages of `kind` were queued for the supporter at or after
  // `since`, whatever became of them.
  virtual Result<std::int64_t> mail_queued_since(const Bytes& supporter_id, const std::string& kind,
                                                 std::int64_t since) = 0;
  // Up to `limit` messages queued or sending whose next_at is at or before
  // `now`, soonest first.
  virtual Result<std::vector<OutboxRow>> due_mail(std::int64_t now, std::size_t limit) = 0;
  virtual Result<std::optional<OutboxRow>> mail_by_id(std::int64_t id) = 0;
  // Writes state, attempts, next_at, done_at and last_reply of `row.id`.
  // Errc::not_found if there is no such message (its record was erased).
  virtual Result<void> update_mail(const OutboxRow& row) = 0;
  virtual Result<OutboxCounts> outbox_counts() = 0;
  // The messages still to send (queued or being sent), read through the
  // partial index of what is due: cheap at any outbox size (/metrics).
  virtual Result<std::int64_t> outbox_pending() = 0;

  // Errc::conflict if the hash is taken, Errc::not_found if there is no
  // such supporter.
  virtual Result<void> insert_link_token(const LinkTokenRow& row) = 0;
  virtual Result<std::optional<LinkTokenRow>> link_token(const Bytes& hash) = 0;
  // Marks the token used at `now`; false if it was used already or is
  // unknown (nothing written).
  virtual Result<bool> use_link_token(const Bytes& hash, std::int64_t now) = 0;
  // Deletes tokens whose expires_at is at or before `now`; how many.
  virtual Result<std::int64_t> delete_expired_link_tokens(std::int64_t now) = 0;

  // Marks the supporter's given e-mail consent confirmed at `at`; false
  // (nothing written) if there is no consent to confirm, or it is
  // confirmed already.
  virtual Result<bool> confirm_email_consent(const Bytes& supporter_id, std::int64_t at) = 0;
  // When the supporter's e-mail consent was confirmed; nullopt if it is
  // not (or there is no such supporter).
  virtual Result<std::optional<std::int64_t>> email_confirmed_at(const Bytes& supporter_id) = 0;

  virtual Result<std::optional<PhraseRow>> phrase_of(const Bytes& supporter_id) = 0;
  // Errc::conflict if the supporter has a phrase already.
  virtual Result<void> insert_phrase(const PhraseRow& row) = 0;

 protected:
  MailPort() = default;
  MailPort(const MailPort&) = default;
  MailPort& operator=(const MailPort&) = default;
};

// A mailing (migration 0024, docs/mailings.md). Its text is the
// organisation's, not personal data; accounts are audit actors.
struct MailingRow {
  std::int64_t id = 0;  // assigned by the store
  std::string name;     // staff label
  std::string subject;  // template (services/mailings.hpp)
  std::string body;     // template
  std::string segment;  // saved segment name
  // Whose e-mail consent it needs: "confirmed" (double opt-in done),
  // "given" (also consents never confirmed, such as an import's) or
  // "notice" (none: a breach notification to named records).
  std::string audience = "confirmed";
  std::string lang = "en";  // rempart's own words in it (footer, notice): "en" | "fr"
  std::string state;    // draft | ready | approved | sending | paused | sent | cancelled
  std::int64_t recipients = 0;  // drawn (ready and after)
  std::string created_by;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::optional<std::int64_t> drawn_at = std::nullopt;
  std::optional<std::string> approved_by = std::nullopt;
  std::optional<std::int64_t> approved_at = std::nullopt;
  std::optional<std::int64_t> started_at = std::nullopt;
  std::optional<std::int64_t> finished_at = std::nullopt;

  bool operator==(const MailingRow&) const = default;
};

// How many recipients of a mailing are in each state.
struct MailingCounts {
  std::int64_t queued = 0;
  std::int64_t sending = 0;
  std::int64_t sent = 0;
  std::int64_t failed = 0;
  std::int64_t skipped = 0;
  // Of those sent: bounced, complained of, unsubscribed by its link (or
  // after it: an unsubscribe counts against the last mailing sent).
  std::int64_t bounced = 0;
  std::int64_t complained = 0;
  std::int64_t unsubscribed = 0;

  bool operator==(const MailingCounts&) const = default;
};

// A report read from the bounce mailbox about a record's address
// (migration 0025).
struct MailEventRow {
  Bytes supporter_id;
  std::string kind;  // hard_bounce | soft_bounce | complaint
  std::int64_t at = 0;
  std::optional<std::int64_t> mailing_id = std::nullopt;  // the mailing reported, when known
  Bytes report;  // keyed hash of the report's bytes: one event per report
};

// Mailings and their recipients, in a transaction only.
class MailingPort {
 public:
  virtual ~MailingPort();

  // Returns the new id (row.id is ignored).
  virtual Result<std::int64_t> insert_mailing(const MailingRow& row) = 0;
  virtual Result<std::optional<MailingRow>> mailing(std::int64_t id) = 0;
  // The newest `limit` mailings, newest first.
  virtual Result<std::vector<MailingRow>> mailings(std::size_t limit) = 0;
  // The oldest mailing being sent (state sending), or nullopt.
  virtual Result<std::optional<MailingRow>> oldest_sending_mailing() = 0;
  // Writes every column but id, created_by and created_at. Errc::not_found
  // if there is no such mailing.
  virtual Result<void> update_mailing(const MailingRow& row) = 0;

  // Adds the supporter to the mailing's recipients, queued, if it is
  // mailable now: an e-mail address, e-mail consent given (and confirmed
  // unless `audience` is "given"; no consent asked for "notice"), the
  // address not bouncing, not a honeytoken. False (nothing written) otherwise, or if it is a recipient
  // already.
  virtual Result<bool> add_mailing_recipient(std::int64_t mailing_id, const Bytes& supporter_id,
                                             const std::string& audience) = 0;
  // Up to `limit` recipients in `state`, by supporter id.
  virtual Result<std::vector<Bytes>> mailing_recipients(std::int64_t mailing_id, const std::string& state,
                                                        std::size_t limit) = 0;
  // Sets the recipient's state, batch, done_at and last_reply; false if it
  // is no recipient (erased meanwhile).
  virtual Result<bool> mark_mailing_recipient(std::int64_t mailing_id, const Bytes& supporter_id,
                                              const std::string& state, std::int64_t batch,
                                              std::optional<std::int64_t> done_at, int last_reply) = 0;
  // Forgets every recipient of the mailing (its draft changed: they are
  // drawn again); how many.
  virtual Result<std::int64_t> delete_mailing_recipients(std::int64_t mailing_id) = 0;
  // Every recipient in state `from` goes to `to`; how many.
  virtual Result<std::int64_t> move_mailing_recipients(std::int64_t mailing_id, const std::string& from,
                                                       const std::string& to) = 0;
  virtual Result<MailingCounts> mailing_counts(std::int64_t mailing_id) = 0;
  // Whether the supporter is mailable now (as add_mailing_recipient asks).
  virtual Result<bool> mailable(const Bytes& supporter_id, const std::string& audience) = 0;
  // Marks the supporter's address bouncing at `at`; false if there is no
  // such supporter or it is marked already.
  virtual Result<bool> mark_email_bouncing(const Bytes& supporter_id, std::int64_t at) = 0;

  // The account's sealed test address (migration 0026); nullopt when none.
  // Errc::not_found if there is no such account.
  virtual Result<std::optional<Bytes>> account_test_address(const Bytes& account_id) = 0;
  virtual Result<void> set_account_test_address(const Bytes& account_id, const std::optional<Bytes>& sealed) = 0;

  // Bounces and complaints (migration 0025).
  // False (nothing written) when an event of the same report is there already.
  virtual Result<bool> add_mail_event(const MailEventRow& row) = 0;
  // How many events of `kind` the supporter has since `since` (inclusive).
  virtual Result<std::int64_t> count_mail_events(const Bytes& supporter_id, const std::string& kind,
                                                 std::int64_t since) = 0;
  // Notes what became of a message sent to the supporter: `outcome` is
  // "bounced", "complained" or "unsubscribed"; `mailing_id` the mailing it
  // belonged to, or nullopt for the one last sent to them. The mailing
  // whose statistics it changed, or nullopt (not a sent recipient of it,
  // or noted already).
  virtual Result<std::optional<std::int64_t>> note_mailing_outcome(const Bytes& supporter_id,
                                                                   std::optional<std::int64_t> mailing_id,
                                                                   const std::string& outcome, std::int64_t at) = 0;

 protected:
  MailingPort() = default;
  MailingPort(const MailingPort&) = default;
  MailingPort& operator=(const MailingPort&) = default;
};

// ---- The breach register (docs/incident.md, migration 0029) --------------------

// One personal data breach as the organisation documents it (GDPR article
// 33(5)), notified to the supervisory authority or not. Counts and
// categories only: never a record id nor anything of a person. The free
// text (nature, measures_note, contact, the reasons) is the data
// protection officer's own, kept here and nowhere else (not in the audit
// log). Times are unix seconds.
struct BreachRow {
  std::int64_t id = 0;  // assigned by the store on insert
  std::int64_t recorded_at = 0;
  std::string recorded_by;  // audit actor
  std::int64_t updated_at = 0;
  // The window of the audit log examined: [since_at, until_at); no until:
  // up to recorded_at.
  std::int64_t since_at = 0;
  std::optional<std::int64_t> until_at = std::nullopt;
  std::string actor;  // the one actor examined, as the log writes it; "" for all
  std::int64_t aware_at = 0;  // when the organisation became aware: the 72 hours run from it
  std::string nature;
  std::int64_t people = 0;           // whose data was revealed or exported (decoys left out)
  std::int64_t people_masked = 0;    // seen masked only
  std::int64_t records = 0;          // records concerned (both of the above)
  std::int64_t values_revealed = 0;  // field values shown in full or exported
  std::string categories;    // JSON object: data category -> people
  std::string consequences;  // comma-joined codes (services/breach_report.hpp)
  std::string measures;      // JSON object: audit action -> entries, as the log showed them when recorded
  std::string measures_note;  // measures taken or planned that the log cannot show
  std::string contact;
  std::optional<std::string> not_notified_reason = std::nullopt;  // why the authority is not notified
  std::optional<std::int64_t> authority_notified_at = std::nullopt;
  std::optional<std::int64_t> people_notified_at = std::nullopt;
  std::optional<std::int64_t> closed_at = std::nullopt;
  std::optional<std::string> close_reason = std::nullopt;
  std::string state = "open";  // open | not_notified | notified | closed

  bool operator==(const BreachRow&) const = default;
};

class BreachReads {
 public:
  virtual ~BreachReads();

  virtual Result<std::optional<BreachRow>> find_breach(std::int64_t id) = 0;
  // The newest `limit` entries, newest first.
  virtual Result<std::vector<BreachRow>> breaches(std::size_t limit) = 0;

 protected:
  BreachReads() = default;
  BreachReads(const BreachReads&) = default;
  BreachReads& operator=(const BreachReads&) = default;
};

// The register's write side, in a transaction only (with the audit entry
// that says so). There is no delete: an entry is never taken out, and the
// keeper's database role may not delete one either.
class BreachWrites {
 public:
  virtual ~BreachWrites();

  // Returns the id assigned (row.id is ignored).
  virtual Result<std::int64_t> insert_breach(const BreachRow& row) = 0;
  // Writes updated_at, not_notified_reason, authority_notified_at,
  // people_notified_at, closed_at, close_reason and state of entry `row.id`;
  // what was recorded of the breach itself stays as it was. Errc::not_found
  // if there is no such entry.
  virtual Result<void> update_breach(const BreachRow& row) = 0;

 protected:
  BreachWrites() = default;
  BreachWrites(const BreachWrites&) = default;
  BreachWrites& operator=(const BreachWrites&) = default;
};

// Every port inside one open keeper transaction.
class KeeperTx : public SupporterReads,
                 public SupporterWrites,
                 public FoldLedger,
                 public AuditReads,
                 public AuditWrites,
                 public AccountPort,
                 public GuardReads,
                 public GuardWrites,
                 public ExportReads,
                 public ExportWrites,
                 public NotePort,
                 public ErasurePort,
                 public SegmentReads,
                 public SegmentWrites,
                 public CallListPort,
                 public MailPort,
                 public MailingPort,
                 public KeyVersionPort,
                 public BreachReads,
                 public BreachWrites {
 public:
  ~KeeperTx() override;

  // True when the backend asks this transaction to end early: others wait
  // to write and would wait for all of it (a backend whose writers do not
  // queue behind one lock always answers false). A long transaction may
  // commit what it did, call KeeperStore::make_way, and carry on in a new one.
  virtual bool yield_requested() const = 0;

  // Where the inbox lives in the keeper's own database (PostgreSQL), a fold
  // takes its items inside its transaction: claim_inbox returns up to
  // `limit` of the oldest items that no other transaction holds, of
  // batches sealed with a key version in `versions` (those the keeper
  // holds: a batch of another version waits for a keeper that has it),
  // locked until this one ends (another keeper skips them), and delete_inbox
  // deletes them, and the batches no item refers to any more, in it: an
  // item is folded and deleted in one commit, by one keeper, whichever
  // keeper dies when. Backends whose inbox is a store of its own (SQLite)
  // answer false, and Errc::internal to the others.
  virtual bool claims_inbox() const { return false; }
  struct KeyVersions {
    std::uint32_t first = 0;
    std::uint32_t last = 0;
  };
  virtual Result<std::vector<InboxRow>> claim_inbox(std::size_t limit, KeyVersions versions);
  virtual Result<std::optional<BatchRow>> inbox_batch(const Bytes& uid);
  virtual Result<std::int64_t> delete_inbox(std::span<const std::int64_t> ids, std::span<const Bytes> batches);

 protected:
  KeeperTx() = default;
  KeeperTx(const KeeperTx&) = default;
  KeeperTx& operator=(const KeeperTx&) = default;
};

// The keeper role's store: the read ports outside a transaction, and
// transactions for everything else.
class KeeperStore : public SupporterReads,
                    public AuditReads,
                    public GuardReads,
                    public ExportReads,
                    public SegmentReads,
                    public BreachReads {
 public:
  ~KeeperStore() override;

  // Runs `fn` inside one write transaction. Commits if `fn` succeeds; the
  // commit is durable when this returns. Rolls back if `fn` returns an error
  // (which is then returned unchanged) or throws (the exception propagates
  // after the rollback). Returns Errc::busy if the database stayed locked,
  // Errc::storage if begin or commit failed, and Errc::internal if called
  // from inside `fn`. Transactions that append to the audit log are
  // serialised (AuditWrites).
  virtual Result<void> transact(const std::function<Result<void>(KeeperTx&)>& fn) = 0;

  // transact() for a fold pass, whose writes all come after its first
  // audit_head (the chain's tail it appends to): a backend may let such
  // transactions claim and read in parallel and serialise them from there.
  // By default, transact().
  virtual Result<void> transact_fold(const std::function<Result<void>(KeeperTx&)>& fn) { return transact(fn); }

  // Called after a transaction ended early because KeeperTx::yield_requested
  // said so: returns once the writers that waited have had their turn, or
  // after a short bound; at once where writers do not queue.
  virtual void make_way() = 0;

  // Runs `fn` inside one read transaction: the reads it makes through this
  // store's own methods see one consistent snapshot (a lookup reads a
  // supporter and its tags). `fn` gets no KeeperTx: it cannot write, and a
  // transact() inside it fails with Errc::internal. Inside a transact
  // callback, `fn` simply runs in that transaction. Returns `fn`'s error
  // unchanged, or Errc::busy / Errc::storage from the store.
  virtual Result<void> snapshot(const std::function<Result<void>()>& fn) = 0;

  // After an erasure: makes the backend's files stop holding what was
  // deleted (SQLite: a TRUNCATE checkpoint of the WAL, the deleted pages
  // having been zeroed by secure_delete). True when done in full; false
  // when a reader kept part of it back (the next checkpoint finishes it).
  // Outside a transaction only.
  virtual Result<bool> flush_deleted() = 0;

  // Whether this store's transactions claim inbox items (KeeperTx::claim_inbox).
  virtual bool claims_inbox() const { return false; }

  // Whether this store's keeper is, for now, the one of the keepers sharing
  // the database that sends the mail (supporter mail and mailings: a batch
  // another keeper has in flight must not be taken for one a crash left).
  // Asked before each pass; the lead lasts as long as the store's
  // connection, and passes to the next keeper that asks once it ends. Where
  // one keeper is all there can be (SQLite): true.
  virtual Result<bool> lead_mail() { return true; }

 protected:
  KeeperStore() = default;
  KeeperStore(const KeeperStore&) = default;
  KeeperStore& operator=(const KeeperStore&) = default;
};

}  // namespace rempart::store
