#include "drill/corpus.hpp"

#include <gtest/gtest.h>

namespace rempart::drill {
namespace {

TEST(DrillCorpus, DecodesEscapesAsThePayloadStageDoes) {
  EXPECT_EQ(decode_payload_line("' OR 1=1--"), "' OR 1=1--");
  EXPECT_EQ(decode_payload_line("a\\r\\nb"), "a\r\nb");
  EXPECT_EQ(decode_payload_line("\\x27\\0"), std::string("'\0", 2));
  EXPECT_EQ(decode_payload_line("\\u00e9"), "\xc3\xa9");
  EXPECT_EQ(decode_payload_line("\\U0001F600"), "\xf0\x9f\x98\x80");
  EXPECT_EQ(decode_payload_line("\\ud800"), "\xed\xa0\x80");  // a lone surrogate, as Python's surrogatepass
  EXPECT_EQ(decode_payload_line("\\\\x"), "\\x");
  EXPECT_EQ(decode_payload_line("\\q"), "\\q");
  EXPECT_EQ(decode_payload_line("@repeat 3 ab"), "ababab");
  EXPECT_EQ(decode_payload_line("@repeat 2 \\t"), "\t\t");
}

TEST(DrillCorpus, TheEmbeddedCorpusHoldsEveryFile) {
  const auto corpus = payload_corpus();
  ASSERT_GT(corpus.size(), 100U);
  bool sql = false, unicode = false, comment = false;
  for (const auto& p : corpus) {
    sql = sql || (p.family == "sql" && p.bytes == "' OR '1'='1");
    unicode = unicode || p.family == "unicode";
    comment = comment || p.bytes.starts_with("# ");
  }
  EXPECT_TRUE(sql);
  EXPECT_TRUE(unicode);
  EXPECT_FALSE(comment);
}

}  // namespace
}  // namespace rempart::drill
