#pragma once
// Signed checkpoints of the audit chain (docs/audit.md). A checkpoint is an
// Ed25519 signature, under the audit signing key, over (seq, head hash,
// time, key version). It is stored in the database and published to sinks
// outside it — an append-only file outside the data directory, optionally
// syslog — so a database rolled back, truncated or re-chained contradicts
// what was published before.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "crypto/audit_keys.hpp"
#include "crypto/keyring.hpp"
#include "store/store.hpp"

namespace rempart::audit {

using Checkpoint = store::AuditCheckpointRow;

// Signs the head (`seq`, `head_hash`) at `at_us` with `signer`, naming its
// key version.
Result<Checkpoint> sign_checkpoint(const crypto::AuditSigner& signer, std::int64_t seq,
                                   std::span<const std::uint8_t> head_hash, std::int64_t at_us);
// True if the signature verifies under the public signing key of the
// checkpoint's key version (false if the keyring lacks that version).
bool checkpoint_valid(const crypto::KeeperKeyring& keys, const Checkpoint& c);

// One line of the checkpoint file, without the newline:
//   rempart-audit-checkpoint v1 seq=<n> head=<hex> at=<us> key=<v> sig=<hex>
std::string format_checkpoint(const Checkpoint& c);
// Errc::invalid_input on anything but exactly that shape.
Result<Checkpoint> parse_checkpoint(std::string_view line);

// Reads every checkpoint of a file written by FileCheckpointSink. Blank
// lines are skipped; a malformed line is Errc::invalid_input naming its line
// number. Errc::not_found if the file does not exist, Errc::io if unreadable.
Result<std::vector<Checkpoint>> read_checkpoint_file(const std::filesystem::path& file);

// Where checkpoints go besides the database. publish() must be durable
// when it returns success. Implementations are thread-compatible.
class CheckpointSink {
 public:
  virtual ~CheckpointSink();
  virtual Result<void> publish(const Checkpoint& c) = 0;
  virtual std::string name() const = 0;

 protected:
  CheckpointSink() = default;
  CheckpointSink(const CheckpointSink&) = default;
  CheckpointSink& operator=(const CheckpointSink&) = default;
};

// Appends one line per checkpoint (O_APPEND, one write, then fsync; the
// file is created with mode 0600 and its directory synced). Several
// processes may append to the same file: each line is one write(2).
class FileCheckpointSink final : public CheckpointSink {
 public:
  explicit FileCheckpointSink(std::filesystem::path file) : file_(std::move(file)) {}
  Result<void> publish(const Checkpoint& c) override;
  std::string name() const override { return "file"; }

 private:
  std::filesystem::path file_;
};

// Logs each checkpoint line to syslog (LOG_AUTHPRIV | LOG_NOTICE), where a
// remote log collector can keep it out of the host's reach.
class SyslogCheckpointSink final : public CheckpointSink {
 public:
  Result<void> publish(const Checkpoint& c) override;
  std::string name() const override { return "syslog"; }
};

struct CheckpointPolicy {
  std::int64_t every_entries = 1000;  // sign once this many entries are uncovered
  std::int64_t every_seconds = 60;    // or once the last checkpoint is this old and any entry is uncovered
};

// Decides when the head is signed, signs it in its own transaction (so
// concurrent processes never sign the same seq twice) and publishes it.
// `keys` and `store` must outlive it; not thread-safe (use it on the
// thread that owns `store`).
class Checkpointer {
 public:
  Checkpointer(const crypto::KeeperKeyring& keys, store::KeeperStore& store, CheckpointPolicy policy,
               std::vector<std::unique_ptr<CheckpointSink>> sinks);

  // Signs the head if the policy says it is due. Returns the new
  // checkpoint, or nullopt if none was due. Cheap when nothing is due (two
  // indexed reads, no write lock).
  Result<std::optional<Checkpoint>> maybe(std::int64_t now_us);
  // Signs the head now if any entry is not yet covered (clean shutdown, end
  // of a CLI command, `rempart audit checkpoint`).
  Result<std::optional<Checkpoint>> force(std::int64_t now_us);

  // A checkpoint whose publication failed is kept and retried by the next
  // call; the error of the failed sink is returned (Errc::io) after the
  // database checkpoint is committed.
  std::size_t unpublished() const noexcept { return pending_.size(); }

 private:
  Result<std::optional<Checkpoint>> sign(std::int64_t now_us, bool forced);
  Result<void> publish_pending();

  const crypto::KeeperKeyring& keys_;
  store::KeeperStore& store_;
  CheckpointPolicy policy_;
  std::vector<std::unique_ptr<CheckpointSink>> sinks_;
  std::vector<Checkpoint> pending_;
};

}  // namespace rempart::audit
