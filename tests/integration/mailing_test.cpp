// End-to-end: a breach notice sent by the real `rempart serve` to a real
// SMTP server (aiosmtpd), the sender killed (SIGKILL) in the middle and
// started again: everyone gets it, and nobody twice beyond the one batch
// that was in flight (docs/mailings.md, "Sending, and what a crash can do").
// Then a bounce and an unsubscribe by mail come back to the bounce mailbox
// (a real Dovecot), and `rempart mailing bounces` reads them.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <thread>

#include "integration/process.hpp"
#include "mail/test_imap.hpp"
#include "mail/test_reports.hpp"
#include "mail/test_smtp.hpp"

namespace rempart::test {
namespace {

using namespace std::chrono_literals;
namespace mt = mail::testing;

constexpr int kPeople = 24;
constexpr int kBatch = 4;

// How many messages the test server holds for each of `to`.
std::map<std::string, int> received(const std::vector<std::string>& to) {
  std::map<std::string, int> n;
  for (const auto& t : to) n[t] = 0;
  for (const auto& e : fs::directory_iterator(mt::smtp_server().dir)) {
    if (e.path().filename().string().starts_with(".")) continue;
    const std::string text = read_file(e.path());
    const std::string head = text.substr(0, text.find("\r\n\r\n"));
    for (const auto& t : to) {
      if (head.find("X-Envelope-To: " + t + "\r\n") != std::string::npos) ++n[t];
    }
  }
  return n;
}

int total(const std::map<std::string, int>& n) {
  int sum = 0;
  for (const auto& [k, v] : n) sum += v;
  return sum;
}

TEST(Mailing, AKilledSenderSendsNobodyTwiceBeyondTheBatchInFlight) {
  const auto& smtp = mt::smtp_server();
  ASSERT_EQ(smtp.error, "");
  ASSERT_EQ(mt::imap_server().error, "");
  Instance in;
  const std::string mailbox_user = mt::unique_imap_user("bounces");
  const auto imap_password = in.dir.path() / "imap-password";
  std::ofstream(imap_password) << mt::kImapPassword << "\n";
  fs::permissions(imap_password, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  {
    std::ofstream cfg(in.config, std::ios::app);
    cfg << "\n[mail]\nsmtp_url = \"" << smtp.url << "\"\nrequire_tls = false\nfrom = \"nouvelles@mouvement.example\"\n"
        << "organisation = \"Mouvement Exemple\"\nlinks_base = \"https://signup.example.org\"\nper_minute = 240\n"
        << "\n[bounces]\nimap_url = \"" << mt::imap_server().url << "/INBOX\"\nrequire_tls = false\nusername = \""
        << mailbox_user << "\"\npassword_file = \"" << imap_password.string() << "\"\n";
  }
  // [mailings] is in the rendered configuration: the batch made small.
  {
    std::string text = read_file(in.config);
    const auto at = text.find("\nbatch = 100");  // [mailings].batch, not fold_batch
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 12, "\nbatch = " + std::to_string(kBatch));
    std::ofstream(in.config, std::ios::trunc) << text;
  }
  std::vector<std::string> to;
  const auto csv = in.dir.path() / "people.csv";
  {
    std::ofstream out(csv);
    out << "given_name,email\n";
    for (int i = 0; i < kPeople; ++i) {
      to.push_back(mt::unique_address("notice" + std::to_string(i)));
      out << "Personne" << i << "," << to.back() << "\n";
    }
  }
  auto imp = run_rempart({"supporters", "import", csv.string(), "--config", in.config.string(), "--no-progress"});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  // An operator reads every record (as an intruder with their access
  // would); the blast radius of that window names them all.
  const auto since = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count() -
                                    1);
  for (const auto& t : to) {
    ASSERT_EQ(run_rempart({"supporters", "show", "--email", t, "--config", in.config.string()}).exit_code, 0);
  }
  const auto exposed = in.dir.path() / "exposed.csv";
  auto blast = run_rempart({"audit", "blast-radius", "--since", since, "--csv", exposed.string(), "--config",
                            in.config.string()});
  ASSERT_EQ(blast.exit_code, 0) << blast.err;
  const auto details = in.dir.path() / "incident.txt";
  std::ofstream(details) << "Un compte a servi a lire des fiches.\n";

  auto first = std::make_unique<Server>(std::vector<std::string>{"serve", "--config", in.config.string()},
                                        in.dir.path() / "serve1.log");
  ASSERT_NE(first->wait_for_port(), 0) << first->log();
  auto notice = run_rempart({"notify", "--from-blast-radius", exposed.string(), "--template", "breach", "--lang", "fr",
                             "--details-file", details.string(), "--config", in.config.string()});
  ASSERT_EQ(notice.exit_code, 0) << notice.err;
  ASSERT_NE(notice.out.find(std::to_string(kPeople) + " of the " + std::to_string(kPeople) + " records"),
            std::string::npos)
      << notice.out;

