// The HTTP ceiling: the product's own http::Server (same threads, deadlines,
// parser and limits) with a handler that answers 200 at once. Whatever the
// intake route achieves is measured against this.
#include <csignal>
#include <cstdio>

#include <pthread.h>

#include "bench.hpp"
#include "http/server.hpp"

namespace rempart::bench {

int http_ceiling(const Args& a) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  http::ServerOptions so;
  so.address = a.str("address", "127.0.0.1");
  so.port = static_cast<unsigned short>(a.num("port", 0));
  so.threads = static_cast<unsigned>(a.num("threads", 0));
  auto handler = [](http::Request&& req, const http::RequestContext&, http::Responder respond) {
    http::Response res{boost::beast::http::status::ok, req.version()};
    res.set(boost::beast::http::field::content_type, "text/plain");
    res.body() = "ok\n";
    respond(std::move(res));
  };
  auto s = http::Server::start(so, handler);
  if (!s) die("cannot start the server");
  std::printf("port %u\n", static_cast<unsigned>((*s)->port()));
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  (*s)->stop();
  return 0;
}

}  // namespace rempart::bench
