#include "console/console.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <deque>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <utility>

#include "audit/blast_radius.hpp"
#include "audit/chain.hpp"
#include "audit/verify.hpp"
#include "auth/roles.hpp"
#include "console/pages.hpp"
#include "core/text.hpp"
#include "core/urlencoded.hpp"

namespace rempart::console {

namespace bhttp = boost::beast::http;
using http::Request;
using http::Response;

namespace {

constexpr std::string_view kCsp =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'";
constexpr std::size_t kMaxFormPairs = 32;
constexpr std::int64_t kPendingSeconds = 300;
constexpr std::size_t kMaxPending = 4096;
constexpr std::size_t kMaxPendingPerClient = 16;  // an office behind one NAT address

enum class Kind { page, api };
enum class Access { anyone, signed_in, action };

// Who makes a request once their session or token checked out.
struct Principal {
  bool via_token = false;
  std::string actor;  // account:<hex> | token:<id>
  std::string name;   // account name or token label
  auth::Role role = auth::Role::viewer;
  auth::Scope scope = auth::Scope::intake;
  std::string session_token;
  auth::SessionInfo session;
  // Whose budgets this principal spends: a token spends the account that
  // made it ("" = its own); with that account's role.
  std::string charged;
  std::string budget_role;
};

bool allowed(const Principal& p, auth::Action a) {
  return p.via_token ? auth::token_permits(p.scope, a) : auth::permits(p.role, a);
}

struct Form {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::optional<std::string> get(std::string_view name) const {
    for (const auto& [k, v] : pairs) {
      if (k == name) return v;
    }
    return std::nullopt;
  }
};

std::string random_token(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string out(sodium_base64_encoded_len(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), raw.data(), raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(raw.data(), raw.size());
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

// A short, non-secret name for a session in alerts and logs: the first 8
// bytes of BLAKE2b of the token (the token itself never leaves the cookie).
std::string session_label(std::string_view token) {
  if (token.empty()) return {};
  unsigned char h[16];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(token.data()), token.size(), nullptr, 0);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < 8; ++i) {
    out += kHex[h[i] >> 4];
    out += kHex[h[i] & 15];
  }
  return out;
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
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

std::string_view content_type(const Request& req) {
  const auto v = req[bhttp::field::content_type];
  return v.substr(0, v.find(';'));
}

struct Pending {
  std::string name;
  crypto::SecretBytes password;
  std::string client;
  std::int64_t expires = 0;
  // Order of arrival: many first steps share one second, so the expiry alone
  // cannot say which is oldest.
  std::uint64_t arrival = 0;
};

}  // namespace

// ---------------------------------------------------------------------------



namespace {

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
                      who ? session_label(who->session_token) : std::string()};
    if (who) {
      a.charged = who->charged;
      a.role = who->budget_role;
    }
    return a;
  }
  Viewer viewer() const {
    if (!who || who->via_token) return {};
    return {who->name, who->role, who->session.csrf_token};
  }
};

}  // namespace

struct Console::Impl {
  ConsoleOptions opt;
  const crypto::KeeperKeyring& keys;
  std::unique_ptr<WorkerPool> pool;
  std::mutex pending_mu;
  std::unordered_map<std::string, Pending> pending;
  std::uint64_t pending_arrivals = 0;

  Impl(ConsoleOptions o, const crypto::KeeperKeyring& k) : opt(std::move(o)), keys(k) {}

  std::string cookie_name() const { return opt.tls ? "__Host-rempart_session" : "rempart_session"; }

  void handle(Request&& req, const http::RequestContext& ctx, http::Responder respond);
  Response dispatch(Worker& w, const Request& req, const std::string& client);
  Response finish(Response res) const;

  std::string new_pending(const std::string& name, std::string_view password, const std::string& client);
  std::optional<Pending> take_pending(const std::string& id, const std::string& client);
};

