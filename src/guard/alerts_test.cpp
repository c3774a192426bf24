// Alerts against real receivers on the loopback: a Beast HTTP server inside
// the test for the webhook, aiosmtpd (a real SMTP server, spawned) for e-mail,
// real files for the JSONL sink.
#include "guard/alerts.hpp"
#include "mail/test_smtp.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <optional>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "guard/smtp_sink.hpp"
#include "guard/test_receiver.hpp"

extern "C" char** environ;

namespace rempart::guard {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kSecret = "s3cret-webhook-key";

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "rempart-guard-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::filesystem::path write_file(const std::filesystem::path& p, std::string_view content, mode_t mode) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
  ::chmod(p.c_str(), mode);
  return p;
}

Alert sample_alert() {
  Alert a;
  a.severity = Severity::critical;
  a.kind = "reveal_budget";
  a.actor = "account:7";
  a.session = "s-4f2a";
  a.client = "ip:127.0.0.1";
  a.reason = "reveal budget of 50 per hour exceeded";
  a.details = {{"records", {101, 102}}, {"budget", 50}};
  a.at_us = 1767225600123456;  // 2026-01-01T00:00:00.123456Z
  return a;
}

// The exact wire form of sample_alert(), id aside.
void expect_sample_fields(const nlohmann::json& j) {
  ASSERT_TRUE(j.is_object());
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  std::ranges::sort(keys);
  EXPECT_EQ(keys, (std::vector<std::string>{"actor", "at", "client", "details", "id", "kind", "reason", "session",
                                            "severity", "source"}));
  EXPECT_EQ(j.value("at", ""), "2026-01-01T00:00:00.123456Z");
  EXPECT_EQ(j.value("severity", ""), "critical");
  EXPECT_EQ(j.value("kind", ""), "reveal_budget");
  EXPECT_EQ(j.value("actor", ""), "account:7");
  EXPECT_EQ(j.value("session", ""), "s-4f2a");
  EXPECT_EQ(j.value("client", ""), "ip:127.0.0.1");
  EXPECT_EQ(j.value("reason", ""), "reveal budget of 50 per hour exceeded");
  EXPECT_EQ(j.value("source", ""), "rempart");
  EXPECT_EQ(j["details"], (nlohmann::json{{"records", {101, 102}}, {"budget", 50}}));
  const std::string id = j.value("id", "");
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
}

using testing::Receiver;

// The median time of `n` raise() calls, and the slowest. The median is what
// raise() costs; the slowest also holds the machine's scheduling noise (two
// shared cores), so it is only checked against the sink's own delays.
struct RaiseTimes {
  Clock::duration median, slowest;
};
RaiseTimes time_raises(Alerter& alerter, int n) {
  std::vector<Clock::duration> times;
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    alerter.raise(sample_alert());
    times.push_back(Clock::now() - t0);
  }
  std::ranges::sort(times);
  return {times[times.size() / 2], times.back()};
}

unsigned short free_port() {
  asio::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();  // closed again when `a` goes
}

class GuardAlerts : public ::testing::Test {
 protected:
  void SetUp() override { secret_file_ = write_file(dir_.path() / "webhook.secret", std::string(kSecret) + "\n", 0600); }

  AlertOptions webhook_only(const std::string& url) {
    AlertOptions o;
    o.stderr_json = false;
    WebhookSinkOptions w;
    w.url = url;
    w.secret_file = secret_file_;
    w.first_backoff = 20ms;
    w.timeout = 2000ms;
    o.webhook = w;
    return o;
  }

  TempDir dir_;
  std::filesystem::path secret_file_;
};

// --- signatures and the wire form ---

