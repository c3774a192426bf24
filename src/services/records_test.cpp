#include "services/records.hpp"

#include <gtest/gtest.h>

#include "core/validate.hpp"
#include "services/synth.hpp"
#include "services/test_support.hpp"

namespace rempart::services {
namespace {

core::Person person(std::string email, std::string phone = {}) {
  core::Person p;
  p.given_name = "Aline";
  p.email = std::move(email);
  p.phone = std::move(phone);
  return p;
}

struct Records : ::testing::Test {
  testing::Fixture fx;
  crypto::KeeperKeyring keys = fx.keeper_keys();
  std::unique_ptr<store::KeeperStore> st = std::move(store::open_sqlite_keeper(fx.db).value());
  RecordWriter writer{keys};

  Upsert upsert(const core::Person& p, std::int64_t now = 1000) {
    Upsert out{};
    auto r = st->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto u = writer.upsert(tx, p, now);
      if (!u) return std::unexpected(u.error());
      out = *u;
      return {};
    });
    EXPECT_TRUE(r) << (r ? "" : r.error().internal);
    return out;
  }
  std::optional<Supporter> find(std::string_view kind, std::string_view v) {
    return Vault(keys).reveal_by_contact(*st, "operator:test", kind, v, "test").value();
  }
};

TEST_F(Records, CreatesThenMergesMissingFieldsConsentsAndTags) {
  EXPECT_EQ(upsert(person("aline@example.org")), Upsert::created);
  auto more = person("aline@example.org", "+33199000001");
  more.given_name = "Someone Else";  // never overwrites a stored value
  more.family_name = "Ferrand";
  more.tags = {"volunteer"};
  more.consent.sms = true;
  EXPECT_EQ(upsert(more, 2000), Upsert::merged);
  EXPECT_EQ(st->count_supporters().value(), 1);

  auto s = find("phone", "+33199000001");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->person.given_name, "Aline");
  EXPECT_EQ(s->person.family_name, "Ferrand");
  EXPECT_EQ(s->person.email, "aline@example.org");
  EXPECT_EQ(s->person.tags, std::vector<std::string>{"volunteer"});
  EXPECT_TRUE(s->person.consent.sms);
  EXPECT_FALSE(s->person.consent.email);
  EXPECT_EQ(s->created_at, 1000);
  EXPECT_EQ(s->updated_at, 2000);

  EXPECT_EQ(upsert(more, 3000), Upsert::unchanged);
  EXPECT_EQ(find("email", "aline@example.org")->updated_at, 2000);
}

TEST_F(Records, KnownByPhoneOnlyMergesTheEmail) {
  EXPECT_EQ(upsert(person("", "+33199000002")), Upsert::created);
  EXPECT_EQ(upsert(person("b@example.org", "+33199000002")), Upsert::merged);
  EXPECT_EQ(st->count_supporters().value(), 1);
  ASSERT_TRUE(find("email", "b@example.org"));
}

TEST_F(Records, APhoneHeldByAnotherRecordStaysWithIt) {
  EXPECT_EQ(upsert(person("a@example.org")), Upsert::created);
  EXPECT_EQ(upsert(person("b@example.org", "+33199000003")), Upsert::created);
  // Claims a's e-mail with b's phone: merges into a, leaves the phone with b.
  EXPECT_EQ(upsert(person("a@example.org", "+33199000003")), Upsert::unchanged);
  EXPECT_EQ(find("phone", "+33199000003")->person.email, "b@example.org");
  EXPECT_TRUE(find("email", "a@example.org")->person.phone.empty());
}

TEST_F(Records, PreparedCreationStoresThePreparedRecord) {
  auto p = person("c@example.org", "+33199000004");
  p.consent.email = true;
  const auto prepared = writer.prepare(p);
  ASSERT_TRUE(prepared.fresh);
  ASSERT_TRUE(prepared.email_index && prepared.phone_index);
  store::Bytes id;
  auto r = st->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto u = writer.upsert(tx, p, prepared, 1000, &id);
    if (!u) return std::unexpected(u.error());
    EXPECT_EQ(*u, Upsert::created);
    return {};
  });
  ASSERT_TRUE(r) << (r ? "" : r.error().internal);
  EXPECT_EQ(id, prepared.fresh->id);
  auto s = find("phone", "+33199000004");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->id, prepared.fresh->id);
  EXPECT_EQ(s->person.email, "c@example.org");
  EXPECT_TRUE(s->person.consent.email);
}