namespace {

// ---- Answers ---------------------------------------------------------------

Response base(bhttp::status status) {
  Response res{status, 11};
  return res;
}

Response html(bhttp::status status, std::string body) {
  auto res = base(status);
  res.set(bhttp::field::content_type, "text/html; charset=utf-8");
  res.body() = std::move(body);
  return res;
}

Response json_answer(bhttp::status status, const nlohmann::json& j) {
  auto res = base(status);
  res.set(bhttp::field::content_type, "application/json");
  res.body() = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return res;
}

Response redirect(std::string_view to) {
  auto res = base(bhttp::status::see_other);
  res.set(bhttp::field::location, to);
  res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  res.body() = "See other.\n";
  return res;
}

struct Problem {
  bhttp::status status;
  const char* code;
  const char* title;
  const char* message;
};

Problem problem_of(Errc e) {
  using S = bhttp::status;
  switch (e) {
    case Errc::invalid_input: return {S::bad_request, "invalid_input", "Check the form", "Something you entered is not valid."};
    case Errc::not_found: return {S::not_found, "not_found", "Not found", "There is nothing here."};
    case Errc::conflict: return {S::conflict, "conflict", "Already exists", "This already exists."};
    case Errc::permission: return {S::forbidden, "forbidden", "Not allowed", "Your account may not do this."};
    case Errc::busy: return {S::service_unavailable, "busy", "Busy", "The server is busy. Try again in a moment."};
    default: return {S::internal_server_error, "internal", "Something went wrong", "Something went wrong on our side."};
  }
}

Response problem(const Call& c, const Problem& p) {
  if (c.route.kind == Kind::api) return json_answer(p.status, {{"error", p.code}});
  const auto v = c.viewer();
  return html(p.status, message_page(c.who && !c.who->via_token ? &v : nullptr, p.title, p.message));
}

// The guard locked the asker: tell whoever watches, end the session here.
Response locked(const Call& c, const Error& e) {
  spdlog::warn("console: guard locked {} ({})", c.who ? c.who->actor : std::string("-"), e.internal);
  if (c.impl.opt.alerter) {
    // The directory's reason, then ":<record id>" for a honeytoken.
    const auto colon = e.internal.find(':');
    guard::Alert a;
    a.severity = guard::Severity::critical;
    a.kind = e.internal.substr(0, colon);  // "reveal_budget" | "list_budget" | "search_misses" | "honeytoken"
    a.actor = c.who ? c.who->actor : std::string();
    a.session = c.who ? session_label(c.who->session_token) : std::string();
    a.client = c.client;
    a.reason = "account locked by the exfiltration guard";
    a.details = {{"route", std::string(c.route.pattern)}};
    if (c.who && !c.who->charged.empty()) a.details["account"] = c.who->charged;
    if (colon != std::string::npos) a.details["records"] = nlohmann::json::array({e.internal.substr(colon + 1)});
    c.impl.opt.alerter->raise(std::move(a));
  }
  Response res = c.route.kind == Kind::api
                     ? json_answer(bhttp::status::forbidden, {{"error", "locked"}})
                     : html(bhttp::status::forbidden,
                            message_page(nullptr, "Account locked",
                                         "This account has been locked and its sessions ended. An administrator "
                                         "has been alerted and can unlock it."));
  res.set(bhttp::field::set_cookie, c.impl.cookie_name() + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
                                        (c.impl.opt.tls ? "; Secure" : ""));
  return res;
}

// Raises a warning alert for a change people must hear about (privilege
// requests and approvals, tokens, exports). Ids only.
void notify(const Call& c, std::string_view kind, std::string_view reason, nlohmann::json details) {
  if (!c.impl.opt.alerter) return;
  guard::Alert a;
  a.severity = guard::Severity::warning;
  a.kind = std::string(kind);
  a.actor = c.who ? c.who->actor : std::string();
  a.session = c.who ? session_label(c.who->session_token) : std::string();
  a.client = c.client;
  a.reason = std::string(reason);
  a.details = std::move(details);
  c.impl.opt.alerter->raise(std::move(a));
}

// Fixed explanations for the refusals a person can act on. The services'
// internal messages are fixed texts too, but only these leave the server.
struct Explained {
  std::string_view internal;
  bhttp::status status;
  const char* title;
  const char* message;
};
constexpr Explained kExplained[] = {
    {"step-up: the code is not right", bhttp::status::forbidden, "Code not accepted",
     "That code is not right. Enter the code your authenticator app shows now."},
    {"approval: nobody approves their own request", bhttp::status::forbidden, "Not yours to approve",
     "You asked for this: another admin must approve it."},
    {"export approve: the requester cannot approve", bhttp::status::forbidden, "Not yours to approve",
     "You asked for this: another admin must approve it."},
    {"approval: the approver was not an admin long enough before the request", bhttp::status::forbidden,
     "Too recent to approve",
     "Your account became an admin too recently to approve this: an approver must have been an admin for the "
     "cooling period before the request was made."},
    {"approval: the requester made or promoted the approver, or the other way round", bhttp::status::forbidden,
     "Not independent",
     "The requester created or promoted your account, or you theirs: an independent admin must approve."},
    {"approval: only an active admin approves", bhttp::status::forbidden, "Not allowed",
     "Only an active admin approves requests."},
    {"approval: not for one's own account", bhttp::status::forbidden, "Not allowed",
     "Another admin must approve changes to your own account."},
    {"privilege request: not for one's own account", bhttp::status::forbidden, "Not allowed",
     "Another admin must ask for changes to your own account."},
    {"privilege request: the same request is pending", bhttp::status::conflict, "Already asked",
     "The same request is already waiting for approval."},
    {"privilege request: an account of that name exists", bhttp::status::conflict, "Name taken",
     "An account of that name exists already."},
    {"privilege request: the account is not locked", bhttp::status::conflict, "Not locked",
     "That account is not locked."},
    {"privilege request: the account has that role", bhttp::status::conflict, "Nothing to change",
     "That account has that role already."},
    {"approval: the request is no longer pending", bhttp::status::conflict, "Already decided",
     "That request has already been approved, refused or withdrawn."},
    {"approval: the request has expired", bhttp::status::conflict, "Expired",
     "That request has expired; ask again."},
};

Response failure(const Call& c, const Error& e) {
  if (e.code == Errc::locked) return locked(c, e);
  if (e.code == Errc::retry_later) {
    return problem(c, {bhttp::status::conflict, "code_used", "Wait for the next code",
                       "That code was already used (to sign in, or for an earlier step). Wait for your "
                       "authenticator app to show the next one, at most 30 seconds, and try again."});
  }
  for (const auto& x : kExplained) {
    if (e.internal == x.internal) return problem(c, {x.status, "refused", x.title, x.message});
  }
  if (e.code != Errc::invalid_input && e.code != Errc::not_found && e.code != Errc::conflict &&
      e.code != Errc::permission) {
    spdlog::error("console: {} failed ({}): {}", c.route.pattern, errc_name(e.code), e.internal);
  }
  return problem(c, problem_of(e.code));
}

// Where each role starts: the first page it may use.
std::string_view home_of(auth::Role r) {
  switch (r) {
    case auth::Role::auditor: return "/audit";
    case auth::Role::admin: return "/accounts";
    case auth::Role::viewer:
    case auth::Role::organiser: return "/supporters";
  }
  return "/supporters";
}

// ---- Routes: sign-in -------------------------------------------------------

Response get_login(Call& c) {
  if (c.who) return redirect("/");
  const bool enrolled = query_param(c.req.target(), "enrolled").value_or("") == "1";
  return html(bhttp::status::ok, login_page(enrolled ? "Your account is ready. Sign in with it." : ""));
}

Response post_login(Call& c) {
  const auto name = c.form.get("name");
  const auto password = c.form.get("password");
  if (!name || !password || name->empty() || name->size() > 64 || password->empty() || password->size() > 1024) {
    return html(bhttp::status::bad_request, login_page("Enter your account name and password."));
  }
  // Nothing is checked yet: the second step checks both factors at once, so
  // this step tells nobody whether the name or the password is right.
  const auto id = c.impl.new_pending(*name, *password, c.client);
  if (id.empty()) {
    auto res = html(bhttp::status::too_many_requests,
                    login_page("Too many sign-ins from your address. Wait a minute and try again."));
    res.set(bhttp::field::retry_after, "60");
    return res;
  }
  return html(bhttp::status::ok, code_page(id, ""));
}

Response post_login_code(Call& c) {
  const auto id = c.form.get("pending");
  const auto code = c.form.get("code");
  auto p = id ? c.impl.take_pending(*id, c.client) : std::nullopt;
  if (!p) return html(bhttp::status::bad_request, login_page("The sign-in took too long. Start again."));
  const std::string_view password(reinterpret_cast<const char*>(p->password.data()), p->password.size());
  auto out = c.w.accounts->authenticate(p->name, password, code ? *code : std::string(), c.client);
  if (!out || !out->session) {
    if (!out) spdlog::error("console: sign-in could not be checked ({})", errc_name(out.error().code));
    auto res = html(bhttp::status::unauthorized,
                    login_page("Sign-in failed. Check the account name, password and code, then start again."));
    const auto wait = out ? out->retry_after_seconds : 1;
    if (wait > 0) res.set(bhttp::field::retry_after, std::to_string(wait));
    return res;
  }
  auto res = redirect(home_of(out->session->info.role));
  std::string cookie_value = c.impl.cookie_name() + "=" + out->session->token +
                             "; Path=/; HttpOnly; SameSite=Strict" + (c.impl.opt.tls ? "; Secure" : "");
  res.set(bhttp::field::set_cookie, cookie_value);
  return res;
}

Response post_logout(Call& c) {
  if (c.who && !c.who->via_token) {
    if (auto r = c.w.accounts->logout(c.who->session_token, c.client); !r) return failure(c, r.error());
  }
  auto res = redirect("/login");
  res.set(bhttp::field::set_cookie, c.impl.cookie_name() + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
                                        (c.impl.opt.tls ? "; Secure" : ""));
  return res;
}

Response get_root(Call& c) { return redirect(home_of(c.who->role)); }

// ---- Routes: supporters ----------------------------------------------------

nlohmann::json to_json(const services::MaskedSupporter& m) {
  return {{"id", m.id},           {"name", m.name},
          {"email", m.email},     {"phone", m.phone},
          {"postal_code", m.postal_code}, {"locality", m.locality},
          {"country", m.country}, {"tags", m.tags},
          {"consent_email", m.consent_email}, {"consent_sms", m.consent_sms},
          {"created_at", m.created_at}, {"updated_at", m.updated_at}};
}

services::ListQuery list_query(const Call& c) {
  services::ListQuery q;
  q.tag = query_param(c.req.target(), "tag").value_or("");
  q.cursor = query_param(c.req.target(), "cursor").value_or("");
  if (auto l = query_param(c.req.target(), "limit")) {
    std::size_t n = 0;
    const auto [p, ec] = std::from_chars(l->data(), l->data() + l->size(), n);
    q.limit = (ec == std::errc{} && p == l->data() + l->size()) ? n : 0;  // 0 is refused by the directory
  }
  return q;
}

Response get_supporters(Call& c) {
  const auto q = list_query(c);
  auto page = c.w.directory->list(c.asker(), q);
  if (!page) return failure(c, page.error());
  if (c.route.kind == Kind::api) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& m : page->items) items.push_back(to_json(m));
    return json_answer(bhttp::status::ok, {{"items", items}, {"next_cursor", page->next_cursor}, {"total", page->total}});
  }
  auto tags = c.w.directory->tags();
  if (!tags) return failure(c, tags.error());
  return html(bhttp::status::ok, supporters_page(c.viewer(), *page, q.tag, *tags));
}

