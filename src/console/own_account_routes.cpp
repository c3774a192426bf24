// The routes of one's own account (docs/console.md, "Your account"): every
// signed-in person changes their own password and replaces their own
// authenticator, proving themselves with the current password and a fresh
// code. Typed secrets stay in guarded memory (Form::secret) and are never
// written back into a page.
#include "console/console_internal.hpp"
#include "i18n/i18n.hpp"

namespace rempart::console::detail {

using i18n::tr;

namespace {

constexpr const char* kNotRight =
    N_("The current password or the code is not right. Nothing was changed. (Failed attempts count like failed "
       "sign-ins.)");
constexpr const char* kCodeUsed =
    N_("That code was already used. Wait for your authenticator app to show the next one, at most 30 seconds, and "
       "try again. Nothing was changed.");

std::string_view secret_text(const std::optional<crypto::SecretBytes>& s) {
  return s ? s->text() : std::string_view();
}

// A refusal the person can act on, as the page of their account with the
// message above the form that was refused; other errors as usual.
Response refused(Call& c, const Error& e, bool password_form) {
  std::string_view message;
  bhttp::status status = bhttp::status::forbidden;
  if (e.code == Errc::permission) {
    message = tr(kNotRight);
  } else if (e.code == Errc::retry_later) {
    message = tr(kCodeUsed);
    status = bhttp::status::conflict;
  } else if (e.code == Errc::invalid_input) {
    message = tr("Choose another new password: at least 12 characters, not a common one, and not your account "
                 "name. Nothing was changed.");
    status = bhttp::status::bad_request;
  } else {
    return failure(c, e);
  }
  return html(status, own_account_page(c.viewer(), "", password_form ? message : std::string_view(),
                                       password_form ? std::string_view() : message));
}

}  // namespace

Response get_own_account(Call& c) {
  const auto done = query_param(c.req.target(), "done").value_or("");
  const std::string notice = done == "password"        ? tr("Password changed. Your other sessions are ended.")
                             : done == "authenticator" ? tr("Authenticator replaced. Your other sessions are ended.")
                             : done == "test_address"  ? tr("Test address saved.")
                                                       : "";
  std::optional<std::string> test_address;
  if (auth::permits(c.who->role, auth::Action::write_mailings) && !c.who->via_token) {
    services::Mailings m(*c.w.store, c.impl.keys, c.impl.opt.mail, c.impl.opt.mailings);
    auto a = m.test_address(c.asker());
    if (!a) return failure(c, a.error());
    test_address = a->value_or("");
  }
  auto page = own_account_page(c.viewer(), notice, "", "", test_address);
  if (test_address) crypto::wipe(*test_address);
  return html(bhttp::status::ok, page);
}

Response post_own_password(Call& c) {
  const auto current = c.form.secret("current");
  const auto password = c.form.secret("password");
  const auto password2 = c.form.secret("password2");
  if (secret_text(current).empty() || secret_text(password).empty()) {
    return html(bhttp::status::bad_request,
                own_account_page(c.viewer(), "", tr("Enter your current password, the new one twice and a code."), ""));
  }
  if (secret_text(password) != secret_text(password2)) {
    return html(bhttp::status::bad_request,
                own_account_page(c.viewer(), "", tr("The two new passwords differ. Nothing was changed."), ""));
  }
  auto r = c.w.accounts->change_password(c.who->session_token.text(), secret_text(current), secret_text(password),
                                         code_of(c), c.client);
  if (!r) return refused(c, r.error(), true);
  notify(c, "password_changed", "an account's owner changed its password", nlohmann::json::object());
  return redirect("/account?done=password");
}

Response post_own_authenticator(Call& c) {
  const auto current = c.form.secret("current");
  if (secret_text(current).empty()) {
    return html(bhttp::status::bad_request,
                own_account_page(c.viewer(), "", "", tr("Enter your current password and a code.")));
  }
  auto change =
      c.w.accounts->begin_authenticator_change(c.who->session_token.text(), secret_text(current), code_of(c), c.client);
  if (!change) return refused(c, change.error(), false);
  return html(bhttp::status::ok, authenticator_setup_page(c.viewer(), *change, ""));
}

Response post_own_authenticator_confirm(Call& c) {
  auth::AuthenticatorChange pending;
  pending.pending = c.form.get("pending").value_or("");
  pending.issued_at = form_int(c, "issued").value_or(0);
  auto r = c.w.accounts->confirm_authenticator_change(c.who->session_token.text(), pending.pending,
                                                      pending.issued_at, code_of(c), c.client);
  if (!r) {
    if (r.error().code == Errc::permission) {
      return html(bhttp::status::bad_request,
                  authenticator_setup_page(c.viewer(), pending,
                                           tr("That code did not match. Check that your phone's clock is right "
                                              "and enter the code your new app shows now.")));
    }
    if (r.error().code == Errc::not_found) {
      return html(bhttp::status::bad_request,
                  own_account_page(c.viewer(), "", "",
                                   tr("That set-up has expired (10 minutes) or is not valid. Your current "
                                      "authenticator is unchanged: start again.")));
    }
    return failure(c, r.error());
  }
  notify(c, "authenticator_replaced", "an account's owner replaced its authenticator", nlohmann::json::object());
  return redirect("/account?done=authenticator");
}

}  // namespace rempart::console::detail