TEST_F(Records, IdsStartWithTheCreationTimeAndFollowEachOther) {
  // Made by upsert itself: the id names `now`'s second.
  store::Bytes first;
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto u = writer.upsert(tx, person("g@example.org"), 1'790'000'000, &first);
    if (!u) return std::unexpected(u.error());
    return {};
  }));
  ASSERT_EQ(first.size(), kRecordIdBytes);
  EXPECT_EQ(record_id_millis(first).value() / 1000, 1'790'000'000);
  EXPECT_EQ(find("email", "g@example.org")->created_at, 1'790'000'000);

  // Prepared for a given moment: the id names it, and the record's times are
  // that second even if the transaction runs later.
  auto p = person("h@example.org");
  p.consent.email = true;
  const auto prepared = writer.prepare(p, 1'790'000'100'250);
  ASSERT_TRUE(prepared.fresh);
  EXPECT_EQ(record_id_millis(prepared.fresh->id), 1'790'000'100'250);
  store::Bytes second;
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto u = writer.upsert(tx, p, prepared, 1'790'000'101, &second);
    if (!u) return std::unexpected(u.error());
    return {};
  }));
  EXPECT_EQ(second, prepared.fresh->id);
  auto s = find("email", "h@example.org");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->created_at, 1'790'000'100);
  EXPECT_EQ(s->updated_at, 1'790'000'100);
  EXPECT_LT(first, second);  // later records sort after earlier ones

  // Made now: ids follow each other in creation order, and the 80 random
  // bits keep ids made in the same millisecond apart.
  std::vector<store::Bytes> ids;
  for (int i = 0; i < 200; ++i) ids.push_back(writer.prepare(person("i@example.org")).fresh->id);
  for (std::size_t i = 1; i < ids.size(); ++i) {
    EXPECT_LE(record_id_millis(ids[i - 1]), record_id_millis(ids[i]));
    EXPECT_NE(ids[i - 1], ids[i]);
  }
  EXPECT_EQ(record_id_millis(store::Bytes(15, 0)), std::nullopt);
}

TEST_F(Records, PreparedUpsertStillMergesIntoKnownRecords) {
  EXPECT_EQ(upsert(person("d@example.org")), Upsert::created);
  EXPECT_EQ(upsert(person("e@example.org", "+33199000005")), Upsert::created);
  auto run = [&](const core::Person& p) {
    const auto prepared = writer.prepare(p);
    Upsert out{};
    auto r = st->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto u = writer.upsert(tx, p, prepared, 2000);
      if (!u) return std::unexpected(u.error());
      out = *u;
      return {};
    });
    EXPECT_TRUE(r);
    return out;
  };
  auto more = person("d@example.org");
  more.family_name = "Ferrand";
  EXPECT_EQ(run(more), Upsert::merged);  // the prepared record is not used
  EXPECT_EQ(find("email", "d@example.org")->person.family_name, "Ferrand");
  // New e-mail, known phone: the person is e, the prepared creation unused.
  EXPECT_EQ(run(person("f@example.org", "+33199000005")), Upsert::unchanged);
  EXPECT_FALSE(find("email", "f@example.org"));
  EXPECT_EQ(find("phone", "+33199000005")->person.email, "e@example.org");
  EXPECT_EQ(st->count_supporters().value(), 2);
}

TEST_F(Records, SyntheticPersonsAreValidAndStable) {
  core::IntakeOptions opts;
  for (std::uint64_t i = 0; i < 200; ++i) {
    const auto p = synth_person(7, i, i < 100);
    auto v = core::validate_submission(core::to_raw(p), opts);
    ASSERT_TRUE(v) << "synthetic person " << i << " does not validate: " << v.error().front().field << " "
                   << v.error().front().code;
    EXPECT_EQ(*v, p) << i;
    EXPECT_EQ(synth_person(7, i, i < 100), p);
  }
  EXPECT_NE(synth_person(7, 1, false).email, synth_person(7, 2, false).email);
}

}  // namespace
}  // namespace rempart::services