Response get_search(Call& c) { return html(bhttp::status::ok, search_page(c.viewer(), {}, false, "")); }

Response post_search(Call& c) {
  std::string kind, value;
  if (c.route.kind == Kind::api) {
    if (!c.body.contains("kind") || !c.body["kind"].is_string() || !c.body.contains("value") ||
        !c.body["value"].is_string()) {
      return problem(c, problem_of(Errc::invalid_input));
    }
    kind = c.body["kind"].get<std::string>();
    value = c.body["value"].get<std::string>();
  } else {
    kind = c.form.get("kind").value_or("");
    value = c.form.get("q").value_or("");
  }
  auto found = c.w.directory->search(c.asker(), kind, value, c.impl.opt.default_region);
  if (!found) {
    if (found.error().code == Errc::invalid_input && c.route.kind == Kind::page) {
      return html(bhttp::status::bad_request,
                  search_page(c.viewer(), {}, false, "That is not a valid e-mail address or phone number."));
    }
    return failure(c, found.error());
  }
  if (c.route.kind == Kind::api) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& m : *found) items.push_back(to_json(m));
    return json_answer(bhttp::status::ok, {{"items", items}});
  }
  return html(bhttp::status::ok, search_page(c.viewer(), *found, true, ""));
}

Response show_record(Call& c, const std::vector<services::RevealedField>& revealed, std::string_view message) {
  auto rec = c.w.directory->record(c.asker(), c.params.at(0));
  if (!rec) return failure(c, rec.error());
  if (!*rec) return problem(c, problem_of(Errc::not_found));
  if (c.route.kind == Kind::api) return json_answer(bhttp::status::ok, to_json(**rec));
  return html(bhttp::status::ok, record_page(c.viewer(), **rec, revealed, message));
}

