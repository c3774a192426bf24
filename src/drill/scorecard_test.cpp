#include "drill/scorecard.hpp"

#include <gtest/gtest.h>

namespace rempart::drill {
namespace {

Scorecard passing() {
  Scorecard s;
  s.supporters = 3000;
  VectorResult v;
  v.id = "bulk_reveal";
  v.title = "A stolen session";
  v.ran = true;
  v.exposed = 20;
  v.bound = 20;
  v.first_alert_seconds = 0.25;
  s.vectors.push_back(v);
  s.blast.ran = true;
  s.blast.listed = s.blast.expected = 20;
  return s;
}

TEST(DrillScorecard, PassesOnlyWithinBoundsAndWithTheList) {
  EXPECT_TRUE(passing().ok());
  auto over = passing();
  over.vectors[0].exposed = 21;
  EXPECT_FALSE(over.ok());
  auto unplayed = passing();
  unplayed.vectors[0].ran = false;
  EXPECT_FALSE(unplayed.ok());
  auto failed_check = passing();
  failed_check.vectors[0].failure = "no alert";
  EXPECT_FALSE(failed_check.ok());
  auto wrong_list = passing();
  wrong_list.blast.missing = 1;
  EXPECT_FALSE(wrong_list.ok());
  EXPECT_FALSE(Scorecard{}.ok());
}

TEST(DrillScorecard, JsonAndTextCarryTheVerdict) {
  const auto j = render_json(passing());
  EXPECT_TRUE(j["ok"].get<bool>());
  EXPECT_EQ(j["vectors"][0]["id"], "bulk_reveal");
  EXPECT_EQ(j["vectors"][0]["exposed"], 20);
  EXPECT_DOUBLE_EQ(j["vectors"][0]["first_alert_seconds"].get<double>(), 0.25);
  const auto text = render_text(passing());
  EXPECT_NE(text.find("PASS"), std::string::npos);
  EXPECT_NE(text.find("after 250 ms"), std::string::npos);
}

}  // namespace
}  // namespace rempart::drill
