#include "core/encoding.hpp"

#include <gtest/gtest.h>
#include <unicode/ucnv.h>

#include <cstdint>
#include <random>
#include <sstream>
#include <string>

#include "core/csv.hpp"

namespace rempart::core {
namespace {

// All of `bytes` decoded from `enc` through Utf8Input, read in small pieces.
std::string convert(const std::string& bytes, Encoding enc, std::uint64_t* replaced = nullptr) {
  std::istringstream src(bytes);
  auto input = Utf8Input::open(src, enc);
  EXPECT_TRUE(input) << input.error().internal;
  if (!input) return {};
  std::string out;
  char piece[1000];
  auto& in = (*input)->stream();
  while (in.read(piece, sizeof piece) || in.gcount() > 0) out.append(piece, static_cast<std::size_t>(in.gcount()));
  EXPECT_FALSE(in.bad());
  if (replaced != nullptr) *replaced = (*input)->converter() ? (*input)->converter()->replaced() : 0;
  return out;
}

TEST(Encoding, ParseNamesInAnyCase) {
  EXPECT_EQ(parse_encoding("utf-8"), Encoding::utf8);
  EXPECT_EQ(parse_encoding("UTF8"), Encoding::utf8);
  EXPECT_EQ(parse_encoding("Windows-1252"), Encoding::windows1252);
  EXPECT_EQ(parse_encoding("CP1252"), Encoding::windows1252);
  EXPECT_EQ(parse_encoding("latin-1"), Encoding::latin1);
  EXPECT_EQ(parse_encoding("Latin1"), Encoding::latin1);
  EXPECT_EQ(parse_encoding("ISO-8859-1"), Encoding::latin1);
  EXPECT_EQ(parse_encoding(""), std::nullopt);
  EXPECT_EQ(parse_encoding("UTF-16LE"), Encoding::utf16le);
  EXPECT_EQ(parse_encoding("utf-16be"), Encoding::utf16be);
  EXPECT_EQ(parse_encoding("utf-16"), std::nullopt);
  EXPECT_EQ(parse_encoding("utf-8 "), std::nullopt);
  for (auto e : {Encoding::utf8, Encoding::windows1252, Encoding::latin1, Encoding::utf16le, Encoding::utf16be}) {
    EXPECT_EQ(parse_encoding(encoding_name(e)), e);
  }
}

TEST(Encoding, DetectsUtf8WithOrWithoutBom) {
  EXPECT_EQ(detect_encoding(""), Encoding::utf8);
  EXPECT_EQ(detect_encoding("email;nom\r\na@example.org;Zoe\r\n"), Encoding::utf8);
  EXPECT_EQ(detect_encoding("email;nom\nz@example.org;Zo\xC3\xA9 \xE2\x82\xAC\n"), Encoding::utf8);
  EXPECT_EQ(detect_encoding("\xEF\xBB\xBF" "email;nom\nz@example.org;Zo\xC3\xA9\n"), Encoding::utf8);
}

TEST(Encoding, DetectsWindows1252) {
  EXPECT_EQ(detect_encoding("nom\nZo\xE9\n"), Encoding::windows1252);            // é
  EXPECT_EQ(detect_encoding("montant\n10 \x80\n"), Encoding::windows1252);       // €
  EXPECT_EQ(detect_encoding("nom\nC\x9Cur\n"), Encoding::windows1252);           // œ
  EXPECT_EQ(detect_encoding("nom\nl\x92\xE9t\xE9\n"), Encoding::windows1252);    // ’
}

TEST(Encoding, SampleCutInsideACharacterIsStillUtf8) {
  EXPECT_EQ(detect_encoding("caf\xC3"), Encoding::utf8);
  EXPECT_EQ(detect_encoding("10 \xE2\x82"), Encoding::utf8);
  EXPECT_EQ(detect_encoding("x \xF0\x9F\x8C"), Encoding::utf8);
  EXPECT_EQ(first_invalid_utf8("ab\xF0"), std::nullopt);
  // Cut or not, these can never become a character.
  EXPECT_EQ(detect_encoding("x\xC0"), Encoding::windows1252);          // overlong lead
  EXPECT_EQ(detect_encoding("x\xED\xA0"), Encoding::windows1252);      // surrogate
  EXPECT_EQ(detect_encoding("x\xF4\x90"), Encoding::windows1252);      // above U+10FFFF
  EXPECT_EQ(detect_encoding("x\xE2\x41"), Encoding::windows1252);      // lead without its trail
  EXPECT_EQ(detect_encoding("x\x80"), Encoding::windows1252);          // trail without a lead
}

TEST(Encoding, NotUtf8MessageNamesTheLineNotTheContent) {
  const std::string sample = "email;nom\nx@example.org;Zorglub\nzorg@example.org;Zorgl\xE9mine\n";
  const auto fault = first_invalid_utf8(sample);
  ASSERT_TRUE(fault);
  EXPECT_EQ(fault->line, 3u);
  EXPECT_EQ(fault->offset, sample.find('\xE9'));
  const auto msg = not_utf8_message(*fault);
  EXPECT_NE(msg.find("line 3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--encoding windows-1252"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("Zorg"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("zorg"), std::string::npos) << msg;
}

TEST(Encoding, Windows1252Converted) {
  EXPECT_EQ(convert("Zo\xE9", Encoding::windows1252), "Zo\xC3\xA9");
  EXPECT_EQ(convert("10 \x80", Encoding::windows1252), "10 \xE2\x82\xAC");
  EXPECT_EQ(convert("C\x9Cur", Encoding::windows1252), "C\xC5\x93ur");
  EXPECT_EQ(convert("l\x92\xE9t\xE9", Encoding::windows1252), "l\xE2\x80\x99\xC3\xA9t\xC3\xA9");
  EXPECT_EQ(convert("", Encoding::windows1252), "");
}

TEST(Encoding, Windows1252UndefinedBytesBecomeReplacementCharacters) {
  std::uint64_t replaced = 0;
  EXPECT_EQ(convert("a\x81" "b\x8D\x8F\x90\x9D", Encoding::windows1252, &replaced),
            "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(replaced, 5u);
}

TEST(Encoding, Latin1AndWindows1252DifferOnC1Bytes) {
  EXPECT_EQ(convert("\x80", Encoding::latin1), "\xC2\x80");
  EXPECT_EQ(convert("\x80", Encoding::windows1252), "\xE2\x82\xAC");
  EXPECT_EQ(convert("Zo\xE9", Encoding::latin1), "Zo\xC3\xA9");
}

TEST(Encoding, Utf8IsReadDirectly) {
  std::istringstream src("\xEF\xBB\xBF" "caf\xC3\xA9");
  auto input = Utf8Input::open(src, Encoding::utf8);
  ASSERT_TRUE(input);
  EXPECT_EQ(&(*input)->stream(), &src);
  EXPECT_EQ((*input)->converter(), nullptr);
  auto refused = Utf8Source::open(src, Encoding::utf8);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::invalid_input);
}

TEST(Encoding, LargeInputStreamsAsIfConvertedAtOnce) {
  // 3 MiB of every defined Windows-1252 byte in a random order, line breaks
  // included, against ICU's one-shot conversion of the whole.
  std::mt19937 rng(1252);
  std::string bytes(3 * 1024 * 1024, '\0');
  for (auto& b : bytes) {
    unsigned v = 0;
    do {
      v = rng() % 256;
    } while (v == 0x81 || v == 0x8D || v == 0x8F || v == 0x90 || v == 0x9D);
    b = static_cast<char>(v);
  }
  std::string expected(3 * bytes.size(), '\0');
  UErrorCode err = U_ZERO_ERROR;
  const auto n = ucnv_convert("UTF-8", "windows-1252", expected.data(), static_cast<std::int32_t>(expected.size()),
                              bytes.data(), static_cast<std::int32_t>(bytes.size()), &err);
  ASSERT_TRUE(U_SUCCESS(err)) << u_errorName(err);
  expected.resize(static_cast<std::size_t>(n));

  std::uint64_t replaced = 1;
  EXPECT_TRUE(convert(bytes, Encoding::windows1252, &replaced) == expected);
  EXPECT_EQ(replaced, 0u);
}

TEST(Encoding, TellgReportsSourceBytesConsumed) {
  const std::string bytes(200 * 1024, '\xE9');  // 200 KiB that grow to 400 KiB
  std::istringstream src(bytes);
  auto input = Utf8Input::open(src, Encoding::windows1252);
  ASSERT_TRUE(input);
  auto& in = (*input)->stream();
  std::string piece(100 * 1024, '\0');
  ASSERT_TRUE(in.read(piece.data(), static_cast<std::streamsize>(piece.size())));
  const auto mid = in.tellg();
  EXPECT_GE(mid, 50 * 1024);
  EXPECT_LE(mid, 50 * 1024 + 16 * 1024);
  EXPECT_EQ(mid, static_cast<std::streamoff>((*input)->converter()->source_offset()));
  while (in.read(piece.data(), static_cast<std::streamsize>(piece.size()))) {
  }
  EXPECT_EQ((*input)->converter()->source_offset(), bytes.size());
  in.clear();
  EXPECT_EQ(in.tellg(), static_cast<std::streamoff>(bytes.size()));
  EXPECT_FALSE(in.seekg(0)) << "seeking is refused";
}

// UTF-16 as ICU writes it from UTF-8 text, for the tests.
std::string utf16(const std::string& utf8, const char* name) {
  UErrorCode err = U_ZERO_ERROR;
  std::string out(utf8.size() * 4 + 8, '\0');
  const int32_t n = ucnv_convert(name, "UTF-8", out.data(), static_cast<int32_t>(out.size()), utf8.data(),
                                 static_cast<int32_t>(utf8.size()), &err);
  EXPECT_TRUE(U_SUCCESS(err)) << u_errorName(err);
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// Excel's "Unicode text": UTF-16LE with a byte order mark, tab separated.
TEST(Encoding, Utf16IsDetectedConvertedAndReadAsTabSeparated) {
  const std::string text = "email\tnom\r\nzoe@example.org\tZo\xC3\xA9 \xF0\x9F\x8C\xBB\r\n";
  const std::string le = "\xFF\xFE" + utf16(text, "UTF-16LE");
  const std::string be_no_bom = utf16(text, "UTF-16BE");
  EXPECT_EQ(detect_encoding(le), Encoding::utf16le);
  EXPECT_EQ(detect_encoding(le.substr(2)), Encoding::utf16le) << "without its byte order mark";
  EXPECT_EQ(detect_encoding(be_no_bom), Encoding::utf16be);
  EXPECT_EQ(detect_encoding("\xFE\xFF"), Encoding::utf16be);
  EXPECT_EQ(detect_encoding(std::string("a\0b", 3)), Encoding::utf8) << "one stray NUL is no UTF-16";
  EXPECT_EQ(convert(be_no_bom, Encoding::utf16be), text);

  std::istringstream src(le);
  auto input = Utf8Input::open(src, Encoding::utf16le);
  ASSERT_TRUE(input);
  CsvReader reader((*input)->stream());
  auto header = reader.next();
  ASSERT_TRUE(header && *header);
  EXPECT_EQ((*header)->fields, (std::vector<std::string>{"email", "nom"})) << "the byte order mark is not a header";
  EXPECT_EQ(reader.delimiter(), '\t');
  auto row = reader.next();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->fields, (std::vector<std::string>{"zoe@example.org", "Zo\xC3\xA9 \xF0\x9F\x8C\xBB"}));
}

TEST(Encoding, CsvReadThroughTheConverter) {
  std::istringstream src("email;nom\r\nzoe@example.org;Zo\xE9 C\x9Cur \x80\r\n");
  auto input = Utf8Input::open(src, Encoding::windows1252);
  ASSERT_TRUE(input);
  CsvReader reader((*input)->stream());
  ASSERT_TRUE(reader.next());
  auto row = reader.next();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(reader.delimiter(), ';');
  EXPECT_EQ((*row)->fields, (std::vector<std::string>{"zoe@example.org", "Zo\xC3\xA9 C\xC5\x93ur \xE2\x82\xAC"}));
  auto end = reader.next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
}

TEST(Encoding, SourceReadErrorReachesTheCsvReader) {
  std::istringstream src("email\nx@example.org\n");
  src.setstate(std::ios::badbit);
  auto input = Utf8Input::open(src, Encoding::windows1252);
  ASSERT_TRUE(input);
  CsvReader reader((*input)->stream());
  auto r = reader.next();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::io);
  auto again = reader.next();
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
}

TEST(Encoding, SampleIsReadAndTheStreamRewound) {
  std::istringstream src("abcdef");
  auto head = read_sample(src, 4);
  ASSERT_TRUE(head);
  EXPECT_EQ(*head, "abcd");
  auto all = read_sample(src, 100);
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, "abcdef");
  std::string rest;
  src >> rest;
  EXPECT_EQ(rest, "abcdef");
}

}  // namespace
}  // namespace rempart::core
