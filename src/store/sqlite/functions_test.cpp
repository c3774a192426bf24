#include "store/sqlite/functions.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rempart::store::sqlite {
namespace {

TEST(TagList, WrapsEachTagAndRefusesTheSeparator) {
  EXPECT_EQ(tag_list(std::vector<std::string>{}), "");
  EXPECT_EQ(tag_list(std::vector<std::string>{"donor"}), "|donor|");
  EXPECT_EQ(tag_list(std::vector<std::string>{"donor", "élu·e"}), "|donor|élu·e|");
  EXPECT_EQ(tag_list(std::vector<std::string>{"a|b"}), std::nullopt);
  EXPECT_EQ(tag_list(std::vector<std::string>{"a", ""}), std::nullopt);
}

TEST(TagsMatch, AllAnyAndNoneOfWholeTags) {
  const std::string list = "|donor|paris|volunteer|";
  EXPECT_TRUE(tags_match(list, "", "", ""));
  EXPECT_TRUE(tags_match("", "", "", "|donor|"));
  EXPECT_FALSE(tags_match("", "|donor|", "", ""));
  EXPECT_FALSE(tags_match("", "", "|donor|", ""));

  EXPECT_TRUE(tags_match(list, "|donor|volunteer|", "", ""));
  EXPECT_FALSE(tags_match(list, "|donor|elu|", "", ""));
  EXPECT_TRUE(tags_match(list, "", "|elu|paris|", ""));
  EXPECT_FALSE(tags_match(list, "", "|elu|lyon|", ""));
  EXPECT_FALSE(tags_match(list, "", "", "|lyon|paris|"));
  EXPECT_TRUE(tags_match(list, "|paris|", "|elu|donor|", "|lyon|"));

  // A tag matches whole, never as a part of another one.
  EXPECT_FALSE(tags_match(list, "|don|", "", ""));
  EXPECT_FALSE(tags_match(list, "|aris|", "", ""));
  EXPECT_TRUE(tags_match(list, "|donor|paris|", "", "|par|"));
  EXPECT_TRUE(tags_match("|donors|donor|", "|donor|", "", ""));
  EXPECT_FALSE(tags_match("|xdonor|donorx|", "", "|donor|", ""));
}

TEST(TagsMatch, ReadsTheSameInSql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  ASSERT_TRUE(register_functions(db).has_value());
  const auto eval = [&](const char* sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
    const int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
  };
  EXPECT_EQ(eval("SELECT rempart_tags_match('|donor|paris|', '|paris|', '', '|elu|')"), 1);
  EXPECT_EQ(eval("SELECT rempart_tags_match('|donor|paris|', '', '|elu|', '')"), 0);
  EXPECT_EQ(eval("SELECT rempart_tags_match(NULL, '', '', '|elu|')"), 1);
  sqlite3_close(db);
}

}  // namespace
}  // namespace rempart::store::sqlite
