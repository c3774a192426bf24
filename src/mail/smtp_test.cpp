// SmtpTransport against a real SMTP server (aiosmtpd, test_smtp.hpp): what
// arrives is read back by Python's email package, so these tests check the
// wire form that libcurl's MIME API writes, decoded by a real MIME parser.
#include "mail/smtp.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include "mail/test_smtp.hpp"

namespace rempart::mail {
namespace {

using namespace std::chrono_literals;
using testing::decode;
using testing::received_for;
using testing::smtp_server;
using testing::unique_address;

const std::string kOrganisation = "Mouvement Écologie Démo";
const std::string kSubject = "Votre adhésion est confirmée 🌱";

#define REQUIRE_SMTP_SERVER() \
  ASSERT_TRUE(smtp_server().error.empty()) << smtp_server().error

Message sample(const std::string& to) {
  Message m;
  m.return_path = "bounces@mouvement.example.org";
  m.from_address = "contact@mouvement.example.org";
  m.from_name = kOrganisation;
  m.to = to;
  m.subject = kSubject;
  m.message_id = "m-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()) + "@mouvement.example.org";
  m.headers = {{"List-Unsubscribe", "<https://mouvement.example.org/u/abc123>"},
               {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}};
  m.text = "Bonjour Élise,\n\nMerci pour votre adhésion : elle est bien enregistrée.\n"
           "Une ligne très longue pour que le quoted-printable la coupe en plusieurs lignes douces, "
           "avec des = signes et des accents à la fin é\n";
  m.html = "<!DOCTYPE html>\n<html lang=\"fr\"><body><p>Bonjour Élise,</p><p>Merci = merci.</p></body></html>\n";
  return m;
}

std::unique_ptr<SmtpTransport> transport(const std::string& url, bool require_tls = false) {
  SmtpOptions o;
  o.url = url;
  o.require_tls = require_tls;
  o.timeout = 5000ms;
  auto t = SmtpTransport::create(o);
  EXPECT_TRUE(t) << t.error().internal;
  return t ? std::move(*t) : nullptr;
}

unsigned short closed_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);  // nothing listens there any more
  return ntohs(a.sin_port);
}

const nlohmann::json* part_of_type(const nlohmann::json& j, std::string_view type) {
  for (const auto& p : j["parts"]) {
    if (p["type"] == type) return &p;
  }
  return nullptr;
}

std::vector<std::string> types(const nlohmann::json& j) {
  std::vector<std::string> out;
  for (const auto& p : j["parts"]) out.push_back(p["type"]);
  return out;
}