TEST(GuardSignature, MatchesHmacSha256KnownAnswer) {
  // RFC 4231, test case 2.
  EXPECT_EQ(sign_body(bytes("Jefe"), "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(GuardSignature, VerifyAcceptsOnlyTheExactBodyAndSecret) {
  const std::string body = R"({"kind":"honeytoken"})";
  const std::string sig = sign_body(bytes(kSecret), body);
  EXPECT_TRUE(verify_signature(bytes(kSecret), body, sig));
  std::string upper = sig;
  std::transform(upper.begin() + 7, upper.end(), upper.begin() + 7, [](unsigned char c) { return std::toupper(c); });
  EXPECT_TRUE(verify_signature(bytes(kSecret), body, upper));
  EXPECT_FALSE(verify_signature(bytes(kSecret), body + " ", sig));
  EXPECT_FALSE(verify_signature(bytes("another-key"), body, sig));
  EXPECT_FALSE(verify_signature(bytes(kSecret), body, sig.substr(7)));
  EXPECT_FALSE(verify_signature(bytes(kSecret), body, sig.substr(0, sig.size() - 2)));
  EXPECT_FALSE(verify_signature(bytes(kSecret), body, "sha256=" + std::string(64, 'z')));
  EXPECT_FALSE(verify_signature(bytes(kSecret), body, ""));
}

TEST(GuardAlertJson, HoldsExactlyWhatWasGiven) {
  const nlohmann::json j = to_json(sample_alert());
  expect_sample_fields(j);
  EXPECT_NE(j.value("id", ""), to_json(sample_alert()).value("id", ""));  // a fresh id each time
}

TEST(GuardAlertJson, EmptyFieldsStayEmptyAndDetailsStayAnObject) {
  Alert a;
  a.kind = "account_locked";
  a.details = nlohmann::json::array({"not", "an", "object"});
  const auto before = std::chrono::system_clock::now() - 1s;
  const nlohmann::json j = to_json(a);
  EXPECT_EQ(j.value("severity", ""), "warning");
  EXPECT_EQ(j.value("actor", "x"), "");
  EXPECT_EQ(j.value("session", "x"), "");
  EXPECT_EQ(j.value("client", "x"), "");
  EXPECT_EQ(j.value("reason", "x"), "");
  EXPECT_EQ(j["details"], nlohmann::json::object());
  // at_us 0 means now.
  const std::string at = j.value("at", "");
  ASSERT_EQ(at.size(), 27u);
  std::tm tm{};
  ASSERT_NE(strptime(at.c_str(), "%Y-%m-%dT%H:%M:%S", &tm), nullptr);
  const auto t = std::chrono::system_clock::from_time_t(timegm(&tm));
  EXPECT_GE(t, std::chrono::floor<std::chrono::seconds>(before));
  EXPECT_LE(t, std::chrono::system_clock::now());
}

// --- the webhook ---

TEST_F(GuardAlerts, WebhookGetsSignedAlertWithinOneSecond) {
  Receiver rx({200});
  auto alerter = Alerter::start(webhook_only(rx.url()));
  ASSERT_TRUE(alerter) << alerter.error().internal;
  const auto t0 = Clock::now();
  (*alerter)->raise(sample_alert());
  ASSERT_TRUE(rx.wait_for(1, 1000ms));
  EXPECT_LT(Clock::now() - t0, 1000ms);
  (*alerter)->stop(1s);

  const auto reqs = rx.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& r = reqs[0];
  EXPECT_EQ(r.target, "/hook");
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_TRUE(verify_signature(bytes(kSecret), r.body, r.signature)) << r.signature;
  EXPECT_FALSE(verify_signature(bytes(std::string(kSecret) + "\n"), r.body, r.signature));  // newline was trimmed
  const long long ts = std::stoll(r.timestamp);
  const long long now_s = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(std::llabs(now_s - ts), 5);
  expect_sample_fields(nlohmann::json::parse(r.body));
  EXPECT_EQ(r.body.find(kSecret), std::string::npos);
  EXPECT_EQ(r.body.find('@'), std::string::npos);

  const auto st = (*alerter)->stats();
  EXPECT_EQ(st.webhook.delivered, 1u);
  EXPECT_EQ(st.webhook.failed, 0u);
  EXPECT_EQ(st.webhook.dropped, 0u);
}

TEST_F(GuardAlerts, WebhookRetries503ThenDeliversOnThirdAttempt) {
  Receiver rx({503, 503, 200});
  auto alerter = Alerter::start(webhook_only(rx.url()));
  ASSERT_TRUE(alerter) << alerter.error().internal;
  (*alerter)->raise(sample_alert());
  ASSERT_TRUE(rx.wait_for(3, 3000ms));
  (*alerter)->stop(2s);
  const auto reqs = rx.requests();
  ASSERT_EQ(reqs.size(), 3u);
  // Every attempt carries the same alert (same id), each validly signed.
  EXPECT_EQ(reqs[0].body, reqs[2].body);
  for (const auto& r : reqs) EXPECT_TRUE(verify_signature(bytes(kSecret), r.body, r.signature));
  const auto st = (*alerter)->stats();
  EXPECT_EQ(st.webhook.delivered, 1u);
  EXPECT_EQ(st.webhook.failed, 0u);
}

TEST_F(GuardAlerts, Webhook429IsRetriedToo) {
  Receiver rx({429, 202});
  auto alerter = Alerter::start(webhook_only(rx.url()));
  ASSERT_TRUE(alerter) << alerter.error().internal;
  (*alerter)->raise(sample_alert());
  ASSERT_TRUE(rx.wait_for(2, 3000ms));
  (*alerter)->stop(2s);
  EXPECT_EQ((*alerter)->stats().webhook.delivered, 1u);
}

TEST_F(GuardAlerts, Webhook400IsNotRetried) {
  Receiver rx({400, 200});
  auto alerter = Alerter::start(webhook_only(rx.url()));
  ASSERT_TRUE(alerter) << alerter.error().internal;
  (*alerter)->raise(sample_alert());
  ASSERT_TRUE(rx.wait_for(1, 1000ms));
  // Backoff is 20 ms: a retry would have arrived well within this.
  EXPECT_FALSE(rx.wait_for(2, 300ms));
  (*alerter)->stop(1s);
  EXPECT_EQ(rx.requests().size(), 1u);
  const auto st = (*alerter)->stats();
  EXPECT_EQ(st.webhook.delivered, 0u);
  EXPECT_EQ(st.webhook.failed, 1u);
}

TEST_F(GuardAlerts, HangingWebhookNeverDelaysRaiseAndStopKeepsItsBound) {
  Receiver rx({200}, /*hang=*/true);
  auto opts = webhook_only(rx.url());
  opts.webhook->timeout = 3000ms;
  auto alerter = Alerter::start(opts);
  ASSERT_TRUE(alerter) << alerter.error().internal;

  (*alerter)->raise(sample_alert());
  ASSERT_TRUE(rx.wait_for(1, 1000ms));  // the transfer is now stuck on the receiver
  const RaiseTimes times = time_raises(**alerter, 20);
  EXPECT_LT(times.median, 10ms);
  EXPECT_LT(times.slowest, 500ms);  // far from the 3 s the transfer may take
  const auto t0 = Clock::now();
  (*alerter)->stop(300ms);
  const auto took = Clock::now() - t0;
  EXPECT_GE(took, 250ms);  // it did wait for the drain...
  EXPECT_LT(took, 800ms);  // ...and not for the 3 s transfer timeout
  const auto st = (*alerter)->stats();
  EXPECT_EQ(st.webhook.delivered, 0u);
  EXPECT_EQ(st.webhook.failed, 1u);    // the transfer cut off
  EXPECT_EQ(st.webhook.dropped, 20u);  // the rest, never tried
}

TEST_F(GuardAlerts, ClosedPortFailsAfterItsAttemptsWithoutBlockingRaise) {
  auto opts = webhook_only("http://127.0.0.1:" + std::to_string(free_port()) + "/hook");
  opts.webhook->max_attempts = 3;
  opts.webhook->first_backoff = 10ms;
  auto alerter = Alerter::start(opts);
  ASSERT_TRUE(alerter) << alerter.error().internal;
  EXPECT_LT(time_raises(**alerter, 5).median, 10ms);
  for (int i = 0; i < 300 && (*alerter)->stats().webhook.failed < 5; ++i) std::this_thread::sleep_for(10ms);
  const auto t1 = Clock::now();
  (*alerter)->stop(1s);
  EXPECT_LT(Clock::now() - t1, 1500ms);
  EXPECT_EQ((*alerter)->stats().webhook.failed, 5u);
  EXPECT_EQ((*alerter)->stats().webhook.delivered, 0u);
}

TEST_F(GuardAlerts, FullQueueDropsTheOldestAndCountsIt) {
  Receiver rx({200}, /*hang=*/true);
  auto opts = webhook_only(rx.url());
  opts.queue_capacity = 2;
  auto alerter = Alerter::start(opts);
  ASSERT_TRUE(alerter) << alerter.error().internal;
  Alert first = sample_alert();
  first.details = {{"n", 0}};
  (*alerter)->raise(first);
  ASSERT_TRUE(rx.wait_for(1, 1000ms));  // alert 0 is in flight, the queue is empty
  for (int n = 1; n <= 5; ++n) {
    Alert a = sample_alert();
    a.details = {{"n", n}};
    (*alerter)->raise(a);
  }
  EXPECT_EQ((*alerter)->stats().webhook.dropped, 3u);  // 1, 2 and 3 pushed out by 4 and 5
  (*alerter)->stop(100ms);
  const auto st = (*alerter)->stats();
  EXPECT_EQ(st.webhook.delivered + st.webhook.failed + st.webhook.dropped, 6u);
  ASSERT_EQ(rx.requests().size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(rx.requests()[0].body)["details"]["n"], 0);
}

// --- files and stderr ---

TEST_F(GuardAlerts, FileSinkAppendsOneJsonLinePerAlertAt0600) {
  const auto path = dir_.path() / "alerts.jsonl";
  AlertOptions o;
  o.stderr_json = false;
  o.file = path;
  {
    auto alerter = Alerter::start(o);
    ASSERT_TRUE(alerter) << alerter.error().internal;
    (*alerter)->raise(sample_alert());
    Alert b;
    b.severity = Severity::info;
    b.kind = "honeytoken";
    b.actor = "account:9";
    (*alerter)->raise(b);
    (*alerter)->stop(2s);
    EXPECT_EQ((*alerter)->stats().file.delivered, 2u);
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  {
    auto again = Alerter::start(o);  // a restart appends, never truncates
    ASSERT_TRUE(again) << again.error().internal;
    (*again)->raise(sample_alert());
  }  // the destructor drains
  std::ifstream in(path);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 3u);
  expect_sample_fields(lines[0]);
  EXPECT_EQ(lines[1].value("kind", ""), "honeytoken");
  EXPECT_EQ(lines[1].value("severity", ""), "info");
  expect_sample_fields(lines[2]);
}

TEST_F(GuardAlerts, StderrSinkWritesOneJsonLine) {
  AlertOptions o;  // stderr_json defaults to on
  ::testing::internal::CaptureStderr();
  {
    auto alerter = Alerter::start(o);
    ASSERT_TRUE(alerter) << alerter.error().internal;
    (*alerter)->raise(sample_alert());
    (*alerter)->stop(2s);
    EXPECT_EQ((*alerter)->stats().stderr_json.delivered, 1u);
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  std::istringstream in(err);
  int found = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("{\"actor\"")) {
      expect_sample_fields(nlohmann::json::parse(line));
      ++found;
    }
  }
  EXPECT_EQ(found, 1) << err;
}

// --- refused options ---

TEST_F(GuardAlerts, RefusesBadOptionsWithConfigErrors) {
  auto expect_config = [](const AlertOptions& o, const char* what) {
    auto r = Alerter::start(o);
    ASSERT_FALSE(r) << what;
    EXPECT_EQ(r.error().code, Errc::config) << what << ": " << r.error().internal;
    EXPECT_EQ(r.error().internal.find(kSecret), std::string::npos) << what;
    EXPECT_EQ(r.error().internal.find("token-in-url"), std::string::npos) << what;
  };
  const std::string good = "http://127.0.0.1:9/token-in-url";

  auto o = webhook_only(good);
  o.webhook->secret_file = dir_.path() / "missing.secret";
  expect_config(o, "missing secret file");

  o = webhook_only(good);
  o.webhook->secret_file = write_file(dir_.path() / "open.secret", kSecret, 0644);
  expect_config(o, "0644 secret file");

  o = webhook_only(good);
  o.webhook->secret_file = write_file(dir_.path() / "group.secret", kSecret, 0640);
  expect_config(o, "0640 secret file");

  o = webhook_only(good);
  o.webhook->secret_file = write_file(dir_.path() / "empty.secret", "\n", 0600);
  expect_config(o, "empty secret file");

  o = webhook_only(good);
  o.webhook->secret_file = dir_.path();
  expect_config(o, "secret path is a directory");

  expect_config(webhook_only("ftp://127.0.0.1/token-in-url"), "ftp URL");
  expect_config(webhook_only("file:///etc/token-in-url"), "file URL");
  expect_config(webhook_only("127.0.0.1:80/token-in-url"), "URL without scheme");
  expect_config(webhook_only(""), "empty URL");

  o = webhook_only(good);
  o.webhook->max_attempts = 0;
  expect_config(o, "zero attempts");

  AlertOptions m;
  m.stderr_json = false;
  SmtpSinkOptions s;
  s.url = "smtp://127.0.0.1:25";
  s.from = "rempart@example.org";
  m.smtp = s;
  expect_config(m, "no recipients");

  m.smtp->to = {"oncall@example.org"};
  m.smtp->url = "http://127.0.0.1:25";
  expect_config(m, "http URL for smtp");

  m.smtp->url = "smtp://127.0.0.1:25";
  m.smtp->to = {"oncall@example.org\r\nBcc: someone@example.org"};
  expect_config(m, "header in a recipient");

  m.smtp->to = {"oncall@example.org"};
  m.smtp->username = "rempart";
  m.smtp->password_file = write_file(dir_.path() / "smtp.pass", "pw", 0600);
  expect_config(m, "password over smtp:// without require_tls");

  m.smtp->require_tls = true;
  ::chmod(m.smtp->password_file.c_str(), 0604);
  expect_config(m, "world-readable password file");

  // And the same options with everything right are accepted.
  ::chmod(m.smtp->password_file.c_str(), 0600);
  auto ok = Alerter::start(m);
  EXPECT_TRUE(ok) << ok.error().internal;

  AlertOptions f;
  f.stderr_json = false;
  f.file = dir_.path() / "no-such-dir" / "alerts.jsonl";
  auto r = Alerter::start(f);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::io);
}

