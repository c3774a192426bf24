// Storage ceilings: what bare SQLite does with the same bytes and the same
// commit policy as the product, without crypto, validation or the store
// layer. Each figure of the product is printed as a ratio to one of these.
#include <sqlite3.h>
#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "bench.hpp"
#include "core/csv.hpp"
#include "crypto/keyring.hpp"
#include "crypto/seal.hpp"

namespace rempart::bench {
namespace {

class Db {
 public:
  Db(const std::string& path, bool readonly) {
    const int flags = readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) die("cannot open " + path);
    sqlite3_busy_timeout(db_, 10000);
  }
  ~Db() { sqlite3_close_v2(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string e = err ? err : "?";
      sqlite3_free(err);
      die(std::string("sqlite: ") + e);
    }
  }
  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK) {
      die(std::string("sqlite prepare: ") + sqlite3_errmsg(db_));
    }
    return st;
  }
  // The product's commit policy (store/sqlite/sqlite_store.hpp).
  void durable_wal() {
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
  }
  sqlite3* raw() { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

void step_done(sqlite3* db, sqlite3_stmt* st) {
  if (sqlite3_step(st) != SQLITE_DONE) die(std::string("sqlite step: ") + sqlite3_errmsg(db));
  sqlite3_reset(st);
}

}  // namespace

