#include "http/server.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "http/test_client.hpp"
#include "http/tls_test_support.hpp"

namespace rempart::http {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;
using testing::Client;
using testing::exchange;
using testing::make_request;
using testing::send;
using testing::TestCertificate;
using testing::TlsClientOptions;

ServerOptions test_options() {
  ServerOptions o;
  o.threads = 2;
  o.read_timeout = 1s;
  o.idle_timeout = 2s;
  o.drain_timeout = 3s;
  return o;
}

// Answers with the method, target and body size: enough to tell requests
// apart in the pipelining tests.
void describe_request(Request&& req, const RequestContext& ctx, Responder respond) {
  Response res{bhttp::status::ok, 11};
  res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::string(req.method_string()) + " " + std::string(req.target()) + " " +
               std::to_string(req.body().size()) + (ctx.client.is_loopback() ? " lo" : " ?");
  respond(std::move(res));
}

std::unique_ptr<Server> start_server(Handler h = describe_request,
                                     ServerOptions o = test_options()) {
  auto s = Server::start(std::move(o), std::move(h));
  if (!s) throw std::runtime_error("server did not start: " + s.error().internal);
  return std::move(*s);
}

TEST(Server, AnswersOnAKernelChosenPortWithoutServerHeader) {
  auto server = start_server();
  ASSERT_NE(server->port(), 0);
  EXPECT_FALSE(server->tls());
  const auto res = send(server->port(), make_request(bhttp::verb::get, "/a?b=c"));
  EXPECT_EQ(res.result(), bhttp::status::ok);
  EXPECT_EQ(res.body(), "GET /a?b=c 0 lo");
  EXPECT_EQ(res.count(bhttp::field::server), 0u);
  EXPECT_EQ(res[bhttp::field::content_length], std::to_string(res.body().size()));
}

TEST(Server, RefusesABadAddress) {
  ServerOptions o = test_options();
  o.address = "not-an-address";
  auto s = Server::start(o, describe_request);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::config);
}

TEST(Server, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto server = start_server();
  Client c(server->port());
  for (int i = 0; i < 3; ++i) {
    c.write(make_request(bhttp::verb::post, "/n" + std::to_string(i), "xyz", "text/plain"));
    const auto res = c.read_response();
    EXPECT_EQ(res.body(), "POST /n" + std::to_string(i) + " 3 lo");
    EXPECT_TRUE(res.keep_alive());
  }
}

