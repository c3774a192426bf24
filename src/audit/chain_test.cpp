#include "audit/chain.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <thread>

#include "audit/test_support.hpp"

namespace rempart::audit {
namespace {

using test::AuditFixture;

store::AuditEntryRow sample() {
  store::AuditEntryRow r;
  r.seq = 7;
  r.at = 123;
  r.actor = "keeper";
  r.action = "supporter.create";
  r.subject = "00ff";
  r.details = R"({"n":1})";
  r.key_version = 1;
  r.prev_hash = store::Bytes(32, 0);
  return r;
}

TEST(Encoding, IsUnambiguousAcrossFieldBoundaries) {
  // Moving a character from one field to the next must change the encoding.
  auto a = sample(), b = sample();
  a.actor = "keeper";
  a.action = "x.y";
  b.actor = "keeperx";
  b.action = ".y";
  std::string ea, eb, scratch;
  encode_entry(a, ea);
  encode_entry(b, eb);
  EXPECT_NE(ea, eb);
  EXPECT_NE(entry_hash(a, scratch), entry_hash(b, scratch));
  // Client and subject are both optional: an empty one must not alias.
  auto c = sample(), d = sample();
  c.client = "10.0.0.1";
  c.subject = "";
  d.client = "";
  d.subject = "10.0.0.1";
  EXPECT_NE(entry_hash(c, scratch), entry_hash(d, scratch));
}

TEST(Encoding, EveryFieldIsCovered) {
  std::string scratch;
  const auto base = entry_hash(sample(), scratch);
  auto changed = [&](auto edit) {
    auto r = sample();
    edit(r);
    return entry_hash(r, scratch) != base;
  };
  EXPECT_TRUE(changed([](auto& r) { r.seq = 8; }));
  EXPECT_TRUE(changed([](auto& r) { r.at = 124; }));
  EXPECT_TRUE(changed([](auto& r) { r.actor = "operator:x"; }));
  EXPECT_TRUE(changed([](auto& r) { r.action = "supporter.merge"; }));
  EXPECT_TRUE(changed([](auto& r) { r.client = "::1"; }));
  EXPECT_TRUE(changed([](auto& r) { r.subject = "00fe"; }));
  EXPECT_TRUE(changed([](auto& r) { r.details = R"({"n":2})"; }));
  EXPECT_TRUE(changed([](auto& r) { r.key_version = 2; }));
  EXPECT_TRUE(changed([](auto& r) { r.prev_hash[0] = 1; }));
  // The stored hash and MAC are outputs, not inputs.
  EXPECT_FALSE(changed([](auto& r) { r.mac = store::Bytes(32, 9); }));
}

TEST(Mac, DependsOnTheKey) {
  const Digest h{};
  std::array<std::uint8_t, 32> b1{}, b2{};
  b2[0] = 1;
  auto k1 = crypto::SecretBytes::copy_of(b1);
  auto k2 = crypto::SecretBytes::copy_of(b2);
  ASSERT_TRUE(k1 && k2);
  const auto m1 = crypto::AuditMac::over(*k1);
  const auto m2 = crypto::AuditMac::over(*k2);
  ASSERT_TRUE(m1 && m2);
  EXPECT_NE(entry_mac(*m1, h), entry_mac(*m2, h));
  EXPECT_EQ(entry_mac(*m1, h), entry_mac(*m1, h));
  EXPECT_TRUE(entry_mac_valid(*m1, h, entry_mac(*m1, h)));
  EXPECT_FALSE(entry_mac_valid(*m2, h, entry_mac(*m1, h)));
}

// The MAC is keyed BLAKE2b-256 over the domain label and the hash: the same
// bytes as before the key moved behind crypto::AuditMac.
TEST(Mac, KnownAnswer) {
  std::array<std::uint8_t, 32> raw{};
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<std::uint8_t>(i);
  auto key = crypto::SecretBytes::copy_of(raw);
  ASSERT_TRUE(key);
  const auto mac = crypto::AuditMac::over(*key);
  ASSERT_TRUE(mac);
  Digest h{};
  h.fill(0xab);
  std::string in = "rempart/audit/mac/v1";
  in.append(reinterpret_cast<const char*>(h.data()), h.size());
  Digest want{};
  crypto_generichash(want.data(), want.size(), reinterpret_cast<const unsigned char*>(in.data()), in.size(),
                     raw.data(), raw.size());
  EXPECT_EQ(entry_mac(*mac, h), want);
}

TEST_F(AuditFixture, AppendsLinkedEntriesAcrossTransactions) {
  EXPECT_EQ(append(3), 3);
  EXPECT_EQ(append(2), 5);
  std::vector<store::AuditEntryRow> rows;
  ASSERT_TRUE(store_->scan_audit(1, [&](const store::AuditEntryRow& r) {
    rows.push_back(r);
    return true;
  }));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].prev_hash, store::Bytes(32, 0));
  std::string scratch;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].seq, static_cast<std::int64_t>(i) + 1);
    if (i > 0) {
      EXPECT_EQ(rows[i].prev_hash, rows[i - 1].hash);
    }
    const auto h = entry_hash(rows[i], scratch);
    EXPECT_EQ(store::Bytes(h.begin(), h.end()), rows[i].hash);
    const auto mac = crypto::AuditMac::of(*keys_, rows[i].key_version);
    ASSERT_TRUE(mac.has_value());
    const auto m = entry_mac(*mac, h);
    EXPECT_EQ(store::Bytes(m.begin(), m.end()), rows[i].mac);
  }
  EXPECT_EQ(rows[1].details, R"({"n":1,"via":"test"})");
}

