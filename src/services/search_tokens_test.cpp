#include "services/search_tokens.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/chain.hpp"
#include "core/hex.hpp"
#include "crypto/blind_index.hpp"
#include "services/directory.hpp"
#include "services/records.hpp"
#include "services/test_support.hpp"

namespace rempart::services {
namespace {

using Words = std::vector<std::string>;

TEST(FoldedWords, FoldCaseAndAccentsAndSplitAtPunctuation) {
  EXPECT_EQ(folded_words("Jean-Étienne"), (Words{"jean", "etienne"}));
  EXPECT_EQ(folded_words("  D'ARTAGNAN  "), (Words{"d", "artagnan"}));
  EXPECT_EQ(folded_words("Strauß"), (Words{"strauss"}));
  EXPECT_EQ(folded_words("Nguyễn Thị"), (Words{"nguyen", "thi"}));
  EXPECT_EQ(folded_words("ÇA"), (Words{"ca"}));
  EXPECT_EQ(folded_words("Saint-Étienne-du-Rouvray"), (Words{"saint", "etienne", "du", "rouvray"}));
  EXPECT_EQ(folded_words("Παπαδόπουλος"), (Words{"παπαδοπουλοσ"}));  // final sigma folds like the others
  EXPECT_TRUE(folded_words(" -- ").empty());
  EXPECT_TRUE(folded_words("\xff\xfe").empty());  // not UTF-8
}

TEST(Departement, FromFrenchPostcodes) {
  EXPECT_EQ(departement_of("69003", "FR"), "69");
  EXPECT_EQ(departement_of("01000", ""), "01");
  EXPECT_EQ(departement_of("20090", "FR"), "2A");
  EXPECT_EQ(departement_of("20200", "FR"), "2B");
  EXPECT_EQ(departement_of("97411", "FR"), "974");
  EXPECT_EQ(departement_of("75 011", "FR"), "75");
  EXPECT_EQ(departement_of("10115", "DE"), std::nullopt);
  EXPECT_EQ(departement_of("SW1A 1AA", ""), std::nullopt);
  EXPECT_EQ(departement_of("6900", "FR"), std::nullopt);
  EXPECT_EQ(departement_of("00100", "FR"), std::nullopt);
  EXPECT_EQ(region_of("69"), "84");
  EXPECT_EQ(region_of("2B"), "94");
  EXPECT_EQ(region_of("974"), "04");
  EXPECT_EQ(region_of("75"), "11");
  EXPECT_EQ(region_of("975"), std::nullopt);
  EXPECT_EQ(region_of("20"), std::nullopt);
}

// Every département of metropolitan France and the five overseas ones lie
// in exactly one region.
TEST(Departement, EveryDepartementHasOneRegion) {
  int found = 0;
  for (int d = 1; d <= 95; ++d) {
    if (d == 20) continue;
    const std::string code = (d < 10 ? "0" : "") + std::to_string(d);
    EXPECT_TRUE(region_of(code).has_value()) << code;
    found += region_of(code).has_value() ? 1 : 0;
  }
  for (const char* code : {"2A", "2B", "971", "972", "973", "974", "976"}) {
    EXPECT_TRUE(region_of(code).has_value()) << code;
    found += region_of(code).has_value() ? 1 : 0;
  }
  EXPECT_EQ(found, 94 + 7);
}

struct SearchTokensTest : ::testing::Test {
  testing::Fixture fx;
  crypto::KeeperKeyring keys = fx.keeper_keys();
  const crypto::KeySet& ks = keys.current();

