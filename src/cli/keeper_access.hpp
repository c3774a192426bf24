#pragma once
// How every keeper-side CLI command opens what it needs: the configuration,
// checked (keys outside the data directory, data directory 0700), the
// keeper keyring and the keeper store; and how it signs the audit head
// before it exits.
#include <filesystem>
#include <memory>
#include <optional>

#include "audit/checkpoint.hpp"
#include "cli/config.hpp"
#include "core/error.hpp"
#include "crypto/keyring.hpp"
#include "keys/pkcs11_token.hpp"
#include "services/vault.hpp"
#include "store/backend.hpp"
#include "store/store.hpp"

namespace rempart::cli {

// Key files must never sit where a copy of the data directory (a backup, a
// stolen disk image of the data volume) would take them along, nor the
// outside checkpoints that would expose a rollback of it.
Result<void> check_layout(const Config& c);
// The data directory exists and is closed to group and others.
Result<void> check_data_dir(const std::filesystem::path& dir);

std::unique_ptr<audit::Checkpointer> make_checkpointer(const Config& c, const crypto::KeeperKeyring& keys,
                                                       store::KeeperStore& st);

// Where keeper.keyring is opened: plain from its file, or sealed by the
// PKCS#11 token the configuration names ([keys] provider = "pkcs11"); the
// token session lives as long as this.
struct KeySource {
  std::unique_ptr<keys::Token> token;
  std::optional<crypto::KeyringSeal> token_seal;
  // Record data keys of the versions whose key the token holds are wrapped
  // by it (keys/token_wrapper.hpp).
  std::shared_ptr<const crypto::RecordKeyWrapper> record_wrapper;
  // Audit checkpoints of the versions whose signing key the token holds are
  // signed there (keys/token_wrapper.hpp).
  std::shared_ptr<const crypto::AuditKeySigner> audit_signer;
  const crypto::KeyringSeal* seal() const { return token_seal ? &*token_seal : nullptr; }
  // The keeper keyring from `key_dir`, opened through this source and
  // wired to its record wrapper and audit signer.
  Result<crypto::KeeperKeyring> load(const std::filesystem::path& key_dir) const;
};
// Opens the token a configuration names (none: a plain key file). With
// `create_key`, the token's keyring key is made if absent (keys seal);
// otherwise its absence is an error that names the command to run.
Result<KeySource> open_key_source(const Config& c, bool create_key = false);

struct Keeper {
  Config config;
  KeySource key_source;
  crypto::KeeperKeyring keys;
  std::unique_ptr<store::Backend> backend;
  std::unique_ptr<store::KeeperStore> store;

  // Built on use, never in open_keeper: it keeps references to `keys` and
  // `store`, which must not move afterwards.
  std::unique_ptr<audit::Checkpointer> checkpointer() { return make_checkpointer(config, keys, *store); }
  // The one unseal point (services/vault.hpp); built on use for the same
  // reason: it keeps a reference to `keys`.
  services::Vault vault() const { return services::Vault(keys); }

  // A CLI command that wrote entries signs the head before it exits, so
  // what it recorded is covered outside the database at once. The entries
  // are already durable: a failure here is reported, not fatal.
  void checkpoint_on_exit();
};

// How a command will use the keeper store.
enum class KeeperUse {
  brief,  // a few statements: its commits checkpoint the WAL themselves when due
  bulk,   // commits all the time (import, synth): a thread of the store checkpoints
};

// Loads and checks the configuration, sets up logging, loads the keeper
// keyring and opens the keeper store.
Result<Keeper> open_keeper(const std::filesystem::path& config_file, KeeperUse use = KeeperUse::brief);

}  // namespace rempart::cli
