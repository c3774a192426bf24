#pragma once
// The hash chain of the audit log (docs/audit.md). Each entry carries the
// hash of the one before it, a BLAKE2b hash over an unambiguous encoding of
// all its fields, and a keyed BLAKE2b MAC of that hash under the audit MAC
// key; any edit, deletion, insertion or reordering breaks the chain, and
// rebuilding it needs the key.
//
// Entries never hold personal data: the subject is a record id in hex, the
// details a JSON object of names and counts chosen by the caller.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "crypto/audit_keys.hpp"
#include "crypto/keyring.hpp"
#include "store/store.hpp"

namespace rempart::audit {

inline constexpr std::size_t kDigestSize = 32;
using Digest = std::array<std::uint8_t, kDigestSize>;

// Stable action names. New ones are added, never renamed: queries, reports
// and other tools match on them.
namespace action {
inline constexpr std::string_view supporter_create = "supporter.create";
inline constexpr std::string_view supporter_merge = "supporter.merge";
inline constexpr std::string_view supporter_unchanged = "supporter.unchanged";  // a sign-up of a known person, nothing new
inline constexpr std::string_view supporter_reveal = "supporter.reveal";        // personal data shown in full
inline constexpr std::string_view supporter_export = "supporter.export";        // personal data written out in bulk
inline constexpr std::string_view supporter_list = "supporter.list";            // records shown masked
inline constexpr std::string_view supporter_lookup_miss = "supporter.lookup_miss";
// Records opened inside the keeper to move data, shown to nobody (details:
// "records", "purpose"): e.g. the real records whose shape honeytokens copy.
inline constexpr std::string_view supporter_sample = "supporter.sample";
inline constexpr std::string_view supporter_tag = "supporter.tag";                  // tags added to or removed from a record
// The record page's writes (docs/console.md, "The record page"): fields
// corrected (names of fields, reason), a consent withdrawn for the person,
// a note or contact written (its kind), notes opened for a person to read,
// a record erased on the person's request (reason kind only).
inline constexpr std::string_view supporter_edit = "supporter.edit";
inline constexpr std::string_view supporter_consent = "supporter.consent";
inline constexpr std::string_view supporter_note = "supporter.note";
inline constexpr std::string_view supporter_notes_read = "supporter.notes_read";
inline constexpr std::string_view supporter_erase = "supporter.erase";
inline constexpr std::string_view supporter_tag_bulk = "supporter.tag_bulk";  // one tag for a chunk of a segment's members
inline constexpr std::string_view tag_rename = "tag.rename";                // a tag renamed on every record
inline constexpr std::string_view tag_merge = "tag.merge";                  // a tag merged into another on every record
inline constexpr std::string_view segment_save = "segment.save";            // a segment saved (created or changed)
inline constexpr std::string_view segment_delete = "segment.delete";
// Call lists (docs/console.md, "Call lists"): a list made from a segment
// (name, segment, callers, size, window), closed; a call's outcome (list,
// entry, outcome; the contact itself is a supporter.note, the opening a
// supporter.reveal "by": "call_list").
inline constexpr std::string_view call_list_create = "call_list.create";
inline constexpr std::string_view call_list_close = "call_list.close";
inline constexpr std::string_view call_outcome = "call.outcome";
inline constexpr std::string_view intake_reject = "intake.reject";              // a submission dropped on folding
inline constexpr std::string_view import_run = "import.run";
inline constexpr std::string_view synth_run = "synth.run";
inline constexpr std::string_view search_index = "search.index";          // records opened to compute their search tokens (count only)
inline constexpr std::string_view audit_query = "audit.query";
inline constexpr std::string_view audit_blast_radius = "audit.blast_radius";
inline constexpr std::string_view service_start = "service.start";
inline constexpr std::string_view service_stop = "service.stop";
inline constexpr std::string_view keys_rotate = "keys.rotate";      // a new key version made current (docs/key-custody.md)
inline constexpr std::string_view keys_retire = "keys.retire";      // a key version's secrets dropped from the keyring
inline constexpr std::string_view keys_rewrap = "keys.rewrap";      // records' data keys moved to the current version: counts only
inline constexpr std::string_view guard_lock = "guard.lock";                  // the exfiltration guard locked an actor
inline constexpr std::string_view honeytoken_plant = "honeytoken.plant";      // decoy records planted (count only)
inline constexpr std::string_view export_request = "export.request";          // a bulk export asked for (docs/exports.md)
inline constexpr std::string_view export_approve = "export.approve";          // a second person approved it; file built
inline constexpr std::string_view export_approve_refused = "export.approve_refused";  // approval refused (bad code)
inline constexpr std::string_view export_expire = "export.expire";            // a pending request ran out of time
inline constexpr std::string_view export_download = "export.download";        // the sealed file handed to its requester
inline constexpr std::string_view canary_trace = "canary.trace";              // a leaked value checked against canaries
inline constexpr std::string_view supporter_mail = "supporter.mail";              // a record opened to mail the person (outbox)
inline constexpr std::string_view supporter_confirm = "supporter.confirm";        // e-mail consent confirmed by a mailed link
inline constexpr std::string_view supporter_unsubscribe = "supporter.unsubscribe";  // e-mail consent withdrawn by a mailed link
inline constexpr std::string_view supporter_suppressed = "supporter.suppressed";  // an import row of a person who asked to be erased, skipped
inline constexpr std::string_view supporter_self_service = "supporter.self_service";  // a step of a self-service link (export, withdraw)
inline constexpr std::string_view self_service_request = "self_service.request";  // a self-service link asked for an address
inline constexpr std::string_view supporter_retention = "supporter.retention";  // a record erased or its phone dropped by a retention policy
inline constexpr std::string_view retention_run = "retention.run";              // a retention run's counts
inline constexpr std::string_view link_refused = "link.refused";                  // a mailed link's token unknown, expired or used
inline constexpr std::string_view mailing_create = "mailing.create";      // a mailing written (docs/mailings.md)
inline constexpr std::string_view mailing_edit = "mailing.edit";          // its text or segment changed (draft only)
inline constexpr std::string_view mailing_draw = "mailing.draw";          // its recipients drawn: the count people approve
inline constexpr std::string_view mailing_approve = "mailing.approve";    // a second person approved it
inline constexpr std::string_view mailing_start = "mailing.start";        // sending begun
inline constexpr std::string_view mailing_pause = "mailing.pause";
inline constexpr std::string_view mailing_resume = "mailing.resume";
inline constexpr std::string_view mailing_cancel = "mailing.cancel";
inline constexpr std::string_view mailing_batch = "mailing.batch";        // records opened to send one batch: their ids
inline constexpr std::string_view mailing_sent = "mailing.sent";          // every recipient's turn has come: the counts
inline constexpr std::string_view mailing_test = "mailing.test";          // a test send to its author's own address
inline constexpr std::string_view account_test_address = "account.test_address";  // an account's test address set or cleared
inline constexpr std::string_view mail_report = "mail.report";            // a bounce or complaint about a record's address, counted
// Backups (docs/operations.md, "Backups"): a copy of the data directory
// taken (its files), and a copy restored into a new data directory: the
// restored log's first entry, which names the backup's head (backup_manifest.hpp).
inline constexpr std::string_view backup_create = "backup.create";
inline constexpr std::string_view backup_restore = "backup.restore";
// The breach register (GDPR article 33(5); docs/incident.md): an entry
// recorded, and brought up to date (notified, not notified, closed). Ids,
// counts and states only: the officer's own words stay in the register.
inline constexpr std::string_view breach_record = "breach.record";
inline constexpr std::string_view breach_update = "breach.update";
}  // namespace action

// Who acts. "keeper" for the folding service, "operator:<unix user>" for the
// CLI, later "account:<id>" and "token:<id>".
inline constexpr std::string_view kKeeperActor = "keeper";
// The person, acting through a link mailed to them (self-service).
inline constexpr std::string_view kSupporterActor = "supporter";

struct Event {
  std::string actor;
  std::string action;
  std::string subject;  // record id in hex, or empty
  nlohmann::json details = nlohmann::json::object();  // an object (null reads as {}); no personal data
  std::string client;   // client address, or empty
};

// Record ids as the log and reports spell them.
std::string to_hex(std::span<const std::uint8_t> bytes);

// The canonical encoding hashed for `row`: every field length-prefixed (u32
// big-endian) after a domain label, so no two different entries encode
// alike. Appends to `out` (cleared first), so a caller can reuse the buffer.
void encode_entry(const store::AuditEntryRow& row, std::string& out);
// BLAKE2b-256 of the encoding; `scratch` is reused between calls.
Digest entry_hash(const store::AuditEntryRow& row, std::string& scratch);
// The MAC of an entry: `mac` (keyed BLAKE2b-256) over a domain label and the
// entry hash.
Digest entry_mac(const crypto::AuditMac& mac, std::span<const std::uint8_t> hash);
// Whether `tag` is the entry MAC of `hash`; constant time.
bool entry_mac_valid(const crypto::AuditMac& mac, std::span<const std::uint8_t> hash,
                     std::span<const std::uint8_t> tag);

// Appends entries inside one keeper transaction. It reads the chain head
// once, in that transaction: the write lock (BEGIN IMMEDIATE) is held from
// that read to the commit, so two writers — the keeper's fold loop and a CLI
// process — never link to the same head. Valid only during the transact call
// that handed out `tx`; not thread-safe. `keys` must outlive it.
class Appender {
 public:
  static Result<Appender> begin(store::KeeperTx& tx, const crypto::KeeperKeyring& keys);

  // Appends `e` at `at_us` (unix microseconds) and returns its seq.
  // Errc::invalid_input if details is not an object or actor/action is
  // empty; store errors otherwise (the caller returns them to roll back).
  Result<std::int64_t> append(const Event& e, std::int64_t at_us);

  std::int64_t head_seq() const noexcept { return seq_; }

 private:
  Appender(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, std::int64_t seq, const store::Bytes& head);
  store::KeeperTx* tx_;
  const crypto::KeeperKeyring* keys_;
  std::int64_t seq_;
  store::Bytes prev_;
  store::AuditEntryRow row_;  // reused buffers
  std::string scratch_;
};

// One entry in its own Appender: for callers that write a single entry.
Result<std::int64_t> record(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const Event& e);

// Unix microseconds now.
std::int64_t now_us();

}  // namespace rempart::audit