  static core::Person person(std::string given, std::string family, std::string postal, std::string locality) {
    core::Person p;
    p.given_name = std::move(given);
    p.family_name = std::move(family);
    p.postal_code = std::move(postal);
    p.locality = std::move(locality);
    p.country = "FR";
    return p;
  }
  static bool holds(const std::vector<store::Bytes>& tokens, const TokenGroups& groups) {
    for (const auto& g : groups) {
      bool any = false;
      for (const auto& t : g) any = any || std::binary_search(tokens.begin(), tokens.end(), t);
      if (!any) return false;
    }
    return true;
  }
};

TEST_F(SearchTokensTest, ANameOrPlaceQueryMatchesTheTokensOfItsPerson) {
  const auto tokens = search_tokens(ks, person("Jean-Étienne", "Martin", "69003", "Lyon"));
  // jean, etienne, martin; their three pairs; postcode, dept, region, locality
  EXPECT_EQ(tokens.size(), 3u + 3u + 4u);
  for (const auto& t : tokens) EXPECT_EQ(t.size(), kSearchTokenBytes);
  for (const char* name : {"martin", "MARTIN", "Étienne", "etienne martin", "Martin Étienne", "Jean Étienne",
                           "jean etienne martin", "martin jean etienne", "Jean Jean"}) {
    EXPECT_TRUE(holds(tokens, name_query(ks, name).value())) << name;
  }
  // Two words are one lookup, of their pair.
  EXPECT_EQ(name_query(ks, "Jean Martin")->size(), 1u);
  EXPECT_EQ(name_query(ks, "Jean Martin").value(), name_query(ks, "martin JEAN").value());
  EXPECT_EQ(name_query(ks, "Jean Étienne Martin")->size(), 2u);
  for (const char* name : {"mart", "Martine", "jean paul", "paul martin", "jean martin paul"}) {
    EXPECT_FALSE(holds(tokens, name_query(ks, name).value())) << name;
  }
  for (const char* place : {"69003", "69", "lyon", "LYON", "Auvergne-Rhône-Alpes", "aura"}) {
    EXPECT_TRUE(holds(tokens, place_query(ks, place).value())) << place;
  }
  for (const char* place : {"6900", "75", "Ly", "Bretagne", "84"}) {
    EXPECT_FALSE(holds(tokens, place_query(ks, place).value())) << place;
  }
}

TEST_F(SearchTokensTest, TokensAreKeyedAndDomainSeparated) {
  // Another keyring, the same person: nothing in common.
  testing::Fixture other;
  auto other_keys = other.keeper_keys();
  const auto a = search_tokens(ks, person("Lyon", "Lyon", "", "Lyon"));
  const auto b = search_tokens(other_keys.current(), person("Lyon", "Lyon", "", "Lyon"));
  EXPECT_EQ(a.size(), 2u);  // one name token for both names (no pair of a word with itself), one locality token
  for (const auto& t : a) EXPECT_FALSE(std::binary_search(b.begin(), b.end(), t));
  // A name is not a place.
  EXPECT_FALSE(holds(search_tokens(ks, person("Lyon", "", "", "")), place_query(ks, "Lyon").value()));
}

TEST_F(SearchTokensTest, BadQueriesAreRefusedWithoutTheirText) {
  for (const std::string& bad : {std::string(""), std::string(" - "), std::string(101, 'a'), std::string("a b c d e f")}) {
    auto r = name_query(ks, bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::invalid_input);
    if (!bad.empty() && bad != " - ") {
      EXPECT_EQ(r.error().internal.find(bad), std::string::npos);
    }
  }
  EXPECT_FALSE(place_query(ks, "--"));
  EXPECT_FALSE(place_query(ks, std::string(101, '7')));
}

// ---- Directory::find on a real SQLite file ---------------------------------------

constexpr const char* kGiven = "Philibertine";
constexpr const char* kFamily = "Gravelotte";

struct FindTest : ::testing::Test {
  testing::Fixture fx;
  crypto::KeeperKeyring keys = fx.keeper_keys();
  std::unique_ptr<store::KeeperStore> st = std::move(store::open_sqlite_keeper(fx.db).value());
  Vault vault{keys};
  guard::Budgets budgets;
  Directory dir{*st, vault, &budgets};
  Asker who{"account:00112233445566778899aabbccddeeff", "192.0.2.7"};

  std::string add(const std::string& given, const std::string& family, const std::string& postal,
                  const std::string& locality, int n) {
    RecordWriter writer(keys);
    core::Person p;
    p.given_name = given;
    p.family_name = family;
    p.postal_code = postal;
    p.locality = locality;
    p.country = "FR";
    p.email = "person" + std::to_string(n) + "@example.org";
    store::Bytes id;
    auto r = st->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto u = writer.upsert(tx, p, writer.prepare(p, 1'700'000'000'000 + n), 1'700'000'000 + n, &id);
      if (!u) return std::unexpected(u.error());
      return {};
    });
    EXPECT_TRUE(r);
    return audit::to_hex(id);
  }