TEST(MailSmtp, DeliversHeadersAndBothAlternativesThatPythonDecodes) {
  REQUIRE_SMTP_SERVER();
  const std::string to = unique_address("adherent");
  const Message m = sample(to);
  auto t = transport(smtp_server().url);
  ASSERT_TRUE(t);
  const SendResult r = t->send(m, {});
  ASSERT_EQ(r.outcome, Delivery::delivered) << r.why;
  EXPECT_EQ(r.reply, 250);
  EXPECT_EQ(r.why, "");

  const auto saved = received_for(to, 5s);
  ASSERT_TRUE(saved);
  if (std::getenv("REMPART_SHOW_MAIL") != nullptr) std::cout << *saved;
  const auto j = decode(*saved);
  ASSERT_TRUE(j && j->is_object()) << *saved;
  const auto& h = (*j)["headers"];

  // The envelope.
  EXPECT_EQ(h["x-envelope-from"][0]["raw"], "bounces@mouvement.example.org");
  ASSERT_EQ(h["x-envelope-to"].size(), 1u);
  EXPECT_EQ(h["x-envelope-to"][0]["raw"], to);

  // From: the name as encoded-words, the address as it is.
  EXPECT_EQ((*j)["from_name"], kOrganisation);
  EXPECT_EQ((*j)["from_address"], "contact@mouvement.example.org");
  const std::string from_raw = h["from"][0]["raw"];
  EXPECT_TRUE(from_raw.starts_with("=?UTF-8?B?")) << from_raw;
  EXPECT_EQ(h["from"][0]["decoded"], kOrganisation + " <contact@mouvement.example.org>");

  // Subject: é and an emoji, decoded by email.header and by the modern policy.
  EXPECT_EQ(h["subject"][0]["decoded"], kSubject);
  EXPECT_EQ((*j)["subject"], kSubject);
  EXPECT_TRUE(std::string(h["subject"][0]["raw"]).starts_with("=?UTF-8?B?"));

  EXPECT_EQ(h["to"][0]["raw"], to);
  EXPECT_EQ(h["message-id"][0]["raw"], "<" + m.message_id + ">");
  EXPECT_EQ(h["mime-version"].size(), 1u);
  EXPECT_EQ(h["mime-version"][0]["raw"], "1.0");
  ASSERT_EQ(h["date"].size(), 1u);
  EXPECT_TRUE(std::string(h["date"][0]["raw"]).ends_with(" +0000"));
  EXPECT_EQ(h["list-unsubscribe"][0]["raw"], "<https://mouvement.example.org/u/abc123>");
  EXPECT_EQ(h["list-unsubscribe-post"][0]["raw"], "List-Unsubscribe=One-Click");
  EXPECT_EQ(h["content-type"].size(), 1u);  // one, with its boundary: not ours and libcurl's both

  // multipart/alternative of the two bodies, both quoted-printable UTF-8.
  EXPECT_EQ(types(*j), (std::vector<std::string>{"multipart/alternative", "text/plain", "text/html"}));
  const auto* text = part_of_type(*j, "text/plain");
  const auto* html = part_of_type(*j, "text/html");
  ASSERT_TRUE(text && html);
  EXPECT_EQ((*text)["text"], m.text);
  EXPECT_EQ((*html)["text"], m.html);
  EXPECT_EQ((*text)["charset"], "utf-8");
  EXPECT_EQ((*html)["charset"], "utf-8");
  EXPECT_EQ((*text)["cte"], "quoted-printable");
  EXPECT_EQ((*html)["cte"], "quoted-printable");
  EXPECT_TRUE((*j)["defects"].empty()) << (*j)["defects"].dump();

  // On the wire: no 8-bit byte, and no line over 78 characters but the
  // Content-Type lines where libcurl puts its long boundaries.
  for (unsigned char c : *saved) ASSERT_LT(c, 0x80);
  std::size_t line = 0;
  for (std::size_t i = 0; i < saved->size(); ++i) {
    if ((*saved)[i] == '\n') {
      const std::string l = saved->substr(line, i - line);
      if (!l.starts_with("Content-Type: multipart/")) {
        EXPECT_LE(l.size(), 79u) << l;  // 78 and the CR
      }
      line = i + 1;
    }
  }
}

TEST(MailSmtp, ALongSubjectFoldsIntoEncodedWordsThatPythonJoinsBack) {
  REQUIRE_SMTP_SERVER();
  const std::string to = unique_address("long");
  Message m = sample(to);
  m.subject.clear();
  for (int i = 0; i < 8; ++i) m.subject += "Assemblée générale du mouvement 🌱 n°" + std::to_string(i) + " ; ";
  auto t = transport(smtp_server().url);
  ASSERT_TRUE(t);
  ASSERT_EQ(t->send(m, {}).outcome, Delivery::delivered);
  const auto saved = received_for(to, 5s);
  ASSERT_TRUE(saved);
  const auto j = decode(*saved);
  ASSERT_TRUE(j && j->is_object());
  EXPECT_EQ((*j)["subject"], m.subject);
  EXPECT_EQ((*j)["headers"]["subject"][0]["decoded"], m.subject);
  // On the wire: one Subject field over several lines, each an encoded-word
  // of at most 75 characters.
  const auto start = saved->find("\r\nSubject: ");
  ASSERT_NE(start, std::string::npos);
  std::size_t pos = start + 11, lines = 0;
  for (;;) {
    const auto end = saved->find("\r\n", pos);
    const std::string word = saved->substr(pos, end - pos);
    EXPECT_TRUE(word.starts_with("=?UTF-8?B?") && word.ends_with("?=")) << word;
    EXPECT_LE(word.size(), 75u);
    ++lines;
    if (saved->compare(end + 2, 1, " ") != 0) break;
    pos = end + 3;
  }
  EXPECT_GT(lines, 4u);
}

