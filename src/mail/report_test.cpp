// read_report on reports shaped as mail systems send them (test_reports.hpp),
// parsed by GMime.
#include "mail/report.hpp"

#include <gtest/gtest.h>

#include "mail/test_reports.hpp"

namespace rempart::mail {
namespace {

using testing::arf;
using testing::dsn;
using testing::Reported;

const std::string kVerp = "bounces+0123456789abcdef0123456789abcdef0011223344556677@mouvement.example";
const Reported kOriginal{kVerp, "5f1e.m7@mouvement.example", "<https://mouvement.example/unsubscribe?t=TOKEN>"};

TEST(ReportTest, APermanentFailureIsAHardBounceNamingTheReportedMessage) {
  auto r = read_report(dsn(kVerp, "failed", "5.1.1", kOriginal));
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_TRUE(r->is_report);
  EXPECT_EQ(r->kind, ReportKind::hard_bounce);
  EXPECT_EQ(r->delivered_to, std::vector<std::string>{kVerp});
  EXPECT_EQ(r->original_return_path, kVerp);
  EXPECT_EQ(r->original_message_id, "5f1e.m7@mouvement.example");
  EXPECT_EQ(r->original_list_unsubscribe, "<https://mouvement.example/unsubscribe?t=TOKEN>");
}

TEST(ReportTest, AFailureWithoutStatusIsHardAndA4xxOrADelayIsSoft) {
  auto none = read_report(dsn(kVerp, "failed", "", kOriginal));
  ASSERT_TRUE(none);
  EXPECT_EQ(none->kind, ReportKind::hard_bounce);
  auto transient = read_report(dsn(kVerp, "failed", "4.2.2", kOriginal));
  ASSERT_TRUE(transient);
  EXPECT_EQ(transient->kind, ReportKind::soft_bounce);
  auto delayed = read_report(dsn(kVerp, "Delayed", "4.4.7", kOriginal));
  ASSERT_TRUE(delayed);
  EXPECT_EQ(delayed->kind, ReportKind::soft_bounce);
}

TEST(ReportTest, ASuccessNoticeIsAReportToDoNothingWith) {
  for (const char* action : {"delivered", "relayed", "expanded"}) {
    auto r = read_report(dsn(kVerp, action, "2.0.0", kOriginal));
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->is_report) << action;
    EXPECT_EQ(r->kind, ReportKind::none) << action;
  }
}

TEST(ReportTest, AnAbuseReportIsAComplaintAndNotSpamIsNot) {
  auto r = read_report(arf("fbl@mouvement.example", "abuse", kOriginal));
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_TRUE(r->is_report);
  EXPECT_EQ(r->kind, ReportKind::complaint);
  EXPECT_EQ(r->delivered_to, std::vector<std::string>{"fbl@mouvement.example"});
  EXPECT_EQ(r->original_return_path, kVerp);  // from the attached message/rfc822
  EXPECT_EQ(r->original_message_id, "5f1e.m7@mouvement.example");
  for (const char* type : {"not-spam", "virus", "auth-failure"}) {
    auto other = read_report(arf("fbl@mouvement.example", type, kOriginal));
    ASSERT_TRUE(other);
    EXPECT_TRUE(other->is_report);
    EXPECT_EQ(other->kind, ReportKind::none) << type;
  }
}

TEST(ReportTest, AnOrdinaryMessageOrAReplyIsNoReport) {
  auto plain = read_report("From: a@example.net\r\nTo: " + kVerp + "\r\nSubject: Out of office\r\n\r\nAway.\r\n");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->is_report);
  EXPECT_EQ(plain->kind, ReportKind::none);
  EXPECT_EQ(plain->delivered_to, std::vector<std::string>{kVerp});  // still says where it went
  // A multipart/report of another type (a read receipt, RFC 8098).
  std::string mdn = dsn(kVerp, "failed", "5.1.1", kOriginal);
  mdn.replace(mdn.find("report-type=delivery-status"), 27, "report-type=disposition-notification");
  auto receipt = read_report(mdn);
  ASSERT_TRUE(receipt);
  EXPECT_FALSE(receipt->is_report);
  EXPECT_EQ(receipt->kind, ReportKind::none);
}

TEST(ReportTest, NoFieldKeepsTheRecipientsAddress) {
  auto r = read_report(dsn(kVerp, "failed", "5.1.1", kOriginal));
  ASSERT_TRUE(r);
  for (const auto& s : {r->original_return_path, r->original_message_id, r->original_list_unsubscribe}) {
    EXPECT_EQ(s.find("person@example.net"), std::string::npos);
  }
  for (const auto& s : r->delivered_to) EXPECT_EQ(s.find("person@example.net"), std::string::npos);
}

TEST(ReportTest, GarbageAndOversizeAreRefusedOrReadAsNoReport) {
  EXPECT_FALSE(read_report(std::string(5u << 20, 'x')));
  for (const std::string& junk : {std::string(), std::string("\0\0\0", 3), std::string("--B1--\r\n"),
                                 std::string("Content-Type: multipart/report; report-type=delivery-status\r\n\r\n")}) {
    auto r = read_report(junk);
    if (r) {
      EXPECT_EQ(r->kind, ReportKind::none);
    }
  }
}

}  // namespace
}  // namespace rempart::mail
