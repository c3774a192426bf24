// The behaviour every store backend must show; instantiated per backend (see
// store_contract.hpp).
#include "store/store_contract.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace rempart::store::test_support {
namespace {

Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

BatchRow batch_row(const std::string& uid, std::uint32_t key_version = 1) {
  return BatchRow{bytes(uid), key_version, bytes("epk-" + uid), 1000};
}

InboxRow item(const std::string& batch_uid, const std::string& uid, std::int64_t at = 2000) {
  return InboxRow{0, bytes(batch_uid), bytes(uid), bytes("wk-" + uid), bytes("fields-" + uid), at};
}

SupporterRow supporter(const std::string& id, std::optional<std::string> email, std::optional<std::string> phone) {
  SupporterRow s;
  s.id = bytes(id);
  s.key_version = 3;
  s.wrapped_key = bytes("wk-" + id);
  s.fields = bytes("fields-" + id);
  if (email) s.email_index = bytes(*email);
  if (phone) s.phone_index = bytes(*phone);
  s.consent_email_at = 111;
  s.created_at = 100;
  s.updated_at = 100;
  return s;
}

// Strips the store-assigned id so rows can be compared with what was appended.
InboxRow without_id(InboxRow r) {
  r.id = 0;
  return r;
}

Result<void> insert(KeeperStore& k, const SupporterRow& s) {
  return k.transact([&](KeeperTx& tx) { return tx.insert_supporter(s); });
}

TEST_P(StoreContract, AppendPeekDeleteRoundTrip) {
  const std::vector<BatchRow> batches{batch_row("b1", 7)};
  const std::vector<InboxRow> items{item("b1", "i1", 10), item("b1", "i2", 11), item("b1", "i3", 12)};
  ASSERT_TRUE(intake_->append(batches, items).has_value());

  auto peeked = inbox_->peek(10, 0);
  ASSERT_TRUE(peeked.has_value()) << peeked.error().internal;
  ASSERT_EQ(peeked->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(without_id((*peeked)[i]), items[i]);
  EXPECT_LT((*peeked)[0].id, (*peeked)[1].id);
  EXPECT_LT((*peeked)[1].id, (*peeked)[2].id);

  auto b = inbox_->batch(bytes("b1"));
  ASSERT_TRUE(b.has_value());
  ASSERT_TRUE(b->has_value());
  EXPECT_EQ(**b, batches[0]);
  EXPECT_EQ(*inbox_->batch(bytes("nope")), std::nullopt);

  // Peeking does not remove.
  EXPECT_EQ(*inbox_->count(), 3);
  auto limited = inbox_->peek(2, 0);
  ASSERT_TRUE(limited.has_value());
  ASSERT_EQ(limited->size(), 2u);
  EXPECT_EQ((*limited)[0], (*peeked)[0]);

  // Only what comes after an id.
  auto later = inbox_->peek(10, (*peeked)[0].id);
  ASSERT_TRUE(later.has_value());
  ASSERT_EQ(later->size(), 2u);
  EXPECT_EQ((*later)[0], (*peeked)[1]);

  const std::int64_t first = (*peeked)[0].id;
  EXPECT_EQ(*inbox_->remove(std::span(&first, 1), {}), 1);
  EXPECT_EQ(*inbox_->count(), 2);
  auto after = inbox_->peek(10, 0);
  ASSERT_TRUE(after.has_value());
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0], (*peeked)[1]);

  // A second delete of the same item finds nothing, and is no error.
  EXPECT_EQ(*inbox_->remove(std::span(&first, 1), {}), 0);
  // The batch goes with the last item.
  const std::vector<std::int64_t> rest{(*peeked)[1].id, (*peeked)[2].id};
  EXPECT_EQ(*inbox_->remove(rest, {}), 2);
  EXPECT_EQ(*inbox_->count(), 0);
  EXPECT_EQ(*inbox_->batch(bytes("b1")), std::nullopt);
  // Ids are never reused.
  const std::vector<InboxRow> next{item("b1", "i4", 13)};
  ASSERT_TRUE(intake_->append(batches, next).has_value());
  EXPECT_GT((*inbox_->peek(1, 0))[0].id, (*peeked)[2].id);
}

TEST_P(StoreContract, ItemsAreRemovedByTheirUid) {
  const std::vector<BatchRow> batches{batch_row("b1")};
  const std::vector<InboxRow> items{item("b1", "i1"), item("b1", "i2"), item("b1", "i3")};
  ASSERT_TRUE(intake_->append(batches, items).has_value());
  const std::vector<Bytes> uids{bytes("i1"), bytes("i3"), bytes("gone")};
  EXPECT_EQ(*inbox_->remove_by_uid(uids), 2);
  auto left = inbox_->peek(10, 0);
  ASSERT_TRUE(left.has_value());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(without_id((*left)[0]), items[1]);
  EXPECT_EQ(*inbox_->remove_by_uid(uids), 0);
  EXPECT_TRUE(inbox_->batch(bytes("b1"))->has_value());  // i2 still refers to it
  const std::vector<Bytes> last{bytes("i2")};
  EXPECT_EQ(*inbox_->remove_by_uid(last), 1);
  EXPECT_FALSE(inbox_->batch(bytes("b1"))->has_value());
}

// The fold ledger records each item once, in the transaction that folds it:
// a second record of the same uid says "folded already", a rollback takes
// the record back, and forgetting makes room again.
TEST_P(StoreContract, TheFoldLedgerRecordsEachItemOnce) {
  const auto record = [&](const std::string& uid, std::int64_t at) {
    bool fresh = false;
    auto r = keeper_->transact([&](KeeperTx& tx) -> Result<void> {
      auto f = tx.record_folded(bytes(uid), at);
      if (!f) return std::unexpected(f.error());
      fresh = *f;
      return {};
    });
    EXPECT_TRUE(r.has_value());
    return fresh;
  };
  const auto recorded = [&] {
    std::vector<Bytes> out;
    EXPECT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
      auto f = tx.folded_items(100);
      if (!f) return std::unexpected(f.error());
      out = std::move(*f);
      return {};
    }).has_value());
    return out;
  };
  EXPECT_TRUE(record("i2", 20));
  EXPECT_TRUE(record("i1", 10));
  EXPECT_FALSE(record("i1", 30));  // folded already
  EXPECT_EQ(recorded(), (std::vector<Bytes>{bytes("i1"), bytes("i2")}));  // oldest first

  auto rolled_back = keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto f = tx.record_folded(bytes("i3"), 40);
    if (!f || !*f) return fail(Errc::internal, "not recorded");
    return fail(Errc::crypto, "opening failed");
  });
  ASSERT_FALSE(rolled_back.has_value());
  EXPECT_EQ(rolled_back.error().code, Errc::crypto);
  EXPECT_EQ(recorded().size(), 2u);

  const std::vector<Bytes> forget{bytes("i1"), bytes("unknown")};
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.forget_folded(forget); }).has_value());
  EXPECT_EQ(recorded(), (std::vector<Bytes>{bytes("i2")}));
  EXPECT_TRUE(record("i1", 50));
}

// Reads are the same port inside a transaction and outside one: inside,
// they see what the transaction wrote.
TEST_P(StoreContract, ReadsInsideATransactionSeeItsWrites) {
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    if (auto r = tx.insert_supporter(supporter("s1", "e1", std::nullopt)); !r) return r;
    if (auto r = tx.add_tags(bytes("s1"), std::vector<std::string>{"north"}, 5); !r) return r;
    SupporterReads& reads = tx;
    auto page = reads.supporter_page(SupporterPageQuery{"north", std::nullopt, 10});
    if (!page || page->total != 1 || page->items.size() != 1) return fail(Errc::internal, "page");
    auto counted = reads.count_supporters();
    if (!counted || *counted != 1) return fail(Errc::internal, "count");
    return {};
  }).has_value());
  SupporterReads& outside = *keeper_;
  EXPECT_EQ(*outside.count_supporters(), 1);
}

TEST_P(StoreContract, EmptyAppendIsANoOp) {
  EXPECT_TRUE(intake_->append({}, {}).has_value());
  EXPECT_EQ(*inbox_->count(), 0);
}

TEST_P(StoreContract, EmptyByteStringsRoundTripAsEmpty) {
  InboxRow empty{0, bytes("b1"), bytes("i1"), {}, {}, 5};
  const std::vector<BatchRow> batches{BatchRow{bytes("b1"), 0, {}, 0}};
  ASSERT_TRUE(intake_->append(batches, std::span(&empty, 1)).has_value());
  auto peeked = inbox_->peek(1, 0);
  ASSERT_TRUE(peeked.has_value());
  ASSERT_EQ(peeked->size(), 1u);
  EXPECT_EQ(without_id((*peeked)[0]), empty);
}

TEST_P(StoreContract, AppendIsAtomic) {
  const std::vector<BatchRow> b1{batch_row("b1")};
  const std::vector<InboxRow> first{item("b1", "i1"), item("b1", "i2")};
  ASSERT_TRUE(intake_->append(b1, first).has_value());

  // The second item names a batch that does not exist: nothing of this
  // append may remain, neither its new batch nor its first, valid item.
  const std::vector<BatchRow> b2{batch_row("b2")};
  const std::vector<InboxRow> second{item("b2", "i3"), item("ghost", "i4")};
  auto r = intake_->append(b2, second);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::invalid_input);

  EXPECT_EQ(*inbox_->count(), 2);
  EXPECT_EQ(*inbox_->batch(bytes("b2")), std::nullopt);

  // The intake store is still usable afterwards.
  const std::vector<InboxRow> third{item("b2", "i3")};
  EXPECT_TRUE(intake_->append(b2, third).has_value());
  EXPECT_EQ(*inbox_->count(), 3);
}

TEST_P(StoreContract, ItemOfUnknownBatchIsRefused) {
  const std::vector<InboxRow> orphan{item("ghost", "i1")};
  auto r = intake_->append({}, orphan);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::invalid_input);
  EXPECT_EQ(*inbox_->count(), 0);
}

TEST_P(StoreContract, DuplicateBatchUidIsIgnored) {
  const std::vector<BatchRow> original{batch_row("b1", 1)};
  const std::vector<InboxRow> i1{item("b1", "i1")};
  ASSERT_TRUE(intake_->append(original, i1).has_value());

  const std::vector<BatchRow> again{batch_row("b1", 9)};
  const std::vector<InboxRow> i2{item("b1", "i2")};
  ASSERT_TRUE(intake_->append(again, i2).has_value());

  EXPECT_EQ((*inbox_->batch(bytes("b1")))->key_version, 1u);
  EXPECT_EQ(*inbox_->count(), 2);
}

