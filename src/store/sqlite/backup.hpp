#pragma once
// Online copies of the SQLite files of a data directory (`rempart backup`,
// docs/operations.md "Backups"), made with SQLite's backup API while `serve`
// reads and writes them, and the checks run on such a copy.
#include <array>
#include <filesystem>
#include <memory>

#include "core/error.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"

namespace rempart::store::sqlite {

// The files a backup of a data directory holds, in the order they are
// copied. The inbox first: each file is copied from one snapshot of its own,
// and the fold commits a pass into the records' file before it deletes the
// pass from the inbox. Copied in this order, a sign-up folded between the
// two snapshots is in both copies (folded again after a restore, which
// changes no record); in the other order it could be in neither.
inline constexpr std::array<const char*, 2> kBackupFiles = {kInboxFile, kRecordsFile};

// Copies the database at `from` into a new file `to` (mode 0600; its
// directory must exist) with SQLite's backup API, from one read snapshot
// of `from` (in WAL mode, writers go on meanwhile). `from` is opened
// read-only: its content is never changed (when no other connection has it
// open, SQLite leaves an empty -wal and its -shm beside it, as any reader
// of a WAL file does; a later read-write connection removes them). The copy is synced
// to disk before this returns. Errc::not_found
// if `from` does not exist, Errc::conflict if `to` does, Errc::busy if no
// snapshot could be had within the busy timeout, Errc::io or Errc::storage
// otherwise; on failure `to` is removed. Messages name the file, never SQL.
Result<void> copy_database(const std::filesystem::path& from, const std::filesystem::path& to);

// SQLite's quick_check of a copy, read through Connection::open_copy:
// Errc::invalid_input ("<name> is damaged") if it finds a problem or SQLite
// cannot read the file, naming no content. The copy is not changed.
Result<void> check_copy(const std::filesystem::path& file);

}  // namespace rempart::store::sqlite
