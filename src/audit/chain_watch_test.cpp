// ChainWatch: whole verifications, resumed ones after the verified prefix,
// and what brings a whole one back; ChainPatrol reporting a fault by itself.
#include "audit/chain_watch.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "audit/test_support.hpp"

namespace rempart::audit {
namespace {

constexpr std::int64_t kT0 = 1'800'000'000'000'000;  // unix microseconds
constexpr std::int64_t kMinute = 60'000'000;

class ChainWatchTest : public test::AuditFixture {
 protected:
  ChainCheck check(ChainWatch& w, std::int64_t now, bool whole = false) {
    auto c = w.check(*store_, *keys_, VerifyOptions{}, whole, now);
    EXPECT_TRUE(c.has_value());
    return c ? *c : ChainCheck{};
  }
};

TEST_F(ChainWatchTest, TheFirstCheckIsWholeAndTheNextOnesResume) {
  ChainWatch w(std::chrono::hours(1));
  append(30);
  const auto first = check(w, kT0);
  EXPECT_TRUE(first.report.ok());
  EXPECT_TRUE(first.report.whole());
  EXPECT_EQ(first.report.entries, 30);
  EXPECT_EQ(first.whole_at_us, kT0);

  append(5);
  const auto second = check(w, kT0 + kMinute);
  EXPECT_TRUE(second.report.ok());
  EXPECT_EQ(second.report.from_seq, 31);
  EXPECT_EQ(second.report.entries, 5);
  EXPECT_EQ(second.report.last_seq, 35);
  EXPECT_EQ(second.whole_at_us, kT0);  // when the whole chain was last read

  const auto asked = check(w, kT0 + 2 * kMinute, true);
  EXPECT_TRUE(asked.report.whole());
  EXPECT_EQ(asked.report.entries, 35);
  EXPECT_EQ(asked.whole_at_us, kT0 + 2 * kMinute);
}

TEST_F(ChainWatchTest, AWholeVerificationOlderThanItsPeriodIsRepeated) {
  ChainWatch w(std::chrono::minutes(10));
  append(3);
  check(w, kT0);
  EXPECT_FALSE(check(w, kT0 + 9 * kMinute).report.whole());
  const auto late = check(w, kT0 + 10 * kMinute);
  EXPECT_TRUE(late.report.whole());
  EXPECT_EQ(late.whole_at_us, kT0 + 10 * kMinute);
}

TEST_F(ChainWatchTest, AfterAFaultEveryCheckIsWholeUntilTheChainVerifies) {
  ChainWatch w(std::chrono::hours(1));
  append(20);
  check(w, kT0);
  append(5);
  tamper("UPDATE audit_entries SET details = replace(details, 'test', 'tesu') WHERE seq = 23");
  const auto found = check(w, kT0 + kMinute);
  EXPECT_FALSE(found.report.ok());
  EXPECT_EQ(found.whole_at_us, 0);
  // An edit below the old prefix would not be seen by a resumed check: the
  // fault is never hidden by resuming after it.
  const auto again = check(w, kT0 + 2 * kMinute);
  EXPECT_TRUE(again.report.whole());
  ASSERT_NE(again.report.first(), nullptr);
  EXPECT_EQ(again.report.first()->seq, 23);
}

TEST_F(ChainWatchTest, ThePatrolReportsAnEditNobodyLookedFor) {
  append(40);
  ChainWatch w(std::chrono::hours(1));
  check(w, audit::now_us());  // the page has verified the whole chain
  tamper("UPDATE audit_entries SET details = replace(details, 'test', 'tesu') WHERE seq = 7");
  // A resumed check does not read entry 7...
  EXPECT_TRUE(check(w, audit::now_us()).report.ok());

  auto own = store::open_sqlite_keeper(db());
  ASSERT_TRUE(own.has_value());
  std::atomic<std::int64_t> first_fault{0};
  std::atomic<int> calls{0};
  ChainPatrol patrol(w, std::move(*own), *keys_, VerifyOptions{}, std::chrono::milliseconds(50),
                     [&](const VerifyReport& r) {
                       if (r.first()) first_fault = r.first()->seq;
                       ++calls;
                     });
  // ...the patrol's whole verification does.
  for (int i = 0; i < 200 && calls.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  EXPECT_GE(calls.load(), 1);
  EXPECT_EQ(first_fault.load(), 7);
  EXPECT_GE(patrol.turns(), 1u);
  // And the page's next check is whole again.
  EXPECT_TRUE(check(w, audit::now_us()).report.whole());
}

}  // namespace
}  // namespace rempart::audit
