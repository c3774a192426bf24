// The console's routes about the people who use it (docs/accounts.md):
// accounts, privilege requests and their approval, self-enrolment, API
// tokens, and one's own sessions.

#include "console/console_internal.hpp"
#include "i18n/i18n.hpp"

namespace rempart::console::detail {

using i18n::tr;

namespace {

std::string notice_text(const Call& c) {
  const auto done = query_param(c.req.target(), "done").value_or("");
  if (done == "disabled") return tr("Account disabled; its sessions ended.");
  if (done == "enabled") return tr("Account enabled again. API tokens it made before stay revoked.");
  if (done == "sessions") return tr("Sessions ended.");
  if (done == "revoked") return tr("Token revoked.");
  return "";
}

// The console's own address, for links handed to people (enrolment).
std::string own_origin(const Call& c) {
  return std::string(c.impl.opt.tls ? "https://" : "http://") + std::string(c.req[bhttp::field::host]);
}

// Files a privilege request and shows its receipt once.
Response file_request(Call& c, const auth::PrivilegeAsk& ask) {
  auto r = c.w.accounts->request_privilege(c.who->session.account_id, ask, code_of(c), c.client);
  if (!r) {
    if (r.error().code == Errc::invalid_input) {
      return problem(c, {bhttp::status::bad_request, "invalid_input", tr("Check the form"),
                         tr("Something you entered is not valid: account names are a-z, 0-9, . _ - (up to 64), "
                            "reasons up to 200 characters, limits 1 to 1,000,000, hours 1 to 168.")});
    }
    return failure(c, r.error());
  }
  // Ids only: an account name, never a token's free-text label.
  nlohmann::json details = {{"request", r->id}, {"kind", std::string(auth::privilege_kind_name(ask.kind))}};
  if (ask.kind != auth::PrivilegeKind::reveal_token) details["account"] = ask.target;
  notify(c, "privilege_request", "a privilege change was requested", std::move(details));
  const bool enrols = ask.kind == auth::PrivilegeKind::create_account || ask.kind == auth::PrivilegeKind::reset_mfa;
  const std::string url = enrols ? own_origin(c) + "/enrol?code=" + std::string(r->secret.text()) : std::string();
  return html(bhttp::status::ok,
              request_filed_page(c.viewer(), ask, *r, url, c.w.accounts->options().enrolment_seconds / 3600));
}

}  // namespace

// ---- Accounts and privilege requests ---------------------------------------

Response get_accounts(Call& c) {
  auto list = c.w.accounts->list_accounts();
  if (!list) return failure(c, list.error());
  // The admins' landing page: what waits for them as the second person.
  Awaiting awaiting;
  const std::string& me = c.who->session.account_id;
  if (auth::permits(c.who->role, auth::Action::approve_export)) {
    auto exports = c.w.exports->list("");
    if (!exports) return failure(c, exports.error());
    for (auto& x : *exports) {
      if (x.status == "pending" && x.requester_id != me) awaiting.exports.push_back(std::move(x));
    }
  }
  if (auth::permits(c.who->role, auth::Action::approve_privilege)) {
    auto requests = c.w.accounts->privilege_requests();
    if (!requests) return failure(c, requests.error());
    for (auto& r : *requests) {
      if (r.status == "pending" && r.requester_id != me) awaiting.requests.push_back(std::move(r));
    }
  }
  return html(bhttp::status::ok, accounts_page(c.viewer(), *list, awaiting, notice_text(c)));
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
  } else if (verb == "enable") {
    r = c.w.accounts->enable_account(actor, name);
    done = "enabled";
  } else if (verb == "revoke-sessions") {
    auto n = c.w.accounts->revoke_sessions(actor, name);
    r = n ? Result<void>{} : Result<void>{std::unexpected(n.error())};
    done = "sessions";
  } else {
    return problem(c, problem_of(Errc::not_found));
  }
  if (!r) return failure(c, r.error());
  if (verb == "disable") notify(c, "account_disabled", "an account was disabled", {{"account", name}});
  if (verb == "enable") notify(c, "account_enabled", "a disabled account was enabled again", {{"account", name}});
  return redirect("/accounts?done=" + done);
}

// ---- The same on the JSON API (a session with its X-CSRF-Token; no API
// token manages accounts) ------------------------------------------------

namespace {

nlohmann::json account_json(const auth::AccountInfo& a) {
  nlohmann::json j = {{"name", a.name},
                      {"role", std::string(auth::role_name(a.role))},
                      {"state", a.disabled ? "disabled" : a.locked ? "locked" : a.enrolling ? "enrolling" : "active"},
                      {"disabled", a.disabled},
                      {"locked", a.locked},
                      {"recovery_codes_left", a.recovery_codes_left}};
  if (a.locked) {
    j["lock"] = {{"reason", a.lock_reason}, {"detail", a.lock_detail}, {"description", auth::lock_description(a)}};
    if (a.locked_at) j["lock"]["since"] = *a.locked_at;
  }
  return j;
}

Response account_state_api(Call& c, bool enable) {
  const auto& name = c.params.at(0);
  auto r = enable ? c.w.accounts->enable_account(c.who->actor, name)
                  : c.w.accounts->disable_account(c.who->actor, name);
  if (!r) {
    if (r.error().code == Errc::conflict) return json_answer(bhttp::status::conflict, {{"error", "not_disabled"}});
    return failure(c, r.error());
  }
  if (enable) {
    notify(c, "account_enabled", "a disabled account was enabled again", {{"account", name}});
  } else {
    notify(c, "account_disabled", "an account was disabled", {{"account", name}});
  }
  auto info = c.w.accounts->account(name);
  if (!info) return failure(c, info.error());
  return json_answer(bhttp::status::ok, account_json(*info));
}

}  // namespace

