#include "services/directory.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/chain.hpp"
#include "audit/verify.hpp"
#include "services/records.hpp"
#include "services/test_support.hpp"

namespace rempart::services {
namespace {

// Personal data of the test people: none of it may show in a masked value,
// an audit entry or an error.
constexpr const char* kGiven = "Philibertine";
constexpr const char* kFamily = "Gravelotte";
constexpr const char* kPostal = "75011";
constexpr const char* kLocality = "Montreuil";

std::string email_of(int i) { return "philibertine." + std::to_string(i) + "@example.org"; }
std::string phone_of(int i) { return "+3319900" + std::to_string(1000 + i); }

struct Seeded {
  std::string id;  // hex
  std::int64_t created_at = 0;
  int n = 0;
};

struct DirectoryTest : ::testing::Test {
  testing::Fixture fx;
  crypto::KeeperKeyring keys = fx.keeper_keys();
  std::unique_ptr<store::KeeperStore> st = std::move(store::open_sqlite_keeper(fx.db).value());
  Vault vault{keys};
  Directory dir{*st, vault};
  Asker who{"operator:test", "192.0.2.7"};

  // `n` people; every third (from 0) carries the tag "red"; four per
  // created_at second, so the id breaks ties. Returned newest first.
  std::vector<Seeded> seed(int n) {
    RecordWriter writer(keys);
    std::vector<Seeded> out;
    for (int i = 0; i < n; ++i) {
      core::Person p;
      p.given_name = kGiven;
      p.family_name = kFamily;
      p.email = email_of(i);
      p.phone = phone_of(i);
      p.postal_code = kPostal;
      p.locality = kLocality;
      p.country = "FR";
      if (i % 3 == 0) p.tags = {"red"};
      p.consent.email = true;
      const std::int64_t at = 1'700'000'000 + i / 4;
      store::Bytes id;
      auto r = st->transact([&](store::KeeperTx& tx) -> Result<void> {
        auto u = writer.upsert(tx, p, at, &id);
        if (!u) return std::unexpected(u.error());
        return {};
      });
      EXPECT_TRUE(r) << (r ? "" : r.error().internal);
      out.push_back(Seeded{audit::to_hex(id), at, i});
    }
    std::sort(out.begin(), out.end(), [](const Seeded& a, const Seeded& b) {
      return a.created_at != b.created_at ? a.created_at > b.created_at : a.id > b.id;
    });
    return out;
  }