TEST(Server, PipelinedRequestsAreAnsweredInOrder) {
  auto server = start_server();
  Client c(server->port());
  c.write(
      "GET /first HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd"
      "GET /third HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(c.read_response().body(), "GET /first 0 lo");
  EXPECT_EQ(c.read_response().body(), "POST /second 4 lo");
  const auto third = c.read_response();
  EXPECT_EQ(third.body(), "GET /third 0 lo");
  EXPECT_FALSE(third.keep_alive());
  EXPECT_TRUE(c.read_until_close(2s).closed);
}

TEST(Server, Http10GetsAnHttp10AnswerAndTheConnectionCloses) {
  auto server = start_server();
  const auto raw = exchange(server->port(), "GET /old HTTP/1.0\r\n\r\n");
  EXPECT_TRUE(raw.starts_with("HTTP/1.0 200 OK\r\n")) << raw;
  EXPECT_NE(raw.find("GET /old 0 lo"), std::string::npos);
}

TEST(Server, Http10KeepAliveIsHonoured) {
  auto server = start_server();
  Client c(server->port());
  c.write("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  const auto res = c.read_response();
  EXPECT_EQ(res.version(), 10u);
  EXPECT_TRUE(res.keep_alive());
  c.write("GET /b HTTP/1.0\r\n\r\n");
  EXPECT_EQ(c.read_response().body(), "GET /b 0 lo");
  EXPECT_TRUE(c.read_until_close(2s).closed);
}

TEST(Server, HeadGetsTheLengthButNoBody) {
  auto server = start_server();
  const auto raw = exchange(server->port(), "HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(raw.find("Content-Length: 12\r\n"), std::string::npos) << raw;  // "HEAD /h 0 lo"
  EXPECT_TRUE(raw.ends_with("\r\n\r\n")) << raw;
}

TEST(Server, OversizedHeaderIs431ThenClose) {
  auto server = start_server();
  const std::string raw = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n";
  const auto out = exchange(server->port(), raw);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 431 ")) << out.substr(0, 40);
  EXPECT_NE(out.find("Connection: close"), std::string::npos);
}

TEST(Server, OversizedBodyIs413ThenClose) {
  auto server = start_server();
  const std::string body(17000, 'b');
  const auto declared = exchange(
      server->port(),
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 17000\r\n\r\n" + body);
  EXPECT_TRUE(declared.starts_with("HTTP/1.1 413 ")) << declared.substr(0, 40);
  // Chunked bodies are counted as they arrive.
  std::string chunked = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 5; ++i) chunked += "1000\r\n" + std::string(4096, 'c') + "\r\n";
  chunked += "0\r\n\r\n";
  const auto streamed = exchange(server->port(), chunked);
  EXPECT_TRUE(streamed.starts_with("HTTP/1.1 413 ")) << streamed.substr(0, 40);
}

TEST(Server, AmbiguousBodyLengthIs400ThenClose) {
  auto server = start_server();
  for (const char* framing : {
           "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
           "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n",
           "Transfer-Encoding: gzip\r\nContent-Length: 4\r\n",
           "Transfer-Encoding: gzip\r\n",
           "Content-Length: 4\r\nContent-Length: 5\r\n",
           // Chunked last, so chunked for Beast, but not for every proxy.
           "Transfer-Encoding: identity, chunked\r\n",
           "Transfer-Encoding: gzip, chunked\r\n",
           "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
       }) {
    // What would follow is a smuggled second request; it must never be served.
    const auto out = exchange(server->port(), std::string("POST / HTTP/1.1\r\nHost: x\r\n") + framing +
                                                  "\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(out.starts_with("HTTP/1.1 400 ")) << framing << out.substr(0, 40);
    EXPECT_EQ(out.find("smuggled"), std::string::npos) << framing;
    EXPECT_EQ(out.find("HTTP/1.1", 5), std::string::npos) << "a second answer for " << framing;
  }
}

TEST(Server, MalformedRequestsAre400) {
  auto server = start_server();
  for (const std::string& raw : {
           std::string("GARBAGE\r\n\r\n"),
           std::string("GET / HTTP/9.9\r\nHost: x\r\n\r\n"),
           std::string("GET http://example.org/ HTTP/1.1\r\nHost: x\r\n\r\n"),
           std::string("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"),
           std::string("GET / HTTP/1.1\r\n\r\n"),  // no Host
           std::string("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
           std::string("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n"),
           std::string("GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n"),
       }) {
    const auto out = exchange(server->port(), raw);
    EXPECT_TRUE(out.starts_with("HTTP/1.1 400 ")) << out.substr(0, 40);
  }
}

TEST(Server, SlowHeaderIsCutByTheDeadlineWhileOthersAreServed) {
  auto server = start_server();
  Client slow(server->port());
  const auto started = std::chrono::steady_clock::now();
  slow.write("GET / HTTP/1.1\r\nHo");
  // Trickling bytes does not extend the deadline: it covers the whole request.
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(200ms);
    slow.write("s");
  }
  const auto res = send(server->port(), make_request(bhttp::verb::get, "/meanwhile"));
  EXPECT_EQ(res.body(), "GET /meanwhile 0 lo");
  const auto drained = slow.read_until_close(4s);
  EXPECT_TRUE(drained.closed);
  EXPECT_EQ(drained.bytes, "");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms);
}

TEST(Server, SlowBodyIsCut) {
  auto server = start_server();
  Client slow(server->port());
  slow.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc");
  const auto drained = slow.read_until_close(4s);
  EXPECT_TRUE(drained.closed);
  EXPECT_EQ(drained.bytes, "");
}

TEST(Server, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  auto server = start_server();
  Client c(server->port());
  c.write(make_request(bhttp::verb::get, "/"));
  c.read_response();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.read_until_close(5s).closed);
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GT(waited, 1500ms);  // idle_timeout (2 s), not read_timeout (1 s)
}

TEST(Server, ExpectContinueGetsAnInterimAnswer) {
  auto server = start_server();
  Client c(server->port());
  c.write("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  auto interim = c.read_response();
  EXPECT_EQ(interim.result(), bhttp::status::continue_);
  c.write("abc");
  EXPECT_EQ(c.read_response().body(), "POST /up 3 lo");
}

TEST(Server, AHandlerThatThrowsGets500AndTheServerCarriesOn) {
  auto server = start_server([](Request&& req, const RequestContext& ctx, Responder respond) {
    if (req.target() == "/boom") throw std::runtime_error("handler bug");
    describe_request(std::move(req), ctx, std::move(respond));
  });
  EXPECT_EQ(send(server->port(), make_request(bhttp::verb::get, "/boom")).result(),
            bhttp::status::internal_server_error);
  EXPECT_EQ(send(server->port(), make_request(bhttp::verb::get, "/fine")).result(), bhttp::status::ok);
}

TEST(Server, ADroppedResponderClosesTheConnection) {
  auto server = start_server([](Request&&, const RequestContext&, Responder) {});
  Client c(server->port());
  c.write(make_request(bhttp::verb::get, "/"));
  const auto drained = c.read_until_close(3s);
  EXPECT_TRUE(drained.closed);
  EXPECT_EQ(drained.bytes, "");
}

TEST(Server, ProtocolErrorsGoThroughTheErrorRenderer) {
  auto s = Server::start(test_options(), describe_request, [](ProtocolError e) {
    Response r = default_protocol_error_response(e);
    r.set("X-Rendered", "yes");
    return r;
  });
  ASSERT_TRUE(s);
  const auto out = exchange((*s)->port(), "NOT HTTP\r\n\r\n");
  EXPECT_TRUE(out.starts_with("HTTP/1.1 400 ")) << out;
  EXPECT_NE(out.find("X-Rendered: yes"), std::string::npos);
}

// Holds requests until the test lets them go, from the test's own thread.
struct Parked {
  std::mutex m;
  std::vector<Responder> responders;
  std::promise<void> arrived;
  bool signalled = false;

  Handler handler() {
    return [this](Request&&, const RequestContext&, Responder respond) {
      std::lock_guard lock(m);
      responders.push_back(std::move(respond));
      if (!signalled) {
        signalled = true;
        arrived.set_value();
      }
    };
  }
  void release_all() {
    std::lock_guard lock(m);
    for (auto& r : responders) {
      Response res{bhttp::status::ok, 11};
      res.body() = "finished";
      r(std::move(res));
    }
  }
};

TEST(Server, GracefulStopLetsAnInFlightRequestFinish) {
  Parked parked;
  auto server = start_server(parked.handler());
  Client busy(server->port());
  busy.write(make_request(bhttp::verb::get, "/slow"));
  ASSERT_EQ(parked.arrived.get_future().wait_for(3s), std::future_status::ready);
  Client idle(server->port());  // connected, never sends: cut at once by stop()

  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    server->stop();
    stopped = true;
  });
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(stopped.load()) << "stop() must wait for the request in flight";
  EXPECT_TRUE(idle.read_until_close(1s).closed);
  parked.release_all();
  const auto res = busy.read_response();
  EXPECT_EQ(res.body(), "finished");
  EXPECT_FALSE(res.keep_alive());
  stopper.join();
  EXPECT_TRUE(stopped.load());
  // Nothing listens any more.
  EXPECT_THROW(Client late(server->port()), boost::system::system_error);
}

TEST(Server, StopIsBoundedAndALateResponderIsHarmless) {
  Parked parked;
  ServerOptions o = test_options();
  o.drain_timeout = 1s;
  auto server = start_server(parked.handler(), o);
  Client busy(server->port());
  busy.write(make_request(bhttp::verb::get, "/never"));
  ASSERT_EQ(parked.arrived.get_future().wait_for(3s), std::future_status::ready);
  const auto started = std::chrono::steady_clock::now();
  server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms);
  EXPECT_TRUE(busy.read_until_close(2s).closed);
  server.reset();
  parked.release_all();  // after the server is gone: dropped, no crash
}