TEST_P(StoreContract, TransactCommits) {
  const auto s = supporter("s1", "e1", "p1");
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    if (auto r = tx.insert_supporter(s); !r) return r;
    // Visible inside the transaction already.
    auto found = tx.find_supporter(s.id);
    if (!found || !*found) return fail(Errc::internal, "not visible inside the transaction");
    return {};
  }).has_value());

  EXPECT_EQ(*keeper_->count_supporters(), 1);
  auto by_email = keeper_->find_supporter_by_email_index(bytes("e1"));
  ASSERT_TRUE(by_email.has_value());
  ASSERT_TRUE(by_email->has_value());
  EXPECT_EQ(**by_email, s);
  auto by_phone = keeper_->find_supporter_by_phone_index(bytes("p1"));
  ASSERT_TRUE(by_phone.has_value());
  ASSERT_TRUE(by_phone->has_value());
  EXPECT_EQ(**by_phone, s);
  EXPECT_EQ(*keeper_->find_supporter_by_email_index(bytes("e2")), std::nullopt);
}

TEST_P(StoreContract, TransactRollsBackWhenFnFails) {
  const std::vector<BatchRow> b{batch_row("b1")};
  const std::vector<InboxRow> items{item("b1", "i1")};
  ASSERT_TRUE(intake_->append(b, items).has_value());
  const std::int64_t id = (*inbox_->peek(1, 0))[0].id;

  auto r = keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    if (auto x = tx.insert_supporter(supporter("s1", "e1", std::nullopt)); !x) return x;
    auto f = tx.record_folded(bytes("i1"), id);
    if (!f) return std::unexpected(f.error());
    return fail(Errc::crypto, "opening failed");
  });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::crypto);  // fn's own error, unchanged
  EXPECT_EQ(r.error().internal, "opening failed");
  EXPECT_EQ(*keeper_->count_supporters(), 0);
  EXPECT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto f = tx.folded_items(10);
    if (!f || !f->empty()) return fail(Errc::internal, "the ledger kept a rolled-back record");
    return {};
  }).has_value());
  EXPECT_EQ(*inbox_->count(), 1);
}

TEST_P(StoreContract, TransactRollsBackWhenFnThrows) {
  EXPECT_THROW((void)keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    (void)tx.insert_supporter(supporter("s1", "e1", std::nullopt));
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_EQ(*keeper_->count_supporters(), 0);
  // No transaction was left open.
  EXPECT_TRUE(insert(*keeper_, supporter("s2", "e2", std::nullopt)).has_value());
  EXPECT_EQ(*keeper_->count_supporters(), 1);
}

TEST_P(StoreContract, NestedTransactIsRefused) {
  Result<void> inner;
  auto outer = keeper_->transact([&](KeeperTx&) -> Result<void> {
    inner = keeper_->transact([](KeeperTx&) -> Result<void> { return {}; });
    return {};
  });
  EXPECT_TRUE(outer.has_value());
  ASSERT_FALSE(inner.has_value());
  EXPECT_EQ(inner.error().code, Errc::internal);
}

TEST_P(StoreContract, UniqueIndexesGiveConflict) {
  ASSERT_TRUE(insert(*keeper_, supporter("s1", "e1", "p1")).has_value());

  auto same_email = insert(*keeper_, supporter("s2", "e1", "p2"));
  ASSERT_FALSE(same_email.has_value());
  EXPECT_EQ(same_email.error().code, Errc::conflict);

  auto same_phone = insert(*keeper_, supporter("s3", "e3", "p1"));
  ASSERT_FALSE(same_phone.has_value());
  EXPECT_EQ(same_phone.error().code, Errc::conflict);

  auto same_id = insert(*keeper_, supporter("s1", "e4", "p4"));
  ASSERT_FALSE(same_id.has_value());
  EXPECT_EQ(same_id.error().code, Errc::conflict);

  // Absent indexes never collide with each other.
  EXPECT_TRUE(insert(*keeper_, supporter("s5", std::nullopt, std::nullopt)).has_value());
  EXPECT_TRUE(insert(*keeper_, supporter("s6", std::nullopt, std::nullopt)).has_value());

  // An update cannot take another supporter's index either.
  auto taken = keeper_->transact([&](KeeperTx& tx) { return tx.update_supporter(supporter("s5", "e1", std::nullopt)); });
  ASSERT_FALSE(taken.has_value());
  EXPECT_EQ(taken.error().code, Errc::conflict);
  EXPECT_EQ(*keeper_->count_supporters(), 3);
}

TEST_P(StoreContract, UpdateSupporterReplacesMutableColumns) {
  ASSERT_TRUE(insert(*keeper_, supporter("s1", "e1", "p1")).has_value());

  SupporterRow changed = supporter("s1", "e9", std::nullopt);
  changed.key_version = 4;
  changed.wrapped_key = bytes("new-wk");
  changed.fields = bytes("new-fields");
  changed.consent_email_at = std::nullopt;
  changed.consent_sms_at = 222;
  changed.created_at = 999;  // must be ignored
  changed.updated_at = 300;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.update_supporter(changed); }).has_value());

  SupporterRow expected = changed;
  expected.created_at = 100;
  auto found = keeper_->find_supporter_by_email_index(bytes("e9"));
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, expected);
  EXPECT_EQ(*keeper_->find_supporter_by_email_index(bytes("e1")), std::nullopt);
  EXPECT_EQ(*keeper_->find_supporter_by_phone_index(bytes("p1")), std::nullopt);

  auto missing = keeper_->transact([&](KeeperTx& tx) { return tx.update_supporter(supporter("nobody", "x", "y")); });
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, Errc::not_found);
}

TEST_P(StoreContract, Tags) {
  const auto s = supporter("s1", "e1", std::nullopt);
  ASSERT_TRUE(insert(*keeper_, s).has_value());
  const std::vector<std::string> first{"volunteer", "donor"};
  const std::vector<std::string> second{"donor", "paris"};
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    if (auto r = tx.add_tags(s.id, first, 10); !r) return r;
    if (auto r = tx.add_tags(s.id, second, 20); !r) return r;  // "donor" again: ignored
    auto inside = tx.tags(s.id);
    if (!inside) return std::unexpected(inside.error());
    if (inside->size() != 3) return fail(Errc::internal, "tags not visible inside the transaction");
    return {};
  }).has_value());

  auto tags = keeper_->tags(s.id);
  ASSERT_TRUE(tags.has_value());
  EXPECT_EQ(*tags, (std::vector<std::string>{"donor", "paris", "volunteer"}));
  EXPECT_TRUE(keeper_->tags(bytes("nobody"))->empty());

  auto unknown = keeper_->transact([&](KeeperTx& tx) { return tx.add_tags(bytes("nobody"), first, 10); });
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, Errc::not_found);
}

TEST_P(StoreContract, RemoveTags) {
  const auto s = supporter("s1", "e1", std::nullopt);
  ASSERT_TRUE(insert(*keeper_, s).has_value());
  const std::vector<std::string> all{"a", "b", "c"};
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.add_tags(s.id, all, 10); }).has_value());

  // "zz" is not carried: ignored. Visible inside the transaction at once.
  const std::vector<std::string> drop{"b", "zz"};
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    if (auto r = tx.remove_tags(s.id, drop); !r) return r;
    auto inside = tx.tags(s.id);
    if (!inside) return std::unexpected(inside.error());
    if (*inside != std::vector<std::string>{"a", "c"}) return fail(Errc::internal, "removal not visible");
    return {};
  }).has_value());
  EXPECT_EQ(*keeper_->tags(s.id), (std::vector<std::string>{"a", "c"}));

  // An unknown supporter is not an error and touches nobody else.
  EXPECT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.remove_tags(bytes("nobody"), all); }).has_value());
  EXPECT_EQ(*keeper_->tags(s.id), (std::vector<std::string>{"a", "c"}));

  // A rolled-back removal leaves the tags.
  auto rolled = keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    if (auto r = tx.remove_tags(s.id, all); !r) return r;
    return fail(Errc::internal, "roll back");
  });
  ASSERT_FALSE(rolled.has_value());
  EXPECT_EQ(*keeper_->tags(s.id), (std::vector<std::string>{"a", "c"}));
}

TEST_P(StoreContract, FindSupporterById) {
  const auto s = supporter("s1", "e1", "p1");
  ASSERT_TRUE(insert(*keeper_, s).has_value());
  auto found = keeper_->find_supporter(s.id);
  ASSERT_TRUE(found.has_value()) << found.error().internal;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, s);
  EXPECT_EQ(*keeper_->find_supporter(bytes("nobody")), std::nullopt);
}

// One supporter with its tags by e-mail index, phone index or id: the row
// as stored, the tags sorted (tags holding a comma or a control byte come
// back as they went in), none for an untagged one, nullopt for nobody;
// inside a transaction, that transaction's state.
TEST_P(StoreContract, FindListingReadsTheRowAndItsTags) {
  const auto a = supporter("s1", "e1", "p1");
  const auto b = supporter("s2", "e2", std::nullopt);
  ASSERT_TRUE(insert(*keeper_, a).has_value());
  ASSERT_TRUE(insert(*keeper_, b).has_value());
  const std::vector<std::string> tags{"zeta", "alpha", "a,b", std::string("x\x01y")};
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.add_tags(a.id, tags, 10); }).has_value());
  const std::vector<std::string> sorted{"a,b", "alpha", std::string("x\x01y"), "zeta"};

  for (auto found : {keeper_->find_listing_by_email_index(bytes("e1")),
                     keeper_->find_listing_by_phone_index(bytes("p1")), keeper_->find_listing(a.id)}) {
    ASSERT_TRUE(found.has_value()) << found.error().internal;
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->row, a);
    EXPECT_EQ((*found)->tags, sorted);
  }
  auto untagged = keeper_->find_listing_by_email_index(bytes("e2"));
  ASSERT_TRUE(untagged.has_value());
  ASSERT_TRUE(untagged->has_value());
  EXPECT_EQ((*untagged)->row, b);
  EXPECT_TRUE((*untagged)->tags.empty());
  EXPECT_EQ(*keeper_->find_listing_by_email_index(bytes("e9")), std::nullopt);
  EXPECT_EQ(*keeper_->find_listing_by_phone_index(bytes("p9")), std::nullopt);
  EXPECT_EQ(*keeper_->find_listing(bytes("nobody")), std::nullopt);

  // Inside a transaction it reads that transaction's writes.
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    const std::vector<std::string> more{"new"};
    if (auto r = tx.add_tags(b.id, more, 20); !r) return r;
    auto inside = keeper_->find_listing(b.id);
    if (!inside || !*inside) return fail(Errc::internal, "listing not found inside the transaction");
    if ((*inside)->tags != more) return fail(Errc::internal, "the transaction's tag is not visible");
    return {};
  }).has_value());
}

// Supporters created at `at`, ids "<prefix><n>" in three timestamps, so
// ties on created_at are broken by id.
std::vector<SupporterRow> seed_directory(KeeperStore& k, int n) {
  std::vector<SupporterRow> rows;
  for (int i = 0; i < n; ++i) {
    SupporterRow s = supporter("id-" + std::to_string(100 + i), "e" + std::to_string(i), std::nullopt);
    s.created_at = 1000 + i / 3;
    rows.push_back(s);
  }
  EXPECT_TRUE(k.transact([&](KeeperTx& tx) -> Result<void> {
    for (const auto& r : rows) {
      if (auto x = tx.insert_supporter(r); !x) return x;
    }
    return {};
  }).has_value());
  // Newest first: created_at descending, then id descending.
  std::sort(rows.begin(), rows.end(), [](const SupporterRow& a, const SupporterRow& b) {
    return a.created_at != b.created_at ? a.created_at > b.created_at : a.id > b.id;
  });
  return rows;
}