TEST(MailSmtp, AttachmentRoundTripsInMultipartMixed) {
  REQUIRE_SMTP_SERVER();
  const std::string to = unique_address("export");
  Message m = sample(to);
  const std::string json = R"({"personnes":[{"nom":"Élise","ville":"Montréal"}],"n":1,"bytes":"\u0000\u00ff"})";
  m.attachments.push_back({"adhesion.json", "application/json", json});
  m.attachments.push_back({"binaire.bin", "application/octet-stream", std::string("\x00\x01\xfe\xff\r\n\n\r", 8)});
  auto t = transport(smtp_server().url);
  ASSERT_TRUE(t);
  const SendResult r = t->send(m, {});
  ASSERT_EQ(r.outcome, Delivery::delivered) << r.why;

  const auto saved = received_for(to, 5s);
  ASSERT_TRUE(saved);
  const auto j = decode(*saved);
  ASSERT_TRUE(j && j->is_object()) << *saved;
  EXPECT_EQ(types(*j), (std::vector<std::string>{"multipart/mixed", "multipart/alternative", "text/plain",
                                                 "text/html", "application/json", "application/octet-stream"}));
  const auto* a = part_of_type(*j, "application/json");
  ASSERT_TRUE(a);
  EXPECT_EQ((*a)["filename"], "adhesion.json");
  EXPECT_EQ((*a)["disposition"], "attachment");
  EXPECT_EQ((*a)["cte"], "base64");
  EXPECT_EQ(nlohmann::json::parse(std::string((*a)["text"])), nlohmann::json::parse(json));
  EXPECT_EQ((*a)["text"], json);
  const auto* b = part_of_type(*j, "application/octet-stream");
  ASSERT_TRUE(b);
  EXPECT_EQ((*b)["hex"], "0001feff0d0a0a0d");
  EXPECT_EQ((*part_of_type(*j, "text/plain"))["text"], m.text);
  EXPECT_TRUE((*j)["defects"].empty()) << (*j)["defects"].dump();
}

TEST(MailSmtp, TextOnlyMessageHasOneTextPart) {
  REQUIRE_SMTP_SERVER();
  const std::string to = unique_address("texte");
  Message m = sample(to);
  m.html.clear();
  m.from_name.clear();
  m.subject = "Plain subject";
  auto t = transport(smtp_server().url);
  ASSERT_TRUE(t);
  ASSERT_EQ(t->send(m, {}).outcome, Delivery::delivered);
  const auto saved = received_for(to, 5s);
  ASSERT_TRUE(saved);
  EXPECT_NE(saved->find("\r\nFrom: contact@mouvement.example.org\r\n"), std::string::npos) << *saved;
  EXPECT_NE(saved->find("\r\nSubject: Plain subject\r\n"), std::string::npos) << *saved;
  const auto j = decode(*saved);
  ASSERT_TRUE(j && j->is_object());
  EXPECT_EQ(types(*j), (std::vector<std::string>{"multipart/mixed", "text/plain"}));
  EXPECT_EQ((*part_of_type(*j, "text/plain"))["text"], m.text);
}

TEST(MailSmtp, SeveralRecipientsAreAllNamedInTo) {
  REQUIRE_SMTP_SERVER();
  const std::string a = unique_address("oncall"), b = unique_address("security");
  Message m = sample(a);
  m.also_to = {b};
  auto t = transport(smtp_server().url);
  ASSERT_TRUE(t);
  ASSERT_EQ(t->send(m, {}).outcome, Delivery::delivered);
  const auto saved = received_for(b, 5s);
  ASSERT_TRUE(saved);
  EXPECT_NE(saved->find("X-Envelope-To: " + a + "\r\n"), std::string::npos);
  const auto j = decode(*saved);
  ASSERT_TRUE(j && j->is_object());
  ASSERT_EQ((*j)["headers"]["to"].size(), 1u);
  EXPECT_EQ((*j)["headers"]["to"][0]["decoded"], a + ", " + b);
}

TEST(MailSmtp, TempfailIsRetryWith451) {
  REQUIRE_SMTP_SERVER();
  const std::string to = unique_address("tempfail");
  auto t = transport(smtp_server().url);
  ASSERT_TRUE(t);
  const SendResult r = t->send(sample(to), {});
  EXPECT_EQ(r.outcome, Delivery::retry) << r.why;
  EXPECT_EQ(r.reply, 451);
  EXPECT_NE(r.why.find("451"), std::string::npos) << r.why;
  EXPECT_EQ(r.why.find(to), std::string::npos);
  EXPECT_EQ(r.why.find('@'), std::string::npos) << r.why;
  EXPECT_FALSE(received_for(to, 200ms));
}

TEST(MailSmtp, PermfailIsRefusedWith550) {
  REQUIRE_SMTP_SERVER();
  const std::string to = unique_address("permfail");
  auto t = transport(smtp_server().url);
  ASSERT_TRUE(t);
  const SendResult r = t->send(sample(to), {});
  EXPECT_EQ(r.outcome, Delivery::refused) << r.why;
  EXPECT_EQ(r.reply, 550);
  EXPECT_EQ(r.why.find('@'), std::string::npos) << r.why;
}