  std::vector<store::AuditEntryRow> entries() { return testing::audit_entries(*st); }
  std::int64_t head() {
    auto h = st->audit_head();
    EXPECT_TRUE(h);
    return h && *h ? (*h)->seq : 0;
  }
  store::AuditEntryRow last_entry() {
    auto all = entries();
    EXPECT_FALSE(all.empty());
    return all.empty() ? store::AuditEntryRow{} : all.back();
  }
};

// Every text an entry holds, checked against the people's data. Record ids
// (32 hex digits, random) are taken out first: among the 120 of them the
// entries name, a digit string such as "9900" turns up by chance in about
// one run in twenty.
void expect_no_personal_data(const std::vector<store::AuditEntryRow>& rows) {
  for (const auto& r : rows) {
    for (const std::string& field : {r.actor, r.action, r.client, r.subject, r.details}) {
      const std::string text = testing::without_record_ids(field);
      for (const char* pii : {kGiven, kFamily, "philibertine", "example.org", "9900", kPostal, kLocality}) {
        EXPECT_EQ(text.find(pii), std::string::npos) << "entry " << r.seq << " holds personal data";
      }
    }
  }
}

void expect_masked(const MaskedSupporter& m, int n) {
  const std::vector<std::string> fields{m.id, m.name, m.email, m.phone, m.postal_code, m.locality, m.country};
  const std::string phone = phone_of(n);
  for (const std::string& f : fields) {
    for (const std::string& full : {email_of(n), phone, phone.substr(1), std::string(kGiven), std::string(kFamily),
                                    std::string(kPostal), std::string(kLocality)}) {
      EXPECT_EQ(f.find(full), std::string::npos) << "a masked field holds a full value";
    }
  }
  for (const std::string& t : m.tags) EXPECT_EQ(t.find(kGiven), std::string::npos);
  // The masks themselves, so the checks above cannot pass on empty fields.
  EXPECT_EQ(m.name, "P. G.");
  EXPECT_EQ(m.email, "p\u2022\u2022\u2022@e\u2022\u2022\u2022.org");
  EXPECT_TRUE(m.phone.starts_with("+33 1")) << m.phone;
  EXPECT_TRUE(m.phone.ends_with(phone.substr(phone.size() - 2))) << m.phone;
  EXPECT_EQ(m.postal_code, "75\u2022\u2022\u2022");
  EXPECT_EQ(m.locality, "M\u2022\u2022\u2022");
  EXPECT_EQ(m.country, "FR");
  EXPECT_TRUE(m.consent_email);
  EXPECT_FALSE(m.consent_sms);
  EXPECT_EQ(m.tags.empty(), n % 3 != 0);
}

int number_of(const std::vector<Seeded>& s, const std::string& id) {
  for (const auto& x : s) {
    if (x.id == id) return x.n;
  }
  ADD_FAILURE() << "unknown id";
  return -1;
}

TEST_F(DirectoryTest, CursorWalkShowsEveryRecordOnceNewestFirst) {
  const auto people = seed(120);
  std::vector<std::string> expected;
  for (const auto& p : people) expected.push_back(p.id);

  for (std::size_t limit : {7u, 50u, 120u, 200u}) {
    std::vector<std::string> seen;
    ListQuery q;
    q.limit = limit;
    for (int guard = 0; guard < 40; ++guard) {
      const std::int64_t before = head();
      auto page = dir.list(who, q);
      ASSERT_TRUE(page) << page.error().internal;
      EXPECT_EQ(page->total, 120);
      std::vector<std::string> ids;
      for (const auto& m : page->items) {
        ids.push_back(m.id);
        seen.push_back(m.id);
      }
      // One entry per page, naming exactly the records shown.
      ASSERT_EQ(head(), before + 1);
      const auto e = last_entry();
      EXPECT_EQ(e.action, audit::action::supporter_list);
      EXPECT_EQ(e.actor, who.actor);
      EXPECT_EQ(e.client, who.client);
      EXPECT_EQ(nlohmann::json::parse(e.details)["records"].get<std::vector<std::string>>(), ids);
      EXPECT_FALSE(nlohmann::json::parse(e.details).contains("tag"));
      if (page->next_cursor.empty()) break;
      EXPECT_EQ(page->items.size(), limit);
      q.cursor = page->next_cursor;
    }
    EXPECT_EQ(seen, expected) << "limit " << limit;
  }
  expect_no_personal_data(entries());
}

TEST_F(DirectoryTest, TagFilter) {
  const auto people = seed(30);
  std::vector<std::string> expected;
  for (const auto& p : people) {
    if (p.n % 3 == 0) expected.push_back(p.id);
  }
  ASSERT_EQ(expected.size(), 10u);
  std::vector<std::string> seen;
  ListQuery q;
  q.tag = " Red ";  // normalised as intake does
  q.limit = 4;
  for (int guard = 0; guard < 10; ++guard) {
    auto page = dir.list(who, q);
    ASSERT_TRUE(page) << page.error().internal;
    EXPECT_EQ(page->total, 10);
    for (const auto& m : page->items) {
      seen.push_back(m.id);
      EXPECT_EQ(m.tags, std::vector<std::string>{"red"});
    }
    EXPECT_EQ(nlohmann::json::parse(last_entry().details)["tag"], "red");
    if (page->next_cursor.empty()) break;
    q.cursor = page->next_cursor;
  }
  EXPECT_EQ(seen, expected);

  ListQuery none;
  none.tag = "nobody-has-it";
  auto empty = dir.list(who, none);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->items.empty());
  EXPECT_EQ(empty->total, 0);
  EXPECT_TRUE(empty->next_cursor.empty());
}

TEST_F(DirectoryTest, BadCursorLimitOrTagIsRefusedAndWritesNothing) {
  const auto people = seed(3);
  const std::string hex = people[0].id;
  std::string upper = hex;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  ASSERT_NE(upper, hex);

  const std::int64_t before = head();
  const auto refused = [&](ListQuery q) {
    auto r = dir.list(who, q);
    ASSERT_FALSE(r) << "accepted cursor '" << q.cursor << "' tag '" << q.tag << "' limit " << q.limit;
    EXPECT_EQ(r.error().code, Errc::invalid_input);
  };
  for (std::size_t limit : {0u, 201u, 100000u}) refused(ListQuery{"", "", limit});
  for (const char* tag : {"bad,tag", "ta\xE2\x80\xAEg", "\xff"}) refused(ListQuery{tag, "", 10});
  for (const std::string& c :
       {std::string("garbage"), std::string("v1."), std::string("v1.12."), std::string("v1.12"),
        "v1.012." + hex, "v1.+12." + hex, "v1.-0." + hex, "v1. 12." + hex, "v1.12." + upper,
        "v1.12." + hex.substr(1), "v1.12." + hex + "0", "v1.99999999999999999999." + hex, "v2.12." + hex,
        "v1.12." + hex + ".", "v1.12.." + hex, std::string("v1.12.") + std::string(32, 'g'),
        "v1.12." + hex + std::string(1, '\0')}) {
    refused(ListQuery{"", c, 10});
  }
  EXPECT_EQ(head(), before);

  // The same forms, well made, are accepted: the refusals above are about
  // the form, not the position.
  EXPECT_TRUE(dir.list(who, ListQuery{"", "v1.12." + hex, 10}));
  EXPECT_TRUE(dir.list(who, ListQuery{"", "v1.-5." + hex, 10}));
  auto from_top = dir.list(who, ListQuery{"", "v1.9223372036854775807." + hex, 10});
  ASSERT_TRUE(from_top);
  EXPECT_EQ(from_top->items.size(), 3u);
}

TEST_F(DirectoryTest, MaskedOutputNeverHoldsAFullValue) {
  const auto people = seed(6);
  auto page = dir.list(who, ListQuery{"", "", 10});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->items.size(), 6u);
  for (const auto& m : page->items) expect_masked(m, number_of(people, m.id));

