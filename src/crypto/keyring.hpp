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
#include <functional>
#include <memory>
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
  // A retired version keeps only what checks and finds what is stored:
  // its audit MAC key and signing public key (`audit verify`) and its
  // blind-index key. Its sealing secret, record wrapping key and signing
  // secret are gone: nothing sealed or wrapped under it opens any more,
  // in the database or in any copy of it (docs/key-custody.md).
  bool retired = false;
  // The version's audit signing key is held by a PKCS#11 token
  // (keys/token_wrapper.hpp: "rempart-audit-sign-v<N>", made with the
  // version by `keys rotate`): the keyring keeps only its public half, and
  // AuditSigner signs through the keyring's AuditKeySigner.
  bool sign_in_token = false;

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

// Record data keys wrapped by keys held outside the keeper's memory: a
// PKCS#11 token's AES keys, one per key version (keys/token_wrapper.hpp).
// Implementations are thread-safe.
class RecordKeyWrapper {
 public:
  virtual ~RecordKeyWrapper() = default;
  // Whether a key of `version` is held (new data keys of that version are
  // then wrapped by it).
  virtual bool holds(std::uint32_t version) const = 0;
  // The 32-byte `data_key` encrypted under the key of `version`, bound to
  // `ad`: nonce || ciphertext || tag.
  virtual Result<Bytes> wrap(std::uint32_t version, std::span<const std::uint8_t> data_key,
                             std::span<const std::uint8_t> ad) const = 0;
  // The reverse, into `out` (32 bytes). Errc::crypto if it does not
  // authenticate, Errc::not_found if no key of `version` is held.
  virtual Result<void> unwrap(std::uint32_t version, std::span<const std::uint8_t> wrapped,
                              std::span<const std::uint8_t> ad, std::span<std::uint8_t> out) const = 0;
};

// Audit checkpoints signed by keys held outside the keeper's memory: a
// PKCS#11 token's Ed25519 keys, one per key version (keys/token_wrapper.hpp).
// Implementations are thread-safe.
class AuditKeySigner {
 public:
  virtual ~AuditKeySigner() = default;
  // Whether the signing key of `version` is held.
  virtual bool holds(std::uint32_t version) const = 0;
  // A detached Ed25519 signature (RFC 8032) of `message` under it.
  // Errc::not_found if no key of `version` is held.
  virtual Result<std::array<std::uint8_t, 64>> sign(std::uint32_t version,
                                                    std::span<const std::uint8_t> message) const = 0;
};

// All key versions, ordered by version; the highest is current. Never empty
// when obtained from a factory (a moved-from keyring must not be used).
//
// A keyring only grows: add_version() and adopt() append newer versions
// while other threads read (a running keeper takes a rotation without a
// restart). Every KeySet lives at a fixed address until the keyring is
// destroyed, so the references current(), version() and all() hand out stay
// valid while versions are added. Readers take no lock; writers serialise
// among themselves.
class KeeperKeyring {
 public:
  // Room for this many versions in one keyring (and in a keyring file).
  static constexpr std::size_t kMaxVersions = 10000;

  // A keyring with one fresh key set at `first_version` (>= 1), in memory.
  static Result<KeeperKeyring> generate(std::uint32_t first_version = 1);
  // Adopts already-built key sets. Refuses (Errc::invalid_input) an empty
  // list, versions that are zero, not strictly increasing, or key sets whose
  // sizes or public halves do not match their secrets.
  static Result<KeeperKeyring> from_sets(std::vector<KeySet> sets);

  KeeperKeyring(KeeperKeyring&&) noexcept;
  KeeperKeyring& operator=(KeeperKeyring&&) noexcept;
  ~KeeperKeyring();

  // What a rotation does with the blind-index key.
  enum class BlindIndexKey {
    // The new version carries the current one over: blind indexes are
    // looked up by value, and a new key leaves every stored index to be
    // found under the old one until it is computed again.
    carry_over,
    // The new version gets a key of its own: every lookup then tries the
    // older keys too (blind_index.hpp, blind_index_sets) until the indexes
    // are computed again (`keys rotate --key blind-index`).
    renew,
  };
  // Appends a fresh key set with version current().version + 1, which
  // becomes current (a rotation). Every key is new except the blind-index
  // key, which `blind` says what to do with. Thread-safe against readers
  // and other writers.
  Result<void> add_version(BlindIndexKey blind = BlindIndexKey::carry_over);

  // Takes from `newer` (the same keyring read again, after a rotation) the
  // versions above current(). Refuses (Errc::conflict) a keyring whose
  // versions in common with this one hold other keys (another instance's
  // keys), or that lacks this one's current version. Returns how many
  // versions were added. Thread-safe against readers and other writers.
  Result<std::size_t> adopt(KeeperKeyring&& newer);

  // A copy of this keyring in which version `v` is retired (see KeySet).
  // Errc::conflict for the current version or one retired already,
  // Errc::not_found for a version the keyring lacks. What still depends
  // on `v` is the caller's to check (keys retire).
  Result<KeeperKeyring> with_retired(std::uint32_t v) const;

