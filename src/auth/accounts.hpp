#pragma once
// Console accounts, login, sessions and API tokens (docs/accounts.md). The
// console and the CLI call this service; it owns every rule: password policy,
// mandatory TOTP with replay refusal, single-use recovery codes, throttling
// and locking, session lifetimes, token scopes, and one audit entry per
// security event written in the same transaction as the change.
//
// Secrets at rest: the password as an Argon2id hash, the TOTP secret sealed
// (XChaCha20-Poly1305 under a key derived from the keyring's record_wrap key,
// associated data = account id), recovery codes as keyed BLAKE2b, session and
// API tokens as BLAKE2b. Nothing secret enters an audit entry or an Error.
//
// Thread-safety: an AccountService uses one KeeperStore, which is used by one
// thread at a time; so is the service. Open one per thread.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/password.hpp"
#include "auth/roles.hpp"
#include "core/error.hpp"
#include "crypto/keyring.hpp"
#include "crypto/secret.hpp"
#include "store/store.hpp"

namespace rempart::auth {

// Audit action names of this layer (added to, never renamed).
namespace action {
inline constexpr std::string_view login_success = "login.success";
inline constexpr std::string_view login_failure = "login.failure";
inline constexpr std::string_view mfa_recovery_used = "mfa.recovery_used";
inline constexpr std::string_view session_revoke = "session.revoke";
inline constexpr std::string_view account_create = "account.create";
inline constexpr std::string_view account_disable = "account.disable";
inline constexpr std::string_view account_role = "account.role";
inline constexpr std::string_view account_reset_mfa = "account.reset_mfa";
inline constexpr std::string_view account_unlock = "account.unlock";
inline constexpr std::string_view token_create = "token.create";
inline constexpr std::string_view token_revoke = "token.revoke";
inline constexpr std::string_view mfa_check = "mfa.check";  // a TOTP code checked outside login (export approval)
}  // namespace action

// Unix seconds. Injected so tests can move time.
using Clock = std::function<std::int64_t()>;
std::int64_t system_now();

struct AuthOptions {
  PwhashLimits pwhash = PwhashLimits::production();
  std::int64_t session_idle_seconds = 15 * 60;
  std::int64_t session_absolute_seconds = 8 * 3600;
  std::int64_t lock_after_failures = 10;
  Clock clock = system_now;
};

inline constexpr std::size_t kRecoveryCodeCount = 10;

// Whether `name` is a valid account name: [a-z0-9._-]{1,64}.
bool valid_account_name(std::string_view name) noexcept;

// The delay (seconds) a client must wait before the next attempt after
// `failures` consecutive failures: 0 for up to 2, then 1, 2, 4 … capped at 900.
std::int64_t throttle_delay(std::int64_t failures) noexcept;

// "account:<hex id>": the audit actor of a console account.
std::string account_actor(std::string_view account_id_hex);

// What `admin add` / `admin reset-mfa` shows once. Holds secrets: print it,
// never log it.
struct Enrolment {
  std::string account_id;  // hex
  crypto::SecretBytes totp_secret;
  std::string otpauth_uri;
  std::vector<std::string> recovery_codes;  // "xxxx-xxxx-xxxx-xxxx"
  // The X25519 secret key export files are sealed to (docs/exports.md),
  // as "rmpx1_<base64url of 32 bytes>". Only its public key is stored: it
  // cannot be shown again, and a new one (from reset_mfa) cannot open
  // files sealed to the old one.
  std::string export_secret_key;
};

// The text prefix of an export secret key.
inline constexpr std::string_view kExportSecretKeyPrefix = "rmpx1_";

struct AccountInfo {
  std::string id;  // hex
  std::string name;
  Role role = Role::viewer;
  bool disabled = false;
  bool locked = false;
  std::string lock_reason;
  std::int64_t failures = 0;
  std::int64_t recovery_codes_left = 0;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

// A session as the console sees it.
struct SessionInfo {
  std::string account_id;  // hex
  std::string name;
  Role role = Role::viewer;
  std::string csrf_token;  // send with every state-changing request
  std::int64_t created_at = 0;
  std::int64_t last_seen_at = 0;
};

// One of an account's sessions, as its owner sees them. No token, no hash.
struct SessionSummary {
  std::int64_t created_at = 0;
  std::int64_t last_seen_at = 0;
  std::string client;
  bool current = false;
};

// A new session: the token goes into the cookie, never anywhere else.
struct NewSession {
  std::string token;  // 256-bit random, base64url
  SessionInfo info;
};

// The result of a login attempt. A failure carries nothing but when the
// client may try again: never which factor failed, nor whether the account
// exists.
struct LoginOutcome {
  std::optional<NewSession> session;   // set on success
  std::int64_t retry_after_seconds = 0;  // on failure: wait at least this long
  bool recovery_code_used = false;
  std::int64_t recovery_codes_left = 0;
};

struct ApiTokenInfo {
  std::int64_t id = 0;
  std::string label;
  Scope scope = Scope::intake;
  std::string prefix;  // the public start of the token, e.g. "rmp_ab12cd34"
  std::string created_by;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  std::optional<std::int64_t> revoked_at;
};

struct NewApiToken {
  std::string token;  // shown once; "rmp_<prefix>_<secret>"
  ApiTokenInfo info;
};

// CSRF token of a session token: a one-way function of it, so the server
// stores nothing more and a leaked CSRF token does not reveal the session.
std::string csrf_token_for(std::string_view session_token);
// Constant-time check of `csrf` against the session token's CSRF token.
bool check_csrf(std::string_view session_token, std::string_view csrf);

class AccountService {
 public:
  // `store` and `keys` must outlive the service.
  AccountService(store::KeeperStore& store, const crypto::KeeperKeyring& keys, AuthOptions options = {});

