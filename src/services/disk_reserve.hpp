#pragma once
// The disk reserve ([storage].disk_reserve_mib, docs/operations.md "The disk
// reserve"): free space on the filesystem that holds the inbox, kept for the
// keeper. The intake stops taking submissions (503) before the disk is full,
// so that the keeper can always fold what waits and checkpoint; it takes
// them again once space is back above the reserve and a margin (so that a
// disk hovering at the line does not flap).
//
// One statvfs() per `recheck` at most, made by whichever caller finds the
// last reading stale; every other call reads two atomics. A crossing below
// the reserve raises one alert (and one log line); the way back up logs one
// line. Neither names a path, only sizes.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "core/mutex.hpp"
#include "guard/alerts.hpp"
#include "services/inbox_room.hpp"

namespace rempart::services {

// What statvfs() says of one filesystem, in bytes.
struct DiskSpace {
  std::uint64_t free = 0;   // f_bavail * f_frsize: what an unprivileged process may still write
  std::uint64_t total = 0;  // f_blocks * f_frsize
};

// The filesystem that holds `path` (a symbolic link is followed: the
// packaged inbox is one). Errc::io with the errno's name on failure; the
// message never holds the path.
Result<DiskSpace> read_disk_space(const std::filesystem::path& path);

// How far above the reserve free space must come back before the intake
// takes submissions again: an eighth of the reserve, at least 1 MiB, at most
// 1 GiB; 0 for no reserve.
std::uint64_t resume_margin(std::uint64_t reserve) noexcept;

struct DiskReserveOptions {
  std::uint64_t reserve = std::uint64_t{64} << 20;  // bytes; 0: never refuse
  std::chrono::milliseconds recheck{100};           // a reading is used this long
  // What the reserve guards, for the log and the alert: the inbox (SQLite;
  // the intake refuses below it), or only the data directory's own files
  // (PostgreSQL: the inbox is on the server, whose disk this cannot see).
  bool guards_inbox = true;
  std::string actor = "keeper";  // the alert's actor: the process that watches
};

class DiskReserve final : public InboxRoom {
 public:
  using Probe = std::function<Result<DiskSpace>()>;

  // Watches the filesystem holding `path`. Reads it once: Errc::io if it
  // cannot be read, Errc::config if the reserve with its margin is not
  // smaller than the whole filesystem (the intake would never take a
  // sign-up). `alerter` is borrowed and may be null (an intake-only
  // process has none: the crossing is then logged only).
  static Result<std::unique_ptr<DiskReserve>> open(const std::filesystem::path& path, DiskReserveOptions options,
                                                   guard::Alerter* alerter);

  // The same over any probe (tests script one). Reads it once now (a
  // filesystem already below the reserve is a crossing: alerted). A failed
  // first reading leaves free space unknown and the intake taking
  // submissions: its own writes then fail on a full disk as they would
  // without a reserve.
  DiskReserve(Probe probe, DiskReserveOptions options, guard::Alerter* alerter);
  DiskReserve(const DiskReserve&) = delete;
  DiskReserve& operator=(const DiskReserve&) = delete;

  // False while free space is below the reserve (until it is back above
  // reserve + margin). Reads the filesystem again first if the last reading
  // is older than `recheck`. Thread-safe.
  bool has_room() noexcept override;

  // Reads again if the last reading is older than `recheck` (the keeper's
  // fold loop calls it after each pass, so that a crossing is seen while
  // no sign-up comes). Thread-safe.
  void check_if_due() noexcept;

  // Reads again now (a /metrics scrape). Thread-safe.
  void check_now() noexcept REMPART_EXCLUDES(mu_);

  struct Reading {
    std::optional<std::uint64_t> free;  // unknown until a reading succeeded
    std::uint64_t reserve = 0;
    std::uint64_t resume = 0;  // free space from which submissions are taken again
    bool refusing = false;     // below the reserve: the intake refuses
    bool guards_inbox = true;
  };
  // The last reading, without reading again. Thread-safe.
  Reading reading() const noexcept;

 private:
  void crossed_below(const DiskSpace& s) REMPART_REQUIRES(mu_);
  void came_back(const DiskSpace& s) REMPART_REQUIRES(mu_);

  Probe probe_;
  const DiskReserveOptions opts_;
  const std::uint64_t resume_;
  guard::Alerter* const alerter_;

  Mutex mu_;  // one reading at a time, and the transitions it makes
  bool probe_failing_ REMPART_GUARDED_BY(mu_) = false;  // logged once per failing streak

  // Read on every request without the lock.
  std::atomic<bool> refusing_{false};
  std::atomic<std::int64_t> free_{-1};        // bytes; -1: unknown
  std::atomic<std::int64_t> next_check_ns_{0};  // steady clock
};

}  // namespace rempart::services
