#include "drill/http_client.hpp"

#include <cctype>
#include <cstdio>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace rempart::drill {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ip = boost::asio::ip;

Result<HttpAnswer> http_call(std::uint16_t port, const HttpRequest& r) {
  beast::error_code ec;
  const auto from = ip::make_address_v4(r.source, ec);
  if (ec || !from.is_loopback()) return fail(Errc::invalid_input, "drill: a source address must be on the loopback");
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  const ip::tcp::endpoint to(ip::make_address_v4("127.0.0.1"), port);
  stream.socket().open(to.protocol(), ec);
  if (!ec) stream.socket().bind(ip::tcp::endpoint(from, 0), ec);
  if (ec) return fail(Errc::io, "drill: cannot bind to the source address: " + ec.message());
  stream.expires_after(r.timeout);
  stream.connect(to, ec);
  if (ec) return fail(Errc::io, "drill: connect: " + ec.message());

  bhttp::request<bhttp::string_body> req;
  req.method(bhttp::string_to_verb(r.method));
  req.target(r.target);
  req.version(11);
  req.set(bhttp::field::host, "127.0.0.1");
  req.set(bhttp::field::connection, "close");
  if (!r.content_type.empty()) req.set(bhttp::field::content_type, r.content_type);
  for (const auto& [k, v] : r.headers) req.set(k, v);
  req.body() = r.body;
  req.prepare_payload();
  bhttp::write(stream, req, ec);
  if (ec) return fail(Errc::io, "drill: write: " + ec.message());

  beast::flat_buffer buf;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(256 * 1024 * 1024);  // a bulk export's sealed file
  bhttp::read(stream, buf, parser, ec);
  if (ec) return fail(Errc::io, "drill: read: " + ec.message());
  const auto& res = parser.get();
  HttpAnswer out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  out.body = res.body();
  stream.socket().shutdown(ip::tcp::socket::shutdown_both, ec);
  return out;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  auto enc = [](std::string_view s) {
    std::string o;
    for (const unsigned char c : s) {
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
          c == '_' || c == '~') {
        o += static_cast<char>(c);
      } else if (c == ' ') {
        o += '+';
      } else {
        char b[4];
        std::snprintf(b, sizeof b, "%%%02X", c);
        o += b;
      }
    }
    return o;
  };
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += enc(k) + "=" + enc(v);
  }
  return out;
}

std::string json_string_raw(std::string_view bytes) {
  std::string out = "\"";
  for (const unsigned char c : bytes) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      out += b;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace rempart::drill
