#pragma once
// TEST-ONLY. A small client for the http layer's tests: raw bytes for the
// abuse cases, Beast parsing for the rest, over plain TCP or TLS. Every read
// has a time limit so that a server bug fails a test instead of hanging it.
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <array>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "http/server.hpp"

namespace rempart::http::testing {

// How a TLS client connects. It trusts only `trust` (the test's self-signed
// certificate) and checks that it names 127.0.0.1.
struct TlsClientOptions {
  std::filesystem::path trust;
  int min_version = 0;  // e.g. TLS1_VERSION; 0: the library's default
  int max_version = 0;  // e.g. TLS1_1_VERSION; 0: the library's default
  std::string ciphers;  // TLS 1.2 and below; empty: the library's default
  int security_level = -1;  // -1: the library's default
};

class Client {
 public:
  using tcp = boost::asio::ip::tcp;
  using ssl_stream = boost::asio::ssl::stream<tcp::socket&>;

  explicit Client(unsigned short port) : sock_(ioc_) {
    sock_.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  }

  // Connects and completes a TLS handshake within `limit`; throws
  // boost::system::system_error carrying the handshake's error otherwise.
  Client(unsigned short port, const TlsClientOptions& o,
         std::chrono::milliseconds limit = std::chrono::seconds(5))
      : Client(port) {
    ctx_.emplace(boost::asio::ssl::context::tls_client);
    SSL_CTX* h = ctx_->native_handle();
    if (o.security_level >= 0) SSL_CTX_set_security_level(h, o.security_level);
    if (o.min_version != 0) SSL_CTX_set_min_proto_version(h, o.min_version);
    if (o.max_version != 0) SSL_CTX_set_max_proto_version(h, o.max_version);
    if (!o.ciphers.empty() && SSL_CTX_set_cipher_list(h, o.ciphers.c_str()) != 1) {
      throw std::runtime_error("test client: bad cipher list");
    }
    ctx_->load_verify_file(o.trust.string());
    ctx_->set_verify_mode(boost::asio::ssl::verify_peer);
    tls_.emplace(sock_, *ctx_);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tls_->native_handle()), "127.0.0.1");
    boost::system::error_code result;
    bool done = false;
    tls_->async_handshake(boost::asio::ssl::stream_base::client, [&](boost::system::error_code ec) {
      result = ec;
      done = true;
    });
    run(limit, done);
    if (!done) result = boost::asio::error::timed_out;
    if (result) throw boost::system::system_error(result);
  }

  // "TLSv1.3", "TLSv1.2", or "" for a plain connection.
  std::string tls_version() { return tls_ ? SSL_get_version(tls_->native_handle()) : ""; }
  // The negotiated suite's OpenSSL name, or "" for a plain connection.
  std::string tls_cipher() { return tls_ ? SSL_get_cipher_name(tls_->native_handle()) : ""; }

  void write(std::string_view bytes) {
    on_stream([&](auto& s) { boost::asio::write(s, boost::asio::buffer(bytes)); });
  }

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
    // An orderly end: a FIN, or over TLS the server's close_notify.
    bool orderly = false;
  };

  // Everything the server sends until it closes, or until `limit`.
  Drain read_until_close(std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    Drain out;
    out.bytes.append(static_cast<const char*>(buf_.data().data()), buf_.size());
    buf_.consume(buf_.size());
    bool done = false;
    std::array<char, 4096> chunk{};
    std::function<void()> next = [&] {
      on_stream([&](auto& s) {
        s.async_read_some(boost::asio::buffer(chunk), [&](boost::system::error_code ec, std::size_t n) {
          out.bytes.append(chunk.data(), n);
          if (ec) {
            out.closed = ec != boost::asio::error::operation_aborted;
            out.orderly = ec == boost::asio::error::eof;
            done = true;
            return;
          }
          next();
        });
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
    on_stream([&](auto& s) {
      boost::beast::http::async_read(s, buf_, parser, [&](boost::system::error_code ec, std::size_t) {
        result = ec;
        done = true;
      });
    });
    run(limit, done);
    if (result) throw std::runtime_error("test client: no response: " + result.message());
    return parser.release();
  }

  tcp::socket& socket() { return sock_; }

 private:
  using ssl_context = boost::asio::ssl::context;

  template <class F>
  void on_stream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(sock_);
    }
  }

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
  std::optional<ssl_context> ctx_;
  std::optional<ssl_stream> tls_;  // set for a TLS client; reads and writes go through it
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

// One request on a fresh TLS connection.
inline Response send(unsigned short port, const TlsClientOptions& tls, Request req) {
  const bool head = req.method() == boost::beast::http::verb::head;
  Client c(port, tls);
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
