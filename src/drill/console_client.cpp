#include "drill/console_client.hpp"

#include <regex>

#include "auth/totp.hpp"

namespace rempart::drill::detail {
namespace {

constexpr const char* kFormType = "application/x-www-form-urlencoded";
constexpr std::int64_t kStep = 30;

std::string code_at_step(const Account& a, std::int64_t step) { return auth::totp_code(a.totp_secret, step * kStep); }

}  // namespace

std::string next_code(Account& a) {
  const std::int64_t now = unix_now();
  const std::int64_t current = now / kStep;
  std::int64_t step = std::max(a.last_step + 1, current - 1);
  // The previous step is accepted until the current one ends: too close to
  // its end, the server's clock may have moved on by the time it checks.
  if (step == current - 1 && kStep - now % kStep < 8) step = current;
  a.last_step = step;
  return code_at_step(a, step);
}

std::string wrong_code(const Account& a) {
  const std::int64_t current = unix_now() / kStep;
  for (int guess = 0; guess < 1000; ++guess) {
    char b[8];
    std::snprintf(b, sizeof b, "%06d", guess * 7919 % 1000000);
    bool right = false;
    for (std::int64_t s = current - 2; s <= current + 2; ++s) right = right || code_at_step(a, s) == b;
    if (!right) return b;
  }
  return "000000";
}

Result<std::string> login_first_step(const Instance& in, const std::string& name, const std::string& password,
                                     const std::string& source) {
  HttpRequest r;
  r.method = "POST";
  r.target = "/login";
  r.content_type = kFormType;
  r.body = form_encode({{"name", name}, {"password", password}});
  r.source = source;
  r.timeout = std::chrono::seconds(30);
  auto a = http_call(in.console_port, r);
  if (!a) return std::unexpected(a.error());
  static const std::regex pending_re("name=\"pending\" value=\"([^\"]+)\"");
  std::smatch m;
  if (a->status != 200 || !std::regex_search(a->body, m, pending_re)) {
    return fail(Errc::internal, "the sign-in form answered " + std::to_string(a->status));
  }
  return m[1].str();
}

Result<Session> sign_in(const Instance& in, Account& a, const std::string& source) {
  auto pending = login_first_step(in, a.name, a.password, source);
  if (!pending) return std::unexpected(pending.error());
  HttpRequest r;
  r.method = "POST";
  r.target = "/login/code";
  r.content_type = kFormType;
  r.body = form_encode({{"pending", *pending}, {"code", next_code(a)}});
  r.source = source;
  r.timeout = std::chrono::seconds(30);
  auto ans = http_call(in.console_port, r);
  if (!ans) return std::unexpected(ans.error());
  const std::string cookie = ans->header("set-cookie").substr(0, ans->header("set-cookie").find(';'));
  if (ans->status != 303 || cookie.find('=') == std::string::npos) {
    return fail(Errc::internal, "sign-in of " + a.name + " answered " + std::to_string(ans->status));
  }
  Session s{cookie, "", "", source};
  auto me = api(in, s, "GET", "/api/v1/me");
  if (!me) return std::unexpected(me.error());
  const auto j = nlohmann::json::parse(me->body, nullptr, false);
  if (me->status != 200 || !j.is_object() || !j.contains("csrf_token")) {
    return fail(Errc::internal, "/api/v1/me answered " + std::to_string(me->status));
  }
  s.csrf = j.value("csrf_token", "");
  s.actor = j.value("actor", "");
  return s;
}

Result<HttpAnswer> api(const Instance& in, const Session& s, const std::string& method, const std::string& target,
                       const nlohmann::json& body) {
  HttpRequest r;
  r.method = method;
  r.target = target;
  r.source = s.source;
  r.headers = {{"Cookie", s.cookie}};
  if (!s.csrf.empty()) r.headers.emplace_back("X-CSRF-Token", s.csrf);
  if (!body.is_null()) {
    r.content_type = "application/json";
    r.body = body.dump();
  }
  r.timeout = std::chrono::seconds(60);
  return http_call(in.console_port, r);
}

Result<HttpAnswer> post_form(const Instance& in, const Session& s, const std::string& target,
                             std::vector<std::pair<std::string, std::string>> fields) {
  fields.emplace_back("csrf", s.csrf);
  HttpRequest r;
  r.method = "POST";
  r.target = target;
  r.source = s.source;
  r.headers = {{"Cookie", s.cookie}};
  r.content_type = kFormType;
  r.body = form_encode(fields);
  r.timeout = std::chrono::seconds(300);  // an approval builds the whole export
  return http_call(in.console_port, r);
}

Result<HttpAnswer> get_page(const Instance& in, const Session& s, const std::string& target) {
  HttpRequest r;
  r.target = target;
  r.source = s.source;
  r.headers = {{"Cookie", s.cookie}};
  r.timeout = std::chrono::seconds(60);
  return http_call(in.console_port, r);
}

}  // namespace rempart::drill::detail