  // ---- Administration. `actor` is the audit actor ("operator:<user>" on the
  // CLI, account_actor(id) in the console). In the console an admin may not
  // change, disable, reset or unlock their own account: Errc::permission.

  // Creates an account with a fresh TOTP secret and ten recovery codes.
  // Errc::invalid_input for a bad name or a password failing the policy,
  // Errc::conflict if the name is taken; store errors otherwise.
  Result<Enrolment> create_account(const std::string& actor, const std::string& name, Role role,
                                   std::string_view password);
  Result<std::vector<AccountInfo>> list_accounts();
  Result<AccountInfo> account(const std::string& name);
  // Disables the account and ends its sessions. Errc::not_found if unknown.
  Result<void> disable_account(const std::string& actor, const std::string& name);
  Result<void> set_role(const std::string& actor, const std::string& name, Role role);
  // Replaces the TOTP secret, every recovery code and the export key pair;
  // ends its sessions.
  Result<Enrolment> reset_mfa(const std::string& actor, const std::string& name);
  // Clears the lock and the failure count. `reason` (1..200 bytes, no
  // personal data) is recorded.
  Result<void> unlock(const std::string& actor, const std::string& name, const std::string& reason);
  // Ends every session of the account; returns how many there were.
  Result<std::int64_t> revoke_sessions(const std::string& actor, const std::string& name);

  // ---- Login and sessions.

  // Checks password and second factor (a 6-digit TOTP code, or a recovery
  // code, which is then spent) and opens a session. Every failure — unknown
  // account, wrong password, wrong or replayed code, disabled, locked,
  // throttled — gives the same outcome; an unknown account costs the same
  // Argon2id work as a known one. Counts failures per account and per
  // client; locks the account after lock_after_failures. Returns an Error
  // only for store failures (the console answers those like a failure).
  Result<LoginOutcome> authenticate(const std::string& name, std::string_view password,
                                    std::string_view second_factor, const std::string& client);
  // The session behind `token`, refreshing its idle timer; nullopt when
  // unknown, idle or too old (then deleted), or its account is disabled or
  // locked.
  Result<std::optional<SessionInfo>> validate_session(std::string_view token);
  // Ends the session (no-op if unknown).
  Result<void> logout(std::string_view token, const std::string& client);
  // The live sessions of the account behind `token` (idle or too old ones
  // are left out), most recent first; `current` marks the caller's own.
  Result<std::vector<SessionSummary>> sessions(std::string_view token);

  // ---- API tokens.
  // Errc::invalid_input if the label is empty or over 100 bytes, or
  // expires_days is not 1..3650.
  Result<NewApiToken> create_api_token(const std::string& actor, const std::string& label, Scope scope,
                                       std::int64_t expires_days);
  Result<std::vector<ApiTokenInfo>> list_api_tokens();
  // Errc::not_found if no such token or already revoked.
  Result<void> revoke_api_token(const std::string& actor, std::int64_t id);
  // The token's info if it is known, unexpired and unrevoked; else nullopt.
  Result<std::optional<ApiTokenInfo>> check_api_token(std::string_view token);

  // ---- Step-up checks (export approval, docs/exports.md).

  // Checks a 6-digit TOTP code of the account (±1 time step; recovery
  // codes are not accepted here). A success spends the code's time step
  // like a login does, so the same code is refused afterwards, by login
  // too. A failure (wrong, malformed or replayed code, disabled or locked
  // account) counts against the account like a failed login, and locks it
  // at lock_after_failures. Audited `mfa.check` {"account", "result":
  // "success"|"failure", "cause" on failure}, actor the account, in the
  // same transaction. Returns false on a failure; Errc::invalid_input for
  // an id that is not 32 hex digits, Errc::not_found for an unknown
  // account (nothing written then); store errors otherwise.
  Result<bool> check_second_factor(const std::string& account_id_hex, std::string_view code);
  // The account's export public key (32 bytes), nullopt for an account
  // made before exports existed and not reset since. Errc::invalid_input
  // for a bad id, Errc::not_found for an unknown account.
  Result<std::optional<store::Bytes>> export_public_key(const std::string& account_id_hex);

 private:
  Result<Enrolment> enrol(const store::Bytes& account_id, const std::string& name, store::Bytes& sealed,
                          std::vector<store::Bytes>& code_hashes);
  Result<void> modify(const std::string& actor, const std::string& name, std::string_view audit_action,
                      const std::function<Result<void>(store::KeeperTx&, store::AccountRow&, nlohmann::json&)>&
                          change);
  const std::string& dummy_hash();

  store::KeeperStore* store_;
  const crypto::KeeperKeyring* keys_;
  AuthOptions opt_;
  std::string dummy_hash_;
};

}  // namespace rempart::auth
