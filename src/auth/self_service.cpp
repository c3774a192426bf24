// What every signed-in person does to their own account (docs/accounts.md,
// "Your own account"): change the password, replace the authenticator.
// Both ask for the current password and a fresh code first, so a session
// left open on someone else's screen does not hand over the account.
#include <sodium.h>

#include <algorithm>
#include <array>

#include "audit/chain.hpp"
#include "auth/account_internal.hpp"
#include "auth/accounts.hpp"
#include "auth/totp.hpp"

namespace rempart::auth {

using namespace internal;
using store::Bytes;

namespace {

constexpr std::string_view kSessionLabel = "rempart/session/v1";
constexpr std::string_view kPendingLabel = "rempart/totp-pending/v1";
constexpr std::string_view kNotRight = "self-service: the password or code is not right";

// What the pending secret is bound to: this account, this session, this time.
Bytes pending_ad(const Bytes& account_id, const Bytes& session_hash, std::int64_t issued_at) {
  Bytes ad(kPendingLabel.begin(), kPendingLabel.end());
  ad.insert(ad.end(), account_id.begin(), account_id.end());
  ad.insert(ad.end(), session_hash.begin(), session_hash.end());
  for (int i = 0; i < 8; ++i) ad.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(issued_at) >> (8 * i)));
  return ad;
}