  auto found = dir.search(who, "email", email_of(3), "FR");
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 1u);
  expect_masked((*found)[0], 3);

  auto one = dir.record(who, people[0].id);
  ASSERT_TRUE(one);
  ASSERT_TRUE(*one);
  expect_masked(**one, people[0].n);
  expect_no_personal_data(entries());
}

TEST_F(DirectoryTest, ShortValuesStillHideACharacter) {
  RecordWriter writer(keys);
  core::Person p;
  p.email = "zo@example.net";
  p.postal_code = "AB";
  p.locality = "Y";
  p.given_name = "Zoé";
  store::Bytes id;
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto u = writer.upsert(tx, p, 5, &id);
    if (!u) return std::unexpected(u.error());
    return {};
  }));
  auto m = dir.record(who, audit::to_hex(id));
  ASSERT_TRUE(m && *m);
  EXPECT_EQ((*m)->postal_code, "A\u2022\u2022\u2022");
  EXPECT_EQ((*m)->locality, "\u2022\u2022\u2022");
  EXPECT_EQ((*m)->name, "Z.");
  EXPECT_TRUE((*m)->phone.empty());
  EXPECT_TRUE((*m)->country.empty());
}

TEST_F(DirectoryTest, SearchHitAndMissAreAudited) {
  const auto people = seed(6);
  std::string id3;
  for (const auto& p : people) {
    if (p.n == 3) id3 = p.id;
  }

  // As typed: spaces and capitals, normalised the way intake does.
  auto by_email = dir.search(who, "email", "  Philibertine.3@EXAMPLE.org ", "FR");
  ASSERT_TRUE(by_email) << by_email.error().internal;
  ASSERT_EQ(by_email->size(), 1u);
  EXPECT_EQ((*by_email)[0].id, id3);
  auto e = last_entry();
  EXPECT_EQ(e.action, audit::action::supporter_list);
  EXPECT_EQ(e.subject, id3);
  EXPECT_EQ(nlohmann::json::parse(e.details),
            (nlohmann::json{{"records", nlohmann::json::array({id3})}, {"by", "email"}}));

  // A national number read in the default region.
  auto by_phone = dir.search(who, "phone", "01 99 00 10 03", "FR");
  ASSERT_TRUE(by_phone) << by_phone.error().internal;
  ASSERT_EQ(by_phone->size(), 1u);
  EXPECT_EQ((*by_phone)[0].id, id3);
  EXPECT_EQ(nlohmann::json::parse(last_entry().details)["by"], "phone");

  const std::int64_t before = head();
  auto miss = dir.search(who, "email", "nobody@example.org", "FR");
  ASSERT_TRUE(miss);
  EXPECT_TRUE(miss->empty());
  ASSERT_EQ(head(), before + 1);
  e = last_entry();
  EXPECT_EQ(e.action, audit::action::supporter_lookup_miss);
  EXPECT_EQ(e.subject, "");
  EXPECT_EQ(e.actor, who.actor);
  EXPECT_EQ(nlohmann::json::parse(e.details), (nlohmann::json{{"by", "email"}}));

  // Not an e-mail, not a phone, not a kind: refused, nothing written.
  for (auto [kind, value] : {std::pair{"email", "not-an-email"}, std::pair{"phone", "hello"},
                             std::pair{"name", "Philibertine"}, std::pair{"email", ""}}) {
    auto r = dir.search(who, kind, value, "FR");
    ASSERT_FALSE(r) << kind;
    EXPECT_EQ(r.error().code, Errc::invalid_input);
    EXPECT_EQ(r.error().internal.find(value), value[0] ? std::string::npos : 0u);
  }
  EXPECT_EQ(head(), before + 1);
  expect_no_personal_data(entries());
}

