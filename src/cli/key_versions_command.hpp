#pragma once
// `rempart keys rotate` and `rempart keys status` (docs/key-custody.md,
// "Rotation"), and the watch through which a running process takes a
// rotation without a restart.
#include <chrono>
#include <cstdint>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "core/error.hpp"
#include "crypto/keyring.hpp"

namespace rempart::cli {

// Makes a new version of every key current (the blind-index key carried
// over unless `blind` says renew, crypto/keyring.hpp), replaces
// keeper.keyring and intake.keyring in the configured key directory, and
// records keys.rotate in the audit log. Prints what to do next (copy the
// files to the other hosts, `supporters reindex` after a new blind-index
// key, a new backup in shares). Exit 0, or 1 with a plain message (nothing
// changed).
int run_keys_rotate(const std::filesystem::path& config,
                    crypto::KeeperKeyring::BlindIndexKey blind = crypto::KeeperKeyring::BlindIndexKey::carry_over);

struct Keeper;
struct Rotation {
  std::uint32_t from = 0;
  std::uint32_t to = 0;
};
// The rotation itself, on a keeper a command has open (rotate, and the
// lockdown of docs/incident.md): the new version in the key files (and its
// record-wrapping key in the token), then keys.rotate recorded under the
// version `k` holds. Errc::storage when the files were replaced but the
// entry could not be written (the message says so); any other error
// changed nothing.
Result<Rotation> rotate_keys(Keeper& k,
                             crypto::KeeperKeyring::BlindIndexKey blind = crypto::KeeperKeyring::BlindIndexKey::carry_over);

// Seals a plain keeper.keyring with the token the configuration names (its
// AES key "rempart-keyring" made there if absent; keys/sealed_keyring.hpp),
// checks that the sealed file opens to the same keyring, and prints what to
// do about the plain copy the disk held. Exit 0, or 1 (nothing changed).
int run_keys_seal(const std::filesystem::path& config);

// The rewrap services/rewrap.hpp runs in a serving keeper, here in the
// foreground at full speed (maintenance with the keeper stopped, or a
// measure): every record below the current version moved to it, in
// transactions of 1,000 records, each audited. Prints the count and rate.
// Exit 0, or 1 (what was done stays done; run it again to resume).
int run_keys_rewrap(const std::filesystem::path& config);

// Per key version: whether it is current, and how many records, inbox
// items, audit entries, checkpoints, accounts, export canaries and
// suppressions depend on it. Counts only. Exit 0, or 1.
int run_keys_status(const std::filesystem::path& config);

// Retires `version` (crypto/keyring.hpp, KeySet::retired) once nothing
// that needs its dropped keys depends on it: records, inbox items and
// accounts under it are refused with what to do; audit entries,
// checkpoints, canaries and suppressions keep what they need. Records
// keys.retire. Exit 0, or 1 with a plain message (nothing changed).
int run_keys_retire(const std::filesystem::path& config, std::uint32_t version);

// Calls `changed` on a thread of its own whenever the file at `path` is
// replaced or rewritten (its inode, size or modification time differ from
// the last look), looking every `every`. A file that is missing for a
// moment is not a change.
class KeyFileWatch {
 public:
  KeyFileWatch(std::filesystem::path path, std::chrono::milliseconds every, std::function<void()> changed);
  ~KeyFileWatch();
  KeyFileWatch(const KeyFileWatch&) = delete;
  KeyFileWatch& operator=(const KeyFileWatch&) = delete;

 private:
  void run(std::stop_token stop);
  std::filesystem::path path_;
  std::chrono::milliseconds every_;
  std::function<void()> changed_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::jthread thread_;
};

}  // namespace rempart::cli