TEST_P(StoreContract, SupporterPagesWalkEveryRowOnceNewestFirst) {
  const auto expected = seed_directory(*keeper_, 23);
  for (std::size_t limit : {1u, 4u, 7u, 23u, 50u}) {
    std::vector<SupporterRow> seen;
    SupporterPageQuery q;
    q.limit = limit;
    for (int guard = 0; guard < 100; ++guard) {
      auto page = keeper_->supporter_page(q);
      ASSERT_TRUE(page.has_value()) << page.error().internal;
      EXPECT_EQ(page->total, 23);
      EXPECT_LE(page->items.size(), limit);
      for (const auto& it : page->items) {
        seen.push_back(it.row);
        EXPECT_TRUE(it.tags.empty());
      }
      if (page->items.size() < limit) break;
      q.after = SupporterPosition{page->items.back().row.created_at, page->items.back().row.id};
    }
    EXPECT_EQ(seen, expected) << "limit " << limit;
  }

  // A position between rows, and one past the oldest.
  SupporterPageQuery mid;
  mid.after = SupporterPosition{expected[4].created_at, expected[4].id};
  mid.limit = 2;
  auto p = keeper_->supporter_page(mid);
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->items.size(), 2u);
  EXPECT_EQ(p->items[0].row, expected[5]);
  EXPECT_EQ(p->items[1].row, expected[6]);
  SupporterPageQuery end;
  end.after = SupporterPosition{expected.back().created_at, expected.back().id};
  EXPECT_TRUE(keeper_->supporter_page(end)->items.empty());

  // Limit 0 still counts.
  SupporterPageQuery none;
  none.limit = 0;
  auto z = keeper_->supporter_page(none);
  ASSERT_TRUE(z.has_value());
  EXPECT_TRUE(z->items.empty());
  EXPECT_EQ(z->total, 23);
}

TEST_P(StoreContract, SupporterPagesByTagCarryTags) {
  const auto rows = seed_directory(*keeper_, 12);
  // Every third row (in newest-first order) is tagged "red"; all get "x,y"
  // (a comma inside a tag must survive the page's tag column).
  const std::vector<std::string> red{"red"};
  const std::vector<std::string> odd{"x,y", "\xc3\xa9t\xc3\xa9"};
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (auto r = tx.add_tags(rows[i].id, odd, 5); !r) return r;
      if (i % 3 == 0) {
        if (auto r = tx.add_tags(rows[i].id, red, 5); !r) return r;
      }
    }
    return {};
  }).has_value());

  std::vector<SupporterRow> seen;
  SupporterPageQuery q;
  q.tag = "red";
  q.limit = 3;
  for (int guard = 0; guard < 10; ++guard) {
    auto page = keeper_->supporter_page(q);
    ASSERT_TRUE(page.has_value()) << page.error().internal;
    EXPECT_EQ(page->total, 4);
    for (const auto& it : page->items) {
      seen.push_back(it.row);
      EXPECT_EQ(it.tags, (std::vector<std::string>{"red", "x,y", "\xc3\xa9t\xc3\xa9"}));
    }
    if (page->items.size() < q.limit) break;
    q.after = SupporterPosition{page->items.back().row.created_at, page->items.back().row.id};
  }
  EXPECT_EQ(seen, (std::vector<SupporterRow>{rows[0], rows[3], rows[6], rows[9]}));

  SupporterPageQuery all;
  all.limit = 100;
  auto everyone = keeper_->supporter_page(all);
  ASSERT_TRUE(everyone.has_value());
  ASSERT_EQ(everyone->items.size(), 12u);
  EXPECT_EQ(everyone->items[1].tags, (std::vector<std::string>{"x,y", "\xc3\xa9t\xc3\xa9"}));

  SupporterPageQuery unknown;
  unknown.tag = "nobody-has-it";
  auto u = keeper_->supporter_page(unknown);
  ASSERT_TRUE(u.has_value());
  EXPECT_TRUE(u->items.empty());
  EXPECT_EQ(u->total, 0);
}

TEST_P(StoreContract, SupporterPageReadsInsideATransaction) {
  seed_directory(*keeper_, 3);
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    if (auto r = tx.insert_supporter(supporter("new", "e-new", std::nullopt)); !r) return r;
    auto page = keeper_->supporter_page(SupporterPageQuery{});
    if (!page) return std::unexpected(page.error());
    if (page->total != 4 || page->items.size() != 4) return fail(Errc::internal, "the transaction's row is missing");
    return {};
  }).has_value());
}

// Reads inside one snapshot see the database as it was when the snapshot
// began, whatever another connection commits meanwhile; the next reads see
// the commit. A snapshot cannot write.
TEST_P(StoreContract, SnapshotReadsOneStateAndCannotWrite) {
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.insert_supporter(supporter("s1", "e1", std::nullopt)); })
                  .has_value());
  auto other = db_->open_keeper();
  ASSERT_TRUE(other.has_value()) << other.error().internal;
  std::int64_t first = -1, second = -1;
  std::optional<SupporterRow> late;
  auto r = keeper_->snapshot([&]() -> Result<void> {
    auto n = keeper_->count_supporters();
    if (!n) return std::unexpected(n.error());
    first = *n;
    auto w = (*other)->transact([&](KeeperTx& tx) { return tx.insert_supporter(supporter("s2", "e2", std::nullopt)); });
    if (!w) return w;
    auto m = keeper_->count_supporters();
    if (!m) return std::unexpected(m.error());
    second = *m;
    auto row = keeper_->find_supporter_by_email_index(bytes("e2"));
    if (!row) return std::unexpected(row.error());
    late = *row;
    return {};
  });
  ASSERT_TRUE(r.has_value()) << r.error().internal;
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 1);
  EXPECT_FALSE(late.has_value());
  EXPECT_EQ(*keeper_->count_supporters(), 2);
  EXPECT_TRUE((*keeper_->find_supporter_by_email_index(bytes("e2"))).has_value());

  auto nested = keeper_->snapshot([&]() -> Result<void> {
    return keeper_->transact([&](KeeperTx& tx) { return tx.insert_supporter(supporter("s3", "e3", std::nullopt)); });
  });
  ASSERT_FALSE(nested.has_value());
  EXPECT_EQ(nested.error().code, Errc::internal);
  EXPECT_EQ(*keeper_->count_supporters(), 2);
}

TEST_P(StoreContract, TagCounts) {
  EXPECT_TRUE(keeper_->tag_counts()->empty());
  const auto rows = seed_directory(*keeper_, 3);
  const std::vector<std::string> ab{"b", "a"};
  const std::vector<std::string> b{"b"};
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    if (auto r = tx.add_tags(rows[0].id, ab, 1); !r) return r;
    if (auto r = tx.add_tags(rows[1].id, b, 1); !r) return r;
    return tx.add_tags(rows[2].id, b, 1);
  }).has_value());
  auto counts = keeper_->tag_counts();
  ASSERT_TRUE(counts.has_value()) << counts.error().internal;
  EXPECT_EQ(*counts, (std::vector<TagCountRow>{{"a", 1}, {"b", 3}}));
}

// ---- Exfiltration guard -----------------------------------------------------------

Result<void> plant(KeeperStore& k, const Bytes& id, std::int64_t now = 500) {
  return k.transact([&](KeeperTx& tx) { return tx.insert_honeytoken(id, now, "operator:test"); });
}

TEST_P(StoreContract, InsertHoneytokenMarksOnlyThatSupporter) {
  const auto rows = seed_directory(*keeper_, 3);
  EXPECT_EQ(*keeper_->count_honeytokens(), 0);
  EXPECT_FALSE(*keeper_->is_honeytoken(rows[1].id));
  ASSERT_TRUE(plant(*keeper_, rows[1].id).has_value());
  EXPECT_EQ(*keeper_->count_honeytokens(), 1);
  EXPECT_TRUE(*keeper_->is_honeytoken(rows[1].id));
  EXPECT_FALSE(*keeper_->is_honeytoken(rows[0].id));
  EXPECT_FALSE(*keeper_->is_honeytoken(bytes("nobody")));
  // The transaction sees it too, before and after its own insert.
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto a = tx.is_honeytoken(rows[1].id);
    auto b = tx.is_honeytoken(rows[2].id);
    if (!a || !b) return fail(Errc::internal, "is_honeytoken failed");
    if (!*a || *b) return fail(Errc::internal, "wrong answer before the insert");
    if (auto r = tx.insert_honeytoken(rows[2].id, 600, "operator:test"); !r) return r;
    auto c = tx.is_honeytoken(rows[2].id);
    if (!c || !*c) return fail(Errc::internal, "own insert not seen");
    return {};
  }).has_value());
  EXPECT_EQ(*keeper_->count_honeytokens(), 2);
  // count_supporters still counts every row.
  EXPECT_EQ(*keeper_->count_supporters(), 3);
}

TEST_P(StoreContract, InsertHoneytokenErrors) {
  const auto rows = seed_directory(*keeper_, 1);
  auto missing = plant(*keeper_, bytes("nobody"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  ASSERT_TRUE(plant(*keeper_, rows[0].id).has_value());
  auto again = plant(*keeper_, rows[0].id, 700);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, Errc::conflict);
  EXPECT_EQ(*keeper_->count_honeytokens(), 1);
  // A failed transaction plants nothing.
  const auto other = supporter("other", "e-other", std::nullopt);
  ASSERT_TRUE(insert(*keeper_, other).has_value());
  auto rolled = keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    if (auto r = tx.insert_honeytoken(other.id, 1, "operator:test"); !r) return r;
    return fail(Errc::internal, "abort");
  });
  ASSERT_FALSE(rolled.has_value());
  EXPECT_EQ(rolled.error().code, Errc::internal);
  EXPECT_FALSE(*keeper_->is_honeytoken(other.id));
}

TEST_P(StoreContract, HoneytokensAreListedButNotCounted) {
  const auto rows = seed_directory(*keeper_, 9);
  const std::vector<std::string> red{"red"};
  const std::vector<std::string> decoy_only{"decoy-only"};
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    for (std::size_t i = 0; i < rows.size(); i += 2) {
      if (auto r = tx.add_tags(rows[i].id, red, 5); !r) return r;  // rows 0 2 4 6 8
    }
    if (auto r = tx.add_tags(rows[3].id, decoy_only, 5); !r) return r;
    if (auto r = tx.insert_honeytoken(rows[2].id, 9, "operator:test"); !r) return r;
    return tx.insert_honeytoken(rows[3].id, 9, "operator:test");
  }).has_value());

  SupporterPageQuery all;
  all.limit = 100;
  auto page = keeper_->supporter_page(all);
  ASSERT_TRUE(page.has_value()) << page.error().internal;
  EXPECT_EQ(page->total, 7);
  ASSERT_EQ(page->items.size(), 9u);  // in their place, in the usual order
  for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(page->items[i].row, rows[i]);

  SupporterPageQuery tagged;
  tagged.tag = "red";
  tagged.limit = 100;
  auto t = keeper_->supporter_page(tagged);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->total, 4);
  EXPECT_EQ(t->items.size(), 5u);

  SupporterPageQuery none;
  none.limit = 0;
  EXPECT_EQ(keeper_->supporter_page(none)->total, 7);

  auto counts = keeper_->tag_counts();
  ASSERT_TRUE(counts.has_value()) << counts.error().internal;
  EXPECT_EQ(*counts, (std::vector<TagCountRow>{{"red", 4}}));
  EXPECT_EQ(*keeper_->count_supporters(), 9);
  EXPECT_EQ(*keeper_->count_honeytokens(), 2);
}

