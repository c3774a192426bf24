// The tamper matrix: every way an intruder with full access to the database
// file could edit the log, each detected with the right first bad entry.
#include "audit/verify.hpp"

#include <sodium.h>

#include <gtest/gtest.h>

#include "audit/backup_manifest.hpp"
#include "audit/test_support.hpp"
#include "store/sqlite/backup.hpp"

namespace rempart::audit {
namespace {

class VerifyTest : public test::AuditFixture {
 protected:
  void SetUp() override {
    AuditFixture::SetUp();
    if (HasFatalFailure()) return;
    build(5);
  }

  // `batches` x 10 entries, a checkpoint after each batch (seq 10, 20, …).
  void build(int batches) {
    std::vector<std::unique_ptr<CheckpointSink>> sinks;
    sinks.push_back(std::make_unique<FileCheckpointSink>(outside()));
    Checkpointer cp(*keys_, *store_, CheckpointPolicy{10, 3600}, std::move(sinks));
    for (int b = 0; b < batches; ++b) {
      append(10, "supporter.create", "keeper", 1'700'000'000'000'000 + b * 1000);
      auto c = cp.maybe(1'700'000'000'000'000 + b * 1000 + 999);
      ASSERT_TRUE(c && *c);
    }
  }

  std::filesystem::path outside() const { return dir_.file("outside.checkpoints"); }

  VerifyReport check(bool with_file = true) {
    VerifyOptions o;
    if (with_file) o.checkpoint_file = outside();
    auto r = verify(*store_, *keys_, o);
    EXPECT_TRUE(r.has_value());
    return r ? *r : VerifyReport{};
  }

  std::vector<store::AuditEntryRow> rows() {
    std::vector<store::AuditEntryRow> out;
    EXPECT_TRUE(store_->scan_audit(1, [&](const store::AuditEntryRow& r) {
      out.push_back(r);
      return true;
    }));
    return out;
  }

  // Replaces the whole table with `rs`, as an intruder with the file would.
  void rewrite(const std::vector<store::AuditEntryRow>& rs) {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(db().c_str(), &h), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(h, "BEGIN; DELETE FROM audit_entries", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(h,
                                 "INSERT INTO audit_entries (seq, at, actor, action, client, subject, details,"
                                 " key_version, prev_hash, hash, mac) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                                 -1, &st, nullptr),
              SQLITE_OK);
    for (const auto& r : rs) {
      sqlite3_bind_int64(st, 1, r.seq);
      sqlite3_bind_int64(st, 2, r.at);
      sqlite3_bind_text(st, 3, r.actor.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 4, r.action.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 5, r.client.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 6, r.subject.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 7, r.details.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(st, 8, r.key_version);
      sqlite3_bind_blob(st, 9, r.prev_hash.data(), static_cast<int>(r.prev_hash.size()), SQLITE_TRANSIENT);
      sqlite3_bind_blob(st, 10, r.hash.data(), static_cast<int>(r.hash.size()), SQLITE_TRANSIENT);
      sqlite3_bind_blob(st, 11, r.mac.data(), static_cast<int>(r.mac.size()), SQLITE_TRANSIENT);
      ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
      sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    ASSERT_EQ(sqlite3_exec(h, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(h);
  }

  // Recomputes seq, links and hashes from index `from` on; MACs are made
  // with `mac` when given (a stolen key), left as they were otherwise.
  static void rechain(std::vector<store::AuditEntryRow>& rs, std::size_t from,
                      std::optional<crypto::AuditMac> mac = std::nullopt) {
    std::string scratch;
    for (std::size_t i = from; i < rs.size(); ++i) {
      rs[i].seq = static_cast<std::int64_t>(i) + 1;
      rs[i].prev_hash = i == 0 ? store::Bytes(32, 0) : rs[i - 1].hash;
      const auto h = entry_hash(rs[i], scratch);
      rs[i].hash.assign(h.begin(), h.end());
      if (mac) {
        const auto m = entry_mac(*mac, h);
        rs[i].mac.assign(m.begin(), m.end());
      }
    }
  }

  static void expect_first(const VerifyReport& r, std::int64_t seq, const std::string& words) {
    ASSERT_FALSE(r.ok());
    ASSERT_NE(r.first(), nullptr);
    EXPECT_EQ(r.first()->seq, seq) << r.first()->reason;
    EXPECT_NE(r.first()->reason.find(words), std::string::npos) << r.first()->reason;
  }
};

TEST_F(VerifyTest, IntactLogPasses) {
  const auto r = check();
  EXPECT_TRUE(r.ok()) << (r.first() ? r.first()->reason : "");
  EXPECT_EQ(r.entries, 50);
  EXPECT_EQ(r.last_seq, 50);
  EXPECT_EQ(r.db_checkpoints, 5u);
  EXPECT_EQ(r.file_checkpoints, 5u);
  EXPECT_EQ(r.covered_seq, 50);
}

TEST_F(VerifyTest, OneByteOfDetailsChanged) {
  tamper("UPDATE audit_entries SET details = replace(details, 'test', 'tesu') WHERE seq = 17");
  const auto r = check();
  expect_first(r, 17, "does not match its hash");
  EXPECT_EQ(r.fault_count, 1u);
}

TEST_F(VerifyTest, MiddleEntryDeleted) {
  tamper("DELETE FROM audit_entries WHERE seq = 25");
  expect_first(check(), 25, "missing");
}

TEST_F(VerifyTest, TwoEntriesSwapped) {
  auto rs = rows();
  std::swap(rs[11], rs[33]);  // seq 12 and 34 exchange places
  rs[11].seq = 12;
  rs[33].seq = 34;
  rewrite(rs);
  expect_first(check(), 12, "previous-hash");
}

TEST_F(VerifyTest, LastTenTruncatedIsCaughtByTheOutsideCheckpoints) {
  // The intruder cuts the tail and the database checkpoints that name it.
  tamper("DELETE FROM audit_entries WHERE seq > 40; DELETE FROM audit_checkpoints WHERE seq > 40");
  expect_first(check(), 41, "truncated");
  // Without the outside file, the cut is invisible: that file is the point.
  EXPECT_TRUE(check(false).ok());
}

TEST_F(VerifyTest, ForgedEntryInserted) {
  auto rs = rows();
  store::AuditEntryRow forged = rs[29];
  forged.action = "supporter.create";
  forged.details = R"({"n":0,"via":"forged"})";
  rs.insert(rs.begin() + 30, forged);
  // The forger relinks everything after it; without the key every MAC of a
  // new hash is wrong, starting with the forged entry itself.
  rechain(rs, 30);
  randombytes_buf(rs[30].mac.data(), rs[30].mac.size());
  rewrite(rs);
  expect_first(check(), 31, "MAC does not verify");
}

TEST_F(VerifyTest, WholeChainRebuiltWithoutTheMacKey) {
  tamper("DELETE FROM audit_checkpoints");
  auto rs = rows();
  rs[4].details = R"({"n":4,"via":"nothing to see"})";
  auto guess = crypto::SecretBytes::copy_of(std::array<std::uint8_t, 32>{});
  ASSERT_TRUE(guess);
  rechain(rs, 0, *crypto::AuditMac::over(*guess));  // every hash and link consistent, MACs under a guessed key
  rewrite(rs);
  const auto r = check(false);
  expect_first(r, 1, "MAC does not verify");
  EXPECT_EQ(r.fault_count, 50u);
}

TEST_F(VerifyTest, ChainRebuiltWithAStolenMacKeyIsCaughtByTheOutsideCheckpoints) {
  tamper("DELETE FROM audit_checkpoints");
  auto rs = rows();
  rs[14].details = R"({"n":4,"via":"nothing to see"})";
  rechain(rs, 14, *crypto::AuditMac::current(*keys_));
  rewrite(rs);
  EXPECT_TRUE(check(false).ok()) << "the chain itself is consistent";
  expect_first(check(), 20, "checkpoint");
}

TEST_F(VerifyTest, DatabaseRolledBackToAnOlderCopy) {
  const auto copy = dir_.file("backup.db");
  store_.reset();  // closing the last connection folds the WAL into the file
  std::filesystem::copy_file(db(), copy);
  auto s = store::open_sqlite_keeper(db());
  ASSERT_TRUE(s.has_value());
  store_ = std::move(*s);
  build(2);  // seq 51..70, checkpoints at 60 and 70 in the file
  EXPECT_TRUE(check().ok());
  store_.reset();
  for (const char* ext : {"-wal", "-shm"}) std::filesystem::remove(db().string() + ext);
  std::filesystem::copy_file(copy, db(), std::filesystem::copy_options::overwrite_existing);
  s = store::open_sqlite_keeper(db());
  ASSERT_TRUE(s.has_value());
  store_ = std::move(*s);
  expect_first(check(), 51, "rolled back");
}

TEST_F(VerifyTest, ForgedCheckpointLineIsAFault) {
  auto c = sign_checkpoint(*crypto::AuditSigner::current(*keys_), 30, store::Bytes(32, 7), 1);
  ASSERT_TRUE(c.has_value());
  c->signature[0] ^= 1;
  FileCheckpointSink(outside()).publish(*c);
  expect_first(check(), 30, "signature does not verify");
}

TEST_F(VerifyTest, MissingCheckpointFileIsAFaultOnceCheckpointsExist) {
  std::filesystem::remove(outside());
  expect_first(check(), 0, "checkpoint file");
}

TEST_F(VerifyTest, UnknownKeyVersionIsAFault) {
  tamper("UPDATE audit_entries SET key_version = 7 WHERE seq = 3");
  expect_first(check(), 3, "does not match its hash");  // the version is hashed
}

// ---- Resuming after a verified prefix (VerifyOptions::after) ----

class ResumedVerifyTest : public VerifyTest {
 protected:
  // The prefix a whole verification of the 50 entries leaves.
  VerifiedPrefix prefix() {
    const auto r = check();
    EXPECT_TRUE(r.ok() && r.whole());
    return VerifiedPrefix{r.last_seq, r.last_hash, r.covered_seq, r.restores};
  }
  VerifyReport resume(const VerifiedPrefix& p) {
    VerifyOptions o;
    o.checkpoint_file = outside();
    o.after = p;
    auto r = verify(*store_, *keys_, o);
    EXPECT_TRUE(r.has_value());
    return r ? *r : VerifyReport{};
  }
};

TEST_F(ResumedVerifyTest, ReadsOnlyTheEntriesAfterThePrefix) {
  const auto p = prefix();
  ASSERT_EQ(p.seq, 50);
  ASSERT_EQ(p.covered_seq, 50);
  build(1);  // seq 51..60, signed at 60
  const auto r = resume(p);
  EXPECT_TRUE(r.ok()) << (r.first() ? r.first()->reason : "");
  EXPECT_FALSE(r.whole());
  EXPECT_EQ(r.from_seq, 51);
  EXPECT_EQ(r.entries, 10);
  EXPECT_EQ(r.last_seq, 60);
  EXPECT_EQ(r.covered_seq, 60);
  EXPECT_EQ(r.last_hash, rows().back().hash);

  const auto idle = resume(VerifiedPrefix{r.last_seq, r.last_hash, r.covered_seq, r.restores});
  EXPECT_TRUE(idle.ok());
  EXPECT_EQ(idle.entries, 0);
  EXPECT_EQ(idle.last_seq, 60);
  EXPECT_EQ(idle.covered_seq, 60);
}

TEST_F(ResumedVerifyTest, AFaultAfterThePrefixIsFound) {
  const auto p = prefix();
  build(1);
  tamper("UPDATE audit_entries SET details = replace(details, 'test', 'tesu') WHERE seq = 55");
  expect_first(resume(p), 55, "does not match its hash");
}

TEST_F(ResumedVerifyTest, ARelinkedRewriteBelowThePrefixTurnsItIntoAWholeVerification) {
  const auto p = prefix();
  tamper("DELETE FROM audit_checkpoints");
  auto rs = rows();
  rs[14].details = R"({"n":4,"via":"nothing to see"})";
  rechain(rs, 14, *crypto::AuditMac::current(*keys_));  // even with the MAC key
  rewrite(rs);
  const auto r = resume(p);
  EXPECT_TRUE(r.whole());
  expect_first(r, 20, "checkpoint");  // the outside file, read by the whole verification
  bool anchor = false;
  for (const auto& f : r.faults) anchor = anchor || (f.seq == 50 && f.reason.find("earlier verification") != std::string::npos);
  EXPECT_TRUE(anchor);
}

TEST_F(ResumedVerifyTest, ATruncationBelowThePrefixIsFound) {
  const auto p = prefix();
  tamper("DELETE FROM audit_entries WHERE seq > 40; DELETE FROM audit_checkpoints WHERE seq > 40");
  const auto r = resume(p);
  EXPECT_TRUE(r.whole());
  expect_first(r, 41, "truncated");
}

TEST_F(ResumedVerifyTest, AnInPlaceEditBelowThePrefixNeedsAWholeVerification) {
  // The limit VerifyOptions::after states: the edited entry is not read.
  const auto p = prefix();
  tamper("UPDATE audit_entries SET details = replace(details, 'test', 'tesu') WHERE seq = 17");
  EXPECT_TRUE(resume(p).ok());
  expect_first(check(), 17, "does not match its hash");
}


// ---- A restore recorded in the log (RestorePoint) ----

// A backup of the log at seq 30, the log going on to 50 (file checkpoints
// 10..50), then the backup restored into a new file: its first entry is
// the restore's, and its checkpoint goes to the same outside file.
class RestoreVerifyTest : public VerifyTest {
 protected:
  void SetUp() override {
    AuditFixture::SetUp();
    if (HasFatalFailure()) return;
    build(3);
    ASSERT_TRUE(store::sqlite::copy_database(db(), backup()).has_value());
    auto head = store_->audit_head();
    ASSERT_TRUE(head && *head);
    manifest_.head_seq = (*head)->seq;
    manifest_.head_hash = (*head)->hash;
    manifest_.created_at_us = 1'700'000'000'000'000 + 2999;
    build(2);
  }

  std::filesystem::path backup() const { return dir_.file("backup.db"); }

  // A copy of the backup, opened as the restored instance's store.
  std::unique_ptr<store::KeeperStore> copy_of_backup(const std::string& name) {
    const auto file = dir_.file(name);
    EXPECT_TRUE(store::sqlite::copy_database(backup(), file).has_value());
    auto s = store::open_sqlite_keeper(file);
    EXPECT_TRUE(s.has_value());
    return s ? std::move(*s) : nullptr;
  }

  // What `backup restore` writes: the entry, then its checkpoint (in the
  // file too unless `to_file` is false).
  void record(store::KeeperStore& st, bool to_file = true, std::int64_t backup_seq_named = -1,
              std::int64_t at = 1'800'000'000'000'000) {
    auto m = manifest_;
    auto r = st.transact([&](store::KeeperTx& tx) -> Result<void> {
      if (backup_seq_named < 0) {
        auto seq = record_restore(tx, *keys_, "operator:test", m, 50, at);
        if (!seq) return std::unexpected(seq.error());
        return {};
      }
      // A restore entry naming another head than the one it follows.
      Event e{"operator:test", std::string(action::backup_restore), "",
              {{"backup_seq", backup_seq_named},
               {"backup_head", to_hex(m.head_hash)},
               {"backup_taken_at", m.created_at_us},
               {"file_seq", 50},
               {"manifest", "00"}},
              ""};
      auto seq = Appender::begin(tx, *keys_)->append(e, 1'800'000'000'000'000);
      if (!seq) return std::unexpected(seq.error());
      return {};
    });
    ASSERT_TRUE(r.has_value()) << r.error().internal;
    std::vector<std::unique_ptr<CheckpointSink>> sinks;
    if (to_file) sinks.push_back(std::make_unique<FileCheckpointSink>(outside()));
    Checkpointer cp(*keys_, st, CheckpointPolicy{10, 3600}, std::move(sinks));
    auto c = cp.force(at + 1);
    ASSERT_TRUE(c && *c);
  }

  VerifyReport check_store(store::KeeperStore& st) {
    VerifyOptions o;
    o.checkpoint_file = outside();
    auto r = verify(st, *keys_, o);
    EXPECT_TRUE(r.has_value());
    return r ? *r : VerifyReport{};
  }

  BackupManifest manifest_;
};

TEST_F(RestoreVerifyTest, ARecordedRestoreExplainsTheLaterCheckpointsOfTheFile) {
  auto restored = copy_of_backup("restored.db");
  ASSERT_TRUE(restored);
  record(*restored);
  const auto r = check_store(*restored);
  EXPECT_TRUE(r.ok()) << (r.first() ? r.first()->reason : "");
  EXPECT_EQ(r.last_seq, 31);
  EXPECT_EQ(r.covered_seq, 31);
  ASSERT_EQ(r.restores.size(), 1u);
  EXPECT_EQ(r.restores[0].seq, 31);
  EXPECT_TRUE(r.restores[0].confirmed);
  EXPECT_EQ(r.restores[0].backup_taken_at_us, manifest_.created_at_us);
  EXPECT_EQ(r.set_aside, 2u);  // the checkpoints at 40 and 50 of the log the restore replaced
  EXPECT_EQ(r.set_aside_last_seq, 50);

  // The restored log goes on past the old one's seqs: its own checkpoints
  // (written after the restore's) are held against it.
  std::vector<std::unique_ptr<CheckpointSink>> sinks;
  sinks.push_back(std::make_unique<FileCheckpointSink>(outside()));
  Checkpointer cp(*keys_, *restored, CheckpointPolicy{10, 3600}, std::move(sinks));
  std::swap(store_, restored);
  append(19);  // seq 32..50
  std::swap(store_, restored);
  ASSERT_TRUE(cp.force(1'800'000'000'100'000).has_value());
  const auto later = check_store(*restored);
  EXPECT_TRUE(later.ok()) << (later.first() ? later.first()->reason : "");
  EXPECT_EQ(later.covered_seq, 50);
  EXPECT_EQ(later.set_aside, 2u);

  // A resumed verification keeps the restore it was told of.
  VerifyOptions o;
  o.checkpoint_file = outside();
  o.after = VerifiedPrefix{later.last_seq, later.last_hash, later.covered_seq, later.restores};
  auto resumed = verify(*restored, *keys_, o);
  ASSERT_TRUE(resumed.has_value());
  EXPECT_TRUE(resumed->ok()) << (resumed->first() ? resumed->first()->reason : "");
  EXPECT_FALSE(resumed->whole());
  // Told of no restore, the same resumed check sees the old log's checkpoints.
  o.after->restores.clear();
  auto blind = verify(*restored, *keys_, o);
  ASSERT_TRUE(blind.has_value());
  EXPECT_FALSE(blind->ok());
}

TEST_F(RestoreVerifyTest, AnOldCopyPutBackWithoutARestoreIsStillARollback) {
  auto by_hand = copy_of_backup("by-hand.db");
  ASSERT_TRUE(by_hand);
  const auto r = check_store(*by_hand);
  expect_first(r, 31, "rolled back");
  EXPECT_TRUE(r.restores.empty());
  EXPECT_EQ(r.set_aside, 0u);
  // As a copy it holds: the file's later checkpoints are of the log it was taken from.
  VerifyOptions o;
  o.checkpoint_file = outside();
  o.file_may_run_ahead = true;
  auto as_copy = verify(*by_hand, *keys_, o);
  ASSERT_TRUE(as_copy.has_value());
  EXPECT_TRUE(as_copy->ok()) << (as_copy->first() ? as_copy->first()->reason : "");
  EXPECT_EQ(as_copy->ahead, 2u);
  EXPECT_EQ(as_copy->ahead_last_seq, 50);
}

TEST_F(RestoreVerifyTest, ARestoreWhoseCheckpointTheFileLacksExplainsNothing) {
  auto restored = copy_of_backup("restored.db");
  ASSERT_TRUE(restored);
  record(*restored, false);  // signed into the database only
  const auto r = check_store(*restored);
  expect_first(r, 32, "rolled back");
  ASSERT_EQ(r.restores.size(), 1u);
  EXPECT_FALSE(r.restores[0].confirmed);
}

TEST_F(RestoreVerifyTest, TheOldLogGoingOnAfterTheRestoreIsAFork) {
  auto restored = copy_of_backup("restored.db");
  ASSERT_TRUE(restored);
  record(*restored);
  ASSERT_TRUE(check_store(*restored).ok());
  build(1);  // the old instance signs seq 60 into the same file, after the restore's line
  const auto r = check_store(*restored);
  expect_first(r, 32, "rolled back");
  EXPECT_EQ(r.set_aside, 2u);
}

TEST_F(RestoreVerifyTest, OfTwoRestoresOfOneBackupTheLaterHoldsAndTheFirstIsContradicted) {
  auto first = copy_of_backup("first.db");
  auto second = copy_of_backup("second.db");
  ASSERT_TRUE(first && second);
  record(*first);
  record(*second, true, -1, 1'800'000'000'500'000);
  const auto later = check_store(*second);
  EXPECT_TRUE(later.ok()) << (later.first() ? later.first()->reason : "");
  EXPECT_EQ(later.set_aside, 3u);  // 40 and 50 of the old log, 31 of the first restore
  expect_first(check_store(*first), 31, "hash differs from the one signed in the checkpoint file");
}

TEST_F(RestoreVerifyTest, ARestoreEntryThatDoesNotFollowItsBackupIsAFault) {
  auto restored = copy_of_backup("restored.db");
  ASSERT_TRUE(restored);
  record(*restored, true, 29);
  const auto r = check_store(*restored);
  expect_first(r, 31, "does not directly follow");
  EXPECT_TRUE(r.restores.empty());
}

}  // namespace
}  // namespace rempart::audit
