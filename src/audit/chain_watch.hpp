#pragma once
// What a running keeper knows of its own audit chain between verifications
// (docs/audit.md, "Verification while serving"). The auditor's page verifies
// only what was appended since the last verification that found the chain
// whole, resuming from that entry's hash; the whole chain is read again when
// that is older than `whole_every`, when asked, and by a ChainPatrol in the
// background. What the resumed check cannot see is in VerifyOptions::after.
//
// The state lives in memory only: a database writer cannot mark the chain
// verified. A restart starts with a whole verification.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <thread>

#include "audit/verify.hpp"
#include "core/mutex.hpp"

namespace rempart::audit {

struct ChainCheck {
  VerifyReport report;           // this check's (report.whole() when it read every entry)
  std::int64_t whole_at_us = 0;  // start of the last whole verification that found no fault; 0: none yet
};

// Thread-safe. No lock is held while a verification runs: two checks may
// run at once (each on its own store); the furthest verified prefix wins,
// and a fault found by either forgets the prefix.
class ChainWatch {
 public:
  explicit ChainWatch(std::chrono::seconds whole_every) : whole_every_us_(whole_every.count() * 1'000'000) {}

  // Verifies the chain (with `base`'s checkpoint file and fault limit):
  // only after the verified prefix when there is one and the last whole
  // verification is younger than whole_every; otherwise, or when `whole`,
  // every entry. A check that finds a fault forgets the prefix, so every
  // check after it reads the whole chain until it verifies again. Errors:
  // those of the store.
  Result<ChainCheck> check(store::KeeperStore& store, const crypto::KeeperKeyring& keys, const VerifyOptions& base,
                           bool whole, std::int64_t now_us) REMPART_EXCLUDES(mu_);

 private:
  const std::int64_t whole_every_us_;
  Mutex mu_;
  std::optional<VerifiedPrefix> prefix_ REMPART_GUARDED_BY(mu_);
  std::int64_t whole_at_us_ REMPART_GUARDED_BY(mu_) = 0;
  std::uint64_t faults_seen_ REMPART_GUARDED_BY(mu_) = 0;  // checks that found a fault
};

// Runs a whole verification through a ChainWatch every `every`, on its own
// thread and store, and hands each report with a fault to `on_fault` (on that
// thread; it must not block for long). Store errors are logged and retried
// at the next turn. The first turn runs `every` after start.
class ChainPatrol {
 public:
  using OnFault = std::function<void(const VerifyReport&)>;
  ChainPatrol(ChainWatch& watch, std::unique_ptr<store::KeeperStore> store, const crypto::KeeperKeyring& keys,
              VerifyOptions base, std::chrono::milliseconds every, OnFault on_fault);
  // Stops after the verification in progress, if any.
  ~ChainPatrol();
  ChainPatrol(const ChainPatrol&) = delete;
  ChainPatrol& operator=(const ChainPatrol&) = delete;

  std::uint64_t turns() const REMPART_EXCLUDES(mu_);  // whole verifications run so far

 private:
  void run(std::stop_token stop);

  ChainWatch& watch_;
  std::unique_ptr<store::KeeperStore> store_;
  const crypto::KeeperKeyring& keys_;
  const VerifyOptions base_;
  const std::chrono::milliseconds every_;
  const OnFault on_fault_;
  mutable Mutex mu_;
  std::condition_variable_any cv_;
  std::uint64_t turns_ REMPART_GUARDED_BY(mu_) = 0;
  std::jthread thread_;  // last: started once the rest is built
};

}  // namespace rempart::audit
