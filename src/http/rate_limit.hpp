#pragma once
// Per-key token buckets (the key is a client address prefix), used to slow
// down scripted sign-up floods at the edge. Memory is bounded: a bucket that
// has refilled completely carries no information and is dropped, and when
// max_keys buckets are live the least recently used one is dropped.
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/error.hpp"
#include "core/mutex.hpp"

namespace rempart::http {

struct RateLimiterOptions {
  double rate_per_second = 1.0;  // tokens added per second, > 0
  double burst = 10.0;           // bucket capacity, >= 1
  std::size_t max_keys = 65536;  // hard bound on live buckets, >= 1
};

struct RateDecision {
  bool allowed = false;
  // When refused: whole seconds until one token is back (>= 1); 0 if allowed.
  std::chrono::seconds retry_after{0};
};

// A limit kept outside this process, which every intake node asks (the
// database's, store::SignupLimiter): asked once the local bucket allowed.
// Thread-safe. nullopt when it cannot answer now: the local bucket decides.
class SharedRateLimit {
 public:
  virtual ~SharedRateLimit() = default;
  virtual std::optional<RateDecision> acquire(std::string_view key) = 0;
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // Errc::config if an option is out of range.
  static Result<std::unique_ptr<RateLimiter>> create(RateLimiterOptions options);

  // Takes one token from `key`'s bucket if it has one. Thread-safe; O(1)
  // amortised. `now` is a parameter so that tests need no sleeping; callers
  // pass Clock::now() and must not go backwards by more than a tick.
  RateDecision acquire(std::string_view key, Clock::time_point now = Clock::now());

  // Number of live buckets. Thread-safe.
  std::size_t size() const;

  // From now on, a request the local bucket allows is also counted by
  // `shared` (which must outlive this limiter), and refused if it refuses.
  // Call before any acquire().
  void share_with(SharedRateLimit* shared) noexcept { shared_ = shared; }

 private:
  explicit RateLimiter(RateLimiterOptions options) : opts_(options) {}

  struct Bucket {
    std::string key;
    double tokens = 0;
    Clock::time_point last;
  };
  using Lru = std::list<Bucket>;  // most recently used first

  void evict_refilled(Clock::time_point now) REMPART_REQUIRES(mu_);

  RateDecision acquire_local(std::string_view key, Clock::time_point now);

  const RateLimiterOptions opts_;
  SharedRateLimit* shared_ = nullptr;
  mutable Mutex mu_;
  Lru lru_ REMPART_GUARDED_BY(mu_);
  std::unordered_map<std::string_view, Lru::iterator> index_ REMPART_GUARDED_BY(mu_);  // views into lru_
};

// The rate-limiting key for a client address: IPv4 addresses (also when
// mapped into IPv6) as themselves, IPv6 addresses by their /64 prefix, since
// one host usually holds a whole /64.
std::string rate_key(const boost::asio::ip::address& client);

}  // namespace rempart::http
