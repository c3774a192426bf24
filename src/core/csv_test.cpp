#include "core/csv.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace rempart::core {
namespace {

using Fields = std::vector<std::string>;

// One entry per call to next(): a row, or an error with its line.
struct Step {
  bool ok = true;
  std::size_t line = 0;
  Fields fields;
  std::string internal;
};

std::vector<Step> read_all(const std::string& input, char* delim = nullptr) {
  std::istringstream in(input);
  CsvReader reader(in);
  std::vector<Step> steps;
  for (int guard = 0; guard < 10000; ++guard) {
    auto r = reader.next();
    if (!r) {
      EXPECT_EQ(r.error().code, Errc::invalid_input);
      steps.push_back(Step{false, reader.last_error_line(), {}, r.error().internal});
      continue;
    }
    if (!r->has_value()) break;
    steps.push_back(Step{true, (*r)->line, (*r)->fields, {}});
  }
  if (delim != nullptr) *delim = reader.delimiter();
  return steps;
}

void expect_row(const Step& s, std::size_t line, const Fields& fields) {
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.line, line);
  EXPECT_EQ(s.fields, fields);
}

void expect_error(const Step& s, std::size_t line, const std::string& hostile) {
  EXPECT_FALSE(s.ok);
  EXPECT_EQ(s.line, line);
  EXPECT_NE(s.internal.find("line " + std::to_string(line)), std::string::npos) << s.internal;
  EXPECT_EQ(s.internal.find(hostile), std::string::npos) << "error echoes content";
}

TEST(CsvReader, CommaSeparatedWithLineNumbers) {
  char delim = 0;
  const auto steps = read_all("email,given_name\na@example.com,Ada\nb@example.com,Bob\n", &delim);
  EXPECT_EQ(delim, ',');
  ASSERT_EQ(steps.size(), 3u);
  expect_row(steps[0], 1, {"email", "given_name"});
  expect_row(steps[1], 2, {"a@example.com", "Ada"});
  expect_row(steps[2], 3, {"b@example.com", "Bob"});
}

TEST(CsvReader, SemicolonDetectedFromHeader) {
  char delim = 0;
  const auto steps =
      read_all("email;given_name;locality\na@example.com;Ada, Countess;\"Paris; 11e\"\n", &delim);
  EXPECT_EQ(delim, ';');
  ASSERT_EQ(steps.size(), 2u);
  expect_row(steps[1], 2, {"a@example.com", "Ada, Countess", "Paris; 11e"});
}

TEST(CsvReader, QuotesEscapesAndEmbeddedNewlines) {
  const auto steps = read_all(
      "name,note,x\n"
      "\"Doe, Jane\",\"She said \"\"hi\"\"\",\n"
      "\"multi\nline\nnote\",\"\",last\n"
      "after,\"\",\"\"\"\"\n");
  ASSERT_EQ(steps.size(), 4u);
  expect_row(steps[1], 2, {"Doe, Jane", "She said \"hi\"", ""});
  expect_row(steps[2], 3, {"multi\nline\nnote", "", "last"});
  expect_row(steps[3], 6, {"after", "", "\""});
}

TEST(CsvReader, CrlfBomBlankLinesAndNoFinalNewline) {
  const auto steps = read_all("\xEF\xBB\xBF" "email,name\r\n\r\na@example.com,\"x\r\ny\"\r\n\n\nb@example.com,Bob");
  ASSERT_EQ(steps.size(), 3u);
  expect_row(steps[0], 1, {"email", "name"});
  expect_row(steps[1], 3, {"a@example.com", "x\r\ny"});
  expect_row(steps[2], 7, {"b@example.com", "Bob"});
}

TEST(CsvReader, EmptyInput) {
  EXPECT_TRUE(read_all("").empty());
  EXPECT_TRUE(read_all("\xEF\xBB\xBF").empty());
  EXPECT_TRUE(read_all("\n\r\n\n").empty());
}

TEST(CsvReader, UnterminatedQuoteResyncsAtNextLine) {
  const auto steps = read_all("email,name\n\"zorglub@example.com,Zorg\nc@example.com,Cy\n");
  ASSERT_EQ(steps.size(), 3u);
  expect_row(steps[0], 1, {"email", "name"});
  expect_error(steps[1], 2, "zorglub");
  expect_row(steps[2], 3, {"c@example.com", "Cy"});
}

TEST(CsvReader, CharacterAfterClosingQuote) {
  const auto steps = read_all("a,b\n\"zorglub\"x,1\n2,3\n\"ok\",4\n");
  ASSERT_EQ(steps.size(), 4u);
  expect_error(steps[1], 2, "zorglub");
  expect_row(steps[2], 3, {"2", "3"});
  expect_row(steps[3], 4, {"ok", "4"});
}