// ---- TLS ----------------------------------------------------------------

class TlsServer : public ::testing::Test {
 protected:
  ServerOptions tls_options() {
    ServerOptions o = test_options();
    o.tls = TlsOptions{cert_.cert, cert_.key};
    return o;
  }
  TlsClientOptions client() const {
    TlsClientOptions o;
    o.trust = cert_.cert;
    return o;
  }

  // A client that only speaks the versions and ciphers given, whatever the
  // system's OpenSSL policy says, so that the refusal comes from the server.
  TlsClientOptions legacy_client(int max_version, std::string ciphers) const {
    TlsClientOptions o = client();
    o.min_version = TLS1_VERSION;
    o.max_version = max_version;
    o.ciphers = std::move(ciphers) + ":@SECLEVEL=0";
    o.security_level = 0;
    return o;
  }

  static boost::system::error_code handshake_error(unsigned short port, const TlsClientOptions& o) {
    try {
      Client c(port, o);
    } catch (const boost::system::system_error& e) {
      return e.code();
    }
    return {};
  }

  TestCertificate cert_;
};

TEST_F(TlsServer, AnswersOverTls13) {
  auto server = start_server(describe_request, tls_options());
  EXPECT_TRUE(server->tls());
  Client c(server->port(), client());
  EXPECT_EQ(c.tls_version(), "TLSv1.3");
  c.write(make_request(bhttp::verb::get, "/secure?x=1"));
  const auto res = c.read_response();
  EXPECT_EQ(res.result(), bhttp::status::ok);
  EXPECT_EQ(res.body(), "GET /secure?x=1 0 lo");
  EXPECT_EQ(res.count(bhttp::field::server), 0u);
}

