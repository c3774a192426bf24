// How a request reaches its handler: the route table (the one place that
// says who may call what), matching the path against it, reading the query,
// cookie and body, and Console::Impl::dispatch (the principal from a session
// or API token, the one permission check, bodies and CSRF).
#include <boost/beast/http/field.hpp>
#include <sodium.h>
#include <algorithm>
#include <charconv>
#include <boost/beast/http/verb.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <utility>

#include "auth/roles.hpp"
#include "console/console_internal.hpp"
#include "console/selfcheck_pages.hpp"
#include "core/text.hpp"
#include "core/urlencoded.hpp"
#include "services/segments.hpp"

namespace rempart::console {

namespace detail {

namespace {

constexpr std::size_t kMaxFormPairs = 32;

bool allowed(const Principal& p, auth::Action a) {
  return p.via_token ? auth::token_permits(p.scope, a) : auth::permits(p.role, a);
}

bool is_hex_id(std::string_view s) {
  if (s.size() != 32) return false;
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool is_number(std::string_view s) {
  if (s.empty() || s.size() > 18) return false;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Splits "/a/b/c" into segments; nullopt for "//", a trailing "/" (other
// than "/" itself) or a dot segment.
std::optional<std::vector<std::string_view>> segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return std::nullopt;
  if (path == "/") return out;
  std::string_view rest = path.substr(1);
  while (true) {
    const auto slash = rest.find('/');
    const auto seg = rest.substr(0, slash);
    if (seg.empty() || seg == "." || seg == "..") return std::nullopt;
    out.push_back(seg);
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return out;
}

std::optional<std::string> cookie(const Request& req, std::string_view name) {
  const auto it = req.find(bhttp::field::cookie);
  if (it == req.end()) return std::nullopt;
  std::string_view rest = it->value();
  while (!rest.empty()) {
    const auto semi = rest.find(';');
    std::string_view item = core::text::trim_ascii(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    const auto eq = item.find('=');
    if (eq != std::string_view::npos && item.substr(0, eq) == name) return std::string(item.substr(eq + 1));
  }
  return std::nullopt;
}

}  // namespace
}  // namespace detail

i18n::Lang Console::Impl::language_of(const Request& req) {
  if (const auto chosen = detail::cookie(req, "rempart_lang")) {
    if (const auto l = i18n::parse(*chosen); l && chosen->size() <= 5) return *l;
  }
  return i18n::negotiate(req[bhttp::field::accept_language], i18n::default_language());
}

namespace detail {

// The switch: a link on every page. The choice is kept in a cookie that
// holds nothing but the language; the way back is the path of the page the
// switch was on (the Referer, this origin's only), never a query or
// another site.
Response get_language(Call& c) {
  const auto to = query_param(c.req.target(), "to");
  const auto lang = to ? i18n::parse(*to) : std::nullopt;
  if (!lang || to->size() > 5) return problem(c, problem_of(Errc::invalid_input));
  std::string back = "/";
  const std::string_view referer = c.req[bhttp::field::referer];
  const std::string_view host = c.req[bhttp::field::host];
  for (const std::string_view scheme : {"http://", "https://"}) {
    const std::string origin = std::string(scheme) + std::string(host);
    if (!host.empty() && referer.starts_with(origin) && referer.size() > origin.size() &&
        referer[origin.size()] == '/') {
      std::string_view path = referer.substr(origin.size());
      path = path.substr(0, path.find_first_of("?#"));
      const bool plain = path.size() <= 200 && !path.starts_with("//") &&
                         std::all_of(path.begin(), path.end(), [](char ch) {
                           return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                                  ch == '/' || ch == '-' || ch == '_' || ch == '.';
                         });
      if (plain && path != "/language") back = std::string(path);
    }
  }
  auto res = redirect(back);
  std::string cookie_value = "rempart_lang=" + std::string(i18n::code(*lang)) +
                             "; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly";
  if (c.impl.opt.tls) cookie_value += "; Secure";
  res.set(bhttp::field::set_cookie, cookie_value);
  return res;
}

}  // namespace detail

namespace detail {
namespace {

std::string_view content_type(const Request& req) {
  const auto v = req[bhttp::field::content_type];
  return v.substr(0, v.find(';'));
}

using auth::Action;
using bhttp::verb;

// The route table: the one place that says who may call what.
const RouteDef kRoutes[] = {
    {verb::get, "/login", Kind::page, Access::anyone, Action::list_masked, get_login},
    {verb::post, "/login", Kind::page, Access::anyone, Action::list_masked, post_login},
    {verb::post, "/login/code", Kind::page, Access::anyone, Action::list_masked, post_login_code},
    {verb::post, "/logout", Kind::page, Access::signed_in, Action::list_masked, post_logout},
    {verb::get, "/language", Kind::page, Access::anyone, Action::list_masked, get_language},
    {verb::get, "/", Kind::page, Access::signed_in, Action::list_masked, get_root},
    {verb::get, "/supporters", Kind::page, Access::action, Action::list_masked, get_supporters},
    {verb::get, "/search", Kind::page, Access::action, Action::search, get_search},
    {verb::post, "/search", Kind::page, Access::action, Action::search, post_search},
    {verb::get, "/supporters/:id", Kind::page, Access::action, Action::list_masked, get_record},
    {verb::post, "/supporters/:id/reveal", Kind::page, Access::action, Action::reveal, post_reveal},
    {verb::post, "/supporters/:id/tags", Kind::page, Access::action, Action::tags, post_tags},
    {verb::post, "/supporters/:id/edit", Kind::page, Access::action, Action::edit_record, post_edit},
    {verb::post, "/supporters/:id/consent/withdraw", Kind::page, Access::action, Action::withdraw_consent,
     post_consent_withdraw},
    {verb::post, "/supporters/:id/notes", Kind::page, Access::action, Action::write_note, post_note},
    {verb::get, "/erase", Kind::page, Access::action, Action::erase_record, get_erase_lookup},
    {verb::get, "/supporters/:id/erase", Kind::page, Access::action, Action::erase_record, get_erase},
    {verb::post, "/supporters/:id/erase", Kind::page, Access::action, Action::erase_record, post_erase},
    {verb::get, "/tags", Kind::page, Access::action, Action::list_masked, get_tags},
    {verb::get, "/dashboard", Kind::page, Access::action, Action::list_masked, get_dashboard},
    {verb::post, "/tags/rename", Kind::page, Access::action, Action::bulk_tags, post_tag_rename},
    {verb::get, "/segments", Kind::page, Access::action, Action::count_segments, get_segments},
    {verb::post, "/segments", Kind::page, Access::action, Action::manage_segments, post_segments},
    {verb::get, "/segments/new", Kind::page, Access::action, Action::manage_segments, get_segment_new},
    {verb::get, "/segments/:seg", Kind::page, Access::action, Action::count_segments, get_segment},
    {verb::get, "/segments/:seg/edit", Kind::page, Access::action, Action::manage_segments, get_segment_edit},
    {verb::post, "/segments/:seg/delete", Kind::page, Access::action, Action::manage_segments, post_segment_delete},
    {verb::post, "/segments/:seg/tags", Kind::page, Access::action, Action::bulk_tags, post_segment_tags},
    {verb::get, "/calls", Kind::page, Access::action, Action::make_calls, get_calls},
    {verb::post, "/calls", Kind::page, Access::action, Action::manage_call_lists, post_calls},
    {verb::get, "/calls/:seg", Kind::page, Access::action, Action::manage_call_lists, get_call_list},
    {verb::post, "/calls/:seg/close", Kind::page, Access::action, Action::manage_call_lists, post_call_list_close},
    {verb::post, "/calls/:seg/next", Kind::page, Access::action, Action::make_calls, post_call_next},
    {verb::post, "/calls/:seg/outcome", Kind::page, Access::action, Action::make_calls, post_call_outcome},
    {verb::get, "/mailings", Kind::page, Access::action, Action::approve_mailings, get_mailings},
    {verb::post, "/mailings", Kind::page, Access::action, Action::write_mailings, post_mailing_save},
    {verb::get, "/mailings/new", Kind::page, Access::action, Action::write_mailings, get_mailing_new},
    {verb::get, "/mailings/:n", Kind::page, Access::action, Action::approve_mailings, get_mailing},
    {verb::post, "/mailings/:n", Kind::page, Access::action, Action::write_mailings, post_mailing_save},
    {verb::get, "/mailings/:n/edit", Kind::page, Access::action, Action::write_mailings, get_mailing_edit},
    {verb::post, "/mailings/:n/draw", Kind::page, Access::action, Action::write_mailings, post_mailing_draw},
    {verb::post, "/mailings/:n/approve", Kind::page, Access::action, Action::approve_mailings, post_mailing_approve},
    {verb::post, "/mailings/:n/start", Kind::page, Access::action, Action::write_mailings, post_mailing_state},
    {verb::post, "/mailings/:n/pause", Kind::page, Access::action, Action::write_mailings, post_mailing_state},
    {verb::post, "/mailings/:n/resume", Kind::page, Access::action, Action::write_mailings, post_mailing_state},
    {verb::post, "/mailings/:n/cancel", Kind::page, Access::action, Action::write_mailings, post_mailing_state},
    {verb::post, "/mailings/:n/test", Kind::page, Access::action, Action::write_mailings, post_mailing_test},
    {verb::get, "/accounts", Kind::page, Access::action, Action::manage_accounts, get_accounts},
    {verb::post, "/accounts", Kind::page, Access::action, Action::manage_accounts, post_account_create},
    {verb::post, "/accounts/:name/:verb", Kind::page, Access::action, Action::manage_accounts, post_account_action},
    {verb::get, "/requests", Kind::page, Access::action, Action::manage_accounts, get_requests},
    {verb::post, "/requests/:n/approve", Kind::page, Access::action, Action::approve_privilege, post_request_approve},
    {verb::post, "/requests/:n/refuse", Kind::page, Access::action, Action::manage_accounts, post_request_refuse},
    {verb::get, "/enrol", Kind::page, Access::anyone, Action::list_masked, get_enrol},
    {verb::post, "/enrol", Kind::page, Access::anyone, Action::list_masked, post_enrol},
    {verb::post, "/enrol/confirm", Kind::page, Access::anyone, Action::list_masked, post_enrol_confirm},
    {verb::get, "/tokens", Kind::page, Access::action, Action::manage_tokens, get_tokens},
    {verb::post, "/tokens", Kind::page, Access::action, Action::manage_tokens, post_token_create},
    {verb::post, "/tokens/:n/revoke", Kind::page, Access::action, Action::manage_tokens, post_token_revoke},
    {verb::get, "/sessions", Kind::page, Access::signed_in, Action::list_masked, get_sessions},
    {verb::post, "/sessions/revoke", Kind::page, Access::signed_in, Action::list_masked, post_sessions_revoke},
    {verb::get, "/account", Kind::page, Access::signed_in, Action::list_masked, get_own_account},
    {verb::post, "/account/password", Kind::page, Access::signed_in, Action::list_masked, post_own_password},
    {verb::post, "/account/test-address", Kind::page, Access::action, Action::write_mailings, post_own_test_address},
    {verb::post, "/account/authenticator", Kind::page, Access::signed_in, Action::list_masked, post_own_authenticator},
    {verb::post, "/account/authenticator/confirm", Kind::page, Access::signed_in, Action::list_masked,
     post_own_authenticator_confirm},
    {verb::get, "/audit", Kind::page, Access::action, Action::read_audit, get_audit},
    {verb::post, "/audit/verify", Kind::page, Access::action, Action::read_audit, post_audit_verify},
    {verb::get, "/selfcheck", Kind::page, Access::action, Action::manage_accounts, get_selfcheck},
    {verb::get, "/exports", Kind::page, Access::action, Action::request_export, get_exports},
    {verb::post, "/exports", Kind::page, Access::action, Action::request_export, post_export_request},
    {verb::post, "/exports/:n/approve", Kind::page, Access::action, Action::approve_export, post_export_approve},
    {verb::get, "/exports/:n/download", Kind::page, Access::action, Action::request_export, get_export_download},
    {verb::get, "/api/v1/me", Kind::api, Access::signed_in, Action::list_masked, get_me},
    {verb::get, "/api/v1/supporters", Kind::api, Access::action, Action::list_masked, get_supporters},
    {verb::post, "/api/v1/supporters/search", Kind::api, Access::action, Action::search, post_search},
    {verb::get, "/api/v1/supporters/:id", Kind::api, Access::action, Action::list_masked, get_record},
    {verb::post, "/api/v1/supporters/:id/reveal", Kind::api, Access::action, Action::reveal, post_reveal},
    {verb::post, "/api/v1/supporters/:id/tags", Kind::api, Access::action, Action::tags, post_tags},
    {verb::post, "/api/v1/supporters/:id/edit", Kind::api, Access::action, Action::edit_record, post_edit},
    {verb::post, "/api/v1/supporters/:id/consent/withdraw", Kind::api, Access::action, Action::withdraw_consent,
     post_consent_withdraw},
    {verb::post, "/api/v1/supporters/:id/notes", Kind::api, Access::action, Action::write_note, post_note},
    {verb::get, "/api/v1/supporters/:id/notes", Kind::api, Access::action, Action::read_notes, get_notes},
    {verb::post, "/api/v1/supporters/:id/erase", Kind::api, Access::action, Action::erase_record, post_erase},
    {verb::get, "/api/v1/tags", Kind::api, Access::action, Action::list_masked, get_tags},
    {verb::get, "/api/v1/dashboard", Kind::api, Access::action, Action::list_masked, get_dashboard},
    {verb::get, "/api/v1/exports", Kind::api, Access::action, Action::request_export, get_exports},
    {verb::get, "/api/v1/mailings", Kind::api, Access::action, Action::approve_mailings, get_mailings},
    {verb::get, "/api/v1/mailings/:n", Kind::api, Access::action, Action::approve_mailings, get_mailing},
    {verb::post, "/api/v1/exports", Kind::api, Access::action, Action::request_export, post_export_request},
    {verb::post, "/api/v1/tags/rename", Kind::api, Access::action, Action::bulk_tags, post_tag_rename},
    {verb::get, "/api/v1/segments", Kind::api, Access::action, Action::count_segments, get_segments},
    {verb::post, "/api/v1/segments", Kind::api, Access::action, Action::manage_segments, post_segments},
    {verb::post, "/api/v1/segments/count", Kind::api, Access::action, Action::count_segments, post_segment_count},
    {verb::get, "/api/v1/segments/:seg", Kind::api, Access::action, Action::count_segments, get_segment},
    {verb::post, "/api/v1/segments/:seg/delete", Kind::api, Access::action, Action::manage_segments,
     post_segment_delete},
    {verb::post, "/api/v1/segments/:seg/tags", Kind::api, Access::action, Action::bulk_tags, post_segment_tags},
    {verb::get, "/api/v1/call-lists", Kind::api, Access::action, Action::make_calls, get_calls},
    {verb::post, "/api/v1/call-lists", Kind::api, Access::action, Action::manage_call_lists, post_calls},
    {verb::get, "/api/v1/call-lists/:seg", Kind::api, Access::action, Action::manage_call_lists, get_call_list},
    {verb::post, "/api/v1/call-lists/:seg/close", Kind::api, Access::action, Action::manage_call_lists,
     post_call_list_close},
    {verb::post, "/api/v1/call-lists/:seg/next", Kind::api, Access::action, Action::make_calls, post_call_next},
    {verb::post, "/api/v1/call-lists/:seg/outcome", Kind::api, Access::action, Action::make_calls,
     post_call_outcome},
    {verb::get, "/api/v1/audit", Kind::api, Access::action, Action::read_audit, get_audit},
    {verb::post, "/api/v1/audit/verify", Kind::api, Access::action, Action::read_audit, post_audit_verify},
    {verb::get, "/api/v1/accounts", Kind::api, Access::action, Action::manage_accounts, get_accounts_api},
    {verb::post, "/api/v1/accounts/:name/enable", Kind::api, Access::action, Action::manage_accounts,
     post_account_enable_api},
    {verb::post, "/api/v1/accounts/:name/disable", Kind::api, Access::action, Action::manage_accounts,
     post_account_disable_api},
    {verb::get, "/metrics", Kind::api, Access::local_or_action, Action::read_metrics, get_metrics},
};

// Matches `path` against a pattern; fills `params` with the :parts.
bool matches(std::string_view pattern, const std::vector<std::string_view>& path, std::vector<std::string>& params) {
  auto pat = segments(pattern);
  if (!pat || pat->size() != path.size()) return false;
  params.clear();
  for (std::size_t i = 0; i < path.size(); ++i) {
    const auto p = (*pat)[i];
    if (p.front() != ':') {
      if (p != path[i]) return false;
      continue;
    }
    if (p == ":id" && !is_hex_id(path[i])) return false;
    if (p == ":name" && !auth::valid_account_name(path[i])) return false;
    if (p == ":n" && !is_number(path[i])) return false;
    if (p == ":seg" && !services::valid_segment_name(path[i])) return false;
    if (p == ":verb" && path[i] != "disable" && path[i] != "enable" && path[i] != "role" && path[i] != "unlock" &&
        path[i] != "revoke-sessions" && path[i] != "reset-mfa" && path[i] != "budget") {
      return false;
    }
    params.emplace_back(path[i]);
  }
  return true;
}

// The console's main pages, in the order a person landing after sign-in
// is offered them: the first one their role may open wins.
constexpr std::string_view kLandingPages[] = {"/supporters", "/accounts", "/exports", "/audit"};

}  // namespace

std::string_view landing_of(auth::Role role) {
  for (const auto page : kLandingPages) {
    for (const auto& r : kRoutes) {
      if (r.method != verb::get || r.pattern != page) continue;
      if (r.access != Access::action || auth::permits(role, r.action)) return page;
    }
  }
  // Every signed-in person may see their own account.
  return "/account";
}

std::optional<std::string> query_param(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  auto pairs = core::parse_urlencoded(target.substr(q + 1), kMaxFormPairs);
  if (!pairs) return std::nullopt;
  for (auto& [k, v] : *pairs) {
    if (k == name) return std::move(v);
  }
  return std::nullopt;
}

std::string code_of(const Call& c) { return c.form.get("code").value_or(""); }

std::optional<std::int64_t> form_int(const Call& c, std::string_view key) {
  const auto text = c.form.get(key);
  if (!text) return std::nullopt;
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc{} || p != text->data() + text->size()) return std::nullopt;
  return v;
}

std::int64_t number_param(const Call& c) {
  std::int64_t id = 0;
  std::from_chars(c.params[0].data(), c.params[0].data() + c.params[0].size(), id);
  return id;
}

Form::~Form() {
  for (auto& [k, v] : pairs) {
    if (!v.empty()) sodium_memzero(v.data(), v.size());
  }
}

std::optional<crypto::SecretBytes> Form::secret(std::string_view name) const {
  for (const auto& [k, v] : pairs) {
    if (k != name) continue;
    auto held = crypto::SecretBytes::copy_of_text(v);
    if (!held) return std::nullopt;
    return std::move(*held);
  }
  return std::nullopt;
}

}  // namespace detail

Response Console::Impl::dispatch(Worker& w, const Request& req, const std::string& client) {
  using namespace detail;
  const std::string_view target = req.target();
  const std::string_view path = target.substr(0, target.find('?'));
  const bool api = path.starts_with("/api/");
  auto segs = segments(path);
  const RouteDef* route = nullptr;
  bool path_known = false;
  std::vector<std::string> params;
  if (segs) {
    for (const auto& r : kRoutes) {
      if (!matches(r.pattern, *segs, params)) continue;
      path_known = true;
      if (r.method == req.method() || (req.method() == verb::head && r.method == verb::get)) {
        route = &r;
        break;
      }
    }
  }
  static const RouteDef kNone{verb::get, "-", Kind::page, Access::anyone, Action::list_masked, nullptr};
  static const RouteDef kNoneApi{verb::get, "-", Kind::api, Access::anyone, Action::list_masked, nullptr};
  Call c{*this, w, req, route ? *route : (api ? kNoneApi : kNone), client, {}, std::nullopt, {}, {}};
  if (!route) {
    if (path_known) {
      return problem(c, {bhttp::status::method_not_allowed, "method_not_allowed", N_("Method not allowed"),
                         N_("This address does not accept this method.")});
    }
    return problem(c, problem_of(Errc::not_found));
  }
  matches(route->pattern, *segs, params);
  c.params = std::move(params);

  // 1. Who is asking. Programs: a bearer API token, on the API's routes only
  // (/api/, /metrics). People: the session cookie.
  const auto authz = req[bhttp::field::authorization];
  if (route->kind == Kind::api && authz.starts_with("Bearer ")) {
    auto t = w.accounts->check_api_token(authz.substr(7));
    if (!t) return failure(c, t.error());
    if (!*t) return json_answer(bhttp::status::unauthorized, {{"error", "unauthenticated"}});
    Principal p;
    p.via_token = true;
    p.actor = "token:" + std::to_string((*t)->id);
    p.name = (*t)->label;
    p.scope = (*t)->scope;
    if ((*t)->creator_role) {
      p.charged = (*t)->created_by;
      p.budget_role = std::string(auth::role_name(*(*t)->creator_role));
    }
    c.who = std::move(p);
  } else if (auto token = cookie(req, cookie_name())) {
    auto s = w.accounts->validate_session(*token);
    if (!s) return failure(c, s.error());
    if (*s) {
      Principal p;
      p.actor = auth::account_actor((*s)->account_id);
      p.name = (*s)->name;
      p.role = (*s)->role;
      auto held = crypto::SecretBytes::copy_of_text(*token);
      if (!held) return failure(c, held.error());
      p.session_token = std::move(*held);
      p.session = std::move(**s);
      p.budget_role = std::string(auth::role_name((*s)->role));
      c.who = std::move(p);
    }
  }

  // 2. The one permission check.
  const bool local = route->access == Access::local_or_action && !c.who && from_loopback(req, client);
  if (route->access != Access::anyone && !local) {
    if (!c.who) {
      if (route->kind == Kind::api) return json_answer(bhttp::status::unauthorized, {{"error", "unauthenticated"}});
      return redirect("/login");
    }
    if (route->access != Access::signed_in && !allowed(*c.who, route->action)) {
      return problem(c, problem_of(Errc::permission));
    }
  }

  // 3. Bodies and CSRF for state changes.
  if (req.method() == verb::post) {
    if (route->kind == Kind::page) {
      if (content_type(req) != "application/x-www-form-urlencoded") {
        return problem(c, {bhttp::status::unsupported_media_type, "unsupported_media_type",
                           N_("Unsupported content type"), N_("This address takes form posts only.")});
      }
      auto pairs = core::parse_urlencoded(req.body(), kMaxFormPairs);
      if (!pairs) return problem(c, problem_of(Errc::invalid_input));
      c.form.pairs = std::move(*pairs);
    } else {
      if (content_type(req) != "application/json") {
        return problem(c, {bhttp::status::unsupported_media_type, "unsupported_media_type",
                           N_("Unsupported content type"), N_("This address takes JSON only.")});
      }
      c.body = nlohmann::json::parse(req.body(), nullptr, false);
      if (c.body.is_discarded() || !c.body.is_object()) return problem(c, problem_of(Errc::invalid_input));
    }
    if (c.who && !c.who->via_token) {
      std::optional<crypto::SecretBytes> form_csrf;
      if (route->kind == Kind::page) form_csrf = c.form.secret("csrf");
      const std::string_view csrf = route->kind == Kind::page ? (form_csrf ? form_csrf->text() : std::string_view())
                                                              : std::string_view(req["X-CSRF-Token"]);
      if (!auth::check_csrf(c.who->session_token.text(), csrf)) {
        return problem(c, {bhttp::status::forbidden, "csrf", N_("Form expired"),
                           N_("This form is out of date. Go back, reload the page and try again.")});
      }
    }
  }
  return route->fn(c);
}

}  // namespace rempart::console
