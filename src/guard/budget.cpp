#include "guard/budget.hpp"

#include <charconv>
#include <nlohmann/json.hpp>
#include <vector>

#include "audit/chain.hpp"
#include "core/hex.hpp"
#include "core/metrics.hpp"

namespace rempart::guard {

namespace {

std::optional<store::Bytes> parse_hex(std::string_view hex) {
  if (hex.empty()) return std::nullopt;
  return core::from_hex(hex);
}

struct Window {
  const char* suffix;
  std::int64_t seconds;
  std::int64_t Limit::*limit;
};
constexpr Window kWindows[] = {{"/m", 60, &Limit::per_minute}, {"/h", 3600, &Limit::per_hour},
                               {"/d", 86400, &Limit::per_day}};

}  // namespace

std::string_view counted_name(Counted c) noexcept {
  switch (c) {
    case Counted::name: return "name";
    case Counted::email: return "email";
    case Counted::phone: return "phone";
    case Counted::address: return "address";
    case Counted::masked: return "masked";
    case Counted::miss: return "miss";
  }
  return "masked";
}

std::optional<Counted> parse_counted(std::string_view s) noexcept {
  for (const Counted c : kAllCounted) {
    if (counted_name(c) == s) return c;
  }
  return std::nullopt;
}

const Limit& Budgets::of(Counted c, std::string_view role) const {
  if (c == Counted::masked) {
    for (std::size_t i = 0; i < std::size(kBudgetRoles); ++i) {
      if (kBudgetRoles[i] == role && masked_by_role[i]) return *masked_by_role[i];
    }
  }
  return of(c);
}

Result<void> lock_actor(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const std::string& actor,
                        std::string_view reason, const std::string& client, const nlohmann::json& extra) {
  const std::int64_t now_s = audit::now_us() / 1000000;
  nlohmann::json details = extra.is_object() ? extra : nlohmann::json::object();
  details["reason"] = reason;
  core::metrics::process_registry().locks[core::metrics::lock_reason_of(reason)].add();
  if (actor.starts_with("account:")) {
    auto id = parse_hex(std::string_view(actor).substr(8));
    if (!id) return fail(Errc::invalid_input, "guard: malformed account actor");
    auto acct = tx.find_account(*id);
    if (!acct) return std::unexpected(acct.error());
    if (*acct) {
      store::AccountRow row = **acct;
      row.locked = true;
      row.lock_reason = "guard: " + std::string(reason);
      row.locked_at = now_s;
      // What crossed, for the admins who read the accounts page: the
      // counted kind, its window and limit, or how a honeytoken was
      // reached. Named keys only: never a record id or anything personal.
      nlohmann::json detail = nlohmann::json::object();
      for (const char* k : {"counted", "window", "limit", "by"}) {
        if (details.contains(k)) detail[k] = details[k];
      }
      row.lock_detail = detail.dump();
      row.updated_at = now_s;
      if (auto r = tx.update_account(row); !r) return r;
      auto n = tx.delete_sessions_of(*id);
      if (!n) return std::unexpected(n.error());
      details["sessions_ended"] = *n;
      details["account"] = row.name;
      // Its tokens are revoked, not only stopped while it is locked: an
      // unlock brings back the person, never a token that may be stolen.
      auto t = tx.revoke_api_tokens_of(actor, now_s);
      if (!t) return std::unexpected(t.error());
      details["tokens_revoked"] = *t;
    }
  } else if (actor.starts_with("token:")) {
    std::int64_t id = 0;
    const auto digits = std::string_view(actor).substr(6);
    const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    if (ec != std::errc{} || p != digits.data() + digits.size()) {
      return fail(Errc::invalid_input, "guard: malformed token actor");
    }
    auto revoked = tx.revoke_api_token(id, now_s);
    if (!revoked) return std::unexpected(revoked.error());
    details["token_revoked"] = *revoked;
  }
  auto e = audit::record(tx, keys, audit::Event{actor, std::string(audit::action::guard_lock), "", std::move(details),
                                                client});
  if (!e) return std::unexpected(e.error());
  return {};
}

namespace {

// The limits of `what` for `actor` at `now`: its role's, raised by an
// approved raise still in force for an account (account_budgets).
Result<Limit> limit_of(store::KeeperTx& tx, const Budgets& budgets, const std::string& actor, Counted what,
                       std::int64_t now, std::string_view role) {
  Limit limit = budgets.of(what, role);
  if (actor.starts_with("account:")) {
    // A raise another admin approved lifts the role's limits until it ends.
    if (auto id = parse_hex(std::string_view(actor).substr(8))) {
      auto raised = tx.account_budget(*id, std::string(counted_name(what)));
      if (!raised) return std::unexpected(raised.error());
      if (*raised && (*raised)->expires_at > now) {
        // A raise only raises: a window the role leaves unlimited stays so,
        // and a raised value of 0 (or one below the role's) keeps the role's.
        const auto raise = [](std::int64_t base_limit, std::int64_t raised_limit) {
          return base_limit == 0 ? 0 : std::max(base_limit, raised_limit);
        };
        limit = Limit{raise(limit.per_minute, (*raised)->per_minute), raise(limit.per_hour, (*raised)->per_hour),
                      raise(limit.per_day, (*raised)->per_day)};
      }
    }
  }
  return limit;
}

}  // namespace

Result<std::vector<Standing>> standing(store::KeeperTx& tx, const Budgets& budgets, const std::string& actor,
                                       std::int64_t now, std::string_view role) {
  std::vector<Standing> out;
  for (const Counted what : kAllCounted) {
    auto limit = limit_of(tx, budgets, actor, what, now, role);
    if (!limit) return std::unexpected(limit.error());
    for (const auto& w : kWindows) {
      const std::int64_t max = (*limit).*(w.limit);
      if (max <= 0) continue;
      auto used = tx.counter(actor, std::string(counted_name(what)) + w.suffix, now - now % w.seconds);
      if (!used) return std::unexpected(used.error());
      out.push_back(Standing{what, w.seconds, std::min(*used, max), max});
    }
  }
  return out;
}

Result<Verdict> charge(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const Budgets& budgets,
                       const std::string& actor, Counted what, std::int64_t n, std::int64_t now,
                       const std::string& client, std::string_view role) {
  if (actor.starts_with("account:")) {
    auto id = parse_hex(std::string_view(actor).substr(8));
    if (!id) return fail(Errc::invalid_input, "guard: malformed account actor");
    auto acct = tx.find_account(*id);
    if (!acct) return std::unexpected(acct.error());
    if (*acct && (*acct)->locked) return Verdict{true, std::string(kReasonAlreadyLocked)};
  }
  auto lim = limit_of(tx, budgets, actor, what, now, role);
  if (!lim) return std::unexpected(lim.error());
  const Limit limit = *lim;
  const std::string base(counted_name(what));
  Verdict v;
  nlohmann::json crossed;
  for (const auto& w : kWindows) {
    const std::int64_t max = limit.*(w.limit);
    if (max <= 0) continue;
    const std::int64_t start = now - now % w.seconds;
    auto count = tx.add_to_counter(actor, base + w.suffix, start, n);
    if (!count) return std::unexpected(count.error());
    if (*count > max && !v.locked) {
      v.locked = true;
      v.reason = std::string(what == Counted::masked ? kReasonListBudget
                             : what == Counted::miss ? kReasonSearchMisses
                                                     : kReasonRevealBudget);
      crossed = {{"counted", base}, {"window", w.suffix + 1}, {"limit", max}};
    }
  }
  if (v.locked) {
    if (!actor.starts_with("account:") && !actor.starts_with("token:")) return Verdict{};
    if (auto r = lock_actor(tx, keys, actor, v.reason, client, crossed); !r) return std::unexpected(r.error());
  }
  return v;
}

}  // namespace rempart::guard