TEST_F(GuardAlerts, StopIsIdempotentAndLaterAlertsAreCountedAsDropped) {
  const auto path = dir_.path() / "alerts.jsonl";
  AlertOptions o;
  o.stderr_json = false;
  o.file = path;
  auto alerter = Alerter::start(o);
  ASSERT_TRUE(alerter) << alerter.error().internal;
  (*alerter)->stop(1s);
  const auto t0 = Clock::now();
  (*alerter)->stop(1s);
  EXPECT_LT(Clock::now() - t0, 50ms);
  (*alerter)->raise(sample_alert());
  const auto st = (*alerter)->stats();
  EXPECT_EQ(st.file.dropped, 1u);
  EXPECT_EQ(st.file.delivered, 0u);
  EXPECT_EQ(std::filesystem::file_size(path), 0u);
}

// --- e-mail ---

TEST(GuardAlertEmail, HeadersCannotBeInjectedAndLinesEndInCrlf) {
  Alert a = sample_alert();
  a.kind = "honeytoken\r\nBcc: someone@example.org";
  a.reason = "line one\nline two";
  const nlohmann::json j = to_json(a);
  SmtpSinkOptions o;
  o.from = "rempart@alerts.example.org";
  o.to = {"oncall@example.org", "security@example.org"};
  const std::string m = format_alert_email(j, o, std::chrono::system_clock::from_time_t(1767225600));
  EXPECT_NE(m.find("Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"), std::string::npos) << m;
  EXPECT_NE(m.find("Subject: [rempart] critical: honeytoken??Bcc: someone@example.org (account:7)\r\n"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("Message-ID: <" + j.value("id", "") + ".alert@alerts.example.org>\r\n"), std::string::npos) << m;
  EXPECT_NE(m.find("To: oncall@example.org, security@example.org\r\n"), std::string::npos) << m;
  EXPECT_NE(m.find("\r\nreason: line one line two\r\n"), std::string::npos) << m;
  EXPECT_EQ(m.find("\r\nBcc:"), std::string::npos) << m;
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\n') {
      ASSERT_TRUE(i > 0 && m[i - 1] == '\r') << "bare LF at " << i;
    }
  }
}

