// Building the console's answers, and the one place where an error becomes
// HTTP: statuses, fixed titles and texts (never what was typed), the guard's
// lock (alert, cookie cleared) and the warning alerts for changes people must
// hear about.
#include <sodium.h>
#include <spdlog/spdlog.h>

#include "console/console_internal.hpp"
#include "guard/alerts.hpp"
#include "guard/budget.hpp"

namespace rempart::console::detail {

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
  res.body() = std::string(i18n::tr("See other.")) + "\n";
  return res;
}

Problem problem_of(Errc e) {
  using S = bhttp::status;
  switch (e) {
    case Errc::invalid_input: return {S::bad_request, "invalid_input", N_("Check the form"), N_("Something you entered is not valid.")};
    case Errc::not_found: return {S::not_found, "not_found", N_("Not found"), N_("There is nothing here.")};
    case Errc::conflict: return {S::conflict, "conflict", N_("Already exists"), N_("This already exists.")};
    case Errc::permission: return {S::forbidden, "forbidden", N_("Not allowed"), N_("Your account may not do this.")};
    case Errc::busy: return {S::service_unavailable, "busy", N_("Busy"), N_("The server is busy. Try again in a moment.")};
    default: return {S::internal_server_error, "internal", N_("Something went wrong"), N_("Something went wrong on our side.")};
  }
}

Response problem(const Call& c, const Problem& p) {
  if (c.route.kind == Kind::api) return json_answer(p.status, {{"error", p.code}});
  const auto v = c.viewer();
  // The title and text are English messages marked with N_() where they are
  // chosen; here they take the request's language.
  return html(p.status, message_page(c.who && !c.who->via_token ? &v : nullptr, i18n::tr(p.title),
                                     i18n::tr(p.message)));
}

Response locked(const Call& c, const Error& e) {
  spdlog::warn("console: guard locked {} ({})", c.who ? c.who->actor : std::string("-"), e.internal);
  // A request in flight when its account was locked: that lock raised its
  // alert already.
  const bool already = e.internal.starts_with(guard::kReasonAlreadyLocked);
  if (c.impl.opt.alerter && !already) {
    // The directory's reason, then ":<record id>" for a honeytoken.
    const auto colon = e.internal.find(':');
    guard::Alert a;
    a.severity = guard::Severity::critical;
    a.kind = e.internal.substr(0, colon);  // "reveal_budget" | "list_budget" | "search_misses" | "honeytoken"
    a.actor = c.who ? c.who->actor : std::string();
    a.session = c.who ? session_label(c.who->session_token.text()) : std::string();
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
                            message_page(nullptr, i18n::tr("Account locked"),
                                         i18n::tr("This account has been locked and its sessions ended. An "
                                                  "administrator has been alerted and can unlock it.")));
  res.set(bhttp::field::set_cookie, c.impl.cookie_name() + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
                                        (c.impl.opt.tls ? "; Secure" : ""));
  return res;
}

void notify(const Call& c, std::string_view kind, std::string_view reason, nlohmann::json details) {
  if (!c.impl.opt.alerter) return;
  guard::Alert a;
  a.severity = guard::Severity::warning;
  a.kind = std::string(kind);
  a.actor = c.who ? c.who->actor : std::string();
  a.session = c.who ? session_label(c.who->session_token.text()) : std::string();
  a.client = c.client;
  a.reason = std::string(reason);
  a.details = std::move(details);
  c.impl.opt.alerter->raise(std::move(a));
}