Response get_record(Call& c) { return show_record(c, {}, ""); }

Response post_reveal(Call& c) {
  std::vector<services::FieldKind> kinds;
  std::string reason;
  if (c.route.kind == Kind::api) {
    if (!c.body.contains("fields") || !c.body["fields"].is_array() || !c.body.contains("reason") ||
        !c.body["reason"].is_string()) {
      return problem(c, problem_of(Errc::invalid_input));
    }
    for (const auto& f : c.body["fields"]) {
      auto k = f.is_string() ? services::parse_field_kind(f.get<std::string>()) : std::nullopt;
      if (!k) return problem(c, problem_of(Errc::invalid_input));
      kinds.push_back(*k);
    }
    reason = c.body["reason"].get<std::string>();
  } else {
    auto k = services::parse_field_kind(c.form.get("kind").value_or(""));
    if (!k) return problem(c, problem_of(Errc::invalid_input));
    kinds.push_back(*k);
    reason = c.form.get("reason").value_or("");
  }
  auto shown = c.w.directory->reveal(c.asker(), c.params.at(0), kinds, reason);
  if (!shown) {
    if (shown.error().code == Errc::invalid_input && c.route.kind == Kind::page) {
      return show_record(c, {}, "Give a short reason (up to 200 characters, no personal data) to reveal a field.");
    }
    return failure(c, shown.error());
  }
  if (!*shown) return problem(c, problem_of(Errc::not_found));
  if (c.route.kind == Kind::api) {
    nlohmann::json fields = nlohmann::json::object();
    for (const auto& f : **shown) fields[std::string(services::field_kind_name(f.kind))] = f.value;
    return json_answer(bhttp::status::ok, {{"id", c.params.at(0)}, {"fields", fields}});
  }
  return show_record(c, **shown, "");
}

Response post_tags(Call& c) {
  std::vector<std::string> add, remove;
  if (c.route.kind == Kind::api) {
    for (const char* key : {"add", "remove"}) {
      if (!c.body.contains(key)) continue;
      if (!c.body[key].is_array()) return problem(c, problem_of(Errc::invalid_input));
      for (const auto& t : c.body[key]) {
        if (!t.is_string()) return problem(c, problem_of(Errc::invalid_input));
        (std::string_view(key) == "add" ? add : remove).push_back(t.get<std::string>());
      }
    }
  } else {
    if (auto a = c.form.get("add")) add.push_back(*a);
    if (auto r = c.form.get("remove")) remove.push_back(*r);
  }
  if (add.empty() && remove.empty()) return problem(c, problem_of(Errc::invalid_input));
  if (!add.empty()) {
    if (auto r = c.w.directory->add_tags(c.asker(), c.params.at(0), add); !r) return failure(c, r.error());
  }
  if (!remove.empty()) {
    if (auto r = c.w.directory->remove_tags(c.asker(), c.params.at(0), remove); !r) return failure(c, r.error());
  }
  if (c.route.kind == Kind::api) return json_answer(bhttp::status::ok, {{"ok", true}});
  return redirect("/supporters/" + c.params.at(0));
}

Response get_tags(Call& c) {
  auto tags = c.w.directory->tags();
  if (!tags) return failure(c, tags.error());
  if (c.route.kind == Kind::api) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& t : *tags) items.push_back({{"tag", t.tag}, {"supporters", t.supporters}});
    return json_answer(bhttp::status::ok, {{"items", items}});
  }
  return html(bhttp::status::ok, tags_page(c.viewer(), *tags));
}

Response get_me(Call& c) {
  nlohmann::json j = {{"actor", c.who->actor}, {"name", c.who->name}};
  if (c.who->via_token) {
    j["scope"] = auth::scope_name(c.who->scope);
  } else {
    j["role"] = auth::role_name(c.who->role);
    j["csrf_token"] = c.who->session.csrf_token;
  }
  return json_answer(bhttp::status::ok, j);
}

// ---- Routes: accounts, tokens, sessions ------------------------------------

std::string notice_text(const Call& c) {
  const auto done = query_param(c.req.target(), "done").value_or("");
  if (done == "role") return "Role changed.";
  if (done == "disabled") return "Account disabled; its sessions ended.";
  if (done == "unlocked") return "Account unlocked.";
  if (done == "sessions") return "Sessions ended.";
  if (done == "revoked") return "Token revoked.";
  return "";
}

Response get_accounts(Call& c) {
  auto list = c.w.accounts->list_accounts();
  if (!list) return failure(c, list.error());
  return html(bhttp::status::ok, accounts_page(c.viewer(), *list, notice_text(c)));
}

// The console's own address, for links handed to people (enrolment).
std::string own_origin(const Call& c) {
  return std::string(c.impl.opt.tls ? "https://" : "http://") + std::string(c.req[bhttp::field::host]);
}

std::string code_of(const Call& c) { return c.form.get("code").value_or(""); }

