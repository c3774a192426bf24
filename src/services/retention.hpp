#pragma once
// Retention (docs/retention.md): data kept no longer than needed. Three
// policies, each off at 0:
// - inactive: a record with no activity (no change, no statement of
//   consent) for `record_months` is erased;
// - phone: the phone number of a record with no activity for
//   `phone_months` is dropped (the record is opened and re-sealed without
//   it; its activity clock is not reset by that);
// - unconfirmed: a sign-up whose e-mail consent stayed unconfirmed, with
//   no other consent and no change since, is erased `unconfirmed_days`
//   after it came.
// Honeytokens are never touched. An erasure here is not the person's
// request: no suppression is kept, an import may bring the person back.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <string>
#include <thread>

#include "core/mutex.hpp"

#include "core/error.hpp"
#include "services/records.hpp"
#include "services/vault.hpp"
#include "store/store.hpp"

namespace rempart::services {

struct RetentionOptions {
  std::int64_t record_months = 36;
  std::int64_t phone_months = 24;
  std::int64_t unconfirmed_days = 30;
};

// A month is 30.44 days (the Gregorian average).
inline constexpr std::int64_t kSecondsPerMonth = 2629746;

struct RetentionCounts {
  std::int64_t inactive = 0;     // records erased (or that would be)
  std::int64_t phone = 0;        // phone numbers dropped
  std::int64_t unconfirmed = 0;  // unconfirmed sign-ups erased
  bool operator==(const RetentionCounts&) const = default;
};

class Retention {
 public:
  // `store`, `keys` and `vault` must outlive it; `store` is used from the
  // calling thread.
  Retention(store::KeeperStore& store, const crypto::KeeperKeyring& keys, const Vault& vault, RetentionOptions o)
      : store_(store), keys_(keys), vault_(vault), writer_(keys), o_(o) {}

  // What each policy reaches at `now`: counts only, nothing changed,
  // nothing opened, nothing written.
  Result<RetentionCounts> report(std::int64_t now);

  // Applies every policy at `now`: unconfirmed sign-ups, then inactive
  // records, then phones, 500 records a transaction. Each record changed
  // writes `supporter.retention` {policy} (subject: its id) in the
  // transaction that changes it; the run ends with `retention.run` {the
  // counts, the months and days in force}. With `dry_run`, only that last
  // entry (with "dry_run": true) and the counts report() gives. `actor`:
  // "keeper" for the daily run, "operator:<user>" from the CLI.
  Result<RetentionCounts> run(std::int64_t now, const std::string& actor, bool dry_run);

 private:
  Result<std::int64_t> count(std::string_view policy, std::int64_t cutoff);
  Result<std::int64_t> apply(std::string_view policy, std::int64_t cutoff, const std::string& actor);

  store::KeeperStore& store_;
  const crypto::KeeperKeyring& keys_;
  const Vault& vault_;
  RecordWriter writer_;
  RetentionOptions o_;
};

// Runs a Retention on its own thread: `first` after start, then every
// `every` (a day), as the keeper; a failed run is logged and tried at the
// next turn.
class RetentionLoop {
 public:
  RetentionLoop(Retention& retention, std::chrono::seconds first, std::chrono::seconds every);
  ~RetentionLoop();
  void stop();

 private:
  void run(std::stop_token stop);
  Retention& retention_;
  std::chrono::seconds first_, every_;
  Mutex mu_;
  std::condition_variable_any cv_;
  std::jthread thread_;
};

}  // namespace rempart::services
