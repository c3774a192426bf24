#pragma once
// Not a public header: what the console's own files share (console.cpp,
// routes.cpp, answers.cpp and the *_routes.cpp files). The request's
// principal and body (Principal, Form, Call), the route table's row
// (RouteDef), Console::Impl, the helpers that build answers and turn errors
// into HTTP (answers.cpp), the request readers (routes.cpp) and every route
// handler, each defined in the file named after its pages.
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/accounts.hpp"
#include "auth/roles.hpp"
#include "console/console.hpp"
#include "console/pages.hpp"
#include "i18n/i18n.hpp"
#include "console/pending_signins.hpp"
#include "console/worker_pool.hpp"
#include "services/segments.hpp"
#include "core/error.hpp"
#include "crypto/keyring.hpp"
#include "crypto/secret.hpp"
#include "http/server.hpp"
#include "services/directory.hpp"

namespace rempart::console {

namespace bhttp = boost::beast::http;
using http::Request;
using http::Response;

namespace detail {

enum class Kind { page, api };
// local_or_action: a request without credentials from a loopback peer
// (from_loopback), or a principal the action permits (/metrics).
enum class Access { anyone, signed_in, action, local_or_action };

// Who makes a request once their session or token checked out.
struct Principal {
  bool via_token = false;
  std::string actor;  // account:<hex> | token:<id>
  std::string name;   // account name or token label
  auth::Role role = auth::Role::viewer;
  auth::Scope scope = auth::Scope::intake;
  crypto::SecretBytes session_token;  // text, from the cookie
  auth::SessionInfo session;
  // Whose budgets this principal spends: a token spends the account that
  // made it ("" = its own); with that account's role.
  std::string charged;
  std::string budget_role;
};

// A posted form. Its values may hold secrets (passwords, codes, the CSRF
// token): they are wiped when the form goes (routes.cpp).
struct Form {
  std::vector<std::pair<std::string, std::string>> pairs;

  Form() = default;
  Form(const Form&) = delete;
  Form& operator=(const Form&) = delete;
  ~Form();

  std::optional<std::string> get(std::string_view name) const {
    for (const auto& [k, v] : pairs) {
      if (k == name) return v;
    }
    return std::nullopt;
  }
  // A secret value (a password), copied into guarded memory; nullopt if the
  // form has no such field or guarded memory is unavailable.
  std::optional<crypto::SecretBytes> secret(std::string_view name) const;
};

struct Call;
using RouteFn = Response (*)(Call&);

struct RouteDef {
  bhttp::verb method;
  std::string_view pattern;
  Kind kind;
  Access access;
  auth::Action action;
  RouteFn fn;
};

// A short, non-secret name for a session in alerts and logs: the first 8
// bytes of BLAKE2b of the token (the token itself never leaves the cookie).
// (answers.cpp)
std::string session_label(std::string_view token);

struct Call {
  Console::Impl& impl;
  Worker& w;
  const Request& req;
  const RouteDef& route;
  std::string client;
  std::vector<std::string> params;
  std::optional<Principal> who;
  Form form;
  nlohmann::json body;

