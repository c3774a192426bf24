#pragma once
// TEST-ONLY. A webhook receiver for the guard's alerts: a Beast HTTP server
// on 127.0.0.1 inside the test process.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rempart::guard::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

// A webhook receiver on 127.0.0.1, port 0. It answers the scripted statuses
// in turn (the last one repeats), or, hanging, reads the request and never
// answers while keeping the connection open.
class Receiver {
 public:
  struct Request {
    std::string target, body, signature, timestamp, content_type;
  };

  explicit Receiver(std::vector<unsigned> statuses, bool hang = false)
      : statuses_(std::move(statuses)), hang_(hang), acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~Receiver() {
    ioc_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/hook"; }

  bool wait_for(std::size_t n, std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return requests_.size() >= n; });
  }
  std::vector<Request> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  struct Session {
    explicit Session(tcp::socket s) : sock(std::move(s)) {}
    tcp::socket sock;
    beast::flat_buffer buf;
    bhttp::request<bhttp::string_body> req;
    bhttp::response<bhttp::string_body> res;
  };

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (ec) return;
      auto session = std::make_shared<Session>(std::move(s));
      bhttp::async_read(session->sock, session->buf, session->req,
                        [this, session](boost::system::error_code rec, std::size_t) { on_request(session, rec); });
      accept();
    });
  }

  void on_request(const std::shared_ptr<Session>& s, boost::system::error_code ec) {
    if (ec) return;
    unsigned status = 200;
    {
      std::lock_guard lock(mu_);
      Request r;
      r.target = std::string(s->req.target());
      r.body = s->req.body();
      r.signature = std::string(s->req["X-Rempart-Signature"]);
      r.timestamp = std::string(s->req["X-Rempart-Timestamp"]);
      r.content_type = std::string(s->req[bhttp::field::content_type]);
      status = statuses_[std::min(requests_.size(), statuses_.size() - 1)];
      requests_.push_back(std::move(r));
      if (hang_) held_.push_back(s);  // keeps the connection open, unanswered
    }
    cv_.notify_all();
    if (hang_) return;
    s->res.result(status);
    s->res.version(11);
    s->res.keep_alive(false);
    s->res.body() = "answer";
    s->res.prepare_payload();
    bhttp::async_write(s->sock, s->res, [s](boost::system::error_code, std::size_t) {
      boost::system::error_code ignored;
      s->sock.shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

  std::vector<unsigned> statuses_;
  bool hang_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Request> requests_;              // guarded by mu_
  std::vector<std::shared_ptr<Session>> held_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace rempart::guard::testing
