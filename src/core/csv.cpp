#include "core/csv.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/text.hpp"

namespace rempart::core {

namespace {
constexpr int kEof = std::char_traits<char>::eof();
constexpr std::size_t kBlock = 64 * 1024;
}  // namespace

CsvReader::CsvReader(std::istream& in) : in_(in) {}

// --- input window -------------------------------------------------------------

void CsvReader::compact() {
  // Nothing before pos_ is read again; dropping it only once a block has
  // piled up keeps the copying linear.
  if (pos_ - base_ < kBlock) return;
  buf_.erase(0, static_cast<std::size_t>(pos_ - base_));
  base_ = pos_;
}

bool CsvReader::fill(std::uint64_t pos) {
  while (pos >= base_ + buf_.size()) {
    if (at_eof_) return false;
    compact();
    const std::size_t old = buf_.size();
    buf_.resize(old + kBlock);
    std::streamsize n = 0;
    try {
      if (auto* sb = in_.rdbuf()) n = sb->sgetn(buf_.data() + old, static_cast<std::streamsize>(kBlock));
    } catch (...) {
      // A stream buffer reports a read or conversion failure by throwing.
      broken_ = true;
      try {
        in_.setstate(std::ios::badbit);
      } catch (...) {  // the stream's exception mask asks for a throw; the error is reported anyway
      }
    }
    buf_.resize(old + static_cast<std::size_t>(std::max<std::streamsize>(n, 0)));
    if (in_.bad()) broken_ = true;
    if (n <= 0 || broken_) at_eof_ = true;
  }
  return true;
}

int CsvReader::byte_at(std::uint64_t pos) {
  if (pos >= base_ + buf_.size() && !fill(pos)) return kEof;
  return static_cast<unsigned char>(buf_[static_cast<std::size_t>(pos - base_)]);
}

std::uint64_t CsvReader::count_breaks(std::uint64_t from, std::uint64_t to) {
  const char* b = buf_.data() + (from - base_);
  examined_ += to - from;
  return static_cast<std::uint64_t>(std::count(b, b + (to - from), '\n'));
}

CsvReader::Skip CsvReader::skip_line(std::uint64_t from) {
  std::uint64_t p = from;
  for (;;) {
    // The line may be far longer than a row: let the window slide over it.
    pos_ = p;
    if (byte_at(p) == kEof) return Skip{p, false};
    const char* b = buf_.data() + (p - base_);
    const std::size_t n = buf_.size() - static_cast<std::size_t>(p - base_);
    const void* nl = std::memchr(b, '\n', n);
    if (nl != nullptr) {
      const auto k = static_cast<std::size_t>(static_cast<const char*>(nl) - b);
      examined_ += k + 1;
      return Skip{p + k + 1, true};
    }
    examined_ += n;
    p += n;
  }
}

// --- header -------------------------------------------------------------------

void CsvReader::start() {
  started_ = true;
  if (byte_at(0) == 0xEF && byte_at(1) == 0xBB && byte_at(2) == 0xBF) pos_ = 3;
  std::size_t commas = 0;
  std::size_t semicolons = 0;
  std::size_t tabs = 0;
  bool quoted = false;
  for (std::uint64_t p = pos_; p - pos_ <= kMaxRowBytes; ++p) {
    const int c = byte_at(p);
    if (c == kEof || c == '\n') break;
    ++examined_;
    if (c == '"') quoted = !quoted;
    else if (!quoted && c == ',') ++commas;
    else if (!quoted && c == ';') ++semicolons;
    else if (!quoted && c == '\t') ++tabs;
  }
  delim_ = tabs > commas && tabs > semicolons ? '\t' : semicolons > commas ? ';' : ',';
}

// --- one row ------------------------------------------------------------------

std::uint64_t CsvReader::path_end(std::uint64_t node) {
  std::uint64_t last = node;
  for (auto it = paths_.find(last); it->second.next != 0; it = paths_.find(last)) last = it->second.next;
  for (std::uint64_t q = node; q != last;) {
    auto& n = paths_.find(q)->second;
    q = std::exchange(n.next, last);
  }
  return last;
}

void CsvReader::record(std::uint64_t tail, const Scan& scan) {
  if (tail == 0) return;
  Node& n = paths_.find(tail)->second;
  n.at = scan.at;
  switch (scan.end) {
    case End::unterminated: n.outcome = Outcome::unterminated; break;
    case End::after_quote: n.outcome = Outcome::after_quote; break;
    case End::quoted_limit: n.outcome = Outcome::quoted_limit; break;
    // The row is consumed whole: no later row starts inside it.
    case End::row:
    case End::overlong: n.outcome = Outcome::open; break;
  }
}

CsvReader::Jump CsvReader::visit(std::uint64_t line_start, Trail& trail) {
  if (!trail.on) return {};
  if (trail.tail != 0) paths_.find(trail.tail)->second.next = line_start;
  if (!paths_.contains(line_start)) {
    paths_.emplace(line_start, Node{});
    trail.tail = line_start;
    return {};
  }
  // Every scan that gets here goes on the same way, so the last one that
  // did tells how this one ends.
  const std::uint64_t last = path_end(line_start);
  const Node& n = paths_.find(last)->second;
  switch (n.outcome) {
    case Outcome::unterminated:
      trail.tail = 0;  // the path already holds the outcome
      return Jump{Jump::Kind::ends, End::unterminated, n.at};
    case Outcome::after_quote:
      trail.tail = 0;
      return Jump{Jump::Kind::ends, End::after_quote, n.at};
    case Outcome::quoted_limit:
      // That scan stopped at its row's limit, still quoted; this row started
      // later, so its own limit is further on.
      trail.tail = last;
      return Jump{Jump::Kind::resumes, End::quoted_limit, n.at};
    case Outcome::open:
      // Left by a row read whole, which no later row starts inside; never
      // met, but scanning on is right in any case.
      trail = Trail{0, false};
      return {};
  }
  return {};
}

CsvReader::Scan CsvReader::scan_row(std::uint64_t start) {
  Scan r;
  std::uint64_t p = start;
  State st = State::field_start;
  Trail trail;
  auto finish = [&](End end, std::uint64_t at) {
    r.end = end;
    r.at = at;
    record(trail.tail, r);
    return r;
  };
  auto row_end = [&](std::uint64_t content_end, std::uint64_t at) {
    r.content_end = content_end;
    return finish(End::row, at);
  };
  for (;;) {
    const int c = byte_at(p);
    if (c != kEof && p - start >= kMaxRowBytes) {
      return finish(st == State::quoted ? End::quoted_limit : End::overlong, p);
    }
    ++examined_;
    switch (st) {
      case State::quoted: {
        if (c == kEof) return finish(End::unterminated, p);
        if (c == '"') {
          if (byte_at(p + 1) == '"') {
            ++examined_;
            p += 2;
          } else {
            ++p;
            st = State::after_quote;
          }
          break;
        }
        ++p;
        if (c != '\n') break;
        if (r.second_line == 0) r.second_line = p;
        const Jump jump = visit(p, trail);
        if (jump.kind == Jump::Kind::ends) return finish(jump.end, jump.at);
        if (jump.kind == Jump::Kind::resumes) p = jump.at;
        break;
      }
      case State::after_quote:
        if (c == kEof) return row_end(p, p);
        if (c == '\n') return row_end(p, p + 1);
        if (c == delim_) {
          ++p;
          st = State::field_start;
        } else if (c == '\r' && byte_at(p + 1) == '\n') {
          return row_end(p, p + 2);
        } else {
          return finish(End::after_quote, p);
        }
        break;
      case State::field_start:
        if (c == '"') {
          ++p;
          st = State::quoted;
          break;
        }
        [[fallthrough]];
      case State::unquoted:
        if (c == kEof) return row_end(p, p);
        if (c == '\n') return row_end(p, p + 1);
        if (c == '\r' && byte_at(p + 1) == '\n') return row_end(p, p + 2);
        ++p;
        st = c == delim_ ? State::field_start : State::unquoted;
        break;
    }
  }
}

std::vector<std::string> CsvReader::split(std::uint64_t start, std::uint64_t end) {
  // scan_row() has checked the row's shape: every quoted field closes and is
  // followed by a delimiter or the end.
  const std::string_view row(buf_.data() + (start - base_), static_cast<std::size_t>(end - start));
  examined_ += row.size();
  std::vector<std::string> fields;
  std::size_t i = 0;
  for (;;) {
    std::string field;
    if (i < row.size() && row[i] == '"') {
      ++i;
      for (;;) {
        const std::size_t q = row.find('"', i);
        field.append(row, i, q - i);
        if (q + 1 < row.size() && row[q + 1] == '"') {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
    } else {
      const std::size_t d = std::min(row.find(delim_, i), row.size());
      field.assign(row, i, d - i);
      i = d;
    }
    fields.push_back(std::move(field));
    if (i >= row.size()) return fields;
    ++i;  // the delimiter
  }
}

std::unexpected<Error> CsvReader::row_error(std::size_t start_line, const char* what) {
  error_line_ = start_line;
  return fail(Errc::invalid_input,
              std::string("csv: ") + what + " in row starting at line " + std::to_string(start_line));
}

std::unexpected<Error> CsvReader::io_error() {
  failed_ = true;
  return fail(Errc::io, "csv: read error after line " + std::to_string(line_));
}

Result<std::optional<CsvRow>> CsvReader::next() {
  if (failed_) return std::optional<CsvRow>{};
  if (!started_) start();
  for (;;) {
    if (broken_ || in_.bad()) return io_error();
    paths_.erase(paths_.begin(), paths_.lower_bound(pos_));
    if (byte_at(pos_) == kEof) {
      if (broken_ || in_.bad()) return io_error();
      return std::optional<CsvRow>{};
    }
    const std::uint64_t start = pos_;
    const std::size_t start_line = line_;
    const Scan scan = scan_row(start);
    if (broken_) return io_error();  // the row may be cut short
    switch (scan.end) {
      case End::row: {
        const bool blank = scan.content_end == start;
        std::vector<std::string> fields;
        if (!blank) fields = split(start, scan.content_end);
        line_ += count_breaks(start, scan.at);
        pos_ = scan.at;
        if (blank) continue;
        for (const auto& f : fields) {
          if (!text::is_valid_utf8(f)) return row_error(start_line, "invalid UTF-8");
        }
        return std::optional<CsvRow>{CsvRow{start_line, std::move(fields)}};
      }
      case End::overlong: {
        const std::uint64_t breaks = count_breaks(start, scan.at);
        const Skip skip = skip_line(scan.at);
        pos_ = skip.to;
        line_ = start_line + breaks + (skip.found ? 1 : 0);
        return row_error(start_line, "row longer than 65536 bytes");
      }
      case End::unterminated:
      case End::after_quote:
      case End::quoted_limit:
        // Resume at the row's second line; if the scan never got there, the
        // error is on the first line: drop the rest of it.
        pos_ = scan.second_line != 0 ? scan.second_line : skip_line(scan.at).to;
        line_ = start_line + 1;
        if (scan.end == End::after_quote) return row_error(start_line, "unexpected character after closing quote");
        if (scan.end == End::unterminated) return row_error(start_line, "unterminated quoted field");
        return row_error(start_line, "quoted field still open after 65536 bytes");
    }
  }
}

}  // namespace rempart::core
