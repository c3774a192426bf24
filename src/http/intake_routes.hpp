#pragma once
// The public, internet-facing routes of the intake role: the sign-up page,
// its form post, the OSDI person signup helper, and the pages mailed links
// lead to (confirm an e-mail consent, unsubscribe). Validated people are
// handed to a services::SubmissionSink; nothing here can read anyone back, and
// every valid submission gets the same answer, so a caller never learns
// whether a person was already known.
//
// All answers, errors included, are built by one function from an Outcome
// (see intake_routes.cpp: render()); bodies are fixed texts that never carry
// input, and log lines name route, status and an error code only.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/validate.hpp"
#include "http/rate_limit.hpp"
#include "http/server.hpp"
#include "services/inbox_room.hpp"
#include "services/submission_sink.hpp"

namespace rempart::http {

struct IntakeRoutesOptions {
  core::IntakeOptions intake;
  // Origins allowed to call the JSON API from a browser, and to post the
  // sign-up form from their own pages (a form posted by any other site's
  // page is refused, 403), each exactly
  // "https://host" or "http://host[:port]" as browsers send it (no path,
  // no trailing slash, lower case). "*" and "null" are refused.
  std::vector<std::string> allowed_origins;
  // Token bucket per client address (IPv6: per /64) on the POST routes.
  double rate_per_second = 0.2;
  double burst = 5.0;
  std::size_t rate_max_clients = 65536;
  // Where several intake nodes share one limit (PostgreSQL): asked too, once
  // the node's own bucket allows (rate_limit.hpp). Borrowed; may be null.
  SharedRateLimit* shared_rate_limit = nullptr;
  // Whether the inbox has room (the disk reserve, services/disk_reserve.hpp),
  // asked before each submission is sealed: without room the post is
  // answered 503 with Retry-After and nothing is stored. Borrowed; may be
  // null (no check: PostgreSQL, whose inbox is on the server).
  services::InboxRoom* inbox_room = nullptr;
  // The keeper mails supporters ([mail] is configured): the thank-you page
  // says a confirmation follows an e-mail consent, and the self-service
  // pages (/manage) are served; without, they are 404.
  bool confirmation_mail = false;
};

class IntakeRoutes {
 public:
  // Errc::config for a refused origin or rate setting. `sink` is borrowed:
  // it must outlive the returned object and every Server using its handler.
  static Result<std::unique_ptr<IntakeRoutes>> create(IntakeRoutesOptions options,
                                                      services::SubmissionSink& sink);

  // Answers one request (see the route list in intake_routes.cpp). Never
  // throws for a client's input; thread-safe.
  void handle(Request&& req, const RequestContext& ctx, Responder respond);

  // The answer to a protocol error found by the Server, with the same
  // headers as every other answer. Thread-safe.
  Response protocol_error(ProtocolError e) const;

  // Adapters for Server::start; they refer to *this, which must outlive the
  // Server.
  Handler handler();
  ErrorRenderer error_renderer() const;

 private:
  IntakeRoutes(IntakeRoutesOptions options, services::SubmissionSink& sink,
               std::unique_ptr<RateLimiter> limiter);

  void post_signup(Request&& req, const RequestContext& ctx, Responder respond);
  void post_osdi(Request&& req, const RequestContext& ctx, Responder respond);
  void post_link(Request&& req, const RequestContext& ctx, Responder respond);
  void post_manage(Request&& req, const RequestContext& ctx, Responder respond);
  bool origin_allowed(std::string_view origin) const;

  IntakeRoutesOptions opts_;
  services::SubmissionSink& sink_;
  std::unique_ptr<RateLimiter> limiter_;
};

}  // namespace rempart::http
