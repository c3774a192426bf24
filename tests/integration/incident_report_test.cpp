// End-to-end tests of `rempart incident report` and `rempart incident
// register`: records revealed by an operator, the 72-hour notification in
// both languages with the right counts and no personal data, the breach
// recorded in the register, brought up to date and closed, each write an
// audit entry that holds no free text, and the log still verifying.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "integration/process.hpp"

namespace rempart::test {
namespace {

bool has(const std::string& text, const std::string& words) { return text.find(words) != std::string::npos; }

std::size_t lines(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

class IncidentReport : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(run({"supporters", "synth", "30", "--phones", "10"}).exit_code, 0);
    // An operator reveals two records: what the notification must count.
    for (const char* phone : {"+33199000003", "+33199000004"}) {
      auto show = run({"supporters", "show", "--phone", phone, "--reason", "incident-drill", "--json"});
      ASSERT_EQ(show.exit_code, 0) << show.err;
      const auto j = nlohmann::json::parse(show.out);
      for (const char* field : {"email", "phone", "street"}) {
        const std::string v = j.value(field, "");
        if (!v.empty()) pii.push_back(v);
      }
      pii.push_back(j.value("given_name", "") + " " + j.value("family_name", ""));
      pii.push_back(std::string(phone).substr(3));  // the national digits too
    }
    ASSERT_GE(pii.size(), 8u);
  }

  RunResult run(std::vector<std::string> args) {
    args.push_back("--config");
    args.push_back(in.config.string());
    return run_rempart(args);
  }

  // No value of the revealed records anywhere in `r`.
  void expect_no_pii(const RunResult& r, const std::string& what) {
    for (const auto& v : pii) {
      EXPECT_FALSE(has(r.out, v)) << what << " prints personal data";
      EXPECT_FALSE(has(r.err, v)) << what << " prints personal data";
    }
  }

