#pragma once
// RFC 4180 reader for CRM imports. Rows come back as raw strings (well-formed
// UTF-8) for the caller to map onto a RawSubmission and validate. Errors name
// the physical line where the bad row starts, never its content.
#include <cstddef>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace rempart::core {

struct CsvRow {
  std::size_t line = 0;  // 1-based physical line where the row starts
  std::vector<std::string> fields;
  bool operator==(const CsvRow&) const = default;
};

// Reads ',' or ';' separated values: the delimiter is whichever of the two
// occurs more often (outside quotes) in the header line, ',' on a tie.
// Accepts quoted fields with "" escapes and embedded newlines, CRLF or LF
// line ends, a leading UTF-8 BOM; skips blank lines. The header is returned
// as the first row.
//
// Not thread-safe. Does not own the stream, which must outlive the reader.
class CsvReader {
 public:
  static constexpr std::size_t kMaxRowBytes = 64 * 1024;

  explicit CsvReader(std::istream& in);
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // The next row, std::nullopt at end of input, or an error:
  //  - Errc::invalid_input for an unterminated quoted field, a character
  //    after a closing quote, a row longer than kMaxRowBytes, or a field that
  //    is not well-formed UTF-8. The reader has already resynchronised: the
  //    next call resumes at the line after the bad row's first line (after the
  //    whole row for bad UTF-8, after the overlong line for an overlong row),
  //    so a caller can count the error and go on.
  //  - Errc::io if the stream fails; further calls return end of input.
  Result<std::optional<CsvRow>> next();

  // The delimiter in use; meaningful once next() has been called.
  char delimiter() const noexcept { return delim_; }

  // Line where the row behind the last error started (0 if none yet).
  std::size_t last_error_line() const noexcept { return error_line_; }

 private:
  void start();
  int get();
  int peek();
  void skip_line();
  void resync_after_first_line(std::size_t start_line);
  std::unexpected<Error> row_error(std::size_t start_line, const char* what);

  std::istream& in_;
  std::string pending_;  // bytes to read before the stream (header, re-read lines)
  std::size_t pending_pos_ = 0;
  std::string raw_;  // bytes of the current row, for resynchronisation
  std::size_t line_ = 1;
  std::size_t error_line_ = 0;
  bool started_ = false;
  bool failed_ = false;
  char delim_ = ',';
};

}  // namespace rempart::core