// A pool: every message delivered once, over no more connections than it
// has, each used for several; a refusal fails that message only; a "try
// later" starts nothing more; the pacing is asked before each start.
TEST(MailSmtp, APoolSendsOverItsConnectionsAndHoldsWhenTheRelayAsksToWait) {
  REQUIRE_SMTP_SERVER();
  auto t = transport(smtp_server().url);
  ASSERT_TRUE(t);
  std::vector<Message> batch;
  std::vector<std::string> to;
  for (int i = 0; i < 12; ++i) {
    to.push_back(unique_address("pool"));
    batch.push_back(sample(to.back()));
  }
  auto pool = t->pool(3);
  int starts = 0;
  Pacing pacing;
  pacing.not_before = [] { return std::chrono::steady_clock::now(); };
  pacing.started = [&] { ++starts; };
  const auto results = pool->send_all(batch, pacing, {});
  ASSERT_EQ(results.size(), batch.size());
  EXPECT_EQ(starts, 12);
  std::set<std::string> connections;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    ASSERT_TRUE(results[i]) << i;
    EXPECT_EQ(results[i]->outcome, Delivery::delivered) << results[i]->why;
    auto got = received_for(to[i], 5s);
    ASSERT_TRUE(got) << i;
    auto j = decode(*got);
    ASSERT_TRUE(j);
    connections.insert((*j)["headers"]["x-smtp-connection"][0]["raw"].get<std::string>());
  }
  EXPECT_EQ(connections.size(), 3u);  // the first three start at once; the rest reuse them

  // A refusal fails its message only; the relay asks to wait at the
  // fourth: what was under way finishes, nothing after is started.
  std::vector<Message> second;
  std::vector<std::string> to2;
  for (int i = 0; i < 20; ++i) {
    to2.push_back(unique_address(i == 3 ? "tempfail" : i == 1 ? "permfail" : "pool"));
    second.push_back(sample(to2.back()));
  }
  const auto held = t->pool(2)->send_all(second, Pacing{}, {});
  ASSERT_TRUE(held[1] && held[3]);
  EXPECT_EQ(held[1]->outcome, Delivery::refused);
  EXPECT_EQ(held[3]->outcome, Delivery::retry);
  std::size_t started = 0;
  for (const auto& r : held) started += r ? 1 : 0;
  EXPECT_LE(started, 6u);  // 3 and at most the one beside it, plus those before
  EXPECT_FALSE(held.back());

  // Stopped before it began: nothing started.
  std::stop_source stop;
  stop.request_stop();
  const auto none = t->pool(2)->send_all(batch, Pacing{}, stop.get_token());
  for (const auto& r : none) EXPECT_FALSE(r);
}

TEST(MailSmtp, ConnectionRefusedIsRetry) {
  auto t = transport("smtp://127.0.0.1:" + std::to_string(closed_port()));
  ASSERT_TRUE(t);
  const SendResult r = t->send(sample("someone@example.org"), {});
  EXPECT_EQ(r.outcome, Delivery::retry) << r.why;
  EXPECT_EQ(r.reply, 0);
  EXPECT_FALSE(r.why.empty());
}

TEST(MailSmtp, RequireTlsAgainstAServerWithoutStarttlsIsRefused) {
  REQUIRE_SMTP_SERVER();
  const std::string to = unique_address("tls");
  auto t = transport(smtp_server().url, /*require_tls=*/true);
  ASSERT_TRUE(t);
  const SendResult r = t->send(sample(to), {});
  EXPECT_EQ(r.outcome, Delivery::refused) << r.why;
  EXPECT_FALSE(received_for(to, 200ms));
}

TEST(MailSmtp, StopRequestedBeforeSendingIsStopped) {
  REQUIRE_SMTP_SERVER();
  const std::string to = unique_address("stopped");
  auto t = transport(smtp_server().url);
  ASSERT_TRUE(t);
  std::stop_source stop;
  stop.request_stop();
  EXPECT_EQ(t->send(sample(to), stop.get_token()).outcome, Delivery::stopped);
  EXPECT_FALSE(received_for(to, 200ms));
}

TEST(MailSmtp, AMessageThatCheckRefusesIsRefusedWithoutAConnection) {
  // A closed port: a connection attempt would be `retry`, not `refused`.
  auto t = transport("smtp://127.0.0.1:" + std::to_string(closed_port()));
  ASSERT_TRUE(t);
  Message m = sample("someone@example.org");
  m.headers.push_back({"X-Note", "ok\r\nBcc: everyone@example.org"});
  const SendResult r = t->send(m, {});
  EXPECT_EQ(r.outcome, Delivery::refused);
  EXPECT_EQ(r.reply, 0);
  EXPECT_NE(r.why.find("X-Note"), std::string::npos) << r.why;
  EXPECT_EQ(r.why.find("Bcc"), std::string::npos) << r.why;
}

