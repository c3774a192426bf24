#pragma once
// The intake role's only way to store anything: seals each submission with
// the public sealing key and appends it to the inbox with group commit.
// It holds no secret that opens what it stored: each batch's wrapping key is
// wiped once the batch's items are committed.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "core/mutex.hpp"
#include "crypto/keyring.hpp"
#include "crypto/seal.hpp"
#include "services/submission_sink.hpp"
#include "store/store.hpp"

namespace rempart::services {

struct IntakeWriterOptions {
  std::size_t max_group = 4096;     // items per commit
  std::size_t max_queue = 65536;    // beyond this, submit() answers done(false)
  std::chrono::seconds batch_lifetime{60};  // a batch key never outlives this
};

struct IntakeWriterStats {
  std::uint64_t committed = 0;
  std::uint64_t commits = 0;
  std::uint64_t failed = 0;
};

class IntakeWriter final : public SubmissionSink {
 public:
  // Starts the writer thread. `keys` is copied (public data only).
  static Result<std::unique_ptr<IntakeWriter>> start(const crypto::IntakeKeyring& keys,
                                                      std::unique_ptr<store::IntakeStore> store,
                                                      IntakeWriterOptions opts = {});
  ~IntakeWriter() override;
  IntakeWriter(const IntakeWriter&) = delete;
  IntakeWriter& operator=(const IntakeWriter&) = delete;

  // Seals on the caller's thread (no X25519 per item), then queues for the
  // next group commit. Thread-safe.
  void submit(std::vector<core::Field> fields, std::function<void(bool durable)> done) override;
  using SubmissionSink::submit;

  // Commits everything queued, then stops the writer thread. Later submits
  // are answered done(false). Idempotent.
  void stop();

  IntakeWriterStats stats() const;

  // Seals to `keys` from now on (a rotation: the intake keyring file was
  // replaced): a new batch is started at once. Items sealed before are
  // committed under the batch they were sealed in. Thread-safe.
  void use_keys(const crypto::IntakeKeyring& keys);
  std::uint32_t key_version() const;

 private:
  struct Pending {
    std::shared_ptr<const crypto::BatchSealer> batch;
    store::InboxRow row;
    std::function<void(bool)> done;
  };

  IntakeWriter(const crypto::IntakeKeyring& keys, std::unique_ptr<store::IntakeStore> store,
               IntakeWriterOptions opts);
  std::shared_ptr<const crypto::BatchSealer> current_batch();
  void run();
  void commit(std::vector<Pending>& group);

  std::unique_ptr<store::IntakeStore> store_;  // used by the writer thread only
  IntakeWriterOptions opts_;

  mutable Mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_ REMPART_GUARDED_BY(mu_);
  std::shared_ptr<const crypto::BatchSealer> batch_ REMPART_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point batch_born_ REMPART_GUARDED_BY(mu_);
  bool batch_used_ REMPART_GUARDED_BY(mu_) = false;
  crypto::IntakeKeyring keys_ REMPART_GUARDED_BY(mu_);
  bool keys_changed_ REMPART_GUARDED_BY(mu_) = false;  // the prepared next batch is of the old keys
  bool stopping_ REMPART_GUARDED_BY(mu_) = false;
  IntakeWriterStats stats_ REMPART_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace rempart::services
