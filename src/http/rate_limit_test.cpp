#include "http/rate_limit.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace rempart::http {
namespace {

using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

std::unique_ptr<RateLimiter> make(double rate, double burst, std::size_t max_keys = 1000) {
  auto l = RateLimiter::create({rate, burst, max_keys});
  if (!l) throw std::runtime_error("limiter refused");
  return std::move(*l);
}

TEST(RateLimiter, RefusesNonsenseSettings) {
  EXPECT_FALSE(RateLimiter::create({0.0, 5.0, 10}));
  EXPECT_FALSE(RateLimiter::create({-1.0, 5.0, 10}));
  EXPECT_FALSE(RateLimiter::create({1.0, 0.5, 10}));
  EXPECT_FALSE(RateLimiter::create({1.0, 5.0, 0}));
  EXPECT_EQ(RateLimiter::create({0.0, 5.0, 10}).error().code, Errc::config);
}

TEST(RateLimiter, BurstThenRefusalWithRetryAfter) {
  auto l = make(0.5, 3);  // one token every 2 s
  const auto t0 = Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(l->acquire("a", t0).allowed) << i;
  const auto refused = l->acquire("a", t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 2s);
  EXPECT_EQ(l->acquire("a", t0 + 1s).retry_after, 1s);
  EXPECT_TRUE(l->acquire("a", t0 + 2s).allowed);
  EXPECT_FALSE(l->acquire("a", t0 + 2s).allowed);
}

TEST(RateLimiter, KeysAreIndependent) {
  auto l = make(0.1, 2);
  const auto t0 = Clock::now();
  EXPECT_TRUE(l->acquire("client-a", t0).allowed);
  EXPECT_TRUE(l->acquire("client-a", t0).allowed);
  EXPECT_FALSE(l->acquire("client-a", t0).allowed);
  // Another client is not held back by the first one's flood.
  EXPECT_TRUE(l->acquire("client-b", t0).allowed);
  EXPECT_TRUE(l->acquire("client-b", t0).allowed);
  EXPECT_FALSE(l->acquire("client-b", t0).allowed);
  EXPECT_FALSE(l->acquire("client-a", t0 + 1s).allowed);
}

TEST(RateLimiter, RefilledBucketsAreForgotten) {
  auto l = make(1.0, 2);
  const auto t0 = Clock::now();
  for (int i = 0; i < 100; ++i) l->acquire("k" + std::to_string(i), t0);
  EXPECT_EQ(l->size(), 100u);
  // Two seconds later every bucket is full again, which is the same as none.
  l->acquire("late", t0 + 3s);
  EXPECT_EQ(l->size(), 1u);
}

TEST(RateLimiter, MemoryIsBoundedByMaxKeys) {
  auto l = make(0.001, 1, 50);
  const auto t0 = Clock::now();
  for (int i = 0; i < 10'000; ++i) l->acquire("k" + std::to_string(i), t0);
  EXPECT_LE(l->size(), 50u);
  // The most recent keys are the ones kept.
  EXPECT_FALSE(l->acquire("k9999", t0).allowed);
}

TEST(RateLimiter, IsThreadSafe) {
  auto l = make(0.001, 100);
  const auto t0 = Clock::now();
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (l->acquire("shared", t0).allowed) ++allowed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 100);
}

TEST(RateKey, GroupsIpv6ByPrefixAndUnmapsIpv4) {
  namespace ip = boost::asio::ip;
  EXPECT_EQ(rate_key(ip::make_address("192.0.2.7")), "192.0.2.7");
  EXPECT_EQ(rate_key(ip::make_address("::ffff:192.0.2.7")), "192.0.2.7");
  EXPECT_EQ(rate_key(ip::make_address("2001:db8:1:2:aaaa::1")),
            rate_key(ip::make_address("2001:db8:1:2:bbbb::2")));
  EXPECT_NE(rate_key(ip::make_address("2001:db8:1:2::1")),
            rate_key(ip::make_address("2001:db8:1:3::1")));
}

}  // namespace
}  // namespace rempart::http
