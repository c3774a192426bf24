#include "cli/guard_commands.hpp"

#include <sys/stat.h>

#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/chain.hpp"
#include "audit/checkpoint.hpp"
#include "cli/commands.hpp"
#include "cli/config.hpp"
#include "crypto/keyring.hpp"
#include "services/honeytokens.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace rempart::cli {
namespace {

namespace fs = std::filesystem;

// The keyring and the keeper store, as the other keeper-side commands open
// them. Members are not moved once built (the checkpointer keeps
// references), hence the unique_ptr.
struct Guard {
  Config config;
  std::optional<crypto::KeeperKeyring> keys;
  std::unique_ptr<store::KeeperStore> store;

  // A command that wrote entries signs the head before it exits, so what it
  // recorded is covered outside the database at once. The entries are
  // durable already: a failure here is a warning.
  void checkpoint() {
    std::vector<std::unique_ptr<audit::CheckpointSink>> sinks;
    if (!config.audit.checkpoint_file.empty()) {
      sinks.push_back(std::make_unique<audit::FileCheckpointSink>(config.audit.checkpoint_file));
    }
    if (config.audit.checkpoint_syslog) sinks.push_back(std::make_unique<audit::SyslogCheckpointSink>());
    audit::Checkpointer cp(*keys, *store,
                           audit::CheckpointPolicy{config.audit.checkpoint_every, config.audit.checkpoint_seconds},
                           std::move(sinks));
    auto r = cp.force(audit::now_us());
    if (!r) std::cerr << "rempart: warning: audit checkpoint not published: " << r.error().internal << "\n";
  }
};

Result<std::unique_ptr<Guard>> open_guard(const fs::path& config_file) {
  auto c = load_config(config_file);
  if (!c) return std::unexpected(c.error());
  setup_logging(c->log_level);
  if (crypto::path_is_within(c->keys_dir, c->data_dir) || crypto::path_is_within(c->data_dir, c->keys_dir)) {
    return fail(Errc::config, "the key directory must not be inside the data directory (nor the reverse)");
  }
  struct stat st {};
  if (::stat(c->data_dir.c_str(), &st) != 0) {
    return fail(Errc::not_found, "data directory is missing: run `rempart init`");
  }
  if ((st.st_mode & 077) != 0) return fail(Errc::permission, "data directory is open to group or others: chmod 700 it");
  if (auto r = crypto::init(); !r) return std::unexpected(r.error());
  auto keys = crypto::load_keeper_keyring(c->keys_dir);
  if (!keys) return std::unexpected(keys.error());
  auto s = store::open_sqlite_keeper(c->database());
  if (!s) return std::unexpected(s.error());
  auto g = std::make_unique<Guard>();
  g->config = std::move(*c);
  g->keys.emplace(std::move(*keys));
  g->store = std::move(*s);
  return g;
}

}  // namespace

int run_honeytokens_plant(const HoneytokensPlantArgs& a) {
  if (a.count < 1 || a.count > static_cast<std::int64_t>(services::kMaxHoneytokensPerPlant)) {
    std::cerr << "rempart: plant between 1 and " << services::kMaxHoneytokensPerPlant << " honeytokens at a time\n";
    return 2;
  }
  auto g = open_guard(a.config);
  if (!g) return report(g.error());
  auto n = services::plant_honeytokens(*(*g)->store, *(*g)->keys, static_cast<std::size_t>(a.count),
                                       operator_actor(), 0);
  if (!n) return report(n.error());
  (*g)->checkpoint();
  auto total = (*g)->store->count_honeytokens();
  if (!total) return report(total.error());
  std::cout << "rempart: " << *n << " honeytokens planted, " << *total << " in all\n";
  return 0;
}

int run_honeytokens_count(const fs::path& config) {
  auto g = open_guard(config);
  if (!g) return report(g.error());
  auto total = (*g)->store->count_honeytokens();
  if (!total) return report(total.error());
  std::cout << *total << "\n";
  return 0;
}

}  // namespace rempart::cli
