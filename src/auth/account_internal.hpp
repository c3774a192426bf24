#pragma once
// Helpers the account service's files share (accounts.cpp, privileges.cpp,
// enrolment.cpp). Not part of the auth layer's interface.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "auth/accounts.hpp"
#include "crypto/account_keys.hpp"
#include "crypto/keyring.hpp"
#include "crypto/secret.hpp"
#include "store/store.hpp"

namespace rempart::auth::internal {

inline constexpr std::size_t kAccountIdSize = 16;
inline constexpr std::string_view kLockReasonFailures = "too many failed logins";

Result<store::Bytes> seal_totp(const crypto::KeeperKeyring& keys, const store::Bytes& account_id,
                               std::span<const std::uint8_t> secret);
Result<crypto::SecretBytes> open_totp(const crypto::KeeperKeyring& keys, const store::Bytes& account_id,
                                      const store::Bytes& sealed);
// seal_totp under the keyring's `version` instead of the current one.
Result<store::Bytes> seal_totp_version(const crypto::KeeperKeyring& keys, std::uint32_t version,
                                       const store::Bytes& account_id, std::span<const std::uint8_t> secret);
std::uint32_t sealed_version(const store::Bytes& sealed);
// The recovery code hasher of `version`; Errc::crypto if the keyring lacks it.
Result<crypto::RecoveryCodeHasher> recovery_hasher(const crypto::KeeperKeyring& keys, std::uint32_t version);
std::string normalise_code(std::string_view code);
// The same for a code that is a secret (a recovery code).
Result<crypto::SecretBytes> normalise_secret_code(std::string_view code);
Result<crypto::SecretBytes> new_recovery_code();  // text
std::string base64url(std::span<const std::uint8_t> bytes);
// `prefix` then base64url of `bytes`, as text.
Result<crypto::SecretBytes> base64url_secret(std::string_view prefix, std::span<const std::uint8_t> bytes);
// `prefix` then 256 random bits in base64url, as text.
Result<crypto::SecretBytes> random_token(std::string_view prefix = {});
store::Bytes hash_token(std::string_view label, std::string_view token);
store::Bytes random_bytes(std::size_t n);
Role role_of(const store::AccountRow& a);
Result<std::int64_t> write_audit(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, std::string actor,
                                 std::string_view act, nlohmann::json details, std::string client = {});
ApiTokenInfo token_info(const store::ApiTokenRow& r);
Result<void> make_export_key(Enrolment& e, store::Bytes& public_key);
std::optional<store::Bytes> parse_account_id(std::string_view hex);
// The CLI's operator ("operator:<user>"), who holds the keyring on the keeper host.
bool is_operator_actor(const std::string& actor);
// Locks `a` for too many failed sign-ins or codes at `now`, recording why
// (lock_reason, locked_at, lock_detail {"failures": n}).
void lock_for_failures(store::AccountRow& a, std::int64_t now);
// Clears the lock, its reason and details, and the failure count; and, in
// `tx`, the account's budget counters: an admin who unlocks judged what was
// counted, so the next reveal does not cross the same line again.
Result<void> clear_lock(store::KeeperTx& tx, store::AccountRow& a);


}  // namespace rempart::auth::internal