TEST_P(StoreContract, GuardCounters) {
  EXPECT_EQ(*keeper_->counter("account:a", "reveal", 3600), 0);
  auto add = [&](const std::string& actor, const std::string& kind, std::int64_t w, std::int64_t d) {
    std::int64_t got = -1;
    EXPECT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
      auto n = tx.add_to_counter(actor, kind, w, d);
      if (!n) return std::unexpected(n.error());
      got = *n;
      return {};
    }).has_value());
    return got;
  };
  EXPECT_EQ(add("account:a", "reveal", 3600, 1), 1);
  EXPECT_EQ(add("account:a", "reveal", 3600, 4), 5);
  EXPECT_EQ(add("account:a", "search", 3600, 2), 2);
  EXPECT_EQ(add("account:b", "reveal", 3600, 7), 7);
  EXPECT_EQ(add("account:a", "reveal", 7200, 3), 3);
  EXPECT_EQ(*keeper_->counter("account:a", "reveal", 3600), 5);
  EXPECT_EQ(*keeper_->counter("account:a", "search", 3600), 2);
  EXPECT_EQ(*keeper_->counter("account:b", "reveal", 3600), 7);
  EXPECT_EQ(*keeper_->counter("account:a", "reveal", 7200), 3);
  EXPECT_EQ(*keeper_->counter("account:a", "reveal", 0), 0);

  // Rolled back with its transaction.
  auto rolled = keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    if (auto n = tx.add_to_counter("account:a", "reveal", 3600, 100); !n) return std::unexpected(n.error());
    return fail(Errc::internal, "abort");
  });
  ASSERT_FALSE(rolled.has_value());
  EXPECT_EQ(*keeper_->counter("account:a", "reveal", 3600), 5);

  std::int64_t deleted = -1;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto n = tx.delete_counters_before(7200);
    if (!n) return std::unexpected(n.error());
    deleted = *n;
    return {};
  }).has_value());
  EXPECT_EQ(deleted, 3);  // the three counters of window 3600
  EXPECT_EQ(*keeper_->counter("account:a", "reveal", 3600), 0);
  EXPECT_EQ(*keeper_->counter("account:a", "reveal", 7200), 3);
  EXPECT_EQ(add("account:a", "reveal", 3600, 1), 1);  // starts afresh

  // One actor's counters, every window, and no one else's.
  EXPECT_EQ(add("account:b", "reveal", 7200, 2), 2);
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto n = tx.delete_counters_of("account:a");
    if (!n) return std::unexpected(n.error());
    deleted = *n;
    return {};
  }).has_value());
  EXPECT_EQ(deleted, 2);  // reveal at 3600 and at 7200
  EXPECT_EQ(*keeper_->counter("account:a", "reveal", 7200), 0);
  EXPECT_EQ(*keeper_->counter("account:a", "reveal", 3600), 0);
  EXPECT_EQ(*keeper_->counter("account:b", "reveal", 7200), 2);
}

TEST_P(StoreContract, RemovingItemsDeletesTheBatchesTheyEmpty) {
  const std::vector<BatchRow> batches{batch_row("b1"), batch_row("b2"), batch_row("b3")};
  const std::vector<InboxRow> items{item("b1", "i1"), item("b1", "i2"), item("b2", "i3")};
  ASSERT_TRUE(intake_->append(batches, items).has_value());

  auto peeked = inbox_->peek(10, 0);
  ASSERT_TRUE(peeked.has_value());
  const std::int64_t b2_item = (*peeked)[2].id;
  // Only the batches named are visited while items are left: b1 still has
  // items, b2 is emptied, b3 (never used) is not named.
  const std::vector<Bytes> named{bytes("b1"), bytes("b2"), bytes("nope")};
  EXPECT_EQ(*inbox_->remove(std::span(&b2_item, 1), named), 1);
  EXPECT_TRUE(inbox_->batch(bytes("b1"))->has_value());
  EXPECT_FALSE(inbox_->batch(bytes("b2"))->has_value());
  EXPECT_TRUE(inbox_->batch(bytes("b3"))->has_value());

  // The intake side re-sends a batch with every append, so a batch deleted
  // meanwhile comes back with its new items.
  const std::vector<BatchRow> b2{batch_row("b2")};
  const std::vector<InboxRow> more{item("b2", "i4")};
  EXPECT_TRUE(intake_->append(b2, more).has_value());
  EXPECT_TRUE(inbox_->batch(bytes("b2"))->has_value());

  // Once the inbox is empty, every batch goes, named or not.
  std::vector<std::int64_t> all;
  auto left = inbox_->peek(10, 0);
  ASSERT_TRUE(left.has_value());
  for (const auto& row : *left) all.push_back(row.id);
  EXPECT_EQ(*inbox_->remove(all, {}), 3);
  EXPECT_FALSE(inbox_->batch(bytes("b1"))->has_value());
  EXPECT_FALSE(inbox_->batch(bytes("b2"))->has_value());
  EXPECT_FALSE(inbox_->batch(bytes("b3"))->has_value());
}

// N keepers appending to the audit log at once, each reading the head and
// linking to it in one transaction: the backend serialises them, so every
// append succeeds and the chain never forks.
TEST_P(StoreContract, ConcurrentAuditAppendsKeepOneChain) {
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto st = db_->open_keeper();
      if (!st) {
        ++failures;
        return;
      }
      for (int i = 0; i < kEach; ++i) {
        auto r = (*st)->transact([&](KeeperTx& tx) -> Result<void> {
          auto head = tx.audit_head();
          if (!head) return std::unexpected(head.error());
          AuditEntryRow row;
          row.seq = *head ? (*head)->seq + 1 : 1;
          row.at = row.seq;
          row.actor = "keeper-" + std::to_string(t);
          row.action = "test.append";
          row.details = "{}";
          row.prev_hash = *head ? (*head)->hash : Bytes(32, 0);
          row.hash = bytes("h" + std::to_string(row.seq));
          row.mac = bytes("m");
          return tx.append_audit_entry(row);
        });
        if (!r) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::int64_t n = 0;
  Bytes prev(32, 0);
  ASSERT_TRUE(keeper_->scan_audit(1, [&](const AuditEntryRow& r) {
    ++n;
    EXPECT_EQ(r.seq, n);
    EXPECT_EQ(r.prev_hash, prev);
    prev = r.hash;
    return true;
  }).has_value());
  EXPECT_EQ(n, kThreads * kEach);
}

// The newest entries matching a filter, newest first, at most the limit:
// the reverse of scan_audit_filtered's order, for each index it may use.
TEST_P(StoreContract, NewestAuditEntriesAreTheFilteredScanReversed) {
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    Bytes prev(32, 0);
    for (int i = 1; i <= 30; ++i) {
      AuditEntryRow row;
      row.seq = i;
      row.at = 1000 + i;
      row.actor = i % 3 == 0 ? "alice" : "bob";
      row.action = i % 2 == 0 ? "supporter.reveal" : "supporter.list";
      row.subject = i % 5 == 0 ? "s5" : "";
      row.details = "{}";
      row.prev_hash = prev;
      row.hash = bytes("h" + std::to_string(i));
      row.mac = bytes("m");
      if (auto r = tx.append_audit_entry(row); !r) return r;
      prev = row.hash;
    }
    return {};
  }).has_value());
  auto seqs = [&](const AuditFilter& f, std::optional<std::size_t> limit) {
    std::vector<std::int64_t> out;
    auto visit = [&](const AuditEntryRow& r) {
      out.push_back(r.seq);
      return true;
    };
    EXPECT_TRUE(limit ? keeper_->scan_audit_newest(f, *limit, visit) : keeper_->scan_audit_filtered(f, visit));
    return out;
  };
  AuditFilter by_actor;
  by_actor.actor = "alice";
  AuditFilter by_action;
  by_action.action = "supporter.reveal";
  AuditFilter by_subject;
  by_subject.subject = "s5";
  AuditFilter window;
  window.since = 1005;
  window.until = 1025;
  for (const AuditFilter& f : {AuditFilter{}, by_actor, by_action, by_subject, window}) {
    auto all = seqs(f, std::nullopt);
    std::reverse(all.begin(), all.end());
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(seqs(f, 1000), all);
    const std::vector<std::int64_t> first3(all.begin(), all.begin() + std::min<std::size_t>(3, all.size()));
    EXPECT_EQ(seqs(f, 3), first3);
    EXPECT_TRUE(seqs(f, 0).empty());
  }
  EXPECT_EQ(seqs(by_actor, 2), (std::vector<std::int64_t>{30, 27}));
}

