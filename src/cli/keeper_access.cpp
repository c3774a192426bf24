#include "cli/keeper_access.hpp"

#include "keys/sealed_keyring.hpp"
#include "keys/token_wrapper.hpp"

#include <sys/stat.h>

#include <iostream>
#include <vector>

#include "i18n/i18n.hpp"
#include "audit/chain.hpp"
#include "cli/commands.hpp"
#include "crypto/secret.hpp"
#include "store/backends.hpp"

namespace rempart::cli {

namespace fs = std::filesystem;

// Key files must never sit where a copy of the data directory (a backup, a
// stolen disk image of the data volume) would take them along.
Result<void> check_layout(const Config& c) {
  if (crypto::path_is_within(c.keys_dir, c.data_dir) || crypto::path_is_within(c.data_dir, c.keys_dir)) {
    return fail(Errc::config, "the key directory must not be inside the data directory (nor the reverse): keys " +
                                  c.keys_dir.string() + ", data " + c.data_dir.string());
  }
  // A copy of the data directory must never carry the checkpoints that
  // would expose its rollback.
  if (!c.audit.checkpoint_file.empty() && crypto::path_is_within(c.audit.checkpoint_file, c.data_dir)) {
    return fail(Errc::config, "[audit].checkpoint_file must be outside the data directory: " +
                                  c.audit.checkpoint_file.string());
  }
  return {};
}

Result<void> check_data_dir(const fs::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return fail(Errc::not_found, "data directory " + dir.string() + " is missing: run `rempart init`");
  if ((st.st_mode & 077) != 0) {
    return fail(Errc::permission, "data directory " + dir.string() + " is open to group or others: chmod 700 it");
  }
  return {};
}

std::unique_ptr<audit::Checkpointer> make_checkpointer(const Config& c, const crypto::KeeperKeyring& keys,
                                                       store::KeeperStore& st) {
  std::vector<std::unique_ptr<audit::CheckpointSink>> sinks;
  if (!c.audit.checkpoint_file.empty()) sinks.push_back(std::make_unique<audit::FileCheckpointSink>(c.audit.checkpoint_file));
  if (c.audit.checkpoint_syslog) sinks.push_back(std::make_unique<audit::SyslogCheckpointSink>());
  return std::make_unique<audit::Checkpointer>(
      keys, st, audit::CheckpointPolicy{c.audit.checkpoint_every, c.audit.checkpoint_seconds}, std::move(sinks));
}

void Keeper::checkpoint_on_exit() {
  auto r = checkpointer()->force(audit::now_us());
  if (!r) std::cerr << "rempart: warning: audit checkpoint not published: " << r.error().internal << "\n";
}

Result<Keeper> open_keeper(const fs::path& config_file, KeeperUse use) {
  auto c = load_config(config_file);
  if (!c) return std::unexpected(c.error());
  setup_logging(c->log_level);
  i18n::set_default(*i18n::parse(c->default_language));  // checked by parse_config
  if (auto r = check_layout(*c); !r) return std::unexpected(r.error());
  if (auto r = check_data_dir(c->data_dir); !r) return std::unexpected(r.error());
  if (auto r = crypto::init(); !r) return std::unexpected(r.error());
  auto source = open_key_source(*c);
  if (!source) return std::unexpected(source.error());
  auto keys = source->load(c->keys_dir);
  if (!keys) return std::unexpected(keys.error());
  auto backend = store::open_backend(c->storage());
  if (!backend) return std::unexpected(backend.error());
  auto st = (*backend)->open_keeper(use == KeeperUse::bulk ? store::KeeperUse::bulk : store::KeeperUse::serve);
  if (!st) return std::unexpected(st.error());
  return Keeper{std::move(*c), std::move(*source), std::move(*keys), std::move(*backend), std::move(*st)};
}

Result<KeySource> open_key_source(const Config& c, bool create_key) {
  KeySource out;
  if (!c.key_token) return out;
  auto token = keys::Token::open(keys::TokenOptions{c.key_token->module, c.key_token->label, c.key_token->pin_file});
  if (!token) return std::unexpected(token.error());
  auto key = (*token)->aes_key(keys::kKeyringKeyLabel, create_key);
  if (!key) {
    if (key.error().code == Errc::not_found)
      return fail(Errc::config, "the token \"" + c.key_token->label + "\" holds no keyring key (" +
                                    std::string(keys::kKeyringKeyLabel) +
                                    "): seal the keyring with `rempart keys seal --config ...` first");
    return std::unexpected(key.error());
  }
  out.token = std::move(*token);
  out.token_seal = keys::token_keyring_seal(*out.token, *key);
  out.record_wrapper = std::make_shared<keys::TokenRecordWrapper>(*out.token);
  out.audit_signer = std::make_shared<keys::TokenAuditSigner>(*out.token);
  return out;
}

Result<crypto::KeeperKeyring> KeySource::load(const fs::path& key_dir) const {
  auto keys = crypto::load_keeper_keyring(key_dir, seal());
  if (keys && record_wrapper) keys->use_record_wrapper(record_wrapper);
  if (keys && audit_signer) keys->use_audit_signer(audit_signer);
  return keys;
}

}  // namespace rempart::cli
