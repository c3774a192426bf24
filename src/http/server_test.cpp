#include "http/server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "http/test_client.hpp"

namespace rempart::http {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;
using testing::Client;
using testing::exchange;
using testing::make_request;
using testing::send;

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

}  // namespace
}  // namespace rempart::http
