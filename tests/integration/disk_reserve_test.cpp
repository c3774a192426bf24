// End-to-end: a full disk (docs/operations.md, "The disk reserve"). The real
// binary with its data directory on a tmpfs of 32 MiB of its own, filled by
// a file of the test's and then by sign-ups at full rate: the intake answers
// 503 with Retry-After before the disk is full, one alert goes out, the
// keeper folds every sign-up it accepted and signs audit checkpoints while
// the intake refuses, `audit verify` passes; once the file is deleted, 202
// again. Mounting needs root with CAP_SYS_ADMIN: the test skips without.
#include <gtest/gtest.h>
#include <sys/statvfs.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include "core/test_tmpfs.hpp"
#include "integration/process.hpp"

namespace rempart::test {
namespace {

using namespace std::chrono_literals;
constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
constexpr std::uint64_t kReserve = 8 * kMiB;
constexpr std::uint64_t kResume = 9 * kMiB;  // the reserve and its margin (services::resume_margin)
constexpr const char* kOsdi = "/api/v1/people/person_signup_helper";

std::uint64_t free_bytes(const fs::path& p) {
  struct statvfs st {};
  if (::statvfs(p.c_str(), &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

// A different made-up supporter per call (example.org: reserved, reaches nobody).
std::string signup(int thread, int n) {
  const std::string id = std::to_string(thread) + "-" + std::to_string(n);
  return R"({"person":{"given_name":"Clothilde","family_name":"Rebouteux",)"
         R"("email_addresses":[{"address":"clothilde.rebouteux.)" +
         id + R"(@example.org","primary":true}]},"consent":{"email":true}})";
}

// One sample of a scrape ("name" or "name{labels}"), -1 when absent.
double metric(const std::string& scrape, const std::string& sample) {
  std::istringstream lines(scrape);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(sample + " ")) return std::stod(line.substr(sample.size() + 1));
  }
  return -1;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Replaces the whole line that starts with `key = ` in a rendered
// configuration (each key once in the file `init` writes).
void set_key(std::string& config, const std::string& key, const std::string& value) {
  const std::regex line("(^|\n)" + key + " = [^\n]*");
  ASSERT_TRUE(std::regex_search(config, line)) << key;
  config = std::regex_replace(config, line, "$1" + key + " = " + value, std::regex_constants::format_first_only);
}

