#pragma once
// The console's dashboard: what a week of work looks like in numbers.
// Aggregates only (counts per day, per tag and per source, locks by
// account), so
// reading it shows nobody and is not audited; honeytokens are never
// counted.
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "store/store.hpp"

namespace rempart::services {

inline constexpr int kDashboardDays = 30;

struct DashboardDay {
  std::int64_t day = 0;    // unix seconds of its midnight, UTC
  std::int64_t added = 0;  // supporters added that day (sign-ups, imports)
};

// A lock the guard made (a `guard.lock` entry).
struct DashboardLock {
  std::string actor;   // as the log writes it
  std::string reason;  // guard::kReason…
  std::int64_t at_us = 0;
};

struct Dashboard {
  std::vector<DashboardDay> days;  // the last kDashboardDays days, oldest first, today last
  std::int64_t added = 0;          // their sum
  std::vector<store::TagCountRow> tags;  // the 10 tags most carried by those supporters
  // Those supporters by where they came from ("intake", "import:<tool>",
  // "synth", "unknown"), most first; one store read (GROUP BY origin).
  std::vector<store::OriginCountRow> sources;
  std::vector<DashboardLock> locks;      // the last 7 days' locks, newest first (at most 50)
  std::int64_t supporters = 0;           // every supporter, honeytokens left out
};

// Reads the dashboard at `now` (unix seconds) from one snapshot.
Result<Dashboard> read_dashboard(store::KeeperStore& store, std::int64_t now);

}  // namespace rempart::services