Response get_accounts_api(Call& c) {
  auto list = c.w.accounts->list_accounts();
  if (!list) return failure(c, list.error());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& a : *list) out.push_back(account_json(a));
  return json_answer(bhttp::status::ok, {{"accounts", std::move(out)}});
}

Response post_account_enable_api(Call& c) { return account_state_api(c, true); }
Response post_account_disable_api(Call& c) { return account_state_api(c, false); }

Response get_requests(Call& c) {
  auto all = c.w.accounts->privilege_requests();
  if (!all) return failure(c, all.error());
  const auto done = query_param(c.req.target(), "done").value_or("");
  const std::string notice = done == "approved"  ? tr("Approved: the change is in force.")
                             : done == "refused" ? tr("Refused.")
                                                 : "";
  return html(bhttp::status::ok, requests_page(c.viewer(), c.who->session.account_id, *all, notice));
}

Response post_request_approve(Call& c) {
  auto r = c.w.accounts->approve_privilege(c.who->session.account_id, number_param(c), code_of(c), c.client);
  if (!r) return failure(c, r.error());
  nlohmann::json details = {
      {"request", r->id}, {"kind", std::string(auth::privilege_kind_name(r->kind))}, {"requester", r->requester}};
  if (r->kind != auth::PrivilegeKind::reveal_token) details["account"] = r->target;
  notify(c, "privilege_approved", "a privilege change was approved and is in force", std::move(details));
  return redirect("/requests?done=approved");
}

Response post_request_refuse(Call& c) {
  auto r = c.w.accounts->refuse_privilege(c.who->session.account_id, number_param(c), c.client);
  if (!r) return failure(c, r.error());
  return redirect("/requests?done=refused");
}

// ---- Self-enrolment (signed out; the code is the credential) ---------------

namespace {

constexpr const char* kEnrolGone =
    N_("This enrolment link is not valid: it was used already, has expired, or its request was not approved yet. "
       "Ask an administrator for a new one.");

Response link_not_valid() {
  return html(bhttp::status::not_found, message_page(nullptr, tr("Link not valid"), tr(kEnrolGone)));
}

}  // namespace

Response get_enrol(Call& c) {
  const auto code = query_param(c.req.target(), "code").value_or("");
  auto invite = c.w.accounts->enrolment_for(code);
  if (!invite) return failure(c, invite.error());
  if (!*invite) return link_not_valid();
  return html(bhttp::status::ok, enrol_page(code, **invite, ""));
}

Response post_enrol(Call& c) {
  const auto code = c.form.get("code").value_or("");
  const auto password = c.form.secret("password");
  const auto password2 = c.form.secret("password2");
  auto invite = c.w.accounts->enrolment_for(code);
  if (!invite) return failure(c, invite.error());
  if (!*invite) return link_not_valid();
  const std::string_view typed = password ? password->text() : std::string_view();
  if (typed != (password2 ? password2->text() : std::string_view())) {
    return html(bhttp::status::bad_request, enrol_page(code, **invite, tr("The two passwords differ. Type them again.")));
  }
  auto e = c.w.accounts->enrol_self(code, typed, c.client);
  if (!e) {
    if (e.error().code == Errc::invalid_input) {
      return html(bhttp::status::bad_request,
                  enrol_page(code, **invite,
                             tr("Choose another password: at least 12 characters, not a common one, and not "
                                "your account name.")));
    }
    if (e.error().code == Errc::not_found) {
      return link_not_valid();
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
      return link_not_valid();
    }
    return failure(c, ok.error());
  }
  if (!*ok) {
    return html(bhttp::status::bad_request,
                enrol_confirm_page(code, tr("That code did not match. Check that your phone's clock is right and "
                                            "enter the code your app shows now.")));
  }
  notify(c, "account_enrolled", "an account finished its enrolment", nlohmann::json::object());
  return redirect("/login?enrolled=1");
}

// ---- Tokens and sessions ---------------------------------------------------

Response get_tokens(Call& c) {
  auto list = c.w.accounts->list_api_tokens();
  if (!list) return failure(c, list.error());
  return html(bhttp::status::ok, tokens_page(c.viewer(), *list, notice_text(c)));
}

Response post_token_create(Call& c) {
  const auto scope = auth::parse_scope(c.form.get("scope").value_or(""));
  const auto days = form_int(c, "days");
  if (!scope || !days) return problem(c, problem_of(Errc::invalid_input));
  if (*scope == auth::Scope::reveal) {
    // A token that reveals is a privilege: another admin approves it.
    auth::PrivilegeAsk ask;
    ask.kind = auth::PrivilegeKind::reveal_token;
    ask.target = c.form.get("label").value_or("");
    ask.days = *days;
    return file_request(c, ask);
  }
  if (auto r = c.w.accounts->require_step_up(c.who->session.account_id, code_of(c)); !r) return failure(c, r.error());
  auto t = c.w.accounts->create_api_token(c.who->actor, c.form.get("label").value_or(""), *scope, *days);
  if (!t) return failure(c, t.error());
  notify(c, "token_created", "an API token was created",
         {{"token_id", t->info.id}, {"scope", std::string(auth::scope_name(t->info.scope))}, {"prefix", t->info.prefix}});
  return html(bhttp::status::ok, token_created_page(c.viewer(), *t));
}

Response post_token_revoke(Call& c) {
  if (auto r = c.w.accounts->revoke_api_token(c.who->actor, number_param(c)); !r) return failure(c, r.error());
  return redirect("/tokens?done=revoked");
}

Response get_sessions(Call& c) {
  if (c.who->via_token) return problem(c, problem_of(Errc::not_found));
  auto all = c.w.accounts->sessions(c.who->session_token.text());
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

}  // namespace rempart::console::detail