  // Killed once a few batches went out (4 a second), before the end.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (total(received(to)) < 2 * kBatch + 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  first.reset();  // SIGKILL
  const int at_kill = total(received(to));
  ASSERT_GT(at_kill, 2 * kBatch);
  ASSERT_LT(at_kill, kPeople) << "the sender finished before it could be killed";
  // What the killed sender left: the batch in flight, and no more.
  const std::string after_kill = run_rempart({"mailing", "show", "1", "--config", in.config.string()}).out;
  EXPECT_NE(after_kill.find(std::to_string(kBatch) + " in flight"), std::string::npos) << after_kill;

  Server second({"serve", "--config", in.config.string()}, in.dir.path() / "serve2.log");
  ASSERT_NE(second.wait_for_port(), 0) << second.log();
  const auto until = std::chrono::steady_clock::now() + 60s;
  std::string shown;
  do {
    std::this_thread::sleep_for(250ms);
    shown = run_rempart({"mailing", "show", "1", "--config", in.config.string()}).out;
  } while (shown.find("state:       sent") == std::string::npos && std::chrono::steady_clock::now() < until);
  EXPECT_NE(shown.find("state:       sent"), std::string::npos) << shown << second.log();
  EXPECT_EQ(second.terminate(), 0);

  const auto n = received(to);
  int twice = 0;
  for (const auto& [address, count] : n) {
    EXPECT_GE(count, 1) << "someone never got it";
    EXPECT_LE(count, 2) << "someone got it more than twice";
    if (count == 2) ++twice;
  }
  EXPECT_LE(twice, kBatch) << "more than the batch in flight got it twice\n"
                           << read_file(in.dir.path() / "serve1.log") << "\n---\n" << second.log();
  std::cout << "[mailing] killed after " << at_kill << " of " << kPeople << " messages; got it twice: " << twice
            << " (bound " << kBatch << ")\n";

  // A hard bounce for the first person, and the second writes to the
  // mailto: address of List-Unsubscribe.
  std::vector<nlohmann::json> got;
  for (int i : {0, 1}) {
    auto raw = mt::received_for(to[i], 5s);
    ASSERT_TRUE(raw);
    auto m = mt::decode(*raw);
    ASSERT_TRUE(m);
    got.push_back(*m);
  }
  std::string message_id = got[0]["headers"]["message-id"][0]["raw"];
  message_id = message_id.substr(1, message_id.size() - 2);
  const std::string return_path = got[0]["headers"]["x-envelope-from"][0]["raw"];
  ASSERT_TRUE(mt::deliver(mailbox_user, mt::dsn(return_path, "failed", "5.1.1",
                                                mt::Reported{return_path, message_id, "", to[0]})));
  const std::string lu = got[1]["headers"]["list-unsubscribe"][0]["decoded"];
  const auto mailto = lu.find("<mailto:");
  ASSERT_NE(mailto, std::string::npos) << lu;
  ASSERT_TRUE(mt::deliver(mailbox_user, "From: " + to[1] + "\r\nTo: " +
                                            lu.substr(mailto + 8, lu.find('?', mailto) - mailto - 8) +
                                            "\r\nSubject: unsubscribe\r\n\r\n"));
  auto read = run_rempart({"mailing", "bounces", "--config", in.config.string()});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  EXPECT_NE(read.out.find("1 hard bounces"), std::string::npos) << read.out;
  EXPECT_NE(read.out.find("1 unsubscribes by mail"), std::string::npos) << read.out;
  EXPECT_NE(read.out.find("1 addresses now bouncing"), std::string::npos) << read.out;
  const std::string stats = run_rempart({"mailing", "show", "1", "--config", in.config.string()}).out;
  EXPECT_NE(stats.find("1 bounced, 0 marked as spam, 1 unsubscribed"), std::string::npos) << stats;
  for (const auto& t : to) {
    EXPECT_EQ(read.out.find(t), std::string::npos);
    EXPECT_EQ(stats.find(t), std::string::npos);
  }

  for (const auto* log : {"serve1.log", "serve2.log"}) {
    const std::string text = read_file(in.dir.path() / log);
    for (const auto& t : to) EXPECT_EQ(text.find(t), std::string::npos) << log << " names an address";
  }
}

}  // namespace
}  // namespace rempart::test