  Instance in;
  std::vector<std::string> pii;
};

TEST_F(IncidentReport, NotifiesInBothLanguagesRecordsAndUpdatesTheRegister) {
  auto r = run({"incident", "report", "--since", "2000-01-01", "--record", "--nature", "Jeton XYZZY vole",
                "--contact", "DPO QWERTZ"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_no_pii(r, "incident report");
  // Both texts, whole, with the counts of the two reveals.
  EXPECT_TRUE(has(r.out, "NOTIFICATION D'UNE VIOLATION DE DONNÉES À CARACTÈRE PERSONNEL")) << r.out;
  EXPECT_TRUE(has(r.out, "PERSONAL DATA BREACH NOTIFICATION")) << r.out;
  EXPECT_TRUE(has(r.out, "Personnes dont des données ont été affichées en clair ou exportées : 2, dont :")) << r.out;
  EXPECT_TRUE(has(r.out, "People whose data were displayed in full or exported: 2, of whom:")) << r.out;
  EXPECT_TRUE(has(r.out, "    adresse électronique : 2\n")) << r.out;
  EXPECT_TRUE(has(r.out, "    phone number: 2\n")) << r.out;
  EXPECT_TRUE(has(r.out, "article 9 du RGPD")) << r.out;
  EXPECT_TRUE(has(r.out, "GDPR article 9")) << r.out;
  EXPECT_TRUE(has(r.out, "Circonstances : Jeton XYZZY vole")) << r.out;
  EXPECT_TRUE(has(r.out, "Data protection officer or other contact point: DPO QWERTZ")) << r.out;
  EXPECT_TRUE(has(r.out, "[À COMPLÉTER : ")) << "what only a person knows is marked";
  EXPECT_TRUE(has(r.out, "[TO COMPLETE: ")) << r.out;
  EXPECT_TRUE(has(r.out, "Registre des violations : entrée n° 1")) << r.out;
  EXPECT_TRUE(has(r.out, "Breach register: entry 1")) << r.out;
  // No alert in the log: the window's start, and so the deadline long gone.
  EXPECT_TRUE(has(r.out, "début de la période examinée")) << r.out;
  EXPECT_TRUE(has(r.out, "Reasons for the delay (article 33(1))")) << r.out;
  EXPECT_TRUE(has(r.err, "recorded as breach register entry 1 (open)")) << r.err;
  EXPECT_TRUE(has(r.err, "rempart notify --from-blast-radius")) << r.err;

  auto list = run({"incident", "register", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(lines(list.out), 2u) << list.out;
  EXPECT_TRUE(has(list.out, "open")) << list.out;
  EXPECT_TRUE(has(list.out, "OVERDUE")) << list.out;
  expect_no_pii(list, "register list");

  auto show = run({"incident", "register", "show", "1"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_TRUE(has(show.out, "2 revealed or exported, 0 seen masked only")) << show.out;
  EXPECT_TRUE(has(show.out, "\"email\" 2") || has(show.out, "email 2")) << show.out;
  EXPECT_TRUE(has(show.out, "political_opinion,phishing,phone_scams")) << show.out;
  EXPECT_TRUE(has(show.out, "Jeton XYZZY vole")) << "the officer's words stay in the register";
  EXPECT_TRUE(has(show.out, "authority notified:     not yet")) << show.out;
  expect_no_pii(show, "register show");

  // Closing before the decision is written down is refused.
  auto early = run({"incident", "register", "update", "1", "--close", "--reason", "done"});
  EXPECT_EQ(early.exit_code, 1) << early.err;
  EXPECT_TRUE(has(early.err, "article 33(5)")) << early.err;

  auto notified = run({"incident", "register", "update", "1", "--authority-notified-at", "now",
                       "--people-notified-at", "now"});
  ASSERT_EQ(notified.exit_code, 0) << notified.err;
  EXPECT_TRUE(has(notified.out, "entry 1 is notified (authority_notified_at, people_notified_at)")) << notified.out;
  show = run({"incident", "register", "show", "1"});
  EXPECT_FALSE(has(show.out, "authority notified:     not yet")) << show.out;
  EXPECT_FALSE(has(show.out, "people notified:        not yet")) << show.out;
  list = run({"incident", "register", "list"});
  EXPECT_TRUE(has(list.out, "notified")) << list.out;
  EXPECT_FALSE(has(list.out, "OVERDUE")) << "notified: no deadline any more";

  auto closed = run({"incident", "register", "update", "1", "--close", "--reason", "keys rotated, people told"});
  ASSERT_EQ(closed.exit_code, 0) << closed.err;
  auto after = run({"incident", "register", "update", "1", "--people-notified-at", "now"});
  EXPECT_EQ(after.exit_code, 1) << "a closed entry stays closed";
  auto nobody = run({"incident", "register", "update", "9", "--authority-notified-at", "now"});
  EXPECT_EQ(nobody.exit_code, 2) << nobody.err;

  // Each write is an audit entry with ids, counts and states, never the
  // officer's text.
  auto q = run({"audit", "query", "--action", "breach.record", "--format", "jsonl"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(lines(q.out), 1u) << q.out;
  EXPECT_TRUE(has(q.out, R"("people":2)")) << q.out;
  EXPECT_TRUE(has(q.out, R"("id":1)")) << q.out;
  auto u = run({"audit", "query", "--action", "breach.update", "--format", "jsonl"});
  EXPECT_EQ(lines(u.out), 2u) << u.out;
  EXPECT_TRUE(has(u.out, R"("state":"closed")")) << u.out;
  for (const auto* entries : {&q.out, &u.out}) {
    EXPECT_FALSE(has(*entries, "XYZZY")) << *entries;
    EXPECT_FALSE(has(*entries, "QWERTZ")) << *entries;
    EXPECT_FALSE(has(*entries, "people told")) << *entries;
  }
  auto v = run({"audit", "verify"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST_F(IncidentReport, OneLanguageToAPrivateFileAndNothingRecordedUnlessAsked) {
  const auto file = in.dir.path() / "notification.txt";
  auto r = run({"incident", "report", "--since", "2000-01-01", "--lang", "en", "--out", file.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "notification written to")) << r.out;
  const std::string text = read_file(file);
  EXPECT_TRUE(has(text, "PERSONAL DATA BREACH NOTIFICATION")) << text;
  EXPECT_FALSE(has(text, "NOTIFICATION D'UNE VIOLATION")) << "English only";
  EXPECT_TRUE(has(text, "Breach register: not recorded yet")) << text;
  for (const auto& v : pii) EXPECT_FALSE(has(text, v)) << "personal data in the file";
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(has(run({"incident", "register", "list"}).out, "the breach register is empty"));

  // Documented without notifying: the reason goes with --record only.
  auto alone = run({"incident", "report", "--since", "2000-01-01", "--not-notified-because", "no risk"});
  EXPECT_EQ(alone.exit_code, 2) << alone.err;
  auto kept = run({"incident", "report", "--since", "2000-01-01", "--lang", "fr", "--record",
                   "--not-notified-because", "fiches leurres seulement"});
  ASSERT_EQ(kept.exit_code, 0) << kept.err;
  EXPECT_TRUE(has(kept.out, "Motif inscrit au registre : fiches leurres seulement")) << kept.out;
  EXPECT_FALSE(has(kept.out, "PERSONAL DATA BREACH")) << "French only";
  auto list = run({"incident", "register", "list"});
  EXPECT_TRUE(has(list.out, "not_notified")) << list.out;
  EXPECT_FALSE(has(list.out, "OVERDUE")) << "a decision not to notify has no deadline";
}

TEST_F(IncidentReport, AWindowWithoutExposureAndBadArgumentsAreSaidSo) {
  auto r = run({"incident", "report", "--since", "2000-01-01", "--until", "2000-01-02", "--lang", "en"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "displayed in full or exported: 0\n")) << r.out;
  EXPECT_TRUE(has(r.out, "The log shows no supporter data displayed or exported in the period.")) << r.out;
  EXPECT_FALSE(has(r.err, "rempart notify")) << "nobody to tell";

  EXPECT_EQ(run({"incident", "report"}).exit_code, 2) << "--since is required";
  EXPECT_EQ(run({"incident", "report", "--since", "yesterday"}).exit_code, 2);
  EXPECT_EQ(run({"incident", "report", "--since", "2000-01-01", "--lang", "de"}).exit_code, 2);
  EXPECT_EQ(run({"incident", "report", "--since", "2000-01-01", "--actor", "nobody-here"}).exit_code, 2);
  EXPECT_EQ(run({"incident", "report", "--since", "2000-01-01", "--nature", "a\x1b[2Jb"}).exit_code, 2);
  EXPECT_EQ(run({"incident", "register", "update", "1", "--reason", "x"}).exit_code, 2) << "--reason needs --close";
}

}  // namespace
}  // namespace rempart::test
