// Raw bytes from a client: Beast's request parser with the server's limits
// (headers incl. cookies, chunked framing, targets), then the intake routes
// (content-type, origin and body parsing) with a sink that stores nothing.
// A request may be answered with anything but a 5xx, and no answer may
// carry a header from the request.
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "fuzz_support.hpp"
#include "http/intake_routes.hpp"
#include "http/server.hpp"
#include <vector>

#include "services/submission_sink.hpp"

namespace {

namespace bhttp = boost::beast::http;

class NullSink final : public rempart::services::SubmissionSink {
 public:
  void submit(std::vector<rempart::core::Field>, std::function<void(bool)> done) override { done(true); }
};

rempart::http::IntakeRoutes& routes() {
  static NullSink sink;
  static auto r = [] {
    rempart::http::IntakeRoutesOptions o;
    o.allowed_origins = {"https://example.org"};
    o.rate_per_second = 1e9;  // the limiter is not under test here
    o.burst = 1e9;
    o.confirmation_mail = true;  // the self-service routes too
    auto created = rempart::http::IntakeRoutes::create(o, sink);
    if (!created) rempart::fuzz::violated("routes could not be created");
    return std::move(*created);
  }();
  return *r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const rempart::http::RequestContext ctx{boost::asio::ip::make_address("127.0.0.1")};
  const rempart::http::ServerOptions limits;
  for (int requests = 0; requests < 8 && !rest.empty(); ++requests) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.header_limit));
    parser.body_limit(static_cast<std::uint64_t>(limits.body_limit));
    parser.eager(true);
    boost::beast::error_code ec;
    std::size_t used = 0;
    while (!parser.is_done() && used < rest.size()) {
      const auto n = parser.put(boost::asio::buffer(rest.data() + used, rest.size() - used), ec);
      if (ec == bhttp::error::need_more) break;
      if (ec) return 0;  // the server answers 400/413/431 and closes
      if (n == 0) break;
      used += n;
    }
    if (!parser.is_done()) return 0;
    rest.remove_prefix(used);
    auto req = parser.release();
    if (req.target().empty() || req.target().front() != '/') return 0;  // the server refuses these first
    std::optional<rempart::http::Response> answer;
    routes().handle(std::move(req), ctx, [&](rempart::http::Response r) { answer.emplace(std::move(r)); });
    rempart::fuzz::require(answer.has_value(), "the routes answer synchronously with a null sink");
    rempart::fuzz::require(answer->result_int() < 500, "no 5xx for a client's bytes");
    for (const auto& f : *answer) {
      const auto name = f.name_string();
      rempart::fuzz::require(!(name.size() == 10 && (name == "Set-Cookie" || name == "set-cookie")),
                             "no cookie is ever set");
    }
  }
  return 0;
}