namespace {

// Fixed explanations for the refusals a person can act on. The services'
// internal messages are fixed texts too, but only these leave the server.
struct Explained {
  std::string_view internal;
  bhttp::status status;
  const char* title;
  const char* message;
};
constexpr Explained kExplained[] = {
    {"mailing: a second person approves a mailing this large", bhttp::status::forbidden, N_("Not yours to approve"),
     N_("You wrote this mailing: someone else approves it.")},
    {"mailing: it needs a second person's approval first", bhttp::status::forbidden, N_("Approval needed"),
     N_("This mailing goes to more people than one person may send to alone: someone else approves it first.")},
    {"mailing: not in a state that allows this", bhttp::status::conflict, N_("Not now"),
     N_("The mailing has moved on since the page was shown. Reload it to see where it stands.")},
    {"mailing: only a draft can change", bhttp::status::conflict, N_("No longer a draft"),
     N_("This mailing is approved or being sent: it can no longer change. Cancel it and write another.")},
    {"mailing: its recipients are drawn already", bhttp::status::conflict, N_("Already drawn"),
     N_("Its recipients are drawn already. Reload the page.")},
    {"mailing: only a mailing whose recipients are drawn can be approved", bhttp::status::conflict, N_("Not ready"),
     N_("Its recipients must be drawn before it is approved. Reload the page.")},
    {"mailing: only an approved mailing can start", bhttp::status::conflict, N_("Not ready"),
     N_("The mailing cannot start from where it stands. Reload the page.")},
    {"mailing: no test address on this account", bhttp::status::conflict, N_("No test address"),
     N_("Set your test address on your account page first: the test goes there.")},
    {"mailing: 10 test sends within the hour already", bhttp::status::too_many_requests, N_("Enough tests for now"),
     N_("You sent 10 tests within the hour. Wait a while before the next.")},
    {"mailing: the test address is not an e-mail address", bhttp::status::bad_request, N_("Not an address"),
     N_("That is not an e-mail address. Nothing was changed.")},
    {"mailing: no mail relay to send a test", bhttp::status::conflict, N_("No mail relay"),
     N_("This keeper has no mail relay configured ([mail]): it cannot send a test.")},
    {services::kTooManyTags, bhttp::status::conflict, N_("Too many tags"),
     N_("This record holds 200 tags, the most a record may. Remove some before adding others. Nothing was "
        "changed.")},
    {"step-up: the code is not right", bhttp::status::forbidden, N_("Code not accepted"),
     N_("That code is not right. Enter the code your authenticator app shows now.")},
    {"approval: nobody approves their own request", bhttp::status::forbidden, N_("Not yours to approve"),
     N_("You asked for this: another admin must approve it.")},
    {"export approve: the requester cannot approve", bhttp::status::forbidden, N_("Not yours to approve"),
     N_("You asked for this: another admin must approve it.")},
    {"approval: the approver was not an admin long enough before the request", bhttp::status::forbidden,
     N_("Too recent to approve"),
     N_("Your account became an admin too recently to approve this: an approver must have been an admin for the "
        "cooling period before the request was made.")},
    {"approval: the requester made or promoted the approver, or the other way round", bhttp::status::forbidden,
     N_("Not independent"),
     N_("The requester created or promoted your account, or you theirs: an independent admin must approve.")},
    {"approval: only an active admin approves", bhttp::status::forbidden, N_("Not allowed"),
     N_("Only an active admin approves requests.")},
    {"approval: not for one's own account", bhttp::status::forbidden, N_("Not allowed"),
     N_("Another admin must approve changes to your own account.")},
    {"privilege request: not for one's own account", bhttp::status::forbidden, N_("Not allowed"),
     N_("Another admin must ask for changes to your own account.")},
    {"privilege request: the same request is pending", bhttp::status::conflict, N_("Already asked"),
     N_("The same request is already waiting for approval.")},
    {"privilege request: an account of that name exists", bhttp::status::conflict, N_("Name taken"),
     N_("An account of that name exists already.")},
    {"privilege request: the account is not locked", bhttp::status::conflict, N_("Not locked"),
     N_("That account is not locked.")},
    {"privilege request: the account has that role", bhttp::status::conflict, N_("Nothing to change"),
     N_("That account has that role already.")},
    {"approval: the request is no longer pending", bhttp::status::conflict, N_("Already decided"),
     N_("That request has already been approved, refused or withdrawn.")},
    {"approval: the request has expired", bhttp::status::conflict, N_("Expired"),
     N_("That request has expired; ask again.")},
    {"enable: the account is not disabled", bhttp::status::conflict, N_("Not disabled"),
     N_("That account is not disabled: there is nothing to enable.")},
};

}  // namespace

Response failure(const Call& c, const Error& e) {
  if (e.code == Errc::locked) return locked(c, e);
  if (e.code == Errc::retry_later) {
    return problem(c, {bhttp::status::conflict, "code_used", N_("Wait for the next code"),
                       N_("That code was already used (to sign in, or for an earlier step). Wait for your "
                          "authenticator app to show the next one, at most 30 seconds, and try again.")});
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

}  // namespace rempart::console::detail
