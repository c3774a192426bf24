#include "services/importer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <tuple>

#include <set>
#include <sstream>

#include <sqlite3.h>

#include "services/test_support.hpp"

namespace rempart::services {
namespace {

TEST(ColumnMap, ParsesAndRefusesUnknownTargets) {
  auto m = parse_column_map("given_name=Prénom, email = Courriel ,phone=Tél.");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->at("given_name"), "Prénom");
  EXPECT_EQ(m->at("email"), "Courriel");
  EXPECT_EQ(m->at("phone"), "Tél.");
  EXPECT_FALSE(parse_column_map("password=Mot de passe"));
  EXPECT_FALSE(parse_column_map("email"));
  auto off = parse_column_map("country=");  // read nothing for the country
  ASSERT_TRUE(off);
  EXPECT_EQ(off->at("country"), "");
}

TEST(Import, ChunksCommitWholeRowsAndDedupAcrossChunks) {
  testing::Fixture fx;
  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  std::ostringstream csv;
  csv << "email,tags,consent_email\n";
  for (int i = 0; i < 25; ++i) csv << "p" << (i % 20) << "@example.org,\"a,b\",oui\n";
  std::istringstream in(csv.str());
  ImportOptions opts;
  opts.rows_per_transaction = 7;
  std::size_t calls = 0;
  opts.progress = [&](std::uint64_t, std::size_t) { ++calls; };
  auto r = import_csv(in, {}, *st, keys, opts);
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_EQ(r->rows, 25u);
  EXPECT_EQ(r->counts.created, 20u);
  EXPECT_EQ(r->counts.unchanged, 5u);
  EXPECT_TRUE(r->issues.empty());
  EXPECT_EQ(calls, 4u);
  EXPECT_EQ(st->count_supporters().value(), 20);
  auto s = Vault(keys).reveal_by_contact(*st, "operator:test", "email", "p3@example.org", "test").value();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->person.tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(s->person.consent.email);
}

// A file that spans several chunks at rows_per_transaction 7: duplicates of
// earlier rows in later chunks (merges and unchanged), bad rows in several
// chunks, a malformed CSV row, blank lines, a bad last row.
std::string several_chunk_csv() {
  std::ostringstream csv;
  csv << "email,phone,given_name,tags,consent_email\n";
  for (int i = 0; i < 45; ++i) {
    if (i == 9) csv << "\n";  // blank line: not a row
    if (i == 4) {
      csv << "not an email,123,Ana,,oui\n";  // two problems on one line
    } else if (i == 11 || i == 30) {
      csv << "bad" << i << "@,,Ana,,\n";
    } else if (i == 23) {
      csv << "\"p1@example.org\"x,,Ana,,\n";  // character after a closing quote
    } else if (i == 44) {
      csv << "last@,,,,\n";
    } else {
      csv << "p" << (i % 13) << "@example.org,";
      if (i % 6 == 0) csv << "+3319900" << (1000 + i % 13);
      csv << ",Ana" << (i < 13 ? "" : "ïs") << ",\"t" << (i % 2) << ",u\"," << (i % 2 == 0 ? "oui" : "") << "\n";
    }
  }
  return csv.str();
}

struct ImportRun {
  ImportReport report;
  std::vector<std::uint64_t> progress_bytes;
  std::vector<std::size_t> progress_rows;
  std::vector<std::string> actions;  // audit actions in order
  std::vector<std::size_t> subjects;  // audit subjects, numbered by first appearance
  std::map<std::string, core::Person> people;  // by e-mail, as stored
};

ImportRun run_import(const std::string& text, std::size_t rows_per_transaction) {
  testing::Fixture fx;
  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  std::istringstream in(text);
  ImportOptions opts;
  opts.rows_per_transaction = rows_per_transaction;
  ImportRun run;
  opts.progress = [&](std::uint64_t bytes, std::size_t rows) {
    run.progress_bytes.push_back(bytes);
    run.progress_rows.push_back(rows);
  };
  auto r = import_csv(in, {}, *st, keys, opts);
  EXPECT_TRUE(r) << r.error().internal;
  if (!r) return run;
  run.report = *r;
  std::map<std::string, std::size_t> number;
  EXPECT_TRUE(st->scan_audit(1, [&](const store::AuditEntryRow& e) {
    run.actions.push_back(e.action);
    run.subjects.push_back(number.try_emplace(e.subject, number.size()).first->second);
    return true;
  }));
  for (int i = 0; i < 13; ++i) {
    const auto email = "p" + std::to_string(i) + "@example.org";
    auto s = Vault(keys).reveal_by_contact(*st, "operator:test", "email", email, "test");
    EXPECT_TRUE(s && *s) << email;
    if (s && *s) run.people[email] = (*s)->person;
  }
  return run;
}

TEST(Import, ManyChunksGiveTheSameReportAndRecordsAsOne) {
  const auto text = several_chunk_csv();
  const auto one = run_import(text, 1000);
  ASSERT_FALSE(one.actions.empty());

  // The single-chunk result itself, so that a fault shared by both fails.
  EXPECT_EQ(one.report.rows, 45u);
  EXPECT_EQ(one.report.counts.created, 13u);
  EXPECT_EQ(one.report.counts.created + one.report.counts.merged + one.report.counts.unchanged, 40u);
  EXPECT_GT(one.report.counts.merged, 0u);
  EXPECT_GT(one.report.counts.unchanged, 0u);
  // A bad e-mail or phone is left out with a warning; the row is rejected
  // when no usable contact remains.
  const std::vector<std::tuple<std::size_t, std::string, std::string>> want = {
      {6, "email", "invalid_email"}, {6, "phone", "invalid_phone"}, {6, "", "no_usable_contact"},
      {14, "email", "invalid_email"}, {14, "", "no_usable_contact"}, {26, "", "malformed_row"},
      {33, "email", "invalid_email"}, {33, "", "no_usable_contact"}, {47, "email", "invalid_email"},
      {47, "", "no_usable_contact"}};
  std::vector<std::tuple<std::size_t, std::string, std::string>> got;
  std::size_t differs = 0;
  for (const auto& p : one.report.issues) {
    if (p.code == "name_differs") {
      // "Anaïs" merged into the record an "Ana" row of the same e-mail made.
      ++differs;
      EXPECT_GT(p.line, p.other_line);
      EXPECT_GT(p.other_line, 0u);
      continue;
    }
    got.emplace_back(p.line, p.column, p.code);
  }
  EXPECT_EQ(got, want);
  EXPECT_GT(differs, 0u);
  EXPECT_EQ(one.report.rejected, 5u);
  EXPECT_EQ(one.report.rejections(), 5u);
  ASSERT_EQ(one.progress_rows.size(), 1u);
  EXPECT_EQ(one.progress_rows.back(), 45u);
  EXPECT_EQ(one.progress_bytes.back(), text.size()) << "the end of input is the whole file";
  EXPECT_EQ(one.actions.size(), 41u);  // 40 rows and import.run
  EXPECT_EQ(one.actions.back(), "import.run");
  EXPECT_EQ(one.people.at("p1@example.org").given_name, "Ana") << "later rows never overwrite";
  EXPECT_EQ(one.people.at("p1@example.org").tags, (std::vector<std::string>{"t0", "t1", "u"}));

  for (std::size_t per : {std::size_t{7}, std::size_t{1}, std::size_t{3}}) {
    SCOPED_TRACE("rows_per_transaction " + std::to_string(per));
    const auto many = run_import(text, per);
    EXPECT_EQ(many.report.rows, one.report.rows);
    EXPECT_EQ(many.report.counts.created, one.report.counts.created);
    EXPECT_EQ(many.report.counts.merged, one.report.counts.merged);
    EXPECT_EQ(many.report.counts.unchanged, one.report.counts.unchanged);
    ASSERT_EQ(many.report.issues.size(), one.report.issues.size());
    for (std::size_t i = 0; i < one.report.issues.size(); ++i) {
      EXPECT_EQ(many.report.issues[i].line, one.report.issues[i].line);
      EXPECT_EQ(many.report.issues[i].column, one.report.issues[i].column);
      EXPECT_EQ(many.report.issues[i].code, one.report.issues[i].code);
      EXPECT_EQ(many.report.issues[i].other_line, one.report.issues[i].other_line);
    }
    EXPECT_EQ(many.actions, one.actions);
    EXPECT_EQ(many.subjects, one.subjects);
    EXPECT_EQ(many.people, one.people);
    // One call per committed chunk (40 good rows), rows and bytes growing,
    // the last at the end of the file.
    EXPECT_EQ(many.progress_rows.size(), (40 + per - 1) / per);
    EXPECT_TRUE(std::is_sorted(many.progress_rows.begin(), many.progress_rows.end()));
    ASSERT_FALSE(many.progress_bytes.empty());
    EXPECT_TRUE(std::is_sorted(many.progress_bytes.begin(), many.progress_bytes.end() - 1));
    EXPECT_GT(many.progress_bytes.front(), 0u);
    // The last call comes at the end of input when the last chunk is partial
    // (as with one chunk), else right after the last good row, before the bad
    // last row is read.
    if (40 % per == 0) {
      EXPECT_EQ(many.progress_rows.back(), 44u);
      EXPECT_EQ(many.progress_bytes.back(), text.size() - std::string_view("last@,,,,\n").size());
    } else {
      EXPECT_EQ(many.progress_rows.back(), 45u);
      EXPECT_EQ(many.progress_bytes.back(), one.progress_bytes.back());
    }
  }
}


TEST(Import, AFailedTransactionStopsTheImportAndLeavesNoThread) {
  testing::Fixture fx;
  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  std::ostringstream csv;
  csv << "email\n";
  for (int i = 0; i < 30; ++i) csv << "q" << i << "@example.org\n";
  std::istringstream in(csv.str());
  ImportOptions opts;
  opts.rows_per_transaction = 7;
  std::size_t calls = 0;
  // After the first commit, another connection makes every later insert of
  // a supporter fail, as a full disk or a damaged file would.
  opts.progress = [&](std::uint64_t, std::size_t) {
    if (++calls != 1) return;
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(fx.db.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db,
                           "CREATE TRIGGER no_more BEFORE INSERT ON supporters "
                           "BEGIN SELECT RAISE(ABORT, 'refused'); END",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  };
  const auto before = testing::thread_count();
  auto r = import_csv(in, {}, *st, keys, opts);
  EXPECT_FALSE(r);
  EXPECT_EQ(calls, 1u) << "nothing after the failed transaction";
  EXPECT_TRUE(testing::thread_count_at_most(before));
  EXPECT_EQ(st->count_supporters().value(), 7) << "the first chunk stays, the failed one is rolled back";
  std::size_t runs = 0;
  ASSERT_TRUE(st->scan_audit(1, [&](const store::AuditEntryRow& e) {
    if (e.action == "import.run") ++runs;
    return true;
  }));
  EXPECT_EQ(runs, 0u);
}

TEST(Import, RefusesAFileWithoutEmailOrPhoneColumn) {
  testing::Fixture fx;
  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  std::istringstream in("name,city\nA,B\n");
  EXPECT_FALSE(import_csv(in, {}, *st, keys, ImportOptions{}));
  std::istringstream mapped("name,city\nA,B\n");
  ImportSpec spec;
  spec.map = {{"email", "Courriel"}};
  EXPECT_FALSE(import_csv(mapped, spec, *st, keys, ImportOptions{}));
}

}  // namespace
}  // namespace rempart::services
