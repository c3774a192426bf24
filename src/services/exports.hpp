#pragma once
// Two-person bulk exports (docs/exports.md): the only way to take many
// supporter records out of rempart at once.
//
// An organiser asks (request), another account approves with a fresh TOTP
// code (approve); only then is the file built, inside the keeper, from every
// real supporter matching the tag or belonging to the saved segment
// (services/segments.hpp; honeytokens are left out), with a few
// made-up canary rows at random places so that a leaked copy names its
// export, requester and approver (trace_canary). The CSV never touches
// disk in the clear: it is sealed to the requester's export public key
// (auth::Enrolment::export_secret_key holds the only copy of the secret) and
// only the requester may download the sealed file; it is opened offline
// (decrypt_export, `rempart export decrypt`).
//
// Audit (same transaction as the change; ids, field kind names, tags and
// reasons only, never a value): `export.request`, `export.approve`,
// `export.approve_refused`, `export.expire`, `export.download`, and at
// approval one `supporter.export` entry, actor the requester (who receives
// the data), details {"records": [every real record id], "export": id,
// "fields": [kind names], "approver": actor} that blast-radius reads.
//
// Thread-compatible: an Exports uses one KeeperStore, which belongs to one
// thread at a time. Open one per worker thread.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/accounts.hpp"
#include "core/error.hpp"
#include "crypto/keyring.hpp"
#include "services/directory.hpp"
#include "services/vault.hpp"
#include "store/store.hpp"

namespace rempart::services {

struct ExportOptions {
  // Where sealed files are written (<id>.rmpx, mode 0600); created 0700 at
  // the first approval if missing. The lead sets it to data_dir/exports;
  // empty: approvals fail with Errc::config.
  std::filesystem::path dir;
  std::string canary_domain = "canary.rempart.invalid";  // e-mail domain of canary rows
  std::size_t canaries = 3;                              // canary rows per file (0..100)
  std::int64_t ttl_seconds = 86400;                      // a request not approved by then expires
  std::function<std::int64_t()> clock = auth::system_now;  // unix seconds; injected by tests
};

struct ExportRequest {
  std::int64_t id = 0;
  std::string requester_id;  // hex
  std::string requester;     // account name
  std::string tag;           // "" for every supporter, or when by segment
  std::string segment;       // the saved segment's name; "" when by tag
  std::vector<FieldKind> fields;
  std::string reason;
  std::string status;  // pending | approved | expired | downloaded
  std::int64_t created_at = 0, expires_at = 0;
  std::string approver;  // account name, "" until approved
  std::optional<std::int64_t> approved_at;
  std::int64_t rows = 0;  // real rows written (canaries not counted)
};

class Exports {
 public:
  // `store` and `vault` must outlive the object. Records are opened by
  // Vault::open_for_export only.
  Exports(store::KeeperStore& store, const Vault& vault, ExportOptions options);

  // Records a pending request by account `requester_id_hex` for `fields`
  // (1..4 kinds, no repeats) of every supporter with `tag`, or of the
  // members of the saved segment named `segment` (at most one of the two;
  // neither: every supporter), for `reason` (1..200 bytes, no control
  // characters, no personal data). Audit `export.request` {"export",
  // "tag", "fields", "reason"}, and with a segment "segment" and its
  // "definition" as it stands. Returns the request id. Errc::invalid_input
  // for bad arguments (a tag and a segment together included) or a
  // requester without an export key (made before exports existed: reset
  // its MFA), Errc::not_found for an unknown requester or segment.
  Result<std::int64_t> request(const Asker& who, const std::string& requester_id_hex, std::string_view tag,
                               const std::vector<FieldKind>& fields, std::string_view reason,
                               std::string_view segment = "");

  // Requests, newest first; of one requester, or all with "".
  Result<std::vector<ExportRequest>> list(const std::string& requester_id_hex);

  // The second person's approval; builds and writes the sealed file.
  // Errc::not_found (no such request), Errc::permission when the approver
  // is the requester (nothing checked or written), Errc::conflict when the
  // request is not pending, or has expired (it is then marked expired,
  // audited `export.expire`). `totp_code` is checked by
  // accounts.check_second_factor (which audits `mfa.check` and counts
  // failures); a wrong or replayed code gives Errc::permission after an
  // `export.approve_refused` entry. On success the file <dir>/<id>.rmpx is
  // in place (written atomically, 0600) once this returns, and the request
  // row, the canaries and the audit entries are committed together; if the
  // commit fails the file is removed. Records that do not open fail the
  // whole call (Errc::crypto). A request by segment takes the segment's
  // members at approval; if the segment was deleted or changed since the
  // request, Errc::conflict and nothing is written (the approver approves
  // what was asked for: ask again).
  Result<ExportRequest> approve(const Asker& who, const std::string& approver_id_hex, std::int64_t id,
                                auth::AccountService& accounts, std::string_view totp_code);

  // The sealed file of an approved request, for its requester only
  // (Errc::permission otherwise; Errc::conflict while not approved;
  // Errc::not_found for no such request; Errc::io if the file is gone).
  // Audit `export.download` {"export"}; the status becomes downloaded.
  // The bytes are ciphertext: only the requester's export secret key opens
  // them.
  Result<std::string> download(const Asker& who, const std::string& account_id_hex, std::int64_t id);

 private:
  store::KeeperStore* store_;
  const Vault* vault_;
  const crypto::KeeperKeyring* keys_;  // the vault's: sealing canaries, blind indexes, audit entries
  ExportOptions opt_;
};

// Opens a sealed export file with the requester's export secret key text
// ("rmpx1_…", surrounding whitespace ignored). Returns the CSV; personal
// data: write it only where the caller chose. Errc::invalid_input for a
// malformed key text or a file that is not an export, Errc::crypto for a
// wrong key or any change to the file (truncation included). Needs no
// keyring or database. Thread-safe.
Result<std::string> decrypt_export(std::span<const std::uint8_t> file, std::string_view secret_key_text);

struct CanaryTrace {
  std::int64_t export_id = 0;
  std::string requester, approver;  // account names
  std::int64_t approved_at = 0;
  std::string kind;  // email | phone
};

// Whether `value` (an e-mail address or a phone number as found in a
// leak; a phone without a country code is read in `default_region`) is a
// canary of some export, and which. nullopt if not (or not a valid e-mail
// or phone). Not audited here: the caller records `canary.trace`.
Result<std::optional<CanaryTrace>> trace_canary(store::KeeperStore& store, const crypto::KeeperKeyring& keys,
                                                std::string_view value, std::string_view default_region);

}  // namespace rempart::services
