#pragma once
// RFC 4180 reader for CRM imports. Rows come back as raw strings (well-formed
// UTF-8) for the caller to map onto a RawSubmission and validate. Errors name
// the physical line where the bad row starts, never its content.
#include <cstddef>
#include <cstdint>
#include <istream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace rempart::core {

struct CsvRow {
  std::size_t line = 0;  // 1-based physical line where the row starts
  std::vector<std::string> fields;
  bool operator==(const CsvRow&) const = default;
};

// Reads ',', ';' or tab separated values: the delimiter is whichever of the
// three occurs most often (outside quotes) in the header line, ',' on a tie
// (then ';').
// Accepts quoted fields with "" escapes and embedded newlines, CRLF or LF
// line ends, a leading UTF-8 BOM; skips blank lines. The header is returned
// as the first row. Input that is not UTF-8 goes through Utf8Input
// (core/encoding.hpp) first.
//
// The stream is read through in.rdbuf() in blocks of 64 KiB, and only once:
// its state flags are left alone, and in.tellg() tells how far the reader has
// read, up to a block and a row ahead of the rows returned (offset() is
// exact). Memory stays under a few hundred KiB whatever the input.
//
// The work is linear in the input size, hostile input included: after an
// error the reader goes back to the bad row's second line (see next()), and
// a quoted field that runs on over many lines would make each of those lines
// rescan it; the reader remembers, for each line start reached inside a
// quoted field, where that field's scan ended, and does not scan it again.
//
// Not thread-safe. Does not own the stream, which must outlive the reader.
class CsvReader {
 public:
  static constexpr std::size_t kMaxRowBytes = 64 * 1024;

  explicit CsvReader(std::istream& in);
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // The next row, std::nullopt at end of input, or an error:
  //  - Errc::invalid_input for an unterminated quoted field (one still open
  //    at end of input or after kMaxRowBytes), a character after a closing
  //    quote, a row longer than kMaxRowBytes, or a field that is not
  //    well-formed UTF-8. The reader has already resynchronised: the next
  //    call resumes at the line after the bad row's first line (after the
  //    whole row for bad UTF-8, after the overlong line for an overlong
  //    unquoted row), so a caller can count the error and go on; every row
  //    start is a later line than the one before, so there are at most as
  //    many errors as lines.
  //  - Errc::io if the stream fails (badbit, or its buffer throws); further
  //    calls return end of input.
  Result<std::optional<CsvRow>> next();

  // The delimiter in use; meaningful once next() has been called.
  char delimiter() const noexcept { return delim_; }

  // Line where the row behind the last error started (0 if none yet).
  std::size_t last_error_line() const noexcept { return error_line_; }

  // Offset in the stream where the next row starts: the bytes taken by the
  // rows, blank lines and errors returned so far (a BOM included). Exact,
  // unlike in.tellg(), which runs ahead by what the reader has buffered.
  std::uint64_t offset() const noexcept { return pos_; }

  // Bytes the reader has examined so far, re-examinations included: at most
  // a small multiple of the input size (the linear bound above, observable).
  std::uint64_t bytes_examined() const noexcept { return examined_; }

 private:
  enum class State : std::uint8_t { field_start, unquoted, quoted, after_quote };
  enum class End : std::uint8_t { row, unterminated, after_quote, quoted_limit, overlong };
  // How the scan of one row ended: `at` is the row's end (past its line
  // break) for End::row, else where the scan stopped.
  struct Scan {
    End end = End::row;
    std::uint64_t at = 0;
    std::uint64_t content_end = 0;  // End::row: where the line break starts
    std::uint64_t second_line = 0;  // just past the row's first '\n', 0 if the scan saw none
  };
  // A line start reached in the quoted state. Scans from there are all alike,
  // so the node records how the last one went: `next` links to a later node
  // on the same path (0 for the path's last node, which holds the outcome).
  enum class Outcome : std::uint8_t { open, unterminated, after_quote, quoted_limit };
  struct Node {
    std::uint64_t next = 0;
    Outcome outcome = Outcome::open;
    std::uint64_t at = 0;  // where the scan that set the outcome stopped
  };

  // The nodes this row's scan has added or joined.
  struct Trail {
    std::uint64_t tail = 0;  // the latest, 0 if none
    bool on = true;
  };
  // What a node tells the scan that reaches it.
  struct Jump {
    enum class Kind : std::uint8_t { none, ends, resumes } kind = Kind::none;
    End end = End::row;    // Kind::ends: how the row ends
    std::uint64_t at = 0;  // Kind::ends: where; Kind::resumes: where the scan goes on, quoted
  };

  struct Skip {
    std::uint64_t to = 0;  // past the '\n', or the end of input
    bool found = false;
  };

  void start();
  bool fill(std::uint64_t pos);
  int byte_at(std::uint64_t pos);
  void compact();
  Scan scan_row(std::uint64_t start);
  Jump visit(std::uint64_t line_start, Trail& trail);
  std::uint64_t path_end(std::uint64_t node);
  void record(std::uint64_t tail, const Scan& scan);
  std::vector<std::string> split(std::uint64_t start, std::uint64_t end);
  std::uint64_t count_breaks(std::uint64_t from, std::uint64_t to);
  Skip skip_line(std::uint64_t from);
  std::unexpected<Error> row_error(std::size_t start_line, const char* what);
  std::unexpected<Error> io_error();

  std::istream& in_;
  std::string buf_;          // input bytes from offset base_ on
  std::uint64_t base_ = 0;   // input offset of buf_[0]
  std::uint64_t pos_ = 0;    // input offset where the next row starts
  std::size_t line_ = 1;     // line of pos_
  std::map<std::uint64_t, Node> paths_;  // by line-start offset, none before pos_
  std::uint64_t examined_ = 0;
  std::size_t error_line_ = 0;
  bool started_ = false;
  bool at_eof_ = false;   // the stream has no more bytes
  bool broken_ = false;   // the stream failed
  bool failed_ = false;   // the failure was reported
  char delim_ = ',';
};

}  // namespace rempart::core
