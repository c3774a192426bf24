#include "services/disk_reserve.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <system_error>

#include <spdlog/spdlog.h>

namespace rempart::services {
namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

double mib(std::uint64_t bytes) { return static_cast<double>(bytes) / static_cast<double>(kMiB); }

std::int64_t steady_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::int64_t as_gauge(std::uint64_t v) noexcept {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(std::min(v, kMax));
}

const char* what_of(const DiskReserveOptions& o) {
  return o.guards_inbox ? "the inbox's filesystem" : "the data directory's filesystem";
}

}  // namespace

Result<DiskSpace> read_disk_space(const std::filesystem::path& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) {
    const int e = errno;
    return fail(Errc::io, "statvfs failed: " + std::generic_category().message(e));
  }
  DiskSpace s;
  s.free = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
  s.total = static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize;
  return s;
}

std::uint64_t resume_margin(std::uint64_t reserve) noexcept {
  if (reserve == 0) return 0;
  return std::clamp<std::uint64_t>(reserve / 8, kMiB, std::uint64_t{1} << 30);
}

Result<std::unique_ptr<DiskReserve>> DiskReserve::open(const std::filesystem::path& path, DiskReserveOptions options,
                                                       guard::Alerter* alerter) {
  auto first = read_disk_space(path);
  if (!first) return std::unexpected(first.error());
  const std::uint64_t resume = options.reserve + resume_margin(options.reserve);
  if (options.reserve != 0 && resume >= first->total) {
    return fail(Errc::config, "[storage].disk_reserve_mib (" + std::to_string(options.reserve / kMiB) +
                                  " MiB, with sign-ups taken again from " + std::to_string(resume / kMiB) +
                                  " MiB free) is not smaller than " + what_of(options) + " (" +
                                  std::to_string(first->total / kMiB) +
                                  " MiB in all): the intake would never take a sign-up; lower it or give the data "
                                  "directory a larger filesystem");
  }
  return std::make_unique<DiskReserve>([path] { return read_disk_space(path); }, std::move(options), alerter);
}

DiskReserve::DiskReserve(Probe probe, DiskReserveOptions options, guard::Alerter* alerter)
    : probe_(std::move(probe)),
      opts_(std::move(options)),
      resume_(opts_.reserve + resume_margin(opts_.reserve)),
      alerter_(alerter) {
  check_now();
}

bool DiskReserve::has_room() noexcept {
  check_if_due();
  return !refusing_.load(std::memory_order_acquire);
}

void DiskReserve::check_if_due() noexcept {
  const std::int64_t now = steady_ns();
  std::int64_t due = next_check_ns_.load(std::memory_order_relaxed);
  if (now < due) return;
  // One caller takes this reading; the others go on with the last one.
  const std::int64_t next = now + std::chrono::duration_cast<std::chrono::nanoseconds>(opts_.recheck).count();
  if (!next_check_ns_.compare_exchange_strong(due, next, std::memory_order_relaxed)) return;
  check_now();
}

void DiskReserve::check_now() noexcept {
  MutexLock lock(mu_);
  auto s = probe_();
  next_check_ns_.store(steady_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(opts_.recheck).count(),
                       std::memory_order_relaxed);
  if (!s) {
    // The last reading stands: a filesystem that cannot be read says
    // nothing about its space.
    if (!probe_failing_) {
      spdlog::warn("disk: cannot read the free space of {} ({}); the last reading stands", what_of(opts_),
                   s.error().internal);
      probe_failing_ = true;
    }
    return;
  }
  if (probe_failing_) {
    spdlog::info("disk: the free space of {} can be read again", what_of(opts_));
    probe_failing_ = false;
  }
  free_.store(as_gauge(s->free), std::memory_order_relaxed);
  const bool refusing = refusing_.load(std::memory_order_relaxed);
  if (!refusing && s->free < opts_.reserve) {
    refusing_.store(true, std::memory_order_release);
    crossed_below(*s);
  } else if (refusing && s->free >= resume_) {
    refusing_.store(false, std::memory_order_release);
    came_back(*s);
  }
}

void DiskReserve::crossed_below(const DiskSpace& s) {
  if (opts_.guards_inbox) {
    spdlog::error(
        "disk: free space on {} is below the reserve ({:.1f} MiB free, [storage].disk_reserve_mib = {}): the "
        "intake refuses sign-ups (503) until {:.1f} MiB are free; the keeper goes on folding",
        what_of(opts_), mib(s.free), opts_.reserve / kMiB, mib(resume_));
  } else {
    spdlog::error(
        "disk: free space on {} is below the reserve ({:.1f} MiB free, [storage].disk_reserve_mib = {}): exports "
        "and other local files may fail",
        what_of(opts_), mib(s.free), opts_.reserve / kMiB);
  }
  if (alerter_ == nullptr) return;
  guard::Alert alert;
  alert.kind = "disk_reserve";
  alert.actor = opts_.actor;
  if (opts_.guards_inbox) {
    alert.severity = guard::Severity::critical;
    alert.reason = "free space on the inbox's filesystem fell below [storage].disk_reserve_mib: the intake refuses "
                   "sign-ups until space is freed; the keeper goes on folding";
  } else {
    alert.severity = guard::Severity::warning;
    alert.reason = "free space on the data directory's filesystem fell below [storage].disk_reserve_mib: exports "
                   "and other local files may fail";
  }
  alert.details = {{"free_bytes", s.free},
                   {"total_bytes", s.total},
                   {"reserve_bytes", opts_.reserve},
                   {"resume_bytes", resume_}};
  alerter_->raise(std::move(alert));
}

void DiskReserve::came_back(const DiskSpace& s) {
  if (opts_.guards_inbox) {
    spdlog::warn("disk: free space on {} is back above the reserve ({:.1f} MiB free): the intake takes sign-ups again",
                 what_of(opts_), mib(s.free));
  } else {
    spdlog::warn("disk: free space on {} is back above the reserve ({:.1f} MiB free)", what_of(opts_), mib(s.free));
  }
}

DiskReserve::Reading DiskReserve::reading() const noexcept {
  Reading r;
  const std::int64_t f = free_.load(std::memory_order_relaxed);
  if (f >= 0) r.free = static_cast<std::uint64_t>(f);
  r.reserve = opts_.reserve;
  r.resume = resume_;
  r.refusing = refusing_.load(std::memory_order_acquire);
  r.guards_inbox = opts_.guards_inbox;
  return r;
}

}  // namespace rempart::services