  services::Asker asker() const {
    services::Asker a{who ? who->actor : std::string(), client,
                      who ? session_label(who->session_token.text()) : std::string()};
    if (who) {
      a.charged = who->charged;
      a.role = who->budget_role;
    }
    return a;
  }
  Viewer viewer() const {
    if (!who || who->via_token) return {};
    return {who->name, who->role, who->session.csrf_token.text()};
  }
};

// ---- Reading a request (routes.cpp) ----------------------------------------

std::optional<std::string> query_param(std::string_view target, std::string_view name);
// The form field "code" (a fresh authenticator code for a step-up), or "".
std::string code_of(const Call& c);
// A form field that is a whole number, all of it; nullopt otherwise.
std::optional<std::int64_t> form_int(const Call& c, std::string_view key);
// The route's first parameter, which the route's ":n" pattern made digits.
std::int64_t number_param(const Call& c);
// Where `role` lands after signing in: the first of the console's main
// pages the route table lets it open (routes.cpp).
std::string_view landing_of(auth::Role role);

// ---- Answers (answers.cpp) -------------------------------------------------

Response base(bhttp::status status);
Response html(bhttp::status status, std::string body);
Response json_answer(bhttp::status status, const nlohmann::json& j);
Response redirect(std::string_view to);

struct Problem {
  bhttp::status status;
  const char* code;
  const char* title;
  const char* message;
};

Problem problem_of(Errc e);
// A fixed page (or, on the API, {"error": code}) for `p`.
Response problem(const Call& c, const Problem& p);
// The guard locked the asker: tell whoever watches, end the session here.
Response locked(const Call& c, const Error& e);
// Raises a warning alert for a change people must hear about (privilege
// requests and approvals, tokens, exports). Ids only.
void notify(const Call& c, std::string_view kind, std::string_view reason, nlohmann::json details);
// The one place a service's error becomes an answer: the guard's lock, a
// used code, the fixed explanations people can act on, else problem_of.
Response failure(const Call& c, const Error& e);

// ---- Route handlers (named in the route table, routes.cpp) -----------------

// Sign-in (signin_routes.cpp).
Response get_login(Call& c);
Response post_login(Call& c);
Response post_login_code(Call& c);
Response post_logout(Call& c);
Response get_root(Call& c);
// GET /language?to=fr: remembers the choice in a cookie and goes back to
// the page it was made on (routes.cpp).
Response get_language(Call& c);

// Supporters, pages and API (supporter_routes.cpp).
Response get_supporters(Call& c);
Response get_search(Call& c);
Response post_search(Call& c);
Response get_record(Call& c);
Response post_reveal(Call& c);
Response post_tags(Call& c);
Response get_tags(Call& c);
Response get_dashboard(Call& c);
Response get_me(Call& c);
// The masked record page (or its JSON) with `message`, answered with
// `status` (supporter_routes.cpp).
Response show_record(Call& c, const std::vector<services::RevealedField>& revealed, std::string_view message,
                     bhttp::status status = bhttp::status::ok);
// The record page's writes and an admin's erasure (record_routes.cpp).
RecordWork record_work_of(Call& c, std::string_view id);  // the consent log only
Result<RecordWork> record_work(Call& c, std::string_view id);  // and the notes the viewer may read
std::string_view done_notice(const Call& c);  // the fixed word after a write's redirect, or ""
Response post_edit(Call& c);
Response post_consent_withdraw(Call& c);
Response post_note(Call& c);
Response get_notes(Call& c);
Response get_erase_lookup(Call& c);
Response get_erase(Call& c);
Response post_erase(Call& c);

// Segments, bulk tags, tag rename and merge, pages and API (segment_routes.cpp).
Response get_segments(Call& c);
Response get_segment_new(Call& c);
Response get_segment(Call& c);
Response get_segment_edit(Call& c);
Response post_segments(Call& c);
Response post_segment_count(Call& c);
Response post_segment_delete(Call& c);
Response post_segment_tags(Call& c);
// Call lists, pages and API (call_routes.cpp).
Response get_calls(Call& c);
Response post_calls(Call& c);
Response get_call_list(Call& c);
Response post_call_list_close(Call& c);
Response post_call_next(Call& c);
Response post_call_outcome(Call& c);
Response post_tag_rename(Call& c);
// The worker's services::Segments, made on first use.
services::Segments& segments_of(Call& c);
// The masked members of the saved segment `name` (/supporters?segment=),
// through the directory; Errc::not_found for no such segment.
Result<services::MaskedPage> segment_member_page(Call& c, const std::string& name, services::ListQuery q);

// Accounts, privilege requests, self-enrolment, tokens, sessions
// (account_routes.cpp).
Response get_accounts(Call& c);
Response post_account_create(Call& c);
Response post_account_action(Call& c);
Response get_requests(Call& c);
Response post_request_approve(Call& c);
Response post_request_refuse(Call& c);
Response get_enrol(Call& c);
Response post_enrol(Call& c);
Response post_enrol_confirm(Call& c);
Response get_tokens(Call& c);
Response post_token_create(Call& c);
Response post_token_revoke(Call& c);
Response get_sessions(Call& c);
Response post_sessions_revoke(Call& c);
Response get_accounts_api(Call& c);
Response post_account_enable_api(Call& c);
Response post_account_disable_api(Call& c);

// One's own account: password and authenticator (own_account_routes.cpp).
Response get_own_account(Call& c);
Response post_own_password(Call& c);
Response post_own_authenticator(Call& c);
Response post_own_authenticator_confirm(Call& c);

// Mailings (mailing_routes.cpp).
Response get_mailings(Call& c);
Response get_mailing_new(Call& c);
Response get_mailing(Call& c);
Response get_mailing_edit(Call& c);
Response post_mailing_save(Call& c);
Response post_mailing_draw(Call& c);
Response post_mailing_approve(Call& c);
Response post_mailing_state(Call& c);  // start, pause, resume, cancel (the path's last part)
Response post_mailing_test(Call& c);
Response post_own_test_address(Call& c);

// Exports (export_routes.cpp).
Response get_exports(Call& c);
Response post_export_request(Call& c);
Response post_export_approve(Call& c);
Response get_export_download(Call& c);

// The auditor's page (audit_routes.cpp).
Response get_audit(Call& c);
Response post_audit_verify(Call& c);

// /metrics (metrics_routes.cpp). Whether `client` is a loopback address
// and the request names no proxy that forwarded it.
bool from_loopback(const Request& req, const std::string& client);
Response get_metrics(Call& c);

}  // namespace detail

struct Console::Impl {
  ConsoleOptions opt;
  const crypto::KeeperKeyring& keys;
  std::unique_ptr<WorkerPool> pool;
  detail::PendingSignins pending;
  services::CountCache segment_counts;  // the saved segments page's counts, shared by the workers

  std::unique_ptr<audit::ChainWatch> own_watch;  // when opt.chain_watch is null
  audit::ChainWatch* chain_watch;

  Impl(ConsoleOptions o, const crypto::KeeperKeyring& k) : opt(std::move(o)), keys(k) {
    if (opt.chain_watch == nullptr) own_watch = std::make_unique<audit::ChainWatch>(std::chrono::hours(1));
    chain_watch = opt.chain_watch != nullptr ? opt.chain_watch : own_watch.get();
  }

  std::string cookie_name() const { return opt.tls ? "__Host-rempart_session" : "rempart_session"; }

  // Cheap refusals on the I/O thread, then the worker pool (console.cpp).
  void handle(Request&& req, const http::RequestContext& ctx, http::Responder respond);
  // The language of a request's pages: the cookie the switch set, else
  // Accept-Language, else the instance's default (routes.cpp).
  static i18n::Lang language_of(const Request& req);
  // On a worker: route, principal, permission, body, CSRF, handler (routes.cpp).
  Response dispatch(Worker& w, const Request& req, const std::string& client);
  // The security headers every answer carries (console.cpp).
  Response finish(Response res) const;
};

}  // namespace rempart::console