TEST(CsvReader, ErrorInsideMultiLineRowResumesAtItsSecondLine) {
  const auto steps = read_all("a,b\n\"zorglub\nsecret\"x,1\nnext,row\n");
  ASSERT_EQ(steps.size(), 4u);
  expect_error(steps[1], 2, "secret");
  // Line 3 is re-read on its own: an unquoted field keeps the stray quote.
  expect_row(steps[2], 3, {"secret\"x", "1"});
  expect_row(steps[3], 4, {"next", "row"});
}

TEST(CsvReader, OverlongRowIsSkipped) {
  const std::string big(CsvReader::kMaxRowBytes + 10, 'z');
  const auto steps = read_all("a,b\n" + big + ",1\nok,2\n");
  ASSERT_EQ(steps.size(), 3u);
  expect_error(steps[1], 2, "zzzz");
  expect_row(steps[2], 3, {"ok", "2"});

  // An unterminated quote on a huge input stops at the row limit too.
  const auto q = read_all("a,b\n\"" + big + "\nok,2\n");
  ASSERT_EQ(q.size(), 3u);
  expect_error(q[1], 2, "zzzz");
  expect_row(q[2], 3, {"ok", "2"});
}

TEST(CsvReader, QuoteOpenPastTheRowLimitResumesAtTheNextLine) {
  // The rows after an unclosed quote are read, however much of the file the
  // quote would swallow.
  std::string csv = "email,name\n\"zorglub@example.com,Zorg\n";
  const std::size_t good = CsvReader::kMaxRowBytes / 10 + 100;
  for (std::size_t i = 0; i < good; ++i) csv += "p" + std::to_string(i) + "@example.org,P\n";
  const auto steps = read_all(csv);
  ASSERT_EQ(steps.size(), good + 2);
  expect_error(steps[1], 2, "zorglub");
  expect_row(steps[2], 3, {"p0@example.org", "P"});
  expect_row(steps.back(), good + 2, {"p" + std::to_string(good - 1) + "@example.org", "P"});
}

TEST(CsvReader, BomThenSemicolonHeader) {
  char delim = 0;
  const auto steps = read_all("\xEF\xBB\xBF" "email;name\r\na@example.com;Ada, Countess\r\n", &delim);
  EXPECT_EQ(delim, ';');
  ASSERT_EQ(steps.size(), 2u);
  expect_row(steps[0], 1, {"email", "name"});
  expect_row(steps[1], 2, {"a@example.com", "Ada, Countess"});
}

TEST(CsvReader, OffsetIsWhereTheNextRowStarts) {
  const std::string csv = "\xEF\xBB\xBF" "a,b\r\n\n\"x\ny\",1\n\"z\"q,2\nlast,3";
  std::istringstream in(csv);
  CsvReader reader(in);
  EXPECT_EQ(reader.offset(), 0u);
  ASSERT_TRUE(reader.next());
  EXPECT_EQ(reader.offset(), csv.find("\n\"x"));
  ASSERT_TRUE(reader.next());  // the blank line goes with the row after it
  EXPECT_EQ(reader.offset(), csv.find("\"z\"q"));
  EXPECT_FALSE(reader.next());  // a character after a closing quote
  EXPECT_EQ(reader.offset(), csv.find("last"));
  ASSERT_TRUE(reader.next());
  EXPECT_EQ(reader.offset(), csv.size());
  auto end = reader.next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
}

// Counts the bytes the reader takes from its stream.
class CountingBuf : public std::stringbuf {
 public:
  explicit CountingBuf(const std::string& s) : std::stringbuf(s, std::ios::in) {}
  std::uint64_t taken = 0;

 protected:
  std::streamsize xsgetn(char* s, std::streamsize n) override {
    const auto got = std::stringbuf::xsgetn(s, n);
    taken += static_cast<std::uint64_t>(got);
    return got;
  }
  int_type uflow() override {
    const auto c = std::stringbuf::uflow();
    if (c != traits_type::eof()) ++taken;
    return c;
  }
};

struct Tally {
  std::vector<std::size_t> error_lines;
  std::vector<CsvRow> rows;
  std::uint64_t taken = 0;
  std::uint64_t examined = 0;
};

Tally tally(const std::string& input) {
  CountingBuf buf(input);
  std::istream in(&buf);
  CsvReader reader(in);
  Tally t;
  for (;;) {
    auto r = reader.next();
    if (!r) {
      EXPECT_EQ(r.error().code, Errc::invalid_input);
      t.error_lines.push_back(reader.last_error_line());
      continue;
    }
    if (!r->has_value()) break;
    t.rows.push_back(std::move(**r));
  }
  t.taken = buf.taken;
  t.examined = reader.bytes_examined();
  return t;
}

