#include "services/prepare_pipeline.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "services/test_support.hpp"

namespace rempart::services {
namespace {


TEST(BackgroundTask, RunsOnAnotherThreadAndHandsBackItsException) {
  const auto caller = std::this_thread::get_id();
  std::thread::id ran_on;
  BackgroundTask ok([&] { ran_on = std::this_thread::get_id(); });
  EXPECT_EQ(ok.wait(), nullptr);
  EXPECT_NE(ran_on, caller);
  EXPECT_EQ(ok.wait(), nullptr) << "a second wait returns at once";

  BackgroundTask bad([] { throw std::runtime_error("boom"); });
  auto e = bad.wait();
  ASSERT_NE(e, nullptr);
  EXPECT_THROW(std::rethrow_exception(e), std::runtime_error);
}

TEST(BackgroundTask, DestructorJoins) {
  const auto before = testing::thread_count();
  std::atomic<bool> finished{false};
  {
    BackgroundTask t([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      finished = true;
    });
  }
  EXPECT_TRUE(finished.load());
  EXPECT_TRUE(testing::thread_count_at_most(before));
  {
    BackgroundTask t([] { throw std::logic_error("never collected"); });
  }  // dropped, not std::terminate
  EXPECT_TRUE(testing::thread_count_at_most(before));
}

TEST(Worker, RunsTasksOneAfterAnotherOnOneThreadOfItsOwn) {
  const auto caller = std::this_thread::get_id();
  const auto before = testing::thread_count();
  std::vector<std::thread::id> ran_on;
  {
    Worker worker;
    EXPECT_TRUE(testing::thread_count_at_most(before)) << "no thread before the first task";
    for (int i = 0; i < 3; ++i) {
      BackgroundTask t(worker, [&] { ran_on.push_back(std::this_thread::get_id()); });
      EXPECT_EQ(t.wait(), nullptr);
      EXPECT_EQ(t.wait(), nullptr) << "a second wait returns at once";
    }
    ASSERT_EQ(ran_on.size(), 3u);
    EXPECT_NE(ran_on[0], caller);
    EXPECT_EQ(ran_on[1], ran_on[0]) << "the same thread, kept between tasks";
    EXPECT_EQ(ran_on[2], ran_on[0]);

    BackgroundTask bad(worker, [] { throw std::runtime_error("boom"); });
    auto e = bad.wait();
    ASSERT_NE(e, nullptr);
    EXPECT_THROW(std::rethrow_exception(e), std::runtime_error);
    BackgroundTask after(worker, [] {});
    EXPECT_EQ(after.wait(), nullptr) << "a task's exception is handed back once, not to the next";
  }
  EXPECT_TRUE(testing::thread_count_at_most(before)) << "the destructor joins the thread";
}

TEST(Worker, ATaskIsWaitedForByItsDestructorAndOneRunsAtATime) {
  Worker worker;
  std::atomic<bool> finished{false};
  {
    BackgroundTask t(worker, [&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      finished = true;
    });
    // The first task still runs: a second one is refused and nothing of it runs.
    std::atomic<bool> second_ran{false};
    EXPECT_THROW(BackgroundTask(worker, [&] { second_ran = true; }), std::logic_error);
    EXPECT_EQ(t.wait(), nullptr);
    EXPECT_FALSE(second_ran.load());
  }
  EXPECT_TRUE(finished.load());
  finished = false;
  {
    BackgroundTask t(worker, [&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      finished = true;
    });
  }  // not waited for: the destructor waits
  EXPECT_TRUE(finished.load());
  {
    BackgroundTask t(worker, [] { throw std::logic_error("never collected"); });
  }  // dropped, not std::terminate
  BackgroundTask next(worker, [] {});
  EXPECT_EQ(next.wait(), nullptr);
}

TEST(RunPipelined, ConsumesEveryChunkInOrderWhileTheNextIsMade) {
  const auto caller = std::this_thread::get_id();
  int next = 0;
  std::vector<int> seen;
  std::size_t produced_elsewhere = 0;
  // A handshake instead of sleeps, so a loaded machine cannot fake or hide
  // the overlap: consume(k) waits until produce(k + 1) has begun, which can
  // only happen if produce runs on another thread at the same time.
  std::mutex mu;
  std::condition_variable cv;
  int producing = -1;  // the chunk produce is making, once it has begun
  int overlapped = 0;
  auto produce = [&]() -> Result<std::optional<int>> {
    if (std::this_thread::get_id() != caller) ++produced_elsewhere;
    if (next == 20) return std::optional<int>{};
    {
      std::lock_guard lock(mu);
      producing = next;
    }
    cv.notify_all();
    return std::optional<int>{next++};
  };
  auto consume = [&](int& v) -> Result<void> {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    if (v < 19) {
      std::unique_lock lock(mu);
      if (cv.wait_for(lock, std::chrono::seconds(5), [&] { return producing >= v + 1; })) ++overlapped;
    }
    seen.push_back(v);
    return {};
  };
  const auto before = testing::thread_count();
  ASSERT_TRUE((run_pipelined<int>(produce, consume)));
  std::vector<int> want(20);
  for (int i = 0; i < 20; ++i) want[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(seen, want);
  EXPECT_EQ(produced_elsewhere, 20u) << "every chunk after the first is made on the worker";
  EXPECT_EQ(overlapped, 19) << "a chunk was not made while the one before it was consumed";
  EXPECT_TRUE(testing::thread_count_at_most(before));
}

TEST(RunPipelined, EmptyInputConsumesNothing) {
  int consumed = 0;
  auto r = run_pipelined<int>([]() -> Result<std::optional<int>> { return std::optional<int>{}; },
                              [&](int&) -> Result<void> {
                                ++consumed;
                                return {};
                              });
  EXPECT_TRUE(r);
  EXPECT_EQ(consumed, 0);
}

TEST(RunPipelined, AConsumeErrorStopsAndIsReturned) {
  const auto before = testing::thread_count();
  int next = 0, produced = 0;
  std::vector<int> seen;
  auto r = run_pipelined<int>(
      [&]() -> Result<std::optional<int>> {
        ++produced;
        return std::optional<int>{next++};
      },
      [&](int& v) -> Result<void> {
        seen.push_back(v);
        if (v == 3) return fail(Errc::io, "disk full");
        return {};
      });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::io);
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(produced, 5) << "one chunk ahead at most";
  EXPECT_TRUE(testing::thread_count_at_most(before));
}

TEST(RunPipelined, AProduceErrorStopsAfterTheChunksBeforeIt) {
  int next = 0;
  std::vector<int> seen;
  auto r = run_pipelined<int>(
      [&]() -> Result<std::optional<int>> {
        if (next == 2) return fail(Errc::invalid_input, "bad chunk");
        return std::optional<int>{next++};
      },
      [&](int& v) -> Result<void> {
        seen.push_back(v);
        return {};
      });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_input);
  EXPECT_EQ(seen, (std::vector<int>{0, 1}));
}

TEST(RunPipelined, AnExceptionOnTheWorkerReachesTheCaller) {
  const auto before = testing::thread_count();
  int next = 0;
  std::vector<int> seen;
  auto run = [&] {
    return run_pipelined<int>(
        [&]() -> Result<std::optional<int>> {
          if (next == 2) throw std::runtime_error("out of memory, say");
          return std::optional<int>{next++};
        },
        [&](int& v) -> Result<void> {
          seen.push_back(v);
          return {};
        });
  };
  EXPECT_THROW(run(), std::runtime_error);
  EXPECT_EQ(seen, (std::vector<int>{0, 1}));
  EXPECT_TRUE(testing::thread_count_at_most(before));
}

TEST(RunPipelined, AnExceptionInConsumeJoinsTheWorker) {
  const auto before = testing::thread_count();
  std::atomic<bool> worker_done{false};
  int next = 0;
  auto run = [&] {
    return run_pipelined<int>(
        [&]() -> Result<std::optional<int>> {
          if (next == 1) {
            std::this_thread::sleep_for(std::chrono::milliseconds(30));
            worker_done = true;
          }
          return std::optional<int>{next++};
        },
        [&](int&) -> Result<void> { throw std::runtime_error("consume"); });
  };
  EXPECT_THROW(run(), std::runtime_error);
  EXPECT_TRUE(worker_done.load()) << "the look-ahead was joined before the exception left";
  EXPECT_TRUE(testing::thread_count_at_most(before));
}

}  // namespace
}  // namespace rempart::services
