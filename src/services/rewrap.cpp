#include "services/rewrap.hpp"

#include <algorithm>
#include <set>
#include <string>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "audit/chain.hpp"
#include "crypto/seal.hpp"

namespace rempart::services {

Rewrapper::Rewrapper(const crypto::KeeperKeyring& keys, store::KeeperStore& store, std::size_t batch)
    : keys_(keys), store_(store), batch_(std::max<std::size_t>(batch, 1)) {}

Result<RewrapStep> Rewrapper::step() {
  const std::uint32_t target = keys_.current().version;
  if (target != target_) {
    target_ = target;
    cursor_.clear();
  }
  RewrapStep out;
  store::Bytes last;
  auto r = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    out = RewrapStep{};
    auto rows = tx.records_to_rewrap(target, cursor_, batch_);
    if (!rows) return std::unexpected(rows.error());
    out.done = rows->size() < batch_;
    if (rows->empty()) return {};
    last = rows->back().id;
    std::set<std::uint32_t> from;
    for (const store::WrappedKeyRow& row : *rows) {
      const crypto::SealedRecord sealed{row.key_version, row.wrapped_key, {}};
      auto moved = crypto::rewrap_record(keys_, row.id, sealed);
      if (!moved) {
        ++out.skipped;
        continue;
      }
      auto changed = tx.rewrap_record(row, moved->key_version, moved->wrapped_key);
      if (!changed) return std::unexpected(changed.error());
      if (*changed) {
        ++out.rewrapped;
        from.insert(row.key_version);
      } else {
        ++out.skipped;
      }
    }
    nlohmann::json d{{"records", out.rewrapped}, {"skipped", out.skipped}, {"to_version", target},
                     {"from_versions", from}};
    auto e = audit::record(tx, keys_,
                           audit::Event{std::string(audit::kKeeperActor), std::string(audit::action::keys_rewrap), "",
                                        std::move(d), ""});
    if (!e) return std::unexpected(e.error());
    return {};
  });
  if (!r) return std::unexpected(r.error());
  if (!last.empty()) cursor_ = std::move(last);
  if (out.done) cursor_.clear();
  return out;
}

RewrapLoop::RewrapLoop(Rewrapper& rewrapper, const crypto::KeeperKeyring& keys, double per_second,
                       std::chrono::seconds rescan)
    : rewrapper_(rewrapper),
      keys_(keys),
      per_second_(per_second > 0 ? per_second : 1),
      rescan_(rescan),
      thread_([this](std::stop_token st) { run(st); }) {}

RewrapLoop::~RewrapLoop() { stop(); }

void RewrapLoop::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  cv_.notify_all();
  thread_.join();
}

void RewrapLoop::run(std::stop_token stop) {
  using clock = std::chrono::steady_clock;
  std::uint32_t done_at = 0;  // the version every record was under when the last pass ended
  auto next_rescan = clock::now();
  std::int64_t moved = 0;
  while (!stop.stop_requested()) {
    const bool idle = done_at == keys_.current().version && clock::now() < next_rescan;
    if (idle) {
      MutexLock lock(mu_);
      lock.sleep_until(cv_, stop, clock::now() + std::chrono::seconds(1));
      continue;
    }
    auto s = rewrapper_.step();
    if (!s) {
      spdlog::error("keeper: rewrap failed ({}); trying again in a minute", errc_name(s.error().code));
      MutexLock lock(mu_);
      lock.sleep_until(cv_, stop, clock::now() + std::chrono::minutes(1));
      continue;
    }
    moved += s->rewrapped;
    if (s->skipped != 0) spdlog::warn("keeper: rewrap skipped {} records (changed meanwhile, or not openable)", s->skipped);
    if (s->done) {
      if (moved != 0) {
        spdlog::info("keeper: rewrap done: {} records moved to key version {}", moved, keys_.current().version);
      }
      moved = 0;
      done_at = keys_.current().version;
      next_rescan = clock::now() + rescan_;
    }
    const auto pause = std::chrono::duration<double>(static_cast<double>(s->rewrapped + s->skipped) / per_second_);
    if (pause.count() > 0) {
      MutexLock lock(mu_);
      lock.sleep_until(cv_, stop, clock::now() + std::chrono::duration_cast<clock::duration>(pause));
    }
  }
}

}  // namespace rempart::services
