#pragma once
// Console accounts, login, sessions and API tokens (docs/accounts.md). The
// console and the CLI call this service; it owns every rule: password policy,
// mandatory TOTP with replay refusal, single-use recovery codes, throttling
// and locking, session lifetimes, token scopes, and one audit entry per
// security event written in the same transaction as the change.
//
// Secrets at rest: the password as an Argon2id hash, the TOTP secret sealed
// with crypto::TotpSealer (associated data = a label and the account id),
// recovery codes hashed with crypto::RecoveryCodeHasher, session and API
// tokens as BLAKE2b. Nothing secret enters an audit entry or an Error.
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
#include "crypto/export_box.hpp"
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
inline constexpr std::string_view mfa_check = "mfa.check";  // a TOTP code checked outside login (step-up)
inline constexpr std::string_view privilege_request = "privilege.request";
inline constexpr std::string_view privilege_approve = "privilege.approve";
inline constexpr std::string_view privilege_refuse = "privilege.refuse";
inline constexpr std::string_view privilege_expire = "privilege.expire";
inline constexpr std::string_view account_invite = "account.invite";    // an enrolment code made for an account
inline constexpr std::string_view account_enrol = "account.enrol";      // its owner set a password and TOTP
inline constexpr std::string_view account_enrolled = "account.enrolled";  // and confirmed with a first code
inline constexpr std::string_view account_budget = "account.budget";    // a raised budget took effect
inline constexpr std::string_view account_enable = "account.enable";    // a disabled account enabled again
inline constexpr std::string_view account_password = "account.password";  // its owner changed (or failed to) the password
inline constexpr std::string_view account_authenticator = "account.authenticator";  // its owner replaced the authenticator
inline constexpr std::string_view incident_lockdown = "incident.lockdown";  // everyone out at once (docs/incident.md)
inline constexpr std::string_view incident_release = "incident.release";    // one account let back in after it
}  // namespace action

// Unix seconds. Injected so tests can move time.
using Clock = std::function<std::int64_t()>;
std::int64_t system_now();

struct AuthOptions {
  PwhashLimits pwhash = PwhashLimits::production();
  std::int64_t session_idle_seconds = 15 * 60;
  std::int64_t session_absolute_seconds = 8 * 3600;
  std::int64_t lock_after_failures = 10;
  // Two-person privilege changes (docs/accounts.md): an approver must have
  // held the admin role this long before the request was made.
  std::int64_t approver_cooling_seconds = 24 * 3600;
  std::int64_t request_ttl_seconds = 72 * 3600;  // a request not decided by then expires
  std::int64_t enrolment_seconds = 72 * 3600;    // an enrolment code works this long once in force
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
  crypto::SecretBytes otpauth_uri;                  // text
  std::vector<crypto::SecretBytes> recovery_codes;  // text, "xxxx-xxxx-xxxx-xxxx"
  // The X25519 secret key export files are sealed to (docs/exports.md),
  // as text (export_secret_key.text()): "rmpx1_<base64url of 32 bytes>",
  // from crypto::generate_export_key_pair. Only its public key is stored: it
  // cannot be shown again, and a new one (from reset_mfa) cannot open
  // files sealed to the old one.
  crypto::SecretBytes export_secret_key;
};

// The text prefix of an export secret key.
inline constexpr std::string_view kExportSecretKeyPrefix = crypto::kExportSecretKeyPrefix;

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
  bool enrolling = false;  // waits for its owner to set a password and TOTP
  std::optional<std::int64_t> admin_since;
  // While locked: since when (nullopt for locks older than the column) and
  // what crossed, as the guard or the sign-in recorded it, without personal
  // data: {"counted", "window" (m|h|d), "limit"} for a budget, {"by"} for a
  // honeytoken, {"failures"} for failed sign-ins or codes; {} if unknown.
  std::optional<std::int64_t> locked_at;
  nlohmann::json lock_detail = nlohmann::json::object();
};

