#include "store/sqlite/backup.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "core/fd.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/statements.hpp"

namespace rempart::store::sqlite {
namespace {

std::string errno_text(int e) { return std::strerror(e); }

// A raw handle closed on every return path: the backup API works on
// handles, not on rempart's Connection (which the source must not be: it
// is opened read-only, and never through Connection::open's read-write).
class Handle {
 public:
  Handle() = default;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { close(); }
  sqlite3** out() noexcept { return &db_; }
  sqlite3* get() const noexcept { return db_; }
  int close() noexcept {
    const int rc = db_ != nullptr ? sqlite3_close(db_) : SQLITE_OK;
    db_ = nullptr;
    return rc;
  }

 private:
  sqlite3* db_ = nullptr;
};

// The copy, removed unless it was made whole.
class NewFile {
 public:
  explicit NewFile(std::filesystem::path p) : path_(std::move(p)) {}
  NewFile(const NewFile&) = delete;
  NewFile& operator=(const NewFile&) = delete;
  ~NewFile() {
    if (kept_) return;
    ::unlink(path_.c_str());
    // The rollback journal of the copy's own transaction, if one was left.
    ::unlink((path_.string() + "-journal").c_str());
  }
  void keep() noexcept { kept_ = true; }

 private:
  std::filesystem::path path_;
  bool kept_ = false;
};

std::string name_of(const std::filesystem::path& p) { return p.filename().string(); }

}  // namespace

Result<void> copy_database(const std::filesystem::path& from, const std::filesystem::path& to) {
  configure_library();
  struct stat st {};
  if (::stat(from.c_str(), &st) != 0) {
    if (errno == ENOENT) return fail(Errc::not_found, from.string() + " does not exist");
    return fail(Errc::io, "cannot look at " + from.string() + ": " + errno_text(errno));
  }
  if (!S_ISREG(st.st_mode)) return fail(Errc::io, from.string() + " is not a regular file");

  // Read-only: the copy never writes to the served file. The database file
  // is opened by SQLite only (never here), as everywhere in rempart.
  Handle src;
  int rc = sqlite3_open_v2(from.c_str(), src.out(), SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return std::unexpected(sqlite_error(rc, "open", name_of(from)));
  sqlite3_busy_timeout(src.get(), kBusyTimeoutMs);

  // O_EXCL: nothing in place is ever overwritten; the new file is no one
  // else's, so closing this descriptor drops no lock.
  {
    core::UniqueFd fd(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
      if (errno == EEXIST) return fail(Errc::conflict, to.string() + " exists already");
      return fail(Errc::io, "cannot create " + to.string() + ": " + errno_text(errno));
    }
    if (::fchmod(fd.get(), 0600) != 0) {
      const int e = errno;
      ::unlink(to.c_str());
      return fail(Errc::io, "cannot set mode 0600 on " + to.string() + ": " + errno_text(e));
    }
  }
  NewFile made(to);
  Handle dst;
  rc = sqlite3_open_v2(to.c_str(), dst.out(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return std::unexpected(sqlite_error(rc, "open", name_of(to)));

  sqlite3_backup* b = sqlite3_backup_init(dst.get(), "main", src.get(), "main");
  if (b == nullptr) return std::unexpected(sqlite_error(sqlite3_errcode(dst.get()), "backup", name_of(from)));
  // All pages in one step: one read transaction of the source, so the copy
  // is one snapshot of it. A writer in another process never blocks it
  // (WAL); BUSY comes only while a connection recovers the WAL.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  do {
    rc = sqlite3_backup_step(b, -1);
    if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  } while ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && std::chrono::steady_clock::now() < until);
  const int finished = sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) return std::unexpected(sqlite_error(rc, "backup", name_of(from)));
  if (finished != SQLITE_OK) return std::unexpected(sqlite_error(finished, "backup", name_of(from)));
  if (int c = dst.close(); c != SQLITE_OK) return std::unexpected(sqlite_error(c, "close", name_of(to)));

  // SQLite syncs the copy at its commit; sync it again now that nothing
  // holds it, so the file is on disk whatever the copy's sync setting.
  core::UniqueFd fd(::open(to.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) return fail(Errc::io, "cannot sync " + to.string() + ": " + errno_text(errno));
  made.keep();
  return {};
}

Result<void> check_copy(const std::filesystem::path& file) {
  // SQLite's own error (a page that does not parse, not a database at all)
  // is the copy's damage too; its message is SQLite's generic text.
  auto unreadable = [&](const Error& e) {
    return fail(Errc::invalid_input, name_of(file) + " is damaged: " + e.internal);
  };
  auto conn = Connection::open_copy(file);
  if (!conn) return unreadable(conn.error());
  auto q = conn->query(sql::kPragmaQuickCheck);
  if (!q) return unreadable(q.error());
  std::size_t problems = 0;
  for (;;) {
    auto row = q->step();
    if (!row) return unreadable(row.error());
    if (!*row) break;
    if (q->text_view(0) != "ok") ++problems;
  }
  if (problems > 0) {
    return fail(Errc::invalid_input, name_of(file) + " is damaged: SQLite's quick_check found " +
                                         std::to_string(problems) + " problem(s)");
  }
  return {};
}

}  // namespace rempart::store::sqlite