  // A copy of this keyring whose current version's audit signing key is the
  // one whose public half is `public_key`, held by a token: the secret in
  // the keyring is dropped and the version marked sign_in_token. Only for a
  // version that has signed nothing yet (the one add_version just made):
  // checkpoints already signed under the version would no longer verify.
  // Errc::conflict if the current version's key is in a token already.
  Result<KeeperKeyring> with_token_signing(const std::array<std::uint8_t, 32>& public_key) const;

  const KeySet& current() const noexcept;
  std::uint32_t first_version() const noexcept;
  // nullptr if the keyring has no such version.
  const KeySet* version(std::uint32_t v) const noexcept;
  // Every version, oldest first: a snapshot; versions added afterwards are
  // not in it.
  std::vector<std::reference_wrapper<const KeySet>> all() const;
  std::size_t size() const noexcept;
  // The public half of the current version.
  IntakeKeyring intake() const noexcept;

  // Record data keys of the versions `wrapper` holds are wrapped by it from
  // now on (wrap format 3, field_codec.hpp); the others, and every record
  // wrapped before, by the keyring's record wrapping key. Set once, before
  // the keyring is shared.
  void use_record_wrapper(std::shared_ptr<const RecordKeyWrapper> wrapper) noexcept;
  const RecordKeyWrapper* record_wrapper() const noexcept;
  // Versions marked sign_in_token sign through `signer`. Set once, before
  // the keyring is shared.
  void use_audit_signer(std::shared_ptr<const AuditKeySigner> signer) noexcept;
  const AuditKeySigner* audit_signer() const noexcept;

 private:
  struct Slots;
  explicit KeeperKeyring(std::unique_ptr<Slots> slots) noexcept;
  // A copy of this keyring (through its file encoding) with `change`
  // applied to version `v`'s key set, checked again.
  Result<KeeperKeyring> copy_changing(std::uint32_t v, const std::function<void(KeySet&)>& change) const;
  std::unique_ptr<Slots> slots_;
};

inline constexpr const char* kKeeperKeyringFile = "keeper.keyring";
inline constexpr const char* kIntakeKeyringFile = "intake.keyring";

// keeper.keyring kept sealed by something outside this layer: a PKCS#11
// token's AES key (keys/sealed_keyring.hpp). A sealed file starts with
// kSealedKeeperMagic; what follows is the sealer's.
struct KeyringSeal {
  // The file's bytes for the keyring's plain bytes.
  std::function<Result<Bytes>(std::span<const std::uint8_t> plain)> seal;
  // The keyring's plain bytes, in guarded memory, for the file's bytes.
  std::function<Result<SecretBytes>(std::span<const std::uint8_t> file)> open;
};
inline constexpr std::array<std::uint8_t, 8> kSealedKeeperMagic{'R', 'M', 'P', 'K', 'S', 'E', 'A', 'L'};

// Generates a keyring (version 1) and writes both files into `key_dir`
// (see write_keyrings).
Result<void> create_keyrings(const std::filesystem::path& key_dir);

// Writes `keyring` as keeper.keyring and its public half as intake.keyring.
// Creates `key_dir` with mode 0700 if missing (parents as needed). Refuses
// with Errc::conflict if either file already exists: key files are never
// overwritten. Each file is written to a temporary file (0600), fsynced and
// then moved into place without replacing anything, so a crash leaves no
// half-written key file. Errc::io on file system failure.
// With `seal`, keeper.keyring is written sealed.
Result<void> write_keyrings(const std::filesystem::path& key_dir, const KeeperKeyring& keyring,
                            const KeyringSeal* seal = nullptr);

// Replaces both files of `key_dir` with `keyring` (a rotation: the same
// keyring with a newer version). Each file is written in full under a
// temporary name and fsynced, then renamed over the old one, keeper.keyring
// first, so that intake.keyring never names a version keeper.keyring lacks.
// Errc::not_found if either file is missing (a rotation never creates a key
// directory), Errc::io on file system failure.
// With `seal`, keeper.keyring is written sealed.
Result<void> replace_keyrings(const std::filesystem::path& key_dir, const KeeperKeyring& keyring,
                              const KeyringSeal* seal = nullptr);

// Load the files written above. Both refuse: a missing file (Errc::not_found),
// a file accessible by group or others, i.e. mode & 077 (Errc::permission,
// the message names the path and suggests `chmod 600`), a file that is not a
// regular file or is truncated, corrupted or of an unknown format
// (Errc::invalid_input), an unreadable file (Errc::io). The keeper file is
// read straight into guarded memory and parsed from there.
// With `seal`, keeper.keyring must be sealed and is opened by it; without,
// it must be plain. The other kind is refused with Errc::config and a
// message that says which setting or command is missing.
Result<KeeperKeyring> load_keeper_keyring(const std::filesystem::path& key_dir, const KeyringSeal* seal = nullptr);
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
