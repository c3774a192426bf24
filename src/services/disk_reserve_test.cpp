#include "services/disk_reserve.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "core/test_tmpfs.hpp"

namespace rempart::services {
namespace {

using namespace std::chrono_literals;
constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("rempart-disk-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A filesystem whose free space the test sets, and counts how often it is read.
struct ScriptedDisk {
  std::atomic<std::uint64_t> free{100 * kMiB};
  std::atomic<bool> failing{false};
  std::atomic<int> reads{0};
  DiskReserve::Probe probe() {
    return [this]() -> Result<DiskSpace> {
      ++reads;
      if (failing) return fail(Errc::io, "statvfs failed: Input/output error");
      return DiskSpace{free.load(), 1024 * kMiB};
    };
  }
};

// The alerts a real Alerter wrote to its file sink, once it has stopped.
std::vector<nlohmann::json> alerts_in(const std::filesystem::path& file) {
  std::vector<nlohmann::json> out;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

std::unique_ptr<guard::Alerter> file_alerter(const std::filesystem::path& file) {
  guard::AlertOptions o;
  o.stderr_json = false;
  o.file = file;
  auto a = guard::Alerter::start(o);
  EXPECT_TRUE(a) << a.error().internal;
  return a ? std::move(*a) : nullptr;
}

// The log lines written while it lives.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256)), saved_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>("capture", sink_);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(saved_); }
  std::string text() const {
    std::string all;
    for (const auto& l : sink_->last_formatted()) all += l;
    return all;
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> saved_;
};

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(DiskReserve, TheMarginIsAnEighthOfTheReserveWithinBounds) {
  EXPECT_EQ(resume_margin(0), 0u);
  EXPECT_EQ(resume_margin(64 * kMiB), 8 * kMiB);
  EXPECT_EQ(resume_margin(2 * kMiB), 1 * kMiB);             // at least 1 MiB
  EXPECT_EQ(resume_margin(100 * 1024 * kMiB), 1024 * kMiB);  // at most 1 GiB
}

TEST(DiskReserve, RefusesBelowTheReserveOnceAndTakesAgainAboveItsMargin) {
  TempDir dir;
  const auto file = dir.path() / "alerts.jsonl";
  auto alerter = file_alerter(file);
  ASSERT_TRUE(alerter);
  LogCapture log;
  ScriptedDisk disk;
  DiskReserveOptions o;
  o.reserve = 64 * kMiB;
  o.recheck = 0ms;  // every call reads: the transitions, not the cache, are under test
  DiskReserve reserve(disk.probe(), o, alerter.get());
  EXPECT_TRUE(reserve.has_room());
  EXPECT_EQ(reserve.reading().free, 100 * kMiB);

  disk.free = 64 * kMiB;  // exactly the reserve: still room
  EXPECT_TRUE(reserve.has_room());
  disk.free = 64 * kMiB - 1;
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(reserve.has_room());
  // Above the reserve, under its margin: still refusing (no flapping).
  disk.free = 71 * kMiB;
  EXPECT_FALSE(reserve.has_room());
  EXPECT_TRUE(reserve.reading().refusing);
  disk.free = 72 * kMiB;
  EXPECT_TRUE(reserve.has_room());
  EXPECT_FALSE(reserve.reading().refusing);
  disk.free = 65 * kMiB;  // between: taking, it stays taking
  EXPECT_TRUE(reserve.has_room());
  disk.free = 10 * kMiB;  // the second crossing
  EXPECT_FALSE(reserve.has_room());
  EXPECT_FALSE(reserve.has_room());

  alerter->stop();
  const auto alerts = alerts_in(file);
  ASSERT_EQ(alerts.size(), 2u) << "one alert per crossing, not per request";
  EXPECT_EQ(alerts[0]["kind"], "disk_reserve");
  EXPECT_EQ(alerts[0]["severity"], "critical");
  EXPECT_EQ(alerts[0]["details"]["free_bytes"], 64 * kMiB - 1);
  EXPECT_EQ(alerts[0]["details"]["reserve_bytes"], 64 * kMiB);
  EXPECT_EQ(alerts[0]["details"]["resume_bytes"], 72 * kMiB);
  EXPECT_EQ(alerts[1]["details"]["free_bytes"], 10 * kMiB);

  const auto text = log.text();
  EXPECT_EQ(occurrences(text, "is below the reserve"), 2u) << text;
  EXPECT_EQ(occurrences(text, "is back above the reserve"), 1u) << text;
  EXPECT_NE(text.find("the intake refuses sign-ups (503) until 72.0 MiB are free"), std::string::npos) << text;
}

TEST(DiskReserve, ReadsTheFilesystemAtMostOncePerRecheck) {
  ScriptedDisk disk;
  DiskReserveOptions o;
  o.recheck = 1h;
  DiskReserve reserve(disk.probe(), o, nullptr);
  EXPECT_EQ(disk.reads, 1);  // when made
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) (void)reserve.has_room();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(disk.reads, 1) << "40,000 requests, no new reading within the hour";
  // A reading made within the hour is not seen...
  disk.free = 1 * kMiB;
  EXPECT_TRUE(reserve.has_room());
  // ...until something reads now (a scrape).
  reserve.check_now();
  EXPECT_EQ(disk.reads, 2);
  EXPECT_FALSE(reserve.has_room());

  // With a short recheck, the readings follow the clock, not the requests.
  ScriptedDisk timed;
  o.recheck = 50ms;
  DiskReserve often(timed.probe(), o, nullptr);
  const auto start = std::chrono::steady_clock::now();
  int calls = 0;
  while (std::chrono::steady_clock::now() - start < 300ms) {
    (void)often.has_room();
    ++calls;
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(timed.reads, 3);
  EXPECT_LE(timed.reads, 2 + static_cast<int>(elapsed / 50ms)) << "over " << calls << " calls";
  EXPECT_GT(calls, 100 * timed.reads);
}

TEST(DiskReserve, AFilesystemThatCannotBeReadKeepsTheLastReading) {
  LogCapture log;
  ScriptedDisk disk;
  disk.failing = true;
  DiskReserveOptions o;
  o.recheck = 0ms;
  DiskReserve reserve(disk.probe(), o, nullptr);
  // Never read: nothing known, the intake's own writes decide.
  EXPECT_TRUE(reserve.has_room());
  EXPECT_FALSE(reserve.reading().free.has_value());
  disk.failing = false;
  disk.free = 1 * kMiB;
  EXPECT_FALSE(reserve.has_room());
  disk.failing = true;
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(reserve.has_room());
  EXPECT_EQ(reserve.reading().free, 1 * kMiB);
  const auto text = log.text();
  // Once per failing streak: the first (when made) and the second.
  EXPECT_EQ(occurrences(text, "cannot read the free space"), 2u) << text;
  EXPECT_EQ(occurrences(text, "can be read again"), 1u) << text;
}

TEST(DiskReserve, NoReserveNeverRefuses) {
  ScriptedDisk disk;
  DiskReserveOptions o;
  o.reserve = 0;
  o.recheck = 0ms;
  DiskReserve reserve(disk.probe(), o, nullptr);
  disk.free = 0;
  EXPECT_TRUE(reserve.has_room());
  EXPECT_EQ(reserve.reading().free, 0u);
  EXPECT_EQ(reserve.reading().resume, 0u);
}

TEST(DiskReserve, TheDataDirectoryAloneIsAWarningThatRefusesNothingElse) {
  TempDir dir;
  const auto file = dir.path() / "alerts.jsonl";
  auto alerter = file_alerter(file);
  ASSERT_TRUE(alerter);
  ScriptedDisk disk;
  disk.free = 1 * kMiB;
  DiskReserveOptions o;
  o.guards_inbox = false;  // PostgreSQL: the inbox is on the server
  DiskReserve reserve(disk.probe(), o, alerter.get());
  EXPECT_TRUE(reserve.reading().refusing);
  EXPECT_FALSE(reserve.reading().guards_inbox);
  alerter->stop();
  const auto alerts = alerts_in(file);
  ASSERT_EQ(alerts.size(), 1u) << "already below when made: a crossing";
  EXPECT_EQ(alerts[0]["severity"], "warning");
  EXPECT_EQ(alerts[0]["reason"].get<std::string>().find("refuses"), std::string::npos);
}

// The check against a real filesystem: a tmpfs of 8 MiB filled by a file
// and emptied again.
TEST(DiskReserve, OnARealFilesystemFilledAndFreed) {
  TempDir dir;
  core::testing::ScopedTmpfs disk(dir.path() / "disk", 8 * kMiB);
  if (!disk.mounted()) GTEST_SKIP() << "no tmpfs: " << disk.why_not();
  const auto before = read_disk_space(disk.path());
  ASSERT_TRUE(before) << before.error().internal;
  EXPECT_EQ(before->total, 8 * kMiB);
  EXPECT_EQ(before->free, 8 * kMiB);
  const auto missing = read_disk_space(disk.path() / "nothing-here");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::io);
  EXPECT_EQ(missing.error().internal.find("nothing-here"), std::string::npos) << "no path in the message";

  // A reserve the filesystem cannot hold with its margin is refused.
  DiskReserveOptions big;
  big.reserve = 7 * kMiB;  // taken again from 8 MiB: never
  const auto refused = DiskReserve::open(disk.path(), big, nullptr);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::config);
  EXPECT_NE(refused.error().internal.find("[storage].disk_reserve_mib (7 MiB"), std::string::npos)
      << refused.error().internal;
  EXPECT_EQ(refused.error().internal.find(disk.path().string()), std::string::npos);

  TempDir alerts;
  auto alerter = file_alerter(alerts.path() / "alerts.jsonl");
  ASSERT_TRUE(alerter);
  LogCapture log;
  DiskReserveOptions o;
  o.reserve = 2 * kMiB;
  o.recheck = 0ms;
  auto reserve = DiskReserve::open(disk.path(), o, alerter.get());
  ASSERT_TRUE(reserve) << reserve.error().internal;
  EXPECT_TRUE((*reserve)->has_room());

  const auto filler = disk.path() / "filler";
  {
    std::ofstream f(filler, std::ios::binary);
    const std::string chunk(64 * 1024, 'x');
    for (std::uint64_t written = 0; written < 7 * kMiB; written += chunk.size()) f << chunk;
    ASSERT_TRUE(f.flush());
  }
  EXPECT_FALSE((*reserve)->has_room());
  const auto low = (*reserve)->reading();
  ASSERT_TRUE(low.free.has_value());
  EXPECT_LE(*low.free, 1 * kMiB);
  std::filesystem::remove(filler);
  EXPECT_TRUE((*reserve)->has_room());
  EXPECT_EQ((*reserve)->reading().free, 8 * kMiB);

  alerter->stop();
  const auto raised = alerts_in(alerts.path() / "alerts.jsonl");
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0]["details"]["total_bytes"], 8 * kMiB);
  EXPECT_EQ(raised[0].dump().find(disk.path().string()), std::string::npos);
  EXPECT_EQ(log.text().find(disk.path().string()), std::string::npos);
}

}  // namespace
}  // namespace rempart::services
