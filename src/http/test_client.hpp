#pragma once
// TEST-ONLY. A small client for the http layer's tests: raw bytes for the
// abuse cases, Beast parsing for the rest. Every read has a time limit so
// that a server bug fails a test instead of hanging it.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <array>
#include <chrono>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "http/server.hpp"

namespace rempart::http::testing {

class Client {
 public:
  using tcp = boost::asio::ip::tcp;

  explicit Client(unsigned short port) : sock_(ioc_) {
    sock_.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  }

  void write(std::string_view bytes) { boost::asio::write(sock_, boost::asio::buffer(bytes)); }

  void write(Request req) {
    if (req.find(boost::beast::http::field::host) == req.end()) req.set("Host", "127.0.0.1");
    req.prepare_payload();
    std::ostringstream os;
    os << req;
    write(os.str());
  }

  struct Drain {
    std::string bytes;
    bool closed = false;  // the server closed (or reset) the connection
  };

  // Everything the server sends until it closes, or until `limit`.
  Drain read_until_close(std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    Drain out;
    out.bytes.append(static_cast<const char*>(buf_.data().data()), buf_.size());
    buf_.consume(buf_.size());
    bool done = false;
    std::array<char, 4096> chunk{};
    std::function<void()> next = [&] {
      sock_.async_read_some(boost::asio::buffer(chunk), [&](boost::system::error_code ec, std::size_t n) {
        out.bytes.append(chunk.data(), n);
        if (ec) {
          out.closed = ec != boost::asio::error::operation_aborted;
          done = true;
          return;
        }
        next();
      });
    };
    next();
    run(limit, done);
    return out;
  }

  // One response; throws on timeout or a broken response.
  Response read_response(bool head = false,
                         std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    boost::beast::http::response_parser<boost::beast::http::string_body> parser;
    parser.body_limit(1 << 20);
    if (head) parser.skip(true);
    boost::system::error_code result;
    bool done = false;
    boost::beast::http::async_read(sock_, buf_, parser,
                                   [&](boost::system::error_code ec, std::size_t) {
                                     result = ec;
                                     done = true;
                                   });
    run(limit, done);
    if (result) throw std::runtime_error("test client: no response: " + result.message());
    return parser.release();
  }

  tcp::socket& socket() { return sock_; }

 private:
  void run(std::chrono::milliseconds limit, bool& done) {
    ioc_.restart();
    ioc_.run_for(limit);
    if (!done) {
      boost::system::error_code ignored;
      sock_.cancel(ignored);
      ioc_.restart();
      ioc_.run();
    }
  }

  boost::asio::io_context ioc_;
  tcp::socket sock_;
  boost::beast::flat_buffer buf_;
};

inline Request make_request(boost::beast::http::verb method, std::string target,
                            std::string body = {}, std::string content_type = {}) {
  Request req{method, target, 11};
  req.set("Host", "127.0.0.1");
  if (!content_type.empty()) req.set(boost::beast::http::field::content_type, content_type);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

// One request on a fresh connection.
inline Response send(unsigned short port, Request req) {
  const bool head = req.method() == boost::beast::http::verb::head;
  Client c(port);
  c.write(std::move(req));
  return c.read_response(head);
}

// Raw bytes in, raw bytes out (until the server closes or `limit`).
inline std::string exchange(unsigned short port, std::string_view raw,
                            std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  Client c(port);
  c.write(raw);
  return c.read_until_close(limit).bytes;
}

}  // namespace rempart::http::testing