TEST_F(AuditFixture, RolledBackTransactionLeavesNoEntry) {
  append(2);
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    if (auto s = record(tx, *keys_, Event{"keeper", "supporter.create", "", {}, ""}); !s) return std::unexpected(s.error());
    return fail(Errc::conflict, "the change this entry describes failed");
  });
  EXPECT_FALSE(r);
  auto head = store_->audit_head();
  ASSERT_TRUE(head && *head);
  EXPECT_EQ((*head)->seq, 2);
  EXPECT_EQ(append(1), 3) << "the chain continues from the committed head";
}

TEST_F(AuditFixture, RefusesDetailsThatAreNotAnObject) {
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto s = record(tx, *keys_, Event{"keeper", "x.y", "", nlohmann::json::array({1}), ""});
    if (!s) return std::unexpected(s.error());
    return {};
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_input);
}

TEST_F(AuditFixture, KeeperConnectionCannotEditOrDeleteEntries) {
  append(2);
  sqlite3* h = store::sqlite::test_hooks::raw_handle(*store_);
  ASSERT_NE(h, nullptr);
  for (const char* sql : {"UPDATE audit_entries SET details = '{}' WHERE seq = 1", "DELETE FROM audit_entries",
                          "DELETE FROM audit_checkpoints", "UPDATE audit_checkpoints SET seq = 1"}) {
    EXPECT_NE(test::run_statements(h, sql), SQLITE_OK) << sql;
  }
  EXPECT_EQ(test::run_statements(h, "SELECT count(*) FROM audit_entries"), SQLITE_OK);
}

// The intake's connection is to the inbox file, which holds no log: the
// log's tables are not there to reach, and its authorizer refuses the
// statements anyway.
TEST_F(AuditFixture, IntakeConnectionCannotReachTheLog) {
  const auto inbox = db().parent_path() / "inbox.db";
  auto intake = store::open_sqlite_intake(inbox);
  ASSERT_TRUE(intake.has_value());
  sqlite3* h = store::sqlite::test_hooks::raw_handle(**intake);
  for (const char* sql : {"SELECT count(*) FROM audit_entries",
                          "INSERT INTO audit_entries (seq, at, actor, action, details, key_version, prev_hash, hash,"
                          " mac) VALUES (99, 0, 'a', 'b', '{}', 1, x'', x'', x'')",
                          "INSERT INTO audit_checkpoints VALUES (1, x'', 0, 1, x'')"}) {
    EXPECT_NE(test::run_statements(h, sql), SQLITE_OK) << sql;
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2(inbox.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'audit%' OR name = 'supporters'",
                               -1, &q, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(q, 0), 0);
  sqlite3_finalize(q);
  sqlite3_close(raw);
}

TEST_F(AuditFixture, ConcurrentWritersNeverForkTheChain) {
  // Two stores on one file, as the keeper and a CLI process would be.
  auto other = store::open_sqlite_keeper(db());
  ASSERT_TRUE(other.has_value());
  std::thread t([&] {
    for (int i = 0; i < 50; ++i) {
      auto r = (*other)->transact([&](store::KeeperTx& tx) -> Result<void> {
        auto s = record(tx, *keys_, Event{"operator:b", "supporter.reveal", "", {}, ""});
        if (!s) return std::unexpected(s.error());
        return {};
      });
      ASSERT_TRUE(r.has_value()) << r.error().internal;
    }
  });
  for (int i = 0; i < 50; ++i) append(1);
  t.join();
  std::int64_t n = 0;
  store::Bytes prev(32, 0);
  ASSERT_TRUE(store_->scan_audit(1, [&](const store::AuditEntryRow& r) {
    ++n;
    EXPECT_EQ(r.seq, n);
    EXPECT_EQ(r.prev_hash, prev);
    prev = r.hash;
    return true;
  }));
  EXPECT_EQ(n, 100);
}

}  // namespace
}  // namespace rempart::audit
