#pragma once
// Who may do what: the one table every entry point (console, API, CLI) asks.
// Adding an action means adding a row here and a column in roles_test.cpp.
#include <optional>
#include <string_view>

namespace rempart::auth {

enum class Role { viewer, organiser, admin, auditor };

enum class Action {
  list_masked,      // lists of supporters, masked
  search,           // search by exact e-mail or phone (blind index), masked results
  reveal,           // see a full field (audited, within quotas)
  tags,             // add/remove tags
  manage_accounts,  // request account changes (create, role, unlock, reset MFA, budget); disable, enable; end sessions
  approve_privilege,  // second person of a privilege change (docs/accounts.md)
  manage_tokens,    // create, list, revoke API tokens
  request_export,   // ask for a bulk export (approved by another admin)
  approve_export,   // second person of the two-person export rule
  read_audit,       // read the audit log
  submit_intake,    // post sign-ups (API tokens of scope intake only)
  edit_record,      // correct a supporter's field without seeing it (with a reason)
  withdraw_consent, // withdraw a supporter's consent on their behalf
  write_note,       // add a note or contact to a supporter's record
  read_notes,       // read a supporter's notes and contact history (audited)
  erase_record,     // erase a supporter's record on their request (irreversible)
  count_segments,   // see saved segments and how many supporters match one (aggregates only)
  manage_segments,  // save, change and delete segments
  bulk_tags,        // add or remove a tag for every member of a segment; rename and merge tags
  manage_call_lists,  // make call lists from segments, assign callers, follow and close them
  make_calls,       // work through one's own share of a call list (name and phone, one at a time)
  write_mailings,   // write mailings to segments, draw their recipients, start, pause, cancel them (counts only)
  approve_mailings, // see the mailings and their progress; be the second person of a large one
  read_metrics,     // scrape /metrics (counts only; API tokens of scope metrics, or a loopback peer)
};

inline constexpr Action kAllActions[] = {Action::list_masked,    Action::search,         Action::reveal,
                                         Action::tags,           Action::manage_accounts, Action::approve_privilege,
                                         Action::manage_tokens,
                                         Action::request_export, Action::approve_export, Action::read_audit,
                                         Action::submit_intake,  Action::edit_record,    Action::withdraw_consent,
                                         Action::write_note,     Action::read_notes,     Action::erase_record,
                                         Action::count_segments, Action::manage_segments, Action::bulk_tags,
                                         Action::manage_call_lists, Action::make_calls,
                                         Action::write_mailings, Action::approve_mailings,
                                         Action::read_metrics};
inline constexpr Role kAllRoles[] = {Role::viewer, Role::organiser, Role::admin, Role::auditor};

// Scopes of API tokens.
enum class Scope { intake, read_masked, reveal, metrics };
inline constexpr Scope kAllScopes[] = {Scope::intake, Scope::read_masked, Scope::reveal, Scope::metrics};

// The role table. Pure; thread-safe.
bool permits(Role role, Action action) noexcept;
// The scope table: intake only submits; read-masked lists, searches and
// counts segments; reveal also reveals; metrics reads /metrics and nothing
// else (and no other scope reads it). No token manages anything, and none
// writes to or erases a record, or reads its notes: the record page's work
// is people's.
bool token_permits(Scope scope, Action action) noexcept;

std::string_view role_name(Role r) noexcept;
std::optional<Role> parse_role(std::string_view s) noexcept;
std::string_view action_name(Action a) noexcept;
std::string_view scope_name(Scope s) noexcept;  // "intake" | "read-masked" | "reveal" | "metrics"
std::optional<Scope> parse_scope(std::string_view s) noexcept;

}  // namespace rempart::auth