// Group commits of rows the size of a sealed inbox item (measured by sealing
// the representative sign-up), `group` rows per durable transaction.
int storage_ceiling(const Args& a) {
  const std::string path = a.str("db");
  if (path.empty()) die("--db is required");
  const double seconds = a.num("seconds", 5);
  const auto group = static_cast<std::size_t>(std::max(1.0, a.num("group", 64)));
  if (sodium_init() < 0) die("libsodium");

  auto keyring = crypto::KeeperKeyring::generate();
  if (!keyring) die("keyring");
  auto sealer = crypto::BatchSealer::create(keyring->intake());
  if (!sealer) die("sealer");
  std::vector<std::uint8_t> uid(16, 1);
  auto sealed = (*sealer)->seal(uid, core::to_fields(representative_signup(1)));
  if (!sealed) die("seal");
  const std::size_t key_bytes = sealed->wrapped_key.size();
  const std::size_t field_bytes = sealed->fields.size();
  emit("storage.row_bytes", static_cast<double>(16 + 32 + key_bytes + field_bytes + 8), "B");

  Db db(path, false);
  db.durable_wal();
  db.exec(
      "CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, batch BLOB NOT NULL, item BLOB NOT NULL UNIQUE,"
      " wrapped_key BLOB NOT NULL, fields BLOB NOT NULL, received_at INTEGER NOT NULL);"
      "CREATE INDEX IF NOT EXISTS rows_batch ON rows(batch)");
  sqlite3_stmt* begin = db.prepare("BEGIN IMMEDIATE");
  sqlite3_stmt* commit = db.prepare("COMMIT");
  sqlite3_stmt* ins =
      db.prepare("INSERT INTO rows (batch, item, wrapped_key, fields, received_at) VALUES (?1, ?2, ?3, ?4, ?5)");
  std::vector<std::uint8_t> batch(32), item(16), key(key_bytes), fields(field_bytes);
  randombytes_buf(key.data(), key.size());
  randombytes_buf(fields.data(), fields.size());

  std::vector<double> commit_ms;
  std::uint64_t rows = 0;
  Stopwatch total;
  while (total.seconds() < seconds) {
    Stopwatch one;
    randombytes_buf(batch.data(), batch.size());
    step_done(db.raw(), begin);
    for (std::size_t i = 0; i < group; ++i) {
      randombytes_buf(item.data(), item.size());
      sqlite3_bind_blob(ins, 1, batch.data(), static_cast<int>(batch.size()), SQLITE_STATIC);
      sqlite3_bind_blob(ins, 2, item.data(), static_cast<int>(item.size()), SQLITE_STATIC);
      sqlite3_bind_blob(ins, 3, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
      sqlite3_bind_blob(ins, 4, fields.data(), static_cast<int>(fields.size()), SQLITE_STATIC);
      sqlite3_bind_int64(ins, 5, 1767225600);
      step_done(db.raw(), ins);
    }
    step_done(db.raw(), commit);
    commit_ms.push_back(one.seconds() * 1000);
    rows += group;
  }
  const double elapsed = total.seconds();
  sqlite3_finalize(begin);
  sqlite3_finalize(commit);
  sqlite3_finalize(ins);
  emit("storage.group", static_cast<double>(group), "rows");
  emit("storage.rows_per_s", static_cast<double>(rows) / elapsed, "rows/s");
  emit("storage.commit_p50", quantile(commit_ms, 0.5), "ms");
  emit("storage.commit_p99", quantile(commit_ms, 0.99), "ms");
  return 0;
}

// Two floors for an import: reading the CSV alone, and reading it plus bare
// inserts of the same cells (plaintext, UNIQUE e-mail and phone, like the
// product's blind indexes) in transactions of `tx` rows, same commit policy.
int import_baseline(const Args& a) {
  const std::string csv = a.str("csv");
  const std::string path = a.str("db");
  if (csv.empty() || path.empty()) die("--csv and --db are required");
  const auto tx = static_cast<std::size_t>(std::max(1.0, a.num("tx", 10000)));
  {
    std::ifstream in(csv, std::ios::binary);
    if (!in) die("cannot read the CSV");
    Stopwatch w;
    core::CsvReader reader(in);
    std::size_t rows = 0;
    for (;;) {
      auto r = reader.next();
      if (!r) continue;
      if (!*r) break;
      ++rows;
    }
    emit("import_base.parse_rows_per_s", static_cast<double>(rows - 1) / w.seconds(), "rows/s");
  }
  std::ifstream in(csv, std::ios::binary);
  Db db(path, false);
  db.durable_wal();
  db.exec(
      "CREATE TABLE IF NOT EXISTS people (id INTEGER PRIMARY KEY, given TEXT, family TEXT, email TEXT UNIQUE,"
      " phone TEXT UNIQUE, postal TEXT, locality TEXT, country TEXT)");
  sqlite3_stmt* ins = db.prepare(
      "INSERT INTO people (given, family, email, phone, postal, locality, country) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
      " ON CONFLICT DO NOTHING");
  Stopwatch w;
  core::CsvReader reader(in);
  std::size_t rows = 0, in_tx = 0;
  bool header = true;
  for (;;) {
    auto r = reader.next();
    if (!r) continue;
    if (!*r) break;
    if (header) {
      header = false;
      continue;
    }
    if (in_tx == 0) db.exec("BEGIN IMMEDIATE");
    const auto& f = (*r)->fields;
    for (int c = 0; c < 7; ++c) {
      const std::size_t i = static_cast<std::size_t>(c);
      if (i < f.size() && !f[i].empty()) {
        sqlite3_bind_text(ins, c + 1, f[i].data(), static_cast<int>(f[i].size()), SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_null(ins, c + 1);
      }
    }
    step_done(db.raw(), ins);
    ++rows;
    if (++in_tx == tx) {
      db.exec("COMMIT");
      in_tx = 0;
    }
  }
  if (in_tx != 0) db.exec("COMMIT");
  sqlite3_finalize(ins);
  emit("import_base.insert_rows_per_s", static_cast<double>(rows) / w.seconds(), "rows/s");
  return 0;
}

// Bare indexed blob lookups of the same supporter rows, by blind index,
// with the indexes read from the table itself (no key needed).
int lookup_baseline(const Args& a) {
  const std::string path = a.str("db");
  if (path.empty()) die("--db is required");
  const double seconds = a.num("seconds", 3);
  const auto threads = static_cast<unsigned>(std::max(1.0, a.num("threads", 1)));
  // The product's read connections: page cache and memory map (store/sqlite).
  const auto cache_kib = static_cast<long>(a.num("cache-kib", 16384));
  const auto mmap_mib = static_cast<long>(a.num("mmap-mib", 0));
  std::vector<std::vector<std::uint8_t>> keys;
  {
    // Every index, then a sample of 200,000 spread over the whole table, so
    // that on a large base the lookups touch all of the index (as the
    // in-process lookup's random supporters do), not its first pages.
    Db db(path, true);
    sqlite3_stmt* st = db.prepare("SELECT email_index FROM supporters WHERE email_index IS NOT NULL");
    while (sqlite3_step(st) == SQLITE_ROW) {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(st, 0));
      keys.emplace_back(p, p + sqlite3_column_bytes(st, 0));
    }
    sqlite3_finalize(st);
  }
  if (keys.empty()) die("no supporters to look up");
  std::shuffle(keys.begin(), keys.end(), std::mt19937_64(7));
  if (keys.size() > 200000) keys.resize(200000);
  // One connection per thread, each on its own slice of the sample, as the
  // console's workers each hold their own connection.
  std::vector<std::uint64_t> done(threads, 0);
  std::vector<std::string> failures(threads);
  Stopwatch w;
  {
    std::vector<std::jthread> pool;
    for (unsigned t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        Db db(path, true);
        db.exec(("PRAGMA cache_size=-" + std::to_string(cache_kib)).c_str());
        db.exec(("PRAGMA mmap_size=" + std::to_string(mmap_mib * 1024 * 1024)).c_str());
        sqlite3_stmt* q = db.prepare(
            "SELECT id, key_version, wrapped_key, fields, email_index, phone_index, consent_email_at, "
            "consent_sms_at, created_at, updated_at FROM supporters WHERE email_index = ?1");
        std::uint64_t n = 0, found = 0;
        const std::size_t offset = keys.size() * t / threads;
        while (w.seconds() < seconds) {
          for (int k = 0; k < 256; ++k, ++n) {
            const auto& key = keys[(offset + n) % keys.size()];
            sqlite3_bind_blob(q, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
            if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_bytes(q, 3) > 0) ++found;
            sqlite3_reset(q);
          }
        }
        sqlite3_finalize(q);
        done[t] = n;
        if (found != n) failures[t] = "a lookup found nothing";
      });
    }
  }
  const double elapsed = w.seconds();
  std::uint64_t n = 0;
  for (unsigned t = 0; t < threads; ++t) {
    if (!failures[t].empty()) die(failures[t]);
    n += done[t];
  }
  emit("lookup_base.per_s", static_cast<double>(n) / elapsed, "lookups/s");
  emit("lookup_base.mean_us", elapsed * 1e6 * threads / static_cast<double>(n), "us");
  return 0;
}

}  // namespace rempart::bench
