// The console's sign-in routes: the two steps (account name and password,
// then the code), sign-out, and "/" sending each role to its landing page
// (docs/console.md, "Sign-in").
#include <sodium.h>
#include <spdlog/spdlog.h>

#include "console/console_internal.hpp"

namespace rempart::console::detail {

using i18n::tr;

Response get_login(Call& c) {
  if (c.who) return redirect("/");
  const bool enrolled = query_param(c.req.target(), "enrolled").value_or("") == "1";
  return html(bhttp::status::ok, login_page(enrolled ? tr("Your account is ready. Sign in with it.") : ""));
}

Response post_login(Call& c) {
  const auto name = c.form.get("name");
  const auto password = c.form.secret("password");
  if (!name || !password || name->empty() || name->size() > 64 || password->empty() || password->size() > 1024) {
    return html(bhttp::status::bad_request, login_page(tr("Enter your account name and password.")));
  }
  // Nothing is checked yet: the second step checks both factors at once, so
  // this step tells nobody whether the name or the password is right.
  const auto id = c.impl.pending.add(*name, password->text(), c.client);
  if (id.empty()) {
    auto res = html(bhttp::status::too_many_requests,
                    login_page(tr("Too many sign-ins from your address. Wait a minute and try again.")));
    res.set(bhttp::field::retry_after, "60");
    return res;
  }
  return html(bhttp::status::ok, code_page(id, ""));
}

Response post_login_code(Call& c) {
  const auto id = c.form.get("pending");
  const auto code = c.form.get("code");
  auto p = id ? c.impl.pending.take(*id, c.client) : std::nullopt;
  if (!p) return html(bhttp::status::bad_request, login_page(tr("The sign-in took too long. Start again.")));
  const std::string_view password(reinterpret_cast<const char*>(p->password.data()), p->password.size());
  auto out = c.w.accounts->authenticate(p->name, password, code ? *code : std::string(), c.client);
  if (!out || !out->session) {
    if (!out) spdlog::error("console: sign-in could not be checked ({})", errc_name(out.error().code));
    auto res = html(bhttp::status::unauthorized,
                    login_page(tr("Sign-in failed. Check the account name, password and code, then start again.")));
    const auto wait = out ? out->retry_after_seconds : 1;
    if (wait > 0) res.set(bhttp::field::retry_after, std::to_string(wait));
    return res;
  }
  auto res = redirect(landing_of(out->session->info.role));
  // The header value is the edge where the token becomes an ordinary
  // string: it lives until the response is written.
  std::string cookie_value = c.impl.cookie_name() + "=" + std::string(out->session->token.text()) +
                             "; Path=/; HttpOnly; SameSite=Strict" + (c.impl.opt.tls ? "; Secure" : "");
  res.set(bhttp::field::set_cookie, cookie_value);
  sodium_memzero(cookie_value.data(), cookie_value.size());
  return res;
}

Response post_logout(Call& c) {
  if (c.who && !c.who->via_token) {
    if (auto r = c.w.accounts->logout(c.who->session_token.text(), c.client); !r) return failure(c, r.error());
  }
  auto res = redirect("/login");
  res.set(bhttp::field::set_cookie, c.impl.cookie_name() + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
                                        (c.impl.opt.tls ? "; Secure" : ""));
  return res;
}

Response get_root(Call& c) { return redirect(landing_of(c.who->role)); }

}  // namespace rempart::console::detail