// What a lockdown did (AccountService::lock_down). Account names are staff
// names, not supporter data.
struct Lockdown {
  std::string kept;                      // the break-glass account; "" when none was named
  std::vector<std::string> locked;       // accounts disabled and sent back to enrolment, by name
  std::int64_t sessions_ended = 0;       // of every account, the kept one's too
  std::vector<std::int64_t> tokens_revoked;    // API token ids
  std::vector<std::int64_t> requests_refused;  // pending privilege request ids
  std::int64_t budgets_ended = 0;        // raised budgets ended early
  std::int64_t seq = 0;                  // the incident.lockdown entry
};

// The longest lockdown or release reason (bytes).
inline constexpr std::size_t kLockdownReasonMax = 200;

// A new authenticator waiting for its first code (begin_authenticator_change).
// `otpauth_uri` is secret (shown to the owner once, never logged); `pending`
// is the new secret sealed under the keeper's keys and bound to the account,
// the session and `issued_at`: the page carries it to the confirmation,
// which is refused after kAuthenticatorChangeSeconds.
struct AuthenticatorChange {
  crypto::SecretBytes otpauth_uri;  // text
  std::string pending;              // base64url, opaque
  std::int64_t issued_at = 0;       // unix seconds
};
inline constexpr std::int64_t kAuthenticatorChangeSeconds = 10 * 60;

// Why the account is locked, in words for the admins who decide to unlock it
// ("reveal budget exceeded: email, per hour, limit 20"; never a parenthesis,
// so it sits in one in `admin list`); "" when it is not locked. Built from
// lock_reason and lock_detail only: no personal data.
std::string lock_description(const AccountInfo& a);

// What a privilege request asks for. Each kind reads its own fields.
enum class PrivilegeKind { create_account, set_role, unlock, reset_mfa, reveal_token, raise_budget };
inline constexpr PrivilegeKind kAllPrivilegeKinds[] = {PrivilegeKind::create_account, PrivilegeKind::set_role,
                                                       PrivilegeKind::unlock,         PrivilegeKind::reset_mfa,
                                                       PrivilegeKind::reveal_token,   PrivilegeKind::raise_budget};
std::string_view privilege_kind_name(PrivilegeKind k) noexcept;
std::optional<PrivilegeKind> parse_privilege_kind(std::string_view s) noexcept;

struct PrivilegeAsk {
  PrivilegeKind kind = PrivilegeKind::create_account;
  std::string target;        // the account's name; for reveal_token the token's label
  Role role = Role::viewer;  // create_account, set_role
  std::string reason;        // unlock (required); 0..200 bytes otherwise, no personal data
  std::int64_t days = 90;    // reveal_token: 1..3650
  std::string counted;       // raise_budget: name | email | phone | address | masked | miss
  std::int64_t per_minute = 0, per_hour = 0, per_day = 0;  // raise_budget: 0..1,000,000 (0 = no limit)
  std::int64_t hours = 8;    // raise_budget: how long the raise lasts, 1..168
};

// What the requester gets back. `secret` (create_account and reset_mfa: the
// enrolment code to hand to the person; reveal_token: the token) is shown
// once and works only after another admin approves.
struct PrivilegeReceipt {
  std::int64_t id = 0;
  crypto::SecretBytes secret;  // text (secret.text()); empty for kinds that hand nothing over
};

struct PrivilegeRequestInfo {
  std::int64_t id = 0;
  PrivilegeKind kind = PrivilegeKind::create_account;
  std::string requester;     // account name
  std::string requester_id;  // hex
  std::string target;
  nlohmann::json params;     // role, reason, scope, days, counted, limits (no secret)
  std::string status;        // pending | approved | refused | expired
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  std::string decided_by;    // account name, "" while pending
  std::optional<std::int64_t> decided_at;
};

// The result of a step-up check (a TOTP code asked again before a
// sensitive action).
enum class StepUp {
  ok,        // a fresh code: its time step is now spent
  replayed,  // a right code already used (at sign-in or an earlier step-up): wait for the next; not a failure
  failed,    // wrong or malformed code, or a disabled or locked account: counted like a failed login
  locked,    // a failure that has just locked the account (lock_after_failures): its sessions are ended
};

// The account an enrolment code opens, for the enrolment page.
struct EnrolmentInvite {
  std::string account_name;
  Role role = Role::viewer;
};