// The intake writer and the keeper's folding loop run at once on the same
// inbox, as they do in one process.
TEST_P(StoreContract, IntakeAndKeeperConcurrently) {
  constexpr int kAppends = 30;
  constexpr int kPerAppend = 4;
  constexpr int kTotal = kAppends * kPerAppend;
  std::atomic<bool> intake_failed{false};
  std::string intake_error;

  std::thread writer([&] {
    for (int a = 0; a < kAppends; ++a) {
      const std::string b = "batch-" + std::to_string(a);
      const std::vector<BatchRow> batches{batch_row(b)};
      std::vector<InboxRow> items;
      for (int i = 0; i < kPerAppend; ++i) items.push_back(item(b, b + "-item-" + std::to_string(i)));
      if (auto r = intake_->append(batches, items); !r) {
        intake_error = r.error().internal;
        intake_failed = true;
        return;
      }
    }
  });

  int folded = 0;
  std::string keeper_error;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (folded < kTotal && std::chrono::steady_clock::now() < deadline && keeper_error.empty()) {
    auto peeked = inbox_->peek(8, 0);
    if (!peeked) {
      keeper_error = peeked.error().internal;
      break;
    }
    if (peeked->empty()) {
      if (intake_failed) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    auto r = keeper_->transact([&](KeeperTx& tx) -> Result<void> {
      for (const InboxRow& row : *peeked) {
        SupporterRow s;
        s.id = row.item_uid;
        s.wrapped_key = row.wrapped_key;
        s.fields = row.fields;
        s.email_index = row.item_uid;
        if (auto x = tx.insert_supporter(s); !x) return x;
        auto f = tx.record_folded(row.item_uid, 1);
        if (!f) return std::unexpected(f.error());
      }
      return {};
    });
    if (!r) {
      keeper_error = r.error().internal;
      break;
    }
    std::vector<std::int64_t> ids;
    for (const InboxRow& row : *peeked) ids.push_back(row.id);
    if (auto gone = inbox_->remove(ids, {}); !gone) {
      keeper_error = gone.error().internal;
      break;
    }
    folded += static_cast<int>(peeked->size());
  }
  writer.join();

  EXPECT_FALSE(intake_failed) << intake_error;
  EXPECT_TRUE(keeper_error.empty()) << keeper_error;
  EXPECT_EQ(folded, kTotal);
  EXPECT_EQ(*keeper_->count_supporters(), kTotal);
  EXPECT_EQ(*inbox_->count(), 0);
}


// ---- Exports (migration 0006).

AccountRow account_row(const std::string& id, const std::string& name) {
  AccountRow a;
  a.id = bytes(id);
  a.name = name;
  a.role = "organiser";
  a.password_hash = "hash";
  a.totp_sealed = bytes("sealed");
  a.created_at = a.updated_at = 10;
  return a;
}

TEST_P(StoreContract, ExportPublicKeyIsSetReadAndCleared) {
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.insert_account(account_row("acct-1", "alice")); }));
  std::optional<Bytes> key;
  auto read = [&]() {
    return keeper_->transact([&](KeeperTx& tx) -> Result<void> {
      auto k = tx.export_public_key(bytes("acct-1"));
      if (!k) return std::unexpected(k.error());
      key = *k;
      return {};
    });
  };
  ASSERT_TRUE(read());
  EXPECT_EQ(key, std::nullopt);  // older accounts have none
  ASSERT_TRUE(keeper_->transact(
      [&](KeeperTx& tx) { return tx.set_export_public_key(bytes("acct-1"), bytes("public-key")); }));
  ASSERT_TRUE(read());
  EXPECT_EQ(key, bytes("public-key"));
  // The key survives an update of the account's other columns.
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto a = account_row("acct-1", "alice");
    a.failures = 2;
    return tx.update_account(a);
  }));
  ASSERT_TRUE(read());
  EXPECT_EQ(key, bytes("public-key"));
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.set_export_public_key(bytes("acct-1"), std::nullopt); }));
  ASSERT_TRUE(read());
  EXPECT_EQ(key, std::nullopt);

  auto missing = keeper_->transact([&](KeeperTx& tx) { return tx.set_export_public_key(bytes("nobody"), bytes("k")); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
  auto missing_read = keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto k = tx.export_public_key(bytes("nobody"));
    if (!k) return std::unexpected(k.error());
    return {};
  });
  ASSERT_FALSE(missing_read);
  EXPECT_EQ(missing_read.error().code, Errc::not_found);
}

// ---- Privilege requests, sponsors, raised budgets, enrolment (migration 0009).

TEST_P(StoreContract, AccountEnrolmentColumnsRoundTripAndFindByEnrolHash) {
  AccountRow a = account_row("acct-1", "alice");
  a.state = "enrolling";
  a.created_by = "account:0102";
  a.admin_since = 42;
  a.enrol_hash = bytes("enrol-hash");
  a.enrol_expires_at = 99;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.insert_account(a); }));
  std::optional<AccountRow> got;
  auto by_hash = [&](const Bytes& h) {
    return keeper_->transact([&](KeeperTx& tx) -> Result<void> {
      auto r = tx.find_account_by_enrol_hash(h);
      if (!r) return std::unexpected(r.error());
      got = *r;
      return {};
    });
  };
  ASSERT_TRUE(by_hash(bytes("enrol-hash")));
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, a);
  ASSERT_TRUE(by_hash(bytes("other")));
  EXPECT_FALSE(got);
  // Enrolled: the hash is cleared, the account active, no longer found by it.
  a.state = "active";
  a.enrol_hash.reset();
  a.admin_since.reset();
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.update_account(a); }));
  ASSERT_TRUE(by_hash(bytes("enrol-hash")));
  EXPECT_FALSE(got);
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto r = tx.find_account(bytes("acct-1"));
    if (!r) return std::unexpected(r.error());
    got = *r;
    return {};
  }));
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, a);
  // Two accounts cannot share an enrolment hash.
  AccountRow b = account_row("acct-2", "bob");
  b.enrol_hash = bytes("same");
  AccountRow c = account_row("acct-3", "carol");
  c.enrol_hash = bytes("same");
  auto dup = keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    if (auto r = tx.insert_account(b); !r) return r;
    return tx.insert_account(c);
  });
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::conflict);
}

// ---- Lock details (migration 0012).

TEST_P(StoreContract, AccountLockDetailsRoundTripAndClear) {
  const auto find = [&](const std::string& id) {
    std::optional<AccountRow> got;
    EXPECT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
      auto r = tx.find_account(bytes(id));
      if (!r) return std::unexpected(r.error());
      got = *r;
      return {};
    }));
    return got;
  };
  // An account made unlocked has no lock details.
  AccountRow a = account_row("acct-1", "alice");
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.insert_account(a); }));
  auto got = find("acct-1");
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->locked_at);
  EXPECT_EQ(got->lock_detail, "");
  // Locked by an update: the reason, the time and the detail come back as written.
  a.locked = true;
  a.lock_reason = "guard: reveal_budget";
  a.locked_at = 1700000000;
  a.lock_detail = R"({"counted":"email","limit":20,"window":"hour"})";
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.update_account(a); }));
  got = find("acct-1");
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, a);
  // In the list of every account too.
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto all = tx.accounts();
    if (!all) return std::unexpected(all.error());
    EXPECT_EQ(all->size(), 1u);
    if (!all->empty()) {
      EXPECT_EQ(all->front(), a);
    }
    return {};
  }));
  // Unlocked: cleared.
  a.locked = false;
  a.lock_reason.clear();
  a.locked_at.reset();
  a.lock_detail.clear();
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.update_account(a); }));
  got = find("acct-1");
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, a);
  // Inserted locked (an import of accounts, a test): kept as well.
  AccountRow b = account_row("acct-2", "bob");
  b.locked = true;
  b.lock_reason = "too many failed logins";
  b.locked_at = 5;
  b.lock_detail = R"({"failures":10})";
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.insert_account(b); }));
  got = find("acct-2");
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, b);
}

TEST_P(StoreContract, TokensOfOneCreatorAreRevokedTogether) {
  const auto token = [](const std::string& label, const std::string& by) {
    return ApiTokenRow{0, label, "reveal", "rmp_x", bytes("hash-" + label), by, 10, 1000, std::nullopt};
  };
  std::int64_t revoked = -1;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    for (const auto& t : {token("a", "account:aa"), token("b", "account:aa"), token("c", "account:bb")}) {
      if (auto id = tx.insert_api_token(t); !id) return std::unexpected(id.error());
    }
    auto n = tx.revoke_api_tokens_of("account:aa", 50);
    if (!n) return std::unexpected(n.error());
    revoked = *n;
    return {};
  }));
  EXPECT_EQ(revoked, 2);
  std::vector<ApiTokenRow> all;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto l = tx.api_tokens();
    if (!l) return std::unexpected(l.error());
    all = *l;
    auto again = tx.revoke_api_tokens_of("account:aa", 60);
    if (!again) return std::unexpected(again.error());
    revoked = *again;
    return {};
  }));
  EXPECT_EQ(revoked, 0) << "already revoked ones are left as they are";
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].revoked_at, 50);
  EXPECT_EQ(all[1].revoked_at, 50);
  EXPECT_EQ(all[2].revoked_at, std::nullopt);
}

TEST_P(StoreContract, SponsorsArePairsAndRepeatsAreNoErrors) {
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    if (auto r = tx.insert_account(account_row("acct-1", "alice")); !r) return r;
    if (auto r = tx.insert_sponsor(bytes("acct-1"), bytes("acct-9")); !r) return r;
    return tx.insert_sponsor(bytes("acct-1"), bytes("acct-9"));
  }));
  bool yes = false, no = true, reverse = true;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto a = tx.is_sponsor(bytes("acct-1"), bytes("acct-9"));
    auto b = tx.is_sponsor(bytes("acct-1"), bytes("acct-8"));
    auto c = tx.is_sponsor(bytes("acct-9"), bytes("acct-1"));
    if (!a || !b || !c) return fail(Errc::internal, "read");
    yes = *a;
    no = *b;
    reverse = *c;
    return {};
  }));
  EXPECT_TRUE(yes);
  EXPECT_FALSE(no);
  EXPECT_FALSE(reverse);
}

TEST_P(StoreContract, PrivilegeRequestsRoundTripNewestFirstAndUpdate) {
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.insert_account(account_row("acct-1", "alice")); }));
  PrivilegeRequestRow r1{0, "create_account", bytes("acct-1"), "newbie", R"({"role":"viewer"})", bytes("h1"),
                         "pending", 100, 200, std::nullopt, std::nullopt};
  PrivilegeRequestRow r2{0, "unlock", bytes("acct-1"), "bob", R"({"reason":"x"})", std::nullopt, "pending", 101, 201,
                         std::nullopt, std::nullopt};
  std::int64_t id1 = 0, id2 = 0;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto a = tx.insert_privilege_request(r1);
    auto b = tx.insert_privilege_request(r2);
    if (!a || !b) return fail(Errc::internal, "insert");
    id1 = *a;
    id2 = *b;
    return {};
  }));
  EXPECT_NE(id1, id2);
  r1.id = id1;
  r2.id = id2;
  std::vector<PrivilegeRequestRow> all;
  std::optional<PrivilegeRequestRow> one;
  auto read = [&] {
    return keeper_->transact([&](KeeperTx& tx) -> Result<void> {
      auto l = tx.privilege_requests(10);
      auto f = tx.find_privilege_request(id1);
      if (!l || !f) return fail(Errc::internal, "read");
      all = *l;
      one = *f;
      return {};
    });
  };
  ASSERT_TRUE(read());
  EXPECT_EQ(all, (std::vector<PrivilegeRequestRow>{r2, r1}));
  EXPECT_EQ(one, r1);
  r1.status = "approved";
  r1.decided_by = bytes("acct-2");
  r1.decided_at = 150;
  r1.target = "ignored";  // only the decision's columns change
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.update_privilege_request(r1); }));
  ASSERT_TRUE(read());
  r1.target = "newbie";
  EXPECT_EQ(one, r1);
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto l = tx.privilege_requests(1);
    if (!l) return std::unexpected(l.error());
    all = *l;
    return {};
  }));
  EXPECT_EQ(all.size(), 1u);
  PrivilegeRequestRow ghost = r1;
  ghost.id = id2 + 100;
  auto missing = keeper_->transact([&](KeeperTx& tx) { return tx.update_privilege_request(ghost); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
}

TEST_P(StoreContract, RaisedBudgetsAreKeptPerAccountAndKind) {
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.insert_account(account_row("acct-1", "alice")); }));
  const AccountBudgetRow email{bytes("acct-1"), "email", 0, 40, 80, 1000};
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.put_account_budget(email); }));
  std::optional<AccountBudgetRow> got, none;
  auto read = [&] {
    return keeper_->transact([&](KeeperTx& tx) -> Result<void> {
      auto a = tx.account_budget(bytes("acct-1"), "email");
      auto b = tx.account_budget(bytes("acct-1"), "phone");
      if (!a || !b) return fail(Errc::internal, "read");
      got = *a;
      none = *b;
      return {};
    });
  };
  ASSERT_TRUE(read());
  EXPECT_EQ(got, email);
  EXPECT_FALSE(none);
  const AccountBudgetRow again{bytes("acct-1"), "email", 5, 50, 90, 2000};
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.put_account_budget(again); }));
  ASSERT_TRUE(read());
  EXPECT_EQ(got, again);
}

