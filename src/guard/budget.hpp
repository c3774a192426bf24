#pragma once
// Reveal and listing budgets, and the automatic lock (docs/guard.md).
//
// Every reveal, and every page that shows records even masked, is charged to
// its actor ("account:<hex>" or "token:<id>") in counters stored in the
// database, in the same transaction as the read's audit entry, so budgets
// hold across restarts and across keeper processes. Crossing a budget — or
// touching a honeytoken — locks the actor in that same transaction: the
// account is locked and its sessions deleted (only another admin unlocks it,
// with a reason), a token is revoked; a `guard.lock` entry says why. The read
// that crossed the line is not served.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "crypto/keyring.hpp"
#include "store/store.hpp"

namespace rempart::guard {

// Counted kinds: the four reveal field kinds, rows shown masked (lists,
// records and search results), and searches that found nobody.
enum class Counted { name, email, phone, address, masked, miss };
inline constexpr Counted kAllCounted[] = {Counted::name,    Counted::email,  Counted::phone,
                                          Counted::address, Counted::masked, Counted::miss};
std::string_view counted_name(Counted c) noexcept;  // "name" … "masked", "miss"
std::optional<Counted> parse_counted(std::string_view s) noexcept;

struct Limit {
  std::int64_t per_minute = 0;  // 0: no limit at this scale
  std::int64_t per_hour = 0;
  std::int64_t per_day = 0;
};

// Role names as budgets know them, in the order of Budgets::masked_by_role.
inline constexpr std::string_view kBudgetRoles[] = {"viewer", "organiser", "admin", "auditor"};

struct Budgets {
  // Indexed by Counted. Defaults: name 30/h 120/d, email 20/h 60/d, phone
  // 10/h 30/d, address 10/h 30/d; masked rows 100/min 600/h 2,000/d;
  // searches that find nobody 10/min 30/h 60/d.
  std::array<Limit, 6> limits = {Limit{0, 30, 120}, Limit{0, 20, 60},    Limit{0, 10, 30},
                                 Limit{0, 10, 30},  Limit{100, 600, 2000}, Limit{10, 30, 60}};
  // Masked rows of one role, where set (indexed as kBudgetRoles); the
  // others use limits[masked]. Default: a viewer lists at most 50 rows a
  // minute, 300 an hour and 1,000 a day.
  std::array<std::optional<Limit>, 4> masked_by_role = {Limit{50, 300, 1000}, std::nullopt, std::nullopt,
                                                        std::nullopt};
  const Limit& of(Counted c) const { return limits[static_cast<std::size_t>(c)]; }
  Limit& of(Counted c) { return limits[static_cast<std::size_t>(c)]; }
  // The limit of `c` for an actor of `role` ("" or an unknown name: the base).
  const Limit& of(Counted c, std::string_view role) const;
};

// Why an actor was locked; also the alert's kind.
inline constexpr std::string_view kReasonRevealBudget = "reveal_budget";
inline constexpr std::string_view kReasonListBudget = "list_budget";
inline constexpr std::string_view kReasonHoneytoken = "honeytoken";
inline constexpr std::string_view kReasonSearchMisses = "search_misses";
// Not a new lock: the account was locked already when the request reached
// the transaction that charges it (one of several in flight at the lock).
inline constexpr std::string_view kReasonAlreadyLocked = "account_locked";

struct Verdict {
  bool locked = false;
  std::string reason;  // one of the kReason… when locked
};

// Counts `n` uses of `what` by `actor` at `now` (unix seconds) inside `tx`,
// against the limits of `role` (Budgets::of), each window raised, never
// lowered nor lifted, by an approved raise of `what` still in force for an
// account (account_budgets).
// When a limit is crossed, locks the actor (lock_actor) and returns
// locked; the caller must then commit the transaction and serve nothing.
// An account locked already (by a request served a moment before, whose
// lock this transaction now sees) is refused the same way, counted and
// locked no further (kReasonAlreadyLocked): requests that passed the
// session check before the lock are not served after it. An
// actor that is neither an account nor a token (the CLI's operator) is
// counted but never locked: operators are bounded by file permissions.
Result<Verdict> charge(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const Budgets& budgets,
                       const std::string& actor, Counted what, std::int64_t n, std::int64_t now,
                       const std::string& client, std::string_view role = {});

// What `actor` has used of one window of a budget, and its limit.
struct Standing {
  Counted what;
  std::int64_t window_seconds = 0;  // 60, 3600 or 86400
  std::int64_t used = 0;            // in the current window (at most `limit`)
  std::int64_t limit = 0;           // as charge() applies it (raises included)
};

// Every limited window of every budget of `actor` (of `role`) at `now`:
// what is used and what is allowed, read inside `tx`, written nowhere.
Result<std::vector<Standing>> standing(store::KeeperTx& tx, const Budgets& budgets, const std::string& actor,
                                       std::int64_t now, std::string_view role = {});

// Locks `actor` at once inside `tx`: an account is locked with `reason`,
// every session of it deleted and every API token it made revoked; a token
// is revoked. Writes a `guard.lock`
// audit entry (details: reason, and `extra` fields, ids only).
Result<void> lock_actor(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const std::string& actor,
                        std::string_view reason, const std::string& client, const nlohmann::json& extra = {});

}  // namespace rempart::guard