TEST_F(DirectoryTest, RecordViewIsAudited) {
  const auto people = seed(2);
  auto m = dir.record(who, people[1].id);
  ASSERT_TRUE(m && *m);
  EXPECT_EQ((*m)->id, people[1].id);
  auto e = last_entry();
  EXPECT_EQ(e.action, audit::action::supporter_list);
  EXPECT_EQ(e.subject, people[1].id);
  EXPECT_EQ(nlohmann::json::parse(e.details),
            (nlohmann::json{{"records", nlohmann::json::array({people[1].id})}, {"view", "record"}}));

  // Upper-case hex names the same record.
  std::string upper = people[1].id;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  auto again = dir.record(who, upper);
  ASSERT_TRUE(again && *again);
  EXPECT_EQ((*again)->id, people[1].id);

  const std::int64_t before = head();
  auto unknown = dir.record(who, std::string(32, '0'));
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(*unknown);
  for (const std::string& bad : {std::string("xyz"), std::string(31, 'a'), std::string(32, 'g'), std::string()}) {
    auto r = dir.record(who, bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_input);
  }
  EXPECT_EQ(head(), before);
}

TEST_F(DirectoryTest, RevealShowsExactlyTheKindsAskedAfterItsEntryIsCommitted) {
  const auto people = seed(4);
  const auto& who_id = people[2];
  const int n = who_id.n;

  auto r = dir.reveal(who, who_id.id, {FieldKind::email, FieldKind::name}, "calling back about the rally");
  ASSERT_TRUE(r) << r.error().internal;
  ASSERT_TRUE(*r);
  ASSERT_EQ((*r)->size(), 2u);
  EXPECT_EQ((**r)[0].kind, FieldKind::email);
  EXPECT_EQ((**r)[0].value, email_of(n));
  EXPECT_EQ((**r)[1].kind, FieldKind::name);
  EXPECT_EQ((**r)[1].value, std::string(kGiven) + " " + kFamily);

  // Committed: another connection reads it.
  auto other = store::open_sqlite_keeper(fx.db);
  ASSERT_TRUE(other);
  std::vector<store::AuditEntryRow> seen;
  ASSERT_TRUE((*other)->scan_audit(1, [&](const store::AuditEntryRow& row) {
    seen.push_back(row);
    return true;
  }));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].action, audit::action::supporter_reveal);
  EXPECT_EQ(seen[0].subject, who_id.id);
  EXPECT_EQ(seen[0].actor, who.actor);
  EXPECT_EQ(seen[0].client, who.client);
  EXPECT_EQ(nlohmann::json::parse(seen[0].details),
            (nlohmann::json{{"fields", {"email", "name"}}, {"reason", "calling back about the rally"}, {"by", "id"}}));

  auto rest = dir.reveal(who, who_id.id, {FieldKind::address, FieldKind::phone}, "r");
  ASSERT_TRUE(rest && *rest);
  ASSERT_EQ((*rest)->size(), 2u);
  EXPECT_EQ((**rest)[0].value, std::string(kPostal) + " " + kLocality);
  EXPECT_EQ((**rest)[1].value, phone_of(n));

  auto all = dir.reveal(who, who_id.id, {FieldKind::name, FieldKind::email, FieldKind::phone, FieldKind::address},
                        std::string(200, 'x'));
  ASSERT_TRUE(all && *all);
  EXPECT_EQ((*all)->size(), 4u);
  expect_no_personal_data(entries());
}

