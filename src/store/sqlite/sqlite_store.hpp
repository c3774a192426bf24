#pragma once
// The SQLite implementations of the store interfaces, over two files: the
// records' file, which only the keeper opens, and the inbox file, where the
// intake appends and the keeper reads and deletes (each on a connection of
// its own, in one process or two; SQLite's WAL mode lets the keeper read
// while the intake writes). A fold's commit on the records' file never
// holds the lock the intake's commits need.
//
// Every connection runs with journal_mode=WAL, synchronous=FULL (a commit is
// durable when it returns), secure_delete=ON (deleted rows are zeroed in the
// file), foreign_keys=ON, trusted_schema=OFF, defensive mode, ATTACH disabled
// and a 10 s busy timeout.
#include <filesystem>
#include <memory>

#include "core/error.hpp"
#include "store/backend.hpp"
#include "store/sqlite/checkpointer.hpp"
#include "store/store.hpp"

struct sqlite3;

namespace rempart::store {

// Two files: the records' file (rempart.db: supporters, audit log, accounts,
// everything the keeper owns) and the inbox file (inbox.db: sealed
// submissions waiting to be folded). The intake opens the inbox file only.
//
// Opens the intake side of the inbox file at `inbox`. Creates the file if missing
// (mode 0600) and applies pending migrations on a separate, short-lived
// connection first. The returned store's connection is bound to an authorizer
// that lets it insert into the inbox and intake_batches and nothing else: no
// read of any table, no update, delete, schema change, pragma or attach.
// Errors: Errc::io if the file cannot be created or opened, Errc::permission
// if it is accessible to group or others, Errc::config if its schema is newer
// than this binary, Errc::busy / Errc::storage from SQLite.
// Its commits never checkpoint the WAL themselves: once the WAL holds
// `checkpoint_wal_pages` pages, a thread of the store copies it back into
// the database file (sqlite/checkpointer.hpp), so a group commit never
// waits for a checkpoint.
// Thread-safety: the store must be used by one thread at a time.
Result<std::unique_ptr<IntakeStore>> open_sqlite_intake(const std::filesystem::path& inbox,
                                                        int checkpoint_wal_pages = sqlite::kWalCheckpointPages);

// Opens the keeper's side of the inbox file at `inbox`, creating and
// migrating it as open_sqlite_intake does. An authorizer lets its connection
// read the inbox and delete from it, nothing else (no insert, update,
// schema change, pragma or attach). Same errors.
// Thread-safety: the store must be used by one thread at a time.
Result<std::unique_ptr<InboxStore>> open_sqlite_inbox(const std::filesystem::path& inbox);

// Opens the keeper side of the records' file at `db`, creating and
// migrating it as open_sqlite_intake does the inbox file. Its connection may
// read and write rows but an authorizer refuses schema changes, pragmas and
// attach. Same errors.
// Thread-safety: the store must be used by one thread at a time.
Result<std::unique_ptr<KeeperStore>> open_sqlite_keeper(const std::filesystem::path& db);

// The same keeper store for a bulk writer that commits all the time (an
// import, a synthetic fill): its commits never checkpoint the WAL
// themselves; past `checkpoint_wal_pages`, a thread of the store does (as
// open_sqlite_intake's does), so the writer goes on while the WAL is copied
// back. Every other keeper store, the fold loop's included (see
// cli/commands.cpp), checkpoints inside the commit that takes the WAL past
// the threshold, as SQLite does by default. Same errors.
// Thread-safety: the store must be used by one thread at a time.
Result<std::unique_ptr<KeeperStore>> open_sqlite_keeper_writer(const std::filesystem::path& db,
                                                               int checkpoint_wal_pages = sqlite::kWalCheckpointPages);

// Opens a copy of the records' file (a backup: store/sqlite/backup.hpp) to
// read it: read-only and immutable (Connection::open_copy), with the
// keeper's authorizer; nothing is migrated or written, every write fails.
// The file must not change while the store is open. Errc::not_found if it
// does not exist, Errc::config if a newer rempart made it (its schema is
// past this binary's), Errc::storage from SQLite.
// Thread-safety: the store must be used by one thread at a time.
Result<std::unique_ptr<KeeperStore>> open_sqlite_keeper_copy(const std::filesystem::path& db);

// The sqlite backend: the records' file and the inbox file in `data_dir`
// (which must exist). Its first keeper store of a process runs
// sqlite::upgrade_keeper_files.
Result<std::unique_ptr<Backend>> open_sqlite_backend(const std::filesystem::path& data_dir);

namespace sqlite {

inline constexpr const char* kRecordsFile = "rempart.db";
inline constexpr const char* kInboxFile = "inbox.db";

// Brings what an older version left in the two files up to date, before
// the keeper folds: inbox items at or below a fold mark (folded already)
// are deleted and the marks go; submissions kept in the records' file's own
// inbox move into the inbox file. Returns how many submissions moved.
// Idempotent; a stop part-way is finished by the next call.
Result<std::size_t> upgrade_keeper_files(const std::filesystem::path& db, const std::filesystem::path& inbox);

// The authorizers installed on intake and keeper connections, in the shape
// sqlite3_set_authorizer expects. Exposed so tests can check them.
int intake_authorizer(void* unused, int action, const char* arg1, const char* arg2,
                      const char* db_name, const char* trigger) noexcept;
int keeper_authorizer(void* unused, int action, const char* arg1, const char* arg2,
                      const char* db_name, const char* trigger) noexcept;
int inbox_keeper_authorizer(void* unused, int action, const char* arg1, const char* arg2,
                            const char* db_name, const char* trigger) noexcept;

namespace test_hooks {
// Test-only: the background checkpoints of a store returned by
// open_sqlite_intake or open_sqlite_keeper_writer (zeros for any other store).
CheckpointStats checkpoints(IntakeStore& store);
CheckpointStats checkpoints(KeeperStore& store);
// Test-only: the raw connection behind a store returned by
// open_sqlite_intake / open_sqlite_keeper (nullptr for any other store), so
// tests can try statements an attacker might inject on it. Never use it in
// production code: it bypasses every contract of the store.
sqlite3* raw_handle(IntakeStore& store) noexcept;
sqlite3* raw_handle(KeeperStore& store) noexcept;
sqlite3* raw_handle(InboxStore& store) noexcept;
}  // namespace test_hooks

}  // namespace sqlite
}  // namespace rempart::store
