// ImapMailbox against a real IMAP server (Dovecot, test_imap.hpp).
#include "mail/imap.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "mail/test_imap.hpp"

namespace rempart::mail {
namespace {

using namespace std::chrono_literals;
using testing::deliver;
using testing::imap_server;
using testing::unique_imap_user;

#define REQUIRE_IMAP_SERVER() ASSERT_TRUE(imap_server().error.empty()) << imap_server().error

class ImapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("rempart-imap-" + std::to_string(::getpid()) + "-" +
                                                     std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    std::filesystem::create_directories(dir_);
    password_file_ = dir_ / "password";
    std::ofstream(password_file_) << testing::kImapPassword << "\n";
    ::chmod(password_file_.c_str(), 0600);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ImapOptions options(const std::string& user) const {
    ImapOptions o;
    o.url = imap_server().url + "/INBOX";
    o.username = user;
    o.password_file = password_file_;
    o.require_tls = false;
    o.timeout = 10000ms;
    return o;
  }

  std::filesystem::path dir_;
  std::filesystem::path password_file_;
};

std::string message(const std::string& subject) {
  return "From: a@example.net\r\nTo: bounces@mouvement.example\r\nSubject: " + subject + "\r\n\r\nBody of " + subject +
         "\r\n";
}

TEST_F(ImapTest, ListsFetchesLeavesAndDeletes) {
  REQUIRE_IMAP_SERVER();
  const std::string user = unique_imap_user("bounces");
  for (const char* s : {"one", "two", "three"}) ASSERT_TRUE(deliver(user, message(s)));
  auto box = ImapMailbox::create(options(user));
  ASSERT_TRUE(box) << box.error().internal;
  std::stop_source stop;
  auto uids = (*box)->pending(100, stop.get_token());
  ASSERT_TRUE(uids) << uids.error().internal;
  ASSERT_EQ(uids->size(), 3u);
  auto first = (*box)->fetch(uids->at(0), 1u << 20, stop.get_token());
  ASSERT_TRUE(first) << first.error().internal;
  EXPECT_NE(first->find("Body of one"), std::string::npos);
  auto limited = (*box)->pending(2, stop.get_token());
  ASSERT_TRUE(limited);
  EXPECT_EQ(*limited, (std::vector<std::uint64_t>{uids->at(0), uids->at(1)}));

  ASSERT_TRUE((*box)->remove(uids->at(0), stop.get_token()));
  ASSERT_TRUE((*box)->leave(uids->at(1), stop.get_token()));
  ASSERT_TRUE((*box)->expunge(stop.get_token()));
  auto after = (*box)->pending(100, stop.get_token());
  ASSERT_TRUE(after);
  EXPECT_EQ(*after, std::vector<std::uint64_t>{uids->at(2)});
  // The message left is still in the mailbox for a person to read; the deleted one is gone.
  EXPECT_TRUE((*box)->fetch(uids->at(1), 1u << 20, stop.get_token()));
  auto gone = (*box)->fetch(uids->at(0), 1u << 20, stop.get_token());
  EXPECT_TRUE(!gone || gone->empty());
}

TEST_F(ImapTest, AMessageOverTheLimitIsRefusedNotTruncated) {
  REQUIRE_IMAP_SERVER();
  const std::string user = unique_imap_user("bounces");
  ASSERT_TRUE(deliver(user, message(std::string(4000, 'x'))));
  auto box = ImapMailbox::create(options(user));
  ASSERT_TRUE(box);
  auto uids = (*box)->pending(10, {});
  ASSERT_TRUE(uids);
  ASSERT_EQ(uids->size(), 1u);
  auto big = (*box)->fetch(uids->at(0), 1000, {});
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, Errc::invalid_input);
  // The connection is still good for the next command.
  EXPECT_TRUE((*box)->fetch(uids->at(0), 1u << 20, {}));
}

TEST_F(ImapTest, AWrongPasswordOrAnUnreachableServerIsAnIoErrorWithoutTheUrl) {
  REQUIRE_IMAP_SERVER();
  std::ofstream(password_file_) << "wrong\n";
  auto box = ImapMailbox::create(options(unique_imap_user("bounces")));
  ASSERT_TRUE(box);
  auto r = (*box)->pending(10, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::io);
  auto o = options("someone");
  o.url = "imap://127.0.0.1:1/INBOX";
  auto closed = ImapMailbox::create(o);
  ASSERT_TRUE(closed);
  auto c = (*closed)->pending(10, {});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::io);
  EXPECT_EQ(c.error().internal.find("127.0.0.1"), std::string::npos);
}

TEST_F(ImapTest, RefusesOptionsThatWouldLeakOrCannotWork) {
  auto bad = [&](auto change) {
    auto o = options("bounces");
    change(o);
    auto b = ImapMailbox::create(o);
    EXPECT_FALSE(b);
    return b ? std::string() : b.error().internal;
  };
  bad([](ImapOptions& o) { o.url = "https://127.0.0.1/INBOX"; });
  bad([](ImapOptions& o) { o.url = "imap://127.0.0.1:143"; });  // no mailbox
  EXPECT_EQ(bad([](ImapOptions& o) { o.url = "imap://user:secret@mail.example.org/INBOX"; }).find("secret"),
            std::string::npos);  // plain text to another machine
  bad([](ImapOptions& o) { o.username.clear(); });
  bad([](ImapOptions& o) { o.password_file.clear(); });
  bad([&](ImapOptions& o) {
    ::chmod(password_file_.c_str(), 0644);
    o.password_file = password_file_;
  });
  ::chmod(password_file_.c_str(), 0600);
  auto tls = options("bounces");
  tls.url = "imaps://mail.example.org/INBOX";
  tls.require_tls = false;
  EXPECT_TRUE(ImapMailbox::create(tls));  // TLS from the start
}

}  // namespace
}  // namespace rempart::mail
