#include "services/segments.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/chain.hpp"
#include "audit/verify.hpp"
#include "core/hex.hpp"
#include "services/records.hpp"
#include "services/test_support.hpp"

namespace rempart::services {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kJan1 = 1'767'225'600;  // 2026-01-01T00:00:00Z

struct Person {
  std::vector<std::string> tags{};
  bool email = false, email_no = false, sms = false;
  std::int64_t at = kJan1;
  std::string origin = "intake";
  std::optional<std::int64_t> joined{};
  std::string postcode{}, locality{};
};

struct SegmentsTest : ::testing::Test {
  testing::Fixture fx;
  crypto::KeeperKeyring keys = fx.keeper_keys();
  std::unique_ptr<store::KeeperStore> st = std::move(store::open_sqlite_keeper(fx.db).value());
  Vault vault{keys};
  Directory dir{*st, vault};
  Segments segs{*st, keys};
  Asker who{"account:00112233445566778899aabbccddeeff", "192.0.2.7"};
  int made = 0;

  std::string add(const Person& x) {
    RecordWriter writer(keys);
    core::Person p;
    p.given_name = "Philibertine";
    p.email = "segment." + std::to_string(made++) + "@example.org";
    p.tags = x.tags;
    std::sort(p.tags.begin(), p.tags.end());
    p.consent.email = x.email;
    p.consent.email_refused = x.email_no;
    p.consent.sms = x.sms;
    p.postal_code = x.postcode;
    p.locality = x.locality;
    Provenance from;
    from.origin = x.origin;
    from.joined_at = x.joined;
    from.from_the_person = x.origin == "intake";
    store::Bytes id;
    auto r = st->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto u = writer.upsert(tx, p, writer.prepare(p), x.at, &id, nullptr, from);
      if (!u) return std::unexpected(u.error());
      return {};
    });
    EXPECT_TRUE(r) << (r ? "" : r.error().internal);
    return audit::to_hex(id);
  }

  std::int64_t count(const nlohmann::json& j) {
    auto d = parse_segment_definition(j);
    EXPECT_TRUE(d) << j.dump();
    if (!d) return -1;
    auto n = segs.count(*d);
    EXPECT_TRUE(n);
    return n ? *n : -1;
  }

  std::vector<store::AuditEntryRow> entries() { return testing::audit_entries(*st); }
  std::int64_t head() {
    auto h = st->audit_head();
    return h && *h ? (*h)->seq : 0;
  }
  std::vector<std::string> tags_of(const std::string& hex) {
    auto t = st->tags(*core::from_hex(hex, 16));
    EXPECT_TRUE(t);
    return t ? *t : std::vector<std::string>{};
  }
};

TEST_F(SegmentsTest, DefinitionsAreValidatedAndNormalised) {
  auto d = parse_segment_definition(nlohmann::json{{"tags_all", {" Donor ", "donor", "Paris"}},
                                                   {"email", "given"},
                                                   {"signed_up_from", "2026-01-01"},
                                                   {"signed_up_to", "2026-01-31"},
                                                   {"origin", "import:action-network"}});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->tags_all, (std::vector<std::string>{"donor", "paris"}));
  EXPECT_EQ(parse_segment_definition(to_json(*d)).value(), *d);
  EXPECT_TRUE(parse_segment_definition(nlohmann::json::object()));
  const nlohmann::json bad[] = {
      nlohmann::json::array(),
      {{"colour", "red"}},
      {{"tags_any", "donor"}},
      {{"tags_any", {"a,b"}}},
      {{"tags_none", {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}}},
      {{"email", "yes"}},
      {{"sms", 1}},
      {{"signed_up_from", "2026-02-30"}},
      {{"updated_to", "26-01-01"}},
      {{"signed_up_from", "2026-02-02"}, {"signed_up_to", "2026-02-01"}},
      {{"origin", "import:"}},
      {{"origin", "elsewhere"}},
      {{"origin", "' OR 1=1 --"}},
      {{"place", 69}},
      {{"place", "-- ;"}},
      {{"place", std::string(101, '7')}},
      {{"place", "\xff\xfe"}},
      {{"place", {"69"}}},
  };
  for (const auto& j : bad) {
    auto r = parse_segment_definition(j);
    ASSERT_FALSE(r) << j.dump();
    EXPECT_EQ(r.error().code, Errc::invalid_input);
    EXPECT_EQ(r.error().internal.find("OR 1"), std::string::npos);
  }
  auto placed = parse_segment_definition(nlohmann::json{{"place", "  Saint-Étienne "}});
  ASSERT_TRUE(placed);
  EXPECT_EQ(placed->place, "Saint-Étienne");
  EXPECT_EQ(to_json(*placed), (nlohmann::json{{"place", "Saint-Étienne"}}));
  EXPECT_EQ(parse_segment_definition(nlohmann::json{{"place", " "}}).value(), SegmentDefinition{});
  const auto place_error = parse_segment_definition(nlohmann::json{{"place", "' OR 1=1 --;"}});
  ASSERT_TRUE(place_error);  // words, so a place to look up (and never SQL): it simply matches nobody
  EXPECT_TRUE(valid_segment_name("paris-donors_2026"));
  for (const char* n : {"", "new", "count", "Paris", "a b", "a/b", "é"}) EXPECT_FALSE(valid_segment_name(n)) << n;
  EXPECT_TRUE(shown(4).fewer);
  EXPECT_TRUE(shown(0).fewer);
  EXPECT_EQ(shown(5).supporters, 5);
}