// Files a privilege request and shows its receipt once.
Response file_request(Call& c, const auth::PrivilegeAsk& ask) {
  auto r = c.w.accounts->request_privilege(c.who->session.account_id, ask, code_of(c), c.client);
  if (!r) {
    if (r.error().code == Errc::invalid_input) {
      return problem(c, {bhttp::status::bad_request, "invalid_input", "Check the form",
                         "Something you entered is not valid: account names are a-z, 0-9, . _ - (up to 64), "
                         "reasons up to 200 characters, limits 0 to 1,000,000, hours 1 to 168."});
    }
    return failure(c, r.error());
  }
  notify(c, "privilege_request", "a privilege change was requested",
         {{"request", r->id}, {"kind", std::string(auth::privilege_kind_name(ask.kind))}, {"target", ask.target}});
  const bool enrols = ask.kind == auth::PrivilegeKind::create_account || ask.kind == auth::PrivilegeKind::reset_mfa;
  const std::string url = enrols ? own_origin(c) + "/enrol?code=" + r->secret : std::string();
  return html(bhttp::status::ok,
              request_filed_page(c.viewer(), ask, *r, url, c.w.accounts->options().enrolment_seconds / 3600));
}

std::optional<std::int64_t> form_int(const Call& c, std::string_view key) {
  const auto text = c.form.get(key);
  if (!text) return std::nullopt;
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc{} || p != text->data() + text->size()) return std::nullopt;
  return v;
}

Response post_account_create(Call& c) {
  const auto role = auth::parse_role(c.form.get("role").value_or(""));
  if (!role) return problem(c, problem_of(Errc::invalid_input));
  auth::PrivilegeAsk ask;
  ask.kind = auth::PrivilegeKind::create_account;
  ask.target = c.form.get("name").value_or("");
  ask.role = *role;
  return file_request(c, ask);
}

Response post_account_action(Call& c) {
  const auto& name = c.params.at(0);
  const auto verb = c.params.at(1);
  const auto& actor = c.who->actor;
  auth::PrivilegeAsk ask;
  ask.target = name;
  if (verb == "role") {
    auto role = auth::parse_role(c.form.get("role").value_or(""));
    if (!role) return problem(c, problem_of(Errc::invalid_input));
    ask.kind = auth::PrivilegeKind::set_role;
    ask.role = *role;
    return file_request(c, ask);
  }
  if (verb == "unlock") {
    ask.kind = auth::PrivilegeKind::unlock;
    ask.reason = c.form.get("reason").value_or("");
    return file_request(c, ask);
  }
  if (verb == "reset-mfa") {
    ask.kind = auth::PrivilegeKind::reset_mfa;
    return file_request(c, ask);
  }
  if (verb == "budget") {
    const auto per_hour = form_int(c, "per_hour"), per_day = form_int(c, "per_day"), hours = form_int(c, "hours");
    if (!per_hour || !per_day || !hours) return problem(c, problem_of(Errc::invalid_input));
    ask.kind = auth::PrivilegeKind::raise_budget;
    ask.counted = c.form.get("counted").value_or("");
    ask.per_minute = form_int(c, "per_minute").value_or(0);
    ask.per_hour = *per_hour;
    ask.per_day = *per_day;
    ask.hours = *hours;
    return file_request(c, ask);
  }
  Result<void> r;
  std::string done;
  if (verb == "disable") {
    r = c.w.accounts->disable_account(actor, name);
    done = "disabled";
  } else if (verb == "revoke-sessions") {
    auto n = c.w.accounts->revoke_sessions(actor, name);
    r = n ? Result<void>{} : Result<void>{std::unexpected(n.error())};
    done = "sessions";
  } else {
    return problem(c, problem_of(Errc::not_found));
  }
  if (!r) return failure(c, r.error());
  if (verb == "disable") notify(c, "account_disabled", "an account was disabled", {{"account", name}});
  return redirect("/accounts?done=" + done);
}

Response get_requests(Call& c) {
  auto all = c.w.accounts->privilege_requests();
  if (!all) return failure(c, all.error());
  const auto done = query_param(c.req.target(), "done").value_or("");
  const std::string notice = done == "approved"  ? "Approved: the change is in force."
                             : done == "refused" ? "Refused."
                                                 : "";
  return html(bhttp::status::ok, requests_page(c.viewer(), c.who->session.account_id, *all, notice));
}

std::int64_t number_param(const Call& c) {
  std::int64_t id = 0;
  std::from_chars(c.params[0].data(), c.params[0].data() + c.params[0].size(), id);
  return id;
}

Response post_request_approve(Call& c) {
  auto r = c.w.accounts->approve_privilege(c.who->session.account_id, number_param(c), code_of(c), c.client);
  if (!r) return failure(c, r.error());
  notify(c, "privilege_approved", "a privilege change was approved and is in force",
         {{"request", r->id},
          {"kind", std::string(auth::privilege_kind_name(r->kind))},
          {"target", r->target},
          {"requester", r->requester}});
  return redirect("/requests?done=approved");
}

Response post_request_refuse(Call& c) {
  auto r = c.w.accounts->refuse_privilege(c.who->session.account_id, number_param(c), c.client);
  if (!r) return failure(c, r.error());
  return redirect("/requests?done=refused");
}

// ---- Routes: self-enrolment (signed out; the code is the credential) -------

constexpr std::string_view kEnrolGone =
    "This enrolment link is not valid: it was used already, has expired, or its request was not approved yet. "
    "Ask an administrator for a new one.";

Response get_enrol(Call& c) {
  const auto code = query_param(c.req.target(), "code").value_or("");
  auto invite = c.w.accounts->enrolment_for(code);
  if (!invite) return failure(c, invite.error());
  if (!*invite) return html(bhttp::status::not_found, message_page(nullptr, "Link not valid", kEnrolGone));
  return html(bhttp::status::ok, enrol_page(code, **invite, ""));
}