TEST(CsvReader, ManyUnterminatedQuotesCostLinearWork) {
  // Each line's quote is closed by the next line's, and the character after
  // that is an error: one error per line, each found after two lines.
  std::string csv = "a,b\n";
  constexpr std::size_t kBad = 20000;
  for (std::size_t i = 0; i < kBad; ++i) csv += "\"unterminated,x\n";
  csv += "ok,1\nok,2\n";
  const auto t = tally(csv);
  ASSERT_EQ(t.error_lines.size(), kBad);
  EXPECT_EQ(t.error_lines.front(), 2u);
  EXPECT_EQ(t.error_lines.back(), kBad + 1);
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[1], (CsvRow{kBad + 2, {"ok", "1"}}));
  EXPECT_EQ(t.rows[2], (CsvRow{kBad + 3, {"ok", "2"}}));
  EXPECT_EQ(t.taken, csv.size()) << "each byte is read from the stream once";
  EXPECT_LE(t.examined, 4 * csv.size());
}

TEST(CsvReader, QuotedFieldsRunningPastTheLimitOnEveryLineCostLinearWork) {
  // From any of these lines a quoted field opens, closes and reopens on each
  // following line, and is still open at the row limit, 64 KiB on: every
  // line is a bad row whose scan would cover the same 64 KiB again.
  std::string csv = "a,b\n";
  constexpr std::size_t kBad = 40000;
  for (std::size_t i = 0; i < kBad; ++i) csv += "x\",\"\n";
  csv += "ok,1\n";
  ASSERT_GT(csv.size(), 2 * CsvReader::kMaxRowBytes);
  const auto t = tally(csv);
  ASSERT_EQ(t.error_lines.size(), kBad);
  for (std::size_t i = 0; i < kBad; ++i) ASSERT_EQ(t.error_lines[i], i + 2);
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[1], (CsvRow{kBad + 2, {"ok", "1"}}));
  EXPECT_EQ(t.taken, csv.size());
  EXPECT_LE(t.examined, 4 * csv.size());
}

TEST(CsvReader, LongValidQuotedCellsCostLinearWork) {
  // Multi-line cells that close are read once, whatever their length.
  std::string note;
  for (int i = 0; i < 2000; ++i) note += "line " + std::to_string(i) + ", with a comma\n";
  std::string csv = "email,note\n";
  for (int i = 0; i < 20; ++i) csv += "n" + std::to_string(i) + "@example.org,\"" + note + "\"\r\n";
  const auto t = tally(csv);
  EXPECT_TRUE(t.error_lines.empty());
  ASSERT_EQ(t.rows.size(), 21u);
  EXPECT_EQ(t.rows[20].fields[1], note);
  EXPECT_EQ(t.rows[20].line, 2 + 19 * 2001u);
  EXPECT_LE(t.examined, 4 * csv.size());
}

TEST(CsvReader, InvalidUtf8RowIsSkipped) {
  const auto steps = read_all(
      "email,name\n"
      "a@example.com,zorg\xC0\xAF\n"
      "b@example.com,\"bad\xED\xA0\x80\nstill the same row\"\n"
      "c@example.com,\xF0\x9F\x8C\xBB\n");
  ASSERT_EQ(steps.size(), 4u);
  expect_error(steps[1], 2, "zorg");
  expect_error(steps[2], 3, "bad");
  expect_row(steps[3], 5, {"c@example.com", "\xF0\x9F\x8C\xBB"});
}

TEST(CsvReader, HostileContentIsReturnedVerbatimNotInterpreted) {
  const auto steps = read_all(
      "email,name\n"
      "\"x@example.com' OR 1=1 --\",\"\"\"; DROP TABLE supporters; --\"\n"
      "=cmd|' /C calc'!A0,x\n");
  ASSERT_EQ(steps.size(), 3u);
  expect_row(steps[1], 2, {"x@example.com' OR 1=1 --", "\"; DROP TABLE supporters; --"});
  expect_row(steps[2], 3, {"=cmd|' /C calc'!A0", "x"});
  const std::string with_nul("h\n\"a\0b\",c\n", 10);
  const auto nul = read_all(with_nul);
  ASSERT_EQ(nul.size(), 2u);
  expect_row(nul[1], 2, {std::string("a\0b", 3), "c"});
}

TEST(CsvReader, ReadErrorIsReported) {
  std::istringstream in("a,b\n1,2\n");
  CsvReader reader(in);
  ASSERT_TRUE(reader.next().has_value());
  in.setstate(std::ios::badbit);
  bool saw_io = false;
  for (int i = 0; i < 3; ++i) {
    auto r = reader.next();
    if (!r) {
      saw_io = r.error().code == Errc::io;
      break;
    }
    if (!r->has_value()) break;
  }
  EXPECT_TRUE(saw_io);
}

}  // namespace
}  // namespace rempart::core