TEST_P(StoreContract, ExportsRoundTripAndUpdate) {
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    if (auto r = tx.insert_account(account_row("acct-1", "alice")); !r) return r;
    return tx.insert_account(account_row("acct-2", "bob"));
  }));
  ExportRow e;
  e.requester_id = bytes("acct-1");
  e.tag = "volunteers";
  e.fields = "name,email";
  e.reason = "mailing";
  e.status = "pending";
  e.created_at = 100;
  e.expires_at = 200;
  std::int64_t id1 = 0, id2 = 0;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto a = tx.insert_export(e);
    if (!a) return std::unexpected(a.error());
    id1 = *a;
    ExportRow other = e;
    other.requester_id = bytes("acct-2");
    other.tag.clear();
    other.segment = "rhone-donors";  // by segment (migration 0018)
    auto b = tx.insert_export(other);
    if (!b) return std::unexpected(b.error());
    id2 = *b;
    return {};
  }));
  EXPECT_LT(id1, id2);
  std::optional<ExportRow> found;
  std::vector<ExportRow> all, mine;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto f = tx.find_export(id1);
    if (!f) return std::unexpected(f.error());
    found = *f;
    auto a = tx.exports(std::nullopt);
    if (!a) return std::unexpected(a.error());
    all = *a;
    auto m = tx.exports(bytes("acct-1"));
    if (!m) return std::unexpected(m.error());
    mine = *m;
    auto none = tx.find_export(id2 + 100);
    if (!none) return std::unexpected(none.error());
    if (*none) return fail(Errc::internal, "found an export that does not exist");
    return {};
  }));
  ASSERT_TRUE(found.has_value());
  ExportRow expected = e;
  expected.id = id1;
  EXPECT_EQ(*found, expected);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, id2);  // newest first
  EXPECT_EQ(all[0].segment, "rhone-donors");
  EXPECT_EQ(all[0].tag, "");
  EXPECT_EQ(all[1].segment, "");
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].id, id1);

  expected.status = "approved";
  expected.approver_id = bytes("acct-2");
  expected.approved_at = 150;
  expected.rows = 42;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.update_export(expected); }));
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto f = tx.find_export(id1);
    if (!f) return std::unexpected(f.error());
    found = *f;
    return {};
  }));
  EXPECT_EQ(*found, expected);

  ExportRow ghost = expected;
  ghost.id = id2 + 100;
  auto missing = keeper_->transact([&](KeeperTx& tx) { return tx.update_export(ghost); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
  ExportRow bad_status = expected;
  bad_status.status = "stolen";
  EXPECT_FALSE(keeper_->transact([&](KeeperTx& tx) { return tx.update_export(bad_status); }));
  ExportRow orphan = e;
  orphan.requester_id = bytes("nobody");
  auto refused = keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto r = tx.insert_export(orphan);
    if (!r) return std::unexpected(r.error());
    return {};
  });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::invalid_input);
}

TEST_P(StoreContract, ScanRealSupportersLeavesHoneytokensOutAndFiltersByTag) {
  std::vector<SupporterRow> rows;
  for (int i = 0; i < 5; ++i) {
    auto s = supporter("s" + std::to_string(i), std::nullopt, std::nullopt);
    s.created_at = 100 + i;
    rows.push_back(s);
    ASSERT_TRUE(insert(*keeper_, s));
  }
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    const std::vector<std::string> tag{"t"};
    if (auto r = tx.add_tags(rows[1].id, tag, 1); !r) return r;
    if (auto r = tx.add_tags(rows[2].id, tag, 1); !r) return r;
    if (auto r = tx.add_tags(rows[3].id, tag, 1); !r) return r;
    return tx.insert_honeytoken(rows[2].id, 1, "operator:test");
  }));
  auto scan = [&](const std::string& tag) {
    std::vector<Bytes> ids;
    auto r = keeper_->transact([&](KeeperTx& tx) {
      return tx.scan_real_supporters(tag, [&](const SupporterRow& row) {
        ids.push_back(row.id);
        return true;
      });
    });
    EXPECT_TRUE(r);
    return ids;
  };
  EXPECT_EQ(scan(""), (std::vector<Bytes>{rows[0].id, rows[1].id, rows[3].id, rows[4].id}));
  EXPECT_EQ(scan("t"), (std::vector<Bytes>{rows[1].id, rows[3].id}));
  EXPECT_TRUE(scan("none").empty());
  // Stopping early.
  std::size_t seen = 0;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) {
    return tx.scan_real_supporters("", [&](const SupporterRow&) { return ++seen < 2; });
  }));
  EXPECT_EQ(seen, 2u);
}

TEST_P(StoreContract, CanariesAreFoundByBlindIndex) {
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.insert_account(account_row("acct-1", "alice")); }));
  std::int64_t id = 0;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    ExportRow e;
    e.requester_id = bytes("acct-1");
    e.fields = "email";
    e.reason = "r";
    e.status = "pending";
    auto a = tx.insert_export(e);
    if (!a) return std::unexpected(a.error());
    id = *a;
    return {};
  }));
  const CanaryRow c{bytes("index-1"), 2, "email", id};
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.insert_canary(c); }));
  std::optional<CanaryRow> found, missing;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto f = tx.find_canary(bytes("index-1"));
    if (!f) return std::unexpected(f.error());
    found = *f;
    auto m = tx.find_canary(bytes("index-2"));
    if (!m) return std::unexpected(m.error());
    missing = *m;
    return {};
  }));
  EXPECT_EQ(found, c);
  EXPECT_EQ(missing, std::nullopt);
  auto dup = keeper_->transact([&](KeeperTx& tx) { return tx.insert_canary(c); });
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::conflict);
  auto orphan = keeper_->transact([&](KeeperTx& tx) { return tx.insert_canary(CanaryRow{bytes("i3"), 1, "phone", id + 9}); });
  ASSERT_FALSE(orphan);
  EXPECT_EQ(orphan.error().code, Errc::invalid_input);
}

TEST_P(StoreContract, NotesRoundTripNewestFirstAndNeedTheirSupporter) {
  ASSERT_TRUE(insert(*keeper_, supporter("s1", "e1", std::nullopt)));
  const NoteRow a{bytes("note-a"), bytes("s1"), "note", bytes("sealed-a"), "account:aa", 10};
  const NoteRow b{bytes("note-b"), bytes("s1"), "called", bytes("sealed-b"), "account:bb", 20};
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    if (auto r = tx.insert_note(a); !r) return r;
    return tx.insert_note(b);
  }));
  std::vector<NoteRow> got;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto n = tx.notes_of(bytes("s1"), 10);
    if (!n) return std::unexpected(n.error());
    got = std::move(*n);
    return {};
  }));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], b);
  EXPECT_EQ(got[1], a);

  auto dup = keeper_->transact([&](KeeperTx& tx) { return tx.insert_note(a); });
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::conflict);
  NoteRow orphan = a;
  orphan.id = bytes("note-c");
  orphan.supporter_id = bytes("nobody");
  auto none = keeper_->transact([&](KeeperTx& tx) { return tx.insert_note(orphan); });
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::not_found);
  NoteRow odd = a;
  odd.id = bytes("note-d");
  odd.kind = "gossip";
  auto refused = keeper_->transact([&](KeeperTx& tx) { return tx.insert_note(odd); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::invalid_input);
}

TEST_P(StoreContract, ErasureDeletesTheRecordAndEverythingReferringToIt) {
  ASSERT_TRUE(insert(*keeper_, supporter("s1", "e1", "p1")));
  ASSERT_TRUE(insert(*keeper_, supporter("s2", "e2", "p2")));
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    for (const char* id : {"s1", "s2"}) {
      const std::vector<std::string> tags{"t"};
      if (auto r = tx.add_tags(bytes(id), tags, 5); !r) return r;
      if (auto r = tx.append_consent_event(bytes(id), ConsentEventRow{"email", "yes", 5, "signup"}); !r) return r;
      if (auto r = tx.insert_note(NoteRow{bytes(std::string("n-") + id), bytes(id), "note", bytes("x"), "a", 5}); !r)
        return r;
    }
    return tx.insert_honeytoken(bytes("s1"), 5, "operator:test");
  }));
  bool erased = false;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto e = tx.erase_supporter(bytes("s1"));
    if (!e) return std::unexpected(e.error());
    erased = *e;
    return {};
  }));
  EXPECT_TRUE(erased);
  auto gone = keeper_->find_supporter(bytes("s1"));
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone);
  auto by_email = keeper_->find_supporter_by_email_index(bytes("e1"));
  ASSERT_TRUE(by_email);
  EXPECT_FALSE(*by_email);
  auto events = keeper_->consent_events(bytes("s1"));
  ASSERT_TRUE(events);
  EXPECT_TRUE(events->empty());
  auto tags = keeper_->tags(bytes("s1"));
  ASSERT_TRUE(tags);
  EXPECT_TRUE(tags->empty());
  auto honey = keeper_->count_honeytokens();
  ASSERT_TRUE(honey);
  EXPECT_EQ(*honey, 0);
  std::size_t notes_left = 99, other_notes = 0;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto n = tx.notes_of(bytes("s1"), 10);
    if (!n) return std::unexpected(n.error());
    notes_left = n->size();
    auto o = tx.notes_of(bytes("s2"), 10);
    if (!o) return std::unexpected(o.error());
    other_notes = o->size();
    return {};
  }));
  EXPECT_EQ(notes_left, 0u);
  EXPECT_EQ(other_notes, 1u);
  auto other = keeper_->tags(bytes("s2"));
  ASSERT_TRUE(other);
  EXPECT_EQ(other->size(), 1u);

  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto e = tx.erase_supporter(bytes("s1"));
    if (!e) return std::unexpected(e.error());
    erased = *e;
    return {};
  }));
  EXPECT_FALSE(erased);
}

// However many tags are added, a record keeps at most kMaxTagsPerRecord
// (the first ones); a tag it has stays, and a missing record is not_found.
TEST_P(StoreContract, TagsStopAtTheRecordsMost) {
  const auto a = supporter("tags-a", "tga", std::nullopt);
  std::vector<std::string> many;
  for (std::int64_t i = 0; i < kMaxTagsPerRecord + 10; ++i) many.push_back("t" + std::to_string(1000 + i));
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    if (auto r = tx.insert_supporter(a); !r) return r;
    if (auto r = tx.add_tags(a.id, std::span(many).first(5), 1); !r) return r;
    return tx.add_tags(a.id, many, 2);
  }).has_value());
  auto tags = keeper_->tags(a.id);
  ASSERT_TRUE(tags);
  ASSERT_EQ(static_cast<std::int64_t>(tags->size()), kMaxTagsPerRecord);
  EXPECT_EQ(tags->front(), "t1000");
  EXPECT_EQ(tags->back(), "t" + std::to_string(1000 + kMaxTagsPerRecord - 1));
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    return tx.add_tags(a.id, std::vector<std::string>{"t1003", "late"}, 3);
  }).has_value());
  EXPECT_EQ(static_cast<std::int64_t>(keeper_->tags(a.id)->size()), kMaxTagsPerRecord);
  auto missing = keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    return tx.add_tags(bytes("no-such-record"), std::vector<std::string>{"x"}, 3);
  });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
}

