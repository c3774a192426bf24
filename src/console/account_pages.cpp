// The console's pages about people who use it: accounts, privilege
// requests, API tokens and self-enrolment (docs/accounts.md).
#include <string>

#include "console/page_parts.hpp"
#include "guard/budget.hpp"
#include "i18n/i18n.hpp"

namespace rempart::console {

using i18n::tr;
using i18n::trf;
using i18n::trnf;

namespace {

std::string state_text(const auth::AccountInfo& a) {
  if (a.disabled) return a.locked ? tr("disabled, and locked") : tr("disabled");
  if (a.locked) return tr("locked");
  if (a.enrolling) return tr("waiting for its owner to enrol");
  return tr("active");
}

// Why the account is locked and since when, as a line of its card.
std::string lock_html(const auth::AccountInfo& a) {
  if (!a.locked) return {};
  const std::string why = esc(auth::lock_description(a));
  return "<p class=\"lock\"><strong>" + std::string(tr("Locked:")) + "</strong> " +
         (a.locked_at ? trf("{}, since {}", why, when(*a.locked_at)) : why) + ".</p>";
}

std::string fields_text(const services::ExportRequest& r) {
  std::string f;
  for (std::size_t i = 0; i < r.fields.size(); ++i) f += (i ? ", " : "") + std::string(services::field_kind_name(r.fields[i]));
  return f;
}

// Others' requests that wait for the viewer as the second person.
std::string awaiting_html(const Viewer& v, const Awaiting& w) {
  const bool approves_exports = auth::permits(v.role, auth::Action::approve_export);
  const bool approves_privileges = auth::permits(v.role, auth::Action::approve_privilege);
  if (!approves_exports && !approves_privileges) return {};
  std::string b = "<section aria-labelledby=\"awaiting\"><h2 id=\"awaiting\">" +
                  std::string(tr("Waiting for your approval")) + "</h2>";
  if (w.exports.empty() && w.requests.empty()) {
    return b + "<p>" + tr("Nothing waits for you.") + "</p></section>";
  }
  b += "<ul class=\"cards\">";
  for (const auto& x : w.exports) {
    const std::string id = std::to_string(x.id);
    const std::string whom = x.tag.empty() ? std::string(tr("all supporters")) : trf("supporters tagged {}", esc(x.tag));
    b += "<li><h3 class=\"card-title\">" + trf("Export #{}", id) + "</h3><p>" +
         trf("Asked by {} {}: {}; {}. Reason: {}", esc(x.requester), when(x.created_at), whom, esc(fields_text(x)),
             esc(x.reason)) +
         "</p><div class=\"actions\">" +
         button_form(v, "/exports/" + id + "/approve", trf("Approve export #{}", id), code_input("aw-x" + id)) +
         "</div></li>";
  }
  for (const auto& r : w.requests) {
    b += "<li><h3 class=\"card-title\">" + trf("Request #{}: {} for {}", r.id, privilege_kind_text(r.kind), esc(r.target)) +
         "</h3><p>" + trf("Asked by {} {}.", esc(r.requester), when(r.created_at)) + " <a href=\"/requests\">" +
         tr("Decide on the Requests page") + "</a></p></li>";
  }
  return b + "</ul><p><a href=\"/exports\">" + tr("All exports") + "</a></p></section>";
}

std::string role_select(std::string_view id, auth::Role selected) {
  std::string s = "<label for=\"" + esc(id) + "\">" + std::string(tr("Role")) + "</label><select id=\"" + esc(id) + "\" name=\"role\">";
  for (const auto r : auth::kAllRoles) {
    s += "<option" + std::string(r == selected ? " selected" : "") + ">" + std::string(auth::role_name(r)) +
         "</option>";
  }
  return s + "</select>";
}

// A request's status in words (pending, approved, refused, expired); another
// status as stored.
std::string request_status_text(const std::string& status) {
  if (status == "pending") return tr("pending");
  if (status == "approved") return tr("approved");
  if (status == "refused") return tr("refused");
  if (status == "expired") return tr("expired");
  return status;
}

// The state of a request, with who decided it.
std::string decision_html(const auth::PrivilegeRequestInfo& r) {
  if (r.decided_by.empty()) return esc(request_status_text(r.status));
  const std::string who = esc(r.decided_by);
  if (r.status == "approved") return trf("approved by {}", who);
  if (r.status == "refused") return trf("refused by {}", who);
  return trf("{} by {}", esc(request_status_text(r.status)), who);
}

std::string params_text(const auth::PrivilegeRequestInfo& r) {
  const auto& p = r.params;
  std::string out;
  const auto add = [&](std::string_view label, const std::string& value) {
    if (value.empty()) return;
    out += (out.empty() ? "" : "; ") + std::string(label) + " " + value;
  };
  const auto text = [&](const char* k) { return p.contains(k) && p[k].is_string() ? p[k].get<std::string>() : std::string(); };
  const auto num = [&](const char* k) {
    return p.contains(k) && p[k].is_number_integer() ? std::to_string(p[k].get<std::int64_t>()) : std::string();
  };
  add(tr("role"), text("role"));
  add(tr("valid for (days)"), num("days"));
  if (!text("counted").empty()) {
    add(tr("budget"), text("counted"));
    add(tr("per minute"), num("per_minute"));
    add(tr("per hour"), num("per_hour"));
    add(tr("per day"), num("per_day"));
    add(tr("for (hours)"), num("hours"));
  }
  add(tr("reason"), text("reason"));
  return out;
}

}  // namespace

std::string_view privilege_kind_text(auth::PrivilegeKind k) {
  switch (k) {
    case auth::PrivilegeKind::create_account: return tr("new account");
    case auth::PrivilegeKind::set_role: return tr("role change");
    case auth::PrivilegeKind::unlock: return tr("unlock");
    case auth::PrivilegeKind::reset_mfa: return tr("authenticator reset");
    case auth::PrivilegeKind::reveal_token: return tr("API token that reveals");
    case auth::PrivilegeKind::raise_budget: return tr("raised budget");
  }
  return "";
}

std::string accounts_page(const Viewer& v, const std::vector<auth::AccountInfo>& accounts, const Awaiting& awaiting,
                          std::string_view notice) {
  std::string b = notice_html(notice);
  b += awaiting_html(v, awaiting);
  b += "<h2>" + std::string(tr("Every account")) + "</h2>";
  b += "<p>" +
       trf("Creating an account, changing a role, unlocking, resetting an authenticator and raising a budget are "
           "requests: another admin approves them on the {} page with their own authenticator code. Disabling an "
           "account, enabling it again and ending its sessions take effect at once.",
           "<a href=\"/requests\">" + std::string(tr("Requests")) + "</a>") +
       "</p>";
  // One card per account: readable on a phone, where a wide table of forms
  // would hide the account's name behind a horizontal scroll.
  b += "<ul class=\"cards\">";
  for (const auto& a : accounts) {
    const std::string base = "/accounts/" + a.name;
    const std::string n = esc(a.name);
    b += "<li><h2 class=\"card-title\">" + (a.name == v.name ? trf("{} (you)", n) : n) + "</h2><p>" +
         esc(auth::role_name(a.role)) + " · " + esc(state_text(a)) + " · " +
         trnf("{} recovery code left", "{} recovery codes left", a.recovery_codes_left,
              i18n::number(a.recovery_codes_left)) +
         "</p>" + lock_html(a) + "<div class=\"actions\">";
    if (a.name != v.name && !a.disabled) b += button_form(v, base + "/disable", trf("Disable {}", a.name));
    if (a.name != v.name && a.disabled) b += button_form(v, base + "/enable", trf("Enable {}", a.name));
    b += button_form(v, base + "/revoke-sessions", tr("End sessions"));
    b += "</div>";
    if (a.name != v.name) {
      b += "<details><summary>" + trf("Request a change for {}", n) + "</summary>";
      b += "<form method=\"post\" action=\"" + esc(base) + "/role\" class=\"stack\">" + csrf_field(v) +
           role_select("role-" + a.name, a.role) + code_input("role-" + a.name) +
           "<button type=\"submit\">" + tr("Request role change") + "</button></form>";
      if (a.locked) {
        b += "<form method=\"post\" action=\"" + esc(base) + "/unlock\" class=\"stack\">" + csrf_field(v) +
             "<label for=\"why-" + n + "\">" + tr("Reason to unlock (no personal data)") + "</label><input id=\"why-" + n +
             "\" name=\"reason\" required maxlength=\"200\">" + code_input("unlock-" + a.name) +
             "<button type=\"submit\">" + tr("Request unlock") + "</button></form>";
      }
      b += "<form method=\"post\" action=\"" + esc(base) + "/reset-mfa\" class=\"stack\">" + csrf_field(v) +
           code_input("mfa-" + a.name) + "<button type=\"submit\">" + tr("Request authenticator reset") +
           "</button></form>";
      std::string budget = "<label for=\"bk-" + n + "\">" + std::string(tr("Budget to raise")) +
                           "</label><select id=\"bk-" + n + "\" name=\"counted\">";
      for (const auto c : guard::kAllCounted) budget += "<option>" + std::string(guard::counted_name(c)) + "</option>";
      budget += "</select><label for=\"bh-" + n + "\">" + tr("Per hour") + "</label><input id=\"bh-" + n +
                "\" name=\"per_hour\" type=\"number\" min=\"1\" max=\"1000000\" required><label for=\"bd-" + n +
                "\">" + tr("Per day") + "</label><input id=\"bd-" + n +
                "\" name=\"per_day\" type=\"number\" min=\"1\" max=\"1000000\" required><label for=\"bt-" + n +
                "\">" + tr("For (hours)") + "</label><input id=\"bt-" + n +
                "\" name=\"hours\" type=\"number\" min=\"1\" max=\"168\" value=\"8\" required>";
      b += "<form method=\"post\" action=\"" + esc(base) + "/budget\" class=\"stack\">" + csrf_field(v) + budget +
           code_input("budget-" + a.name) + "<button type=\"submit\">" + tr("Request a raised budget") +
           "</button></form>";
      b += "</details>";
    }
    b += "</li>";
  }
  b += "</ul>";
  b += "<h2>" + std::string(tr("Invite someone")) + "</h2><p>" +
       tr("The new account's owner sets their own password and authenticator with a single-use link that you hand "
          "to them once another admin has approved.") +
       "</p><form method=\"post\" action=\"/accounts\" class=\"stack\">" + csrf_field(v) +
       "<label for=\"new-name\">" + tr("Account name (a-z, 0-9, . _ -)") +
       "</label><input id=\"new-name\" name=\"name\" required "
       "maxlength=\"64\" autocomplete=\"off\" autocapitalize=\"none\">" +
       role_select("new-role", auth::Role::viewer) + code_input("new") + "<button type=\"submit\">" +
       tr("Request the account") + "</button></form>";
  return document(&v, tr("Accounts"), b);
}

std::string request_filed_page(const Viewer& v, const auth::PrivilegeAsk& ask, const auth::PrivilegeReceipt& r,
                               std::string_view enrol_url, std::int64_t enrol_hours) {
  std::string b = "<p class=\"notice\" role=\"status\">" +
                  trf("Request #{} ({} for {}) is waiting for another admin, who approves it with their own "
                      "authenticator code.",
                      r.id, privilege_kind_text(ask.kind), esc(ask.target)) +
                  "</p>";
  if (!enrol_url.empty()) {
    b += "<h2>" + trf("Enrolment link for {}", esc(ask.target)) + "</h2><p>" +
         trnf("Hand this link to {1} yourself (in person, or over a channel you trust). It works once the request is "
              "approved, once, for {0} hour. With it they choose their own password and set up their own "
              "authenticator: nobody else ever sees either. It is shown only now.",
              "Hand this link to {1} yourself (in person, or over a channel you trust). It works once the request is "
              "approved, once, for {0} hours. With it they choose their own password and set up their own "
              "authenticator: nobody else ever sees either. It is shown only now.",
              enrol_hours, i18n::number(enrol_hours), esc(ask.target)) +
         "</p><p><code class=\"secret\">" + esc(enrol_url) + "</code></p>";
  } else if (!r.secret.empty()) {
    b += "<h2>" + std::string(tr("The token")) + "</h2><p>" +
         tr("Copy it now: it is shown once, stored only as a hash, and works once the request is approved. Its "
            "reveals are counted against your own budgets.") +
         "</p><p><code class=\"secret\">" + esc(r.secret.text()) + "</code></p>";
  }
  b += "<p><a href=\"/requests\">" + std::string(tr("See the requests")) + "</a></p>";
  return document(&v, tr("Request filed"), b);
}

std::string requests_page(const Viewer& v, const std::string& viewer_id,
                          const std::vector<auth::PrivilegeRequestInfo>& all, std::string_view notice) {
  const bool can_approve = auth::permits(v.role, auth::Action::approve_privilege);
  std::string b = notice_html(notice);
  b += "<p>" +
       std::string(tr("Each request needs a second admin: not the one who asked, one who has been an admin for the "
                      "cooling period, and not one the requester created or promoted. Approving asks for a new "
                      "authenticator code.")) +
       "</p>";
  b += "<table><thead><tr><th scope=\"col\">#</th><th scope=\"col\">" + std::string(tr("What")) +
       "</th><th scope=\"col\">" + tr("For") + "</th><th scope=\"col\">" + tr("Details") +
       "</th><th scope=\"col\">" + tr("Asked by") + "</th><th scope=\"col\">" + tr("Asked") +
       "</th><th scope=\"col\">" + tr("State") + "</th><th scope=\"col\">" + tr("Actions") +
       "</th></tr></thead><tbody>";
  for (const auto& r : all) {
    const std::string id = std::to_string(r.id);
    const bool mine = r.requester_id == viewer_id;
    b += "<tr><td>" + id + "</td><td>" + std::string(privilege_kind_text(r.kind)) + "</td><td>" + esc(r.target) +
         "</td><td>" + esc(params_text(r)) + "</td><td>" + esc(r.requester) + "</td><td>" + when(r.created_at) +
         "</td><td>" +
         decision_html(r) +
         "</td><td class=\"actions\">";
    if (r.status == "pending") {
      if (!mine && can_approve) {
        b += button_form(v, "/requests/" + id + "/approve", tr("Approve"), code_input("r" + id));
      }
      b += button_form(v, "/requests/" + id + "/refuse", mine ? tr("Withdraw") : tr("Refuse"));
    }
    b += "</td></tr>";
  }
  b += "</tbody></table>";
  return document(&v, tr("Requests"), b);
}

std::string tokens_page(const Viewer& v, const std::vector<auth::ApiTokenInfo>& tokens, std::string_view notice) {
  std::string b = notice_html(notice);
  b += "<table><thead><tr><th scope=\"col\">" + std::string(tr("Id")) + "</th><th scope=\"col\">" + tr("Label") +
       "</th><th scope=\"col\">" + tr("Scope") + "</th><th scope=\"col\">" + tr("Prefix") +
       "</th><th scope=\"col\">" + tr("Expires") + "</th><th scope=\"col\">" + tr("State") +
       "</th><th scope=\"col\">" + tr("Actions") + "</th></tr></thead><tbody>";
  for (const auto& t : tokens) {
    b += "<tr><td>" + std::to_string(t.id) + "</td><td>" + esc(t.label) + "</td><td>" + esc(auth::scope_name(t.scope)) +
         "</td><td><code>" + esc(t.prefix) + "</code></td><td>" + when(t.expires_at) + "</td><td>" +
         (t.revoked_at ? trf("revoked {}", when(*t.revoked_at)) : std::string(tr("active"))) + "</td><td>";
    if (!t.revoked_at) b += button_form(v, "/tokens/" + std::to_string(t.id) + "/revoke", tr("Revoke"));
    b += "</td></tr>";
  }
  b += "</tbody></table>";
  b += "<h2>" + std::string(tr("New token")) + "</h2><p>" +
       tr("A token acts for you: what it reads is counted against your own budgets, and it stops working when "
          "your account is disabled or locked. A token that reveals needs another admin's approval.") +
       "</p><form method=\"post\" action=\"/tokens\" class=\"stack\">" + csrf_field(v) +
       "<label for=\"label\">" + tr("Label") +
       "</label><input id=\"label\" name=\"label\" required maxlength=\"100\"><label for=\"scope\">" +
       tr("Scope") + "</label><select id=\"scope\" name=\"scope\"><option value=\"intake\">" +
       tr("intake (sign-ups only, reads nothing)") + "</option><option value=\"read-masked\">read-masked</option>"
       "<option value=\"reveal\">" + tr("reveal (needs approval)") + "</option><option value=\"metrics\">" +
       tr("metrics (reads /metrics only: counts, nothing personal)") + "</option></select><label for=\"days\">" +
       tr("Valid for (days)") + "</label><input id=\"days\" name=\"days\" type=\"number\" min=\"1\" "
       "max=\"3650\" value=\"90\" required>" +
       code_input("token") + "<button type=\"submit\">" + tr("Create") + "</button></form>";
  return document(&v, tr("API tokens"), b);
}

std::string token_created_page(const Viewer& v, const auth::NewApiToken& t) {
  std::string b = "<p>" + std::string(tr("Copy this token now: it is shown once and stored only as a hash.")) +
                  "</p><p><code class=\"secret\">" + esc(t.token.text()) + "</code></p><p>" +
                  trf("Scope {}, expires {}.", esc(auth::scope_name(t.info.scope)), when(t.info.expires_at)) +
                  "</p><p><a href=\"/tokens\">" + tr("Back to tokens") + "</a></p>";
  return document(&v, tr("Token created"), b);
}

std::string enrol_page(std::string_view code, const auth::EnrolmentInvite& invite, std::string_view message) {
  std::string b = notice_html(message);
  b += "<p>" +
       trf("You are setting up the account {} ({}). Choose a password only you know: at least 12 characters, not a "
           "common one, not your account name. Next you will set up an authenticator app.",
           "<strong>" + esc(invite.account_name) + "</strong>", esc(auth::role_name(invite.role))) +
       "</p><form method=\"post\" action=\"/enrol\" class=\"stack\"><input type=\"hidden\" name=\"code\" value=\"" +
       esc(code) +
       "\"><input type=\"hidden\" name=\"name\" value=\"" + esc(invite.account_name) +
       "\" autocomplete=\"username\"><label for=\"password\">" + tr("Password") +
       "</label><input id=\"password\" name=\"password\" "
       "type=\"password\" required minlength=\"12\" maxlength=\"1024\" autocomplete=\"new-password\" autofocus>"
       "<label for=\"password2\">" + tr("Same password again") + "</label><input id=\"password2\" name=\"password2\" "
       "type=\"password\" required minlength=\"12\" maxlength=\"1024\" autocomplete=\"new-password\">"
       "<button type=\"submit\">" + tr("Continue") + "</button></form>";
  return document(nullptr, tr("Set up your account"), b);
}

std::string enrol_setup_page(std::string_view code, std::string_view name, const auth::Enrolment& e,
                             std::string_view message) {
  std::string b = notice_html(message);
  b += "<p>" +
       trf("These are for you alone ({}) and are shown once. Nobody else, administrators included, has seen them.",
           "<strong>" + esc(name) + "</strong>") +
       "</p>";
  b += "<h2>" + std::string(tr("1. Authenticator")) + "</h2><p>" + tr("Scan this code with an authenticator app.") +
       "</p>" + qr_svg(e.otpauth_uri.text()) + "<p>" +
       trf("Or enter this set-up address: {}", "<code class=\"secret\">" + esc(e.otpauth_uri.text()) + "</code>") +
       "</p>";
  b += "<h2>" + std::string(tr("2. Recovery codes")) + "</h2><p>" +
       tr("Each works once if you lose your phone. Keep them offline.") + "</p><ul class=\"codes\">";
  for (const auto& c : e.recovery_codes) b += "<li><code>" + esc(c.text()) + "</code></li>";
  b += "</ul>";
  if (!e.export_secret_key.empty()) {
    b += "<h2>" + std::string(tr("3. Export key")) + "</h2><p>" +
         tr("Opens the bulk exports you ask for, if you ever do. Save it in a file only you can read (chmod 600); "
            "rempart keeps only its public half.") +
         "</p><p><code class=\"secret\">" + esc(e.export_secret_key.text()) + "</code></p>";
  }
  b += "<h2>" + std::string(tr("Finish")) +
       "</h2><form method=\"post\" action=\"/enrol/confirm\" class=\"stack\"><input type=\"hidden\" "
       "name=\"code\" value=\"" +
       esc(code) + "\"><label for=\"totp\">" + tr("The code your authenticator app shows now") +
       "</label><input id=\"totp\" name=\"totp\" "
       "required maxlength=\"8\" inputmode=\"numeric\" pattern=\"[0-9]{6}\" autocomplete=\"one-time-code\">"
       "<button type=\"submit\">" + tr("Finish set-up") + "</button></form>";
  return document(nullptr, tr("Your authenticator and recovery codes"), b);
}

std::string enrol_confirm_page(std::string_view code, std::string_view message) {
  std::string b = notice_html(message);
  b += "<form method=\"post\" action=\"/enrol/confirm\" class=\"stack\"><input type=\"hidden\" name=\"code\" "
       "value=\"" +
       esc(code) + "\"><label for=\"totp\">" + tr("The code your authenticator app shows now") +
       "</label><input id=\"totp\" name=\"totp\" "
       "required maxlength=\"8\" inputmode=\"numeric\" pattern=\"[0-9]{6}\" autocomplete=\"one-time-code\" autofocus>"
       "<button type=\"submit\">" + tr("Finish set-up") + "</button></form>";
  return document(nullptr, tr("Finish setting up your account"), b);
}

}  // namespace rempart::console
