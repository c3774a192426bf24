#include "audit/chain_watch.hpp"

#include <spdlog/spdlog.h>

#include "audit/chain.hpp"

namespace rempart::audit {

Result<ChainCheck> ChainWatch::check(store::KeeperStore& store, const crypto::KeeperKeyring& keys,
                                     const VerifyOptions& base, bool whole, std::int64_t now_us) {
  VerifyOptions opts = base;
  opts.after.reset();
  std::uint64_t faults_before = 0;
  {
    MutexLock lock(mu_);
    faults_before = faults_seen_;
    const bool stale = whole_at_us_ == 0 || now_us - whole_at_us_ >= whole_every_us_;
    if (!whole && !stale && prefix_) opts.after = prefix_;
  }
  auto report = verify(store, keys, opts);
  if (!report) return std::unexpected(report.error());

  MutexLock lock(mu_);
  if (!report->ok()) {
    prefix_.reset();
    whole_at_us_ = 0;
    ++faults_seen_;
  } else if (faults_seen_ == faults_before) {
    // A check that started before a fault was found does not bring its prefix back.
    if (report->whole()) whole_at_us_ = std::max(whole_at_us_, now_us);
    if (report->last_seq > 0 && (!prefix_ || report->last_seq > prefix_->seq)) {
      prefix_ = VerifiedPrefix{report->last_seq, report->last_hash, report->covered_seq, report->restores};
    }
  }
  return ChainCheck{std::move(*report), whole_at_us_};
}

ChainPatrol::ChainPatrol(ChainWatch& watch, std::unique_ptr<store::KeeperStore> store,
                         const crypto::KeeperKeyring& keys, VerifyOptions base, std::chrono::milliseconds every,
                         OnFault on_fault)
    : watch_(watch),
      store_(std::move(store)),
      keys_(keys),
      base_(std::move(base)),
      every_(every),
      on_fault_(std::move(on_fault)),
      thread_([this](std::stop_token stop) { run(std::move(stop)); }) {}

ChainPatrol::~ChainPatrol() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t ChainPatrol::turns() const {
  MutexLock lock(mu_);
  return turns_;
}

void ChainPatrol::run(std::stop_token stop) {
  for (;;) {
    {
      MutexLock lock(mu_);
      lock.sleep_until(cv_, stop, std::chrono::steady_clock::now() + every_);
    }
    if (stop.stop_requested()) return;
    auto c = watch_.check(*store_, keys_, base_, true, now_us());
    {
      // Counted before it is reported: whoever hears of a fault finds its turn counted.
      MutexLock lock(mu_);
      ++turns_;
    }
    if (!c) {
      spdlog::error("audit: background verification could not read the log ({}): {}", errc_name(c.error().code),
                    c.error().internal);
    } else {
      if (!c->report.ok()) on_fault_(c->report);
      spdlog::info("audit: whole chain verified in the background: {} entries, {} faults, {:.2f} s",
                   c->report.entries, c->report.fault_count, c->report.seconds);
    }
  }
}

}  // namespace rempart::audit