TEST_F(TlsServer, KeepAliveWorksOverTls) {
  auto server = start_server(describe_request, tls_options());
  Client c(server->port(), client());
  for (int i = 0; i < 3; ++i) {
    c.write(make_request(bhttp::verb::post, "/k" + std::to_string(i), "abcd", "text/plain"));
    const auto res = c.read_response();
    EXPECT_EQ(res.body(), "POST /k" + std::to_string(i) + " 4 lo");
    EXPECT_TRUE(res.keep_alive());
  }
  // Connection: close ends with the server's close_notify.
  c.write("GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(c.read_response().body(), "GET /last 0 lo");
  const auto end = c.read_until_close(2s);
  EXPECT_TRUE(end.closed);
  EXPECT_TRUE(end.orderly);
}

TEST_F(TlsServer, PlainHttpOnTheTlsPortIsClosedWithoutAnAnswer) {
  auto server = start_server(describe_request, tls_options());
  Client plain(server->port());
  plain.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto out = plain.read_until_close(3s);
  EXPECT_TRUE(out.closed);
  EXPECT_EQ(out.bytes.find("HTTP/"), std::string::npos) << out.bytes;
  EXPECT_EQ(send(server->port(), client(), make_request(bhttp::verb::get, "/after")).body(), "GET /after 0 lo");
}

TEST_F(TlsServer, Tls11IsRefusedAndTls12GetsAnAeadSuite) {
  auto server = start_server(describe_request, tls_options());
  const auto refused = handshake_error(server->port(), legacy_client(TLS1_1_VERSION, "DEFAULT"));
  ASSERT_TRUE(refused);
  // The server's alert, not the client refusing to try.
  EXPECT_EQ(ERR_GET_REASON(static_cast<unsigned long>(refused.value())), SSL_R_TLSV1_ALERT_PROTOCOL_VERSION)
      << refused.message();

  Client tls12(server->port(), legacy_client(TLS1_2_VERSION, "DEFAULT"));
  EXPECT_EQ(tls12.tls_version(), "TLSv1.2");
  const std::string cipher = tls12.tls_cipher();  // the client offered every DEFAULT suite
  EXPECT_TRUE(cipher.starts_with("ECDHE-")) << cipher;
  EXPECT_TRUE(cipher.find("GCM") != std::string::npos || cipher.find("CHACHA20") != std::string::npos) << cipher;
  tls12.write(make_request(bhttp::verb::get, "/v12"));
  EXPECT_EQ(tls12.read_response().body(), "GET /v12 0 lo");
}

TEST_F(TlsServer, Tls12WithoutForwardSecrecyOrAeadIsRefused) {
  auto server = start_server(describe_request, tls_options());
  for (const char* weak : {"ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES128-SHA", "AES128-GCM-SHA256"}) {
    const auto refused = handshake_error(server->port(), legacy_client(TLS1_2_VERSION, weak));
    ASSERT_TRUE(refused) << weak;
    // No shared suite: the server's handshake_failure alert.
    EXPECT_EQ(ERR_GET_REASON(static_cast<unsigned long>(refused.value())), SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE)
        << weak << ": " << refused.message();
  }
  // The server still serves a sound client afterwards.
  EXPECT_EQ(send(server->port(), client(), make_request(bhttp::verb::get, "/ok")).body(), "GET /ok 0 lo");
}

TEST_F(TlsServer, AHandshakeThatNeverCompletesIsCutAfterReadTimeout) {
  auto server = start_server(describe_request, tls_options());
  Client stalled(server->port());
  const auto started = std::chrono::steady_clock::now();
  stalled.write(std::string_view("\x16\x03\x01", 3));  // the start of a record header, then nothing
  EXPECT_EQ(send(server->port(), client(), make_request(bhttp::verb::get, "/meanwhile")).body(),
            "GET /meanwhile 0 lo");
  const auto out = stalled.read_until_close(4s);
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(out.closed);
  EXPECT_GT(waited, 800ms);   // read_timeout is 1 s
  EXPECT_LT(waited, 2500ms);
}

TEST_F(TlsServer, OversizedHeaderIs431OverTls) {
  auto server = start_server(describe_request, tls_options());
  Client c(server->port(), client());
  c.write("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n");
  const auto out = c.read_until_close();
  EXPECT_TRUE(out.bytes.starts_with("HTTP/1.1 431 ")) << out.bytes.substr(0, 40);
  EXPECT_NE(out.bytes.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(out.orderly) << "the answer ends with close_notify";
}

TEST_F(TlsServer, SmugglingIsRefusedOverTls) {
  auto server = start_server(describe_request, tls_options());
  Client c(server->port(), client());
  c.write(
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto out = c.read_until_close();
  EXPECT_TRUE(out.bytes.starts_with("HTTP/1.1 400 ")) << out.bytes.substr(0, 40);
  EXPECT_EQ(out.bytes.find("smuggled"), std::string::npos);
}

TEST_F(TlsServer, StopWithTlsConnectionsOpenIsPromptAndSaysCloseNotify) {
  auto server = start_server(describe_request, tls_options());
  Client served(server->port(), client());  // between requests
  served.write(make_request(bhttp::verb::get, "/"));
  served.read_response();
  Client quiet(server->port(), client());  // handshake done, no request yet
  Client raw(server->port());              // TCP only, in the handshake
  std::this_thread::sleep_for(100ms);      // let the server reach every read
  const auto started = std::chrono::steady_clock::now();
  server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);  // drain_timeout is 3 s
  for (Client* c : {&served, &quiet}) {
    const auto out = c->read_until_close(2s);
    EXPECT_TRUE(out.closed);
    EXPECT_TRUE(out.orderly) << "close_notify expected";
    EXPECT_EQ(out.bytes, "");
  }
  EXPECT_TRUE(raw.read_until_close(2s).closed);
}

TEST_F(TlsServer, RefusesUnusableCertificateOrKeyFiles) {
  auto expect_config = [&](TlsOptions t, const std::string& named) {
    ServerOptions o = test_options();
    o.tls = std::move(t);
    auto s = Server::start(o, describe_request);
    ASSERT_FALSE(s) << named;
    EXPECT_EQ(s.error().code, Errc::config) << s.error().internal;
    EXPECT_NE(s.error().internal.find(named), std::string::npos) << s.error().internal;
    EXPECT_EQ(s.error().internal.find("PRIVATE KEY"), std::string::npos);
  };
  const auto dir = cert_.dir.path();
  expect_config({dir / "missing.pem", cert_.key}, "missing.pem");
  expect_config({cert_.cert, dir / "nokey.pem"}, "nokey.pem");

  // The right key, readable by everyone: refused for its mode alone.
  auto open_key = dir / "open.pem";
  std::filesystem::copy_file(cert_.key, open_key);
  std::filesystem::permissions(open_key, std::filesystem::perms(0644));
  expect_config({cert_.cert, open_key}, "open.pem is accessible by group or others");

  auto other_key = dir / "other.pem";
  testing::write_key(other_key, testing::make_p256_key().get());
  expect_config({cert_.cert, other_key}, "other.pem does not match the certificate");

  // A certificate file that holds a key instead is refused too.
  expect_config({cert_.key, cert_.key}, "key.pem");
  // And the sound pair starts.
  ServerOptions o = tls_options();
  EXPECT_TRUE(Server::start(o, describe_request));
}

}  // namespace
}  // namespace rempart::http