TEST_F(SegmentsTest, CountsFollowEveryPartAndLeaveHoneytokensOut) {
  add({.tags = {"donor", "paris"}, .email = true, .at = kJan1});
  add({.tags = {"donor"}, .email_no = true, .at = kJan1 + 10 * kDay});
  add({.tags = {"paris"}, .sms = true, .at = kJan1 + 20 * kDay, .origin = "import:csv"});
  add({.tags = {}, .at = kJan1 + 40 * kDay, .origin = "import:csv", .joined = kJan1 - 100 * kDay});
  const std::string honey = add({.tags = {"donor", "paris"}, .email = true, .at = kJan1});
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) {
    return tx.insert_honeytoken(*core::from_hex(honey, 16), kJan1, "test");
  }));

  EXPECT_EQ(count(nlohmann::json::object()), 4);
  EXPECT_EQ(count({{"tags_all", {"donor"}}}), 2);
  EXPECT_EQ(count({{"tags_all", {"donor", "paris"}}}), 1);
  EXPECT_EQ(count({{"tags_any", {"donor", "paris"}}}), 3);
  EXPECT_EQ(count({{"tags_none", {"donor"}}}), 2);
  EXPECT_EQ(count({{"tags_any", {"paris"}}, {"tags_none", {"donor"}}}), 1);
  EXPECT_EQ(count({{"email", "given"}}), 1);
  EXPECT_EQ(count({{"email", "refused"}}), 1);
  EXPECT_EQ(count({{"email", "unknown"}}), 2);
  EXPECT_EQ(count({{"sms", "given"}}), 1);
  EXPECT_EQ(count({{"signed_up_from", "2026-01-11"}}), 2);  // not the 4th: it signed up earlier elsewhere
  EXPECT_EQ(count({{"signed_up_to", "2026-01-11"}}), 3);
  EXPECT_EQ(count({{"signed_up_from", "2026-01-11"}, {"signed_up_to", "2026-01-11"}}), 1);
  EXPECT_EQ(count({{"origin", "import"}}), 2);
  EXPECT_EQ(count({{"origin", "import:csv"}}), 2);
  EXPECT_EQ(count({{"origin", "intake"}}), 2);
  EXPECT_EQ(count({{"origin", "unknown"}}), 0);
  EXPECT_EQ(count({{"tags_all", {"nobody-has-this"}}}), 0);
  EXPECT_EQ(count({{"tags_any", {"' OR 1=1 --"}}}), 0);
}

