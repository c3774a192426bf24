#include "auth/accounts.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>

#include "audit/chain.hpp"
#include "auth/account_internal.hpp"
#include "auth/totp.hpp"
#include "crypto/export_box.hpp"
#include "core/hex.hpp"
#include "core/metrics.hpp"

namespace rempart::auth {
namespace {

using store::Bytes;

constexpr std::size_t kTokenBytes = 32;  // 256-bit session and API secrets
constexpr std::int64_t kIpFailureMemorySeconds = 24 * 3600;

constexpr std::string_view kTotpAdLabel = "rempart/totp/v1";

Bytes totp_ad(const Bytes& account_id) {
  Bytes ad(kTotpAdLabel.begin(), kTotpAdLabel.end());
  ad.insert(ad.end(), account_id.begin(), account_id.end());
  return ad;
}

}  // namespace

namespace internal {

Result<Bytes> seal_totp(const crypto::KeeperKeyring& keys, const Bytes& account_id,
                        std::span<const std::uint8_t> secret) {
  auto sealer = crypto::TotpSealer::current(keys);
  if (!sealer) return std::unexpected(sealer.error());
  return sealer->seal(secret, totp_ad(account_id));
}

Result<Bytes> seal_totp_version(const crypto::KeeperKeyring& keys, std::uint32_t version, const Bytes& account_id,
                                std::span<const std::uint8_t> secret) {
  auto sealer = crypto::TotpSealer::of(keys, version);
  if (!sealer) return std::unexpected(sealer.error());
  return sealer->seal(secret, totp_ad(account_id));
}

std::uint32_t sealed_version(const Bytes& sealed) { return crypto::TotpSealer::version_of(sealed); }

Result<crypto::SecretBytes> open_totp(const crypto::KeeperKeyring& keys, const Bytes& account_id,
                                      const Bytes& sealed) {
  if (sealed.size() != crypto::TotpSealer::kOverhead + kTotpSecretSize) {
    return fail(Errc::invalid_input, "sealed TOTP secret is malformed");
  }
  auto sealer = crypto::TotpSealer::of(keys, sealed_version(sealed));
  if (!sealer) {
    if (sealer.error().code == Errc::not_found) {
      return fail(Errc::crypto, "sealed TOTP secret names an unknown key version");
    }
    return std::unexpected(sealer.error());
  }
  auto out = sealer->open(sealed, totp_ad(account_id));
  if (!out && out.error().code == Errc::crypto) return fail(Errc::crypto, "sealed TOTP secret does not authenticate");
  return out;
}

// Recovery codes are hashed under the key version of the TOTP seal made at
// the same enrolment, so a key rotation does not strand them.
Result<crypto::RecoveryCodeHasher> recovery_hasher(const crypto::KeeperKeyring& keys, std::uint32_t version) {
  auto h = crypto::RecoveryCodeHasher::of(keys, version);
  if (!h && h.error().code == Errc::not_found) return fail(Errc::crypto, "recovery codes name an unknown key version");
  return h;
}

// Lower-case letters and digits only: what a person may type with dashes or
// spaces in between.
std::string normalise_code(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  }
  return out;
}

Result<crypto::SecretBytes> normalise_secret_code(std::string_view code) {
  const auto kept = [](char c) { return c != '-' && c != ' '; };
  auto out = crypto::SecretBytes::allocate(static_cast<std::size_t>(std::count_if(code.begin(), code.end(), kept)));
  if (!out) return out;
  std::size_t i = 0;
  for (char c : code) {
    if (!kept(c)) continue;
    out->data()[i++] = static_cast<std::uint8_t>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return out;
}

Result<crypto::SecretBytes> new_recovery_code() {
  std::array<std::uint8_t, 10> raw{};  // 80 bits -> 16 base32 characters
  randombytes_buf(raw.data(), raw.size());
  std::string b = base32(raw);  // wiped below
  sodium_memzero(raw.data(), raw.size());
  auto out = crypto::SecretBytes::allocate(16 + 3);
  if (out) {
    std::size_t at = 0;
    for (std::size_t i = 0; i < 16; ++i) {
      if (i > 0 && i % 4 == 0) out->data()[at++] = '-';
      const char c = b[i];
      out->data()[at++] = static_cast<std::uint8_t>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
  }
  sodium_memzero(b.data(), b.size());
  return out;
}

std::string base64url(std::span<const std::uint8_t> bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  return out;
}

Result<crypto::SecretBytes> base64url_secret(std::string_view prefix, std::span<const std::uint8_t> bytes) {
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  // sodium_bin2base64 writes a terminating NUL, which the text leaves out.
  auto b64 = crypto::SecretBytes::allocate(sodium_base64_ENCODED_LEN(bytes.size(), kVariant));
  if (!b64) return b64;
  sodium_bin2base64(reinterpret_cast<char*>(b64->data()), b64->size(), bytes.data(), bytes.size(), kVariant);
  const std::size_t len = b64->size() - 1;
  auto out = crypto::SecretBytes::allocate(prefix.size() + len);
  if (!out) return out;
  std::copy(prefix.begin(), prefix.end(), out->data());
  std::copy_n(b64->data(), len, out->data() + prefix.size());
  return out;
}

Result<crypto::SecretBytes> random_token(std::string_view prefix) {
  std::array<std::uint8_t, kTokenBytes> raw{};
  randombytes_buf(raw.data(), raw.size());
  auto t = base64url_secret(prefix, raw);
  sodium_memzero(raw.data(), raw.size());
  return t;
}

Bytes hash_token(std::string_view label, std::string_view token) {
  Bytes out(32);
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, out.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(label.data()), label.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  crypto_generichash_final(&st, out.data(), out.size());
  return out;
}

Bytes random_bytes(std::size_t n) {
  Bytes b(n);
  randombytes_buf(b.data(), b.size());
  return b;
}

Role role_of(const store::AccountRow& a) { return parse_role(a.role).value_or(Role::viewer); }

Result<std::int64_t> write_audit(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, std::string actor,
                                 std::string_view act, nlohmann::json details, std::string client) {
  return audit::record(tx, keys, audit::Event{std::move(actor), std::string(act), "", std::move(details),
                                              std::move(client)});
}

ApiTokenInfo token_info(const store::ApiTokenRow& r) {
  return ApiTokenInfo{r.id,         r.label,      parse_scope(r.scope).value_or(Scope::intake), r.prefix,
                      r.created_by, r.created_at, r.expires_at,                                r.revoked_at, std::nullopt};
}

// A fresh export key pair: the secret goes into `e` as text, the public
// key into `public_key`.
Result<void> make_export_key(Enrolment& e, Bytes& public_key) {
  auto kp = crypto::generate_export_key_pair();
  if (!kp) return std::unexpected(kp.error());
  public_key = std::move(kp->public_key);
  e.export_secret_key = std::move(kp->secret_key_text);
  return {};
}

std::optional<Bytes> parse_account_id(std::string_view hex) { return core::from_hex(hex, kAccountIdSize); }

void lock_for_failures(store::AccountRow& a, std::int64_t now) {
  core::metrics::process_registry().locks[core::metrics::LockReason::login_failures].add();
  a.locked = true;
  a.lock_reason = std::string(kLockReasonFailures);
  a.locked_at = now;
  a.lock_detail = nlohmann::json{{"failures", a.failures}}.dump();
}

Result<void> clear_lock(store::KeeperTx& tx, store::AccountRow& a) {
  a.locked = false;
  a.lock_reason.clear();
  a.locked_at.reset();
  a.lock_detail.clear();
  a.failures = 0;
  a.last_failure_at = 0;
  auto n = tx.delete_counters_of(account_actor(audit::to_hex(a.id)));
  if (!n) return propagate(n);
  return {};
}

}  // namespace internal

using namespace internal;

std::int64_t system_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool valid_account_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

std::int64_t throttle_delay(std::int64_t failures) noexcept {
  if (failures < 3) return 0;
  const std::int64_t shift = std::min<std::int64_t>(failures - 3, 10);
  return std::min<std::int64_t>(std::int64_t{1} << shift, 900);
}

std::string lock_description(const AccountInfo& a) {
  if (!a.locked) return {};
  const auto& d = a.lock_detail;
  const auto text = [&](const char* k) { return d.contains(k) && d[k].is_string() ? d[k].get<std::string>() : std::string(); };
  const auto number = [&](const char* k) {
    return d.contains(k) && d[k].is_number_integer() ? std::to_string(d[k].get<std::int64_t>()) : std::string();
  };
  const std::string w = text("window");
  const std::string window = w == "m" ? "per minute" : w == "h" ? "per hour" : w == "d" ? "per day" : "";
  // ", per hour, limit 20" from what is known.
  const auto crossed = [&](std::string out) {
    if (!window.empty()) out += (out.empty() ? "" : ", ") + window;
    if (!number("limit").empty()) out += (out.empty() ? "limit " : ", limit ") + number("limit");
    return out;
  };
  std::string out;
  const std::string& r = a.lock_reason;
  if (r == internal::kLockReasonFailures) {
    out = "too many failed sign-ins or codes";
    if (!number("failures").empty()) out += ": " + number("failures") + " in a row";
  } else if (r == "guard: reveal_budget") {
    out = "reveal budget exceeded";
    const std::string c = crossed(text("counted"));
    if (!c.empty()) out += ": " + c;
  } else if (r == "guard: list_budget") {
    out = "listing budget exceeded";
    const std::string c = crossed("masked rows");
    out += ": " + c;
  } else if (r == "guard: search_misses") {
    out = "too many searches that found nobody";
    const std::string c = crossed({});
    if (!c.empty()) out += ": " + c;
  } else if (r == "guard: honeytoken") {
    out = "a honeytoken record was touched";
    if (!text("by").empty()) out += ", by " + text("by");
  } else {
    out = r.empty() ? std::string("no reason recorded") : r;
  }
  return out;
}

std::string account_actor(std::string_view account_id_hex) { return "account:" + std::string(account_id_hex); }

Result<crypto::SecretBytes> csrf_token_for(std::string_view session_token) {
  Bytes h = hash_token("rempart/csrf/v1", session_token);
  auto out = base64url_secret({}, h);
  sodium_memzero(h.data(), h.size());
  return out;
}

bool check_csrf(std::string_view session_token, std::string_view csrf) {
  const auto expected = csrf_token_for(session_token);
  if (!expected) return false;
  return expected->equals({reinterpret_cast<const std::uint8_t*>(csrf.data()), csrf.size()});
}

AccountService::AccountService(store::KeeperStore& store, const crypto::KeeperKeyring& keys, AuthOptions options)
    : store_(&store), keys_(&keys), opt_(std::move(options)) {}

const std::string& AccountService::dummy_hash() {
  if (dummy_hash_.empty()) {
    // A random password nobody knows: verifying against it costs what a
    // real verification costs and never succeeds.
    if (auto password = random_token()) {
      if (auto h = hash_password(password->text(), opt_.pwhash)) dummy_hash_ = std::move(*h);
    }
  }
  return dummy_hash_;
}

Result<Enrolment> AccountService::enrol(const Bytes& account_id, const std::string& name, Bytes& sealed,
                                        std::vector<Bytes>& code_hashes) {
  auto secret = crypto::SecretBytes::random(kTotpSecretSize);
  if (!secret) return std::unexpected(secret.error());
  auto s = seal_totp(*keys_, account_id, secret->span());
  if (!s) return std::unexpected(s.error());
  sealed = std::move(*s);
  Enrolment e;
  e.account_id = audit::to_hex(account_id);
  auto uri = otpauth_uri(name, secret->span());
  if (!uri) return std::unexpected(uri.error());
  e.otpauth_uri = std::move(*uri);
  auto hasher = recovery_hasher(*keys_, sealed_version(sealed));
  if (!hasher) return std::unexpected(hasher.error());
  code_hashes.clear();
  for (std::size_t i = 0; i < kRecoveryCodeCount; ++i) {
    auto code = new_recovery_code();
    if (!code) return std::unexpected(code.error());
    auto normalised = normalise_secret_code(code->text());
    if (!normalised) return std::unexpected(normalised.error());
    code_hashes.push_back(hasher->hash(account_id, normalised->text()));
    e.recovery_codes.push_back(std::move(*code));
  }
  e.totp_secret = std::move(*secret);
  return e;
}

bool internal::is_operator_actor(const std::string& actor) { return actor.starts_with("operator:"); }

namespace {

Result<void> operator_only(const std::string& actor) {
  if (!is_operator_actor(actor)) {
    return fail(Errc::permission, "this change is requested in the console and approved by another admin");
  }
  return {};
}

}  // namespace

Result<Enrolment> AccountService::create_account(const std::string& actor, const std::string& name, Role role,
                                                 std::string_view password) {
  if (auto r = operator_only(actor); !r) return std::unexpected(r.error());
  if (!valid_account_name(name)) return fail(Errc::invalid_input, "account name must match [a-z0-9._-]{1,64}");
  if (auto r = check_password_policy(password, name); !r) return std::unexpected(r.error());
  if (auto r = crypto::init(); !r) return std::unexpected(r.error());
  auto hash = hash_password(password, opt_.pwhash);
  if (!hash) return propagate(hash);
  const std::int64_t now = opt_.clock();
  store::AccountRow row;
  row.id = random_bytes(kAccountIdSize);
  row.name = name;
  row.role = std::string(role_name(role));
  row.password_hash = std::move(*hash);
  row.created_at = row.updated_at = now;
  row.created_by = actor;
  if (role == Role::admin) row.admin_since = now;
  std::vector<Bytes> codes;
  auto e = enrol(row.id, name, row.totp_sealed, codes);
  if (!e) return e;
  Bytes export_public;
  if (auto k = make_export_key(*e, export_public); !k) return std::unexpected(k.error());
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    if (auto i = tx.insert_account(row); !i) {
      if (i.error().code == Errc::conflict) return fail(Errc::conflict, "an account of that name exists");
      return i;
    }
    if (auto k = tx.set_export_public_key(row.id, export_public); !k) return k;
    if (auto i = tx.insert_recovery_codes(row.id, codes); !i) return i;
    auto a = write_audit(tx, *keys_, actor, action::account_create,
                         {{"account", name}, {"account_id", e->account_id}, {"role", row.role}});
    if (!a) return propagate(a);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return e;
}

Result<std::vector<AccountInfo>> AccountService::list_accounts() {
  std::vector<AccountInfo> out;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto rows = tx.accounts();
    if (!rows) return propagate(rows);
    for (const auto& a : *rows) {
      auto left = tx.count_unused_recovery_codes(a.id);
      if (!left) return propagate(left);
      AccountInfo info{audit::to_hex(a.id), a.name, role_of(a), a.disabled, a.locked, a.lock_reason,
                       a.failures, *left, a.created_at, a.updated_at, a.state == "enrolling",
                       a.admin_since, std::nullopt, nlohmann::json::object()};
      if (a.locked) {
        info.locked_at = a.locked_at;
        // Written by this program as an object; anything else is shown as no detail.
        auto detail = nlohmann::json::parse(a.lock_detail, nullptr, false);
        if (!detail.is_discarded() && detail.is_object()) info.lock_detail = std::move(detail);
      }
      out.push_back(std::move(info));
    }
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<AccountInfo> AccountService::account(const std::string& name) {
  auto all = list_accounts();
  if (!all) return propagate(all);
  for (auto& a : *all) {
    if (a.name == name) return std::move(a);
  }
  return fail(Errc::not_found, "no such account");
}

Result<void> AccountService::modify(
    const std::string& actor, const std::string& name, std::string_view audit_action,
    const std::function<Result<void>(store::KeeperTx&, store::AccountRow&, nlohmann::json&)>& change) {
  return store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto found = tx.find_account_by_name(name);
    if (!found) return propagate(found);
    if (!*found) return fail(Errc::not_found, "no such account");
    store::AccountRow& a = **found;
    const std::string id_hex = audit::to_hex(a.id);
    // The console's "by another admin": nobody changes their own account.
    if (actor == account_actor(id_hex)) return fail(Errc::permission, "an account cannot do this to itself");
    nlohmann::json details = {{"account", a.name}, {"account_id", id_hex}};
    if (auto c = change(tx, a, details); !c) return c;
    a.updated_at = opt_.clock();
    if (auto u = tx.update_account(a); !u) return u;
    auto w = write_audit(tx, *keys_, actor, audit_action, std::move(details));
    if (!w) return propagate(w);
    return {};
  });
}

Result<void> AccountService::disable_account(const std::string& actor, const std::string& name) {
  return modify(actor, name, action::account_disable,
                [&](store::KeeperTx& tx, store::AccountRow& a, nlohmann::json& d) -> Result<void> {
                  a.disabled = true;
                  auto n = tx.delete_sessions_of(a.id);
                  if (!n) return propagate(n);
                  d["sessions_revoked"] = *n;
                  return {};
                });
}

Result<void> AccountService::enable_account(const std::string& actor, const std::string& name) {
  const std::int64_t now = opt_.clock();
  return modify(actor, name, action::account_enable,
                [&](store::KeeperTx& tx, store::AccountRow& a, nlohmann::json& d) -> Result<void> {
                  if (!a.disabled) return fail(Errc::conflict, "enable: the account is not disabled");
                  a.disabled = false;
                  // The person comes back, not what was made in their name
                  // before: tokens that may have been copied stay dead.
                  auto t = tx.revoke_api_tokens_of(account_actor(audit::to_hex(a.id)), now);
                  if (!t) return propagate(t);
                  d["tokens_revoked"] = *t;
                  if (a.locked) d["still_locked"] = true;
                  return {};
                });
}

Result<void> AccountService::set_role(const std::string& actor, const std::string& name, Role role) {
  if (auto r = operator_only(actor); !r) return r;
  return modify(actor, name, action::account_role,
                [&](store::KeeperTx& tx, store::AccountRow& a, nlohmann::json& d) -> Result<void> {
                  d["from"] = a.role;
                  d["to"] = std::string(role_name(role));
                  if (role != Role::admin) {
                    a.admin_since.reset();
                  } else if (a.role != "admin") {
                    a.admin_since = opt_.clock();
                  }
                  a.role = std::string(role_name(role));
                  // Sessions carry the role they were opened with in
                  // nobody's mind but the user's: end them so it shows.
                  auto n = tx.delete_sessions_of(a.id);
                  if (!n) return propagate(n);
                  return {};
                });
}

Result<Enrolment> AccountService::reset_mfa(const std::string& actor, const std::string& name) {
  if (auto r = operator_only(actor); !r) return std::unexpected(r.error());
  std::optional<Enrolment> e;
  auto r = modify(actor, name, action::account_reset_mfa,
                  [&](store::KeeperTx& tx, store::AccountRow& a, nlohmann::json& d) -> Result<void> {
                    std::vector<Bytes> codes;
                    auto en = enrol(a.id, a.name, a.totp_sealed, codes);
                    if (!en) return std::unexpected(en.error());
                    Bytes export_public;
                    if (auto k = make_export_key(*en, export_public); !k) return k;
                    if (auto k = tx.set_export_public_key(a.id, export_public); !k) return k;
                    a.totp_last_step = -1;
                    a.state = "active";
                    a.enrol_hash.reset();
                    if (auto x = tx.delete_recovery_codes(a.id); !x) return x;
                    if (auto x = tx.insert_recovery_codes(a.id, codes); !x) return x;
                    auto n = tx.delete_sessions_of(a.id);
                    if (!n) return propagate(n);
                    d["sessions_revoked"] = *n;
                    e.emplace(std::move(*en));
                    return {};
                  });
  if (!r) return std::unexpected(r.error());
  return std::move(*e);
}

Result<void> AccountService::unlock(const std::string& actor, const std::string& name, const std::string& reason) {
  if (auto r = operator_only(actor); !r) return r;
  if (reason.empty() || reason.size() > 200) return fail(Errc::invalid_input, "unlock reason must be 1..200 bytes");
  return modify(actor, name, action::account_unlock,
                [&](store::KeeperTx& tx, store::AccountRow& a, nlohmann::json& d) -> Result<void> {
                  d["was_locked"] = a.locked;
                  d["previous_reason"] = a.lock_reason;
                  d["reason"] = reason;
                  return clear_lock(tx, a);
                });
}

Result<std::int64_t> AccountService::revoke_sessions(const std::string& actor, const std::string& name) {
  std::int64_t count = 0;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto found = tx.find_account_by_name(name);
    if (!found) return propagate(found);
    if (!*found) return fail(Errc::not_found, "no such account");
    auto n = tx.delete_sessions_of((*found)->id);
    if (!n) return propagate(n);
    count = *n;
    auto w = write_audit(tx, *keys_, actor, action::session_revoke,
                         {{"account", name}, {"account_id", audit::to_hex((*found)->id)}, {"sessions", count},
                          {"reason", "revoke_all"}});
    if (!w) return propagate(w);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return count;
}

Result<LoginOutcome> AccountService::authenticate(const std::string& name, std::string_view password,
                                                  std::string_view second_factor, const std::string& client) {
  if (auto r = crypto::init(); !r) return std::unexpected(r.error());
  const std::int64_t now = opt_.clock();

  // 1. What we know before spending any work: the account and the throttle.
  std::optional<store::AccountRow> before;
  std::int64_t wait = 0;
  if (auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
        if (valid_account_name(name)) {
          auto a = tx.find_account_by_name(name);
          if (!a) return propagate(a);
          before = std::move(*a);
        }
        auto ip = tx.login_throttle(client);
        if (!ip) return propagate(ip);
        if (before) wait = std::max(wait, before->last_failure_at + throttle_delay(before->failures) - now);
        if (*ip && now - (*ip)->last_failure_at <= kIpFailureMemorySeconds) {
          wait = std::max(wait, (*ip)->last_failure_at + throttle_delay((*ip)->failures) - now);
        }
        return {};
      });
      !r) {
    return std::unexpected(r.error());
  }

  const std::string account_name = before ? before->name : std::string("unknown");
  const std::string actor = before ? account_actor(audit::to_hex(before->id)) : std::string("anonymous");

  if (wait > 0) {
    // Too early: refused without checking anything, and not counted, so a
    // client hammering the form does not lengthen its own wait for ever.
    auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto w = write_audit(tx, *keys_, actor, action::login_failure, {{"account", account_name}, {"cause", "throttled"}},
                           client);
      if (!w) return propagate(w);
      return {};
    });
    if (!r) return std::unexpected(r.error());
    return LoginOutcome{std::nullopt, wait, false, 0};
  }

  // 2. The Argon2id work, outside any transaction, the same for an unknown
  // account (against a dummy hash) as for a known one.
  // Built on the first login whatever its account, so that first call does
  // not tell a known name from an unknown one either.
  const std::string& dummy = dummy_hash();
  bool password_ok = false;
  if (before && !before->password_hash.empty()) {
    password_ok = verify_password(password, before->password_hash);
  } else {
    (void)verify_password(password, dummy);
  }

  // 3. Decide and record, on a fresh read (another login may have run).
  LoginOutcome out;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    std::optional<store::AccountRow> acct;
    if (before) {
      auto a = tx.find_account(before->id);
      if (!a) return propagate(a);
      acct = std::move(*a);
    }
    std::string cause = "password";
    bool ok = false;
    bool used_recovery = false;
    std::optional<std::int64_t> step;
    if (!acct) {
      cause = "unknown_account";
    } else if (acct->disabled) {
      cause = "disabled";
    } else if (acct->locked) {
      cause = "locked";
    } else if (acct->state != "active") {
      cause = "enrolling";
    } else if (password_ok) {
      cause = "second_factor";
      const bool looks_totp = second_factor.size() == kTotpDigits &&
                              std::all_of(second_factor.begin(), second_factor.end(),
                                          [](char c) { return c >= '0' && c <= '9'; });
      if (looks_totp) {
        auto secret = open_totp(*keys_, acct->id, acct->totp_sealed);
        if (!secret) return propagate(secret);
        step = totp_check(secret->span(), second_factor, now, acct->totp_last_step);
        ok = step.has_value();
      } else if (!second_factor.empty() && second_factor.size() <= 64) {
        auto hasher = recovery_hasher(*keys_, sealed_version(acct->totp_sealed));
        if (!hasher) return propagate(hasher);
        auto normalised = normalise_secret_code(second_factor);
        if (!normalised) return propagate(normalised);
        auto used = tx.use_recovery_code(acct->id, hasher->hash(acct->id, normalised->text()), now);
        if (!used) return propagate(used);
        ok = used_recovery = *used;
      }
    }

    if (ok) {
      acct->failures = 0;
      acct->last_failure_at = 0;
      if (step) acct->totp_last_step = *step;
      acct->updated_at = now;
      if (auto u = tx.update_account(*acct); !u) return u;
      if (auto c = tx.clear_login_throttle(client); !c) return c;
      NewSession s;
      auto token = random_token();
      if (!token) return propagate(token);
      s.token = std::move(*token);
      auto csrf = csrf_token_for(s.token.text());
      if (!csrf) return propagate(csrf);
      const std::string id_hex = audit::to_hex(acct->id);
      s.info = SessionInfo{id_hex, acct->name, role_of(*acct), std::move(*csrf), now, now};
      if (auto i = tx.insert_session(store::SessionRow{hash_token("rempart/session/v1", s.token.text()), acct->id, now, now,
                                                       client});
          !i) {
        return i;
      }
      auto left = tx.count_unused_recovery_codes(acct->id);
      if (!left) return propagate(left);
      auto a = audit::Appender::begin(tx, *keys_);
      if (!a) return propagate(a);
      const std::int64_t at = audit::now_us();
      if (used_recovery) {
        auto w = a->append(audit::Event{actor, std::string(action::mfa_recovery_used), "",
                                        {{"account", acct->name}, {"codes_left", *left}}, client},
                           at);
        if (!w) return propagate(w);
      }
      auto w = a->append(audit::Event{actor, std::string(action::login_success), "",
                                      {{"account", acct->name}, {"second_factor", used_recovery ? "recovery" : "totp"}},
                                      client},
                         at);
      if (!w) return propagate(w);
      out.session = std::move(s);
      out.recovery_code_used = used_recovery;
      out.recovery_codes_left = *left;
      return {};
    }

    // A failure: count it against the account and the client.
    nlohmann::json details = {{"account", acct ? acct->name : std::string("unknown")}, {"cause", cause}};
    std::int64_t delay = 0;
    if (acct) {
      acct->failures += 1;
      acct->last_failure_at = now;
      if (!acct->locked && acct->failures >= opt_.lock_after_failures) {
        lock_for_failures(*acct, now);
        details["locked"] = true;
      }
      acct->updated_at = now;
      if (auto u = tx.update_account(*acct); !u) return u;
      delay = throttle_delay(acct->failures);
      details["failures"] = acct->failures;
    }
    auto ip = tx.login_throttle(client);
    if (!ip) return propagate(ip);
    store::LoginThrottleRow row = ip->value_or(store::LoginThrottleRow{});
    if (now - row.last_failure_at > kIpFailureMemorySeconds) row.failures = 0;
    row.failures += 1;
    row.last_failure_at = now;
    if (auto p = tx.put_login_throttle(client, row); !p) return p;
    delay = std::max(delay, throttle_delay(row.failures));
    auto w = write_audit(tx, *keys_, actor, action::login_failure, std::move(details), client);
    if (!w) return propagate(w);
    out.retry_after_seconds = delay;
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<void> AccountService::require_step_up(const std::string& account_id_hex, std::string_view code) {
  auto s = check_second_factor(account_id_hex, code);
  if (!s) return std::unexpected(s.error());
  if (*s == StepUp::replayed) {
    return fail(Errc::retry_later, "step-up: this code was already used; wait for the next one");
  }
  if (*s == StepUp::failed) return fail(Errc::permission, "step-up: the code is not right");
  if (*s == StepUp::locked) return fail(Errc::locked, "mfa_failures");
  return {};
}