TEST(MailSmtp, SendWritesNothingToStdoutOrStderr) {
  REQUIRE_SMTP_SERVER();
  const std::string to = unique_address("silence");
  const std::string refused = unique_address("permfail-silence");
  auto t = transport(smtp_server().url);
  ASSERT_TRUE(t);
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const SendResult ok = t->send(sample(to), {});
  const SendResult no = t->send(sample(refused), {});
  const std::string out = ::testing::internal::GetCapturedStdout();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(ok.outcome, Delivery::delivered);
  EXPECT_EQ(no.outcome, Delivery::refused);
  EXPECT_EQ(out.find('@'), std::string::npos) << out;
  EXPECT_EQ(err.find('@'), std::string::npos) << err;
  EXPECT_EQ(no.why.find('@'), std::string::npos) << no.why;
}

// --- options ---

TEST(MailSmtpOptions, TlsIsMandatoryUnlessTheRelayIsOnTheLoopback) {
  auto refused = [](const std::string& url, const char* what) {
    SmtpOptions o;
    o.url = url;
    o.require_tls = false;
    auto t = SmtpTransport::create(o);
    ASSERT_FALSE(t) << what;
    EXPECT_EQ(t.error().code, Errc::config) << what;
    EXPECT_EQ(t.error().internal.find(url), std::string::npos) << t.error().internal;
  };
  refused("smtp://mail.example.org:587", "a name");
  refused("smtp://192.0.2.10:25", "an address");
  refused("smtp://127.0.0.1.example.org:25", "a name that starts like the loopback");
  refused("smtp://[2001:db8::1]:25", "an IPv6 address");

  for (const char* url : {"smtp://127.0.0.1:25", "smtp://127.8.9.10:25", "smtp://localhost:25", "smtp://LocalHost:25",
                          "smtp://[::1]:25", "smtps://mail.example.org:465",
                          // libcurl reads this as 127.0.0.1, and connects there: the check sees its reading.
                          "smtp://0177.0.0.1:25"}) {
    SmtpOptions o;
    o.url = url;
    o.require_tls = false;
    auto t = SmtpTransport::create(o);
    EXPECT_TRUE(t) << url << ": " << t.error().internal;
  }
  SmtpOptions o;
  o.url = "smtp://mail.example.org:587";  // require_tls defaults to true
  EXPECT_TRUE(SmtpTransport::create(o));
}

TEST(MailSmtpOptions, RefusesBadOptionsWithoutRepeatingTheUrl) {
  char dir_tmpl[] = "/tmp/rempart-mail-opt-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_tmpl), nullptr);
  const std::filesystem::path dir = dir_tmpl;
  const auto pw = dir / "smtp.pass";
  std::ofstream(pw) << "pa55word\n";
  ::chmod(pw.c_str(), 0600);

  auto expect_config = [](const SmtpOptions& o, const char* what) {
    auto t = SmtpTransport::create(o);
    ASSERT_FALSE(t) << what;
    EXPECT_EQ(t.error().code, Errc::config) << what;
    EXPECT_EQ(t.error().internal.find("user:secret"), std::string::npos) << t.error().internal;
    EXPECT_EQ(t.error().internal.find("pa55word"), std::string::npos) << t.error().internal;
  };
  SmtpOptions o;
  o.url = "";
  expect_config(o, "no URL");
  o.url = "http://user:secret@127.0.0.1:25";
  expect_config(o, "http URL");
  o.url = "user:secret@127.0.0.1";
  expect_config(o, "no scheme");
  o.url = "smtp://user:secret@127.0.0.1:25";
  o.username = "rempart";
  expect_config(o, "username without password_file");
  o.username.clear();
  o.password_file = pw;
  expect_config(o, "password_file without username");
  o.username = "rempart";
  o.require_tls = false;
  expect_config(o, "a password over smtp:// without TLS, even on the loopback");
  o.require_tls = true;
  ::chmod(pw.c_str(), 0640);
  expect_config(o, "a password file open to the group");
  ::chmod(pw.c_str(), 0600);
  o.timeout = 0ms;
  expect_config(o, "zero timeout");
  o.timeout = 1000ms;
  auto ok = SmtpTransport::create(o);
  EXPECT_TRUE(ok) << ok.error().internal;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rempart::mail
