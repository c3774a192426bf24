#include "http/intake_routes.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "core/metrics.hpp"
#include "core/text.hpp"
#include "core/urlencoded.hpp"
#include "i18n/i18n.hpp"
#include "http/cross_site.hpp"

namespace rempart::http {

namespace bhttp = boost::beast::http;

namespace {

// Routes, by fixed name: log lines name these, never the request target
// (a target can carry anything, e-mail addresses included).
enum class Route { page, thanks, stylesheet, logo, icon, signup, osdi, confirm, unsubscribe, manage, unknown_page, unknown_api, none };

const char* route_name(Route r) noexcept {
  switch (r) {
    case Route::page: return "page";
    case Route::thanks: return "thanks";
    case Route::stylesheet: return "stylesheet";
    case Route::logo: return "logo";
    case Route::icon: return "icon";
    case Route::signup: return "signup";
    case Route::osdi: return "osdi_signup";
    case Route::confirm: return "confirm";
    case Route::unsubscribe: return "unsubscribe";
    case Route::manage: return "manage";
    case Route::unknown_page: return "unknown";
    case Route::unknown_api: return "unknown_api";
    case Route::none: return "-";
  }
  return "-";
}

constexpr std::string_view kOsdiPath = "/api/v1/people/person_signup_helper";

std::string link_token(std::string_view target);  // below

Route route_of(std::string_view target) {
  // Only link_token() (/confirm, /unsubscribe, /manage) and a sign-up's
  // sources (post_signup) read a query.
  const auto path = target.substr(0, target.find('?'));
  if (path == "/") return Route::page;
  if (path == "/thanks") return Route::thanks;
  if (path == "/static/rempart.css") return Route::stylesheet;
  if (path == "/static/logo") return Route::logo;
  if (path == "/favicon.ico") return Route::icon;  // browsers ask for it on their own
  if (path == "/signup") return Route::signup;
  if (path == kOsdiPath) return Route::osdi;
  if (path == "/confirm") return Route::confirm;
  if (path == "/unsubscribe") return Route::unsubscribe;
  if (path == "/manage") return Route::manage;
  if (path.starts_with("/api/")) return Route::unknown_api;
  return Route::unknown_page;
}

enum class Outcome {
  page,                    // 200 sign-up form
  thanks,                  // 200 thank-you page
  stylesheet,              // 200 CSS
  logo,                    // 200 the organisation's logo
  no_icon,                 // 204 for /favicon.ico: there is none, and that is not an error
  signed_up,               // 303 to /thanks
  accepted,                // 202, OSDI
  preflight_ok,            // 204, CORS preflight from a listed origin
  invalid_input,           // 400 with field errors
  malformed,               // 400
  forbidden_origin,        // 403, CORS preflight from another origin
  cross_site_form,         // 403, a form post made by another site's page
  not_found,               // 404
  method_not_allowed,      // 405 with Allow
  body_too_large,          // 413
  unsupported_media_type,  // 415
  rate_limited,            // 429 with Retry-After
  header_too_large,        // 431
  internal,                // 500: our bug, never the client's mistake
  unavailable,             // 503: the sink could not store the submission
  no_room,                 // 503 with Retry-After: free disk space below the reserve; nothing stored
  confirm_page,            // 200: a confirmation link opened; a button confirms
  confirm_done,            // 200: the confirmation posted, valid or not
  unsubscribe_page,        // 200: an unsubscribe link opened; a button unsubscribes
  unsubscribe_done,        // 200: the unsubscribe posted (RFC 8058 one-click, or the button), valid or not
  manage_page,             // 200: asks for the address to mail a self-service link to
  manage_invalid,          // 400: that address is not one
  manage_sent,             // 200: the request taken, whether the address is known or not
  manage_options,          // 200: a self-service link opened: what the person may do
  manage_options_invalid,  // 400: a correction or an erasure not confirmed; nothing kept
  manage_done,             // 200: a self-service step posted, valid or not
};

struct Description {
  bhttp::status status;
  const char* code;     // stable, for logs and JSON bodies
  const char* title;    // for HTML pages
  const char* message;  // for HTML and plain-text bodies
};

// The one table from internal outcome to external status and fixed texts.
Description describe(Outcome o) {
  using S = bhttp::status;
  switch (o) {
    case Outcome::page: return {S::ok, "ok", N_("Sign up"), ""};
    case Outcome::thanks: return {S::ok, "ok", N_("Thank you"), ""};
    case Outcome::stylesheet: return {S::ok, "ok", "", ""};
    case Outcome::logo: return {S::ok, "ok", "", ""};
    case Outcome::no_icon: return {S::no_content, "ok", "", ""};
    case Outcome::signed_up:
      return {S::see_other, "accepted", N_("Thank you"), N_("Thank you. Continue to the next page.")};
    case Outcome::accepted: return {S::accepted, "accepted", N_("Accepted"), N_("Accepted.")};
    case Outcome::preflight_ok: return {S::no_content, "ok", "", ""};
    case Outcome::invalid_input:
      return {S::bad_request, "invalid_input", N_("Sign up"), N_("Some fields need attention.")};
    case Outcome::malformed:
      return {S::bad_request, "malformed", N_("Bad request"), N_("The request could not be read.")};
    case Outcome::forbidden_origin:
      return {S::forbidden, "origin_not_allowed", N_("Forbidden"), N_("This origin may not use this API.")};
    case Outcome::cross_site_form:
      return {S::forbidden, "cross_site_form", N_("Please sign up on our own page"),
              N_("This form was sent from another website, so nothing was kept. If you meant to sign up, "
              "please fill in the form on our own sign-up page.")};
    case Outcome::not_found:
      return {S::not_found, "not_found", N_("Page not found"), N_("There is no page at this address.")};
    case Outcome::method_not_allowed:
      return {S::method_not_allowed, "method_not_allowed", N_("Method not allowed"),
              N_("This address does not accept this method.")};
    case Outcome::body_too_large:
      return {S::payload_too_large, "body_too_large", N_("Request too large"),
              N_("The request body is too large.")};
    case Outcome::unsupported_media_type:
      return {S::unsupported_media_type, "unsupported_media_type", N_("Unsupported content type"),
              N_("The request body has a content type this address does not accept.")};
    case Outcome::rate_limited:
      return {S::too_many_requests, "rate_limited", N_("Too many requests"),
              N_("Too many requests from your network. Please wait a moment and try again.")};
    case Outcome::header_too_large:
      return {S::request_header_fields_too_large, "header_too_large", N_("Request header too large"),
              N_("The request header is too large.")};
    case Outcome::internal:
      return {S::internal_server_error, "internal", N_("Something went wrong"),
              N_("Something went wrong on our side. Please try again later.")};
    // The same answer whatever made the inbox unavailable: a client learns
    // nothing of the host's disks.
    case Outcome::unavailable:
    case Outcome::no_room:
      return {S::service_unavailable, "unavailable", N_("Please try again later"),
              N_("We could not record your request just now. Nothing was kept. "
              "Please try again in a few minutes.")};
    case Outcome::confirm_page: return {S::ok, "ok", N_("Confirm your subscription"), ""};
    case Outcome::confirm_done:
      return {S::ok, "ok", N_("Thank you"),
              N_("If the link was valid, your subscription is now confirmed and a welcome message is on its "
              "way, with your personal anti-phishing phrase. If nothing arrives within the hour, the link "
              "had expired or was used already: sign up again to receive a new one.")};
    case Outcome::unsubscribe_page: return {S::ok, "ok", N_("Unsubscribe"), ""};
    case Outcome::manage_page: return {S::ok, "ok", N_("Your data"), ""};
    case Outcome::manage_invalid: return {S::bad_request, "invalid_input", N_("Error: Your data"), ""};
    case Outcome::manage_sent:
      return {S::ok, "ok", N_("Check your mailbox"),
              N_("If this address is in our records, we have sent it a link that lets you receive, correct or "
              "erase what we hold about you. It works once, for 30 minutes. This page never shows whether an "
              "address is known to us, nor anything we hold: your mailbox is the only way in.")};
    case Outcome::manage_options: return {S::ok, "ok", N_("Your data"), ""};
    case Outcome::manage_options_invalid: return {S::bad_request, "invalid_input", N_("Error: Your data"), ""};
    case Outcome::manage_done: return {S::ok, "ok", N_("Thank you"), ""};
    case Outcome::unsubscribe_done:
      return {S::ok, "ok", N_("You are unsubscribed"),
              N_("If the link came from one of our messages, your address will receive no more news from us, "
              "within a minute. Nothing else about you has changed; to receive, correct or erase what we "
              "hold, write to us.")};
  }
  return describe(Outcome::internal);
}

// What one request turned into, before it becomes bytes.
struct Reply {
  explicit Reply(Route r, Outcome o = Outcome::internal) : route(r), outcome(o) {}
  Route route = Route::none;
  Outcome outcome = Outcome::internal;
  core::FieldErrors errors;                // invalid_input
  const char* allow = nullptr;             // method_not_allowed
  std::chrono::seconds retry_after{0};     // rate_limited, no_room
  std::string cors_origin;                 // a listed origin, to be named in ACAO
  bool confirmation_mail = false;          // thanks: a confirmation mail follows an e-mail consent
  std::string step;                        // manage_done: export | withdraw | correct | erase
};

// ---- HTML ------------------------------------------------------------------
// Every HTML byte below is a fixed string of ours or configuration text
// (escaped): no page ever contains any part of a request, so nothing can be
// reflected. The texts are in the request's language (i18n::Scope set by
// IntakeRoutes::handle): tr() of English messages marked here.

using i18n::tr;
using i18n::trf;

struct FormField {
  const char* name;  // as in core::field and the form post
  const char* label;
  const char* type;
  const char* autocomplete;
  const char* inputmode;  // nullptr: none
  const char* hint;       // nullptr: none
  bool contact;           // one of the "e-mail or phone" pair
};

// In the order of the page: how to reach the person first, since an
// e-mail address or a phone number is what a sign-up needs.
constexpr FormField kFormFields[] = {
    {"email", N_("E-mail address"), "email", "email", "email", nullptr, true},
    {"phone", N_("Phone number"), "tel", "tel", "tel",
     N_("For a number from another country, start with + and the country code."), true},
    {"given_name", N_("First name"), "text", "given-name", nullptr, nullptr, false},
    {"family_name", N_("Last name"), "text", "family-name", nullptr, nullptr, false},
    {"street", N_("Street address"), "text", "address-line1", nullptr, nullptr, false},
    {"postal_code", N_("Postcode"), "text", "postal-code", nullptr, nullptr, false},
    {"locality", N_("Town or city"), "text", "address-level2", nullptr, nullptr, false},
    {"country", N_("Country"), "select", "country", nullptr, nullptr, false},
};

// `either`: the field is one of the "e-mail or phone" pair, not required
// on its own by the schema.
const char* field_message(std::string_view field, std::string_view code, bool either = true) {
  if (code == "required") {
    if (either && (field == "email" || field == "phone")) return tr("Give an e-mail address or a phone number.");
    return tr("This field cannot be empty.");
  }
  if (code == "invalid_email") return tr("Enter an e-mail address in the form name@example.org.");
  if (code == "invalid_phone") {
    return tr("Enter a phone number, with + and the country code if it is from another country.");
  }
  if (code == "invalid_postal_code") return tr("Enter a postcode using letters, digits and hyphens only.");
  if (code == "invalid_country") return tr("Choose a country from the list.");
  if (code == "too_long") return tr("This is too long.");
  if (code == "forbidden_characters" || code == "invalid_utf8") {
    return tr("This contains characters we cannot accept.");
  }
  return tr("Check this field.");
}

bool collects(const core::IntakeOptions& o, std::string_view name) {
  return std::find(o.collect.begin(), o.collect.end(), name) != o.collect.end();
}

const core::FieldError* error_for(const core::FieldErrors* errors, std::string_view name) {
  if (!errors) return nullptr;
  for (const auto& e : *errors) {
    if (e.field == name) return &e;
  }
  return nullptr;
}

// Configuration text in a page (the organisation's name, the consent
// wording, the privacy notice): escaped, although no request reaches it.
std::string html_text(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// One of our own paths in the current language: "?lang=" is added when
// the language is not the instance's default, so a person who chose one
// keeps it from page to page.
std::string local_link(std::string_view path) {
  std::string s(path);
  if (i18n::current() != i18n::default_language()) {
    s += "?lang=";
    s += i18n::code(i18n::current());
  }
  return s;
}

// The page's top: <html lang>, the title, and the switch to the other
// languages when the page has an address of its own to offer them at
// (`path`; nullptr on pages reached by a token link or as an answer).
std::string page_head(const core::IntakeOptions& o, std::string_view title, const char* path = nullptr) {
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"";
  h += i18n::code(i18n::current());
  h += "\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
  h += title;
  h += "</title>\n<link rel=\"stylesheet\" href=\"/static/rempart.css\">\n</head>\n<body>\n";
  if (path) {
    h += "<nav class=\"languages\" aria-label=\"";
    h += tr("Language");
    h += "\"><ul>";
    for (const auto l : i18n::kLanguages) {
      if (l == i18n::current()) continue;
      h += "<li><a href=\"";
      h += path;
      h += "?lang=";
      h += i18n::code(l);
      h += "\" hreflang=\"";
      h += i18n::code(l);
      h += "\" lang=\"";
      h += i18n::code(l);
      h += "\">";
      h += i18n::own_name(l);
      h += "</a></li>";
    }
    h += "</ul></nav>\n";
  }
  if (!o.logo.empty()) {
    // The organisation's name is the logo's text; without one it is
    // decoration (the heading names the page).
    h += "<header class=\"site\"><img src=\"/static/logo\" alt=\"" + html_text(o.organisation) + "\"></header>\n";
  }
  h += "<main>\n";
  return h;
}

constexpr std::string_view kPageFoot = "</main>\n</body>\n</html>\n";

std::string message_page(const core::IntakeOptions& o, const Description& d, bool link_home) {
  std::string h = page_head(o, tr(d.title));
  h += "<h1>";
  h += tr(d.title);
  h += "</h1>\n<p>";
  h += tr(d.message);
  h += "</p>\n";
  if (link_home) h += "<p><a href=\"" + local_link("/") + "\">" + tr("Back to the sign-up form") + "</a></p>\n";
  h += kPageFoot;
  return h;
}

std::string thanks_page(const core::IntakeOptions& o, bool confirmation_mail) {
  std::string h = page_head(o, tr("Thank you"), "/thanks");
  h += "<h1>";
  h += tr("Thank you");
  h += "</h1>\n<p>";
  h += tr("We have received your sign-up. It is stored encrypted: only the people who organise with us "
          "can read it, and each time they do is recorded.");
  h += "</p>\n";
  if (confirmation_mail) {
    h += "<p>";
    h += tr("If you agreed to receive our e-mails, we are sending you a message to confirm it: we write "
            "to you only once you have pressed the button it leads to. Once you have, a welcome message "
            "gives you your personal anti-phishing phrase. Every message from us quotes it: a message "
            "without it is not from us.");
    h += "</p>\n<p>";
    h += trf("At any time, on the <a href=\"{}\">Your data</a> page, you can receive, correct or erase what "
             "you gave us, or stop our messages: we mail you a link to do it.",
             local_link("/manage"));
    h += "</p>\n";
  } else {
    h += "<p>";
    h += tr("You can ask us at any time to show you, correct or erase what you gave us, or to stop sending "
            "you news.");
    h += "</p>\n";
  }
  h += kPageFoot;
  return h;
}

// A page reached by a mailed link: its button posts back to the page's own
// address (a form without an action), so the token in the address is never
// written into the page. Opening the page changes nothing: mail scanners
// open links.
std::string link_page(const core::IntakeOptions& o, std::string_view title, std::string_view text,
                      std::string_view button) {
  std::string h = page_head(o, title);
  h += "<h1>";
  h += title;
  h += "</h1>\n<p>";
  h += text;
  h += "</p>\n<form method=\"post\">\n<button type=\"submit\">";
  h += button;
  h += "</button>\n</form>\n";
  h += kPageFoot;
  return h;
}

std::string error_summary_head() {
  return std::string("<div class=\"error-summary\" role=\"alert\" aria-labelledby=\"error-summary-title\">\n"
                     "<h2 id=\"error-summary-title\">") +
         tr("There is a problem") + "</h2>\n";
}

std::string error_prefix() {
  return std::string("<span class=\"visually-hidden\">") + tr("Error:") + " </span>";
}

// The address a self-service link is mailed to: asked, never shown again.
std::string manage_request_page(const core::IntakeOptions& o, const core::FieldErrors* errors) {
  std::string h = page_head(o, errors ? tr("Error: Your data") : tr("Your data"), "/manage");
  h += "<h1>";
  h += tr("Your data");
  h += "</h1>\n";
  if (errors) {
    h += error_summary_head() + "<ul>\n<li><a href=\"#email\">" + tr("E-mail address") + ": " +
         tr("Enter an e-mail address in the form name@example.org.") + "</a></li>\n</ul>\n</div>\n";
  }
  h += "<p>";
  h += tr("To receive what we hold about you, correct it, stop our messages or erase it, give the e-mail "
          "address you signed up with. If it is in our records, we send it a link that works once, for 30 "
          "minutes. We never show on this site whether an address is known to us, nor anything we hold.");
  h += "</p>\n<form method=\"post\" action=\"" + local_link("/manage") +
       "\" accept-charset=\"utf-8\" novalidate>\n<div class=\"field";
  if (errors) h += " field-error";
  h += "\">\n<label for=\"email\">";
  h += tr("E-mail address");
  h += "</label>\n";
  if (errors) {
    h += "<p class=\"error-message\" id=\"email-error\">" + error_prefix() +
         tr("Enter an e-mail address in the form name@example.org.") + "</p>\n";
  }
  h += "<input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" inputmode=\"email\" "
       "autocapitalize=\"off\" spellcheck=\"false\"";
  if (errors) h += " aria-invalid=\"true\" aria-describedby=\"email-error\"";
  h += ">\n</div>\n<button type=\"submit\">";
  h += tr("Send me a link");
  h += "</button>\n</form>\n";
  h += kPageFoot;
  return h;
}

// The privacy notice under the sign-up form (IntakeOptions::privacy): who
// keeps the data, what for, on what basis, how long, who receives it, the
// person's rights and whom to ask. Configuration text, escaped.
std::string privacy_notice(const core::IntakeOptions& o) {
  const auto& p = o.privacy;
  if (p.controller.empty()) return {};
  std::string h = "<section class=\"privacy\" aria-labelledby=\"privacy-h\">\n<h2 id=\"privacy-h\">";
  h += tr("How we use your data");
  h += "</h2>\n<p>";
  h += p.purpose.empty() ? trf("{} keeps what you give here.", html_text(p.controller))
                         : trf("{} keeps what you give here to {}.", html_text(p.controller), html_text(p.purpose));
  h += " ";
  h += tr("The messages you agree to receive rest on your consent, which you can withdraw at any time, by the "
          "link in each message or on the Your data page.");
  h += "</p>\n<p>";
  const std::string& who = o.organisation.empty() ? p.controller : o.organisation;
  h += p.recipients.empty() ? trf("Only {} and the people who work for it see it.", html_text(who))
                            : trf("Who receives it: {}.", html_text(p.recipients));
  if (!p.retention.empty()) h += " " + trf("How long it is kept: {}.", html_text(p.retention));
  h += "</p>\n<p>";
  h += p.contact.empty()
           ? trf("You may receive a copy of your data, correct it or have it erased at any time on the "
                 "<a href=\"{}\">Your data</a> page.",
                 local_link("/manage"))
           : trf("You may receive a copy of your data, correct it or have it erased at any time on the "
                 "<a href=\"{}\">Your data</a> page, or by writing to {}.",
                 local_link("/manage"), html_text(p.contact));
  h += " ";
  h += tr("You may also lodge a complaint with the data protection authority (in France, the CNIL).");
  h += "</p>\n</section>\n";
  return h;
}

// What the label says of a field: "(e-mail or phone)", "(required)" or
// "(optional)".
enum class Need { contact, required, optional };
void render_input(std::string& h, const FormField& f, Need need, const core::FieldErrors* errors);

// What a self-service link offers. Each form posts back to the page's own
// address (no action: the token is never written into the page); nothing
// held is ever shown.
std::string manage_options_page(const core::IntakeOptions& o, const core::FieldErrors* errors) {
  std::string h = page_head(o, errors ? tr("Error: Your data") : tr("Your data"));
  h += "<h1>";
  h += tr("Your data");
  h += "</h1>\n";
  if (errors) {
    h += error_summary_head() + "<p>" + tr("Nothing was changed, and the link still works. Please try again.") +
         "</p>\n<ul>\n";
    for (const auto& e : *errors) {
      if (e.field == "understood") {
        h += "<li><a href=\"#understood\">";
        h += tr("Tick the box to confirm the erasure.");
        h += "</a></li>\n";
        continue;
      }
      const auto* known = std::find_if(std::begin(kFormFields), std::end(kFormFields),
                                       [&](const FormField& f) { return e.field == f.name; });
      if (known == std::end(kFormFields)) {
        h += "<li>";
        h += tr("Part of the form could not be read.");
        h += "</li>\n";
        continue;
      }
      h += "<li><a href=\"#";
      h += known->name;
      h += "\">";
      h += tr(known->label);
      h += ": ";
      h += field_message(e.field, e.code);
      h += "</a></li>\n";
    }
    h += "</ul>\n</div>\n";
  }
  const auto step_form = [&](const char* step, const char* heading, const char* text, const char* button) {
    h += "<h2>";
    h += tr(heading);
    h += "</h2>\n<p>";
    h += tr(text);
    h += "</p>\n<form method=\"post\">\n<input type=\"hidden\" name=\"step\" value=\"";
    h += step;
    h += "\">\n<button type=\"submit\">";
    h += tr(button);
    h += "</button>\n</form>\n";
  };
  h += "<p>";
  h += tr("This link works once: after one of the steps below, ask for a new link to take another. We never "
          "show here what we hold.");
  h += "</p>\n";
  step_form("export", N_("Receive what we hold about you"),
            N_("We send it to your e-mail address, as a readable text and as a JSON file."),
            N_("Send me my data"));
  step_form("withdraw", N_("Stop our messages"),
            N_("Withdraws your agreement to receive our e-mails and text messages. We keep your details."),
            N_("Stop all messages"));
  h += "<h2>";
  h += tr("Correct your details");
  h += "</h2>\n<p>";
  h += tr("Fill in only what is wrong: an empty field keeps what we hold. To change your e-mail address, sign up "
          "again with the new one, then erase this one.");
  h += "</p>\n<form method=\"post\" accept-charset=\"utf-8\" novalidate>\n"
       "<input type=\"hidden\" name=\"step\" value=\"correct\">\n";
  for (const auto& f : kFormFields) {
    const std::string_view name = f.name;
    if (name == "email" || name == "street" || !collects(o, name)) continue;
    render_input(h, f, Need::optional, errors);  // every correction is optional
  }
  h += "<button type=\"submit\">";
  h += tr("Save my corrections");
  h += "</button>\n</form>\n<h2>";
  h += tr("Erase everything");
  h += "</h2>\n<p>";
  h += tr("Erases your record, your consents and our notes about you. It cannot be undone. We keep only a "
          "one-way fingerprint of your e-mail address and phone number, so that an import of an old list cannot "
          "bring you back; signing up again yourself lifts it.");
  h += "</p>\n<form method=\"post\">\n<input type=\"hidden\" name=\"step\" value=\"erase\">\n<div class=\"checkbox";
  const bool unconfirmed = errors && std::any_of(errors->begin(), errors->end(),
                                                 [](const core::FieldError& e) { return e.field == "understood"; });
  if (unconfirmed) h += " field-error";
  h += "\">\n<input type=\"checkbox\" id=\"understood\" name=\"understood\" required";
  if (unconfirmed) h += " aria-invalid=\"true\"";
  h += ">\n<label for=\"understood\">";
  h += tr("I understand that my data will be erased for good.");
  h += "</label>\n</div>\n<button type=\"submit\" class=\"danger\">";
  h += tr("Erase me");
  h += "</button>\n</form>\n";
  h += kPageFoot;
  return h;
}

const char* manage_done_text(std::string_view step) {
  if (step == "export") {
    return N_("If the link was valid, what we hold about you is on its way to your e-mail address, within a few "
              "minutes.");
  }
  if (step == "withdraw") return N_("If the link was valid, you will receive no more messages from us, within a minute.");
  if (step == "correct") return N_("If the link was valid, your corrections are saved, within a minute.");
  return N_("If the link was valid, your data is erased, within a minute. We will not write to you again.");
}

// The country list: every ISO 3166 country by its name in the page's
// language (CLDR, sorted by that language's collation); the value sent is
// the code, which the validator reads. Nothing is preselected: a country
// is optional, and one chosen for the person would be recorded as theirs.
void render_country_options(std::string& h, const std::string& selected) {
  h += "<option value=\"\">";
  h += tr("(choose a country)");
  h += "</option>\n";
  for (const auto& [code, name] : i18n::countries()) {
    h += "<option value=\"" + code + "\"";
    if (code == selected) h += " selected";
    h += ">" + html_text(name) + "</option>\n";
  }
}

void render_input(std::string& h, const FormField& f, Need need, const core::FieldErrors* errors) {
  const core::FieldError* err = error_for(errors, f.name);
  const std::string name = f.name;
  std::string described;
  if (err) described += name + "-error";
  if (f.hint) described += (described.empty() ? "" : " ") + name + "-hint";
  if (need == Need::contact) described += std::string(described.empty() ? "" : " ") + "contact-note";

  h += "<div class=\"field";
  if (err) h += " field-error";
  h += "\">\n<label for=\"" + name + "\">";
  h += tr(f.label);
  h += " <span class=\"marker\">(";
  h += need == Need::contact ? tr("e-mail or phone") : need == Need::required ? tr("required") : tr("optional");
  h += ")</span></label>\n";
  if (f.hint) {
    h += "<p class=\"hint\" id=\"" + name + "-hint\">";
    h += tr(f.hint);
    h += "</p>\n";
  }
  if (err) {
    h += "<p class=\"error-message\" id=\"" + name + "-error\">" + error_prefix();
    h += field_message(err->field, err->code, need != Need::required);
    h += "</p>\n";
  }
  const bool select = std::string_view(f.type) == "select";
  h += select ? "<select id=\"" + name + "\" name=\"" + name + "\"" : "<input id=\"" + name + "\" name=\"" + name +
                                                                          "\" type=\"" + f.type + "\"";
  h += " autocomplete=\"";
  h += f.autocomplete;
  h += "\"";
  if (f.inputmode) {
    h += " inputmode=\"";
    h += f.inputmode;
    h += "\"";
  }
  if (std::string_view(f.type) == "email") h += " autocapitalize=\"off\" spellcheck=\"false\"";
  if (!described.empty()) h += " aria-describedby=\"" + described + "\"";
  if (err) h += " aria-invalid=\"true\"";
  h += ">\n";
  if (select) {
    render_country_options(h, {});
    h += "</select>\n";
  }
  h += "</div>\n";
}

// The consent wording beside a box: the organisation's own when set, else
// ours in the page's language. What is shown is what is sealed with the
// sign-up (post_signup), so the consent log keeps the words the person saw.
std::string consent_wording(const core::IntakeOptions& o, bool sms) {
  const std::string& configured = sms ? o.consent_sms_text : o.consent_email_text;
  if (!configured.empty()) return configured;
  return sms ? tr("I agree to receive news by text message (SMS).") : tr("I agree to receive news by e-mail.");
}

// The sign-up form. When `errors` is set it is shown again with a message
// per field, but deliberately EMPTY: this page must never reflect anything
// that was posted (no value="..." from the request, ever), so that it cannot
// carry injected markup and never shows one person's data to another. The
// person is asked to fill it in again instead.
std::string form_page(const core::IntakeOptions& o, const core::FieldErrors* errors) {
  const std::string title = o.organisation.empty() ? std::string(tr("Sign up"))
                                                   : trf("Sign up – {}", html_text(o.organisation));
  std::string h = page_head(o, errors ? tr("Error:") + std::string(" ") + title : title, "/");
  h += "<h1>" + title + "</h1>\n";
  const bool email = collects(o, "email");
  const bool phone = collects(o, "phone");
  const auto required = [&](std::string_view name) {
    return std::find(o.require.begin(), o.require.end(), name) != o.require.end();
  };
  // E-mail or phone, unless the schema requires one of them: then that one.
  const bool either = email && phone && !required("email") && !required("phone");
  const auto need_of = [&](const FormField& f) {
    if (required(f.name)) return Need::required;
    if (f.contact && (either || !(email && phone))) return Need::contact;
    return Need::optional;
  };
  if (errors) {
    h += error_summary_head() + "<p>" + tr("Nothing you sent has been kept. Please fill in the form again.") +
         "</p>\n<ul>\n";
    bool general = false;
    for (const auto& e : *errors) {
      const auto* known = std::find_if(std::begin(kFormFields), std::end(kFormFields),
                                       [&](const FormField& f) { return e.field == f.name; });
      if (known == std::end(kFormFields) || !collects(o, known->name)) {
        general = true;
        continue;
      }
      h += "<li><a href=\"#";
      h += known->name;
      h += "\">";
      h += tr(known->label);
      h += ": ";
      h += field_message(e.field, e.code, need_of(*known) != Need::required);
      h += "</a></li>\n";
    }
    if (general) {
      h += "<li>";
      h += tr("Part of the form could not be read.");
      h += "</li>\n";
    }
    h += "</ul>\n</div>\n";
  }
  h += "<p id=\"contact-note\">";
  if (either) {
    h += tr("Give at least an e-mail address or a phone number: those two fields are marked “(e-mail or phone)”.");
    h += " ";
  } else if (!required("email") && !required("phone")) {
    h += tr("The field marked “(e-mail or phone)” is required.");
    h += " ";
  }
  if (!o.require.empty()) {
    h += tr("Fields marked “(required)” must be filled in.");
    h += " ";
  }
  h += tr("Every field marked “(optional)” may be left empty.");
  // No action: the form posts back to the page's own address, so that the
  // query that led here (utm_* and the like, IntakeOptions::sources) comes
  // with it without this page ever writing a byte of it.
  h += "</p>\n<form method=\"post\" accept-charset=\"utf-8\" novalidate>\n";

  h += "<fieldset>\n<legend>";
  h += tr("How to reach you");
  h += "</legend>\n";
  for (const auto& f : kFormFields) {
    if (f.contact && collects(o, f.name)) render_input(h, f, need_of(f), errors);
  }
  h += "</fieldset>\n<fieldset>\n<legend>";
  h += tr("About you");
  h += "</legend>\n";
  for (const auto& f : kFormFields) {
    if (!f.contact && collects(o, f.name)) render_input(h, f, need_of(f), errors);
  }
  h += "</fieldset>\n";
  if (email || phone) {
    h += "<fieldset>\n<legend>";
    h += tr("What you agree to receive");
    h += "</legend>\n<p class=\"hint\">";
    h += tr("Leave these unticked if you do not want our messages. You can change your mind at any time.");
    h += "</p>\n";
    if (email) {
      h += "<div class=\"checkbox\">\n<input type=\"checkbox\" id=\"consent_email\" name=\"consent_email\">\n"
           "<label for=\"consent_email\">" + html_text(consent_wording(o, false)) + "</label>\n</div>\n";
    }
    if (phone) {
      h += "<div class=\"checkbox\">\n<input type=\"checkbox\" id=\"consent_sms\" name=\"consent_sms\">\n"
           "<label for=\"consent_sms\">" + html_text(consent_wording(o, true)) + "</label>\n</div>\n";
    }
    h += "</fieldset>\n";
  }
  h += "<button type=\"submit\">";
  h += tr("Sign up");
  h += "</button>\n</form>\n";
  h += privacy_notice(o);
  h += kPageFoot;
  return h;
}

constexpr std::string_view kStylesheet = R"css(:root { color-scheme: light; }
body { font-family: system-ui, sans-serif; font-size: 1.125rem; line-height: 1.5;
       color: #1b1b1b; background: #ffffff; margin: 0; }
main { max-width: 36rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 2rem; }
fieldset { border: 1px solid #6b6b6b; margin: 0 0 1.5rem; padding: 1rem; }
legend { font-weight: 700; padding: 0 0.25rem; }
.field { margin-bottom: 1.25rem; }
.field label { display: block; font-weight: 600; }
.marker { font-weight: 400; }
.hint { color: #4a4a4a; margin: 0.25rem 0; }
input[type="text"], input[type="email"], input[type="tel"], select {
  display: block; width: 100%; box-sizing: border-box; font: inherit;
  padding: 0.5rem; border: 2px solid #1b1b1b; border-radius: 0; }
select { background: #ffffff; color: #1b1b1b; }
input:focus, select:focus, button:focus, a:focus { outline: 3px solid #f0b400; outline-offset: 2px; }
.checkbox { display: flex; align-items: flex-start; gap: 0.5rem; margin-bottom: 0.75rem; }
.checkbox input { width: 1.5rem; height: 1.5rem; margin: 0.125rem 0 0; flex: none; }
.field-error { border-left: 4px solid #b00020; padding-left: 0.75rem; }
.privacy { border-top: 1px solid #6b6b6b; margin-top: 2rem; font-size: 1rem; }
.privacy h2 { font-size: 1.25rem; }
.field-error input { border-color: #b00020; }
.error-message { color: #b00020; font-weight: 700; margin: 0.25rem 0; }
.error-summary { border: 4px solid #b00020; padding: 1rem; margin-bottom: 1.5rem; }
.error-summary a { color: #b00020; font-weight: 700; }
button { font: inherit; font-weight: 700; padding: 0.625rem 1.25rem; color: #ffffff;
         background: var(--accent, #1d5c2e); border: 2px solid var(--accent, #1d5c2e); cursor: pointer; }
a { color: var(--accent, #1d5c2e); }
header.site { max-width: 36rem; margin: 0 auto; padding: 1rem 1rem 0; }
header.site img { display: block; max-width: 100%; max-height: 5rem; height: auto; }
button.danger { background: #b00020; border-color: #b00020; }
h2 { font-size: 1.375rem; margin: 2rem 0 0.5rem; }
nav.languages ul { list-style: none; display: flex; justify-content: flex-end; gap: 1rem;
                   max-width: 36rem; margin: 0 auto; padding: 0.5rem 1rem 0; }
nav.languages a { color: #1b1b1b; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; overflow: hidden;
                   clip: rect(0 0 0 0); white-space: nowrap; }
)css";

// ---- JSON ------------------------------------------------------------------

// Field paths and codes come from core and never hold input by contract;
// this guard keeps that true even if a parser one day breaks the contract.
std::string safe_token(std::string_view s, std::string_view fallback) {
  if (s.empty() || s.size() > 64) return std::string(fallback);
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                    c == '[' || c == ']';
    if (!ok) return std::string(fallback);
  }
  return std::string(s);
}

std::string json_errors(const core::FieldErrors& errors, std::string_view code) {
  nlohmann::json list = nlohmann::json::array();
  if (errors.empty()) {
    list.push_back({{"field", "body"}, {"code", std::string(code)}});
  }
  for (const auto& e : errors) {
    list.push_back({{"field", safe_token(e.field, "body")}, {"code", safe_token(e.code, "invalid")}});
  }
  return nlohmann::json{{"errors", std::move(list)}}.dump();
}

// ---- The one place that turns outcomes into HTTP -----------------------------

enum class Flavor { html, json, text };

Flavor flavor_of(Route r) {
  switch (r) {
    case Route::osdi:
    case Route::unknown_api: return Flavor::json;
    case Route::none: return Flavor::text;
    default: return Flavor::html;
  }
}

Response render(const Reply& r, const core::IntakeOptions& opts) {
  const Description d = describe(r.outcome);
  Response res{d.status, 11};
  const char* content_type = "text/html; charset=utf-8";
  switch (flavor_of(r.route)) {
    case Flavor::html:
      switch (r.outcome) {
        case Outcome::page: res.body() = form_page(opts, nullptr); break;
        case Outcome::invalid_input: res.body() = form_page(opts, &r.errors); break;
        case Outcome::thanks: res.body() = thanks_page(opts, r.confirmation_mail); break;
        case Outcome::confirm_page:
          res.body() = link_page(opts, tr(d.title),
                                 tr("You opened the link from the message we sent to confirm that you want to "
                                    "receive our news by e-mail. Press the button to confirm."),
                                 tr("Confirm my subscription"));
          break;
        case Outcome::unsubscribe_page:
          res.body() = link_page(opts, tr(d.title),
                                 tr("Press the button and this address will receive no more news from us. "
                                    "Nothing else changes."),
                                 tr("Unsubscribe"));
          break;
        case Outcome::confirm_done:
        case Outcome::unsubscribe_done: res.body() = message_page(opts, d, false); break;
        case Outcome::manage_page: res.body() = manage_request_page(opts, nullptr); break;
        case Outcome::manage_invalid: res.body() = manage_request_page(opts, &r.errors); break;
        case Outcome::manage_sent: res.body() = message_page(opts, d, false); break;
        case Outcome::manage_options: res.body() = manage_options_page(opts, nullptr); break;
        case Outcome::manage_options_invalid: res.body() = manage_options_page(opts, &r.errors); break;
        case Outcome::manage_done: {
          const Description done{d.status, d.code, d.title, manage_done_text(r.step)};
          res.body() = message_page(opts, done, false);
          break;
        }
        case Outcome::stylesheet:
          res.body() = std::string(kStylesheet);
          // The organisation's accent (checked by the configuration: a
          // "#rrggbb" dark enough for white text), as the one variable the
          // stylesheet reads; never anything from a request.
          if (!opts.colour.empty()) res.body() += ":root { --accent: " + opts.colour + "; }\n";
          content_type = "text/css; charset=utf-8";
          break;
        case Outcome::logo:
          res.body() = opts.logo;
          content_type = opts.logo_type.c_str();
          break;
        case Outcome::no_icon: break;
        case Outcome::signed_up: res.body() = message_page(opts, d, false); break;
        default: res.body() = message_page(opts, d, true); break;
      }
      break;
    case Flavor::json:
      content_type = "application/json; charset=utf-8";
      if (r.outcome == Outcome::accepted) {
        res.body() = R"({"status":"accepted"})";
      } else if (r.outcome != Outcome::preflight_ok) {
        res.body() = json_errors(r.outcome == Outcome::invalid_input ? r.errors : core::FieldErrors{},
                                 d.code);
      }
      break;
    case Flavor::text:
      content_type = "text/plain; charset=utf-8";
      res.body() = std::string(tr(d.message)) + "\n";
      break;
  }
  if (!res.body().empty()) res.set(bhttp::field::content_type, content_type);

  // Security headers on every answer, errors included.
  res.set("Content-Security-Policy",
          "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
          "frame-ancestors 'none'; base-uri 'none'");
  res.set("X-Content-Type-Options", "nosniff");
  // same-origin, not no-referrer: with no-referrer browsers send "Origin:
  // null" on form posts, and a browser without Sec-Fetch-Site could then
  // not tell our page's posts from another site's (from_another_site).
  // A page reached by a mailed link holds its token in its address.
  const bool token_page = r.route == Route::confirm || r.route == Route::unsubscribe ||
                          (r.route == Route::manage && r.outcome != Outcome::manage_page &&
                           r.outcome != Outcome::manage_invalid && r.outcome != Outcome::manage_sent);
  res.set("Referrer-Policy", token_page ? "no-referrer" : "same-origin");
  res.set("X-Frame-Options", "DENY");
  res.set(bhttp::field::cache_control,
          r.outcome == Outcome::stylesheet || r.outcome == Outcome::logo || r.outcome == Outcome::no_icon
              ? "public, max-age=3600"
              : "no-store");

  if (r.outcome == Outcome::signed_up) res.set(bhttp::field::location, local_link("/thanks"));
  if (r.outcome == Outcome::method_not_allowed && r.allow) res.set(bhttp::field::allow, r.allow);
  if (r.outcome == Outcome::rate_limited || r.outcome == Outcome::no_room) {
    res.set(bhttp::field::retry_after, std::to_string(std::max<long long>(1, r.retry_after.count())));
  }
  if (r.outcome == Outcome::header_too_large || r.outcome == Outcome::body_too_large ||
      r.outcome == Outcome::malformed) {
    res.keep_alive(false);
  }
  if (r.route == Route::osdi) {
    // The answer depends on Origin, so shared caches must key on it.
    res.set(bhttp::field::vary, "Origin");
    if (!r.cors_origin.empty()) {
      res.set(bhttp::field::access_control_allow_origin, r.cors_origin);
      if (r.outcome == Outcome::preflight_ok) {
        res.set(bhttp::field::access_control_allow_methods, "POST");
        res.set(bhttp::field::access_control_allow_headers, "Content-Type");
        res.set(bhttp::field::access_control_max_age, "600");
      }
    }
  }
  return res;
}

// The answer's count on /metrics (core/metrics.hpp): an outcome, never
// anything the request carried.
void count_reply(Outcome o) {
  namespace m = core::metrics;
  auto& r = m::process_registry();
  switch (o) {
    case Outcome::signed_up: return r.signups[m::SignupApi::form].add();
    case Outcome::accepted: return r.signups[m::SignupApi::osdi].add();
    case Outcome::confirm_done: return r.links[m::LinkKind::confirm].add();
    case Outcome::unsubscribe_done: return r.links[m::LinkKind::unsubscribe].add();
    case Outcome::manage_sent: return r.links[m::LinkKind::manage_request].add();
    case Outcome::manage_done: return r.links[m::LinkKind::manage_step].add();
    case Outcome::invalid_input:
    case Outcome::manage_invalid:
    case Outcome::manage_options_invalid: return r.rejected[m::Reject::validation].add();
    case Outcome::malformed: return r.rejected[m::Reject::malformed].add();
    case Outcome::cross_site_form: return r.rejected[m::Reject::cross_site].add();
    case Outcome::forbidden_origin: return r.rejected[m::Reject::origin].add();
    case Outcome::not_found: return r.rejected[m::Reject::not_found].add();
    case Outcome::method_not_allowed: return r.rejected[m::Reject::method].add();
    case Outcome::body_too_large: return r.rejected[m::Reject::too_large].add();
    case Outcome::header_too_large: return r.rejected[m::Reject::header_too_large].add();
    case Outcome::unsupported_media_type: return r.rejected[m::Reject::media_type].add();
    case Outcome::rate_limited: return r.rejected[m::Reject::rate_limited].add();
    case Outcome::unavailable: return r.rejected[m::Reject::unavailable].add();
    case Outcome::no_room: return r.rejected[m::Reject::disk_reserve].add();
    case Outcome::internal: return r.rejected[m::Reject::internal].add();
    default: return;  // pages, preflights: not counted
  }
}

// Route, status and code: never a target, a header value or a body.
// Refusals for space go to debug: at full rate a line each would write to
// a disk that is filling (the crossing itself is logged once, and alerted).
void log_reply(Route route, Outcome o) {
  count_reply(o);
  const Description d = describe(o);
  const auto status = static_cast<unsigned>(d.status);
  if (o == Outcome::no_room) {
    spdlog::debug("http route={} status={} code={} (disk reserve)", route_name(route), status, d.code);
  } else if (status >= 500) {
    spdlog::warn("http route={} status={} code={}", route_name(route), status, d.code);
  } else if (status >= 400 && o != Outcome::rate_limited) {
    spdlog::info("http route={} status={} code={}", route_name(route), status, d.code);
  } else {
    spdlog::debug("http route={} status={} code={}", route_name(route), status, d.code);
  }
}

Response finish(const Reply& r, const core::IntakeOptions& opts) {
  log_reply(r.route, r.outcome);
  return render(r, opts);
}

// `value` is `want` with optional parameters, where a charset, if given,
// must be UTF-8 (the parsers read UTF-8 and nothing else).
bool media_type_is(std::string_view value, std::string_view want) {
  const auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  auto semi = value.find(';');
  if (!boost::beast::iequals(trim(value.substr(0, semi)), want)) return false;
  while (semi != std::string_view::npos) {
    value = value.substr(semi + 1);
    semi = value.find(';');
    const auto param = trim(value.substr(0, semi));
    const auto eq = param.find('=');
    if (eq == std::string_view::npos) {
      if (param.empty()) continue;
      return false;
    }
    if (!boost::beast::iequals(trim(param.substr(0, eq)), "charset")) continue;
    auto cs = trim(param.substr(eq + 1));
    if (cs.size() >= 2 && cs.front() == '"' && cs.back() == '"') cs = cs.substr(1, cs.size() - 2);
    if (!boost::beast::iequals(cs, "utf-8")) return false;
  }
  return true;
}

bool content_type_is(const Request& req, std::string_view want) {
  if (req.count(bhttp::field::content_type) != 1) return false;
  return media_type_is(req[bhttp::field::content_type], want);
}

bool valid_origin(std::string_view o) {
  std::string_view rest;
  if (o.starts_with("https://")) {
    rest = o.substr(8);
  } else if (o.starts_with("http://")) {
    rest = o.substr(7);
  } else {
    return false;
  }
  if (rest.empty() || rest.size() > 253 + 6) return false;
  return std::all_of(rest.begin(), rest.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':' ||
           c == '[' || c == ']';
  });
}

// The language of a request: "?lang=" when it names one of ours (the
// switch on the pages, and our own links once a person chose), else the
// best match of Accept-Language, else the instance's default.
i18n::Lang request_language(const Request& req) {
  const std::string_view target = req.target();
  const auto q = target.find('?');
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
      const auto amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      if (pair.starts_with("lang=")) {
        if (const auto l = i18n::parse(pair.substr(5)); l && pair.size() <= 10) return *l;
      }
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  return i18n::negotiate(req[bhttp::field::accept_language], i18n::default_language());
}

}  // namespace

Result<std::unique_ptr<IntakeRoutes>> IntakeRoutes::create(IntakeRoutesOptions options,
                                                           services::SubmissionSink& sink) {
  for (const auto& o : options.allowed_origins) {
    if (!valid_origin(o)) {
      return fail(Errc::config,
                  "intake: allowed_origins entries must be lower-case http(s)://host[:port]");
    }
  }
  auto limiter = RateLimiter::create(RateLimiterOptions{
      options.rate_per_second, options.burst, options.rate_max_clients});
  if (!limiter) return std::unexpected(limiter.error());
  (*limiter)->share_with(options.shared_rate_limit);
  return std::unique_ptr<IntakeRoutes>(
      new IntakeRoutes(std::move(options), sink, std::move(*limiter)));
}

IntakeRoutes::IntakeRoutes(IntakeRoutesOptions options, services::SubmissionSink& sink,
                           std::unique_ptr<RateLimiter> limiter)
    : opts_(std::move(options)), sink_(sink), limiter_(std::move(limiter)) {}

Handler IntakeRoutes::handler() {
  return [this](Request&& req, const RequestContext& ctx, Responder respond) {
    handle(std::move(req), ctx, std::move(respond));
  };
}

ErrorRenderer IntakeRoutes::error_renderer() const {
  return [this](ProtocolError e) { return protocol_error(e); };
}

Response IntakeRoutes::protocol_error(ProtocolError e) const {
  Outcome o = Outcome::internal;
  switch (e) {
    case ProtocolError::malformed: o = Outcome::malformed; break;
    case ProtocolError::header_too_large: o = Outcome::header_too_large; break;
    case ProtocolError::body_too_large: o = Outcome::body_too_large; break;
    case ProtocolError::internal: o = Outcome::internal; break;
  }
  return finish(Reply(Route::none, o), opts_.intake);
}

bool IntakeRoutes::origin_allowed(std::string_view origin) const {
  return std::find(opts_.allowed_origins.begin(), opts_.allowed_origins.end(), origin) !=
         opts_.allowed_origins.end();
}

// Routes:
//   GET|HEAD /                   sign-up page
//   GET|HEAD /thanks             thank-you page
//   GET|HEAD /static/rempart.css its stylesheet
//   POST / and POST /signup      form post: 303 to /thanks, 400 form again, 403 cross-site, 415, 429, 503
//   POST /api/v1/people/person_signup_helper   OSDI: 202, 400, 415, 429, 503
//   OPTIONS (same path)          CORS preflight: 204 for a listed origin, else 403
//   GET|HEAD /confirm?t=…        a confirmation link: a page whose button posts back
//   POST /confirm?t=…            confirms (the keeper checks the token): 200, 429, 503
//   GET|HEAD /unsubscribe?t=…    an unsubscribe link: a page whose button posts back
//   POST /unsubscribe?t=…        RFC 8058 one-click or the button: 200, 429, 503
//   GET|HEAD /manage             asks for the address to mail a self-service link to
//   POST /manage                 that address: 200 whether known or not, 400, 403 cross-site, 429, 503
//   GET|HEAD /manage?t=…         a self-service link: what the person may do
//   POST /manage?t=…             one step (export, withdraw, correct, erase): 200, 400, 429, 503
//   anything else                404; a known path with another method 405 with Allow
void IntakeRoutes::handle(Request&& req, const RequestContext& ctx, Responder respond) {
  // Every page and message of this request in its language; the answers
  // are rendered before this returns (submit() renders both in advance).
  const i18n::Scope language(request_language(req));
  const Route route = route_of(req.target());
  const auto method = req.method();
  const bool get = method == bhttp::verb::get || method == bhttp::verb::head;
  Reply reply(route);
  switch (route) {
    case Route::page:
    case Route::thanks:
    case Route::stylesheet:
      // The form posts back to the page's own address (form_page).
      if (route == Route::page && method == bhttp::verb::post) {
        return post_signup(std::move(req), ctx, std::move(respond));
      }
      if (!get) {
        reply.outcome = Outcome::method_not_allowed;
        reply.allow = route == Route::page ? "GET, HEAD, POST" : "GET, HEAD";
      } else {
        reply.outcome = route == Route::page     ? Outcome::page
                        : route == Route::thanks ? Outcome::thanks
                                                 : Outcome::stylesheet;
        reply.confirmation_mail = opts_.confirmation_mail;
      }
      return respond(finish(reply, opts_.intake));
    case Route::logo:
      if (!get) {
        reply.outcome = Outcome::method_not_allowed;
        reply.allow = "GET, HEAD";
      } else {
        reply.outcome = opts_.intake.logo.empty() ? Outcome::not_found : Outcome::logo;
      }
      return respond(finish(reply, opts_.intake));
    case Route::icon:
      if (!get) {
        reply.outcome = Outcome::method_not_allowed;
        reply.allow = "GET, HEAD";
      } else {
        reply.outcome = Outcome::no_icon;
      }
      return respond(finish(reply, opts_.intake));
    case Route::signup:
      if (method == bhttp::verb::post) return post_signup(std::move(req), ctx, std::move(respond));
      reply.outcome = Outcome::method_not_allowed;
      reply.allow = "POST";
      return respond(finish(reply, opts_.intake));
    case Route::osdi: {
      if (method == bhttp::verb::post) return post_osdi(std::move(req), ctx, std::move(respond));
      if (method == bhttp::verb::options) {
        const auto origin = req[bhttp::field::origin];
        const auto asked = req[bhttp::field::access_control_request_method];
        if (req.count(bhttp::field::origin) == 1 && origin_allowed(origin) &&
            (asked.empty() || asked == "POST")) {
          reply.outcome = Outcome::preflight_ok;
          reply.cors_origin = std::string(origin);
        } else {
          reply.outcome = Outcome::forbidden_origin;
        }
        return respond(finish(reply, opts_.intake));
      }
      reply.outcome = Outcome::method_not_allowed;
      reply.allow = "OPTIONS, POST";
      return respond(finish(reply, opts_.intake));
    }
    case Route::manage:
      if (!opts_.confirmation_mail) {  // without mail, no link can reach anyone
        reply.outcome = Outcome::not_found;
        return respond(finish(reply, opts_.intake));
      }
      if (method == bhttp::verb::post) return post_manage(std::move(req), ctx, std::move(respond));
      if (!get) {
        reply.outcome = Outcome::method_not_allowed;
        reply.allow = "GET, HEAD, POST";
      } else {
        reply.outcome = link_token(req.target()).empty() ? Outcome::manage_page : Outcome::manage_options;
      }
      return respond(finish(reply, opts_.intake));
    case Route::confirm:
    case Route::unsubscribe:
      if (method == bhttp::verb::post) return post_link(std::move(req), ctx, std::move(respond));
      if (!get) {
        reply.outcome = Outcome::method_not_allowed;
        reply.allow = "GET, HEAD, POST";
      } else {
        reply.outcome = route == Route::confirm ? Outcome::confirm_page : Outcome::unsubscribe_page;
      }
      return respond(finish(reply, opts_.intake));
    case Route::unknown_page:
    case Route::unknown_api:
    case Route::none:
      reply.outcome = Outcome::not_found;
      return respond(finish(reply, opts_.intake));
  }
}

namespace {

// How long a client refused for space is asked to wait: space comes back
// when an operator frees it, not within seconds.
constexpr std::chrono::seconds kNoRoomRetryAfter{120};

// Hands `fields` (a person, or a link followed) to the sink and answers
// once it is durable. Both possible answers are built before the hand-over,
// so the sink's callback touches nothing but the Responder (it may run
// after these routes are gone). Without room in the inbox (`room` says so;
// null: no check) nothing is sealed or queued: `failed` becomes a 503 that
// asks the client to come back later.
void submit(services::SubmissionSink& sink, services::InboxRoom* room, std::vector<core::Field> fields, Reply ok,
            Reply failed, const core::IntakeOptions& opts, Responder respond) {
  if (room != nullptr && !room->has_room()) {
    failed.outcome = Outcome::no_room;
    failed.retry_after = kNoRoomRetryAfter;
    return respond(finish(failed, opts));
  }
  // The request's language goes with what it asks for: the keeper writes
  // the mails it leads to (confirmation, welcome, self-service) in it.
  fields.push_back(core::Field{core::field::lang, std::string(i18n::code(i18n::current()))});
  auto ok_res = render(ok, opts);
  auto failed_res = render(failed, opts);
  sink.submit(std::move(fields), [respond = std::move(respond), ok_res = std::move(ok_res),
                                  failed_res = std::move(failed_res), route = ok.route,
                                  ok_outcome = ok.outcome,
                                  failed_outcome = failed.outcome](bool durable) mutable {
    log_reply(route, durable ? ok_outcome : failed_outcome);
    respond(durable ? std::move(ok_res) : std::move(failed_res));
  });
}

// The token of a mailed link: the value of the target's "t" parameter when
// it has the shape of one (43 base64url characters, services::LinkToken);
// "" otherwise. Whether it is valid only the keeper knows.
std::string link_token(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return "";
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (pair.starts_with("t=")) {
      const std::string_view v = pair.substr(2);
      const bool shaped = v.size() == 43 && std::all_of(v.begin(), v.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      });
      return shaped ? std::string(v) : "";
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return "";
}

std::string client_key(const RequestContext& ctx) {
  if (ctx.client.is_unspecified()) return "unknown";
  return rate_key(ctx.client);
}

}  // namespace

namespace {

// The checks every form post takes before its body is read: another site's
// page (when `from_our_page_only`), the rate limit per client, the content
// type. True (and `reply` set) when the post is refused.
bool refuse_form(const Request& req, const RequestContext& ctx, bool from_our_page_only, RateLimiter& limiter,
                 const std::vector<std::string>& allowed_origins, Reply& reply) {
  // A form posted by another site's page is refused: any web page could
  // otherwise make its visitors' browsers sign up addresses of its choosing
  // (docs/intake-api.md). The intake does not know whether a proxy in front
  // of it speaks TLS: its own origin is the Host header's, either way.
  if (from_our_page_only) {
    const std::string_view host = req[bhttp::field::host];
    const std::string https = "https://" + std::string(host), http = "http://" + std::string(host);
    if (from_another_site(req, {https, http}, allowed_origins)) {
      reply.outcome = Outcome::cross_site_form;
      return true;
    }
  }
  if (const auto d = limiter.acquire(client_key(ctx)); !d.allowed) {
    reply.outcome = Outcome::rate_limited;
    reply.retry_after = d.retry_after;
    return true;
  }
  if (!content_type_is(req, "application/x-www-form-urlencoded")) {
    reply.outcome = Outcome::unsupported_media_type;
    return true;
  }
  return false;
}

}  // namespace

void IntakeRoutes::post_signup(Request&& req, const RequestContext& ctx, Responder respond) {
  Reply reply(Route::signup);
  if (refuse_form(req, ctx, true, *limiter_, opts_.allowed_origins, reply)) return respond(finish(reply, opts_.intake));
  auto raw = core::parse_signup_form(req.body());
  if (raw) {
    // The page's own address carries the query of the link that led to it
    // (form_page): declared sources there count as if posted, after those
    // of the body. A query that cannot be read adds nothing.
    const std::string_view target = req.target();
    if (const auto q = target.find('?'); q != std::string_view::npos) {
      if (auto pairs = core::parse_urlencoded(target.substr(q + 1), 16)) {
        for (auto& pair : *pairs) raw->extra.push_back(std::move(pair));
      }
    }
  }
  auto person = raw ? core::validate_submission(*raw, opts_.intake)
                    : std::expected<core::Person, core::FieldErrors>(std::unexpect, raw.error());
  if (!person) {
    reply.outcome = Outcome::invalid_input;
    reply.errors = std::move(person.error());
    return respond(finish(reply, opts_.intake));
  }
  Reply failed = reply;
  reply.outcome = Outcome::signed_up;
  failed.outcome = Outcome::unavailable;
  // The words beside each box ticked: what the person agreed to.
  auto fields = core::to_fields(*person);
  if (person->consent.email) fields.push_back(core::Field{core::field::consent_email_text, consent_wording(opts_.intake, false)});
  if (person->consent.sms) fields.push_back(core::Field{core::field::consent_sms_text, consent_wording(opts_.intake, true)});
  if (auto source = core::signup_source(*raw, opts_.intake); !source.empty()) {
    fields.push_back(core::Field{core::field::source, std::move(source)});
  }
  submit(sink_, opts_.inbox_room, std::move(fields), std::move(reply), std::move(failed), opts_.intake,
         std::move(respond));
}

// A mailed link's button, or an RFC 8058 one-click POST from a mail client
// (body "List-Unsubscribe=One-Click", no cookie, no Origin): the token in
// the address is sealed into the inbox for the keeper to check, and the
// answer is the same whatever it was. No cross-site check: a page that does
// not know a token can do nothing with these routes. A token without the
// shape of one is not stored (it cannot be valid), with the same answer.
void IntakeRoutes::post_link(Request&& req, const RequestContext& ctx, Responder respond) {
  const Route route = route_of(req.target());
  Reply reply(route);
  if (const auto d = limiter_->acquire(client_key(ctx)); !d.allowed) {
    reply.outcome = Outcome::rate_limited;
    reply.retry_after = d.retry_after;
    return respond(finish(reply, opts_.intake));
  }
  reply.outcome = route == Route::confirm ? Outcome::confirm_done : Outcome::unsubscribe_done;
  std::string token = link_token(req.target());
  if (token.empty()) return respond(finish(reply, opts_.intake));
  Reply failed = reply;
  failed.outcome = Outcome::unavailable;
  const core::LinkAction link{route == Route::confirm ? "confirm" : "unsubscribe", std::move(token), "", ""};
  submit(sink_, opts_.inbox_room, core::to_fields(link), std::move(reply), std::move(failed), opts_.intake,
         std::move(respond));
}

// The self-service routes. Without a token: the address a link is asked
// for (a form of our page: cross-site posts refused, as for sign-ups, since
// it makes the keeper write to an address). With one: a step the link's
// page posted (export, withdraw, correct, erase), sealed with the token for
// the keeper to check; corrections are validated here first, so that the
// person sees a mistake at once, and the answer never depends on the token.
void IntakeRoutes::post_manage(Request&& req, const RequestContext& ctx, Responder respond) {
  Reply reply(Route::manage);
  std::string token = link_token(req.target());
  if (refuse_form(req, ctx, token.empty(), *limiter_, opts_.allowed_origins, reply)) {
    return respond(finish(reply, opts_.intake));
  }
  auto pairs = core::parse_urlencoded(req.body(), 16);
  if (!pairs) {
    reply.outcome = token.empty() ? Outcome::manage_invalid : Outcome::manage_options_invalid;
    reply.errors = {core::FieldError{"body", "malformed"}};
    return respond(finish(reply, opts_.intake));
  }
  auto value = [&](std::string_view name) -> const std::string* {
    for (const auto& [k, v] : *pairs) {
      if (k == name) return &v;
    }
    return nullptr;
  };
  Reply failed(Route::manage, Outcome::unavailable);
  if (token.empty()) {
    const std::string* email = value("email");
    auto normalised = email ? core::normalize_email(*email) : std::unexpected(std::string("required"));
    if (!normalised || pairs->size() != 1) {
      reply.outcome = Outcome::manage_invalid;
      reply.errors = {core::FieldError{"email", normalised ? "malformed" : normalised.error()}};
      return respond(finish(reply, opts_.intake));
    }
    reply.outcome = Outcome::manage_sent;
    core::LinkAction request{"manage_request", "", "", std::move(*normalised)};
    return submit(sink_, opts_.inbox_room, core::to_fields(request), std::move(reply), std::move(failed), opts_.intake,
                  std::move(respond));
  }
  const std::string* step = value("step");
  const bool known_step = step && (*step == "export" || *step == "withdraw" || *step == "correct" || *step == "erase");
  core::Person corrections;
  core::FieldErrors errors;
  if (!known_step) errors.push_back(core::FieldError{"body", "malformed"});
  if (known_step && *step == "erase") {
    const std::string* understood = value("understood");
    if (!understood || *understood != "on") errors.push_back(core::FieldError{"understood", "required"});
  }
  if (known_step && *step == "correct") {
    for (const auto& [k, v] : *pairs) {
      if (k == "step") continue;
      const std::string& name = k;  // clang 14 cannot capture a structured binding
      const bool offered = name != "email" && name != "street" && collects(opts_.intake, name) &&
                           std::any_of(std::begin(kFormFields), std::end(kFormFields),
                                       [&](const FormField& f) { return name == f.name; });
      if (!offered) {
        errors.push_back(core::FieldError{"body", "malformed"});
        continue;
      }
      if (core::text::trim_unicode(v).empty()) continue;  // kept as it is
      std::expected<std::string, std::string> n =
          k == "phone"         ? core::normalize_phone(v, opts_.intake.default_region)
          : k == "postal_code" ? core::normalize_postal_code(v)
          : k == "country"     ? core::normalize_country(v)
                               : core::normalize_name(v);
      if (!n) {
        errors.push_back(core::FieldError{k, n.error()});
        continue;
      }
      std::string* slot = k == "given_name"    ? &corrections.given_name
                          : k == "family_name" ? &corrections.family_name
                          : k == "phone"       ? &corrections.phone
                          : k == "postal_code" ? &corrections.postal_code
                          : k == "locality"    ? &corrections.locality
                                               : &corrections.country;
      *slot = std::move(*n);
    }
  }
  if (!errors.empty()) {
    reply.outcome = Outcome::manage_options_invalid;
    reply.errors = std::move(errors);
    return respond(finish(reply, opts_.intake));
  }
  reply.outcome = Outcome::manage_done;
  reply.step = *step;
  core::LinkAction link{"manage", std::move(token), *step, ""};
  submit(sink_, opts_.inbox_room, core::to_fields(link, corrections), std::move(reply), std::move(failed), opts_.intake,
         std::move(respond));
}

void IntakeRoutes::post_osdi(Request&& req, const RequestContext& ctx, Responder respond) {
  Reply reply(Route::osdi);
  if (req.count(bhttp::field::origin) == 1 && origin_allowed(req[bhttp::field::origin])) {
    reply.cors_origin = std::string(req[bhttp::field::origin]);
  }
  if (const auto d = limiter_->acquire(client_key(ctx)); !d.allowed) {
    reply.outcome = Outcome::rate_limited;
    reply.retry_after = d.retry_after;
    return respond(finish(reply, opts_.intake));
  }
  if (!content_type_is(req, "application/json")) {
    reply.outcome = Outcome::unsupported_media_type;
    return respond(finish(reply, opts_.intake));
  }
  auto raw = core::parse_osdi_signup(req.body());
  auto person = raw ? core::validate_submission(*raw, opts_.intake)
                    : std::expected<core::Person, core::FieldErrors>(std::unexpect, raw.error());
  if (!person) {
    reply.outcome = Outcome::invalid_input;
    reply.errors = std::move(person.error());
    return respond(finish(reply, opts_.intake));
  }
  // The same 202 for everyone: the intake cannot know whether a person is
  // already held, and must not pretend to (unlike OSDI peers that answer
  // with the stored person).
  Reply failed = reply;
  reply.outcome = Outcome::accepted;
  failed.outcome = Outcome::unavailable;
  auto fields = core::to_fields(*person);
  if (!raw->autoresponse) fields.push_back(core::Field{core::field::autoresponse, "0"});
  if (auto source = core::signup_source(*raw, opts_.intake); !source.empty()) {
    fields.push_back(core::Field{core::field::source, std::move(source)});
  }
  submit(sink_, opts_.inbox_room, std::move(fields), std::move(reply), std::move(failed), opts_.intake,
         std::move(respond));
}

}  // namespace rempart::http
