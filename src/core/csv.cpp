#include "core/csv.hpp"

#include <string_view>

#include "core/text.hpp"

namespace rempart::core {

namespace {
constexpr int kEof = std::char_traits<char>::eof();
}

CsvReader::CsvReader(std::istream& in) : in_(in) {}

void CsvReader::start() {
  started_ = true;
  std::string head;
  while (head.size() <= kMaxRowBytes) {
    const int c = in_.get();
    if (c == kEof) break;
    head += static_cast<char>(c);
    if (c == '\n') break;
  }
  if (std::string_view(head).starts_with("\xEF\xBB\xBF")) head.erase(0, 3);
  std::size_t commas = 0;
  std::size_t semicolons = 0;
  bool quoted = false;
  for (const char c : head) {
    if (c == '"') quoted = !quoted;
    else if (!quoted && c == ',') ++commas;
    else if (!quoted && c == ';') ++semicolons;
  }
  delim_ = semicolons > commas ? ';' : ',';
  pending_ = std::move(head);
  pending_pos_ = 0;
}

int CsvReader::get() {
  int c = kEof;
  if (pending_pos_ < pending_.size()) {
    c = static_cast<unsigned char>(pending_[pending_pos_++]);
    if (pending_pos_ == pending_.size()) {
      pending_.clear();
      pending_pos_ = 0;
    }
  } else {
    c = in_.get();
    if (c == kEof) return kEof;
  }
  if (raw_.size() <= kMaxRowBytes) raw_ += static_cast<char>(c);
  if (c == '\n') ++line_;
  return c;
}

int CsvReader::peek() {
  if (pending_pos_ < pending_.size()) return static_cast<unsigned char>(pending_[pending_pos_]);
  return in_.peek();
}

void CsvReader::skip_line() {
  int c = kEof;
  do {
    c = get();
  } while (c != kEof && c != '\n');
}

void CsvReader::resync_after_first_line(std::size_t start_line) {
  const auto nl = raw_.find('\n');
  if (nl == std::string::npos) {
    skip_line();  // the error is on the row's first line: drop the rest of it
    return;
  }
  // Re-read everything after the row's first line; raw_ holds all of it
  // because the row stayed under kMaxRowBytes.
  std::string again = raw_.substr(nl + 1);
  again.append(pending_, pending_pos_, std::string::npos);
  pending_ = std::move(again);
  pending_pos_ = 0;
  line_ = start_line + 1;
}

std::unexpected<Error> CsvReader::row_error(std::size_t start_line, const char* what) {
  error_line_ = start_line;
  return fail(Errc::invalid_input,
              std::string("csv: ") + what + " in row starting at line " + std::to_string(start_line));
}

Result<std::optional<CsvRow>> CsvReader::next() {
  if (failed_) return std::optional<CsvRow>{};
  if (!started_) start();
  enum class State { field_start, unquoted, quoted, after_quote };
  while (true) {
    if (peek() == kEof) {
      if (in_.bad()) {
        failed_ = true;
        return fail(Errc::io, "csv: read error after line " + std::to_string(line_));
      }
      return std::optional<CsvRow>{};
    }
    raw_.clear();
    const std::size_t start_line = line_;
    CsvRow row;
    row.line = start_line;
    std::string field;
    bool quoted_any = false;
    std::size_t bytes = 0;
    State st = State::field_start;
    bool done = false;
    while (!done) {
      const int c = get();
      if (c != kEof && ++bytes > kMaxRowBytes) {
        if (c != '\n') skip_line();
        return row_error(start_line, "row longer than 65536 bytes");
      }
      switch (st) {
        case State::quoted:
          if (c == kEof) {
            resync_after_first_line(start_line);
            return row_error(start_line, "unterminated quoted field");
          }
          if (c == '"') {
            if (peek() == '"') {
              get();
              ++bytes;
              field += '"';
            } else {
              st = State::after_quote;
            }
          } else {
            field += static_cast<char>(c);
          }
          break;
        case State::after_quote:
          if (c == kEof || c == '\n') {
            row.fields.push_back(std::move(field));
            done = true;
          } else if (c == delim_) {
            row.fields.push_back(std::move(field));
            field.clear();
            st = State::field_start;
          } else if (c == '\r' && peek() == '\n') {
            get();
            row.fields.push_back(std::move(field));
            done = true;
          } else {
            resync_after_first_line(start_line);
            return row_error(start_line, "unexpected character after closing quote");
          }
          break;
        case State::field_start:
          if (c == '"') {
            st = State::quoted;
            quoted_any = true;
            break;
          }
          [[fallthrough]];
        case State::unquoted:
          if (c == kEof || c == '\n') {
            row.fields.push_back(std::move(field));
            done = true;
          } else if (c == delim_) {
            row.fields.push_back(std::move(field));
            field.clear();
            st = State::field_start;
          } else if (c == '\r' && peek() == '\n') {
            get();
            row.fields.push_back(std::move(field));
            done = true;
          } else {
            field += static_cast<char>(c);
            st = State::unquoted;
          }
          break;
      }
    }
    if (row.fields.size() == 1 && row.fields[0].empty() && !quoted_any) continue;  // blank line
    for (const auto& f : row.fields) {
      if (!text::is_valid_utf8(f)) return row_error(start_line, "invalid UTF-8");
    }
    return std::optional<CsvRow>{std::move(row)};
  }
}

}  // namespace rempart::core
