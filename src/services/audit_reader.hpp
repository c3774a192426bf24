#pragma once
// What the auditor's console page shows (docs/console.md, `GET /audit`):
// the chain verified (through an audit::ChainWatch: what was appended since
// the last verification, or the whole chain), the newest matching entries,
// the blast radius of one actor, and the reading itself recorded as an
// `audit.query` entry.
// The console only parses the filter and renders the result.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "audit/blast_radius.hpp"
#include "audit/chain_watch.hpp"
#include "audit/verify.hpp"
#include "core/error.hpp"
#include "crypto/keyring.hpp"
#include "services/directory.hpp"
#include "store/store.hpp"

namespace rempart::services {

// Entries a reading returns at most (the newest that match).
inline constexpr std::size_t kAuditReadEntries = 100;

// The filter as given, passed to KeeperStore::scan_audit_filtered; empty
// strings do not filter.
struct AuditReadFilter {
  std::string actor;   // also whose blast radius is shown
  std::string action;
};

struct AuditReading {
  audit::VerifyReport verify;
  std::int64_t whole_at_us = 0;               // last whole verification without a fault (0: none)
  std::vector<store::AuditEntryRow> entries;  // newest first, at most kAuditReadEntries
  std::optional<audit::BlastRadius> blast;    // when the filter names an actor
  std::string blast_summary;                  // audit::summary(*blast), or ""
};

// Verifies the chain through `watch` (every entry when `whole`; against
// `checkpoint_file` too unless it is empty), reads the newest
// kAuditReadEntries entries matching `filter`, the blast radius of
// `filter.actor` when one is given, then commits one `audit.query` entry by
// `asker.actor` from `asker.client` (details: the filter, how many entries
// are shown, and `whole` when the whole chain was asked for). Any error ends
// the reading and is returned as it comes from the store or the audit layer;
// a chain that does not verify is not an error (see `verify.faults`).
// Thread-compatible: `store` is used from this thread; `watch` is shared.
Result<AuditReading> read_audit(store::KeeperStore& store, const crypto::KeeperKeyring& keys,
                                audit::ChainWatch& watch, const AuditReadFilter& filter,
                                const std::string& checkpoint_file, bool whole, const Asker& asker);

}  // namespace rempart::services
