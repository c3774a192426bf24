#pragma once
// What the auditor's console page shows (docs/console.md, `GET /audit`):
// the chain verified (through an audit::ChainWatch: what was appended since
// the last verification, or the whole chain), the newest matching entries,
// the blast radius of one actor, and the reading itself recorded as an
// `audit.query` entry.
// The console only parses the filter and renders the result.
//
// An actor filter names whom it means in either form: as the log writes the
// actor (`account:<id>`, `token:<n>`, `operator:<user>`: any text with a
// colon, and the two bare actors `keeper` and `anonymous`), or by an
// account's name, which is looked up (resolve_audit_actor).
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
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

// The internal messages of the two refusals of an actor filter (Errc::
// invalid_input), fixed texts that callers may tell apart; neither carries
// the text given.
inline constexpr std::string_view kAuditActorUnknown = "audit filter: no account has that name";
inline constexpr std::string_view kAuditActorInvalid = "audit filter: neither an actor nor an account name";

// The actor of a sign-in that names no account (docs/accounts.md).
inline constexpr std::string_view kAnonymousActor = "anonymous";

// Longest actor filter accepted (an account name is at most 64 bytes).
inline constexpr std::size_t kAuditActorMax = 100;

// The actor `given` names, as the log writes it: "" for "" (no filter);
// `given` itself when it holds a colon or is `keeper` or `anonymous`; otherwise
// `account:<id>` of the account whose name it is. Errors: Errc::invalid_input
// with kAuditActorInvalid when `given` is longer than kAuditActorMax, holds a
// control character, or is no valid account name (auth::valid_account_name);
// with kAuditActorUnknown when no account has that name; a store error as it
// comes. Reads only. An account named `keeper` or `anonymous` is filtered by
// its id form.
Result<std::string> resolve_audit_actor(store::KeeperStore& store, std::string_view given);

// Every account's name by its actor (`account:<hex id>` -> name). Reads only.
// Account names are staff names, not supporter data.
Result<std::map<std::string, std::string>> account_names(store::KeeperStore& store);

// The filter as given; empty strings do not filter. `actor` in either form
// above; the store is asked for the actor it resolves to.
struct AuditReadFilter {
  std::string actor;   // also whose blast radius is shown
  std::string action;
};

struct AuditReading {
  std::string actor;                          // the filter's actor as the log writes it, or ""
  std::map<std::string, std::string> names;   // account_names(): entries' actors shown by name
  audit::VerifyReport verify;
  std::int64_t whole_at_us = 0;               // last whole verification without a fault (0: none)
  std::vector<store::AuditEntryRow> entries;  // newest first, at most kAuditReadEntries
  std::optional<audit::BlastRadius> blast;    // when the filter names an actor
  std::string blast_summary;                  // audit::summary(*blast), or ""
};

// Resolves `filter.actor` (resolve_audit_actor; a malformed or unknown one
// ends the reading with that error before anything is verified, read or
// recorded), verifies the chain through `watch` (every entry when `whole`;
// against `checkpoint_file` too unless it is empty), reads the newest
// kAuditReadEntries entries matching the filter, the blast radius of its
// actor when one is given, then commits one `audit.query` entry by
// `asker.actor` from `asker.client` (details: `filter_actor` as resolved,
// `filter_account` when it was given by name, `filter_action`, how many
// entries are `shown`, and `whole` when the whole chain was asked for). Any
// other error ends the reading and is returned as it comes from the store or
// the audit layer; a chain that does not verify is not an error (see
// `verify.faults`).
// Thread-compatible: `store` is used from this thread; `watch` is shared.
Result<AuditReading> read_audit(store::KeeperStore& store, const crypto::KeeperKeyring& keys,
                                audit::ChainWatch& watch, const AuditReadFilter& filter,
                                const std::string& checkpoint_file, bool whole, const Asker& asker);

}  // namespace rempart::services