// The real SMTP server of the mail layer's tests (mail/test_smtp.hpp): the
// one scripts/test started for the stage, or one for this binary.
namespace mt = mail::testing;

TEST_F(GuardAlerts, SmtpDeliversAPlainTextMailToARealServer) {
  ASSERT_EQ(mt::smtp_server().error, "");
  const std::string oncall = mt::unique_address("oncall"), security = mt::unique_address("security");
  AlertOptions o;
  o.stderr_json = false;
  SmtpSinkOptions s;
  s.url = mt::smtp_server().url;
  s.from = "rempart@alerts.example.org";
  s.to = {oncall, security};
  s.max_attempts = 2;
  o.smtp = s;
  auto alerter = Alerter::start(o);
  ASSERT_TRUE(alerter) << alerter.error().internal;
  (*alerter)->raise(sample_alert());

  const auto saved = mt::received_for(oncall, 5s);
  (*alerter)->stop(2s);
  ASSERT_TRUE(saved);
  const std::string& out = *saved;
  if (std::getenv("REMPART_SHOW_MAIL") != nullptr) std::cout << out;
  EXPECT_EQ((*alerter)->stats().smtp.delivered, 1u);
  EXPECT_NE(out.find("X-Envelope-To: " + security + "\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Subject: [rempart] critical: reveal_budget (account:7)"), std::string::npos) << out;
  EXPECT_NE(out.find("From: rempart@alerts.example.org"), std::string::npos) << out;
  EXPECT_NE(out.find("To: " + oncall + ", " + security), std::string::npos) << out;
  EXPECT_NE(out.find("Message-ID: <"), std::string::npos) << out;
  EXPECT_NE(out.find("Date: "), std::string::npos) << out;
  auto decoded = mt::decode(out);
  ASSERT_TRUE(decoded && !decoded->is_discarded());
  std::string text;
  for (const auto& part : (*decoded)["parts"]) {
    if (part["type"] == "text/plain") text = part["text"];
  }
  EXPECT_NE(text.find("kind: reveal_budget"), std::string::npos) << text;
  EXPECT_NE(text.find("actor: account:7"), std::string::npos) << text;
  EXPECT_NE(text.find("session: s-4f2a"), std::string::npos) << text;
  EXPECT_NE(text.find("reason: reveal budget of 50 per hour exceeded"), std::string::npos) << text;
  EXPECT_NE(text.find("at: 2026-01-01T00:00:00.123456Z"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(details: {"budget":50,"records":[101,102]})"), std::string::npos) << text;
}

TEST_F(GuardAlerts, SmtpWithRequireTlsRefusesAServerWithoutStarttls) {
  ASSERT_EQ(mt::smtp_server().error, "");
  const std::string oncall = mt::unique_address("oncall");
  AlertOptions o;
  o.stderr_json = false;
  SmtpSinkOptions s;
  s.url = mt::smtp_server().url;
  s.from = "rempart@alerts.example.org";
  s.to = {oncall};
  s.require_tls = true;
  s.max_attempts = 3;
  o.smtp = s;
  auto alerter = Alerter::start(o);
  ASSERT_TRUE(alerter) << alerter.error().internal;
  (*alerter)->raise(sample_alert());
  for (int i = 0; i < 300 && (*alerter)->stats().smtp.failed == 0; ++i) std::this_thread::sleep_for(10ms);
  (*alerter)->stop(1s);
  EXPECT_EQ((*alerter)->stats().smtp.failed, 1u);
  EXPECT_EQ((*alerter)->stats().smtp.delivered, 0u);
  EXPECT_FALSE(mt::received_for(oncall, 200ms));
}

}  // namespace
}  // namespace rempart::guard
