#include "services/importer.hpp"

#include <gtest/gtest.h>

#include <sstream>

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
  EXPECT_FALSE(parse_column_map("email="));
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
  EXPECT_TRUE(r->problems.empty());
  EXPECT_EQ(calls, 4u);
  EXPECT_EQ(st->count_supporters().value(), 20);
  auto s = reveal_supporter(*st, keys, "operator:test", "email", "p3@example.org", "test").value();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->person.tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(s->person.consent.email);
}

TEST(Import, RefusesAFileWithoutEmailOrPhoneColumn) {
  testing::Fixture fx;
  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  std::istringstream in("name,city\nA,B\n");
  EXPECT_FALSE(import_csv(in, {}, *st, keys, ImportOptions{}));
  std::istringstream mapped("name,city\nA,B\n");
  EXPECT_FALSE(import_csv(mapped, {{"email", "Courriel"}}, *st, keys, ImportOptions{}));
}

}  // namespace
}  // namespace rempart::services