Result<StepUp> AccountService::check_second_factor(const std::string& account_id_hex, std::string_view code) {
  auto id = parse_account_id(account_id_hex);
  if (!id) return fail(Errc::invalid_input, "check_second_factor: invalid account id");
  if (auto r = crypto::init(); !r) return std::unexpected(r.error());
  const std::int64_t now = opt_.clock();
  StepUp out = StepUp::failed;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto found = tx.find_account(*id);
    if (!found) return propagate(found);
    if (!*found) return fail(Errc::not_found, "check_second_factor: no such account");
    store::AccountRow& a = **found;
    std::string cause;
    std::optional<std::int64_t> step;
    bool replayed = false;
    if (a.disabled) {
      cause = "disabled";
    } else if (a.locked) {
      cause = "locked";
    } else if (a.state != "active") {
      cause = "enrolling";
    } else {
      const bool looks_totp = code.size() == kTotpDigits &&
                              std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (looks_totp) {
        auto secret = open_totp(*keys_, a.id, a.totp_sealed);
        if (!secret) return propagate(secret);
        const TotpVerdict v = totp_verify(secret->span(), code, now, a.totp_last_step);
        step = v.step;
        replayed = v.replayed;
      }
      if (!step) cause = "second_factor";
    }
    nlohmann::json details = {{"account", a.name}};
    if (replayed) {
      // The person typed the code they have just used: nothing guessed,
      // nothing counted. They wait for the next code.
      out = StepUp::replayed;
      details["result"] = "replayed";
      auto w = write_audit(tx, *keys_, account_actor(audit::to_hex(*id)), action::mfa_check, std::move(details));
      if (!w) return propagate(w);
      return {};
    }
    if (step) {
      out = StepUp::ok;
      a.totp_last_step = *step;
      a.failures = 0;
      a.last_failure_at = 0;
      details["result"] = "success";
    } else {
      // Counted like a failed login: whoever holds a session but not the
      // second factor gets no more guesses here than at the sign-in form.
      if (!a.locked && !a.disabled) {
        a.failures += 1;
        a.last_failure_at = now;
        if (a.failures >= opt_.lock_after_failures) {
          lock_for_failures(a, now);
          details["locked"] = true;
          out = StepUp::locked;
          if (auto n = tx.delete_sessions_of(a.id); !n) return propagate(n);
        }
        details["failures"] = a.failures;
      }
      details["result"] = "failure";
      details["cause"] = cause;
    }
    a.updated_at = now;
    if (auto u = tx.update_account(a); !u) return u;
    auto w = write_audit(tx, *keys_, account_actor(audit::to_hex(*id)), action::mfa_check, std::move(details));
    if (!w) return propagate(w);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<std::optional<store::Bytes>> AccountService::export_public_key(const std::string& account_id_hex) {
  auto id = parse_account_id(account_id_hex);
  if (!id) return fail(Errc::invalid_input, "export_public_key: invalid account id");
  std::optional<Bytes> out;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto k = tx.export_public_key(*id);
    if (!k) return propagate(k);
    out = std::move(*k);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<std::optional<SessionInfo>> AccountService::validate_session(std::string_view token) {
  const std::int64_t now = opt_.clock();
  std::optional<SessionInfo> out;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    const Bytes h = hash_token("rempart/session/v1", token);
    auto s = tx.find_session(h);
    if (!s) return propagate(s);
    if (!*s) return {};
    auto a = tx.find_account((*s)->account_id);
    if (!a) return propagate(a);
    const bool expired = now - (*s)->last_seen_at > opt_.session_idle_seconds ||
                         now - (*s)->created_at > opt_.session_absolute_seconds;
    if (!*a || (*a)->disabled || (*a)->locked || (*a)->state != "active" || expired) {
      auto d = tx.delete_session(h);
      if (!d) return propagate(d);
      return {};
    }
    if (auto t = tx.touch_session(h, now); !t) return t;
    auto csrf = csrf_token_for(token);
    if (!csrf) return propagate(csrf);
    out = SessionInfo{audit::to_hex((*a)->id), (*a)->name, role_of(**a), std::move(*csrf), (*s)->created_at, now};
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<void> AccountService::logout(std::string_view token, const std::string& client) {
  return store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    const Bytes h = hash_token("rempart/session/v1", token);
    auto s = tx.find_session(h);
    if (!s) return propagate(s);
    if (!*s) return {};
    auto d = tx.delete_session(h);
    if (!d) return propagate(d);
    const std::string id_hex = audit::to_hex((*s)->account_id);
    auto w = write_audit(tx, *keys_, account_actor(id_hex), action::session_revoke,
                         {{"account_id", id_hex}, {"sessions", 1}, {"reason", "logout"}}, client);
    if (!w) return propagate(w);
    return {};
  });
}

Result<std::vector<SessionSummary>> AccountService::sessions(std::string_view token) {
  const std::int64_t now = opt_.clock();
  const Bytes h = hash_token("rempart/session/v1", token);
  std::vector<SessionSummary> out;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto s = tx.find_session(h);
    if (!s) return propagate(s);
    if (!*s) return {};
    auto all = tx.sessions_of((*s)->account_id);
    if (!all) return propagate(all);
    for (const auto& row : *all) {
      const bool live = now - row.last_seen_at <= opt_.session_idle_seconds &&
                        now - row.created_at <= opt_.session_absolute_seconds;
      if (live) out.push_back(SessionSummary{row.created_at, row.last_seen_at, row.client, row.token_hash == h});
    }
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<NewApiToken> AccountService::create_api_token(const std::string& actor, const std::string& label, Scope scope,
                                                     std::int64_t expires_days) {
  if (label.empty() || label.size() > 100) return fail(Errc::invalid_input, "token label must be 1..100 bytes");
  if (expires_days < 1 || expires_days > 3650) return fail(Errc::invalid_input, "token expiry must be 1..3650 days");
  // A token that reveals is a privilege: from an account it is a request
  // another admin approves (request_privilege, reveal_token).
  if (scope == Scope::reveal) {
    if (auto r = operator_only(actor); !r) return std::unexpected(r.error());
  }
  if (auto r = crypto::init(); !r) return std::unexpected(r.error());
  const std::int64_t now = opt_.clock();
  std::array<std::uint8_t, 5> p{};
  randombytes_buf(p.data(), p.size());
  NewApiToken t;
  const std::string prefix = "rmp_" + normalise_code(base32(p));
  auto token = random_token(prefix + "_");
  if (!token) return std::unexpected(token.error());
  t.token = std::move(*token);
  store::ApiTokenRow row{0, label, std::string(scope_name(scope)), prefix, hash_token("rempart/api/v1", t.token.text()),
                         actor, now, now + expires_days * 86400, std::nullopt};
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto id = tx.insert_api_token(row);
    if (!id) return propagate(id);
    row.id = *id;
    auto w = write_audit(tx, *keys_, actor, action::token_create,
                         {{"token_id", row.id}, {"label", label}, {"scope", row.scope}, {"prefix", prefix},
                          {"expires_at", row.expires_at}});
    if (!w) return propagate(w);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  t.info = token_info(row);
  return t;
}

Result<std::vector<ApiTokenInfo>> AccountService::list_api_tokens() {
  std::vector<ApiTokenInfo> out;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto rows = tx.api_tokens();
    if (!rows) return propagate(rows);
    for (const auto& row : *rows) out.push_back(token_info(row));
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<void> AccountService::revoke_api_token(const std::string& actor, std::int64_t id) {
  const std::int64_t now = opt_.clock();
  return store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto done = tx.revoke_api_token(id, now);
    if (!done) return propagate(done);
    if (!*done) return fail(Errc::not_found, "no such token, or already revoked");
    auto w = write_audit(tx, *keys_, actor, action::token_revoke, {{"token_id", id}});
    if (!w) return propagate(w);
    return {};
  });
}

Result<std::optional<ApiTokenInfo>> AccountService::check_api_token(std::string_view token) {
  const std::int64_t now = opt_.clock();
  std::optional<ApiTokenInfo> out;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto row = tx.find_api_token(hash_token("rempart/api/v1", token));
    if (!row) return propagate(row);
    if (!*row || (*row)->revoked_at || now >= (*row)->expires_at || !parse_scope((*row)->scope)) return {};
    ApiTokenInfo info = token_info(**row);
    const std::string& by = (*row)->created_by;
    if (by.starts_with("account:")) {
      // A token acts for the account that made it: it stops the moment that
      // account is disabled, locked or re-enrolling, and spends its budgets.
      auto id = parse_account_id(std::string_view(by).substr(8));
      if (!id) return {};
      auto a = tx.find_account(*id);
      if (!a) return propagate(a);
      if (!*a || (*a)->disabled || (*a)->locked || (*a)->state != "active") return {};
      info.creator_role = role_of(**a);
    }
    out = std::move(info);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

}  // namespace rempart::auth
