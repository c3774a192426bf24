#pragma once
// `rempart audit verify`: recomputes the whole chain, every MAC and every
// checkpoint signature, and holds the database against the checkpoints
// published outside it. What each check catches is in docs/audit.md.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "audit/checkpoint.hpp"
#include "core/error.hpp"
#include "crypto/keyring.hpp"
#include "store/store.hpp"

namespace rempart::audit {

// One problem found. `seq` is the first entry it concerns (0 when it is
// about the checkpoint file as a whole).
struct Fault {
  std::int64_t seq = 0;
  std::string reason;  // names fields and seqs, never an entry's content
};

// A restore recorded in the log: a `backup.restore` entry (written by
// `rempart backup restore`, backup_manifest.hpp) at `seq`, directly after
// the head of the backup it names. It is *confirmed* when the outside
// checkpoint file holds a valid checkpoint of that very entry (seq and
// hash), which the restore appends: the file's checkpoints written before
// that line, for `seq` or later, were signed for the log the restore set
// aside, and are not held against this one. Checkpoints written after it
// are held against the log as always, and without a confirmed restore
// entry a log that ends before the file's checkpoints is a rollback.
struct RestorePoint {
  std::int64_t seq = 0;
  store::Bytes hash;
  std::int64_t backup_taken_at_us = 0;  // when the backup was made (its manifest)
  bool confirmed = false;               // in the verification that reported it
};

// A prefix of the chain that an earlier verification found whole: entries
// 1..seq, the last one's hash, the highest seq a valid checkpoint
// confirmed in it, and the restores recorded in it.
struct VerifiedPrefix {
  std::int64_t seq = 0;
  store::Bytes hash;
  std::int64_t covered_seq = 0;
  std::vector<RestorePoint> restores;
};

struct VerifyOptions {
  // Checkpoints published outside the database. Without one, truncation of
  // the tail and a rollback of the whole file cannot be detected.
  std::optional<std::filesystem::path> checkpoint_file;
  std::size_t max_faults = 100;  // faults kept (the count goes on)
  // Verify only what follows this prefix: the entry at `after.seq` must
  // still be there with the same hash (which a relinked rewrite of any
  // earlier entry, a truncation or a swapped database changes), then the
  // entries after it are checked as in a whole verification, linked to that
  // hash. An in-place edit of an entry below `after.seq` whose successors
  // keep their links is not seen: only a whole verification reads it.
  // Checkpoints at or below `after.seq` have their signatures checked but
  // are not held against the entries again.
  std::optional<VerifiedPrefix> after;
  // The log is a copy (a backup) of a log that went on: checkpoints of the
  // outside file for seqs past its last entry are counted in `ahead`, not
  // faults. Those within it are held against it as always.
  bool file_may_run_ahead = false;
};

struct VerifyReport {
  std::int64_t from_seq = 1;         // first entry verified (after.seq + 1, or 1)
  std::int64_t entries = 0;          // entries read
  std::int64_t last_seq = 0;         // highest seq in the database
  std::size_t db_checkpoints = 0;
  std::size_t file_checkpoints = 0;  // 0 when no file was read
  bool file_read = false;
  std::int64_t covered_seq = 0;      // highest seq confirmed by a valid checkpoint
  std::vector<Fault> faults;         // sorted by seq, at most max_faults
  std::size_t fault_count = 0;       // all faults, kept or not
  double seconds = 0;                // wall time of the check
  store::Bytes last_hash;            // hash of entry last_seq as stored
  std::vector<RestorePoint> restores;  // every restore recorded in the log, by seq
  std::size_t set_aside = 0;           // file checkpoints of a log a confirmed restore set aside
  std::int64_t set_aside_last_seq = 0; // the highest seq among them
  std::size_t ahead = 0;               // with file_may_run_ahead: file checkpoints past the last entry
  std::int64_t ahead_last_seq = 0;     // the highest seq among them

  bool ok() const noexcept { return fault_count == 0; }
  bool whole() const noexcept { return from_seq == 1; }
  // The fault with the lowest seq: the first bad entry.
  const Fault* first() const noexcept { return faults.empty() ? nullptr : &faults.front(); }
};

// Streams the log once (memory does not grow with its length). Returns a
// report whatever it finds; an Error only when the store cannot be read.
// Reads the database checkpoints, then the file, then the entries, so a
// checkpoint written meanwhile by a running keeper never names an entry the
// scan cannot see. Thread-compatible; `store` is used from this thread.
Result<VerifyReport> verify(store::KeeperStore& store, const crypto::KeeperKeyring& keys, const VerifyOptions& opts);

}  // namespace rempart::audit
