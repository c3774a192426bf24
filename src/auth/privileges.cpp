// Two-person privilege changes (docs/accounts.md): an admin asks, another
// admin approves with a fresh TOTP code, and the change is applied in the
// transaction that records the approval.
#include <sodium.h>

#include <algorithm>
#include <array>

#include "audit/chain.hpp"
#include "auth/account_internal.hpp"
#include "auth/totp.hpp"
#include "core/text.hpp"
#include "guard/budget.hpp"

namespace rempart::auth {

using namespace internal;
using store::Bytes;

namespace {

constexpr std::size_t kMaxReasonBytes = 200;
constexpr std::string_view kEnrolPrefix = "rmpe_";

bool valid_reason(std::string_view r, bool required) {
  if (r.empty()) return !required;
  return core::text::is_plain_line(r, kMaxReasonBytes);
}

bool targets_account(PrivilegeKind k) { return k != PrivilegeKind::reveal_token; }

// The enrolment code handed to a person: "rmpe_" + 256 random bits.
Result<crypto::SecretBytes> new_enrolment_code() { return random_token(kEnrolPrefix); }

Bytes enrolment_hash(std::string_view code) { return hash_token("rempart/enrol/v1", code); }

std::string new_token_prefix() {
  std::array<std::uint8_t, 5> p{};
  randombytes_buf(p.data(), p.size());
  return "rmp_" + normalise_code(base32(p));
}

// Checks an ask's own fields and returns its params (no secret).
Result<nlohmann::json> ask_params(const PrivilegeAsk& a) {
  nlohmann::json p = nlohmann::json::object();
  if (!valid_reason(a.reason, a.kind == PrivilegeKind::unlock)) {
    return fail(Errc::invalid_input, "privilege request: the reason must be 1..200 bytes of plain text");
  }
  if (!a.reason.empty()) p["reason"] = a.reason;
  if (targets_account(a.kind)) {
    if (!valid_account_name(a.target)) return fail(Errc::invalid_input, "privilege request: invalid account name");
  } else if (a.target.empty() || a.target.size() > 100 || !core::text::is_plain_line(a.target, 100)) {
    return fail(Errc::invalid_input, "privilege request: the token label must be 1..100 bytes");
  }
  switch (a.kind) {
    case PrivilegeKind::create_account:
    case PrivilegeKind::set_role: p["role"] = std::string(role_name(a.role)); break;
    case PrivilegeKind::reveal_token:
      if (a.days < 1 || a.days > 3650) return fail(Errc::invalid_input, "privilege request: days must be 1..3650");
      p["scope"] = std::string(scope_name(Scope::reveal));
      p["days"] = a.days;
      break;
    case PrivilegeKind::raise_budget: {
      if (!guard::parse_counted(a.counted)) return fail(Errc::invalid_input, "privilege request: unknown budget");
      // A raise is a number: 0 would read as "no limit", which no request
      // grants (per minute 0 keeps the role's).
      if (a.per_minute < 0 || a.per_minute > 1000000 || a.per_hour < 1 || a.per_hour > 1000000 || a.per_day < 1 ||
          a.per_day > 1000000) {
        return fail(Errc::invalid_input, "privilege request: limits must be 1..1000000 (per minute 0..1000000)");
      }
      if (a.hours < 1 || a.hours > 168) return fail(Errc::invalid_input, "privilege request: hours must be 1..168");
      p["counted"] = a.counted;
      p["per_minute"] = a.per_minute;
      p["per_hour"] = a.per_hour;
      p["per_day"] = a.per_day;
      p["hours"] = a.hours;
      break;
    }
    case PrivilegeKind::unlock:
    case PrivilegeKind::reset_mfa: break;
  }
  return p;
}

// A new account that waits for its owner to enrol with `enrol_hash`.
store::AccountRow new_enrolling_account(const std::string& name, Role role, const std::string& created_by,
                                        const Bytes& enrol_hash, std::int64_t now, std::int64_t expires_at) {
  store::AccountRow a;
  a.id = random_bytes(kAccountIdSize);
  a.name = name;
  a.role = std::string(role_name(role));
  a.created_at = a.updated_at = now;
  a.state = "enrolling";
  a.created_by = created_by;
  if (role == Role::admin) a.admin_since = now;
  a.enrol_hash = enrol_hash;
  a.enrol_expires_at = expires_at;
  return a;
}

// Clears what signs `a` in (password, TOTP, recovery codes, export key,
// sessions) so its owner enrols again with `enrol_hash`; the caller writes
// `a` back.
Result<void> back_to_enrolment(store::KeeperTx& tx, store::AccountRow& a, const Bytes& enrol_hash,
                               std::int64_t expires_at, nlohmann::json& details) {
  a.state = "enrolling";
  a.password_hash.clear();
  a.totp_sealed.clear();
  a.totp_last_step = -1;
  a.enrol_hash = enrol_hash;
  a.enrol_expires_at = expires_at;
  if (auto x = tx.delete_recovery_codes(a.id); !x) return x;
  if (auto k = tx.set_export_public_key(a.id, std::nullopt); !k) return k;
  auto n = tx.delete_sessions_of(a.id);
  if (!n) return propagate(n);
  details["sessions_revoked"] = *n;
  return {};
}

std::int64_t param_int(const nlohmann::json& p, const char* key) {
  return p.contains(key) && p[key].is_number_integer() ? p[key].get<std::int64_t>() : 0;
}
std::string param_text(const nlohmann::json& p, const char* key) {
  return p.contains(key) && p[key].is_string() ? p[key].get<std::string>() : std::string();
}

}  // namespace

std::string_view privilege_kind_name(PrivilegeKind k) noexcept {
  switch (k) {
    case PrivilegeKind::create_account: return "create_account";
    case PrivilegeKind::set_role: return "set_role";
    case PrivilegeKind::unlock: return "unlock";
    case PrivilegeKind::reset_mfa: return "reset_mfa";
    case PrivilegeKind::reveal_token: return "reveal_token";
    case PrivilegeKind::raise_budget: return "raise_budget";
  }
  return "";
}

std::optional<PrivilegeKind> parse_privilege_kind(std::string_view s) noexcept {
  for (const PrivilegeKind k : kAllPrivilegeKinds) {
    if (privilege_kind_name(k) == s) return k;
  }
  return std::nullopt;
}

Result<void> AccountService::check_approver(store::KeeperTx& tx, const Bytes& approver_id, const Bytes& requester_id,
                                            std::int64_t requested_at) {
  if (approver_id == requester_id) return fail(Errc::permission, "approval: nobody approves their own request");
  auto a = tx.find_account(approver_id);
  if (!a) return propagate(a);
  if (!*a || (*a)->disabled || (*a)->locked || (*a)->state != "active" || (*a)->role != "admin") {
    return fail(Errc::permission, "approval: only an active admin approves");
  }
  if (!(*a)->admin_since || *(*a)->admin_since + opt_.approver_cooling_seconds > requested_at) {
    return fail(Errc::permission, "approval: the approver was not an admin long enough before the request");
  }
  // Neither may owe its privileges to the other: an admin who made (or
  // promoted) an account cannot have that account approve for them.
  auto sponsored = tx.is_sponsor(approver_id, requester_id);
  if (!sponsored) return propagate(sponsored);
  auto sponsor = tx.is_sponsor(requester_id, approver_id);
  if (!sponsor) return propagate(sponsor);
  if (*sponsored || *sponsor) {
    return fail(Errc::permission, "approval: the requester made or promoted the approver, or the other way round");
  }
  return {};
}

Result<PrivilegeRequestInfo> AccountService::request_info(store::KeeperTx& tx, const store::PrivilegeRequestRow& row) {
  PrivilegeRequestInfo info;
  info.id = row.id;
  info.kind = parse_privilege_kind(row.kind).value_or(PrivilegeKind::create_account);
  info.requester_id = audit::to_hex(row.requester_id);
  info.target = row.target;
  info.params = nlohmann::json::parse(row.params, nullptr, false);
  if (info.params.is_discarded()) info.params = nlohmann::json::object();
  info.status = row.status;
  if (row.status == "pending" && opt_.clock() >= row.expires_at) info.status = "expired";
  info.created_at = row.created_at;
  info.expires_at = row.expires_at;
  info.decided_at = row.decided_at;
  auto r = tx.find_account(row.requester_id);
  if (!r) return propagate(r);
  info.requester = *r ? (*r)->name : std::string("?");
  if (row.decided_by) {
    auto d = tx.find_account(*row.decided_by);
    if (!d) return propagate(d);
    info.decided_by = *d ? (*d)->name : std::string("?");
  }
  return info;
}

Result<PrivilegeReceipt> AccountService::request_privilege(const std::string& requester_hex, const PrivilegeAsk& ask,
                                                           std::string_view code, const std::string& client) {
  auto requester = parse_account_id(requester_hex);
  if (!requester) return fail(Errc::invalid_input, "privilege request: invalid account id");
  auto params = ask_params(ask);
  if (!params) return std::unexpected(params.error());
  if (auto r = crypto::init(); !r) return std::unexpected(r.error());

  // What can be refused without spending the requester's code.
  auto check = [&](store::KeeperTx& tx) -> Result<void> {
    auto me = tx.find_account(*requester);
    if (!me) return propagate(me);
    if (!*me || (*me)->role != "admin") return fail(Errc::permission, "privilege request: only admins ask");
    if (targets_account(ask.kind)) {
      auto t = tx.find_account_by_name(ask.target);
      if (!t) return propagate(t);
      if (ask.kind == PrivilegeKind::create_account) {
        if (*t) return fail(Errc::conflict, "privilege request: an account of that name exists");
      } else {
        if (!*t) return fail(Errc::not_found, "privilege request: no such account");
        if ((*t)->id == *requester) return fail(Errc::permission, "privilege request: not for one's own account");
        if (ask.kind == PrivilegeKind::unlock && !(*t)->locked) {
          return fail(Errc::conflict, "privilege request: the account is not locked");
        }
        if (ask.kind == PrivilegeKind::set_role && (*t)->role == role_name(ask.role)) {
          return fail(Errc::conflict, "privilege request: the account has that role");
        }
      }
    }
    auto open = tx.privilege_requests(1000);
    if (!open) return propagate(open);
    for (const auto& o : *open) {
      if (o.status == "pending" && o.expires_at > opt_.clock() && o.kind == privilege_kind_name(ask.kind) &&
          o.target == ask.target) {
        return fail(Errc::conflict, "privilege request: the same request is pending");
      }
    }
    return {};
  };
  if (auto r = store_->transact(check); !r) return std::unexpected(r.error());
  if (auto r = require_step_up(requester_hex, code); !r) return std::unexpected(r.error());

  PrivilegeReceipt out;
  store::PrivilegeRequestRow row;
  row.kind = std::string(privilege_kind_name(ask.kind));
  row.requester_id = *requester;
  row.target = ask.target;
  if (ask.kind == PrivilegeKind::create_account || ask.kind == PrivilegeKind::reset_mfa) {
    auto secret = new_enrolment_code();
    if (!secret) return std::unexpected(secret.error());
    out.secret = std::move(*secret);
    row.secret_hash = enrolment_hash(out.secret.text());
  } else if (ask.kind == PrivilegeKind::reveal_token) {
    const std::string prefix = new_token_prefix();
    auto secret = random_token(prefix + "_");
    if (!secret) return std::unexpected(secret.error());
    out.secret = std::move(*secret);
    row.secret_hash = hash_token("rempart/api/v1", out.secret.text());
    (*params)["prefix"] = prefix;
  }
  row.params = params->dump();
  row.status = "pending";
  row.created_at = opt_.clock();
  row.expires_at = row.created_at + opt_.request_ttl_seconds;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    if (auto c = check(tx); !c) return c;  // again, on this transaction's state
    auto id = tx.insert_privilege_request(row);
    if (!id) return propagate(id);
    out.id = *id;
    auto w = write_audit(tx, *keys_, account_actor(requester_hex), action::privilege_request,
                         {{"request", *id}, {"kind", row.kind}, {"target", row.target}, {"params", *params}}, client);
    if (!w) return propagate(w);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<std::vector<PrivilegeRequestInfo>> AccountService::privilege_requests(std::size_t limit) {
  std::vector<PrivilegeRequestInfo> out;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto rows = tx.privilege_requests(limit);
    if (!rows) return propagate(rows);
    for (const auto& row : *rows) {
      auto i = request_info(tx, row);
      if (!i) return propagate(i);
      out.push_back(std::move(*i));
    }
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<void> AccountService::apply_privilege(store::KeeperTx& tx, const store::PrivilegeRequestRow& req,
                                             const store::AccountRow& approver, std::int64_t now,
                                             nlohmann::json& done) {
  const auto kind = parse_privilege_kind(req.kind);
  if (!kind) return fail(Errc::internal, "approval: unknown request kind");
  const nlohmann::json params = nlohmann::json::parse(req.params, nullptr, false);
  if (params.is_discarded()) return fail(Errc::internal, "approval: unreadable request params");
  const std::string requester_actor = account_actor(audit::to_hex(req.requester_id));

  if (*kind == PrivilegeKind::reveal_token) {
    const std::int64_t days = param_int(params, "days");
    store::ApiTokenRow t{0,   req.target, std::string(scope_name(Scope::reveal)), param_text(params, "prefix"),
                         req.secret_hash.value_or(Bytes{}), requester_actor, now, now + days * 86400, std::nullopt};
    auto id = tx.insert_api_token(t);
    if (!id) return propagate(id);
    done = {{"token_id", *id}, {"label", t.label}, {"scope", t.scope}, {"prefix", t.prefix}, {"expires_at", t.expires_at}};
    auto w = write_audit(tx, *keys_, requester_actor, action::token_create, done);
    if (!w) return propagate(w);
    return {};
  }

  if (*kind == PrivilegeKind::create_account) {
    auto taken = tx.find_account_by_name(req.target);
    if (!taken) return propagate(taken);
    if (*taken) return fail(Errc::conflict, "approval: an account of that name exists");
    const auto role = parse_role(param_text(params, "role")).value_or(Role::viewer);
    const store::AccountRow a = new_enrolling_account(req.target, role, requester_actor, req.secret_hash.value_or(Bytes{}),
                                                      now, now + opt_.enrolment_seconds);
    if (auto i = tx.insert_account(a); !i) return i;
    for (const Bytes* s : {&req.requester_id, &approver.id}) {
      if (auto i = tx.insert_sponsor(a.id, *s); !i) return i;
    }
    done = {{"account", a.name}, {"account_id", audit::to_hex(a.id)}, {"role", a.role}};
    auto w = write_audit(tx, *keys_, requester_actor, action::account_create, done);
    if (!w) return propagate(w);
    return {};
  }

  auto found = tx.find_account_by_name(req.target);
  if (!found) return propagate(found);
  if (!*found) return fail(Errc::not_found, "approval: the account no longer exists");
  store::AccountRow a = **found;
  if (a.id == approver.id) return fail(Errc::permission, "approval: not for one's own account");
  done = {{"account", a.name}, {"account_id", audit::to_hex(a.id)}};
  std::string_view act;
  switch (*kind) {
    case PrivilegeKind::set_role: {
      const auto role = parse_role(param_text(params, "role")).value_or(Role::viewer);
      done["from"] = a.role;
      done["to"] = std::string(role_name(role));
      if (role != Role::admin) {
        a.admin_since.reset();
      } else if (a.role != "admin") {
        a.admin_since = now;
      }
      a.role = std::string(role_name(role));
      auto n = tx.delete_sessions_of(a.id);
      if (!n) return propagate(n);
      for (const Bytes* s : {&req.requester_id, &approver.id}) {
        if (auto i = tx.insert_sponsor(a.id, *s); !i) return i;
      }
      act = action::account_role;
      break;
    }
    case PrivilegeKind::unlock:
      done["was_locked"] = a.locked;
      done["previous_reason"] = a.lock_reason;
      done["reason"] = param_text(params, "reason");
      if (auto c = clear_lock(tx, a); !c) return c;
      act = action::account_unlock;
      break;
    case PrivilegeKind::reset_mfa: {
      // The owner enrols again with the code the requester handed them;
      // until then the account cannot sign in and its tokens stop.
      if (auto e = back_to_enrolment(tx, a, req.secret_hash.value_or(Bytes{}), now + opt_.enrolment_seconds, done);
          !e) {
        return e;
      }
      act = action::account_reset_mfa;
      break;
    }
    case PrivilegeKind::raise_budget: {
      store::AccountBudgetRow b{a.id,
                                param_text(params, "counted"),
                                param_int(params, "per_minute"),
                                param_int(params, "per_hour"),
                                param_int(params, "per_day"),
                                now + param_int(params, "hours") * 3600};
      if (auto p = tx.put_account_budget(b); !p) return p;
      done["counted"] = b.counted;
      done["per_minute"] = b.per_minute;
      done["per_hour"] = b.per_hour;
      done["per_day"] = b.per_day;
      done["until"] = b.expires_at;
      auto w = write_audit(tx, *keys_, requester_actor, action::account_budget, done);
      if (!w) return propagate(w);
      return {};
    }
    case PrivilegeKind::create_account:
    case PrivilegeKind::reveal_token: return fail(Errc::internal, "approval: handled above");
  }
  a.updated_at = now;
  if (auto u = tx.update_account(a); !u) return u;
  auto w = write_audit(tx, *keys_, requester_actor, act, done);
  if (!w) return propagate(w);
  return {};
}

Result<PrivilegeRequestInfo> AccountService::approve_privilege(const std::string& approver_hex, std::int64_t id,
                                                               std::string_view code, const std::string& client) {
  auto approver = parse_account_id(approver_hex);
  if (!approver) return fail(Errc::invalid_input, "approval: invalid account id");
  const std::int64_t now = opt_.clock();

  // 1. The rules, before any code is checked: a refused approver spends no
  // guess and learns nothing more.
  auto rules = [&](store::KeeperTx& tx) -> Result<store::PrivilegeRequestRow> {
    auto req = tx.find_privilege_request(id);
    if (!req) return propagate(req);
    if (!*req) return fail(Errc::not_found, "approval: no such request");
    if ((*req)->status != "pending") return fail(Errc::conflict, "approval: the request is no longer pending");
    if (auto c = check_approver(tx, *approver, (*req)->requester_id, (*req)->created_at); !c) {
      return std::unexpected(c.error());
    }
    const auto kind = parse_privilege_kind((*req)->kind);
    if (kind && *kind != PrivilegeKind::create_account && targets_account(*kind)) {
      auto target = tx.find_account_by_name((*req)->target);
      if (!target) return propagate(target);
      if (*target && (*target)->id == *approver) return fail(Errc::permission, "approval: not for one's own account");
    }
    return std::move(**req);
  };
  bool expired = false;
  auto first = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto req = rules(tx);
    if (!req) return propagate(req);
    if (now >= req->expires_at) {
      req->status = "expired";
      req->decided_at = now;
      if (auto u = tx.update_privilege_request(*req); !u) return u;
      auto w = write_audit(tx, *keys_, account_actor(approver_hex), action::privilege_expire,
                           {{"request", id}, {"kind", req->kind}, {"target", req->target}}, client);
      if (!w) return propagate(w);
      expired = true;
    }
    return {};
  });
  if (!first) return std::unexpected(first.error());
  if (expired) return fail(Errc::conflict, "approval: the request has expired");

  // 2. The approver's fresh code.
  if (auto r = require_step_up(approver_hex, code); !r) return std::unexpected(r.error());

  // 3. Apply, on a fresh read, with the approval's entry.
  PrivilegeRequestInfo info;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto req = rules(tx);
    if (!req) return propagate(req);
    auto me = tx.find_account(*approver);
    if (!me) return propagate(me);
    if (!*me) return fail(Errc::permission, "approval: no such approver");
    nlohmann::json done;
    if (auto a = apply_privilege(tx, *req, **me, now, done); !a) return a;
    req->status = "approved";
    req->decided_by = *approver;
    req->decided_at = now;
    if (auto u = tx.update_privilege_request(*req); !u) return u;
    auto w = write_audit(tx, *keys_, account_actor(approver_hex), action::privilege_approve,
                         {{"request", id},
                          {"kind", req->kind},
                          {"target", req->target},
                          {"requester_id", audit::to_hex(req->requester_id)},
                          {"applied", done}},
                         client);
    if (!w) return propagate(w);
    auto i = request_info(tx, *req);
    if (!i) return propagate(i);
    info = std::move(*i);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return info;
}

Result<PrivilegeRequestInfo> AccountService::refuse_privilege(const std::string& actor_hex, std::int64_t id,
                                                              const std::string& client) {
  auto actor = parse_account_id(actor_hex);
  if (!actor) return fail(Errc::invalid_input, "refusal: invalid account id");
  const std::int64_t now = opt_.clock();
  PrivilegeRequestInfo info;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto req = tx.find_privilege_request(id);
    if (!req) return propagate(req);
    if (!*req) return fail(Errc::not_found, "refusal: no such request");
    if ((*req)->status != "pending") return fail(Errc::conflict, "refusal: the request is no longer pending");
    (*req)->status = "refused";
    (*req)->decided_by = *actor;
    (*req)->decided_at = now;
    if (auto u = tx.update_privilege_request(**req); !u) return u;
    auto w = write_audit(tx, *keys_, account_actor(actor_hex), action::privilege_refuse,
                         {{"request", id},
                          {"kind", (*req)->kind},
                          {"target", (*req)->target},
                          {"withdrawn", (*req)->requester_id == *actor}},
                         client);
    if (!w) return propagate(w);
    auto i = request_info(tx, **req);
    if (!i) return propagate(i);
    info = std::move(*i);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return info;
}

// ---- Self-enrolment ---------------------------------------------------------

namespace {

// The enrolling account an unexpired code opens, inside `tx`.
Result<std::optional<store::AccountRow>> enrolling_account(store::KeeperTx& tx, std::string_view code,
                                                           std::int64_t now) {
  if (!code.starts_with(kEnrolPrefix) || code.size() > 128) return std::optional<store::AccountRow>{};
  auto a = tx.find_account_by_enrol_hash(enrolment_hash(code));
  if (!a) return propagate(a);
  if (!*a || (*a)->state != "enrolling" || (*a)->disabled || now >= (*a)->enrol_expires_at) {
    return std::optional<store::AccountRow>{};
  }
  return a;
}

}  // namespace

Result<crypto::SecretBytes> AccountService::invite_account(const std::string& actor, const std::string& name,
                                                           Role role) {
  if (!is_operator_actor(actor)) return fail(Errc::permission, "invite: operator only");
  if (!valid_account_name(name)) return fail(Errc::invalid_input, "account name must match [a-z0-9._-]{1,64}");
  if (auto r = crypto::init(); !r) return std::unexpected(r.error());
  const std::int64_t now = opt_.clock();
  auto code = new_enrolment_code();
  if (!code) return code;
  const store::AccountRow a =
      new_enrolling_account(name, role, actor, enrolment_hash(code->text()), now, now + opt_.enrolment_seconds);
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    if (auto i = tx.insert_account(a); !i) {
      if (i.error().code == Errc::conflict) return fail(Errc::conflict, "an account of that name exists");
      return i;
    }
    auto w = write_audit(tx, *keys_, actor, action::account_create,
                         {{"account", name}, {"account_id", audit::to_hex(a.id)}, {"role", a.role}, {"invite", true}});
    if (!w) return propagate(w);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return code;
}

Result<crypto::SecretBytes> AccountService::reset_enrolment(const std::string& actor, const std::string& name) {
  return enrolment_after(actor, name, action::account_reset_mfa, "");
}

Result<crypto::SecretBytes> AccountService::release_account(const std::string& actor, const std::string& name,
                                                            const std::string& reason) {
  if (!valid_reason(reason, true)) return fail(Errc::invalid_input, "release reason must be one line of 1..200 bytes");
  return enrolment_after(actor, name, action::incident_release, reason);
}

// reset_enrolment, and release_account when `reason` is given: the account
// enabled again too.
Result<crypto::SecretBytes> AccountService::enrolment_after(const std::string& actor, const std::string& name,
                                                            std::string_view audit_action,
                                                            const std::string& reason) {
  if (!is_operator_actor(actor)) return fail(Errc::permission, "reset: operator only");
  if (auto r = crypto::init(); !r) return std::unexpected(r.error());
  auto code = new_enrolment_code();
  if (!code) return code;
  const std::int64_t now = opt_.clock();
  auto r = modify(actor, name, audit_action,
                  [&](store::KeeperTx& tx, store::AccountRow& a, nlohmann::json& d) -> Result<void> {
                    d["invite"] = true;
                    if (!reason.empty()) {
                      d["reason"] = reason;
                      d["was_disabled"] = a.disabled;
                      a.disabled = false;
                    }
                    return back_to_enrolment(tx, a, enrolment_hash(code->text()), now + opt_.enrolment_seconds, d);
                  });
  if (!r) return std::unexpected(r.error());
  return code;
}

Result<Lockdown> AccountService::lock_down(const std::string& actor, const std::string& keep,
                                           const std::string& reason) {
  if (!is_operator_actor(actor)) return fail(Errc::permission, "lockdown: operator only");
  if (!valid_reason(reason, true)) return fail(Errc::invalid_input, "lockdown reason must be one line of 1..200 bytes");
  if (!keep.empty() && !valid_account_name(keep)) {
    return fail(Errc::invalid_input, "the break-glass account name must match [a-z0-9._-]{1,64}");
  }
  const std::int64_t now = opt_.clock();
  Lockdown out;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    out = Lockdown{};
    auto accounts = tx.accounts();
    if (!accounts) return propagate(accounts);
    if (!keep.empty()) {
      const auto k = std::ranges::find(*accounts, keep, &store::AccountRow::name);
      if (k == accounts->end() || k->disabled || k->state != "active" || role_of(*k) != Role::admin) {
        return fail(Errc::invalid_input,
                    "the break-glass account must be an enrolled, enabled admin account; nothing changed");
      }
      out.kept = keep;
    }
    for (auto& a : *accounts) {
      // Raised budgets end: a backdoor may be a budget raised beforehand.
      for (const guard::Counted c : guard::kAllCounted) {
        auto b = tx.account_budget(a.id, std::string(guard::counted_name(c)));
        if (!b) return propagate(b);
        if (*b && (*b)->expires_at > now) {
          (*b)->expires_at = now;
          if (auto p = tx.put_account_budget(**b); !p) return p;
          ++out.budgets_ended;
        }
      }
      if (a.name == keep) {
        auto n = tx.delete_sessions_of(a.id);
        if (!n) return propagate(n);
        out.sessions_ended += *n;
        continue;
      }
      nlohmann::json d;
      if (auto e = back_to_enrolment(tx, a, Bytes{}, 0, d); !e) return e;
      // No code opens it until release_account makes one.
      a.enrol_hash.reset();
      a.disabled = true;
      a.updated_at = now;
      if (auto u = tx.update_account(a); !u) return u;
      out.sessions_ended += d["sessions_revoked"].get<std::int64_t>();
      out.locked.push_back(a.name);
    }
    auto tokens = tx.api_tokens();
    if (!tokens) return propagate(tokens);
    for (const auto& t : *tokens) {
      if (t.revoked_at) continue;
      auto done = tx.revoke_api_token(t.id, now);
      if (!done) return propagate(done);
      if (*done) out.tokens_revoked.push_back(t.id);
    }
    // Every pending request: one approved after the lockdown would undo it.
    for (std::size_t limit = 100;; limit *= 4) {
      auto reqs = tx.privilege_requests(limit);
      if (!reqs) return propagate(reqs);
      if (reqs->size() == limit) continue;
      for (auto& q : *reqs) {
        if (q.status != "pending") continue;
        q.status = "refused";
        q.decided_at = now;
        if (auto u = tx.update_privilege_request(q); !u) return u;
        out.requests_refused.push_back(q.id);
      }
      break;
    }
    auto w = write_audit(tx, *keys_, actor, action::incident_lockdown,
                         {{"reason", reason},
                          {"kept", out.kept},
                          {"accounts_locked", out.locked},
                          {"sessions_ended", out.sessions_ended},
                          {"tokens_revoked", out.tokens_revoked},
                          {"requests_refused", out.requests_refused},
                          {"budgets_ended", out.budgets_ended}});
    if (!w) return propagate(w);
    out.seq = *w;
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<std::optional<EnrolmentInvite>> AccountService::enrolment_for(std::string_view code) {
  std::optional<EnrolmentInvite> out;
  const std::int64_t now = opt_.clock();
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto a = enrolling_account(tx, code, now);
    if (!a) return propagate(a);
    if (*a) out = EnrolmentInvite{(*a)->name, role_of(**a)};
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<Enrolment> AccountService::enrol_self(std::string_view code, std::string_view password,
                                             const std::string& client) {
  if (auto r = crypto::init(); !r) return std::unexpected(r.error());
  const std::int64_t now = opt_.clock();
  std::optional<store::AccountRow> acct;
  auto r0 = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto a = enrolling_account(tx, code, now);
    if (!a) return propagate(a);
    acct = std::move(*a);
    return {};
  });
  if (!r0) return std::unexpected(r0.error());
  if (!acct) return fail(Errc::not_found, "enrolment: unknown or expired code");
  if (auto p = check_password_policy(password, acct->name); !p) return std::unexpected(p.error());
  auto hash = hash_password(password, opt_.pwhash);  // Argon2id, outside any transaction
  if (!hash) return propagate(hash);

  std::optional<Enrolment> out;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto a = enrolling_account(tx, code, now);
    if (!a) return propagate(a);
    if (!*a || (*a)->id != acct->id) return fail(Errc::not_found, "enrolment: unknown or expired code");
    store::AccountRow row = **a;
    std::vector<Bytes> codes;
    auto e = enrol(row.id, row.name, row.totp_sealed, codes);
    if (!e) return std::unexpected(e.error());
    Bytes export_public;
    if (auto k = make_export_key(*e, export_public); !k) return k;
    row.password_hash = *hash;
    row.totp_last_step = -1;
    row.failures = 0;
    row.updated_at = now;
    if (auto u = tx.update_account(row); !u) return u;
    if (auto k = tx.set_export_public_key(row.id, export_public); !k) return k;
    if (auto x = tx.delete_recovery_codes(row.id); !x) return x;
    if (auto x = tx.insert_recovery_codes(row.id, codes); !x) return x;
    auto w = write_audit(tx, *keys_, account_actor(e->account_id), action::account_enrol,
                         {{"account", row.name}, {"account_id", e->account_id}}, client);
    if (!w) return propagate(w);
    out.emplace(std::move(*e));
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return std::move(*out);
}

Result<bool> AccountService::confirm_enrolment(std::string_view code, std::string_view totp,
                                               const std::string& client) {
  const std::int64_t now = opt_.clock();
  bool ok = false;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto a = enrolling_account(tx, code, now);
    if (!a) return propagate(a);
    if (!*a || (*a)->password_hash.empty() || (*a)->totp_sealed.empty()) {
      return fail(Errc::not_found, "enrolment: unknown or expired code");
    }
    store::AccountRow row = **a;
    auto secret = open_totp(*keys_, row.id, row.totp_sealed);
    if (!secret) return propagate(secret);
    const auto step = totp_check(secret->span(), totp, now, row.totp_last_step);
    if (!step) return {};
    ok = true;
    row.state = "active";
    row.enrol_hash.reset();
    row.enrol_expires_at = 0;
    row.totp_last_step = *step;
    row.updated_at = now;
    if (auto u = tx.update_account(row); !u) return u;
    auto w = write_audit(tx, *keys_, account_actor(audit::to_hex(row.id)), action::account_enrolled,
                         {{"account", row.name}, {"account_id", audit::to_hex(row.id)}}, client);
    if (!w) return propagate(w);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return ok;
}

}  // namespace rempart::auth
