#include "services/call_lists.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/chain.hpp"
#include "audit/verify.hpp"
#include "core/hex.hpp"
#include "services/casework.hpp"
#include "services/records.hpp"
#include "services/segments.hpp"
#include "services/test_support.hpp"

namespace rempart::services {
namespace {

constexpr std::int64_t kHour = 3600;

struct CallListsTest : ::testing::Test {
  testing::Fixture fx;
  crypto::KeeperKeyring keys = fx.keeper_keys();
  std::unique_ptr<store::KeeperStore> st = std::move(store::open_sqlite_keeper(fx.db).value());
  Vault vault{keys};
  guard::Budgets budgets;
  CallLists calls{*st, vault, &budgets};
  Segments segs{*st, keys};
  Asker organiser{"account:00112233445566778899aabbccddeeff", "192.0.2.7"};
  Asker ana, bob;
  int made = 0;

  void SetUp() override {
    ana = Asker{account("ana", "viewer"), "192.0.2.8"};
    bob = Asker{account("bob", "organiser"), "192.0.2.9"};
    account("root", "admin");
    auto d = parse_segment_definition(nlohmann::json{{"tags_all", {"phonebank"}}});
    ASSERT_TRUE(d);
    ASSERT_TRUE(segs.save(organiser, "phonebank", *d, false));
  }

  // An account row of `role`; returns its audit actor.
  std::string account(const std::string& name, const std::string& role) {
    store::AccountRow a;
    a.id.assign(16, static_cast<std::uint8_t>(made++ + 1));
    a.name = name;
    a.role = role;
    a.password_hash = "x";
    a.totp_sealed = {1};
    a.created_at = a.updated_at = unix_now();
    auto r = st->transact([&](store::KeeperTx& tx) { return tx.insert_account(a); });
    EXPECT_TRUE(r) << (r ? "" : r.error().internal);
    return "account:" + audit::to_hex(a.id);
  }

  std::string add(const std::string& given, const std::string& phone, std::vector<std::string> tags = {"phonebank"},
                  std::int64_t at = 0) {
    RecordWriter writer(keys);
    core::Person p;
    p.given_name = given;
    p.family_name = "Vauquelin";
    p.email = "call." + std::to_string(made++) + "@example.org";
    p.phone = phone;
    p.tags = std::move(tags);
    store::Bytes id;
    auto r = st->transact([&](store::KeeperTx& tx) -> Result<void> {
      // Each record a second apart, its id made at that second too: "newest
      // first" never rests on two ids of one millisecond.
      const std::int64_t when = at ? at : unix_now() + made;
      auto u = writer.upsert(tx, p, writer.prepare(p, when * 1000), when, &id, nullptr, Provenance{});
      if (!u) return std::unexpected(u.error());
      return {};
    });
    EXPECT_TRUE(r) << (r ? "" : r.error().internal);
    return audit::to_hex(id);
  }

  CallListSpec spec(std::vector<std::string> callers = {"ana", "bob"}) {
    return CallListSpec{"evening", "phonebank", std::move(callers), unix_now() - kHour, unix_now() + kHour,
                        "Hello, I am calling for the movement."};
  }

