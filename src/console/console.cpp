// The console's front: Console::Impl::handle (the cheap refusals on the HTTP
// thread, then the worker pool), finish (the security headers every answer
// carries) and Console's start, stop, handler and error renderer. Routing is
// routes.cpp, answers answers.cpp, the pages' routes the *_routes.cpp files.
#include "console/console.hpp"

#include <spdlog/spdlog.h>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <memory>
#include <string_view>
#include <utility>

#include "console/console_internal.hpp"
#include "console/pages.hpp"
#include "core/text.hpp"
#include "http/cross_site.hpp"

namespace rempart::console {

namespace {

constexpr std::string_view kCsp =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'";

using bhttp::verb;
using detail::base;

}  // namespace

void Console::Impl::handle(Request&& req, const http::RequestContext& ctx, http::Responder respond) {
  const std::string_view path = req.target().substr(0, req.target().find('?'));
  // The plain-text refusals below are in the request's language too.
  const i18n::Scope io_language(language_of(req));
  // Cheap refusals on the I/O thread.
  const auto host = std::string(req[bhttp::field::host]);
  std::string host_name = host;
  if (!host_name.empty() && host_name.front() == '[') {
    host_name = host_name.substr(0, host_name.find(']') + 1);
  } else {
    host_name = host_name.substr(0, host_name.find(':'));
  }
  host_name = core::text::ascii_lower(host_name);
  bool host_ok = host_name == "localhost" || host_name == opt.listen_host ||
                 (opt.listen_host.find(':') != std::string::npos && host_name == "[" + opt.listen_host + "]");
  for (const auto& h : opt.hostnames) host_ok = host_ok || host_name == h;
  if (!host_ok) {
    auto res = base(bhttp::status::misdirected_request);
    res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
    res.body() = std::string(i18n::tr("This host name is not served here.")) + "\n";
    spdlog::info("console: refused a request for another host name");
    return respond(finish(std::move(res)));
  }
  if (req.method() == verb::post) {
    // Cross-site posts never reach a route, login included (login CSRF).
    const std::string own = std::string(opt.tls ? "https://" : "http://") + host;
    if (http::from_another_site(req, {own})) {
      auto res = base(bhttp::status::forbidden);
      res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
      res.body() = std::string(i18n::tr("Cross-site requests are refused.")) + "\n";
      return respond(finish(std::move(res)));
    }
  }
  if (req.method() == verb::get && path == "/static/console.css") {
    auto res = base(bhttp::status::ok);
    res.set(bhttp::field::content_type, "text/css; charset=utf-8");
    res.body() = std::string(stylesheet());
    res = finish(std::move(res));
    res.set(bhttp::field::cache_control, "max-age=3600");
    return respond(std::move(res));
  }
  if (req.method() == verb::get && path == "/favicon.ico") {
    return respond(finish(base(bhttp::status::no_content)));
  }
  auto shared_req = std::make_shared<Request>(std::move(req));
  auto shared_respond = std::make_shared<http::Responder>(std::move(respond));
  const auto client = ctx.client.to_string();
  const bool queued = pool->post([this, shared_req, shared_respond, client](Worker& w) {
    // Every page this request renders is in its language (pages.cpp's tr()).
    const i18n::Scope language(language_of(*shared_req));
    auto res = finish(dispatch(w, *shared_req, client));
    spdlog::info("console: {} {}", static_cast<unsigned>(res.result_int()),
                 shared_req->target().starts_with("/api/") ? "api" : "page");
    (*shared_respond)(std::move(res));
  });
  if (!queued) {
    auto res = base(bhttp::status::service_unavailable);
    res.set(bhttp::field::retry_after, "1");
    res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
    res.body() = std::string(i18n::tr("Busy. Try again in a moment.")) + "\n";
    (*shared_respond)(finish(std::move(res)));
  }
}

Response Console::Impl::finish(Response res) const {
  res.set(bhttp::field::cache_control, "no-store");
  res.set("Content-Security-Policy", kCsp);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  // same-origin, not no-referrer: with no-referrer browsers send "Origin: null"
  // on form posts, and the Origin check above could not tell ours from others.
  res.set("Referrer-Policy", "same-origin");
  res.set("Cross-Origin-Opener-Policy", "same-origin");
  res.set("Cross-Origin-Resource-Policy", "same-origin");
  res.set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()");
  if (opt.tls) res.set(bhttp::field::strict_transport_security, "max-age=31536000");
  return res;
}

// ---------------------------------------------------------------------------

Console::Console(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Console::~Console() { stop(); }

Result<std::unique_ptr<Console>> Console::start(ConsoleOptions options, const crypto::KeeperKeyring& keys,
                                                const WorkerFactory& make_worker) {
  auto impl = std::make_unique<Impl>(std::move(options), keys);
  auto pool = WorkerPool::start(impl->opt.workers, impl->opt.max_queued, make_worker);
  if (!pool) return std::unexpected(pool.error());
  impl->pool = std::move(*pool);
  return std::unique_ptr<Console>(new Console(std::move(impl)));
}

void Console::stop() {
  if (impl_ && impl_->pool) impl_->pool->stop();
}

http::Handler Console::handler() {
  return [impl = impl_.get()](Request&& req, const http::RequestContext& ctx, http::Responder respond) {
    impl->handle(std::move(req), ctx, std::move(respond));
  };
}

http::ErrorRenderer Console::error_renderer() const {
  return [impl = impl_.get()](http::ProtocolError e) { return impl->finish(http::default_protocol_error_response(e)); };
}

}  // namespace rempart::console