// A session as the console sees it.
struct SessionInfo {
  std::string account_id;  // hex
  std::string name;
  Role role = Role::viewer;
  crypto::SecretBytes csrf_token;  // text; send with every state-changing request
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
  crypto::SecretBytes token;  // text: 256-bit random, base64url
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
  // Set by check_api_token for a token an account made: that account's
  // role. Its uses are charged to that account's budgets.
  std::optional<Role> creator_role;
};

struct NewApiToken {
  crypto::SecretBytes token;  // text, shown once: "rmp_<prefix>_<secret>"
  ApiTokenInfo info;
};

// CSRF token of a session token: a one-way function of it, so the server
// stores nothing more and a leaked CSRF token does not reveal the session.
// Fails only if guarded memory is unavailable.
Result<crypto::SecretBytes> csrf_token_for(std::string_view session_token);
// Constant-time check of `csrf` against the session token's CSRF token.
bool check_csrf(std::string_view session_token, std::string_view csrf);

class AccountService {
 public:
  // `store` and `keys` must outlive the service.
  AccountService(store::KeeperStore& store, const crypto::KeeperKeyring& keys, AuthOptions options = {});
  const AuthOptions& options() const noexcept { return opt_; }

  // ---- Administration. `actor` is the audit actor ("operator:<user>" on the
  // CLI, account_actor(id) in the console). Nobody may change, disable,
  // reset or unlock their own account: Errc::permission.
  //
  // create_account, set_role, reset_mfa, unlock and reveal tokens are the
  // operator's direct paths (the keeper host's CLI: the first admin and
  // break-glass); an account actor gets Errc::permission and must use
  // request_privilege, which another admin approves.

  // Creates an account with a fresh TOTP secret and ten recovery codes, for
  // its owner sitting at the keeper host (the set-up is printed to them).
  // Errc::invalid_input for a bad name or a password failing the policy,
  // Errc::conflict if the name is taken; store errors otherwise.
  Result<Enrolment> create_account(const std::string& actor, const std::string& name, Role role,
                                   std::string_view password);
  // Creates an account that its owner enrols themselves with the returned
  // single-use code (enrol_self); operator only.
  Result<crypto::SecretBytes> invite_account(const std::string& actor, const std::string& name, Role role);
  // Ends the account's sessions, clears its password, TOTP, recovery codes
  // and export key, and returns a new enrolment code for its owner; operator only.
  Result<crypto::SecretBytes> reset_enrolment(const std::string& actor, const std::string& name);
  Result<std::vector<AccountInfo>> list_accounts();
  Result<AccountInfo> account(const std::string& name);
  // Disables the account and ends its sessions. Errc::not_found if unknown.
  Result<void> disable_account(const std::string& actor, const std::string& name);
  // Enables a disabled account again (the inverse of disable_account; one
  // admin, like disabling). Its owner signs in with the password and
  // authenticator they had; a lock stays until unlocked; API tokens the
  // account made are revoked, not revived. Audited `account.enable`
  // {"account", "account_id", "tokens_revoked"}. Errc::not_found if
  // unknown, Errc::conflict if not disabled, Errc::permission for one's
  // own account.
  Result<void> enable_account(const std::string& actor, const std::string& name);
  Result<void> set_role(const std::string& actor, const std::string& name, Role role);
  // Replaces the TOTP secret, every recovery code and the export key pair;
  // ends its sessions.
  Result<Enrolment> reset_mfa(const std::string& actor, const std::string& name);
  // Clears the lock and the failure count. `reason` (1..200 bytes, no
  // personal data) is recorded.
  Result<void> unlock(const std::string& actor, const std::string& name, const std::string& reason);
  // Ends every session of the account; returns how many there were.
  Result<std::int64_t> revoke_sessions(const std::string& actor, const std::string& name);

  // ---- Lockdown (docs/incident.md); operator only.

