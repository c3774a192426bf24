#pragma once
// Versioned key sets (DESIGN.md "Key hierarchy"). The keeper holds every
// version of every key; the intake role holds only the public half of the
// sealing key pair, so a takeover of the internet-facing process finds no
// key that opens anything stored.
//
// On disk, a key directory (outside the data directory) holds:
//   keeper.keyring  every secret of every version (mode 0600)
//   intake.keyring  the current sealing public key and its version (0600)
// Both start with a magic header and end with a BLAKE2b checksum so a
// truncated or corrupted file is refused rather than half-read.
#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "core/error.hpp"
#include "crypto/secret.hpp"

namespace rempart::crypto {

inline constexpr std::size_t kKeySize = 32;
inline constexpr std::size_t kSignSecretSize = 64;  // Ed25519 seed || public key

namespace detail {
struct KeyAccess;
}  // namespace detail

// One version of every keeper key. Move-only because of its secrets. The
// secret keys are reachable only inside the crypto layer (detail::KeyAccess);
// other layers use them through the primitives made from a keyring:
// BatchOpener and the record functions (seal.hpp), blind_index
// (blind_index.hpp), AuditMac, AuditSigner and AuditVerifier
// (audit_keys.hpp), TotpSealer and RecoveryCodeHasher (account_keys.hpp).
class KeySet {
 public:
  std::uint32_t version = 0;
  std::array<std::uint8_t, 32> seal_public{};        // X25519
  std::array<std::uint8_t, 32> audit_sign_public{};  // Ed25519

  // A fresh set of random keys. Fails with Errc::crypto/internal only if
  // libsodium or guarded memory is unavailable.
  static Result<KeySet> generate(std::uint32_t version);

 private:
  friend struct detail::KeyAccess;

  SecretBytes seal_secret_;        // X25519, 32 bytes
  SecretBytes blind_index_;        // BLAKE2b key, 32 bytes
  SecretBytes record_wrap_;        // wraps record data keys, 32 bytes
  SecretBytes audit_mac_;          // 32 bytes
  SecretBytes audit_sign_secret_;  // Ed25519, 64 bytes
};

// The public half, all the intake role ever gets. Holds no secret at all.
struct IntakeKeyring {
  std::uint32_t version = 0;
  std::array<std::uint8_t, 32> seal_public{};
};

// All key versions, ordered by version; the highest is current. Never empty
// when obtained from a factory (a moved-from keyring must not be used).
// Immutable once built apart from add_version(); const methods are safe to
// call concurrently.
class KeeperKeyring {
 public:
  // A keyring with one fresh key set at `first_version` (>= 1), in memory.
  static Result<KeeperKeyring> generate(std::uint32_t first_version = 1);
  // Adopts already-built key sets. Refuses (Errc::invalid_input) an empty
  // list, versions that are zero, not strictly increasing, or key sets whose
  // sizes or public halves do not match their secrets.
  static Result<KeeperKeyring> from_sets(std::vector<KeySet> sets);

  // Appends a fresh key set with version current().version + 1, which
  // becomes current. Groundwork for rotation; not thread-safe.
  Result<void> add_version();

  const KeySet& current() const noexcept { return sets_.back(); }
  // nullptr if the keyring has no such version.
  const KeySet* version(std::uint32_t v) const noexcept;
  std::span<const KeySet> all() const noexcept { return sets_; }
  // The public half of the current version.
  IntakeKeyring intake() const noexcept;

 private:
  explicit KeeperKeyring(std::vector<KeySet> sets) noexcept : sets_(std::move(sets)) {}
  std::vector<KeySet> sets_;  // strictly increasing versions
};

inline constexpr const char* kKeeperKeyringFile = "keeper.keyring";
inline constexpr const char* kIntakeKeyringFile = "intake.keyring";

// Generates a keyring (version 1) and writes both files into `key_dir`
// (see write_keyrings).
Result<void> create_keyrings(const std::filesystem::path& key_dir);

// Writes `keyring` as keeper.keyring and its public half as intake.keyring.
// Creates `key_dir` with mode 0700 if missing (parents as needed). Refuses
// with Errc::conflict if either file already exists: key files are never
// overwritten. Each file is written to a temporary file (0600), fsynced and
// then moved into place without replacing anything, so a crash leaves no
// half-written key file. Errc::io on file system failure.
Result<void> write_keyrings(const std::filesystem::path& key_dir, const KeeperKeyring& keyring);

// Load the files written above. Both refuse: a missing file (Errc::not_found),
// a file accessible by group or others, i.e. mode & 077 (Errc::permission,
// the message names the path and suggests `chmod 600`), a file that is not a
// regular file or is truncated, corrupted or of an unknown format
// (Errc::invalid_input), an unreadable file (Errc::io). The keeper file is
// read straight into guarded memory and parsed from there.
Result<KeeperKeyring> load_keeper_keyring(const std::filesystem::path& key_dir);
Result<IntakeKeyring> load_intake_keyring(const std::filesystem::path& key_dir);

// The keeper.keyring format in memory, for a copy of the keyring kept
// elsewhere than in a file (key_shares.hpp). The bytes are every secret of
// every version; the same keyring always gives the same bytes. Fails only if
// guarded memory is unavailable.
Result<SecretBytes> serialise_keeper_keyring(const KeeperKeyring& keyring);
// Reads those bytes with every check load_keeper_keyring makes on a file's
// content (Errc::invalid_input when truncated, corrupted or of an unknown
// format). The bytes stay the caller's to wipe.
Result<KeeperKeyring> parse_keeper_keyring(std::span<const std::uint8_t> bytes);

// True if `inner` is `outer` or lies below it, after resolving symlinks and
// ".." of the existing part of each path (std::filesystem::weakly_canonical).
// Used to refuse a key directory placed inside the data directory.
bool path_is_within(const std::filesystem::path& inner, const std::filesystem::path& outer);

}  // namespace rempart::crypto
