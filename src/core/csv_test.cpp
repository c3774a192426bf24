#include "core/csv.hpp"

#include <gtest/gtest.h>

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
  ASSERT_GE(q.size(), 2u);
  expect_error(q[1], 2, "zzzz");
  expect_row(q.back(), 3, {"ok", "2"});
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