  // Everyone out, in one transaction with one `incident.lockdown` entry
  // (reason, kept, the lists and counts of Lockdown): ends every session;
  // revokes every API token; refuses every pending privilege request; ends
  // every raised budget; disables every account but `keep` and clears its
  // password, authenticator, recovery codes and export key, with no
  // enrolment code (release_account makes one). `keep` ("" for none) must
  // be an enrolled, enabled admin: it keeps its password and authenticator
  // (its sessions end too). `reason`: 1..kLockdownReasonMax bytes, no
  // control character, no personal data. Errc::invalid_input for a bad
  // reason or a `keep` that is no such admin; nothing changes then.
  Result<Lockdown> lock_down(const std::string& actor, const std::string& keep, const std::string& reason);
  // Lets one account back in after a lockdown: enables it (when disabled)
  // and returns a new single-use enrolment code with which its owner sets a
  // new password and authenticator. Audited `incident.release` {"account",
  // "account_id", "reason", "sessions_revoked"}. Errc::not_found if unknown.
  Result<crypto::SecretBytes> release_account(const std::string& actor, const std::string& name,
                                              const std::string& reason);

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

  // ---- Self-service: the owner of the session behind `session_token`
  // (self_service.cpp). Each proves the person with the current password
  // and a fresh TOTP code (its time step is then spent). A wrong password or
  // code counts against the account like a failed sign-in and locks it at
  // lock_after_failures (Errc::locked "mfa_failures", sessions ended);
  // otherwise Errc::permission "self-service: the password or code is not
  // right". A right code already used: Errc::retry_later, nothing counted.
  // Errc::not_found when the session is not live. Nothing changes on any
  // error. Audited (never a secret) with the account as actor.

  // Replaces the password after checking `new_password` against the
  // policy (Errc::invalid_input, nothing counted) and the proofs above;
  // ends every other session of the account. Audited `account.password`
  // {"account", "result": "changed"|"failure", "sessions_ended"|"cause"}.
  Result<void> change_password(std::string_view session_token, std::string_view current_password,
                               std::string_view new_password, std::string_view code, const std::string& client);
  // Checks the proofs and makes a new TOTP secret, returned for the owner
  // to scan; nothing is stored yet. Audited `account.authenticator`
  // {"result": "started"|"failure"}.
  Result<AuthenticatorChange> begin_authenticator_change(std::string_view session_token,
                                                         std::string_view current_password, std::string_view code,
                                                         const std::string& client);
  // The first code of the new authenticator: the new secret replaces the
  // old (recovery codes stay valid), every other session ends. Errc::permission
  // "authenticator change: the code is not right" for a wrong code (not
  // counted: the person holds this secret already), Errc::not_found
  // "authenticator change: expired" for a pending value that is stale,
  // malformed or not this session's. Audited `account.authenticator`
  // {"result": "changed", "sessions_ended"}.
  Result<void> confirm_authenticator_change(std::string_view session_token, std::string_view pending,
                                            std::int64_t issued_at, std::string_view new_code,
                                            const std::string& client);

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

  // ---- Step-up checks (approvals, privilege requests, tokens, exports).

  // Checks a 6-digit TOTP code of the account (±1 time step; recovery
  // codes are not accepted here). A success spends the code's time step
  // like a login does, so the same code is refused afterwards, by login
  // too. A right code whose step is already spent is `replayed`: not
  // counted, the person waits for the next code. A failure (wrong or
  // malformed code, disabled or locked account) counts against the account
  // like a failed login, and locks it at lock_after_failures. Audited
  // `mfa.check` {"account", "result": "success"|"replayed"|"failure",
  // "cause" on failure}, actor the account, in the same transaction.
  // Errc::invalid_input for an id that is not 32 hex digits,
  // Errc::not_found for an unknown account (nothing written then).
  Result<StepUp> check_second_factor(const std::string& account_id_hex, std::string_view code);
  // check_second_factor as an Error: Errc::retry_later for a replayed
  // code, Errc::permission for a failed one, Errc::locked ("mfa_failures")
  // for the failure that locked the account.
  Result<void> require_step_up(const std::string& account_id_hex, std::string_view code);