  std::vector<store::AuditEntryRow> entries() { return testing::audit_entries(*st); }
};

TEST_F(CallListsTest, DealsTheSegmentsPhonesToCallersAndOpensOnePersonAtATime) {
  add("Aurélien", "+33612345601");
  add("Bérénice", "+33612345602");
  add("Célestin", "+33612345603");
  add("Noémail", "");                                   // no phone: not in the list
  add("Dorothée", "+33612345604", {"other"});            // not in the segment
  auto made_list = calls.create(organiser, spec());
  ASSERT_TRUE(made_list) << made_list.error().internal;
  EXPECT_EQ(made_list->entries, 3);
  ASSERT_EQ(made_list->shares.size(), 2u);
  EXPECT_EQ(made_list->state, "open");
  const auto create = entries().back();
  EXPECT_EQ(create.action, audit::action::call_list_create);
  EXPECT_EQ(nlohmann::json::parse(create.details)["entries"], 3);

  // Ana has two entries (1 and 3), newest first: Célestin then Aurélien.
  auto first = calls.next(ana, "evening");
  ASSERT_TRUE(first) << first.error().internal;
  ASSERT_TRUE(*first);
  EXPECT_EQ((*first)->name, "Célestin Vauquelin");
  EXPECT_EQ((*first)->phone, "+33612345603");
  EXPECT_EQ((*first)->share, 2);
  EXPECT_EQ((*first)->left, 2);
  EXPECT_EQ((*first)->script, "Hello, I am calling for the movement.");
  const auto reveal = entries().back();
  EXPECT_EQ(reveal.action, audit::action::supporter_reveal);
  EXPECT_EQ(reveal.subject, (*first)->record);
  const auto details = nlohmann::json::parse(reveal.details);
  EXPECT_EQ(details["by"], "call_list");
  EXPECT_EQ(details["list"], "evening");
  EXPECT_EQ(details["fields"], nlohmann::json::array({"name", "phone"}));
  EXPECT_EQ(reveal.details.find("Vauquelin"), std::string::npos);
  EXPECT_EQ(reveal.details.find("+336"), std::string::npos);

  // Asking again shows the same person (audited again), nobody new.
  auto again = calls.next(ana, "evening");
  ASSERT_TRUE(again && *again);
  EXPECT_EQ((*again)->entry, (*first)->entry);
  EXPECT_TRUE(nlohmann::json::parse(entries().back().details).value("again", false));

  // Not charged to the reveal budgets (a reveal through the directory is).
  Directory dir{*st, vault, &budgets};
  auto standing = dir.standing(ana);
  ASSERT_TRUE(standing);
  ASSERT_FALSE(standing->empty());
  for (const auto& s : *standing) EXPECT_EQ(s.used, 0) << guard::counted_name(s.what);
  ASSERT_TRUE(dir.reveal(bob, (*first)->record, {FieldKind::phone}, "check"));
  auto bobs_standing = dir.standing(bob);
  ASSERT_TRUE(bobs_standing);
  std::int64_t used = 0;
  for (const auto& s : *bobs_standing) used += s.used;
  EXPECT_GT(used, 0);

  // The outcome goes to the record's history; the next person opens.
  ASSERT_TRUE(calls.outcome(ana, "evening", (*first)->entry, "rsvp", "Comes on Saturday"));
  const auto all = entries();
  EXPECT_EQ(all.back().action, audit::action::call_outcome);
  EXPECT_EQ(all[all.size() - 2].action, audit::action::supporter_note);
  Casework cw(*st, vault, nullptr, "FR");
  auto notes = cw.notes(organiser, (*first)->record);
  ASSERT_TRUE(notes && *notes);
  ASSERT_EQ((*notes)->size(), 1u);
  EXPECT_EQ((*notes)->front().kind, "rsvp");
  EXPECT_EQ((*notes)->front().text, "Comes on Saturday");

  // A second outcome for the same entry is refused.
  auto twice = calls.outcome(ana, "evening", (*first)->entry, "called", "");
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, Errc::conflict);

  auto second = calls.next(ana, "evening");
  ASSERT_TRUE(second && *second);
  EXPECT_EQ((*second)->name, "Aurélien Vauquelin");
  EXPECT_EQ((*second)->left, 1);
  // Bob's entry is not Ana's to record.
  auto bobs = calls.next(bob, "evening");
  ASSERT_TRUE(bobs && *bobs);
  auto not_hers = calls.outcome(ana, "evening", (*bobs)->entry, "called", "");
  ASSERT_FALSE(not_hers);
  EXPECT_EQ(not_hers.error().code, Errc::not_found);
  ASSERT_TRUE(calls.outcome(ana, "evening", (*second)->entry, "no_answer", ""));
  auto done = calls.next(ana, "evening");
  ASSERT_TRUE(done);
  EXPECT_FALSE(*done);  // her share is done

  auto view = calls.find("evening");
  ASSERT_TRUE(view && *view);
  EXPECT_EQ((*view)->done, 2);
  EXPECT_EQ((*view)->opened, 3);
  ASSERT_EQ((*view)->outcomes.size(), 2u);
  auto mine = calls.assignments(ana);
  ASSERT_TRUE(mine);
  ASSERT_EQ(mine->size(), 1u);
  ASSERT_EQ(mine->front().shares.size(), 1u);
  EXPECT_EQ(mine->front().shares.front().caller, "ana");
  EXPECT_EQ(mine->front().shares.front().done, 2);
  auto report = audit::verify(*st, keys, audit::VerifyOptions{});
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->ok());
}

