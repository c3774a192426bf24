// The console's pages about people who use it: accounts, privilege
// requests, API tokens and self-enrolment (docs/accounts.md).
#include <string>

#include "console/page_parts.hpp"
#include "guard/budget.hpp"

namespace rempart::console {

namespace {

std::string state_text(const auth::AccountInfo& a) {
  if (a.disabled) return a.locked ? "disabled, and locked" : "disabled";
  if (a.locked) return "locked";
  if (a.enrolling) return "waiting for its owner to enrol";
  return "active";
}

// Why the account is locked and since when, as a line of its card.
std::string lock_html(const auth::AccountInfo& a) {
  if (!a.locked) return {};
  std::string s = "<p class=\"lock\"><strong>Locked:</strong> " + esc(auth::lock_description(a));
  if (a.locked_at) s += ", since " + when(*a.locked_at);
  return s + ".</p>";
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
  std::string b = "<section aria-labelledby=\"awaiting\"><h2 id=\"awaiting\">Waiting for your approval</h2>";
  if (w.exports.empty() && w.requests.empty()) return b + "<p>Nothing waits for you.</p></section>";
  b += "<ul class=\"cards\">";
  for (const auto& x : w.exports) {
    const std::string id = std::to_string(x.id);
    b += "<li><h3 class=\"card-title\">Export #" + id + "</h3><p>Asked by " + esc(x.requester) + " " +
         when(x.created_at) + ": " + (x.tag.empty() ? std::string("all supporters") : "supporters tagged " + esc(x.tag)) +
         "; " + esc(fields_text(x)) + ". Reason: " + esc(x.reason) + "</p><div class=\"actions\">" +
         button_form(v, "/exports/" + id + "/approve", "Approve export #" + id, code_input("aw-x" + id)) +
         "</div></li>";
  }
  for (const auto& r : w.requests) {
    b += "<li><h3 class=\"card-title\">Request #" + std::to_string(r.id) + ": " +
         std::string(privilege_kind_text(r.kind)) + " for " + esc(r.target) + "</h3><p>Asked by " + esc(r.requester) +
         " " + when(r.created_at) + ". <a href=\"/requests\">Decide on the Requests page</a></p></li>";
  }
  return b + "</ul><p><a href=\"/exports\">All exports</a></p></section>";
}

std::string role_select(std::string_view id, auth::Role selected) {
  std::string s = "<label for=\"" + esc(id) + "\">Role</label><select id=\"" + esc(id) + "\" name=\"role\">";
  for (const auto r : auth::kAllRoles) {
    s += "<option" + std::string(r == selected ? " selected" : "") + ">" + std::string(auth::role_name(r)) +
         "</option>";
  }
  return s + "</select>";
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
  add("role", text("role"));
  add("valid for (days)", num("days"));
  if (!text("counted").empty()) {
    add("budget", text("counted"));
    add("per minute", num("per_minute"));
    add("per hour", num("per_hour"));
    add("per day", num("per_day"));
    add("for (hours)", num("hours"));
  }
  add("reason", text("reason"));
  return out;
}

}  // namespace

std::string_view privilege_kind_text(auth::PrivilegeKind k) {
  switch (k) {
    case auth::PrivilegeKind::create_account: return "new account";
    case auth::PrivilegeKind::set_role: return "role change";
    case auth::PrivilegeKind::unlock: return "unlock";
    case auth::PrivilegeKind::reset_mfa: return "authenticator reset";
    case auth::PrivilegeKind::reveal_token: return "API token that reveals";
    case auth::PrivilegeKind::raise_budget: return "raised budget";
  }
  return "";
}

std::string accounts_page(const Viewer& v, const std::vector<auth::AccountInfo>& accounts, const Awaiting& awaiting,
                          std::string_view notice) {
  std::string b = notice_html(notice);
  b += awaiting_html(v, awaiting);
  b += "<h2>Every account</h2>";
  b += "<p>Creating an account, changing a role, unlocking, resetting an authenticator and raising a budget are "
       "requests: another admin approves them on the <a href=\"/requests\">Requests</a> page with their own "
       "authenticator code. Disabling an account, enabling it again and ending its sessions take effect at "
       "once.</p>";
  // One card per account: readable on a phone, where a wide table of forms
  // would hide the account's name behind a horizontal scroll.
  b += "<ul class=\"cards\">";
  for (const auto& a : accounts) {
    const std::string base = "/accounts/" + a.name;
    const std::string n = esc(a.name);
    b += "<li><h2 class=\"card-title\">" + n + (a.name == v.name ? " (you)" : "") + "</h2><p>" +
         esc(auth::role_name(a.role)) + " · " + esc(state_text(a)) + " · " + std::to_string(a.recovery_codes_left) +
         " recovery codes left</p>" + lock_html(a) + "<div class=\"actions\">";
    if (a.name != v.name && !a.disabled) b += button_form(v, base + "/disable", "Disable " + a.name);
    if (a.name != v.name && a.disabled) b += button_form(v, base + "/enable", "Enable " + a.name);
    b += button_form(v, base + "/revoke-sessions", "End sessions");
    b += "</div>";
    if (a.name != v.name) {
      b += "<details><summary>Request a change for " + n + "</summary>";
      b += "<form method=\"post\" action=\"" + esc(base) + "/role\" class=\"stack\">" + csrf_field(v) +
           role_select("role-" + a.name, a.role) + code_input("role-" + a.name) +
           "<button type=\"submit\">Request role change</button></form>";
      if (a.locked) {
        b += "<form method=\"post\" action=\"" + esc(base) + "/unlock\" class=\"stack\">" + csrf_field(v) +
             "<label for=\"why-" + n + "\">Reason to unlock (no personal data)</label><input id=\"why-" + n +
             "\" name=\"reason\" required maxlength=\"200\">" + code_input("unlock-" + a.name) +
             "<button type=\"submit\">Request unlock</button></form>";
      }
      b += "<form method=\"post\" action=\"" + esc(base) + "/reset-mfa\" class=\"stack\">" + csrf_field(v) +
           code_input("mfa-" + a.name) + "<button type=\"submit\">Request authenticator reset</button></form>";
      std::string budget = "<label for=\"bk-" + n + "\">Budget to raise</label><select id=\"bk-" + n +
                           "\" name=\"counted\">";
      for (const auto c : guard::kAllCounted) budget += "<option>" + std::string(guard::counted_name(c)) + "</option>";
      budget += "</select><label for=\"bh-" + n + "\">Per hour</label><input id=\"bh-" + n +
                "\" name=\"per_hour\" type=\"number\" min=\"1\" max=\"1000000\" required><label for=\"bd-" + n +
                "\">Per day</label><input id=\"bd-" + n +
                "\" name=\"per_day\" type=\"number\" min=\"1\" max=\"1000000\" required><label for=\"bt-" + n +
                "\">For (hours)</label><input id=\"bt-" + n +
                "\" name=\"hours\" type=\"number\" min=\"1\" max=\"168\" value=\"8\" required>";
      b += "<form method=\"post\" action=\"" + esc(base) + "/budget\" class=\"stack\">" + csrf_field(v) + budget +
           code_input("budget-" + a.name) + "<button type=\"submit\">Request a raised budget</button></form>";
      b += "</details>";
    }
    b += "</li>";
  }
  b += "</ul>";
  b += "<h2>Invite someone</h2><p>The new account's owner sets their own password and authenticator with a "
       "single-use link that you hand to them once another admin has approved.</p>"
       "<form method=\"post\" action=\"/accounts\" class=\"stack\">" +
       csrf_field(v) +
       "<label for=\"new-name\">Account name (a-z, 0-9, . _ -)</label><input id=\"new-name\" name=\"name\" required "
       "maxlength=\"64\" autocomplete=\"off\" autocapitalize=\"none\">" +
       role_select("new-role", auth::Role::viewer) + code_input("new") +
       "<button type=\"submit\">Request the account</button></form>";
  return document(&v, "Accounts", b);
}

std::string request_filed_page(const Viewer& v, const auth::PrivilegeAsk& ask, const auth::PrivilegeReceipt& r,
                               std::string_view enrol_url, std::int64_t enrol_hours) {
  std::string b = "<p class=\"notice\" role=\"status\">Request #" + std::to_string(r.id) + " (" +
                  std::string(privilege_kind_text(ask.kind)) + " for " + esc(ask.target) +
                  ") is waiting for another admin, who approves it with their own authenticator code.</p>";
  if (!enrol_url.empty()) {
    b += "<h2>Enrolment link for " + esc(ask.target) + "</h2><p>Hand this link to " + esc(ask.target) +
         " yourself (in person, or over a channel you trust). It works once the request is approved, once, for " +
         std::to_string(enrol_hours) + " hours. With it they choose their own password and set up their own authenticator: nobody else ever sees "
         "either. It is shown only now.</p><p><code class=\"secret\">" +
         esc(enrol_url) + "</code></p>";
  } else if (!r.secret.empty()) {
    b += "<h2>The token</h2><p>Copy it now: it is shown once, stored only as a hash, and works once the request "
         "is approved. Its reveals are counted against your own budgets.</p><p><code class=\"secret\">" +
         esc(r.secret.text()) + "</code></p>";
  }
  b += "<p><a href=\"/requests\">See the requests</a></p>";
  return document(&v, "Request filed", b);
}

std::string requests_page(const Viewer& v, const std::string& viewer_id,
                          const std::vector<auth::PrivilegeRequestInfo>& all, std::string_view notice) {
  const bool can_approve = auth::permits(v.role, auth::Action::approve_privilege);
  std::string b = notice_html(notice);
  b += "<p>Each request needs a second admin: not the one who asked, one who has been an admin for the cooling "
       "period, and not one the requester created or promoted. Approving asks for a new authenticator code.</p>";
  b += "<table><thead><tr><th scope=\"col\">#</th><th scope=\"col\">What</th><th scope=\"col\">For</th>"
       "<th scope=\"col\">Details</th><th scope=\"col\">Asked by</th><th scope=\"col\">Asked</th>"
       "<th scope=\"col\">State</th><th scope=\"col\">Actions</th></tr></thead><tbody>";
  for (const auto& r : all) {
    const std::string id = std::to_string(r.id);
    const bool mine = r.requester_id == viewer_id;
    b += "<tr><td>" + id + "</td><td>" + std::string(privilege_kind_text(r.kind)) + "</td><td>" + esc(r.target) +
         "</td><td>" + esc(params_text(r)) + "</td><td>" + esc(r.requester) + "</td><td>" + when(r.created_at) +
         "</td><td>" + esc(r.status) + (r.decided_by.empty() ? std::string() : " by " + esc(r.decided_by)) +
         "</td><td class=\"actions\">";
    if (r.status == "pending") {
      if (!mine && can_approve) b += button_form(v, "/requests/" + id + "/approve", "Approve", code_input("r" + id));
      b += button_form(v, "/requests/" + id + "/refuse", mine ? "Withdraw" : "Refuse");
    }
    b += "</td></tr>";
  }
  b += "</tbody></table>";
  return document(&v, "Requests", b);
}

std::string tokens_page(const Viewer& v, const std::vector<auth::ApiTokenInfo>& tokens, std::string_view notice) {
  std::string b = notice_html(notice);
  b += "<table><thead><tr><th scope=\"col\">Id</th><th scope=\"col\">Label</th><th scope=\"col\">Scope</th>"
       "<th scope=\"col\">Prefix</th><th scope=\"col\">Expires</th><th scope=\"col\">State</th><th scope=\"col\">"
       "Actions</th></tr></thead><tbody>";
  for (const auto& t : tokens) {
    b += "<tr><td>" + std::to_string(t.id) + "</td><td>" + esc(t.label) + "</td><td>" + esc(auth::scope_name(t.scope)) +
         "</td><td><code>" + esc(t.prefix) + "</code></td><td>" + when(t.expires_at) + "</td><td>" +
         (t.revoked_at ? "revoked " + when(*t.revoked_at) : std::string("active")) + "</td><td>";
    if (!t.revoked_at) b += button_form(v, "/tokens/" + std::to_string(t.id) + "/revoke", "Revoke");
    b += "</td></tr>";
  }
  b += "</tbody></table>";
  b += "<h2>New token</h2><p>A token acts for you: what it reads is counted against your own budgets, and it "
       "stops working when your account is disabled or locked. A token that reveals needs another admin's "
       "approval.</p><form method=\"post\" action=\"/tokens\" class=\"stack\">" +
       csrf_field(v) +
       "<label for=\"label\">Label</label><input id=\"label\" name=\"label\" required maxlength=\"100\">"
       "<label for=\"scope\">Scope</label><select id=\"scope\" name=\"scope\"><option value=\"intake\">intake "
       "(sign-ups only, reads nothing)</option><option value=\"read-masked\">read-masked</option><option "
       "value=\"reveal\">reveal (needs approval)</option></select>"
       "<label for=\"days\">Valid for (days)</label><input id=\"days\" name=\"days\" type=\"number\" min=\"1\" "
       "max=\"3650\" value=\"90\" required>" +
       code_input("token") + "<button type=\"submit\">Create</button></form>";
  return document(&v, "API tokens", b);
}

std::string token_created_page(const Viewer& v, const auth::NewApiToken& t) {
  std::string b = "<p>Copy this token now: it is shown once and stored only as a hash.</p><p><code class=\"secret\">" +
                  esc(t.token.text()) + "</code></p><p>Scope " + esc(auth::scope_name(t.info.scope)) + ", expires " +
                  when(t.info.expires_at) + ".</p><p><a href=\"/tokens\">Back to tokens</a></p>";
  return document(&v, "Token created", b);
}

std::string enrol_page(std::string_view code, const auth::EnrolmentInvite& invite, std::string_view message) {
  std::string b = notice_html(message);
  b += "<p>You are setting up the account <strong>" + esc(invite.account_name) + "</strong> (" +
       esc(auth::role_name(invite.role)) +
       "). Choose a password only you know: at least 12 characters, not a common one, not your account name. "
       "Next you will set up an authenticator app.</p>"
       "<form method=\"post\" action=\"/enrol\" class=\"stack\"><input type=\"hidden\" name=\"code\" value=\"" +
       esc(code) +
       "\"><input type=\"hidden\" name=\"name\" value=\"" + esc(invite.account_name) +
       "\" autocomplete=\"username\"><label for=\"password\">Password</label><input id=\"password\" name=\"password\" "
       "type=\"password\" required minlength=\"12\" maxlength=\"1024\" autocomplete=\"new-password\" autofocus>"
       "<label for=\"password2\">Same password again</label><input id=\"password2\" name=\"password2\" "
       "type=\"password\" required minlength=\"12\" maxlength=\"1024\" autocomplete=\"new-password\">"
       "<button type=\"submit\">Continue</button></form>";
  return document(nullptr, "Set up your account", b);
}

std::string enrol_setup_page(std::string_view code, std::string_view name, const auth::Enrolment& e,
                             std::string_view message) {
  std::string b = notice_html(message);
  b += "<p>These are for you alone (<strong>" + esc(name) +
       "</strong>) and are shown once. Nobody else, administrators included, has seen them.</p>";
  b += "<h2>1. Authenticator</h2><p>Scan this code with an authenticator app.</p>" + qr_svg(e.otpauth_uri.text()) +
       "<p>Or enter this set-up address: <code class=\"secret\">" + esc(e.otpauth_uri.text()) + "</code></p>";
  b += "<h2>2. Recovery codes</h2><p>Each works once if you lose your phone. Keep them offline.</p><ul class=\"codes\">";
  for (const auto& c : e.recovery_codes) b += "<li><code>" + esc(c.text()) + "</code></li>";
  b += "</ul>";
  if (!e.export_secret_key.empty()) {
    b += "<h2>3. Export key</h2><p>Opens the bulk exports you ask for, if you ever do. Save it in a file only you "
         "can read (chmod 600); rempart keeps only its public half.</p><p><code class=\"secret\">" +
         esc(e.export_secret_key.text()) + "</code></p>";
  }
  b += "<h2>Finish</h2><form method=\"post\" action=\"/enrol/confirm\" class=\"stack\"><input type=\"hidden\" "
       "name=\"code\" value=\"" +
       esc(code) +
       "\"><label for=\"totp\">The code your authenticator app shows now</label><input id=\"totp\" name=\"totp\" "
       "required maxlength=\"8\" inputmode=\"numeric\" pattern=\"[0-9]{6}\" autocomplete=\"one-time-code\">"
       "<button type=\"submit\">Finish set-up</button></form>";
  return document(nullptr, "Your authenticator and recovery codes", b);
}

std::string enrol_confirm_page(std::string_view code, std::string_view message) {
  std::string b = notice_html(message);
  b += "<form method=\"post\" action=\"/enrol/confirm\" class=\"stack\"><input type=\"hidden\" name=\"code\" "
       "value=\"" +
       esc(code) +
       "\"><label for=\"totp\">The code your authenticator app shows now</label><input id=\"totp\" name=\"totp\" "
       "required maxlength=\"8\" inputmode=\"numeric\" pattern=\"[0-9]{6}\" autocomplete=\"one-time-code\" autofocus>"
       "<button type=\"submit\">Finish set-up</button></form>";
  return document(nullptr, "Finish setting up your account", b);
}

}  // namespace rempart::console
