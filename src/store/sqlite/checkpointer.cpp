#include "store/sqlite/checkpointer.hpp"

#include <optional>
#include <utility>

#include "store/sqlite/connection.hpp"

namespace rempart::store::sqlite {

Checkpointer::Checkpointer(std::filesystem::path db, int wal_pages)
    : db_(std::move(db)), wal_pages_(wal_pages), thread_([this] { run(); }) {}

Checkpointer::~Checkpointer() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Checkpointer::attach(sqlite3* conn) noexcept { sqlite3_wal_hook(conn, &Checkpointer::on_commit, this); }

CheckpointStats Checkpointer::stats() const {
  MutexLock lock(mu_);
  return stats_;
}

// Runs on the committing thread, after the commit is durable and its write
// lock released: it only raises a flag. Returning SQLITE_OK is required of
// a WAL hook; the commit has already succeeded.
int Checkpointer::on_commit(void* self, sqlite3*, const char*, int wal_pages) noexcept {
  auto* c = static_cast<Checkpointer*>(self);
  if (wal_pages < c->wal_pages_) return SQLITE_OK;
  {
    MutexLock lock(c->mu_);
    ++c->stats_.requested;
    if (c->pending_) return SQLITE_OK;
    c->pending_ = true;
  }
  c->cv_.notify_one();
  return SQLITE_OK;
}

void Checkpointer::run() {
  std::optional<Connection> conn;
  for (;;) {
    {
      MutexLock lock(mu_);
      while (!pending_ && !stopping_) lock.wait(cv_);
      if (stopping_) return;
      pending_ = false;
    }
    if (!conn) {
      auto c = Connection::open(db_);
      if (c && configure(*c)) conn.emplace(std::move(*c));
    }
    // PASSIVE: copies every frame no reader still needs and returns; it
    // never waits for a lock, so a writer is never held up by it.
    const int rc = conn ? sqlite3_wal_checkpoint_v2(conn->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                                    nullptr)
                        : SQLITE_CANTOPEN;
    MutexLock lock(mu_);
    if (rc == SQLITE_OK) {
      ++stats_.completed;
    } else {
      ++stats_.failed;
    }
  }
}

}  // namespace rempart::store::sqlite
