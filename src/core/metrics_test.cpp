#include "core/metrics.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace rempart::core::metrics {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The samples of an exposition: "name{labels}" → value text.
std::map<std::string, std::string> samples_of(const std::string& text) {
  std::map<std::string, std::string> out;
  for (const auto& line : lines_of(text)) {
    if (line.empty() || line.front() == '#') continue;
    const auto space = line.rfind(' ');
    out[line.substr(0, space)] = line.substr(space + 1);
  }
  return out;
}

TEST(Metrics, CountsByFixedLabels) {
  Registry r;
  r.signups[SignupApi::form].add();
  r.signups[SignupApi::osdi].add(2);
  r.rejected[Reject::rate_limited].add(3);
  r.rejected[Reject::validation].add();
  r.folded[FoldResult::created].add(2);
  r.fold_passes.add();
  r.reveals.add();
  r.revealed_fields.add(2);
  r.locks[lock_reason_of("honeytoken")].add();
  r.locks[lock_reason_of("anything else")].add();
  r.alerts[AlertSeverity::critical].add();
  r.mail[MailResult::sent].add(4);
  r.mailing[MailingResult::failed].add();
  const auto s = samples_of(r.exposition({}));
  EXPECT_EQ(s.at("rempart_intake_signups_total{api=\"form\"}"), "1");
  EXPECT_EQ(s.at("rempart_intake_signups_total{api=\"osdi\"}"), "2");
  EXPECT_EQ(s.at("rempart_intake_rejected_total{reason=\"rate_limited\"}"), "3");
  EXPECT_EQ(s.at("rempart_intake_rejected_total{reason=\"validation\"}"), "1");
  EXPECT_EQ(s.at("rempart_intake_rejected_total{reason=\"too_large\"}"), "0");
  EXPECT_EQ(s.at("rempart_folded_total{result=\"created\"}"), "2");
  EXPECT_EQ(s.at("rempart_fold_passes_total"), "1");
  EXPECT_EQ(s.at("rempart_fold_failures_total"), "0");
  EXPECT_EQ(s.at("rempart_reveals_total"), "1");
  EXPECT_EQ(s.at("rempart_revealed_fields_total"), "2");
  EXPECT_EQ(s.at("rempart_locks_total{reason=\"honeytoken\"}"), "1");
  EXPECT_EQ(s.at("rempart_locks_total{reason=\"other\"}"), "1");
  EXPECT_EQ(s.at("rempart_alerts_total{severity=\"critical\"}"), "1");
  EXPECT_EQ(s.at("rempart_mail_total{result=\"sent\"}"), "4");
  EXPECT_EQ(s.at("rempart_mailing_messages_total{result=\"failed\"}"), "1");
  EXPECT_EQ(s.at("rempart_build_info{version=\"" + std::string(build_version()) + "\"}"), "1");
  EXPECT_FALSE(build_version().empty());
}

TEST(Metrics, LockReasonsAreTheGuardsAndSignInsNames) {
  EXPECT_EQ(lock_reason_of("reveal_budget"), LockReason::reveal_budget);
  EXPECT_EQ(lock_reason_of("list_budget"), LockReason::list_budget);
  EXPECT_EQ(lock_reason_of("search_misses"), LockReason::search_misses);
  EXPECT_EQ(lock_reason_of("login_failures"), LockReason::login_failures);
  EXPECT_EQ(lock_reason_of("other"), LockReason::other);
  EXPECT_EQ(lock_reason_of(""), LockReason::other);
}

TEST(Metrics, GaugesOnlyWhenKnown) {
  Registry r;
  const auto none = r.exposition({});
  EXPECT_EQ(none.find("rempart_inbox_backlog"), std::string::npos);
  const auto unknown = r.exposition({-1});
  EXPECT_EQ(unknown.find("rempart_inbox_backlog"), std::string::npos);
  EXPECT_EQ(none.find("rempart_outbox_pending"), std::string::npos);
  const auto s = samples_of(r.exposition({7, 3}));
  EXPECT_EQ(s.at("rempart_inbox_backlog"), "7");
  EXPECT_EQ(s.at("rempart_outbox_pending"), "3");
  EXPECT_EQ(none.find("rempart_disk_"), std::string::npos);
  EXPECT_EQ(none.find("rempart_intake_refusing_for_space"), std::string::npos);
}

TEST(Metrics, TheDiskReserveShowsFreeBytesReserveAndRefusal) {
  Registry r;
  r.rejected[Reject::disk_reserve].add(5);
  Gauges g;
  g.disk_free_bytes = 3'000'000'000;  // past 32 bits
  g.disk_reserve_bytes = 67'108'864;
  g.intake_refusing_for_space = 0;  // known, and shown as 0
  const auto s = samples_of(r.exposition(g));
  EXPECT_EQ(s.at("rempart_disk_free_bytes"), "3000000000");
  EXPECT_EQ(s.at("rempart_disk_reserve_bytes"), "67108864");
  EXPECT_EQ(s.at("rempart_intake_refusing_for_space"), "0");
  EXPECT_EQ(s.at("rempart_intake_rejected_total{reason=\"disk_reserve\"}"), "5");
  EXPECT_EQ(s.at("rempart_intake_rejected_total{reason=\"unavailable\"}"), "0");
}

// The text format's grammar, as far as we write it: each family a HELP and
// a TYPE line before its samples, names of [a-z_], counters ending in
// _total, every line ending in a newline, no family twice.
TEST(Metrics, ExpositionIsWellFormed) {
  Registry r;
  const auto text = r.exposition({1});
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  std::set<std::string> families;
  std::string current, type;
  bool help = false;
  for (const auto& line : lines_of(text)) {
    ASSERT_FALSE(line.empty());
    if (line.starts_with("# HELP ")) {
      current = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(families.insert(current).second) << current;
      help = true;
      type.clear();
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      ASSERT_TRUE(help);
      EXPECT_EQ(line.substr(7, current.size()), current);
      type = line.substr(7 + current.size() + 1);
      EXPECT_TRUE(type == "counter" || type == "gauge") << line;
      if (type == "counter") {
        EXPECT_TRUE(current.ends_with("_total")) << current;
      }
      EXPECT_TRUE(current.starts_with("rempart_")) << current;
      continue;
    }
    ASSERT_FALSE(type.empty()) << line;
    const auto name = line.substr(0, line.find_first_of("{ "));
    EXPECT_EQ(name, current) << line;
    for (const char ch : name) EXPECT_TRUE(std::islower(static_cast<unsigned char>(ch)) || ch == '_') << name;
    const auto value = line.substr(line.rfind(' ') + 1);
    ASSERT_FALSE(value.empty());
    for (const char ch : value) EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(ch)) || ch == '.') << line;
  }
  EXPECT_GE(families.size(), 16u);
}

TEST(Metrics, CountsFromManyThreadsAddUp) {
  Registry r;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&r] {
      for (int i = 0; i < 10000; ++i) {
        r.signups[SignupApi::form].add();
        r.rejected[Reject::too_large].add();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(r.signups[SignupApi::form].value(), 80000u);
  EXPECT_EQ(r.rejected[Reject::too_large].value(), 80000u);
}

TEST(Metrics, TheProcessRegistryIsOne) {
  EXPECT_EQ(&process_registry(), &process_registry());
  EXPECT_GT(process_registry().start_time(), 1.6e9);
}

}  // namespace
}  // namespace rempart::core::metrics
