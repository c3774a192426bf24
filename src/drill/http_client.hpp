#pragma once
// The drill's HTTP client: one request per connection, to a port on the
// loopback only, from a chosen loopback source address, bounded in time.
// It never throws and never logs a body.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace rempart::drill {

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";
  std::string content_type;  // "" = none
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string source = "127.0.0.1";  // a loopback address (127.0.0.0/8): the client address the server sees
  std::chrono::milliseconds timeout{10000};
};

struct HttpAnswer {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string header(const std::string& lower_name) const {
    const auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// Sends `r` to 127.0.0.1:`port`. Errc::io when no whole answer came (not
// connected, timed out, cut short); Errc::invalid_input for a source address
// outside the loopback.
Result<HttpAnswer> http_call(std::uint16_t port, const HttpRequest& r);

// application/x-www-form-urlencoded of (name, value) pairs; any byte of a
// value is percent-encoded as needed.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

// A JSON string literal of `bytes` as a careless client would write it:
// quotes, backslashes and control characters escaped, every other byte
// (invalid UTF-8 included) as it is, so the server's parser must refuse it.
std::string json_string_raw(std::string_view bytes);

}  // namespace rempart::drill