TEST_F(CallListsTest, RefusesBadListsAndChangesNothing) {
  add("Aurélien", "+33612345601");
  const auto before = entries().size();
  auto refused = [&](CallListSpec s, Errc code, std::string_view what) {
    auto r = calls.create(organiser, s);
    ASSERT_FALSE(r) << what;
    EXPECT_EQ(r.error().code, code) << what;
  };
  auto s = spec();
  s.name = "Bad Name";
  refused(s, Errc::invalid_input, "name");
  refused(spec({"root"}), Errc::invalid_input, "an admin does not make calls");
  refused(spec({"nobody"}), Errc::invalid_input, "no such account");
  refused(spec({"ana", "ana"}), Errc::invalid_input, "repeated caller");
  refused(spec({}), Errc::invalid_input, "no caller");
  s = spec();
  s.ends_at = s.starts_at;
  refused(s, Errc::invalid_input, "empty window");
  s = spec();
  s.ends_at = s.starts_at + 40 * 86400;
  refused(s, Errc::invalid_input, "window too long");
  s = spec();
  s.script = "a\x01b";
  refused(s, Errc::invalid_input, "control character");
  s = spec();
  s.segment = "absent";
  refused(s, Errc::not_found, "no such segment");
  auto d = parse_segment_definition(nlohmann::json{{"tags_all", {"nobody-has-it"}}});
  ASSERT_TRUE(segs.save(organiser, "nobody", *d, false));
  const auto saved = entries().size();
  EXPECT_EQ(saved, before + 1);
  s = spec();
  s.segment = "nobody";
  refused(s, Errc::invalid_input, "empty");
  EXPECT_EQ(entries().size(), saved);
  ASSERT_TRUE(calls.create(organiser, spec()));
  refused(spec(), Errc::conflict, "name in use");
  auto lists = calls.lists();
  ASSERT_TRUE(lists);
  EXPECT_EQ(lists->size(), 1u);
}

TEST_F(CallListsTest, OpensOnlyInsideTheWindowAndUntilClosed) {
  add("Aurélien", "+33612345601");
  auto s = spec({"ana"});
  s.starts_at = unix_now() + kHour;
  s.ends_at = unix_now() + 2 * kHour;
  ASSERT_TRUE(calls.create(organiser, s));
  auto early = calls.next(ana, "evening");
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, Errc::conflict);
  s = spec({"ana"});
  s.name = "now";
  ASSERT_TRUE(calls.create(organiser, s));
  auto first = calls.next(ana, "now");
  ASSERT_TRUE(first && *first);
  auto closed = calls.close(organiser, "now");
  ASSERT_TRUE(closed);
  EXPECT_TRUE(*closed);
  EXPECT_EQ(entries().back().action, audit::action::call_list_close);
  auto after = calls.next(ana, "now");
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, Errc::conflict);
  // The call in hand when the list closed is still recorded.
  EXPECT_TRUE(calls.outcome(ana, "now", (*first)->entry, "called", ""));
  EXPECT_EQ(entries().back().action, audit::action::call_outcome);
  // Someone without a share gets the answer of a list that does not exist.
  auto stranger = calls.next(bob, "now");
  ASSERT_FALSE(stranger);
  EXPECT_EQ(stranger.error().code, Errc::not_found);
  auto absent = calls.next(bob, "absent");
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().code, Errc::not_found);
}

TEST_F(CallListsTest, ErasureTakesTheEntryAndAHoneytokenInAListLocks) {
  const std::string a = add("Aurélien", "+33612345601");
  const std::string b = add("Bérénice", "+33612345602");
  ASSERT_TRUE(calls.create(organiser, spec({"ana"})));
  Casework cw(*st, vault, nullptr, "FR");
  auto erased = cw.erase(organiser, b, "email");  // the newest, first in Ana's share
  ASSERT_TRUE(erased && *erased);
  auto view = calls.find("evening");
  ASSERT_TRUE(view && *view);
  EXPECT_EQ((*view)->entries, 1);
  // The remaining record is marked a honeytoken after the list was made.
  auto id = core::from_hex(a, 16);
  ASSERT_TRUE(id);
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) { return tx.insert_honeytoken(*id, unix_now(), "test"); }));
  auto locked = calls.next(ana, "evening");
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().code, Errc::locked);
  EXPECT_EQ(entries().back().action, audit::action::guard_lock);
  for (const auto& e : entries()) EXPECT_NE(e.action, audit::action::supporter_reveal);
}

TEST_F(CallListsTest, LeavesHoneytokensOutOfANewList) {
  const std::string a = add("Aurélien", "+33612345601");
  add("Bérénice", "+33612345602");
  auto id = core::from_hex(a, 16);
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) { return tx.insert_honeytoken(*id, unix_now(), "test"); }));
  auto made_list = calls.create(organiser, spec({"ana"}));
  ASSERT_TRUE(made_list);
  EXPECT_EQ(made_list->entries, 1);
}

}  // namespace
}  // namespace rempart::services