TEST(DiskReserve, AFillingDiskStopsTheIntakeBeforeTheKeeperAndSpaceFreedTakesSignUpsAgain) {
  TempDir base;
  core::testing::ScopedTmpfs disk(base.path() / "disk", 32 * kMiB);
  if (!disk.mounted()) GTEST_SKIP() << "no tmpfs of our own: " << disk.why_not();
  const fs::path data = disk.path() / "data", keys = base.path() / "keys", config = base.path() / "rempart.toml",
                 alerts = base.path() / "alerts.jsonl", checkpoints = base.path() / "audit.checkpoints";
  auto init = run_rempart({"init", "--data", data.string(), "--keys", keys.string(), "--config", config.string(),
                           "--checkpoints", checkpoints.string(), "--listen", "127.0.0.1:0", "--console-listen",
                           "127.0.0.1:0"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  {
    std::string text = read_file(config);
    set_key(text, "disk_reserve_mib", "8");
    set_key(text, "rate_per_minute", "6000000");  // the load comes from one address
    set_key(text, "burst", "100000");
    set_key(text, "checkpoint_seconds", "1");
    set_key(text, "file", "\"" + alerts.string() + "\"");
    std::ofstream(config, std::ios::trunc) << text;
  }
  // The disk nearly full before the first sign-up: 13 MiB left, 8 of them the reserve.
  const fs::path filler = disk.path() / "filler";
  {
    const std::uint64_t size = free_bytes(disk.path()) - 13 * kMiB;
    std::ofstream f(filler, std::ios::binary);
    const std::string chunk(kMiB, 'x');
    for (std::uint64_t w = 0; w < size; w += chunk.size()) {
      f.write(chunk.data(), static_cast<std::streamsize>(std::min<std::uint64_t>(chunk.size(), size - w)));
    }
    ASSERT_TRUE(f.flush());
  }

  Server srv({"serve", "--config", config.string()}, base.path() / "serve.log");
  const auto intake = srv.wait_for_port();
  const auto console = srv.wait_for_port(30s, "console");
  ASSERT_NE(intake, 0) << srv.log();
  ASSERT_NE(console, 0) << srv.log();
  ASSERT_TRUE(srv.wait_for_log("disk: ")) << srv.log();
  EXPECT_NE(srv.log().find("the intake refuses sign-ups below 8 MiB (and takes them again from 9.0 MiB)"),
            std::string::npos)
      << srv.log();

  // Sign-ups at full rate from 4 clients until 200 have been refused; free
  // space sampled every 5 ms meanwhile.
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> lowest{free_bytes(disk.path())};
  std::thread sampler([&] {
    while (!done) {
      const auto f = free_bytes(disk.path());
      if (f < lowest) lowest = f;
      std::this_thread::sleep_for(5ms);
    }
  });
  std::atomic<int> accepted{0}, refused{0}, other{0};
  std::mutex mu;
  std::vector<std::string> problems;
  std::vector<std::thread> clients;
  const auto load_end = std::chrono::steady_clock::now() + 12s;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      for (int n = 0; refused < 200 && std::chrono::steady_clock::now() < load_end; ++n) {
        const auto r = try_http_request(intake, "POST", kOsdi, "application/json", signup(t, n));
        if (r.stage != HttpOutcome::Stage::answered) {
          ++other;
          std::lock_guard lock(mu);
          problems.push_back("no answer: " + r.error);
        } else if (r.response.status == 202) {
          ++accepted;
        } else if (r.response.status == 503 && r.response.headers.count("retry-after") == 1 &&
                   r.response.headers.at("retry-after") == "120" &&
                   r.response.body == R"({"errors":[{"code":"unavailable","field":"body"}]})") {
          ++refused;
        } else {
          ++other;
          std::lock_guard lock(mu);
          problems.push_back("status " + std::to_string(r.response.status) + ": " + r.response.body);
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  const std::uint64_t filled = free_bytes(disk.path());
  EXPECT_EQ(other.load(), 0) << (problems.empty() ? "" : problems.front());
  ASSERT_GE(refused.load(), 200) << accepted << " accepted in 12 s, no refusal: " << srv.log();
  ASSERT_GT(accepted.load(), 0);
  // Refused before the disk was full, and the sign-ups it took stopped
  // within what the reserve holds.
  EXPECT_LT(filled, kReserve);
  const std::uint64_t lowest_under_load = lowest;
  EXPECT_GT(lowest_under_load, kReserve / 2) << "the intake went on writing far past the reserve";

  // The keeper folds every sign-up the intake took, while it still refuses.
  std::string scrape;
  const auto fold_deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < fold_deadline) {
    scrape = http_request(console, "GET", "/metrics").body;
    if (metric(scrape, "rempart_folded_total{result=\"created\"}") == accepted &&
        metric(scrape, "rempart_inbox_backlog") == 0) {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(metric(scrape, "rempart_folded_total{result=\"created\"}"), accepted) << scrape;
  EXPECT_EQ(metric(scrape, "rempart_inbox_backlog"), 0);
  EXPECT_EQ(metric(scrape, "rempart_fold_failures_total"), 0) << srv.log();
  // The keeper's side goes on writing: an operator makes a token, a
  // program lists the directory through the console (audited), and the
  // keeper signs an audit checkpoint of it (every second here).
  auto token = run_rempart({"admin", "token", "create", "--scope", "read-masked", "--name", "drill", "--config",
                            config.string()});
  ASSERT_EQ(token.exit_code, 0) << token.err;
  const auto at = token.out.find("rmp_");
  ASSERT_NE(at, std::string::npos) << token.out;
  const std::string bearer = "Bearer " + token.out.substr(at, token.out.find('\n', at) - at);
  const auto checkpoints_before = fs::file_size(checkpoints);
  EXPECT_EQ(http_request(console, "GET", "/api/v1/supporters", "", "", {{"Authorization", bearer}}).status, 200);
  const auto checkpoint_deadline = std::chrono::steady_clock::now() + 5s;
  while (fs::file_size(checkpoints) == checkpoints_before && std::chrono::steady_clock::now() < checkpoint_deadline) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GT(fs::file_size(checkpoints), checkpoints_before) << "no audit checkpoint while the intake refused";
  const auto still = try_http_request(intake, "POST", kOsdi, "application/json", signup(9, 0));
  EXPECT_EQ(still.response.status, 503);
  // What /metrics says of it (read again at the scrape).
  scrape = http_request(console, "GET", "/metrics").body;
  EXPECT_EQ(metric(scrape, "rempart_intake_refusing_for_space"), 1) << scrape;
  EXPECT_EQ(metric(scrape, "rempart_disk_reserve_bytes"), static_cast<double>(kReserve));
  const double scraped_free = metric(scrape, "rempart_disk_free_bytes");
  EXPECT_GT(scraped_free, 0);
  EXPECT_LT(scraped_free, static_cast<double>(kReserve));
  EXPECT_EQ(metric(scrape, "rempart_intake_rejected_total{reason=\"disk_reserve\"}"), refused + 1);
  EXPECT_EQ(metric(scrape, "rempart_intake_rejected_total{reason=\"unavailable\"}"), 0);
  // The audit log verifies with the disk at its reserve.
  const auto verify_low = run_rempart({"audit", "verify", "--config", config.string()});
  EXPECT_EQ(verify_low.exit_code, 0) << verify_low.out << verify_low.err;

  // Space freed: sign-ups are taken again at once.
  fs::remove(filler);
  const auto freed_at = std::chrono::steady_clock::now();
  int status = 0;
  for (int n = 0; status != 202 && std::chrono::steady_clock::now() - freed_at < 3s; ++n) {
    status = try_http_request(intake, "POST", kOsdi, "application/json", signup(10, n)).response.status;
    if (status == 202) {
      ++accepted;
    } else {
      std::this_thread::sleep_for(20ms);
    }
  }
  ASSERT_EQ(status, 202) << srv.log();
  EXPECT_LT(std::chrono::steady_clock::now() - freed_at, 1s);
  for (int n = 100; n < 110; ++n) {
    EXPECT_EQ(try_http_request(intake, "POST", kOsdi, "application/json", signup(10, n)).response.status, 202);
    ++accepted;
  }
  EXPECT_GE(free_bytes(disk.path()), kResume);
  scrape = http_request(console, "GET", "/metrics").body;
  EXPECT_EQ(metric(scrape, "rempart_intake_refusing_for_space"), 0);

  // Everything taken is folded, once; the log and the alert say what happened, once.
  const auto end_deadline = std::chrono::steady_clock::now() + 15s;
  const std::string created = "rempart_folded_total{result=\"created\"}";
  while (metric(http_request(console, "GET", "/metrics").body, created) != accepted &&
         std::chrono::steady_clock::now() < end_deadline) {
    std::this_thread::sleep_for(100ms);
  }
  done = true;
  sampler.join();
  EXPECT_GT(lowest.load(), kReserve / 2) << "the disk came near full";
  ASSERT_EQ(srv.terminate(), 0) << srv.log();
  const auto log = srv.log();
  EXPECT_EQ(occurrences(log, "disk: free space on the inbox's filesystem is below the reserve"), 1u) << log;
  EXPECT_EQ(occurrences(log, "disk: free space on the inbox's filesystem is back above the reserve"), 1u) << log;
  for (const char* failure : {"fold failed", "fold transaction failed", "could not be deleted", "commit of",
                              "checkpoint failed", "disk is full", "example.org", "Rebouteux"}) {
    EXPECT_EQ(log.find(failure), std::string::npos) << failure << " in the log:\n" << log;
  }
  std::vector<std::string> raised;  // the token made on the CLI raised one of its own
  {
    std::ifstream in(alerts);
    for (std::string line; std::getline(in, line);) {
      if (line.find("\"kind\":\"disk_reserve\"") != std::string::npos) raised.push_back(line);
    }
  }
  ASSERT_EQ(raised.size(), 1u) << "one alert for one crossing";
  EXPECT_NE(raised[0].find("\"kind\":\"disk_reserve\""), std::string::npos) << raised[0];
  EXPECT_NE(raised[0].find("\"severity\":\"critical\""), std::string::npos) << raised[0];
  EXPECT_EQ(raised[0].find(disk.path().string()), std::string::npos) << raised[0];
  EXPECT_EQ(raised[0].find("example.org"), std::string::npos) << raised[0];

  const auto verify = run_rempart({"audit", "verify", "--config", config.string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  const auto count = run_rempart({"supporters", "count", "--config", config.string()});
  EXPECT_EQ(count.exit_code, 0) << count.err;
  EXPECT_EQ(count.out, std::to_string(accepted.load()) + "\n") << "every 202 folded, nothing refused kept";
  std::cout << "[ measured ] " << accepted.load() << " sign-ups accepted, " << refused.load()
            << " refused; free space: " << lowest_under_load / 1024 << " KiB at the lowest under load, "
            << filled / 1024 << " KiB when the load stopped, " << lowest.load() / 1024
            << " KiB at the lowest overall (reserve " << kReserve / 1024 << " KiB)\n";
}

// The roles split on one host: the intake process reads the filesystem and
// refuses by itself; the keeper process reads the same filesystem, alerts
// and shows it on /metrics. The disk is filled by a file alone.
TEST(DiskReserve, WithTheRolesSplitTheIntakeRefusesAndTheKeeperAlerts) {
  TempDir base;
  core::testing::ScopedTmpfs disk(base.path() / "disk", 16 * kMiB);
  if (!disk.mounted()) GTEST_SKIP() << "no tmpfs of our own: " << disk.why_not();
  const fs::path data = disk.path() / "data", keys = base.path() / "keys", config = base.path() / "rempart.toml",
                 alerts = base.path() / "alerts.jsonl";
  auto init = run_rempart({"init", "--data", data.string(), "--keys", keys.string(), "--config", config.string(),
                           "--checkpoints", (base.path() / "audit.checkpoints").string(), "--listen",
                           "127.0.0.1:0", "--console-listen", "127.0.0.1:0"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  {
    std::string text = read_file(config);
    set_key(text, "disk_reserve_mib", "4");
    set_key(text, "file", "\"" + alerts.string() + "\"");
    std::ofstream(config, std::ios::trunc) << text;
  }
  Server keeper({"serve", "--role", "keeper", "--config", config.string()}, base.path() / "keeper.log");
  Server intake({"serve", "--role", "intake", "--config", config.string()}, base.path() / "intake.log");
  const auto console = keeper.wait_for_port(30s, "console");
  const auto port = intake.wait_for_port();
  ASSERT_NE(console, 0) << keeper.log();
  ASSERT_NE(port, 0) << intake.log();
  ASSERT_EQ(try_http_request(port, "POST", kOsdi, "application/json", signup(0, 0)).response.status, 202);

  // 2 MiB left: below the reserve of 4.
  const fs::path filler = disk.path() / "filler";
  {
    const std::uint64_t size = free_bytes(disk.path()) - 2 * kMiB;
    std::ofstream f(filler, std::ios::binary);
    const std::string chunk(kMiB, 'x');
    for (std::uint64_t w = 0; w < size; w += chunk.size()) {
      f.write(chunk.data(), static_cast<std::streamsize>(std::min<std::uint64_t>(chunk.size(), size - w)));
    }
    ASSERT_TRUE(f.flush());
  }
  // The keeper sees it after a fold pass, with no sign-up coming.
  ASSERT_TRUE(keeper.wait_for_log("disk: free space on the inbox's filesystem is below the reserve", 5s))
      << keeper.log();
  std::this_thread::sleep_for(150ms);  // past the intake's last reading
  const auto refused = try_http_request(port, "POST", kOsdi, "application/json", signup(0, 1));
  EXPECT_EQ(refused.response.status, 503);
  EXPECT_EQ(refused.response.headers.count("retry-after") == 1 ? refused.response.headers.at("retry-after") : "",
            "120");
  EXPECT_TRUE(intake.wait_for_log("disk: free space on the inbox's filesystem is below the reserve", 2s))
      << intake.log();
  const auto scrape = http_request(console, "GET", "/metrics").body;
  EXPECT_EQ(metric(scrape, "rempart_intake_refusing_for_space"), 1) << scrape;
  EXPECT_EQ(metric(scrape, "rempart_disk_reserve_bytes"), static_cast<double>(4 * kMiB));
  EXPECT_LT(metric(scrape, "rempart_disk_free_bytes"), static_cast<double>(4 * kMiB));

  fs::remove(filler);
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(try_http_request(port, "POST", kOsdi, "application/json", signup(0, 2)).response.status, 202);
  EXPECT_EQ(metric(http_request(console, "GET", "/metrics").body, "rempart_intake_refusing_for_space"), 0);
  EXPECT_EQ(intake.terminate(), 0) << intake.log();
  EXPECT_EQ(keeper.terminate(), 0) << keeper.log();

  std::size_t raised = 0;
  std::ifstream in(alerts);
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"kind\":\"disk_reserve\"") != std::string::npos) ++raised;
  }
  EXPECT_EQ(raised, 1u) << "the keeper alerts; the intake-only process has no alert sink";
  const auto count = run_rempart({"supporters", "count", "--config", config.string()});
  EXPECT_EQ(count.out, "2\n") << count.err;
}

}  // namespace
}  // namespace rempart::test
