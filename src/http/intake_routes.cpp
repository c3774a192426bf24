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

#include "core/text.hpp"
#include "core/urlencoded.hpp"
#include "http/cross_site.hpp"

namespace rempart::http {

namespace bhttp = boost::beast::http;

namespace {

// Routes, by fixed name: log lines name these, never the request target
// (a target can carry anything, e-mail addresses included).
enum class Route { page, thanks, stylesheet, icon, signup, osdi, confirm, unsubscribe, manage, unknown_page, unknown_api, none };

const char* route_name(Route r) noexcept {
  switch (r) {
    case Route::page: return "page";
    case Route::thanks: return "thanks";
    case Route::stylesheet: return "stylesheet";
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
    case Outcome::page: return {S::ok, "ok", "Sign up", ""};
    case Outcome::thanks: return {S::ok, "ok", "Thank you", ""};
    case Outcome::stylesheet: return {S::ok, "ok", "", ""};
    case Outcome::no_icon: return {S::no_content, "ok", "", ""};
    case Outcome::signed_up:
      return {S::see_other, "accepted", "Thank you", "Thank you. Continue to the next page."};
    case Outcome::accepted: return {S::accepted, "accepted", "Accepted", "Accepted."};
    case Outcome::preflight_ok: return {S::no_content, "ok", "", ""};
    case Outcome::invalid_input:
      return {S::bad_request, "invalid_input", "Sign up", "Some fields need attention."};
    case Outcome::malformed:
      return {S::bad_request, "malformed", "Bad request", "The request could not be read."};
    case Outcome::forbidden_origin:
      return {S::forbidden, "origin_not_allowed", "Forbidden", "This origin may not use this API."};
    case Outcome::cross_site_form:
      return {S::forbidden, "cross_site_form", "Please sign up on our own page",
              "This form was sent from another website, so nothing was kept. If you meant to sign up, "
              "please fill in the form on our own sign-up page."};
    case Outcome::not_found:
      return {S::not_found, "not_found", "Page not found", "There is no page at this address."};
    case Outcome::method_not_allowed:
      return {S::method_not_allowed, "method_not_allowed", "Method not allowed",
              "This address does not accept this method."};
    case Outcome::body_too_large:
      return {S::payload_too_large, "body_too_large", "Request too large",
              "The request body is too large."};
    case Outcome::unsupported_media_type:
      return {S::unsupported_media_type, "unsupported_media_type", "Unsupported content type",
              "The request body has a content type this address does not accept."};
    case Outcome::rate_limited:
      return {S::too_many_requests, "rate_limited", "Too many requests",
              "Too many requests from your network. Please wait a moment and try again."};
    case Outcome::header_too_large:
      return {S::request_header_fields_too_large, "header_too_large", "Request header too large",
              "The request header is too large."};
    case Outcome::internal:
      return {S::internal_server_error, "internal", "Something went wrong",
              "Something went wrong on our side. Please try again later."};
    case Outcome::unavailable:
      return {S::service_unavailable, "unavailable", "Please try again later",
              "We could not record your request just now. Nothing was kept. "
              "Please try again in a few minutes."};
    case Outcome::confirm_page: return {S::ok, "ok", "Confirm your subscription", ""};
    case Outcome::confirm_done:
      return {S::ok, "ok", "Thank you",
              "If the link was valid, your subscription is now confirmed and a welcome message is on its "
              "way, with your personal anti-phishing phrase. If nothing arrives within the hour, the link "
              "had expired or was used already: sign up again to receive a new one."};
    case Outcome::unsubscribe_page: return {S::ok, "ok", "Unsubscribe", ""};
    case Outcome::manage_page: return {S::ok, "ok", "Your data", ""};
    case Outcome::manage_invalid: return {S::bad_request, "invalid_input", "Error: Your data", ""};
    case Outcome::manage_sent:
      return {S::ok, "ok", "Check your mailbox",
              "If this address is in our records, we have sent it a link that lets you receive, correct or "
              "erase what we hold about you. It works once, for 30 minutes. This page never shows whether an "
              "address is known to us, nor anything we hold: your mailbox is the only way in."};
    case Outcome::manage_options: return {S::ok, "ok", "Your data", ""};
    case Outcome::manage_options_invalid: return {S::bad_request, "invalid_input", "Error: Your data", ""};
    case Outcome::manage_done: return {S::ok, "ok", "Thank you", ""};
    case Outcome::unsubscribe_done:
      return {S::ok, "ok", "You are unsubscribed",
              "If the link came from one of our messages, your address will receive no more news from us, "
              "within a minute. Nothing else about you has changed; to receive, correct or erase what we "
              "hold, write to us."};
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
  std::chrono::seconds retry_after{0};     // rate_limited
  std::string cors_origin;                 // a listed origin, to be named in ACAO
  bool confirmation_mail = false;          // thanks: a confirmation mail follows an e-mail consent
  std::string step;                        // manage_done: export | withdraw | correct | erase
};

// ---- HTML ------------------------------------------------------------------
// Every HTML byte below is a fixed string of ours: no page ever contains any
// part of a request, so nothing here needs escaping and nothing can be
// reflected.

struct FormField {
  const char* name;  // as in core::field and the form post
  const char* label;
  const char* type;
  const char* autocomplete;
  const char* inputmode;  // nullptr: none
  const char* hint;       // nullptr: none
  bool contact;           // one of the "e-mail or phone" pair
};

constexpr FormField kFormFields[] = {
    {"given_name", "First name", "text", "given-name", nullptr, nullptr, false},
    {"family_name", "Last name", "text", "family-name", nullptr, nullptr, false},
    {"email", "E-mail address", "email", "email", "email", nullptr, true},
    {"phone", "Phone number", "tel", "tel", "tel",
     "For a number from another country, start with + and the country code.", true},
    {"street", "Street address", "text", "address-line1", nullptr, nullptr, false},
    {"postal_code", "Postcode", "text", "postal-code", nullptr, nullptr, false},
    {"locality", "Town or city", "text", "address-level2", nullptr, nullptr, false},
    {"country", "Country", "text", "country", nullptr, "A code or a name, for example FR or France.", false},
};

// `either`: the field is one of the "e-mail or phone" pair, not required
// on its own by the schema.
const char* field_message(std::string_view field, std::string_view code, bool either = true) {
  if (code == "required") {
    if (either && (field == "email" || field == "phone")) return "Give an e-mail address or a phone number.";
    return "This field cannot be empty.";
  }
  if (code == "invalid_email") return "Enter an e-mail address in the form name@example.org.";
  if (code == "invalid_phone") return "Enter a phone number, with + and the country code if it is from another country.";
  if (code == "invalid_postal_code") return "Enter a postcode using letters, digits and hyphens only.";
  if (code == "invalid_country") return "Enter a country code or name, for example FR or France.";
  if (code == "too_long") return "This is too long.";
  if (code == "forbidden_characters" || code == "invalid_utf8") {
    return "This contains characters we cannot accept.";
  }
  return "Check this field.";
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

std::string page_head(std::string_view title) {
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
  h += title;
  h += "</title>\n<link rel=\"stylesheet\" href=\"/static/rempart.css\">\n</head>\n<body>\n<main>\n";
  return h;
}

constexpr std::string_view kPageFoot = "</main>\n</body>\n</html>\n";

std::string message_page(const Description& d, bool link_home) {
  std::string h = page_head(d.title);
  h += "<h1>";
  h += d.title;
  h += "</h1>\n<p>";
  h += d.message;
  h += "</p>\n";
  if (link_home) h += "<p><a href=\"/\">Back to the sign-up form</a></p>\n";
  h += kPageFoot;
  return h;
}

std::string thanks_page(bool confirmation_mail) {
  std::string h = page_head("Thank you");
  h += "<h1>Thank you</h1>\n"
       "<p>We have received your sign-up. It is stored encrypted: only the people who organise with us "
       "can read it, and each time they do is recorded.</p>\n";
  if (confirmation_mail) {
    h += "<p>If you agreed to receive our e-mails, we are sending you a message to confirm it: we write "
         "to you only once you have pressed the button it leads to. Once you have, a welcome message "
         "gives you your personal anti-phishing phrase. Every message from us quotes it: a message "
         "without it is not from us.</p>\n";
  }
  if (confirmation_mail) {
    h += "<p>At any time, on the <a href=\"/manage\">Your data</a> page, you can receive, correct or "
         "erase what you gave us, or stop our messages: we mail you a link to do it.</p>\n";
  } else {
    h += "<p>You can ask us at any time to show you, correct or erase what you gave us, or to stop "
         "sending you news.</p>\n";
  }
  h += kPageFoot;
  return h;
}

// A page reached by a mailed link: its button posts back to the page's own
// address (a form without an action), so the token in the address is never
// written into the page. Opening the page changes nothing: mail scanners
// open links.
std::string link_page(std::string_view title, std::string_view text, std::string_view button) {
  std::string h = page_head(title);
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

// The address a self-service link is mailed to: asked, never shown again.
std::string manage_request_page(const core::FieldErrors* errors) {
  std::string h = page_head(errors ? "Error: Your data" : "Your data");
  h += "<h1>Your data</h1>\n";
  if (errors) {
    h += "<div class=\"error-summary\" role=\"alert\" aria-labelledby=\"error-summary-title\">\n"
         "<h2 id=\"error-summary-title\">There is a problem</h2>\n"
         "<ul>\n<li><a href=\"#email\">E-mail address: Enter an e-mail address in the form "
         "name@example.org.</a></li>\n</ul>\n</div>\n";
  }
  h += "<p>To receive what we hold about you, correct it, stop our messages or erase it, give the e-mail "
       "address you signed up with. If it is in our records, we send it a link that works once, for 30 "
       "minutes. We never show on this site whether an address is known to us, nor anything we hold.</p>\n"
       "<form method=\"post\" action=\"/manage\" accept-charset=\"utf-8\" novalidate>\n"
       "<div class=\"field";
  if (errors) h += " field-error";
  h += "\">\n<label for=\"email\">E-mail address</label>\n";
  if (errors) {
    h += "<p class=\"error-message\" id=\"email-error\"><span class=\"visually-hidden\">Error: </span>"
         "Enter an e-mail address in the form name@example.org.</p>\n";
  }
  h += "<input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" inputmode=\"email\" "
       "autocapitalize=\"off\" spellcheck=\"false\"";
  if (errors) h += " aria-invalid=\"true\" aria-describedby=\"email-error\"";
  h += ">\n</div>\n<button type=\"submit\">Send me a link</button>\n</form>\n";
  h += kPageFoot;
  return h;
}

// Configuration text in a page (the consent wording): escaped, although no
// request ever reaches it.
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

// The privacy notice under the sign-up form (IntakeOptions::privacy): who
// keeps the data, what for, on what basis, how long, who receives it, the
// person's rights and whom to ask. Configuration text, escaped.
std::string privacy_notice(const core::IntakeOptions& o) {
  const auto& p = o.privacy;
  if (p.controller.empty()) return {};
  std::string h = "<section class=\"privacy\" aria-labelledby=\"privacy-h\">\n"
                  "<h2 id=\"privacy-h\">How we use your data</h2>\n<p>";
  h += html_text(p.controller) + " keeps what you give here";
  if (!p.purpose.empty()) h += " to " + html_text(p.purpose);
  h += ". The messages you agree to receive rest on your consent, which you can withdraw at any time, by the "
       "link in each message or on the Your data page.</p>\n<p>";
  const std::string& who = o.organisation.empty() ? p.controller : o.organisation;
  h += p.recipients.empty() ? "Only " + html_text(who) + " and the people who work for it see it."
                            : "Who receives it: " + html_text(p.recipients) + ".";
  if (!p.retention.empty()) h += " How long it is kept: " + html_text(p.retention) + ".";
  h += "</p>\n<p>You may receive a copy of your data, correct it or have it erased at any time on the "
       "<a href=\"/manage\">Your data</a> page";
  if (!p.contact.empty()) h += ", or by writing to " + html_text(p.contact);
  h += ". You may also lodge a complaint with the data protection authority (in France, the CNIL).</p>\n"
       "</section>\n";
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
  std::string h = page_head(errors ? "Error: Your data" : "Your data");
  h += "<h1>Your data</h1>\n";
  if (errors) {
    h += "<div class=\"error-summary\" role=\"alert\" aria-labelledby=\"error-summary-title\">\n"
         "<h2 id=\"error-summary-title\">There is a problem</h2>\n"
         "<p>Nothing was changed, and the link still works. Please try again.</p>\n<ul>\n";
    for (const auto& e : *errors) {
      if (e.field == "understood") {
        h += "<li><a href=\"#understood\">Tick the box to confirm the erasure.</a></li>\n";
        continue;
      }
      const auto* known = std::find_if(std::begin(kFormFields), std::end(kFormFields),
                                       [&](const FormField& f) { return e.field == f.name; });
      if (known == std::end(kFormFields)) {
        h += "<li>Part of the form could not be read.</li>\n";
        continue;
      }
      h += "<li><a href=\"#";
      h += known->name;
      h += "\">";
      h += known->label;
      h += ": ";
      h += field_message(e.field, e.code);
      h += "</a></li>\n";
    }
    h += "</ul>\n</div>\n";
  }
  h += "<p>This link works once: after one of the steps below, ask for a new link to take another. "
       "We never show here what we hold.</p>\n"
       "<h2>Receive what we hold about you</h2>\n"
       "<p>We send it to your e-mail address, as a readable text and as a JSON file.</p>\n"
       "<form method=\"post\">\n<input type=\"hidden\" name=\"step\" value=\"export\">\n"
       "<button type=\"submit\">Send me my data</button>\n</form>\n"
       "<h2>Stop our messages</h2>\n"
       "<p>Withdraws your agreement to receive our e-mails and text messages. We keep your details.</p>\n"
       "<form method=\"post\">\n<input type=\"hidden\" name=\"step\" value=\"withdraw\">\n"
       "<button type=\"submit\">Stop all messages</button>\n</form>\n"
       "<h2>Correct your details</h2>\n"
       "<p>Fill in only what is wrong: an empty field keeps what we hold. To change your e-mail address, "
       "sign up again with the new one, then erase this one.</p>\n"
       "<form method=\"post\" accept-charset=\"utf-8\" novalidate>\n"
       "<input type=\"hidden\" name=\"step\" value=\"correct\">\n";
  for (const auto& f : kFormFields) {
    const std::string_view name = f.name;
    if (name == "email" || name == "street" || !collects(o, name)) continue;
    render_input(h, f, Need::optional, errors);  // every correction is optional
  }
  h += "<button type=\"submit\">Save my corrections</button>\n</form>\n"
       "<h2>Erase everything</h2>\n"
       "<p>Erases your record, your consents and our notes about you. It cannot be undone. We keep only a "
       "one-way fingerprint of your e-mail address and phone number, so that an import of an old list "
       "cannot bring you back; signing up again yourself lifts it.</p>\n"
       "<form method=\"post\">\n<input type=\"hidden\" name=\"step\" value=\"erase\">\n"
       "<div class=\"checkbox";
  const bool unconfirmed = errors && std::any_of(errors->begin(), errors->end(),
                                                 [](const core::FieldError& e) { return e.field == "understood"; });
  if (unconfirmed) h += " field-error";
  h += "\">\n<input type=\"checkbox\" id=\"understood\" name=\"understood\" required";
  if (unconfirmed) h += " aria-invalid=\"true\"";
  h += ">\n<label for=\"understood\">I understand that my data will be erased for good.</label>\n</div>\n"
       "<button type=\"submit\" class=\"danger\">Erase me</button>\n</form>\n";
  h += kPageFoot;
  return h;
}

const char* manage_done_text(std::string_view step) {
  if (step == "export") {
    return "If the link was valid, what we hold about you is on its way to your e-mail address, within a few "
           "minutes.";
  }
  if (step == "withdraw") {
    return "If the link was valid, you will receive no more messages from us, within a minute.";
  }
  if (step == "correct") return "If the link was valid, your corrections are saved, within a minute.";
  return "If the link was valid, your data is erased, within a minute. We will not write to you again.";
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
  h += f.label;
  h += need == Need::contact    ? " <span class=\"marker\">(e-mail or phone)</span>"
       : need == Need::required ? " <span class=\"marker\">(required)</span>"
                                : " <span class=\"marker\">(optional)</span>";
  h += "</label>\n";
  if (f.hint) {
    h += "<p class=\"hint\" id=\"" + name + "-hint\">";
    h += f.hint;
    h += "</p>\n";
  }
  if (err) {
    h += "<p class=\"error-message\" id=\"" + name + "-error\"><span class=\"visually-hidden\">Error: </span>";
    h += field_message(err->field, err->code, need != Need::required);
    h += "</p>\n";
  }
  h += "<input id=\"" + name + "\" name=\"" + name + "\" type=\"";
  h += f.type;
  h += "\" autocomplete=\"";
  h += f.autocomplete;
  h += "\"";
  if (f.inputmode) {
    h += " inputmode=\"";
    h += f.inputmode;
    h += "\"";
  }
  if (std::string_view(f.type) == "email") h += " autocapitalize=\"off\" spellcheck=\"false\"";
  if (std::string_view(f.name) == "country") h += " maxlength=\"60\"";
  if (!described.empty()) h += " aria-describedby=\"" + described + "\"";
  if (err) h += " aria-invalid=\"true\"";
  h += ">\n</div>\n";
}

// The sign-up form. When `errors` is set it is shown again with a message
// per field, but deliberately EMPTY: this page must never reflect anything
// that was posted (no value="..." from the request, ever), so that it cannot
// carry injected markup and never shows one person's data to another. The
// person is asked to fill it in again instead.
std::string form_page(const core::IntakeOptions& o, const core::FieldErrors* errors) {
  const std::string title = o.organisation.empty() ? std::string("Sign up")
                                                   : "Sign up \xE2\x80\x93 " + html_text(o.organisation);
  std::string h = page_head(errors ? "Error: " + title : title);
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
    h += "<div class=\"error-summary\" role=\"alert\" aria-labelledby=\"error-summary-title\">\n"
         "<h2 id=\"error-summary-title\">There is a problem</h2>\n"
         "<p>Nothing you sent has been kept. Please fill in the form again.</p>\n<ul>\n";
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
      h += known->label;
      h += ": ";
      h += field_message(e.field, e.code, need_of(*known) != Need::required);
      h += "</a></li>\n";
    }
    if (general) h += "<li>Part of the form could not be read.</li>\n";
    h += "</ul>\n</div>\n";
  }
  h += "<p id=\"contact-note\">";
  if (either) {
    h += "Give at least an e-mail address or a phone number: those two fields are marked "
         "\xE2\x80\x9C(e-mail or phone)\xE2\x80\x9D. ";
  } else if (!required("email") && !required("phone")) {
    h += "The field marked \xE2\x80\x9C(e-mail or phone)\xE2\x80\x9D is required. ";
  }
  if (!o.require.empty()) h += "Fields marked \xE2\x80\x9C(required)\xE2\x80\x9D must be filled in. ";
  h += "Every field marked \xE2\x80\x9C(optional)\xE2\x80\x9D may be left empty.";
  // No action: the form posts back to the page's own address, so that the
  // query that led here (utm_* and the like, IntakeOptions::sources) comes
  // with it without this page ever writing a byte of it.
  h += "</p>\n<form method=\"post\" accept-charset=\"utf-8\" novalidate>\n";

  h += "<fieldset>\n<legend>About you</legend>\n";
  for (const auto& f : kFormFields) {
    if (!f.contact && collects(o, f.name)) render_input(h, f, need_of(f), errors);
  }
  h += "</fieldset>\n<fieldset>\n<legend>How to reach you</legend>\n";
  for (const auto& f : kFormFields) {
    if (f.contact && collects(o, f.name)) render_input(h, f, need_of(f), errors);
  }
  h += "</fieldset>\n";
  if (email || phone) {
    h += "<fieldset>\n<legend>What you agree to receive</legend>\n"
         "<p class=\"hint\">Leave these unticked if you do not want our messages. "
         "You can change your mind at any time.</p>\n";
    if (email) {
      h += "<div class=\"checkbox\">\n<input type=\"checkbox\" id=\"consent_email\" "
           "name=\"consent_email\">\n"
           "<label for=\"consent_email\">" + html_text(o.consent_email_text) + "</label>\n</div>\n";
    }
    if (phone) {
      h += "<div class=\"checkbox\">\n<input type=\"checkbox\" id=\"consent_sms\" "
           "name=\"consent_sms\">\n"
           "<label for=\"consent_sms\">" + html_text(o.consent_sms_text) + "</label>\n</div>\n";
    }
    h += "</fieldset>\n";
  }
  h += "<button type=\"submit\">Sign up</button>\n</form>\n";
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
input[type="text"], input[type="email"], input[type="tel"] {
  display: block; width: 100%; box-sizing: border-box; font: inherit;
  padding: 0.5rem; border: 2px solid #1b1b1b; border-radius: 0; }
input:focus, button:focus, a:focus { outline: 3px solid #f0b400; outline-offset: 2px; }
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
         background: #1d5c2e; border: 2px solid #1d5c2e; cursor: pointer; }
button.danger { background: #b00020; border-color: #b00020; }
h2 { font-size: 1.375rem; margin: 2rem 0 0.5rem; }
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
        case Outcome::thanks: res.body() = thanks_page(r.confirmation_mail); break;
        case Outcome::confirm_page:
          res.body() = link_page(d.title,
                                 "You opened the link from the message we sent to confirm that you want to "
                                 "receive our news by e-mail. Press the button to confirm.",
                                 "Confirm my subscription");
          break;
        case Outcome::unsubscribe_page:
          res.body() = link_page(d.title,
                                 "Press the button and this address will receive no more news from us. "
                                 "Nothing else changes.",
                                 "Unsubscribe");
          break;
        case Outcome::confirm_done:
        case Outcome::unsubscribe_done: res.body() = message_page(d, false); break;
        case Outcome::manage_page: res.body() = manage_request_page(nullptr); break;
        case Outcome::manage_invalid: res.body() = manage_request_page(&r.errors); break;
        case Outcome::manage_sent: res.body() = message_page(d, false); break;
        case Outcome::manage_options: res.body() = manage_options_page(opts, nullptr); break;
        case Outcome::manage_options_invalid: res.body() = manage_options_page(opts, &r.errors); break;
        case Outcome::manage_done: {
          const Description done{d.status, d.code, d.title, manage_done_text(r.step)};
          res.body() = message_page(done, false);
          break;
        }
        case Outcome::stylesheet:
          res.body() = std::string(kStylesheet);
          content_type = "text/css; charset=utf-8";
          break;
        case Outcome::no_icon: break;
        case Outcome::signed_up: res.body() = message_page(d, false); break;
        default: res.body() = message_page(d, true); break;
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
      res.body() = std::string(d.message) + "\n";
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
          r.outcome == Outcome::stylesheet || r.outcome == Outcome::no_icon ? "public, max-age=3600" : "no-store");

  if (r.outcome == Outcome::signed_up) res.set(bhttp::field::location, "/thanks");
  if (r.outcome == Outcome::method_not_allowed && r.allow) res.set(bhttp::field::allow, r.allow);
  if (r.outcome == Outcome::rate_limited) {
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

// Route, status and code: never a target, a header value or a body.
void log_reply(Route route, Outcome o) {
  const Description d = describe(o);
  const auto status = static_cast<unsigned>(d.status);
  if (status >= 500) {
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

// Hands `fields` (a person, or a link followed) to the sink and answers
// once it is durable. Both possible answers are built before the hand-over,
// so the sink's callback touches nothing but the Responder (it may run
// after these routes are gone).
void submit(services::SubmissionSink& sink, std::vector<core::Field> fields, Reply ok, Reply failed,
            const core::IntakeOptions& opts, Responder respond) {
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
  if (person->consent.email) fields.push_back(core::Field{core::field::consent_email_text, opts_.intake.consent_email_text});
  if (person->consent.sms) fields.push_back(core::Field{core::field::consent_sms_text, opts_.intake.consent_sms_text});
  if (auto source = core::signup_source(*raw, opts_.intake); !source.empty()) {
    fields.push_back(core::Field{core::field::source, std::move(source)});
  }
  submit(sink_, std::move(fields), std::move(reply), std::move(failed), opts_.intake, std::move(respond));
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
  submit(sink_, core::to_fields(link), std::move(reply), std::move(failed), opts_.intake, std::move(respond));
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
    return submit(sink_, core::to_fields(request), std::move(reply), std::move(failed), opts_.intake,
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
  submit(sink_, core::to_fields(link, corrections), std::move(reply), std::move(failed), opts_.intake,
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
  submit(sink_, std::move(fields), std::move(reply), std::move(failed), opts_.intake, std::move(respond));
}

}  // namespace rempart::http