TEST_F(DirectoryTest, RevealOfAMissingFieldIsEmpty) {
  RecordWriter writer(keys);
  core::Person p;
  p.email = "only@example.net";
  store::Bytes id;
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto u = writer.upsert(tx, p, 5, &id);
    if (!u) return std::unexpected(u.error());
    return {};
  }));
  auto r = dir.reveal(who, audit::to_hex(id), {FieldKind::phone, FieldKind::name, FieldKind::address}, "check");
  ASSERT_TRUE(r && *r);
  for (const auto& f : **r) EXPECT_EQ(f.value, "");
}

TEST_F(DirectoryTest, RefusedOrUnknownRevealWritesNothing) {
  const auto people = seed(2);
  const std::string id = people[0].id;
  const std::int64_t before = head();

  auto unknown = dir.reveal(who, std::string(32, 'f'), {FieldKind::email}, "check");
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(*unknown);

  const auto refused = [&](std::string_view rid, const std::vector<FieldKind>& kinds, std::string_view reason) {
    auto r = dir.reveal(who, rid, kinds, reason);
    ASSERT_FALSE(r) << "accepted reason of " << reason.size() << " bytes";
    EXPECT_EQ(r.error().code, Errc::invalid_input);
  };
  for (std::string_view reason : {std::string_view(""), std::string_view("two\nlines"), std::string_view("tab\there"),
                                  std::string_view("nul\0x", 5), std::string_view("\xff\xfe"),
                                  std::string_view("rtl \xe2\x80\xae trick"), std::string_view("c1 \xc2\x85")}) {
    refused(id, {FieldKind::email}, reason);
  }
  refused(id, {FieldKind::email}, std::string(201, 'x'));
  refused(id, {}, "check");
  refused(id, {FieldKind::email, FieldKind::email}, "check");
  refused(id, {FieldKind::name, FieldKind::email, FieldKind::phone, FieldKind::address, FieldKind::name}, "check");
  refused(id, {static_cast<FieldKind>(9)}, "check");
  refused("not-an-id", {FieldKind::email}, "check");
  EXPECT_EQ(head(), before);
}