Response post_enrol(Call& c) {
  const auto code = c.form.get("code").value_or("");
  const auto password = c.form.get("password").value_or("");
  auto invite = c.w.accounts->enrolment_for(code);
  if (!invite) return failure(c, invite.error());
  if (!*invite) return html(bhttp::status::not_found, message_page(nullptr, "Link not valid", kEnrolGone));
  if (password != c.form.get("password2").value_or("")) {
    return html(bhttp::status::bad_request, enrol_page(code, **invite, "The two passwords differ. Type them again."));
  }
  auto e = c.w.accounts->enrol_self(code, password, c.client);
  if (!e) {
    if (e.error().code == Errc::invalid_input) {
      return html(bhttp::status::bad_request,
                  enrol_page(code, **invite,
                             "Choose another password: at least 12 characters, not a common one, and not your "
                             "account name."));
    }
    if (e.error().code == Errc::not_found) {
      return html(bhttp::status::not_found, message_page(nullptr, "Link not valid", kEnrolGone));
    }
    return failure(c, e.error());
  }
  return html(bhttp::status::ok, enrol_setup_page(code, (*invite)->account_name, *e, ""));
}

Response post_enrol_confirm(Call& c) {
  const auto code = c.form.get("code").value_or("");
  auto ok = c.w.accounts->confirm_enrolment(code, c.form.get("totp").value_or(""), c.client);
  if (!ok) {
    if (ok.error().code == Errc::not_found) {
      return html(bhttp::status::not_found, message_page(nullptr, "Link not valid", kEnrolGone));
    }
    return failure(c, ok.error());
  }
  if (!*ok) {
    return html(bhttp::status::bad_request,
                enrol_confirm_page(code, "That code did not match. Check that your phone's clock is right and enter "
                                         "the code your app shows now."));
  }
  notify(c, "account_enrolled", "an account finished its enrolment", nlohmann::json::object());
  return redirect("/login?enrolled=1");
}

Response get_tokens(Call& c) {
  auto list = c.w.accounts->list_api_tokens();
  if (!list) return failure(c, list.error());
  return html(bhttp::status::ok, tokens_page(c.viewer(), *list, notice_text(c)));
}

Response post_token_create(Call& c) {
  const auto scope = auth::parse_scope(c.form.get("scope").value_or(""));
  const auto days_text = c.form.get("days").value_or("");
  std::int64_t days = 0;
  const auto [p, ec] = std::from_chars(days_text.data(), days_text.data() + days_text.size(), days);
  if (!scope || ec != std::errc{} || p != days_text.data() + days_text.size()) {
    return problem(c, problem_of(Errc::invalid_input));
  }
  if (*scope == auth::Scope::reveal) {
    // A token that reveals is a privilege: another admin approves it.
    auth::PrivilegeAsk ask;
    ask.kind = auth::PrivilegeKind::reveal_token;
    ask.target = c.form.get("label").value_or("");
    ask.days = days;
    return file_request(c, ask);
  }
  if (auto r = c.w.accounts->require_step_up(c.who->session.account_id, code_of(c)); !r) return failure(c, r.error());
  auto t = c.w.accounts->create_api_token(c.who->actor, c.form.get("label").value_or(""), *scope, days);
  if (!t) return failure(c, t.error());
  notify(c, "token_created", "an API token was created",
         {{"token_id", t->info.id}, {"scope", std::string(auth::scope_name(t->info.scope))}, {"prefix", t->info.prefix}});
  return html(bhttp::status::ok, token_created_page(c.viewer(), *t));
}

Response post_token_revoke(Call& c) {
  std::int64_t id = 0;
  std::from_chars(c.params[0].data(), c.params[0].data() + c.params[0].size(), id);
  if (auto r = c.w.accounts->revoke_api_token(c.who->actor, id); !r) return failure(c, r.error());
  return redirect("/tokens?done=revoked");
}

Response get_sessions(Call& c) {
  if (c.who->via_token) return problem(c, problem_of(Errc::not_found));
  auto all = c.w.accounts->sessions(c.who->session_token);
  if (!all) return failure(c, all.error());
  return html(bhttp::status::ok, sessions_page(c.viewer(), c.who->session, *all, ""));
}

Response post_sessions_revoke(Call& c) {
  if (auto r = c.w.accounts->revoke_sessions(c.who->actor, c.who->name); !r) return failure(c, r.error());
  auto res = redirect("/login");
  res.set(bhttp::field::set_cookie, c.impl.cookie_name() + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
                                        (c.impl.opt.tls ? "; Secure" : ""));
  return res;
}

// ---- Routes: exports -------------------------------------------------------

std::string account_hex(const Principal& p) { return p.session.account_id; }

Response get_exports(Call& c) {
  auto all = c.w.exports->list(auth::permits(c.who->role, auth::Action::approve_export) ? "" : account_hex(*c.who));
  if (!all) return failure(c, all.error());
  auto tags = c.w.directory->tags();
  if (!tags) return failure(c, tags.error());
  const auto done = query_param(c.req.target(), "done").value_or("");
  const std::string notice = done == "requested"  ? "Requested. Another admin must approve it."
                             : done == "approved" ? "Approved: the requester can now download the file."
                                                  : "";
  return html(bhttp::status::ok, exports_page(c.viewer(), account_hex(*c.who), *all, *tags, notice));
}

Response post_export_request(Call& c) {
  std::vector<services::FieldKind> fields;
  for (const auto& [k, v] : c.form.pairs) {
    if (k != "field") continue;
    auto f = services::parse_field_kind(v);
    if (!f) return problem(c, problem_of(Errc::invalid_input));
    fields.push_back(*f);
  }
  if (auto r = c.w.accounts->require_step_up(account_hex(*c.who), code_of(c)); !r) return failure(c, r.error());
  auto id = c.w.exports->request(c.asker(), account_hex(*c.who), c.form.get("tag").value_or(""), fields,
                                 c.form.get("reason").value_or(""));
  if (!id) return failure(c, id.error());
  notify(c, "export_requested", "a bulk export was requested", {{"export", *id}});
  return redirect("/exports?done=requested");
}

