#pragma once
// Operational counters and gauges, exposed by the keeper's console at
// /metrics in the Prometheus text format (docs/operations.md, "Metrics").
//
// Counted where the work happens, with relaxed atomics: no lock and no
// allocation on a request's path. A metric's name, and every label value,
// comes from a fixed table in metrics.cpp indexed by an enumeration below:
// nothing a request carries, and nothing personal, can become a name or a
// label, and a count is all a metric holds.
//
// One Registry per process (process_registry()): the intake's routes, the
// fold loop, the vault, the guard, the alerter and the mail loop each count
// into it without the registry being passed through every constructor. It
// holds counts only; no decision of the program reads them. Tests make
// Registry objects of their own to check the exposition.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rempart::core::metrics {

// A monotonic count. Thread-safe; never blocks.
class Counter {
 public:
  void add(std::uint64_t n = 1) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

// One counter per value of the enumeration `E` (whose last value is
// `count_`): one label, whose values are the enumeration's fixed names.
template <typename E>
class Family {
 public:
  static constexpr std::size_t kSize = static_cast<std::size_t>(E::count_);
  Counter& operator[](E e) noexcept { return c_[static_cast<std::size_t>(e)]; }
  const Counter& operator[](E e) const noexcept { return c_[static_cast<std::size_t>(e)]; }
  const Counter& at(std::size_t i) const noexcept { return c_[i]; }

 private:
  std::array<Counter, kSize> c_{};
};

// Sign-ups the intake stored in the inbox (durable), by entry point.
enum class SignupApi { form, osdi, count_ };
// Mailed links' posts the intake answered (confirm, unsubscribe) and
// self-service requests and steps it stored.
enum class LinkKind { confirm, unsubscribe, manage_request, manage_step, count_ };
// Why the intake refused a request.
enum class Reject {
  validation,        // 400: a field invalid (the sign-up form, OSDI, a self-service form)
  malformed,         // 400: not HTTP, or a body that does not parse
  cross_site,        // 403: a form posted by another site's page
  origin,            // 403: a CORS preflight from an origin not listed
  not_found,         // 404
  method,            // 405
  too_large,         // 413
  header_too_large,  // 431
  media_type,        // 415
  rate_limited,      // 429
  unavailable,       // 503: the inbox could not store it (busy, or failing)
  disk_reserve,      // 503: free disk space below [storage].disk_reserve_mib, nothing stored
  internal,          // 500
  count_
};
// What the keeper's fold made of each submission.
enum class FoldResult { created, merged, unchanged, rejected, suppressed, link, count_ };
// Why the guard or sign-in locked an account or revoked a token.
enum class LockReason { reveal_budget, list_budget, honeytoken, search_misses, login_failures, other, count_ };
enum class AlertSeverity { info, warning, critical, count_ };
// Supporter mail (confirmations, welcomes, self-service answers), per attempt.
enum class MailResult { sent, retried, failed, dropped, count_ };
// Messages of mailings, per recipient.
enum class MailingResult { sent, failed, skipped, count_ };

// The lock reasons the code uses (guard::kReason…, sign-in's), as a label;
// `other` for any other text.
LockReason lock_reason_of(std::string_view reason) noexcept;

// What is known only when a scrape asks: read then by the console.
struct Gauges {
  std::optional<std::int64_t> inbox_backlog;  // sign-ups waiting in the inbox (the fold loop's last count)
  std::optional<std::int64_t> outbox_pending{};  // mails to supporters still to send, counted at the scrape
  // The disk reserve (services/disk_reserve.hpp), read at the scrape: free
  // bytes of the filesystem it watches, the reserve, and 1 while the
  // intake refuses for space (absent where the reserve guards no inbox).
  std::optional<std::int64_t> disk_free_bytes{};
  std::optional<std::int64_t> disk_reserve_bytes{};
  std::optional<std::int64_t> intake_refusing_for_space{};
};

class Registry {
 public:
  Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Family<SignupApi> signups;
  Family<LinkKind> links;
  Family<Reject> rejected;
  Counter fold_passes;
  Counter fold_failures;
  Family<FoldResult> folded;
  Counter confirmations_queued;
  Counter reveals;          // records opened in full for a person (vault reveal)
  Counter revealed_fields;  // the fields those reveals showed
  Family<LockReason> locks;
  Family<AlertSeverity> alerts;
  Family<MailResult> mail;
  Family<MailingResult> mailing;

  // Unix seconds when the registry was made (for the process one: its
  // start), as a double for the exposition.
  double start_time() const noexcept { return start_time_; }

  // The Prometheus text exposition (format 0.0.4) of every metric and of
  // `g`; a gauge not known is left out rather than shown as a number.
  std::string exposition(const Gauges& g) const;

 private:
  double start_time_ = 0;
};

// The process's registry. Thread-safe.
Registry& process_registry() noexcept;

// The Content-Type of exposition().
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// The version this binary was built as (the project's version in CMake).
std::string_view build_version() noexcept;

}  // namespace rempart::core::metrics