TEST_F(DirectoryTest, TagsRoundTripWithEntries) {
  const auto people = seed(3);
  std::string id;  // n == 2: untagged
  for (const auto& p : people) {
    if (p.n == 2) id = p.id;
  }
  ASSERT_FALSE(id.empty());

  ASSERT_TRUE(dir.add_tags(who, id, {"Volunteer", "donor", " donor "}));
  auto e = last_entry();
  EXPECT_EQ(e.action, audit::action::supporter_tag);
  EXPECT_EQ(e.subject, id);
  EXPECT_EQ(nlohmann::json::parse(e.details), (nlohmann::json{{"added", {"donor", "volunteer"}}}));
  auto m = dir.record(who, id);
  ASSERT_TRUE(m && *m);
  EXPECT_EQ((*m)->tags, (std::vector<std::string>{"donor", "volunteer"}));

  auto counts = dir.tags();
  ASSERT_TRUE(counts);
  ASSERT_EQ(counts->size(), 3u);
  EXPECT_EQ((*counts)[0].tag, "donor");
  EXPECT_EQ((*counts)[0].supporters, 1);
  EXPECT_EQ((*counts)[1].tag, "red");  // seeds 0 (n % 3 == 0)
  EXPECT_EQ((*counts)[1].supporters, 1);
  EXPECT_EQ((*counts)[2].tag, "volunteer");

  ASSERT_TRUE(dir.remove_tags(who, id, {"donor", "absent"}));
  e = last_entry();
  EXPECT_EQ(e.action, audit::action::supporter_tag);
  EXPECT_EQ(nlohmann::json::parse(e.details), (nlohmann::json{{"removed", {"absent", "donor"}}}));
  m = dir.record(who, id);
  ASSERT_TRUE(m && *m);
  EXPECT_EQ((*m)->tags, std::vector<std::string>{"volunteer"});
  counts = dir.tags();
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->size(), 2u);

  const std::int64_t before = head();
  auto missing = dir.add_tags(who, std::string(32, '0'), {"x"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
  auto missing_rm = dir.remove_tags(who, std::string(32, '0'), {"x"});
  ASSERT_FALSE(missing_rm);
  EXPECT_EQ(missing_rm.error().code, Errc::not_found);
  std::vector<std::string> too_many;
  for (int i = 0; i < 21; ++i) too_many.push_back("t" + std::to_string(i));
  for (const auto& bad : {std::vector<std::string>{}, std::vector<std::string>{"ok", "not;ok"}, too_many}) {
    auto r = dir.add_tags(who, id, bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_input);
  }
  auto bad_id = dir.remove_tags(who, "zz", {"x"});
  ASSERT_FALSE(bad_id);
  EXPECT_EQ(bad_id.error().code, Errc::invalid_input);
  EXPECT_EQ(head(), before);
  too_many.pop_back();
  EXPECT_TRUE(dir.add_tags(who, id, too_many));  // 20 is the limit, not over it
}

// A record holds at most store::kMaxTagsPerRecord tags: past that, adding
// is refused with kTooManyTags and writes nothing; a tag it has already, or
// one more after a removal, is still fine.
TEST_F(DirectoryTest, ARecordFullOfTagsRefusesMore) {
  const auto people = seed(1);  // tagged "red"
  const std::string id = people[0].id;
  for (int call = 0; call < 10; ++call) {
    std::vector<std::string> batch;
    for (int i = 0; i < (call < 9 ? 20 : 19); ++i) batch.push_back("t" + std::to_string(call * 20 + i));
    ASSERT_TRUE(dir.add_tags(who, id, batch)) << call;
  }
  const auto count = [&] {
    auto m = dir.record(who, id);
    return m && *m ? (*m)->tags.size() : 0u;
  };
  ASSERT_EQ(count(), 200u);
  const std::int64_t before = head();
  auto refused = dir.add_tags(who, id, {"one-more", "red"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::conflict);
  EXPECT_EQ(refused.error().internal, services::kTooManyTags);
  EXPECT_EQ(head(), before);
  EXPECT_EQ(count(), 200u);
  EXPECT_TRUE(dir.add_tags(who, id, {"t7", "red"}));  // it has them: nothing new
  ASSERT_TRUE(dir.remove_tags(who, id, {"t7"}));
  EXPECT_TRUE(dir.add_tags(who, id, {"one-more"}));
  EXPECT_EQ(count(), 200u);
}

TEST_F(DirectoryTest, FieldKindNames) {
  for (FieldKind k : kAllFieldKinds) EXPECT_EQ(parse_field_kind(field_kind_name(k)), k);
  EXPECT_EQ(field_kind_name(FieldKind::address), "address");
  EXPECT_FALSE(parse_field_kind("Name"));
  EXPECT_FALSE(parse_field_kind(""));
}

TEST_F(DirectoryTest, TheChainStaysValid) {
  const auto people = seed(5);
  ASSERT_TRUE(dir.list(who, ListQuery{"", "", 3}));
  ASSERT_TRUE(dir.search(who, "email", email_of(1), "FR"));
  ASSERT_TRUE(dir.search(who, "email", "nobody@example.org", "FR"));
  ASSERT_TRUE(dir.record(who, people[0].id));
  ASSERT_TRUE(dir.reveal(who, people[0].id, {FieldKind::phone}, "follow-up"));
  ASSERT_TRUE(dir.add_tags(who, people[0].id, {"a"}));
  ASSERT_TRUE(dir.remove_tags(who, people[0].id, {"a"}));
  auto report = audit::verify(*st, keys, audit::VerifyOptions{});
  ASSERT_TRUE(report) << report.error().internal;
  EXPECT_TRUE(report->ok()) << (report->first() ? report->first()->reason : "");
  EXPECT_EQ(report->entries, 7);
}

}  // namespace
}  // namespace rempart::services
