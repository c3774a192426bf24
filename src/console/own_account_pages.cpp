// The page of one's own account (docs/console.md, "Your account"): change
// the password, replace the authenticator. Secrets typed here go back to
// nobody: the forms are never filled in again after a refusal.
#include <optional>
#include <string>

#include "console/page_parts.hpp"
#include "i18n/i18n.hpp"

namespace rempart::console {

using i18n::tr;
using i18n::trf;

namespace {

std::string password_input(std::string_view id, std::string_view name, std::string_view label,
                           std::string_view autocomplete) {
  return "<label for=\"" + esc(id) + "\">" + esc(label) + "</label><input id=\"" + esc(id) + "\" name=\"" +
         esc(name) + "\" type=\"password\" required maxlength=\"1024\" autocomplete=\"" + esc(autocomplete) + "\">";
}

// A refusal shown above its form.
std::string refusal_html(std::string_view message) {
  if (message.empty()) return {};
  return "<p class=\"notice\" role=\"alert\">" + esc(message) + "</p>";
}

}  // namespace

std::string own_account_page(const Viewer& v, std::string_view notice, std::string_view password_message,
                             std::string_view authenticator_message, const std::optional<std::string>& test_address) {
  std::string b = notice_html(notice);
  b += "<dl><dt>" + std::string(tr("Account")) + "</dt><dd>" + esc(v.name) + "</dd><dt>" + tr("Role") + "</dt><dd>" +
       esc(auth::role_name(v.role)) + "</dd></dl><p><a href=\"/sessions\">" + tr("Your sessions") + "</a></p>";
  // The account name for password managers, never shown as a field.
  const std::string username = "<input type=\"hidden\" name=\"username\" value=\"" + esc(v.name) +
                               "\" autocomplete=\"username\">";
  b += "<h2 id=\"password\">" + std::string(tr("Change your password")) + "</h2>" + refusal_html(password_message) +
       "<p>" +
       tr("At least 12 characters, not a common one, not your account name. Your other sessions end; this one "
          "stays.") +
       "</p><form method=\"post\" action=\"/account/password\" class=\"stack\">" + csrf_field(v) + username +
       password_input("pw-current", "current", tr("Current password"), "current-password") +
       password_input("pw-new", "password", tr("New password"), "new-password") +
       password_input("pw-new2", "password2", tr("New password again"), "new-password") + code_input("pw") +
       "<button type=\"submit\">" + tr("Change password") + "</button></form>";
  b += "<h2 id=\"authenticator\">" + std::string(tr("Replace your authenticator")) + "</h2>" +
       refusal_html(authenticator_message) + "<p>" +
       tr("For a new phone or app. You scan a new set-up on the next page and confirm it with a first code; until "
          "then your current authenticator keeps working. Your recovery codes stay valid.") +
       "</p><form method=\"post\" action=\"/account/authenticator\" class=\"stack\">" + csrf_field(v) + username +
       password_input("au-current", "current", tr("Current password"), "current-password") + code_input("au") +
       "<button type=\"submit\">" + tr("Continue") + "</button></form>";
  if (test_address) {
    b += "<h2 id=\"test-address\">" + std::string(tr("Your test address")) + "</h2><p>" +
         tr("Where a mailing's test goes when you send yourself one: your own mailbox, never a supporter's. Only "
            "you see it here; it is kept encrypted.") +
         "</p><form method=\"post\" action=\"/account/test-address\" class=\"stack\">" + csrf_field(v) +
         "<label for=\"test-address-input\">" + tr("E-mail address (empty: none)") +
         "</label><input id=\"test-address-input\" "
         "name=\"test_address\" type=\"email\" maxlength=\"254\" autocomplete=\"email\" value=\"" +
         esc(*test_address) + "\"><button type=\"submit\">" + tr("Save") + "</button></form>";
  }
  return document(&v, tr("Your account"), b);
}

std::string authenticator_setup_page(const Viewer& v, const auth::AuthenticatorChange& change,
                                     std::string_view message) {
  std::string b = refusal_html(message);
  // After a wrong first code the set-up is not shown again: the app has it.
  if (!change.otpauth_uri.empty()) {
    b += "<p>" + std::string(tr("Scan this code with your new authenticator app. It is shown only now; nobody else "
                                "sees it.")) +
         "</p>" + qr_svg(change.otpauth_uri.text()) + "<p>" +
         trf("Or enter this set-up address: {}",
             "<code class=\"secret\">" + esc(change.otpauth_uri.text()) + "</code>") +
         "</p>";
  }
  b += "<form method=\"post\" action=\"/account/authenticator/confirm\" class=\"stack\">" + csrf_field(v) +
       "<input type=\"hidden\" name=\"pending\" value=\"" + esc(change.pending) +
       "\"><input type=\"hidden\" name=\"issued\" value=\"" + std::to_string(change.issued_at) +
       "\"><label for=\"new-code\">" + tr("The code your new authenticator app shows now") +
       "</label><input id=\"new-code\" "
       "name=\"code\" required maxlength=\"8\" inputmode=\"numeric\" pattern=\"[0-9]{6}\" "
       "autocomplete=\"one-time-code\" autofocus><button type=\"submit\">" + tr("Replace my authenticator") +
       "</button></form><p>" + tr("Within 10 minutes; after that, start again.") + " <a href=\"/account\">" +
       tr("Keep the current one") + "</a></p>";
  return document(&v, tr("Your new authenticator"), b);
}

}  // namespace rempart::console
