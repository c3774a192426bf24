// Online copies of the records' file while a writer commits, read back
// through the read-only store of a copy.
#include "store/sqlite/backup.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>

#include "store/sqlite/sqlite_store.hpp"
#include "store/test_support.hpp"

namespace rempart::store::test_support {
namespace {

Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

class SqliteBackup : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kp = open_sqlite_keeper(source_);
    ASSERT_TRUE(kp.has_value()) << kp.error().internal;
    keeper_ = std::move(*kp);
  }

  Result<void> add(int i) {
    SupporterRow s;
    s.id = bytes("id-" + std::to_string(i));
    s.wrapped_key = bytes("wk");
    s.fields = bytes(std::string(200, 'f'));
    s.email_index = bytes("email-" + std::to_string(i));
    return keeper_->transact([&](KeeperTx& tx) { return tx.insert_supporter(s); });
  }

  TempDir dir_;
  std::filesystem::path source_ = dir_.file("rempart.db");
  std::filesystem::path copy_ = dir_.file("copy.db");
  std::unique_ptr<KeeperStore> keeper_;
};

TEST_F(SqliteBackup, CopiesOneSnapshotWhileAWriterCommits) {
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(add(i).has_value());
  std::atomic<bool> stop{false};
  std::atomic<int> written{200};
  std::atomic<bool> writer_done{false};
  std::thread writer([&] {
    struct Done {
      std::atomic<bool>& flag;
      ~Done() { flag.store(true); }
    } done{writer_done};
    // Its own connection, as serve's would be, in this process.
    auto w = open_sqlite_keeper(source_);
    ASSERT_TRUE(w.has_value());
    for (int i = 200; !stop.load(); ++i) {
      SupporterRow s;
      s.id = bytes("id-" + std::to_string(i));
      s.wrapped_key = bytes("wk");
      s.fields = bytes(std::string(200, 'f'));
      s.email_index = bytes("email-" + std::to_string(i));
      ASSERT_TRUE((*w)->transact([&](KeeperTx& tx) { return tx.insert_supporter(s); }).has_value());
      written.store(i + 1);
    }
  });
  while (written.load() < 400 && !writer_done.load()) std::this_thread::yield();
  ASSERT_FALSE(writer_done.load());
  const int before = written.load();
  auto r = sqlite::copy_database(source_, copy_);
  const int after = written.load();
  stop.store(true);
  writer.join();
  ASSERT_TRUE(r.has_value()) << r.error().internal;
  EXPECT_EQ(mode_of(copy_), 0600u);

  const auto copied_bytes = read_file(copy_);
  auto c = open_sqlite_keeper_copy(copy_);
  ASSERT_TRUE(c.has_value()) << c.error().internal;
  auto n = (*c)->count_supporters();
  ASSERT_TRUE(n.has_value()) << n.error().internal;
  // Every commit before the copy began, none after it ended.
  EXPECT_GE(*n, before);
  EXPECT_LE(*n, after);
  auto live = keeper_->count_supporters();
  ASSERT_TRUE(live.has_value());
  EXPECT_GT(*live, *n);

  // Read without a trace: no -wal or -shm beside it, not a byte changed,
  // and a write is refused.
  SupporterRow s;
  s.id = bytes("written-into-a-copy");
  s.wrapped_key = bytes("wk");
  s.fields = bytes("f");
  EXPECT_FALSE((*c)->transact([&](KeeperTx& tx) { return tx.insert_supporter(s); }).has_value());
  EXPECT_FALSE(std::filesystem::exists(dir_.file("copy.db-wal")));
  EXPECT_FALSE(std::filesystem::exists(dir_.file("copy.db-shm")));
  c->reset();
  EXPECT_EQ(read_file(copy_), copied_bytes);
  EXPECT_TRUE(sqlite::check_copy(copy_).has_value());
}

TEST_F(SqliteBackup, NeverOverwritesAndLeavesNothingOnFailure) {
  ASSERT_TRUE(add(1).has_value());
  {
    std::ofstream f(copy_);
    f << "in the way";
  }
  auto r = sqlite::copy_database(source_, copy_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::conflict);
  EXPECT_EQ(read_file(copy_), bytes("in the way"));

  auto missing = sqlite::copy_database(dir_.file("absent.db"), dir_.file("out.db"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  EXPECT_FALSE(std::filesystem::exists(dir_.file("out.db")));

  // Not a database: the half-made copy is removed.
  const auto text = dir_.file("notes.txt");
  {
    std::ofstream f(text);
    f << std::string(8192, 'x');
  }
  auto bad = sqlite::copy_database(text, dir_.file("out.db"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().internal.find("xxxx"), std::string::npos) << bad.error().internal;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("out.db")));
  EXPECT_FALSE(std::filesystem::exists(dir_.file("out.db-journal")));
}

TEST_F(SqliteBackup, QuickCheckFindsADamagedCopy) {
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(add(i).has_value());
  ASSERT_TRUE(sqlite::copy_database(source_, copy_).has_value());
  ASSERT_TRUE(sqlite::check_copy(copy_).has_value());
  auto content = read_file(copy_);
  ASSERT_GT(content.size(), 16u * 4096);
  // Pages in the middle of the file overwritten: b-tree pages of the
  // supporters' table and its indexes.
  for (std::size_t at = 4 * 4096; at < content.size() - 4096; at += 4096) {
    for (std::size_t i = 0; i < 64; ++i) content[at + i] = 0x5a;
  }
  {
    std::ofstream f(copy_, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
  }
  auto r = sqlite::check_copy(copy_);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().internal.find("copy.db"), std::string::npos) << r.error().internal;
}

TEST_F(SqliteBackup, ACopyMadeByANewerRempartIsRefused) {
  ASSERT_TRUE(add(1).has_value());
  ASSERT_TRUE(sqlite::copy_database(source_, copy_).has_value());
  {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(copy_.c_str(), &h), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(h, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'x', 0)",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(h);
  }
  auto c = open_sqlite_keeper_copy(copy_);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, Errc::config);
  EXPECT_NE(c.error().internal.find("newer rempart"), std::string::npos) << c.error().internal;
}

}  // namespace
}  // namespace rempart::store::test_support