Response post_export_approve(Call& c) {
  std::int64_t id = 0;
  std::from_chars(c.params[0].data(), c.params[0].data() + c.params[0].size(), id);
  auto r = c.w.exports->approve(c.asker(), account_hex(*c.who), id, *c.w.accounts, c.form.get("code").value_or(""));
  if (!r) return failure(c, r.error());
  notify(c, "export_approved", "a bulk export was approved and written",
         {{"export", id}, {"rows", r->rows}, {"requester", r->requester}});
  return redirect("/exports?done=approved");
}

Response get_export_download(Call& c) {
  std::int64_t id = 0;
  std::from_chars(c.params[0].data(), c.params[0].data() + c.params[0].size(), id);
  auto bytes = c.w.exports->download(c.asker(), account_hex(*c.who), id);
  if (!bytes) return failure(c, bytes.error());
  auto res = base(bhttp::status::ok);
  res.set(bhttp::field::content_type, "application/octet-stream");
  res.set(bhttp::field::content_disposition, "attachment; filename=\"rempart-export-" + c.params[0] + ".rmpx\"");
  res.body() = std::move(*bytes);
  return res;
}

// ---- Routes: audit ---------------------------------------------------------

Response get_audit(Call& c) {
  AuditView view;
  view.actor = query_param(c.req.target(), "actor").value_or("");
  view.action = query_param(c.req.target(), "action").value_or("");
  if (view.actor.size() > 100 || view.action.size() > 64) return problem(c, problem_of(Errc::invalid_input));
  audit::VerifyOptions vo;
  if (!c.impl.opt.checkpoint_file.empty()) vo.checkpoint_file = c.impl.opt.checkpoint_file;
  auto report = audit::verify(*c.w.store, c.impl.keys, vo);
  if (!report) return failure(c, report.error());
  view.verify = &*report;

  // The newest 100 matching entries: scan in order, keep a ring of the last.
  store::AuditFilter f;
  f.actor = view.actor;
  f.action = view.action;
  std::deque<store::AuditEntryRow> last;
  auto s = c.w.store->scan_audit_filtered(f, [&](const store::AuditEntryRow& row) {
    last.push_back(row);
    if (last.size() > 100) last.pop_front();
    return true;
  });
  if (!s) return failure(c, s.error());
  view.entries.assign(last.rbegin(), last.rend());

  std::optional<audit::BlastRadius> blast;
  if (!view.actor.empty()) {
    audit::BlastQuery bq;
    bq.actor = view.actor;
    auto b = audit::blast_radius(*c.w.store, bq);
    if (!b) return failure(c, b.error());
    blast = std::move(*b);
    view.blast = &*blast;
    view.blast_summary = audit::summary(*blast);
  }
  // Reading the log is itself recorded.
  auto rec = c.w.store->transact([&](store::KeeperTx& tx) -> Result<void> {
    nlohmann::json d = {{"filter_actor", view.actor}, {"filter_action", view.action}, {"shown", view.entries.size()}};
    auto e = audit::record(tx, c.impl.keys,
                           audit::Event{c.who->actor, std::string(audit::action::audit_query), "", std::move(d), c.client});
    if (!e) return std::unexpected(e.error());
    return {};
  });
  if (!rec) return failure(c, rec.error());
  return html(bhttp::status::ok, audit_page(c.viewer(), view));
}

using auth::Action;
using bhttp::verb;

