// e2e test of `rempart drill` (docs/drill.md): the breach drill on a small
// instance, its JSON scorecard checked vector by vector, and nothing left
// behind in the temporary directory it was given.
#include <cstdlib>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "integration/process.hpp"

namespace rempart::test {
namespace {

const nlohmann::json* vector_of(const nlohmann::json& card, const std::string& id) {
  for (const auto& v : card["vectors"]) {
    if (v["id"] == id) return &v;
  }
  return nullptr;
}

TEST(Drill, SmallDrillScoresEveryVectorWithinItsBoundAndLeavesNothing) {
  // The drill makes its instance under TMPDIR: a directory of this test's
  // own, which must be empty again afterwards; in memory when it can be
  // (every accepted sign-up waits for a durable commit).
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old ? old : "";
  if (fs::is_directory("/dev/shm")) ::setenv("TMPDIR", "/dev/shm", 1);
  TempDir tmp;
  ::setenv("TMPDIR", tmp.path().c_str(), 1);
  const auto r = run_rempart({"drill", "--supporters", "3000", "--phones", "500", "--format", "json"},
                             std::chrono::seconds(240));
  if (old) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  ASSERT_EQ(r.exit_code, 0) << r.out << "\n" << r.err;
  const auto card = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(card.is_object()) << r.out;
  EXPECT_TRUE(card["ok"].get<bool>());
  EXPECT_EQ(card["supporters"], 3000);
  EXPECT_GT(card["honeytokens"].get<int>(), 0);

  // Every vector of the 2026 chain was played and stayed within its bound.
  for (const char* id : {"injection", "data_copy", "intake_takeover", "stolen_password", "bulk_reveal",
                         "bulk_listing", "honeytoken", "insider_export", "audit_tampering"}) {
    const auto* v = vector_of(card, id);
    ASSERT_NE(v, nullptr) << id;
    EXPECT_TRUE((*v)["ran"].get<bool>()) << id << ": " << (*v)["failure"];
    EXPECT_TRUE((*v)["ok"].get<bool>()) << id << ": " << (*v)["failure"];
    EXPECT_LE((*v)["exposed"].get<std::int64_t>(), (*v)["bound"].get<std::int64_t>()) << id;
    EXPECT_EQ((*v)["failure"], "") << id;
  }
  for (const char* id : {"injection", "data_copy", "intake_takeover", "stolen_password", "bulk_listing",
                         "honeytoken", "insider_export", "audit_tampering"}) {
    EXPECT_EQ((*vector_of(card, id))["exposed"], 0) << id;
  }

  // The injection corpus really went in, and was answered cleanly.
  const auto& inj = (*vector_of(card, "injection"))["counts"];
  EXPECT_GT(inj["requests"].get<int>(), 2000);
  EXPECT_GT(inj["accepted"].get<int>(), 0);
  EXPECT_GT(inj["refused"].get<int>(), 0);
  EXPECT_EQ(inj["server_errors"], 0);
  // The sign-up host's thief had items to try, and opened none.
  const auto& intake = (*vector_of(card, "intake_takeover"))["counts"];
  EXPECT_EQ(intake["inbox_items"], inj["accepted"]);
  EXPECT_EQ(intake["opened"], 0);
  // The data directory was searched, and held nothing in clear.
  const auto& copy = (*vector_of(card, "data_copy"))["counts"];
  EXPECT_GT(copy["bytes"].get<std::int64_t>(), 1000000);
  EXPECT_EQ(copy["emails_in_clear"], 0);
  EXPECT_EQ(copy["phones_in_clear"], 0);

  // The stolen session got its budget of reveals and no more, and the alert
  // came within seconds of its first reveal.
  const auto& reveal = *vector_of(card, "bulk_reveal");
  EXPECT_EQ(reveal["bound"], 20);  // [guard] email_per_hour as init writes it
  EXPECT_GT(reveal["exposed"].get<int>(), 0);
  ASSERT_TRUE(reveal["first_alert_seconds"].is_number());
  EXPECT_LT(reveal["first_alert_seconds"].get<double>(), 30.0);
  EXPECT_TRUE((*vector_of(card, "honeytoken"))["first_alert_seconds"].is_number());
  EXPECT_TRUE((*vector_of(card, "bulk_listing"))["first_alert_seconds"].is_number());

  // The export: refused alone, every canary traced with approval.
  const auto& exp = (*vector_of(card, "insider_export"))["counts"];
  EXPECT_TRUE(exp["approved"].get<bool>());
  EXPECT_GT(exp["canaries"].get<int>(), 0);
  EXPECT_EQ(exp["canaries_traced"], exp["canaries"]);
  EXPECT_EQ(exp["files_before_approval"], 0);

  // Both tamperings were found.
  for (const auto& a : (*vector_of(card, "audit_tampering"))["counts"]["attempts"]) {
    EXPECT_TRUE(a["detected"].get<bool>()) << a["what"];
  }

  // The list of people to warn names exactly those the stolen session saw.
  const auto& blast = card["blast_radius"];
  EXPECT_TRUE(blast["ok"].get<bool>()) << blast;
  EXPECT_EQ(blast["listed"], reveal["exposed"]);
  EXPECT_EQ(blast["expected"], reveal["exposed"]);
  EXPECT_EQ(blast["missing"], 0);
  EXPECT_EQ(blast["extra"], 0);

  // Counts only: no synthetic address or number in what the drill printed.
  EXPECT_EQ(r.out.find('@'), std::string::npos);
  EXPECT_EQ(r.err.find('@'), std::string::npos);
  EXPECT_EQ(r.out.find("+33"), std::string::npos);

  // Nothing left behind.
  EXPECT_TRUE(card["removed"].get<bool>());
  EXPECT_TRUE(fs::is_empty(tmp.path())) << "the drill left files in its temporary directory";
}

TEST(Drill, RefusesOptionsOutOfRangeBeforeMakingAnything) {
  TempDir keep;
  const auto r = run_rempart({"drill", "--supporters", "1000", "--phones", "2000", "--keep",
                              (keep.path() / "instance").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(fs::exists(keep.path() / "instance"));
}

}  // namespace
}  // namespace rempart::test
