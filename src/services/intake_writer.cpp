#include "services/intake_writer.hpp"

#include <algorithm>

#include <sodium.h>
#include <spdlog/spdlog.h>

#include "services/records.hpp"

namespace rempart::services {
namespace {
constexpr std::size_t kItemIdBytes = 16;
}  // namespace

Result<std::unique_ptr<IntakeWriter>> IntakeWriter::start(const crypto::IntakeKeyring& keys,
                                                           std::unique_ptr<store::IntakeStore> store,
                                                           IntakeWriterOptions opts) {
  std::unique_ptr<IntakeWriter> w(new IntakeWriter(keys, std::move(store), opts));
  auto first = crypto::BatchSealer::create(keys);
  if (!first) return std::unexpected(first.error());
  {
    MutexLock lock(w->mu_);
    w->batch_ = std::move(*first);
    w->batch_born_ = std::chrono::steady_clock::now();
  }
  w->thread_ = std::thread([p = w.get()] { p->run(); });
  return w;
}

IntakeWriter::IntakeWriter(const crypto::IntakeKeyring& keys, std::unique_ptr<store::IntakeStore> store,
                           IntakeWriterOptions opts)
    : store_(std::move(store)), opts_(opts) {
  MutexLock lock(mu_);
  keys_ = keys;
}

void IntakeWriter::use_keys(const crypto::IntakeKeyring& keys) {
  // A batch of the new keys at once (one X25519 on the caller's thread), so
  // that every submission from now on is sealed to them; items already
  // sealed keep the batch they were sealed in until their commit.
  auto fresh = crypto::BatchSealer::create(keys);
  if (!fresh) spdlog::error("intake: could not start a batch of the new keys ({})", errc_name(fresh.error().code));
  MutexLock lock(mu_);
  keys_ = keys;
  keys_changed_ = true;
  if (fresh && !stopping_) {
    batch_ = std::move(*fresh);
    batch_born_ = std::chrono::steady_clock::now();
    batch_used_ = false;
  }
}

std::uint32_t IntakeWriter::key_version() const {
  MutexLock lock(mu_);
  return keys_.version;
}

IntakeWriter::~IntakeWriter() { stop(); }

std::shared_ptr<const crypto::BatchSealer> IntakeWriter::current_batch() {
  MutexLock lock(mu_);
  batch_used_ = true;
  return batch_;
}

void IntakeWriter::submit(std::vector<core::Field> fields, std::function<void(bool)> done) {
  auto batch = current_batch();
  if (!batch) {  // stopped
    done(false);
    return;
  }
  Pending item;
  item.row.item_uid.resize(kItemIdBytes);
  // The submission id comes from the same CSPRNG call as the seal's key and
  // nonces: one getrandom() per submission.
  auto sealed = batch->seal_new(item.row.item_uid, fields);
  if (!sealed) {
    spdlog::error("intake: sealing failed ({})", errc_name(sealed.error().code));
    done(false);
    return;
  }
  item.row.wrapped_key = std::move(sealed->wrapped_key);
  item.row.fields = std::move(sealed->fields);
  item.row.received_at = unix_now();
  item.batch = std::move(batch);
  item.done = std::move(done);
  {
    MutexLock lock(mu_);
    if (stopping_ || queue_.size() >= opts_.max_queue) {
      ++stats_.failed;
      lock.unlock();
      item.done(false);
      return;
    }
    queue_.push_back(std::move(item));
  }
  cv_.notify_one();
}

void IntakeWriter::run() {
  std::vector<Pending> group;
  // The next batch is prepared here, between commits, so that the X25519
  // and key allocation it costs never sit on a commit's path. It has sealed
  // nothing until it is swapped in.
  std::shared_ptr<const crypto::BatchSealer> next;
  for (;;) {
    crypto::IntakeKeyring keys;
    {
      MutexLock lock(mu_);
      if (keys_changed_) {
        next.reset();  // prepared under the keys before
        keys_changed_ = false;
      }
      keys = keys_;
    }
    if (!next) {
      auto fresh = crypto::BatchSealer::create(keys);
      if (fresh) {
        next = std::move(*fresh);
      } else {
        spdlog::error("intake: could not start a new batch ({})", errc_name(fresh.error().code));
      }
    }
    {
      MutexLock lock(mu_);
      const auto deadline = batch_born_ + opts_.batch_lifetime;
      while (!stopping_ && queue_.empty()) {
        if (!lock.wait_until(cv_, deadline)) break;
      }
      if (queue_.empty() && stopping_) return;
      const std::size_t n = std::min(queue_.size(), opts_.max_group);
      group.clear();
      for (std::size_t i = 0; i < n; ++i) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      // Items sealed from now on go to a new batch, so the key of the one
      // being committed can be wiped as soon as its last item is stored.
      const bool expired = std::chrono::steady_clock::now() >= deadline;
      // A batch prepared before use_keys() is never swapped in; the next
      // turn prepares one under the new keys.
      if ((batch_used_ || expired) && next && !keys_changed_) {
        batch_ = std::move(next);
        batch_born_ = std::chrono::steady_clock::now();
        batch_used_ = false;
      }
    }
    if (!group.empty()) commit(group);
  }
}

void IntakeWriter::commit(std::vector<Pending>& group) {
  std::vector<store::BatchRow> batches;
  std::vector<const crypto::BatchSealer*> seen;
  std::vector<store::Bytes> uids;  // one uid per distinct sealer in this group
  std::vector<store::InboxRow> rows;
  rows.reserve(group.size());
  for (auto& item : group) {
    auto it = std::find(seen.begin(), seen.end(), item.batch.get());
    std::size_t k = static_cast<std::size_t>(it - seen.begin());
    if (it == seen.end()) {
      seen.push_back(item.batch.get());
      store::BatchRow b;
      // The ephemeral public key is random and unique: it names the batch.
      const auto& eph = item.batch->ephemeral_public();
      b.uid.assign(eph.begin(), eph.end());
      b.key_version = item.batch->key_version();
      b.ephemeral_public = b.uid;
      b.created_at = item.row.received_at;
      uids.push_back(b.uid);
      batches.push_back(std::move(b));
    }
    item.row.batch_uid = uids[k];
    rows.push_back(item.row);
  }
  auto r = store_->append(batches, rows);
  if (!r) spdlog::error("intake: commit of {} submissions failed ({})", group.size(), errc_name(r.error().code));
  {
    MutexLock lock(mu_);
    if (r) {
      stats_.committed += group.size();
      ++stats_.commits;
    } else {
      stats_.failed += group.size();
    }
  }
  for (auto& item : group) item.done(static_cast<bool>(r));
  // Dropping the last references wipes the committed batches' keys.
  group.clear();
}

void IntakeWriter::stop() {
  {
    MutexLock lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  MutexLock lock(mu_);
  batch_.reset();
}

IntakeWriterStats IntakeWriter::stats() const {
  MutexLock lock(mu_);
  return stats_;
}

}  // namespace rempart::services