  std::vector<store::AuditEntryRow> entries() { return testing::audit_entries(*st); }
};

TEST_F(FindTest, FindsByNameAndPlaceCombinedNewestFirstAndRecordsNoWord) {
  const std::string a = add(kGiven, kFamily, "69003", "Lyon", 1);
  const std::string b = add("Jean", kFamily, "75011", "Paris", 2);
  const std::string c = add(kGiven, "Martin", "69100", "Villeurbanne", 3);
  add("Ana", "Lopez", "13001", "Marseille", 4);

  auto by_name = dir.find(who, FindQuery{.name = kFamily});
  ASSERT_TRUE(by_name) << by_name.error().internal;
  ASSERT_EQ(by_name->items.size(), 2u);
  EXPECT_EQ(by_name->total, 2);
  EXPECT_EQ(by_name->items[0].id, b);  // newest first
  EXPECT_EQ(by_name->items[1].id, a);
  EXPECT_EQ(by_name->items[0].name, "J. G.");

  auto combined = dir.find(who, FindQuery{.name = "philibertine", .place = "69"});
  ASSERT_TRUE(combined);
  ASSERT_EQ(combined->items.size(), 2u);
  EXPECT_EQ(combined->items[0].id, c);
  EXPECT_EQ(combined->items[1].id, a);

  auto region = dir.find(who, FindQuery{.place = "Auvergne-Rhône-Alpes"});
  ASSERT_TRUE(region);
  EXPECT_EQ(region->total, 2);
  auto town = dir.find(who, FindQuery{.name = "gravelotte", .place = "paris"});
  ASSERT_TRUE(town);
  ASSERT_EQ(town->items.size(), 1u);
  EXPECT_EQ(town->items[0].id, b);

  // The entries name the records shown and how they were found, never the words.
  const auto all = entries();
  int lists = 0;
  for (const auto& e : all) {
    for (const char* word : {kGiven, kFamily, "philibertine", "gravelotte", "Lyon", "paris", "Auvergne"}) {
      if (e.action == audit::action::supporter_list) {
        EXPECT_EQ(e.details.find(word), std::string::npos) << word;
      }
    }
    if (e.action == audit::action::supporter_list) ++lists;
  }
  EXPECT_EQ(lists, 4);
  EXPECT_NE(all.back().details.find("\"by\":\"name+place\""), std::string::npos);
}

TEST_F(FindTest, PagesFollowEachOtherAndAMissIsChargedAsOne) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(add("Ana", "Lopez", "13001", "Marseille", i));
  auto first = dir.find(who, FindQuery{.name = "lopez", .limit = 2});
  ASSERT_TRUE(first);
  EXPECT_EQ(first->total, 5);
  ASSERT_EQ(first->items.size(), 2u);
  ASSERT_FALSE(first->next_cursor.empty());
  std::vector<std::string> seen{first->items[0].id, first->items[1].id};
  std::string cursor = first->next_cursor;
  while (!cursor.empty()) {
    auto next = dir.find(who, FindQuery{.name = "lopez", .cursor = cursor, .limit = 2});
    ASSERT_TRUE(next);
    for (const auto& m : next->items) seen.push_back(m.id);
    cursor = next->next_cursor;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{ids[4], ids[3], ids[2], ids[1], ids[0]}));

  const auto before = entries().size();
  auto none = dir.find(who, FindQuery{.name = "nobody"});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->items.empty());
  EXPECT_EQ(none->total, 0);
  const auto after = entries();
  ASSERT_EQ(after.size(), before + 1);
  EXPECT_EQ(after.back().action, audit::action::supporter_lookup_miss);
}

TEST_F(FindTest, BadQueriesChangeNothing) {
  add(kGiven, kFamily, "69003", "Lyon", 1);
  const auto before = entries().size();
  for (const FindQuery& q : {FindQuery{}, FindQuery{.name = " ", .place = ""}, FindQuery{.name = "a b c d e f"},
                             FindQuery{.name = "x", .cursor = "f1.zz"}, FindQuery{.name = "x", .cursor = "v1.1.00"},
                             FindQuery{.name = "x", .limit = 0}, FindQuery{.name = "x", .limit = 201}}) {
    auto r = dir.find(who, q);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_input);
  }
  EXPECT_EQ(entries().size(), before);
}