// The list page's counts (CountCache): made again once a minute old, one
// count per definition whoever asks, an error never kept.
TEST_F(SegmentsTest, ListedCountsAreMadeAgainOnceAMinuteOld) {
  add({.tags = {"donor"}});
  CountCache cache;
  const auto donors = parse_segment_definition({{"tags_all", {"donor"}}}).value();
  const auto everyone = parse_segment_definition(nlohmann::json::object()).value();
  const std::int64_t t0 = 1'800'000'000;
  auto first = cache.count(segs, donors, t0);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->supporters, 1);
  EXPECT_EQ(first->counted_at, t0);

  add({.tags = {"donor"}});
  auto cached = cache.count(segs, donors, t0 + kCountMaxAge - 1);
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->supporters, 1);  // the count of a minute ago
  EXPECT_EQ(cached->counted_at, t0);
  auto other = cache.count(segs, everyone, t0 + kCountMaxAge - 1);  // another definition: its own count
  ASSERT_TRUE(other);
  EXPECT_EQ(other->supporters, 2);

  auto again = cache.count(segs, donors, t0 + kCountMaxAge);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->supporters, 2);
  EXPECT_EQ(again->counted_at, t0 + kCountMaxAge);
  EXPECT_EQ(count({{"tags_all", {"donor"}}}), 2);  // Segments::count itself is always live
}

// A place matches a record holding one of its readings (postcode,
// département, region, town), with the other parts, honeytokens left out.
TEST_F(SegmentsTest, PlacesMatchAnyReadingOfTheAddress) {
  add({.tags = {"donor"}, .email = true, .postcode = "69003", .locality = "Lyon"});
  add({.tags = {"donor"}, .postcode = "69120", .locality = "Vaulx-en-Velin"});
  add({.tags = {}, .postcode = "29200", .locality = "Brest"});
  add({.tags = {"donor"}, .postcode = "20000", .locality = "Ajaccio"});
  add({.tags = {"donor"}});  // no address: no place matches it
  const std::string honey = add({.tags = {"donor"}, .postcode = "69003", .locality = "Lyon"});
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) {
    return tx.insert_honeytoken(*core::from_hex(honey, 16), kJan1, "test");
  }));

  EXPECT_EQ(count({{"place", "69"}}), 2);
  EXPECT_EQ(count({{"place", "69003"}}), 1);
  EXPECT_EQ(count({{"place", "lyon"}}), 1);
  EXPECT_EQ(count({{"place", "VAULX EN VELIN"}}), 1);
  EXPECT_EQ(count({{"place", "Auvergne-Rhône-Alpes"}}), 2);
  EXPECT_EQ(count({{"place", "Bretagne"}}), 1);
  EXPECT_EQ(count({{"place", "2a"}}), 1);
  EXPECT_EQ(count({{"place", "Corse"}}), 1);
  EXPECT_EQ(count({{"place", "Paris"}}), 0);
  EXPECT_EQ(count({{"place", "' OR 1=1 --"}}), 0);
  EXPECT_EQ(count({{"place", "69"}, {"email", "given"}}), 1);
  EXPECT_EQ(count({{"place", "69"}, {"tags_all", {"donor"}}}), 2);
  EXPECT_EQ(count({{"place", "29"}, {"tags_all", {"donor"}}}), 0);
  EXPECT_EQ(count({{"tags_all", {"donor"}}}), 4);

  auto d = parse_segment_definition(nlohmann::json{{"place", "Rhône"}}).value();
  // "Rhône" is no reading of a postcode: a town of that name only.
  EXPECT_EQ(segs.count(d).value(), 0);
  d.place = "69";
  auto page = segs.ids(d, "", 10);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->ids.size(), 3u);  // the honeytoken in its place
  // Saved as typed and recorded with the definition, like tags.
  ASSERT_TRUE(segs.save(who, "rhone", d, false));
  auto saved = segs.find("rhone");
  ASSERT_TRUE(saved && *saved);
  EXPECT_EQ((*saved)->definition.place, "69");
  const auto entry = entries().back();
  EXPECT_EQ(entry.action, audit::action::segment_save);
  EXPECT_EQ(nlohmann::json::parse(entry.details)["definition"]["place"], "69");
  // A definition that was never validated gives no filter rather than everyone.
  SegmentDefinition unchecked;
  unchecked.place = "--";
  EXPECT_FALSE(segment_filter(unchecked, keys.current()));
  EXPECT_FALSE(segs.count(unchecked));
}

