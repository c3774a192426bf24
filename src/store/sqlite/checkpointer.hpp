#pragma once
// Copies the write-ahead log back into the database file on a thread of its
// own, so that no commit waits for a checkpoint.
//
// SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL
// past its threshold: that commit then copies thousands of pages and syncs
// the database file before it returns. On the intake's group commit this
// stalled every sign-up of the group for tens of milliseconds and set the
// p99 latency (docs/benchmarks.md). A connection attached here checkpoints
// never itself: its commits only ask this thread, which runs a PASSIVE
// checkpoint on a connection of its own (the same kind SQLite would run:
// it waits for no reader or writer and copies what it can).
#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/mutex.hpp"

namespace rempart::store::sqlite {

// The WAL size, in pages, past which a checkpoint is due: the same 8,000 as
// configure()'s `wal_autocheckpoint` for every other connection (32 MiB of
// 4 KiB pages; docs/benchmarks.md measured why not fewer).
inline constexpr int kWalCheckpointPages = 8000;

struct CheckpointStats {
  std::uint64_t requested = 0;  // commits that found the WAL at or past the threshold
  std::uint64_t completed = 0;  // checkpoints that ran to SQLITE_OK
  std::uint64_t failed = 0;     // checkpoints that could not run (busy, I/O); the next request retries
};

class Checkpointer {
 public:
  // `db` is the database file; `wal_pages` the WAL size, in pages, from which
  // a commit asks for a checkpoint. Starts the thread; it opens its own
  // connection on the first request.
  Checkpointer(std::filesystem::path db, int wal_pages);
  // Stops the thread after the checkpoint in progress, if any. Detach every
  // connection (or close it) before: the hook points here.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Replaces `conn`'s automatic checkpoint with a request to this thread
  // after each of its commits. `conn` must be closed, or detached with
  // sqlite3_wal_hook(conn, nullptr, nullptr), before this object dies.
  void attach(sqlite3* conn) noexcept;

  CheckpointStats stats() const;

 private:
  static int on_commit(void* self, sqlite3* conn, const char* db_name, int wal_pages) noexcept;
  void run();

  const std::filesystem::path db_;
  const int wal_pages_;
  mutable Mutex mu_;
  std::condition_variable cv_;
  bool pending_ REMPART_GUARDED_BY(mu_) = false;
  bool stopping_ REMPART_GUARDED_BY(mu_) = false;
  CheckpointStats stats_ REMPART_GUARDED_BY(mu_);
  std::thread thread_;  // last: started once every member above exists
};

}  // namespace rempart::store::sqlite
