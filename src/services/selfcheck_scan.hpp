#pragma once
// The self-check's plaintext scan: every byte of the data files (the
// database, the inbox, their write-ahead logs, the exports) read as a
// stream, counting what is shaped like an e-mail address or a phone number
// in clear. Records are sealed, so there should be none; staff-written text
// (consent wordings, mailings, call scripts, segment definitions, export
// reasons, the breach register) may hold some, and those values are read
// through SQLite, read-only, with fixed statements, and counted apart.
// Counts and file names only: a value found is never shown, logged or kept.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "services/selfcheck.hpp"

namespace rempart::services::selfcheck {

// A streaming matcher: feed() any number of chunks, then finish(). An
// e-mail is local@domain.tld (local 3..64 of [A-Za-z0-9._%+-], labels of
// [A-Za-z0-9-], the one before the last of 2 at least, a top-level label
// of 2..24 letters: shorter shapes turn up by chance in ciphertext); a phone is E.164
// ("+" and 8..15 digits) or a national number of 10 digits starting 0[1-9],
// with optional single spaces, dots or dashes between pairs; both bounded by
// characters that could not continue them. Values in `allowed` (e-mails
// lower-cased, phones as digits with their "+") are counted as allowed.
class PlaintextCounter {
 public:
  explicit PlaintextCounter(const std::unordered_set<std::string>* allowed = nullptr) : allowed_(allowed) {}
  void feed(std::span<const std::uint8_t> chunk);
  void finish();

  std::int64_t emails = 0, phones = 0;                  // not allowed
  std::int64_t allowed_emails = 0, allowed_phones = 0;  // in staff-written text
  std::uint64_t bytes = 0;

 private:
  void scan(std::size_t from, std::size_t to);
  void count(std::string value, bool email);
  const std::unordered_set<std::string>* allowed_;
  std::vector<std::uint8_t> buf_;
  std::size_t examined_ = 0;  // anchors below this index of buf_ were examined
};

// Every e-mail- or phone-shaped value in `text`, normalised as above.
std::vector<std::string> plaintext_values(std::string_view text);

// The values in the staff-written columns of a SQLite database, opened
// read-only; tables an older schema lacks are skipped.
Result<std::unordered_set<std::string>> known_plaintext(const std::filesystem::path& db);

// The patterns of the scan's findings, for Report::from_json.
std::span<const char* const> scan_texts() noexcept;

struct ScanResult {
  std::vector<Finding> findings;  // group "plaintext"
  std::uint64_t bytes = 0;
  double seconds = 0;
};
// Scans the data files of `s` (SQLite: rempart.db, inbox.db and their -wal;
// every backend: the exports directory).
ScanResult scan_data_files(const Settings& s);

}  // namespace rempart::services::selfcheck