// A name held by more records than a count goes to: the page is still one
// page, and the total says "more than".
TEST_F(FindTest, ACommonNameCountsUpToTheCapAndPagesOnTheKey) {
  RecordWriter writer(keys);
  const int n = static_cast<int>(kMatchCountCap) + 3;
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
    for (int i = 0; i < n; ++i) {
      core::Person p;
      p.given_name = i % 2 ? "Ana" : "Jean";
      p.family_name = "Lopez";
      p.email = "lopez" + std::to_string(i) + "@example.org";
      auto u = writer.upsert(tx, p, writer.prepare(p, 1'700'000'000'000 + i), 1'700'000'000 + i);
      if (!u) return std::unexpected(u.error());
    }
    return {};
  }));
  auto page = dir.find(who, FindQuery{.name = "lopez", .limit = 3});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, kMatchCountCap);
  EXPECT_TRUE(page->total_capped);
  ASSERT_EQ(page->items.size(), 3u);
  EXPECT_EQ(page->items[0].name, "J. L.");  // the newest (i = n - 1 is even: Jean)
  auto pair = dir.find(who, FindQuery{.name = "Lopez Ana", .limit = 40});
  ASSERT_TRUE(pair);
  EXPECT_EQ(pair->total, n / 2);
  EXPECT_FALSE(pair->total_capped);
  EXPECT_EQ(pair->items.size(), 40u);
  for (const auto& m : pair->items) EXPECT_EQ(m.name, "A. L.");
  auto next = dir.find(who, FindQuery{.name = "Lopez Ana", .cursor = pair->next_cursor, .limit = 40});
  ASSERT_TRUE(next);
  ASSERT_EQ(next->items.size(), static_cast<std::size_t>(n / 2 - 40));
  EXPECT_LT(next->items.front().id, pair->items.back().id);
  EXPECT_EQ(next->total, n / 2);  // a later page counts apart from its own walk
  EXPECT_TRUE(next->next_cursor.empty());
  // A page larger than the count's cap: every match on it, the total still
  // capped (the store's page, read-only, as Directory::find reads it).
  auto lopez = name_query(keys.current(), "lopez");
  ASSERT_TRUE(lopez);
  auto all = match_page(*st, *lopez, std::nullopt, 200);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->ids.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(all->total, kMatchCountCap);
  EXPECT_TRUE(all->total_capped);
  EXPECT_FALSE(all->more);
}

// Records made before search tokens existed are indexed from the backlog,
// each opened once, counted in one `search.index` entry.
TEST_F(FindTest, TheBacklogIndexesOlderRecords) {
  const std::string a = add(kGiven, kFamily, "69003", "Lyon", 1);
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
    const store::Bytes id = core::from_hex(a, 16).value();
    if (auto r = tx.put_search_tokens(id, {}); !r) return r;  // as if made before
    auto q = tx.queue_all_for_search_tokens();
    if (!q) return std::unexpected(q.error());
    EXPECT_EQ(*q, 1);
    return {};
  }));
  EXPECT_TRUE(dir.find(who, FindQuery{.name = kFamily})->items.empty());
  RecordWriter writer(keys);
  auto n = writer.index_backlog(*st, 100);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(entries().back().action, audit::action::search_index);
  EXPECT_EQ(entries().back().details, R"({"records":1})");
  EXPECT_EQ(writer.index_backlog(*st, 100).value(), 0u);
  auto found = dir.find(who, FindQuery{.name = kFamily});
  ASSERT_EQ(found->items.size(), 1u);
  EXPECT_EQ(found->items[0].id, a);
}