TEST_F(SegmentsTest, SavedWithAUniqueNameAndAudited) {
  auto d = parse_segment_definition(nlohmann::json{{"tags_all", {"donor"}}}).value();
  const auto before = head();
  ASSERT_TRUE(segs.save(who, "donors", d, false));
  auto again = segs.save(who, "donors", d, false);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::conflict);
  auto missing = segs.save(who, "nobody", d, true);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
  EXPECT_FALSE(segs.save(who, "Bad Name", d, false));
  EXPECT_EQ(head(), before + 1);

  d.email = "given";
  ASSERT_TRUE(segs.save(who, "donors", d, true));
  auto found = segs.find("donors");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->definition, d);
  EXPECT_EQ((*found)->created_by, who.actor);
  auto all = segs.list();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);

  auto log = entries();
  ASSERT_GE(log.size(), 2u);
  EXPECT_EQ(log[log.size() - 2].action, audit::action::segment_save);
  auto details = nlohmann::json::parse(log.back().details);
  EXPECT_EQ(details["name"], "donors");
  EXPECT_EQ(details["change"], "changed");

  ASSERT_TRUE(segs.remove(who, "donors"));
  EXPECT_EQ(entries().back().action, audit::action::segment_delete);
  auto gone = segs.remove(who, "donors");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Errc::not_found);
  EXPECT_FALSE(*segs.find("donors"));
}

TEST_F(SegmentsTest, AStoredDefinitionThatNoLongerValidatesIsNeverUsed) {
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto id = tx.insert_segment({0, "broken", R"({"colour":"red"})", "operator:test", 1, 1});
    if (!id) return std::unexpected(id.error());
    return {};
  }));
  auto all = segs.list();
  ASSERT_FALSE(all);
  EXPECT_EQ(all.error().code, Errc::storage);
  EXPECT_FALSE(segs.find("broken"));
}

TEST_F(SegmentsTest, IdsAndMaskedMembersWalkEveryMemberOnce) {
  std::set<std::string> donors;
  for (int i = 0; i < 7; ++i) {
    const auto id = add({.tags = {i % 2 == 0 ? "donor" : "other"}, .at = kJan1 + i / 2});
    if (i % 2 == 0) donors.insert(id);
  }
  auto d = parse_segment_definition(nlohmann::json{{"tags_any", {"donor"}}}).value();
  std::set<std::string> seen;
  std::string cursor;
  do {
    auto page = segs.ids(d, cursor, 3);
    ASSERT_TRUE(page);
    for (const auto& id : page->ids) EXPECT_TRUE(seen.insert(audit::to_hex(id)).second);
    cursor = page->next_cursor;
  } while (!cursor.empty());
  EXPECT_EQ(seen, donors);
  EXPECT_FALSE(segs.ids(d, "v1.x", 3));
  EXPECT_FALSE(segs.ids(d, "", 0));

  const auto filter = segment_filter(d, keys.current()).value();
  ListQuery q;
  q.segment = &filter;
  q.segment_name = "donors";
  auto page = dir.list(who, q);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 4);
  EXPECT_EQ(page->items.size(), 4u);
  for (const auto& m : page->items) EXPECT_TRUE(donors.contains(m.id));
  const auto last = entries().back();
  EXPECT_EQ(last.action, audit::action::supporter_list);
  auto details = nlohmann::json::parse(last.details);
  EXPECT_EQ(details["segment"], "donors");
  EXPECT_EQ(details["records"].size(), 4u);
  q.tag = "donor";
  EXPECT_FALSE(dir.list(who, q));  // a tag and a segment at once
}

