#pragma once
// What changed in a window of the audit log: `rempart incident changes`
// (docs/incident.md). Every entry that leaves something behind after it
// (an account, a role, a token, a budget, a key version, a configuration
// or a schema, an export, a mailing, a segment or a tag, a lock, a bulk
// run, a backup or a restore, a lockdown) becomes one line of text, under
// its kind. Reads, reveals, sign-ins, the work on single records and the
// keeper's routine are not changes: they are counted by action and not
// listed.
//
// The text is built from the details' fields this file knows, one by one:
// never the details as a whole, and no free text typed as a reason. Details
// hold no personal data to begin with (docs/audit.md); what is printed is
// staff account names, labels and names the organisation gave (tokens,
// segments, tags, mailings), ids, counts and times.
//
// Pure: no store, no clock. The caller reads the entries and feeds them.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.hpp"

namespace rempart::audit {

enum class ChangeKind : std::uint8_t {
  accounts,       // created, disabled, enabled, reset, unlocked, enrolled, passwords, authenticators
  roles,          // an account's role
  tokens,         // API tokens made or revoked
  budgets,        // a raised reveal or list budget
  keys,           // key versions rotated, retired, records moved to one
  configuration,  // a service started with another configuration or binary
  schema,         // a service started on another schema version
  exports,        // bulk exports asked for, approved, refused, expired, downloaded
  mailings,       // mailings written, drawn, approved, started, paused, cancelled
  segments,       // segments, tags on many records, call lists
  guard,          // actors locked by the guard, honeytokens planted
  data,           // bulk runs: imports, synthetic fills, retention
  audit,          // backups taken, restores
  lockdown,       // `incident.*` (lockdowns, releases) and the breach register
  unknown,        // an action this version of rempart does not know
};

// Every kind, in the order a report lists them.
std::span<const ChangeKind> change_kinds() noexcept;
// A stable name: "accounts", "roles", …, "unknown" (jsonl's `kind`).
std::string_view change_kind_name(ChangeKind k) noexcept;
// A heading for a person: "Accounts", "Audit log: backups and restores", …
std::string_view change_kind_title(ChangeKind k) noexcept;

// What an action is to the report.
enum class ActionClass : std::uint8_t {
  change,        // listed under its kind
  not_a_change,  // deliberately not listed: reads, reveals, sign-ins, single records, routine
  unknown,       // not known to this version: listed under ChangeKind::unknown
};
struct ActionClassification {
  ActionClass cls = ActionClass::unknown;
  ChangeKind kind = ChangeKind::unknown;
};
// Every action name the code writes is either a change of some kind or
// deliberately not one (changes_test.cpp walks them all); any `incident.*`
// is a change of kind lockdown.
ActionClassification classify_action(std::string_view action) noexcept;

// What the last `service.start` of a role (the details' `role`) said.
struct ServiceStart {
  std::int64_t seq = 0;
  std::int64_t at_us = 0;
  std::string config;                  // config_blake2b, "" when absent
  std::optional<std::int64_t> schema;  // schema_version, when recorded
  std::string version;                 // the binary's version
  std::optional<bool> checkpoint_file;
  std::optional<bool> checkpoint_syslog;
  std::optional<std::int64_t> verify_seconds;
};
using ServiceStarts = std::map<std::string, ServiceStart>;
// Folds a `service.start` entry into `starts` (other entries: nothing).
void note_service_start(const store::AuditEntryRow& e, ServiceStarts& starts);

// Account names by actor (`account:<hex id>` -> name), as
// services::account_names gives them.
using ActorNames = std::map<std::string, std::string>;

// One line of a report.
struct Change {
  ChangeKind kind = ChangeKind::unknown;
  std::int64_t seq = 0;  // the (first) entry
  std::int64_t at_us = 0;
  std::string actor;         // as the log writes it
  std::string action;        // printable ASCII
  std::string what;          // one line of printable ASCII
  std::int64_t entries = 1;  // entries folded into this line (keys.rewrap, supporter.tag_bulk)
  std::int64_t last_seq = 0;
  std::int64_t last_at_us = 0;
};

// The lines one entry makes on its own: none when it is not a change (or a
// `service.start` that changed nothing against `starts`, the earlier starts:
// read, not updated), two for a start that changed both configuration and
// schema, one otherwise. A details text that is no JSON object reads as {}.
std::vector<Change> describe_change(const store::AuditEntryRow& e, const ServiceStarts& starts,
                                    const ActorNames& names);

// Lines kept in memory at most; the rest are counted only.
inline constexpr std::size_t kMaxListedChanges = 20000;

// A report built entry by entry: first the `service.start` entries before
// the window (before()), then every entry of the window in seq order
// (add()). Lines of keys.rewrap (to one version) and of supporter.tag_bulk
// (one tag, one segment, one way) are folded into one, with their counts
// summed. Memory: the lines (at most max_listed) and the counts, never the
// entries. Thread-compatible.
class ChangeReport {
 public:
  explicit ChangeReport(ActorNames names, std::size_t max_listed = kMaxListedChanges);

  void before(const store::AuditEntryRow& e);
  void add(const store::AuditEntryRow& e);

  // By seq of their first entry.
  const std::vector<Change>& changes() const noexcept { return changes_; }
  // Lines of kind `k`, listed or past max_listed.
  std::size_t count(ChangeKind k) const noexcept { return counts_[static_cast<std::size_t>(k)]; }
  std::size_t total() const noexcept;
  // Lines past max_listed: counted, not kept.
  std::size_t unlisted() const noexcept { return unlisted_; }
  // Entries of the window read.
  std::int64_t entries() const noexcept { return entries_; }
  // Entries of the window that made no line, by action: the actions that
  // are not changes, and starts that changed nothing (a known, short list).
  const std::map<std::string, std::int64_t>& not_listed() const noexcept { return not_listed_; }
  const ActorNames& names() const noexcept { return names_; }

 private:
  struct Fold {
    std::size_t index = 0;  // into changes_
    std::int64_t amount = 0;
    std::string before, after;  // the line is before + amount + after
  };
  void keep(Change c);
  void count_not_listed(const std::string& action);

  ActorNames names_;
  std::size_t max_listed_;
  ServiceStarts starts_;
  std::vector<Change> changes_;
  std::map<std::string, Fold> folds_;
  std::size_t counts_[static_cast<std::size_t>(ChangeKind::unknown) + 1] = {};
  std::size_t unlisted_ = 0;
  std::int64_t entries_ = 0;
  std::map<std::string, std::int64_t> not_listed_;
};

}  // namespace rempart::audit
