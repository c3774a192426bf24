#pragma once
// Test-only: a keyring and a SQLite store in a fresh temporary directory,
// and helpers several services tests share.
#include <dirent.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/person.hpp"
#include "crypto/keyring.hpp"
#include "crypto/seal.hpp"
#include "crypto/secret.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace rempart::services::testing {

struct Fixture {
  std::filesystem::path dir;
  std::filesystem::path db;     // the records' file
  std::filesystem::path inbox;  // the inbox file
  std::filesystem::path keys;

  Fixture() {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path() /
          ("rempart-services-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(dir / "data");
    db = dir / "data" / "rempart.db";
    inbox = dir / "data" / "inbox.db";
    keys = dir / "keys";
    if (!crypto::init() || !crypto::create_keyrings(keys)) throw std::runtime_error("keyring set-up failed");
  }
  ~Fixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  crypto::KeeperKeyring keeper_keys() const { return std::move(crypto::load_keeper_keyring(keys).value()); }
  crypto::IntakeKeyring intake_keys() const { return crypto::load_intake_keyring(keys).value(); }
};

// Opens a stored record's sealed fields with no audit entry, so a test can
// check what was written. Test-only: production code opens records through
// services::Vault alone.
inline Result<core::Person> inspect_record(const crypto::KeeperKeyring& keys, const store::SupporterRow& row) {
  auto fields = crypto::open_record(keys, row.id, crypto::SealedRecord{row.key_version, row.wrapped_key, row.fields});
  if (!fields) return std::unexpected(fields.error());
  return core::to_person(*fields);
}

// Every audit entry of `st`, oldest first.
// `text` with every record id (32 hex digits, random) taken out, before it
// is searched for test PII: among many ids, a digit string such as a
// postcode turns up by chance.
inline std::string without_record_ids(const std::string& text) {
  static const std::regex record_id("[0-9a-f]{32,}");
  return std::regex_replace(text, record_id, "<id>");
}

inline std::vector<store::AuditEntryRow> audit_entries(store::KeeperStore& st) {
  std::vector<store::AuditEntryRow> out;
  auto r = st.scan_audit(1, [&](const store::AuditEntryRow& row) {
    out.push_back(row);
    return true;
  });
  if (!r) throw std::runtime_error("scan_audit failed");
  return out;
}

// Threads of this process, from /proc: a worker left running shows here.
inline std::size_t thread_count() {
  std::size_t n = 0;
  DIR* d = ::opendir("/proc/self/task");
  if (d == nullptr) return 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

// Whether the threads of this process come down to at most `n` within two
// seconds: a joined thread can stay listed in /proc for a moment after join
// returns, until the kernel has reaped it (and `n`, counted before, may
// still have included such a thread of an earlier test). A thread left
// running never leaves the list.
inline bool thread_count_at_most(std::size_t n) {
  for (int i = 0; i < 400; ++i) {
    if (thread_count() <= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return thread_count() <= n;
}

// Flips one byte in the middle of the sealed fields of the inbox item at
// `offset` (by id), as an intruder with write access to the file could.
inline void flip_a_byte_of_item(const std::filesystem::path& db_path, int offset = 0) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* read = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT id, fields FROM inbox ORDER BY id LIMIT 1 OFFSET ?1", -1, &read, nullptr),
            SQLITE_OK);
  sqlite3_bind_int(read, 1, offset);
  ASSERT_EQ(sqlite3_step(read), SQLITE_ROW);
  const auto id = sqlite3_column_int64(read, 0);
  const auto* blob = static_cast<const unsigned char*>(sqlite3_column_blob(read, 1));
  std::vector<unsigned char> fields(blob, blob + sqlite3_column_bytes(read, 1));
  sqlite3_finalize(read);
  fields[fields.size() / 2] ^= 0x01;
  sqlite3_stmt* write = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE inbox SET fields = ?1 WHERE id = ?2", -1, &write, nullptr), SQLITE_OK);
  sqlite3_bind_blob(write, 1, fields.data(), static_cast<int>(fields.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(write, 2, id);
  ASSERT_EQ(sqlite3_step(write), SQLITE_DONE);
  sqlite3_finalize(write);
  sqlite3_close(db);
}

}  // namespace rempart::services::testing