TEST_F(SegmentsTest, BulkTagInChunksAfterTheCountIsConfirmed) {
  for (int i = 0; i < 503; ++i) add({.tags = {"volunteer"}, .at = kJan1 + i});
  const std::string outsider = add({.tags = {"other"}});
  ASSERT_TRUE(segs.save(who, "volunteers",
                        parse_segment_definition(nlohmann::json{{"tags_all", {"volunteer"}}}).value(), false));
  const auto before = head();
  auto stale = segs.bulk_tag(who, "volunteers", "Phoning", true, 502);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, Errc::conflict);
  EXPECT_FALSE(segs.bulk_tag(who, "volunteers", "a,b", true, 503));
  EXPECT_FALSE(segs.bulk_tag(who, "nobody", "phoning", true, 503));
  EXPECT_EQ(head(), before);

  auto done = segs.bulk_tag(who, "volunteers", " Phoning ", true, 503);
  ASSERT_TRUE(done) << done.error().internal;
  EXPECT_EQ(*done, 503);
  EXPECT_EQ(count({{"tags_all", {"phoning", "volunteer"}}}), 503);
  EXPECT_EQ(tags_of(outsider), std::vector<std::string>{"other"});
  auto log = entries();
  ASSERT_EQ(head(), before + 2);  // 500, then 3
  std::int64_t total = 0;
  std::set<std::string> named;
  for (std::size_t i = log.size() - 2; i < log.size(); ++i) {
    EXPECT_EQ(log[i].action, audit::action::supporter_tag_bulk);
    auto details = nlohmann::json::parse(log[i].details);
    EXPECT_EQ(details["segment"], "volunteers");
    EXPECT_EQ(details["change"], "added");
    EXPECT_EQ(details["tag"], "phoning");
    total += details["count"].get<std::int64_t>();
    for (const auto& id : details["records"]) named.insert(id.get<std::string>());
  }
  EXPECT_EQ(total, 503);
  EXPECT_EQ(named.size(), 503u);

  ASSERT_TRUE(segs.bulk_tag(who, "volunteers", "phoning", false, 503));
  EXPECT_EQ(count({{"tags_all", {"phoning"}}}), 0);
  auto report = audit::verify(*st, keys, audit::VerifyOptions{});
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->ok());
}

TEST_F(SegmentsTest, RenameAndMergeTags) {
  const auto a = add({.tags = {"donor"}});
  const auto b = add({.tags = {"donor", "donateur"}});
  const auto c = add({.tags = {"donateur"}});
  ASSERT_TRUE(segs.save(who, "givers", parse_segment_definition(nlohmann::json{{"tags_any", {"donor"}}}).value(),
                        false));
  const auto before = head();
  auto taken = segs.rename_tag(who, "donor", "donateur", false);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, Errc::conflict);
  EXPECT_FALSE(segs.rename_tag(who, "donor", "Donor", false));  // the same once normalised
  EXPECT_FALSE(segs.rename_tag(who, "donor", "a;b", true));
  auto none = segs.rename_tag(who, "absent", "x", false);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::not_found);
  EXPECT_EQ(head(), before);
  EXPECT_EQ(tags_of(b), (std::vector<std::string>{"donateur", "donor"}));

  auto merged = segs.rename_tag(who, "Donor", "donateur", true);
  ASSERT_TRUE(merged);
  EXPECT_EQ(*merged, 2);
  EXPECT_EQ(tags_of(a), std::vector<std::string>{"donateur"});
  EXPECT_EQ(tags_of(b), std::vector<std::string>{"donateur"});
  EXPECT_EQ(tags_of(c), std::vector<std::string>{"donateur"});
  auto e = entries().back();
  EXPECT_EQ(e.action, audit::action::tag_merge);
  EXPECT_EQ(nlohmann::json::parse(e.details), (nlohmann::json{{"from", "donor"}, {"to", "donateur"}, {"count", 2}}));
  EXPECT_EQ((*segs.find("givers"))->definition.tags_any, std::vector<std::string>{"donateur"});

  auto renamed = segs.rename_tag(who, "donateur", "soutien", false);
  ASSERT_TRUE(renamed);
  EXPECT_EQ(*renamed, 3);
  EXPECT_EQ(entries().back().action, audit::action::tag_rename);
  EXPECT_EQ(tags_of(c), std::vector<std::string>{"soutien"});
}

TEST_F(SegmentsTest, RecordsRememberWhereTheyCameFrom) {
  const auto a = add({.origin = "intake"});
  const auto b = add({.origin = "import:csv"});
  auto ra = st->find_supporter(*core::from_hex(a, 16));
  auto rb = st->find_supporter(*core::from_hex(b, 16));
  ASSERT_TRUE(ra && *ra && rb && *rb);
  EXPECT_EQ((*ra)->origin, "intake");
  EXPECT_EQ((*rb)->origin, "import:csv");
}

}  // namespace
}  // namespace rempart::services
