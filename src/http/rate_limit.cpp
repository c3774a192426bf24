#include "http/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace rempart::http {

Result<std::unique_ptr<RateLimiter>> RateLimiter::create(RateLimiterOptions options) {
  if (!(options.rate_per_second > 0) || !std::isfinite(options.rate_per_second)) {
    return fail(Errc::config, "rate limit: rate_per_second must be > 0");
  }
  if (!(options.burst >= 1) || !std::isfinite(options.burst)) {
    return fail(Errc::config, "rate limit: burst must be >= 1");
  }
  if (options.max_keys == 0) return fail(Errc::config, "rate limit: max_keys must be >= 1");
  return std::unique_ptr<RateLimiter>(new RateLimiter(options));
}

void RateLimiter::evict_refilled(Clock::time_point now) {
  // The buckets used longest ago sit at the back. A bucket that has refilled
  // completely is the same as no bucket, so drop those. The sweep stops at
  // the first one still refilling and may leave refilled ones in front of
  // it; max_keys is what bounds memory, this only keeps the table small.
  while (!lru_.empty()) {
    const Bucket& b = lru_.back();
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    if (b.tokens + elapsed * opts_.rate_per_second < opts_.burst) break;
    index_.erase(b.key);
    lru_.pop_back();
  }
}

RateDecision RateLimiter::acquire(std::string_view key, Clock::time_point now) {
  RateDecision local = acquire_local(key, now);
  if (!local.allowed || shared_ == nullptr) return local;
  if (auto shared = shared_->acquire(key)) return *shared;
  return local;
}

RateDecision RateLimiter::acquire_local(std::string_view key, Clock::time_point now) {
  MutexLock lock(mu_);
  evict_refilled(now);
  auto it = index_.find(key);
  if (it == index_.end()) {
    if (lru_.size() >= opts_.max_keys) {
      index_.erase(lru_.back().key);
      lru_.pop_back();
    }
    lru_.push_front(Bucket{std::string(key), opts_.burst, now});
    it = index_.emplace(lru_.front().key, lru_.begin()).first;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second);
  }
  Bucket& b = *it->second;
  if (now > b.last) {
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(opts_.burst, b.tokens + elapsed * opts_.rate_per_second);
    b.last = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return RateDecision{true, std::chrono::seconds{0}};
  }
  const double wait = (1.0 - b.tokens) / opts_.rate_per_second;
  const auto secs = static_cast<long long>(std::ceil(wait));
  return RateDecision{false, std::chrono::seconds{std::max<long long>(1, secs)}};
}

std::size_t RateLimiter::size() const {
  MutexLock lock(mu_);
  return lru_.size();
}

std::string rate_key(const boost::asio::ip::address& client) {
  if (client.is_v4()) return client.to_string();
  const auto v6 = client.to_v6();
  if (v6.is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
  }
  auto bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

}  // namespace rempart::http