  // Whether `approver` may be the second person of what `requester` asked
  // at `requested_at`: another account, active, unlocked, admin since at
  // least approver_cooling_seconds before the request, and not an account
  // the requester requested or approved the creation or role of (nor the
  // other way round). Errc::permission with the rule broken otherwise.
  Result<void> check_approver(store::KeeperTx& tx, const store::Bytes& approver_id, const store::Bytes& requester_id,
                              std::int64_t requested_at);

  // ---- Privilege changes (two people; docs/accounts.md).

  // Files a request after a step-up of the requester (a fresh TOTP code).
  // Errc::invalid_input for a malformed ask, Errc::not_found for an unknown
  // target account, Errc::permission for one's own account, Errc::conflict
  // for a taken name or a pending request of the same kind and target.
  // Audited `privilege.request`.
  Result<PrivilegeReceipt> request_privilege(const std::string& requester_hex, const PrivilegeAsk& ask,
                                             std::string_view code, const std::string& client);
  // The newest requests, newest first; pending ones past their time are
  // shown expired.
  Result<std::vector<PrivilegeRequestInfo>> privilege_requests(std::size_t limit = 100);
  // Approves and applies a request, in one transaction, after
  // check_approver and a step-up of the approver. Errc::conflict when it is
  // no longer pending (or has expired: then marked so), Errc::permission
  // for an approver the rules refuse (before any code is checked),
  // Errc::retry_later for a replayed code. Audited `privilege.approve` and
  // the change's own entry (account.create, account.role, …).
  Result<PrivilegeRequestInfo> approve_privilege(const std::string& approver_hex, std::int64_t id,
                                                 std::string_view code, const std::string& client);
  // Refuses (or, by its requester, withdraws) a pending request.
  Result<PrivilegeRequestInfo> refuse_privilege(const std::string& actor_hex, std::int64_t id,
                                                const std::string& client);

  // ---- Self-enrolment (docs/accounts.md).

  // The account a valid, unexpired enrolment code opens; nullopt otherwise.
  Result<std::optional<EnrolmentInvite>> enrolment_for(std::string_view code);
  // Sets the owner's password, a new TOTP secret, recovery codes and export
  // key (returned once, to the owner only). The account stays enrolling
  // until confirm_enrolment; calling again starts over. Errc::not_found for
  // an unknown or expired code, Errc::invalid_input for a password failing
  // the policy.
  Result<Enrolment> enrol_self(std::string_view code, std::string_view password, const std::string& client);
  // The first TOTP code from the owner's app: the account becomes active
  // and the enrolment code is spent. False for a wrong code (nothing
  // changes); Errc::not_found for an unknown or expired code.
  Result<bool> confirm_enrolment(std::string_view code, std::string_view totp, const std::string& client);
  // The account's export public key (32 bytes), nullopt for an account
  // made before exports existed and not reset since. Errc::invalid_input
  // for a bad id, Errc::not_found for an unknown account.
  Result<std::optional<store::Bytes>> export_public_key(const std::string& account_id_hex);

 private:
  Result<Enrolment> enrol(const store::Bytes& account_id, const std::string& name, store::Bytes& sealed,
                          std::vector<store::Bytes>& code_hashes);
  Result<void> apply_privilege(store::KeeperTx& tx, const store::PrivilegeRequestRow& req,
                               const store::AccountRow& approver, std::int64_t now, nlohmann::json& done);
  Result<PrivilegeRequestInfo> request_info(store::KeeperTx& tx, const store::PrivilegeRequestRow& row);
  Result<crypto::SecretBytes> enrolment_after(const std::string& actor, const std::string& name,
                                              std::string_view audit_action, const std::string& reason);
  Result<void> modify(const std::string& actor, const std::string& name, std::string_view audit_action,
                      const std::function<Result<void>(store::KeeperTx&, store::AccountRow&, nlohmann::json&)>&
                          change);
  const std::string& dummy_hash();
  // The owner's proofs for self-service (self_service.cpp).
  Result<store::AccountRow> prove_owner(std::string_view session_token, std::string_view password,
                                        std::string_view code, std::string_view audit_action,
                                        const std::string& client);

  store::KeeperStore* store_;
  const crypto::KeeperKeyring* keys_;
  AuthOptions opt_;
  std::string dummy_hash_;
};

}  // namespace rempart::auth
