#include "cli/key_versions_command.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "audit/chain.hpp"
#include "cli/commands.hpp"
#include "cli/keeper_access.hpp"
#include "crypto/blind_index.hpp"
#include "crypto/keyring.hpp"
#include "keys/sealed_keyring.hpp"
#include "keys/token_wrapper.hpp"
#include "services/rewrap.hpp"

namespace rempart::cli {
namespace {

namespace fs = std::filesystem;

// The kinds keys status shows, in its column order.
// What depends on each key version: the keeper's database and the inbox.
Result<std::vector<store::KeyUsageRow>> key_usage(Keeper& k) {
  std::vector<store::KeyUsageRow> usage;
  auto r = k.store->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto u = tx.key_usage();
    if (!u) return std::unexpected(u.error());
    usage = std::move(*u);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  auto inbox_store = k.backend->open_inbox();
  if (!inbox_store) return std::unexpected(inbox_store.error());
  auto inbox = (*inbox_store)->count_by_key_version();
  if (!inbox) return std::unexpected(inbox.error());
  usage.insert(usage.end(), inbox->begin(), inbox->end());
  return usage;
}

constexpr const char* kKinds[] = {"records",  "inbox items", "audit entries", "checkpoints",
                                  "accounts", "export canaries", "suppressions"};

}  // namespace

Result<Rotation> rotate_keys(Keeper& k, crypto::KeeperKeyring::BlindIndexKey blind) {
  const fs::path dir = k.config.keys_dir;
  // The files as they are now (another rotation may have run since this
  // process loaded them), plus one version.
  auto rotated = crypto::load_keeper_keyring(dir, k.key_source.seal());
  if (!rotated) return std::unexpected(rotated.error());
  Rotation r{rotated->current().version, 0};
  if (auto ok = rotated->add_version(blind); !ok) return std::unexpected(ok.error());
  r.to = rotated->current().version;
  // With a token, the new version's record wrapping key and audit signing
  // key pair are made there before any keeper holds the version; the
  // keyring keeps only the signing key's public half.
  if (k.key_source.token) {
    if (auto ok = keys::make_record_wrap_key(*k.key_source.token, r.to); !ok) return std::unexpected(ok.error());
    auto sign_public = keys::make_audit_sign_key(*k.key_source.token, r.to);
    if (!sign_public) return std::unexpected(sign_public.error());
    auto in_token = rotated->with_token_signing(*sign_public);
    if (!in_token) return std::unexpected(in_token.error());
    *rotated = std::move(*in_token);
  }
  if (auto ok = crypto::replace_keyrings(dir, *rotated, k.key_source.seal()); !ok) return std::unexpected(ok.error());
  // Recorded under the version every keeper already holds.
  auto e = k.store->transact([&](store::KeeperTx& tx) -> Result<void> {
    nlohmann::json d{{"from_version", r.from}, {"to_version", r.to}};
    if (blind == crypto::KeeperKeyring::BlindIndexKey::renew) d["blind_index_key"] = "new";
    auto w = audit::record(tx, k.keys,
                           audit::Event{operator_actor(), std::string(audit::action::keys_rotate), "", std::move(d), ""});
    if (!w) return std::unexpected(w.error());
    return {};
  });
  if (!e) {
    return fail(Errc::storage, "the keys were rotated to version " + std::to_string(r.to) +
                                   ", but the rotation could not be recorded in the audit log: " + e.error().internal);
  }
  return r;
}

int run_keys_rotate(const fs::path& config, crypto::KeeperKeyring::BlindIndexKey blind) {
  auto k = open_keeper(config);
  if (!k) return report(k.error());
  const fs::path dir = k->config.keys_dir;
  auto rotated = rotate_keys(*k, blind);
  if (!rotated) return report(rotated.error());
  const std::uint32_t from = rotated->from, to = rotated->to;
  k->checkpoint_on_exit();
  std::cout << "Key version " << to << " is current (was " << from << ") in " << dir.string() << ".\n"
            << "- A keeper running with this key directory takes it within seconds: new records, audit entries\n"
            << "  and checkpoints use it at once, and it moves every record's data key to it in the background\n"
            << "  (follow with: rempart keys status --config " << config.string() << ").\n"
            << "- Other keepers (PostgreSQL): copy keeper.keyring to each of them first, then intake.keyring to\n"
            << "  every intake host; each takes its file within seconds, without a restart.\n";
  if (blind == crypto::KeeperKeyring::BlindIndexKey::renew) {
    std::cout << "- The blind-index key is new. Lookups try the older key too, so nobody goes missing meanwhile;\n"
              << "  once every keeper holds version " << to << ", compute every record's indexes and search tokens\n"
              << "  again (each record is opened for it, and the audit log records how many):\n"
              << "  rempart supporters reindex --config " << config.string() << "\n"
              << "  Suppressions and source ids keep the key that made them: it stays in the keyring.\n";
  } else {
    std::cout << "- The blind-index key is carried over: lookups and suppressions are unchanged.\n";
  }
  std::cout << "- Make a new backup in shares: the old shares do not hold version " << to << ":\n"
            << "  rempart keys backup --keys " << dir.string() << " --shares N --threshold K --out DIR\n";
  return 0;
}

int run_keys_seal(const fs::path& config) {
  auto c = load_config(config);
  if (!c) return report(c.error());
  setup_logging(c->log_level);
  if (auto r = check_layout(*c); !r) return report(r.error());
  if (!c->key_token) {
    std::cerr << "rempart: the configuration names no token: set [keys] provider = \"pkcs11\", module, token and "
                 "pin_file first; nothing changed\n";
    return 1;
  }
  const fs::path dir = c->keys_dir;
  auto plain = crypto::load_keeper_keyring(dir);
  if (!plain) {
    if (plain.error().code == Errc::config) {
      std::cerr << "rempart: keeper.keyring is sealed by a token already; nothing changed\n";
      return 1;
    }
    return report(plain.error());
  }
  auto source = open_key_source(*c, true);
  if (!source) return report(source.error());
  // Records sealed from now on under the current version are wrapped by the token.
  if (auto ok = keys::make_record_wrap_key(*source->token, plain->current().version); !ok) return report(ok.error());
  if (auto ok = crypto::replace_keyrings(dir, *plain, source->seal()); !ok) return report(ok.error());
  // The sealed file must open, through the token, to the same keyring.
  auto back = crypto::load_keeper_keyring(dir, source->seal());
  auto before = crypto::serialise_keeper_keyring(*plain);
  auto after = back ? crypto::serialise_keeper_keyring(*back) : Result<crypto::SecretBytes>(std::unexpected(back.error()));
  if (!before || !after || before->size() != after->size() ||
      !std::equal(before->span().begin(), before->span().end(), after->span().begin())) {
    std::cerr << "rempart: the sealed keyring does not open to the same keys; restore keeper.keyring from your "
                 "shares (rempart keys restore)\n";
    return 1;
  }
  std::cout << "keeper.keyring in " << dir.string() << " is sealed by the token \"" << c->key_token->label
            << "\" (key " << keys::kKeyringKeyLabel << ").\n"
            << "- Every keeper command and `serve` now need the token and its PIN to start.\n"
            << "- The plain keyring was on this disk: its old blocks may still be there. Rotate now, so that the\n"
            << "  keys in use never touched the disk in plain (the new version's audit signing key is then made in\n"
            << "  the token, and never leaves it), and retire the older versions once the rewrap is done:\n"
            << "  rempart keys rotate --config " << config.string() << "\n"
            << "- Keep the backup in shares: losing the token loses the keyring (rempart keys backup --config ...).\n";
  return 0;
}

int run_keys_rewrap(const fs::path& config) {
  auto k = open_keeper(config, KeeperUse::bulk);
  if (!k) return report(k.error());
  services::Rewrapper rewrapper(k->keys, *k->store, 1000);
  const auto start = std::chrono::steady_clock::now();
  std::int64_t moved = 0, skipped = 0;
  for (;;) {
    auto s = rewrapper.step();
    if (!s) {
      std::cerr << "rempart: the rewrap stopped after " << moved << " records: " << s.error().internal
                << " (run it again: it resumes)\n";
      return 1;
    }
    moved += s->rewrapped;
    skipped += s->skipped;
    if (s->done) break;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  k->checkpoint_on_exit();
  std::printf("rempart: %lld records moved to key version %u in %.1f s (%.0f records/s); %lld skipped\n",
              static_cast<long long>(moved), k->keys.current().version, seconds,
              seconds > 0 ? static_cast<double>(moved) / seconds : 0.0, static_cast<long long>(skipped));
  return 0;
}

int run_keys_status(const fs::path& config) {
  auto k = open_keeper(config);
  if (!k) return report(k.error());
  auto usage = key_usage(*k);
  if (!usage) return report(usage.error());

  std::map<std::uint32_t, std::map<std::string, std::int64_t>> by_version;
  for (const auto& set : k->keys.all()) by_version[set.get().version];
  for (const auto& u : *usage) by_version[u.key_version][u.kind] += u.count;

  const std::uint32_t current = k->keys.current().version;
  std::printf("%-9s %-8s", "version", "state");
  for (const char* kind : kKinds) std::printf(" %15s", kind);
  std::printf(" %8s %11s\n", "signing", "index key");
  for (const auto& [version, counts] : by_version) {
    const crypto::KeySet* set = k->keys.version(version);
    const char* state = version == current ? "current" : set == nullptr ? "missing" : set->retired ? "retired" : "older";
    std::printf("%-9u %-8s", version, state);
    for (const char* kind : kKinds) {
      auto it = counts.find(kind);
      std::printf(" %15lld", static_cast<long long>(it == counts.end() ? 0 : it->second));
    }
    // Where the version's audit signing key is: the keyring, the token, or
    // gone (retired: the public half still checks what it signed).
    const char* signing = set == nullptr || set->retired ? "-" : set->sign_in_token ? "token" : "keyring";
    // The blind-index key the version holds, named by the first version
    // that held it: one name throughout unless that key was rotated.
    std::string index_key = "-";
    if (set != nullptr) {
      for (const auto& other : k->keys.all()) {
        if (crypto::same_blind_index_key(other.get(), *set)) {
          index_key = "v" + std::to_string(other.get().version);
          break;
        }
      }
    }
    std::printf(" %8s %11s\n", signing, index_key.c_str());
  }
  std::printf(
      "\nRecords under an older version are moved to the current one by the running keeper (a rewrap: data keys\n"
      "only). Inbox items are folded under theirs. Audit entries and checkpoints keep the version they were\n"
      "sealed with: `audit verify` needs it. Accounts move at their next TOTP reset. A retired version keeps\n"
      "only what verifies the audit log and finds blind indexes (rempart keys retire). A version marked\n"
      "missing is named by stored data but absent from the keyring: what depends on it cannot be opened.\n"
      "`signing` says where the version's audit signing key is: in the keyring, or in the PKCS#11 token.\n"
      "`index key` names the blind-index key by the first version that held it; after `keys rotate --key\n"
      "blind-index`, `supporters reindex` moves the records' indexes to the new one, and lookups try each.\n");
  return 0;
}

int run_keys_retire(const fs::path& config, std::uint32_t version) {
  auto k = open_keeper(config);
  if (!k) return report(k.error());
  const fs::path dir = k->config.keys_dir;
  auto keyring = crypto::load_keeper_keyring(dir, k->key_source.seal());
  if (!keyring) return report(keyring.error());
  auto retired = keyring->with_retired(version);
  if (!retired) {
    std::cerr << "rempart: " << retired.error().internal << "; nothing changed\n";
    return 1;
  }
  // What still needs the keys a retirement drops.
  auto usage = key_usage(*k);
  if (!usage) return report(usage.error());
  std::vector<std::string> blockers;
  for (const auto& u : *usage) {
    if (u.key_version != version || u.count == 0) continue;
    if (u.kind == "records") {
      blockers.push_back(std::to_string(u.count) +
                         " records are still wrapped under it: the running keeper moves them to the current version "
                         "(follow with rempart keys status)");
    } else if (u.kind == "inbox items") {
      blockers.push_back(std::to_string(u.count) + " inbox items are sealed to it: let the keeper fold them");
    } else if (u.kind == "accounts") {
      blockers.push_back(std::to_string(u.count) +
                         " accounts have their TOTP secret sealed under it: reset their TOTP (or disable them) "
                         "first");
    }
  }
  if (!blockers.empty()) {
    std::cerr << "rempart: key version " << version << " cannot be retired yet; nothing changed:\n";
    for (const auto& b : blockers) std::cerr << "- " << b << "\n";
    return 1;
  }
  if (auto ok = crypto::replace_keyrings(dir, *retired, k->key_source.seal()); !ok) return report(ok.error());
  if (k->key_source.token) {
    // Its record wrapping key in the token goes too: what it wrapped, in
    // any copy, opens no more. So does its audit signing key pair: the
    // keyring keeps the public half that checks what it signed.
    for (const std::string& label : {keys::record_wrap_label(version), keys::audit_sign_label(version)}) {
      if (auto gone = k->key_source.token->destroy(label); !gone) {
        std::cerr << "rempart: key version " << version << " is retired in the keyring, but its key " << label
                  << " in the token could not be destroyed: " << gone.error().internal << "\n";
        return 1;
      }
    }
  }
  auto e = k->store->transact([&](store::KeeperTx& tx) -> Result<void> {
    nlohmann::json d{{"version", version}};
    auto a = audit::record(tx, k->keys,
                           audit::Event{operator_actor(), std::string(audit::action::keys_retire), "", std::move(d), ""});
    if (!a) return std::unexpected(a.error());
    return {};
  });
  if (!e) {
    std::cerr << "rempart: key version " << version
              << " was retired, but the retirement could not be recorded in the audit log: " << e.error().internal
              << "\n";
    return 1;
  }
  k->checkpoint_on_exit();
  std::cout << "Key version " << version << " is retired in " << dir.string() << ": its sealing, record wrapping and\n"
            << "signing secrets are gone from the keyring; what verifies the audit log and finds stored blind\n"
            << "indexes is kept.\n"
            << "- Anything still wrapped under version " << version << " no longer opens: in particular the records of\n"
            << "  every database backup made before the rewrap, including people erased since (docs/key-custody.md).\n"
            << "- Copy keeper.keyring to every other keeper, then restart each keeper: a running keeper keeps the\n"
            << "  retired keys in memory until it restarts.\n"
            << "- The shares of earlier backups still hold version " << version
            << ": make a new backup in shares, and have\n"
            << "  the trustees destroy the old ones.\n";
  return 0;
}

KeyFileWatch::KeyFileWatch(fs::path path, std::chrono::milliseconds every, std::function<void()> changed)
    : path_(std::move(path)),
      every_(every),
      changed_(std::move(changed)),
      thread_([this](std::stop_token st) { run(st); }) {}

KeyFileWatch::~KeyFileWatch() {
  thread_.request_stop();
  cv_.notify_all();
}

void KeyFileWatch::run(std::stop_token stop) {
  struct Seen {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    timespec mtime{};
    bool operator==(const Seen& o) const {
      return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
             mtime.tv_nsec == o.mtime.tv_nsec;
    }
  };
  const auto look = [&]() -> std::optional<Seen> {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) return std::nullopt;
    return Seen{st.st_dev, st.st_ino, st.st_size, st.st_mtim};
  };
  std::optional<Seen> last = look();
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, stop, every_, [] { return false; });
    }
    if (stop.stop_requested()) return;
    auto now = look();
    if (!now) continue;
    if (last && *now == *last) continue;
    last = now;
    changed_();
  }
}

}  // namespace rempart::cli