std::optional<Bytes> from_base64url(std::string_view text) {
  if (text.empty() || text.size() > 512) return std::nullopt;
  Bytes out(text.size());
  std::size_t len = 0;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

bool six_digits(std::string_view code) {
  return code.size() == kTotpDigits && std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The live session behind `h` and its account, in `tx`; nullopt when the
// session is unknown or too old, or the account may not act.
Result<std::optional<store::AccountRow>> owner_of(store::KeeperTx& tx, const Bytes& h, std::int64_t now,
                                                  const AuthOptions& opt) {
  auto s = tx.find_session(h);
  if (!s) return std::unexpected(s.error());
  if (!*s) return std::optional<store::AccountRow>{};
  if (now - (*s)->last_seen_at > opt.session_idle_seconds || now - (*s)->created_at > opt.session_absolute_seconds) {
    return std::optional<store::AccountRow>{};
  }
  auto a = tx.find_account((*s)->account_id);
  if (!a) return std::unexpected(a.error());
  if (!*a || (*a)->disabled || (*a)->locked || (*a)->state != "active") return std::optional<store::AccountRow>{};
  return std::move(*a);
}

// Ends every session of the account but `keep`; returns how many ended.
Result<std::int64_t> end_other_sessions(store::KeeperTx& tx, const Bytes& account_id, const Bytes& keep) {
  auto mine = tx.find_session(keep);
  if (!mine) return std::unexpected(mine.error());
  auto n = tx.delete_sessions_of(account_id);
  if (!n) return n;
  if (!*mine) return *n;
  if (auto i = tx.insert_session(**mine); !i) return std::unexpected(i.error());
  return *n - 1;
}

// Saves the owner's change to `a`, ends their other sessions (all but the
// one hashed `keep`) and records `act` with how many ended.
Result<void> save_own_change(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const store::AccountRow& a,
                             const Bytes& keep, std::string_view act, const std::string& client) {
  if (auto u = tx.update_account(a); !u) return u;
  auto n = end_other_sessions(tx, a.id, keep);
  if (!n) return propagate(n);
  auto w = write_audit(tx, keys, account_actor(audit::to_hex(a.id)), act,
                       {{"account", a.name}, {"result", "changed"}, {"sessions_ended", *n}}, client);
  if (!w) return propagate(w);
  return {};
}

}  // namespace

// Checks the password (Argon2id, outside any transaction) and the code, then
// runs `apply` in the transaction that spends the code. A failure is
// counted like a failed sign-in.
Result<store::AccountRow> AccountService::prove_owner(std::string_view session_token, std::string_view password,
                                                      std::string_view code, std::string_view audit_action,
                                                      const std::string& client) {
  if (auto r = crypto::init(); !r) return std::unexpected(r.error());
  const Bytes h = hash_token(kSessionLabel, session_token);
  std::int64_t now = opt_.clock();
  std::optional<store::AccountRow> before;
  if (auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
        auto a = owner_of(tx, h, now, opt_);
        if (!a) return propagate(a);
        before = std::move(*a);
        return {};
      });
      !r) {
    return std::unexpected(r.error());
  }
  if (!before) return fail(Errc::not_found, "self-service: no live session");
  const bool password_ok = password.size() <= 1024 && !before->password_hash.empty() &&
                           verify_password(password, before->password_hash);

  now = opt_.clock();
  std::optional<store::AccountRow> proven;
  bool replayed = false, locked_now = false;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto found = owner_of(tx, h, now, opt_);
    if (!found) return propagate(found);
    if (!*found) return fail(Errc::not_found, "self-service: no live session");
    store::AccountRow& a = **found;
    const std::string actor = account_actor(audit::to_hex(a.id));
    nlohmann::json details = {{"account", a.name}};
    std::string cause = "password";
    std::optional<std::int64_t> step;
    if (password_ok) {
      cause = "second_factor";
      if (six_digits(code)) {
        auto secret = open_totp(*keys_, a.id, a.totp_sealed);
        if (!secret) return propagate(secret);
        const TotpVerdict v = totp_verify(secret->span(), code, now, a.totp_last_step);
        step = v.step;
        replayed = v.replayed;
      }
    }
    if (replayed) {
      // The code the person has just used: nothing guessed, nothing counted.
      details["result"] = "replayed";
      auto w = write_audit(tx, *keys_, actor, audit_action, std::move(details), client);
      if (!w) return propagate(w);
      return {};
    }
    if (!step) {
      a.failures += 1;
      a.last_failure_at = now;
      if (a.failures >= opt_.lock_after_failures) {
        lock_for_failures(a, now);
        details["locked"] = true;
        locked_now = true;
        if (auto n = tx.delete_sessions_of(a.id); !n) return propagate(n);
      }
      a.updated_at = now;
      if (auto u = tx.update_account(a); !u) return u;
      details["result"] = "failure";
      details["cause"] = cause;
      details["failures"] = a.failures;
      auto w = write_audit(tx, *keys_, actor, audit_action, std::move(details), client);
      if (!w) return propagate(w);
      return {};
    }
    a.totp_last_step = *step;
    a.failures = 0;
    a.last_failure_at = 0;
    a.updated_at = now;
    if (auto u = tx.update_account(a); !u) return u;
    proven = std::move(a);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  if (replayed) return fail(Errc::retry_later, "step-up: this code was already used; wait for the next one");
  if (locked_now) return fail(Errc::locked, "mfa_failures");
  if (!proven) return fail(Errc::permission, std::string(kNotRight));
  return std::move(*proven);
}

Result<void> AccountService::change_password(std::string_view session_token, std::string_view current_password,
                                             std::string_view new_password, std::string_view code,
                                             const std::string& client) {
  if (auto r = crypto::init(); !r) return std::unexpected(r.error());
  const Bytes h = hash_token(kSessionLabel, session_token);
  // The policy first: a refused password costs no attempt.
  std::string name;
  if (auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
        auto a = owner_of(tx, h, opt_.clock(), opt_);
        if (!a) return propagate(a);
        if (*a) name = (*a)->name;
        return {};
      });
      !r) {
    return r;
  }
  if (name.empty()) return fail(Errc::not_found, "self-service: no live session");
  if (auto p = check_password_policy(new_password, name); !p) return p;
  auto hash = hash_password(new_password, opt_.pwhash);
  if (!hash) return propagate(hash);

  auto proven = prove_owner(session_token, current_password, code, action::account_password, client);
  if (!proven) return std::unexpected(proven.error());
  const std::int64_t now = opt_.clock();
  return store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto found = tx.find_account(proven->id);
    if (!found) return propagate(found);
    if (!*found) return fail(Errc::not_found, "self-service: no live session");
    store::AccountRow& a = **found;
    a.password_hash = std::move(*hash);
    a.updated_at = now;
    return save_own_change(tx, *keys_, a, h, action::account_password, client);
  });
}