// A rewrap walks the records below a version by id, resumably, and
// replaces a wrapped key only while it is still the one it read: an edit
// in between wins. The fields and updated_at are left alone. key_usage and
// the inbox count what depends on each version.
TEST_P(StoreContract, ARewrapReplacesOnlyTheWrappedKeysItRead) {
  std::vector<SupporterRow> rows;
  for (int i = 0; i < 5; ++i) {
    auto r = supporter("rw-" + std::to_string(i), std::nullopt, std::nullopt);
    r.key_version = i < 4 ? 3 : 5;
    rows.push_back(r);
  }
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    for (const auto& r : rows) {
      if (auto ok = tx.insert_supporter(r); !ok) return ok;
    }
    return {};
  }).has_value());
  std::vector<WrappedKeyRow> first, second, none;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto a = tx.records_to_rewrap(5, Bytes{}, 3);
    if (!a) return std::unexpected(a.error());
    first = *a;
    auto b = tx.records_to_rewrap(5, first.back().id, 3);
    if (!b) return std::unexpected(b.error());
    second = *b;
    auto c = tx.records_to_rewrap(3, Bytes{}, 10);
    if (!c) return std::unexpected(c.error());
    none = *c;
    return {};
  }).has_value());
  ASSERT_EQ(first.size(), 3u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(first[0].id, rows[0].id);
  EXPECT_EQ(first[0].wrapped_key, rows[0].wrapped_key);
  EXPECT_EQ(second[0].id, rows[3].id);

  // Record 1 is edited between the read and the rewrap.
  auto edited = rows[1];
  edited.wrapped_key = bytes("wk-edited");
  edited.updated_at = 200;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.update_supporter(edited); }).has_value());
  std::vector<bool> changed;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    for (const auto& r : first) {
      auto c = tx.rewrap_record(r, 5, bytes("wk-new-" + std::to_string(changed.size())));
      if (!c) return std::unexpected(c.error());
      changed.push_back(*c);
    }
    return {};
  }).has_value());
  EXPECT_EQ(changed, (std::vector<bool>{true, false, true}));
  auto r0 = keeper_->find_supporter(rows[0].id);
  ASSERT_TRUE(r0 && *r0);
  EXPECT_EQ((*r0)->key_version, 5u);
  EXPECT_EQ((*r0)->wrapped_key, bytes("wk-new-0"));
  EXPECT_EQ((*r0)->fields, rows[0].fields);
  EXPECT_EQ((*r0)->updated_at, rows[0].updated_at);
  auto r1 = keeper_->find_supporter(rows[1].id);
  ASSERT_TRUE(r1 && *r1);
  EXPECT_EQ((*r1)->wrapped_key, bytes("wk-edited"));

  std::vector<KeyUsageRow> usage;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto u = tx.key_usage();
    if (!u) return std::unexpected(u.error());
    usage = *u;
    return {};
  }).has_value());
  std::int64_t at3 = -1, at5 = -1;
  for (const auto& u : usage) {
    if (u.kind == "records" && u.key_version == 3) at3 = u.count;
    if (u.kind == "records" && u.key_version == 5) at5 = u.count;
  }
  EXPECT_EQ(at3, 2);  // record 1 (edited, still 3) and record 3
  EXPECT_EQ(at5, 3);

  ASSERT_TRUE(intake_->append(std::vector<BatchRow>{batch_row("kb1", 1), batch_row("kb2", 2)},
                              std::vector<InboxRow>{item("kb1", "k1"), item("kb2", "k2"), item("kb2", "k3")})
                  .has_value());
  auto inbox = inbox_->count_by_key_version();
  ASSERT_TRUE(inbox) << inbox.error().internal;
  ASSERT_EQ(inbox->size(), 2u);
  EXPECT_EQ((*inbox)[0].key_version, 1u);
  EXPECT_EQ((*inbox)[0].count, 1);
  EXPECT_EQ((*inbox)[1].key_version, 2u);
  EXPECT_EQ((*inbox)[1].count, 2);
  EXPECT_EQ((*inbox)[1].kind, "inbox items");
}

// A record's search tokens go in one statement (kInsertSearchTokens): every
// one is found, one repeated is kept once, adding them again changes
// nothing, and tokens of unequal sizes are refused without a write.
TEST_P(StoreContract, SearchTokensAreWrittenTogether) {
  const auto a = supporter("tok-a", "ta", std::nullopt), b = supporter("tok-b", "tb", std::nullopt);
  std::vector<Bytes> tokens;
  for (int i = 0; i < 9; ++i) tokens.push_back(bytes(("token-" + std::to_string(10 + i) + "-of-sixteen").substr(0, 16)));
  tokens.push_back(tokens[3]);
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    for (const auto* s : {&a, &b}) {
      if (auto r = tx.insert_supporter(*s); !r) return r;
    }
    if (auto r = tx.add_search_tokens(a.id, tokens); !r) return r;
    if (auto r = tx.add_search_tokens(a.id, tokens); !r) return r;
    return tx.add_search_tokens(b.id, std::vector<Bytes>{tokens[0]});
  }).has_value());
  for (std::size_t i = 0; i < 9; ++i) {
    auto ids = keeper_->ids_by_search_token(tokens[i]);
    ASSERT_TRUE(ids);
    EXPECT_EQ(ids->size(), i == 0 ? 2u : 1u) << i;
    EXPECT_EQ(keeper_->count_search_token(tokens[i], 10).value(), i == 0 ? 2 : 1) << i;
  }
  Bytes short_token = tokens[8];
  short_token.resize(8);
  const Bytes fresh = bytes("token-unseen-016");
  auto bad = keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    return tx.add_search_tokens(b.id, std::vector<Bytes>{fresh, short_token});
  });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().internal.find("token-"), std::string::npos);
  EXPECT_TRUE(keeper_->ids_by_search_token(fresh).value().empty());
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    return tx.add_search_tokens(b.id, std::vector<Bytes>{});
  }).has_value());
}

// Segments (migration 0015): a filter applied in the store (a place as its
// search tokens), saved segments by unique name, a tag moved across
// records, and the origin kept as written and counted for the dashboard.
TEST_P(StoreContract, SegmentsCountPageAndMoveTags) {
  auto a = supporter("seg-a", "ea", std::nullopt);
  a.origin = "import:csv";
  auto b = supporter("seg-b", "eb", std::nullopt);
  b.created_at = 2 * 86400;  // two days after the others: the dashboard counts by UTC day
  b.consent_email_at.reset();
  b.consent_email_refused_at = 150;
  auto c = supporter("seg-c", "ec", std::nullopt);
  c.created_at = 3 * 86400;
  c.joined_at = 50;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    for (const auto* s : {&a, &b, &c}) {
      if (auto r = tx.insert_supporter(*s); !r) return r;
    }
    if (auto r = tx.add_tags(a.id, std::vector<std::string>{"donor", "paris"}, 1); !r) return r;
    if (auto r = tx.add_tags(b.id, std::vector<std::string>{"donor"}, 1); !r) return r;
    if (auto r = tx.add_tags(c.id, std::vector<std::string>{"donateur"}, 1); !r) return r;
    return tx.insert_honeytoken(c.id, 1, "test");
  }).has_value());
  auto read = keeper_->find_supporter(a.id);
  ASSERT_TRUE(read && *read);
  EXPECT_EQ(**read, a);
  EXPECT_EQ((*keeper_->find_supporter(b.id))->origin, "");

  const auto count = [&](const SegmentFilter& f) { return keeper_->count_segment(f).value(); };
  EXPECT_EQ(count({}), 2);  // the honeytoken is never counted
  EXPECT_EQ(count({.tags_all = {"donor", "paris"}}), 1);
  EXPECT_EQ(count({.tags_any = {"paris", "donateur"}}), 1);
  EXPECT_EQ(count({.tags_none = {"paris"}}), 1);
  EXPECT_EQ(count({.email = "refused"}), 1);
  EXPECT_EQ(count({.email = "unknown"}), 0);
  EXPECT_EQ(count({.signed_from = 150}), 1);
  EXPECT_EQ(count({.signed_before = 150}), 1);
  EXPECT_EQ(count({.origin = "import"}), 1);
  EXPECT_EQ(count({.origin = "unknown"}), 1);
  // The dashboard's sources: by origin, none read as "unknown", the honeytoken left out.
  EXPECT_EQ(keeper_->added_by_origin(0).value(),
            (std::vector<OriginCountRow>{{"import:csv", 1}, {"unknown", 1}}));
  EXPECT_EQ(keeper_->added_by_origin(86400).value(), (std::vector<OriginCountRow>{{"unknown", 1}}));
  EXPECT_EQ(keeper_->added_by_origin(2 * 86400 + 3600).value(),  // counted from the start of its day
            (std::vector<OriginCountRow>{{"unknown", 1}}));
  EXPECT_TRUE(keeper_->added_by_origin(3 * 86400).value().empty());

  // A place: the supporter holds one of its tokens (the store only compares bytes).
  const Bytes lyon = bytes("tok-lyon-0000001"), dept = bytes("tok-dept-0000069"), brest = bytes("tok-brest-000029");
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    if (auto r = tx.put_search_tokens(a.id, std::vector<Bytes>{lyon, dept}); !r) return r;
    if (auto r = tx.put_search_tokens(b.id, std::vector<Bytes>{dept}); !r) return r;
    return tx.put_search_tokens(c.id, std::vector<Bytes>{lyon, dept});  // the honeytoken
  }).has_value());
  EXPECT_EQ(count({.place_tokens = {lyon}}), 1);
  EXPECT_EQ(count({.place_tokens = {dept}}), 2);
  EXPECT_EQ(count({.place_tokens = {brest, lyon}}), 1);
  EXPECT_EQ(count({.place_tokens = {brest}}), 0);
  EXPECT_EQ(count({.tags_all = {"donor"}, .place_tokens = {lyon}}), 1);
  EXPECT_EQ(count({.email = "refused", .place_tokens = {dept}}), 1);
  auto placed = keeper_->segment_page({.place_tokens = {lyon}}, SupporterPageQuery{"", std::nullopt, 10}, true);
  ASSERT_TRUE(placed);
  EXPECT_EQ(placed->total, 1);
  ASSERT_EQ(placed->items.size(), 2u);  // the honeytoken in its place
  EXPECT_EQ(placed->items[1].row.id, a.id);
  const auto too_many = keeper_->count_segment({.place_tokens = {lyon, dept, brest, lyon, dept}});
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().code, Errc::invalid_input);

  auto page = keeper_->segment_page({}, SupporterPageQuery{"", std::nullopt, 10}, true);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 2);
  ASSERT_EQ(page->items.size(), 3u);  // the honeytoken in its place
  EXPECT_EQ(page->items[0].row.id, c.id);
  auto after = keeper_->segment_page({}, SupporterPageQuery{"", SupporterPosition{200, b.id}, 10}, false);
  ASSERT_TRUE(after);
  ASSERT_EQ(after->items.size(), 1u);
  EXPECT_EQ(after->items[0].tags, (std::vector<std::string>{"donor", "paris"}));
  EXPECT_FALSE(keeper_->segment_page({}, SupporterPageQuery{"donor", std::nullopt, 10}, true));

  const SegmentRow row{0, "donors", R"({"tags_all":["donor"]})", "operator:test", 5, 5};
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto id = tx.insert_segment(row);
    if (!id) return std::unexpected(id.error());
    return {};
  }));
  auto dup = keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto id = tx.insert_segment(row);
    if (!id) return std::unexpected(id.error());
    return {};
  });
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::conflict);
  auto changed = row;
  changed.definition = "{}";
  changed.updated_at = 9;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.update_segment(changed); }));
  auto found = keeper_->find_segment("donors");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->definition, "{}");
  EXPECT_EQ((*found)->updated_at, 9);
  EXPECT_EQ(keeper_->segments().value().size(), 1u);

  std::int64_t moved = 0;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto n = tx.move_tag("donor", "donateur", 7);
    if (!n) return std::unexpected(n.error());
    moved = *n;
    auto gone = tx.delete_segment("donors");
    if (!gone) return std::unexpected(gone.error());
    return *gone ? Result<void>{} : fail(Errc::internal, "not deleted");
  }));
  EXPECT_EQ(moved, 2);
  EXPECT_EQ(keeper_->tags(a.id).value(), (std::vector<std::string>{"donateur", "paris"}));
  EXPECT_EQ(keeper_->tags(c.id).value(), std::vector<std::string>{"donateur"});
  EXPECT_FALSE(keeper_->find_segment("donors").value());
}