// The route table: the one place that says who may call what.
const RouteDef kRoutes[] = {
    {verb::get, "/login", Kind::page, Access::anyone, Action::list_masked, get_login},
    {verb::post, "/login", Kind::page, Access::anyone, Action::list_masked, post_login},
    {verb::post, "/login/code", Kind::page, Access::anyone, Action::list_masked, post_login_code},
    {verb::post, "/logout", Kind::page, Access::signed_in, Action::list_masked, post_logout},
    {verb::get, "/", Kind::page, Access::signed_in, Action::list_masked, get_root},
    {verb::get, "/supporters", Kind::page, Access::action, Action::list_masked, get_supporters},
    {verb::get, "/search", Kind::page, Access::action, Action::search, get_search},
    {verb::post, "/search", Kind::page, Access::action, Action::search, post_search},
    {verb::get, "/supporters/:id", Kind::page, Access::action, Action::list_masked, get_record},
    {verb::post, "/supporters/:id/reveal", Kind::page, Access::action, Action::reveal, post_reveal},
    {verb::post, "/supporters/:id/tags", Kind::page, Access::action, Action::tags, post_tags},
    {verb::get, "/tags", Kind::page, Access::action, Action::list_masked, get_tags},
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
    {verb::get, "/audit", Kind::page, Access::action, Action::read_audit, get_audit},
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
    {verb::get, "/api/v1/tags", Kind::api, Access::action, Action::list_masked, get_tags},
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
    if (p == ":verb" && path[i] != "disable" && path[i] != "role" && path[i] != "unlock" &&
        path[i] != "revoke-sessions" && path[i] != "reset-mfa" && path[i] != "budget") {
      return false;
    }
    params.emplace_back(path[i]);
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------

std::string Console::Impl::new_pending(const std::string& name, std::string_view password, const std::string& client) {
  const auto now = now_seconds();
  std::lock_guard lock(pending_mu);
  std::erase_if(pending, [&](const auto& kv) { return kv.second.expires <= now; });
  // A few sign-ins in flight per address: past that, this address's oldest
  // gives way, so one address can neither fill the table nor touch another
  // address's sign-ins.
  const auto oldest_of = [&](const auto& keep) {
    auto found = pending.end();
    for (auto it = pending.begin(); it != pending.end(); ++it) {
      if (keep(it->second) && (found == pending.end() || it->second.arrival < found->second.arrival)) found = it;
    }
    return found;
  };
  std::size_t mine = 0;
  for (const auto& [id, p] : pending) mine += p.client == client ? 1 : 0;
  if (mine >= kMaxPendingPerClient) pending.erase(oldest_of([&](const Pending& p) { return p.client == client; }));
  // Full (many addresses at once): the oldest pending sign-in gives way, so
  // nobody can block every sign-in by filling the table.
  if (pending.size() >= kMaxPending) pending.erase(oldest_of([](const Pending&) { return true; }));
  auto secret = crypto::SecretBytes::copy_of(
      {reinterpret_cast<const std::uint8_t*>(password.data()), password.size()});
  if (!secret) return {};
  Pending p;
  p.name = name;
  p.password = std::move(*secret);
  p.client = client;
  p.expires = now + kPendingSeconds;
  p.arrival = ++pending_arrivals;
  auto id = random_token(32);
  pending.emplace(id, std::move(p));
  return id;
}

std::optional<Pending> Console::Impl::take_pending(const std::string& id, const std::string& client) {
  std::lock_guard lock(pending_mu);
  const auto it = pending.find(id);
  if (it == pending.end()) return std::nullopt;
  Pending p = std::move(it->second);
  pending.erase(it);  // single use, whatever happens next
  if (p.expires <= now_seconds() || p.client != client) return std::nullopt;
  return p;
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

Response Console::Impl::dispatch(Worker& w, const Request& req, const std::string& client) {
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
    if (path_known) return problem(c, {bhttp::status::method_not_allowed, "method_not_allowed", "Method not allowed",
                                       "This address does not accept this method."});
    return problem(c, problem_of(Errc::not_found));
  }
  matches(route->pattern, *segs, params);
  c.params = std::move(params);

  // 1. Who is asking. Programs: a bearer API token, on /api/ only. People: the
  // session cookie.
  const auto authz = req[bhttp::field::authorization];
  if (api && authz.starts_with("Bearer ")) {
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
      p.session_token = *token;
      p.session = **s;
      p.budget_role = std::string(auth::role_name((*s)->role));
      c.who = std::move(p);
    }
  }

  // 2. The one permission check.
  if (route->access != Access::anyone) {
    if (!c.who) {
      if (route->kind == Kind::api) return json_answer(bhttp::status::unauthorized, {{"error", "unauthenticated"}});
      return redirect("/login");
    }
    if (route->access == Access::action && !allowed(*c.who, route->action)) {
      return problem(c, problem_of(Errc::permission));
    }
  }

  // 3. Bodies and CSRF for state changes.
  if (req.method() == verb::post) {
    if (route->kind == Kind::page) {
      if (content_type(req) != "application/x-www-form-urlencoded") {
        return problem(c, {bhttp::status::unsupported_media_type, "unsupported_media_type", "Unsupported content type",
                           "This address takes form posts only."});
      }
      auto pairs = core::parse_urlencoded(req.body(), kMaxFormPairs);
      if (!pairs) return problem(c, problem_of(Errc::invalid_input));
      c.form.pairs = std::move(*pairs);
    } else {
      if (content_type(req) != "application/json") {
        return problem(c, {bhttp::status::unsupported_media_type, "unsupported_media_type", "Unsupported content type",
                           "This address takes JSON only."});
      }
      c.body = nlohmann::json::parse(req.body(), nullptr, false);
      if (c.body.is_discarded() || !c.body.is_object()) return problem(c, problem_of(Errc::invalid_input));
    }
    if (c.who && !c.who->via_token) {
      const std::string csrf = route->kind == Kind::page ? c.form.get("csrf").value_or("")
                                                         : std::string(req["X-CSRF-Token"]);
      if (!auth::check_csrf(c.who->session_token, csrf)) {
        return problem(c, {bhttp::status::forbidden, "csrf", "Form expired",
                           "This form is out of date. Go back, reload the page and try again."});
      }
    }
  }
  return route->fn(c);
}

void Console::Impl::handle(Request&& req, const http::RequestContext& ctx, http::Responder respond) {
  const std::string_view path = req.target().substr(0, req.target().find('?'));
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
    res.body() = "This host name is not served here.\n";
    spdlog::info("console: refused a request for another host name");
    return respond(finish(std::move(res)));
  }
  if (req.method() == verb::post) {
    // Cross-site posts never reach a route, login included (login CSRF).
    const auto site = req["Sec-Fetch-Site"];
    const auto origin = req[bhttp::field::origin];
    const std::string own = std::string(opt.tls ? "https://" : "http://") + host;
    if ((!site.empty() && site != "same-origin" && site != "none") || (!origin.empty() && origin != own)) {
      auto res = base(bhttp::status::forbidden);
      res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
      res.body() = "Cross-site requests are refused.\n";
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
    auto res = finish(dispatch(w, *shared_req, client));
    spdlog::info("console: {} {}", static_cast<unsigned>(res.result_int()),
                 shared_req->target().starts_with("/api/") ? "api" : "page");
    (*shared_respond)(std::move(res));
  });
  if (!queued) {
    auto res = base(bhttp::status::service_unavailable);
    res.set(bhttp::field::retry_after, "1");
    res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
    res.body() = "Busy. Try again in a moment.\n";
    (*shared_respond)(finish(std::move(res)));
  }
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