Result<AuthenticatorChange> AccountService::begin_authenticator_change(std::string_view session_token,
                                                                       std::string_view current_password,
                                                                       std::string_view code,
                                                                       const std::string& client) {
  auto proven = prove_owner(session_token, current_password, code, action::account_authenticator, client);
  if (!proven) return std::unexpected(proven.error());
  const Bytes h = hash_token(kSessionLabel, session_token);
  auto secret = crypto::SecretBytes::random(kTotpSecretSize);
  if (!secret) return std::unexpected(secret.error());
  // Sealed under the key version of the current secret: the recovery codes,
  // hashed under that version, keep working with the new authenticator.
  auto sealer = crypto::TotpSealer::of(*keys_, sealed_version(proven->totp_sealed));
  if (!sealer) return std::unexpected(sealer.error());
  AuthenticatorChange out;
  out.issued_at = opt_.clock();
  const Bytes sealed = sealer->seal(secret->span(), pending_ad(proven->id, h, out.issued_at));
  out.pending = base64url(sealed);
  auto uri = otpauth_uri(proven->name, secret->span());
  if (!uri) return std::unexpected(uri.error());
  out.otpauth_uri = std::move(*uri);
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto w = write_audit(tx, *keys_, account_actor(audit::to_hex(proven->id)), action::account_authenticator,
                         {{"account", proven->name}, {"result", "started"}}, client);
    if (!w) return propagate(w);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<void> AccountService::confirm_authenticator_change(std::string_view session_token, std::string_view pending,
                                                          std::int64_t issued_at, std::string_view new_code,
                                                          const std::string& client) {
  if (auto r = crypto::init(); !r) return std::unexpected(r.error());
  const Bytes h = hash_token(kSessionLabel, session_token);
  const std::int64_t now = opt_.clock();
  if (issued_at > now || now - issued_at > kAuthenticatorChangeSeconds) {
    return fail(Errc::not_found, "authenticator change: expired");
  }
  const auto sealed = from_base64url(pending);
  if (!sealed || sealed->size() != crypto::TotpSealer::kOverhead + kTotpSecretSize) {
    return fail(Errc::not_found, "authenticator change: expired");
  }
  bool wrong = false;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto found = owner_of(tx, h, now, opt_);
    if (!found) return propagate(found);
    if (!*found) return fail(Errc::not_found, "self-service: no live session");
    store::AccountRow& a = **found;
    const std::uint32_t version = sealed_version(a.totp_sealed);
    if (crypto::TotpSealer::version_of(*sealed) != version) return fail(Errc::not_found, "authenticator change: expired");
    auto sealer = crypto::TotpSealer::of(*keys_, version);
    if (!sealer) return propagate(sealer);
    auto secret = sealer->open(*sealed, pending_ad(a.id, h, issued_at));
    if (!secret) return fail(Errc::not_found, "authenticator change: expired");
    // No code of the new secret was ever used: any step in the window is
    // fresh. The replay guard only moves forward (below), so neither the
    // old secret's spent step nor this one serves again.
    const auto step = six_digits(new_code) ? totp_check(secret->span(), new_code, now, -1)
                                           : std::optional<std::int64_t>{};
    if (!step) {
      wrong = true;
      return {};
    }
    // Stored under the same key version, so the recovery codes, hashed
    // under it, keep working with the new authenticator.
    auto resealed = seal_totp_version(*keys_, version, a.id, secret->span());
    if (!resealed) return propagate(resealed);
    a.totp_sealed = std::move(*resealed);
    a.totp_last_step = std::max(a.totp_last_step, *step);
    a.updated_at = now;
    return save_own_change(tx, *keys_, a, h, action::account_authenticator, client);
  });
  if (!r) return r;
  if (wrong) return fail(Errc::permission, "authenticator change: the code is not right");
  return {};
}

}  // namespace rempart::auth