// After `keys rotate --key blind-index`, a record indexed under the older
// key is still found (exact search, a sign-up's merge), an erased person's
// suppression still keeps an import out, and the backlog moves the
// record's indexes to the new key, counted in its `search.index` entry.
TEST_F(FindTest, ANewBlindIndexKeyLosesNobodyAndTheBacklogMovesTheIndexes) {
  const std::string a = add(kGiven, kFamily, "69003", "Lyon", 1);
  const std::string gone = add("Ana", "Lopez", "13001", "Marseille", 2);
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto e = erase_and_suppress(tx, keys, core::from_hex(gone, 16).value(), 1'700'000'100);
    if (!e) return std::unexpected(e.error());
    EXPECT_TRUE(*e);
    return {};
  }));
  const std::string email = "person1@example.org";
  const auto before = crypto::blind_index(keys.current(), crypto::kBlindIndexEmail, email);
  ASSERT_TRUE(keys.add_version(crypto::KeeperKeyring::BlindIndexKey::renew));
  const auto after = crypto::blind_index(keys.current(), crypto::kBlindIndexEmail, email);
  ASSERT_NE(before, after);
  auto email_index_of = [&](const std::string& hex) {
    std::optional<store::Bytes> idx;
    EXPECT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto row = tx.find_supporter(core::from_hex(hex, 16).value());
      if (!row) return std::unexpected(row.error());
      if (*row) idx = (*row)->email_index;
      return {};
    }));
    return idx;
  };
  EXPECT_EQ(email_index_of(a), store::Bytes(before.begin(), before.end()));

  auto found = dir.search(who, "email", email, "FR");
  ASSERT_TRUE(found) << found.error().internal;
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].id, a);

  RecordWriter writer(keys);
  core::Person again;
  again.email = email;
  again.given_name = kGiven;
  store::Bytes merged_into;
  Result<Upsert> u = Upsert::created;
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
    u = writer.upsert(tx, again, writer.prepare(again), 1'700'000'200, &merged_into);
    return u ? Result<void>{} : std::unexpected(u.error());
  }));
  EXPECT_NE(*u, Upsert::created);
  EXPECT_EQ(audit::to_hex(merged_into), a);

  core::Person back;
  back.email = "person2@example.org";
  Provenance from;
  from.from_the_person = false;
  from.consent_source = "import:test";
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
    u = writer.upsert(tx, back, writer.indexes(back), 1'700'000'300, nullptr, nullptr, from);
    return u ? Result<void>{} : std::unexpected(u.error());
  }));
  EXPECT_EQ(*u, Upsert::suppressed);
  EXPECT_EQ(st->count_supporters().value(), 1);

  auto queue = [&] {
    ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto q = tx.queue_all_for_search_tokens();
      if (!q) return std::unexpected(q.error());
      return {};
    }));
  };
  queue();
  std::size_t moved = 0;
  auto n = writer.index_backlog(*st, 100, &moved);
  ASSERT_TRUE(n) << n.error().internal;
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(moved, 1u);
  EXPECT_EQ(entries().back().action, audit::action::search_index);
  EXPECT_EQ(entries().back().details, R"({"indexes_moved":1,"records":1})");
  EXPECT_EQ(email_index_of(a), store::Bytes(after.begin(), after.end()));
  // Nothing left to move; the record is found by e-mail and by name.
  queue();
  moved = 0;
  ASSERT_EQ(writer.index_backlog(*st, 100, &moved).value(), 1u);
  EXPECT_EQ(moved, 0u);
  EXPECT_EQ(entries().back().details, R"({"records":1})");
  found = dir.search(who, "email", email, "FR");
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].id, a);
  EXPECT_EQ(dir.find(who, FindQuery{.name = kFamily})->items.size(), 1u);
}

// A merge that changes a name changes what finds the record.
TEST_F(FindTest, AMergeRefreshesTheTokens) {
  RecordWriter writer(keys);
  core::Person p;
  p.email = "merge@example.org";
  p.family_name = "Lopez";
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto u = writer.upsert(tx, p, 1'700'000'000);
    if (!u) return std::unexpected(u.error());
    return {};
  }));
  EXPECT_TRUE(dir.find(who, FindQuery{.name = "ana"})->items.empty());
  p.given_name = "Ana";
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto u = writer.upsert(tx, p, 1'700'000'001);
    if (!u) return std::unexpected(u.error());
    EXPECT_EQ(*u, Upsert::merged);
    return {};
  }));
  EXPECT_EQ(dir.find(who, FindQuery{.name = "ana lopez"})->items.size(), 1u);
}

}  // namespace
}  // namespace rempart::services