// Mailings (migrations 0024, 0025): recipients drawn only when mailable,
// each once; the states counted; a report about an address counted once per
// report, within a window; what became of a sent message noted once, against
// the named mailing or the last one sent; and everything gone with the record.
TEST_P(StoreContract, MailingRecipientsAndWhatBecameOfThem) {
  for (const char* id : {"m1", "m2", "m3"}) ASSERT_TRUE(insert(*keeper_, supporter(id, std::string("e-") + id, {})));
  std::int64_t first = 0, second = 0;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    MailingRow m;
    m.name = "June";
    m.subject = "News";
    m.body = "Hello";
    m.segment = "all";
    m.state = "ready";
    m.created_by = "account:a";
    m.created_at = m.updated_at = 5;
    auto a = tx.insert_mailing(m);
    if (!a) return std::unexpected(a.error());
    first = *a;
    auto b = tx.insert_mailing(m);
    if (!b) return std::unexpected(b.error());
    second = *b;
    for (const char* id : {"m1", "m2", "m3"}) {
      auto added = tx.add_mailing_recipient(first, bytes(id), "given");  // confirmed: none is
      if (!added) return std::unexpected(added.error());
      EXPECT_TRUE(*added) << id;
      auto confirmed = tx.add_mailing_recipient(second, bytes(id), "confirmed");
      if (!confirmed) return std::unexpected(confirmed.error());
      EXPECT_FALSE(*confirmed) << id;
    }
    auto again = tx.add_mailing_recipient(first, bytes("m1"), "given");
    if (!again) return std::unexpected(again.error());
    EXPECT_FALSE(*again);
    for (const char* id : {"m1", "m2"}) {
      if (auto k = tx.mark_mailing_recipient(first, bytes(id), "sent", 1, 10, 250); !k) return std::unexpected(k.error());
    }
    auto b1 = tx.mark_email_bouncing(bytes("m3"), 7);
    if (!b1) return std::unexpected(b1.error());
    EXPECT_TRUE(*b1);
    auto b2 = tx.mark_email_bouncing(bytes("m3"), 8);
    if (!b2) return std::unexpected(b2.error());
    EXPECT_FALSE(*b2);  // marked already
    auto mailable = tx.mailable(bytes("m3"), "given");
    if (!mailable) return std::unexpected(mailable.error());
    EXPECT_FALSE(*mailable);

    for (std::int64_t at : {20, 30, 40}) {
      auto e = tx.add_mail_event(MailEventRow{bytes("m1"), "soft_bounce", at, first, bytes("r" + std::to_string(at))});
      if (!e) return std::unexpected(e.error());
      EXPECT_TRUE(*e);
    }
    auto repeat = tx.add_mail_event(MailEventRow{bytes("m1"), "soft_bounce", 50, first, bytes("r20")});
    if (!repeat) return std::unexpected(repeat.error());
    EXPECT_FALSE(*repeat);  // the same report
    auto n = tx.count_mail_events(bytes("m1"), "soft_bounce", 30);
    if (!n) return std::unexpected(n.error());
    EXPECT_EQ(*n, 2);
    auto none = tx.count_mail_events(bytes("m1"), "complaint", 0);
    if (!none) return std::unexpected(none.error());
    EXPECT_EQ(*none, 0);

    auto named = tx.note_mailing_outcome(bytes("m1"), first, "bounced", 60);
    if (!named) return std::unexpected(named.error());
    EXPECT_EQ(*named, std::optional<std::int64_t>{first});
    auto twice = tx.note_mailing_outcome(bytes("m1"), first, "bounced", 61);
    if (!twice) return std::unexpected(twice.error());
    EXPECT_FALSE(*twice);
    auto last = tx.note_mailing_outcome(bytes("m2"), std::nullopt, "unsubscribed", 62);
    if (!last) return std::unexpected(last.error());
    EXPECT_EQ(*last, std::optional<std::int64_t>{first});
    auto not_sent = tx.note_mailing_outcome(bytes("m3"), std::nullopt, "complained", 63);
    if (!not_sent) return std::unexpected(not_sent.error());
    EXPECT_FALSE(*not_sent);
    EXPECT_FALSE(tx.note_mailing_outcome(bytes("m2"), std::nullopt, "opened", 64));

    auto c = tx.mailing_counts(first);
    if (!c) return std::unexpected(c.error());
    EXPECT_EQ(*c, (MailingCounts{1, 0, 2, 0, 0, 1, 0, 1}));

    auto erased = tx.erase_supporter(bytes("m1"));
    if (!erased) return std::unexpected(erased.error());
    auto left = tx.count_mail_events(bytes("m1"), "soft_bounce", 0);
    if (!left) return std::unexpected(left.error());
    EXPECT_EQ(*left, 0);
    auto after = tx.mailing_counts(first);
    if (!after) return std::unexpected(after.error());
    EXPECT_EQ(*after, (MailingCounts{1, 0, 1, 0, 0, 0, 0, 1}));
    return {};
  }));
}


BreachRow breach_row(std::int64_t recorded_at) {
  BreachRow b;
  b.recorded_at = recorded_at;
  b.recorded_by = "operator:dpo";
  b.updated_at = recorded_at;
  b.since_at = 1000;
  b.actor = "account:0c8a";
  b.aware_at = 1500;
  b.nature = "Une session volée a affiché des fiches.";  // the DPO's words, UTF-8
  b.people = 12;
  b.people_masked = 30;
  b.records = 42;
  b.values_revealed = 20;
  b.categories = R"({"email":12,"phone":3})";
  b.consequences = "political_opinion,phishing,phone_scams";
  b.measures = R"({"guard.lock":1})";
  b.measures_note = "";
  b.contact = "dpo@example.org";
  return b;
}

// The breach register (GDPR article 33(5)): an entry keeps what was
// recorded of the breach; an update writes only what came after (notified,
// not notified and why, closed) and the time of the change.
TEST_P(StoreContract, BreachRegisterKeepsTheFactsAndUpdatesWhatFollows) {
  BreachRow first = breach_row(2000);
  first.until_at = 1900;
  BreachRow second = breach_row(3000);
  second.actor = "";
  second.not_notified_reason = "only masked lists were seen";
  second.state = "not_notified";
  std::int64_t id1 = 0, id2 = 0;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto a = tx.insert_breach(first);
    if (!a) return std::unexpected(a.error());
    id1 = *a;
    auto b = tx.insert_breach(second);
    if (!b) return std::unexpected(b.error());
    id2 = *b;
    return {};
  }));
  EXPECT_LT(id1, id2);
  first.id = id1;
  second.id = id2;

  // Read outside a transaction and inside one alike.
  auto found = keeper_->find_breach(id1);
  ASSERT_TRUE(found.has_value()) << found.error().internal;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, first);
  auto none = keeper_->find_breach(id2 + 100);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  auto all = keeper_->breaches(10);
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0], second);  // newest first
  EXPECT_EQ((*all)[1], first);
  auto one = keeper_->breaches(1);
  ASSERT_TRUE(one.has_value());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].id, id2);

  // An update changes the follow-up columns only: facts sent along with it
  // (a changed count, nature or window) are not written.
  BreachRow changed = first;
  changed.updated_at = 2600;
  changed.authority_notified_at = 2500;
  changed.people_notified_at = 2550;
  changed.closed_at = 2600;
  changed.close_reason = "people told, keys rotated";
  changed.state = "closed";
  changed.people = 999;
  changed.nature = "rewritten";
  changed.since_at = 0;
  changed.contact = "someone else";
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.update_breach(changed); }));
  BreachRow expected = first;
  expected.updated_at = 2600;
  expected.authority_notified_at = 2500;
  expected.people_notified_at = 2550;
  expected.closed_at = 2600;
  expected.close_reason = "people told, keys rotated";
  expected.state = "closed";
  std::optional<BreachRow> in_tx;
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto f = tx.find_breach(id1);
    if (!f) return std::unexpected(f.error());
    in_tx = *f;
    return {};
  }));
  ASSERT_TRUE(in_tx.has_value());
  EXPECT_EQ(*in_tx, expected);

  // Clearing an optional column writes NULL back.
  BreachRow cleared = second;
  cleared.updated_at = 3100;
  cleared.not_notified_reason = std::nullopt;
  cleared.state = "open";
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.update_breach(cleared); }));
  auto back = keeper_->find_breach(id2);
  ASSERT_TRUE(back.has_value() && back->has_value());
  EXPECT_EQ(**back, cleared);

  BreachRow ghost = first;
  ghost.id = id2 + 100;
  auto missing = keeper_->transact([&](KeeperTx& tx) { return tx.update_breach(ghost); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
  BreachRow bad_state = expected;
  bad_state.state = "forgotten";
  EXPECT_FALSE(keeper_->transact([&](KeeperTx& tx) { return tx.update_breach(bad_state); }));
  BreachRow bad_count = breach_row(4000);
  bad_count.people = -1;
  EXPECT_FALSE(keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    auto r = tx.insert_breach(bad_count);
    if (!r) return std::unexpected(r.error());
    return {};
  }));
  auto still = keeper_->breaches(10);
  ASSERT_TRUE(still.has_value());
  EXPECT_EQ(still->size(), 2u) << "a refused entry leaves nothing behind";
}

}  // namespace
}  // namespace rempart::store::test_support
