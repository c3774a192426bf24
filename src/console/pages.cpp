#include "console/pages.hpp"
#include "core/text.hpp"
#include "i18n/i18n.hpp"

#include <qrencode.h>

#include <ctime>
#include <memory>
#include <string>

#include "console/page_parts.hpp"
#include "console/segment_pages.hpp"
#include "core/urlencoded.hpp"

namespace rempart::console {

using i18n::tr;
using i18n::trf;
using i18n::trnf;

std::string utc_text(std::int64_t unix_seconds, const char* format) {
  return core::text::utc_text(unix_seconds, format);
}

std::string when(std::int64_t unix_seconds) {
  if (unix_seconds <= 0) return "—";
  return i18n::date_time(unix_seconds);
}

std::string csrf_field(const Viewer& v) {
  return "<input type=\"hidden\" name=\"csrf\" value=\"" + esc(v.csrf) + "\">";
}

// A POST form holding one button (and hidden fields), for actions.
std::string button_form(const Viewer& v, std::string_view action, std::string_view label,
                        std::string_view extra) {
  std::string s = "<form method=\"post\" action=\"" + esc(action) + "\" class=\"inline\">" + csrf_field(v);
  s += extra;
  s += "<button type=\"submit\">" + esc(label) + "</button></form>";
  return s;
}

std::string notice_html(std::string_view notice) {
  if (notice.empty()) return {};
  return "<p class=\"notice\" role=\"status\">" + esc(notice) + "</p>";
}

std::string qr_svg(std::string_view text) {
  const std::string s(text);
  std::unique_ptr<QRcode, void (*)(QRcode*)> qr(QRcode_encodeString(s.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1),
                                                QRcode_free);
  if (!qr) return {};
  const int w = qr->width;
  const int size = w + 8;  // quiet zone of 4 modules
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"qr\" viewBox=\"0 0 " + std::to_string(size) +
                    " " + std::to_string(size) + "\" role=\"img\" aria-label=\"" + std::string(tr("QR code of the authenticator set-up")) + "\">";
  out += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path fill=\"#000\" d=\"";
  for (int y = 0; y < w; ++y) {
    for (int x = 0; x < w; ++x) {
      if (qr->data[y * w + x] & 1) {
        out += "M" + std::to_string(x + 4) + " " + std::to_string(y + 4) + "h1v1h-1z";
      }
    }
  }
  out += "\"/></svg>";
  return out;
}

std::string code_input(std::string_view id) {
  return "<label for=\"code-" + esc(id) + "\">" + tr("A new code from your authenticator app") + "</label><input id=\"code-" +
         esc(id) + "\" name=\"code\" required maxlength=\"8\" inputmode=\"numeric\" pattern=\"[0-9]{6}\" "
         "autocomplete=\"one-time-code\">";
}

namespace {

std::string masked_table(const std::vector<services::MaskedSupporter>& items) {
  const std::string name = tr("Name"), email = tr("E-mail"), phone = tr("Phone"), postcode = tr("Postcode"),
                    tags = tr("Tags"), added = tr("Added");
  std::string s = "<table class=\"people\"><thead><tr><th scope=\"col\">" + name + "</th><th scope=\"col\">" +
                  email + "</th><th scope=\"col\">" + phone + "</th><th scope=\"col\">" + postcode +
                  "</th><th scope=\"col\">" + tags + "</th><th scope=\"col\">" + added + "</th></tr></thead><tbody>";
  for (const auto& m : items) {
    s += "<tr><td data-label=\"" + name + "\"><a href=\"/supporters/" + esc(m.id) + "\">" +
         (m.name.empty() ? std::string(tr("(no name)")) : esc(m.name)) + "</a></td><td data-label=\"" + email +
         "\">" + esc(m.email) + "</td><td data-label=\"" + phone + "\">" + esc(m.phone) + "</td><td data-label=\"" +
         postcode + "\">" + esc(m.postal_code) + "</td><td data-label=\"" + tags + "\">";
    for (std::size_t i = 0; i < m.tags.size(); ++i) s += (i ? ", " : "") + esc(m.tags[i]);
    s += "</td><td data-label=\"" + added + "\">" + when(m.created_at) + "</td></tr>";
  }
  s += "</tbody></table>";
  return s;
}

std::string search_form(const Viewer& v) {
  return "<form method=\"post\" action=\"/search\" class=\"search\" role=\"search\" aria-label=\"" +
         std::string(tr("Exact e-mail or phone")) + "\">" + csrf_field(v) + "<label for=\"kind\">" + tr("Search by") +
         "</label><select id=\"kind\" name=\"kind\"><option value=\"email\">" + tr("exact e-mail") +
         "</option><option value=\"phone\">" + tr("exact phone") +
         "</option></select><label for=\"q\" class=\"visually-hidden\">" + tr("Value") +
         "</label><input id=\"q\" name=\"q\" type=\"search\" required maxlength=\"320\" autocomplete=\"off\">"
         "<button type=\"submit\">" + tr("Search") + "</button></form>";
}

// Name and place: either or both; whole words, no prefixes.
std::string find_form(const Viewer& v, std::string_view name, std::string_view place) {
  return "<form method=\"post\" action=\"/search\" class=\"search\" role=\"search\" aria-label=\"" +
         std::string(tr("Name and place")) + "\">" + csrf_field(v) +
         "<input type=\"hidden\" name=\"kind\" value=\"find\"><label for=\"name\">" + tr("Name") +
         "</label><input id=\"name\" name=\"name\" type=\"search\" maxlength=\"100\" "
         "autocomplete=\"off\" value=\"" + esc(name) + "\"><label for=\"place\">" + tr("Place") +
         "</label><input id=\"place\" name=\"place\" type=\"search\" maxlength=\"100\" "
         "autocomplete=\"off\" aria-describedby=\"place-hint\" value=\"" + esc(place) + "\">"
         "<button type=\"submit\">" + tr("Find") + "</button><small id=\"place-hint\">" +
         tr("Whole words: a given or family name; a postcode, département (69, 2A), region or town.") +
         "</small></form>";
}

// A field kind in words ("E-mail"); its code stays in forms and the API.
const char* field_kind_label(services::FieldKind k) {
  switch (k) {
    case services::FieldKind::name: return tr("Name");
    case services::FieldKind::email: return tr("E-mail");
    case services::FieldKind::phone: return tr("Phone");
    case services::FieldKind::address: return tr("Address");
  }
  return "";
}

// An export request's state in words.
std::string export_status_text(std::string_view status) {
  if (status == "pending") return tr("pending");
  if (status == "approved") return tr("approved");
  if (status == "expired") return tr("expired");
  if (status == "downloaded") return tr("downloaded");
  return std::string(status);
}

}  // namespace

std::string masked_rows(const std::vector<services::MaskedSupporter>& items) { return masked_table(items); }

std::string esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string document(const Viewer* viewer, std::string_view title, std::string_view body) {
  std::string s = "<!doctype html><html lang=\"" + std::string(i18n::code(i18n::current())) +
                  "\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                  "<title>" + esc(title) + " · " + i18n::tr("rempart console") + "</title>"
                  "<link rel=\"stylesheet\" href=\"/static/console.css\"></head><body>"
                  "<a class=\"skip\" href=\"#main\">" + i18n::tr("Skip to content") +
                  "</a><header><span class=\"brand\">rempart</span>";
  // The language switch, on every page, signed in or not (GET /language).
  s += "<nav class=\"languages\" aria-label=\"" + std::string(i18n::tr("Language")) + "\"><ul>";
  for (const auto l : i18n::kLanguages) {
    if (l == i18n::current()) continue;
    const std::string c(i18n::code(l));
    s += "<li><a href=\"/language?to=" + c + "\" hreflang=\"" + c + "\" lang=\"" + c + "\">" +
         std::string(i18n::own_name(l)) + "</a></li>";
  }
  s += "</ul></nav>";
  if (viewer) {
    using auth::Action;
    const auto item = [](const char* href, const char* label) {
      return "<li><a href=\"" + std::string(href) + "\">" + label + "</a></li>";
    };
    s += "<nav aria-label=\"" + std::string(tr("Main")) + "\"><ul>";
    if (auth::permits(viewer->role, Action::list_masked)) {
      s += item("/dashboard", tr("Dashboard")) + item("/supporters", tr("Supporters")) +
           item("/search", tr("Search")) + item("/tags", tr("Tags"));
    }
    if (auth::permits(viewer->role, Action::count_segments)) s += item("/segments", tr("Segments"));
    if (auth::permits(viewer->role, Action::make_calls)) s += item("/calls", tr("Calls"));
    if (auth::permits(viewer->role, Action::approve_mailings)) s += item("/mailings", tr("Mailings"));
    if (auth::permits(viewer->role, Action::manage_accounts)) {
      s += item("/accounts", tr("Accounts")) + item("/requests", tr("Requests")) + item("/selfcheck", tr("Self-check"));
    }
    if (auth::permits(viewer->role, Action::manage_tokens)) s += item("/tokens", tr("API tokens"));
    if (auth::permits(viewer->role, Action::request_export)) s += item("/exports", tr("Exports"));
    if (auth::permits(viewer->role, Action::read_audit)) s += item("/audit", tr("Audit log"));
    if (auth::permits(viewer->role, Action::erase_record)) s += item("/erase", tr("Erasure"));
    // The role is a code, shown as it is (admin, organiser, …).
    s += "<li><a href=\"/account\">" + esc(viewer->name) + " (" + esc(auth::role_name(viewer->role)) +
         ")</a></li><li>" + button_form(*viewer, "/logout", tr("Sign out")) + "</li></ul></nav>";
  }
  s += "</header><main id=\"main\"><h1>" + esc(title) + "</h1>";
  s += body;
  s += "</main></body></html>";
  return s;
}

std::string login_page(std::string_view message) {
  std::string b = notice_html(message);
  b += "<form method=\"post\" action=\"/login\" class=\"stack\"><label for=\"name\">" +
       std::string(tr("Account name")) +
       "</label><input id=\"name\" name=\"name\" required maxlength=\"64\" "
       "autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" autofocus>"
       "<label for=\"password\">" + tr("Password") +
       "</label><input id=\"password\" name=\"password\" type=\"password\" required "
       "maxlength=\"1024\" autocomplete=\"current-password\"><button type=\"submit\">" + tr("Continue") +
       "</button></form>";
  return document(nullptr, tr("Sign in"), b);
}

std::string code_page(std::string_view pending, std::string_view message) {
  std::string b = notice_html(message);
  b += "<form method=\"post\" action=\"/login/code\" class=\"stack\">"
       "<input type=\"hidden\" name=\"pending\" value=\"" + esc(pending) + "\">"
       "<label for=\"code\">" + tr("Code from your authenticator app (or a recovery code)") +
       "</label><input id=\"code\" name=\"code\" required maxlength=\"32\" inputmode=\"numeric\" "
       "autocomplete=\"one-time-code\" autofocus><button type=\"submit\">" + tr("Sign in") + "</button></form>";
  return document(nullptr, tr("Sign in: second step"), b);
}

std::string message_page(const Viewer* viewer, std::string_view title, std::string_view message) {
  return document(viewer, title, "<p>" + esc(message) + "</p>");
}

std::string supporters_page(const Viewer& v, const services::MaskedPage& page, std::string_view tag,
                            const std::vector<services::TagCount>& tags) {
  std::string b = "<form method=\"get\" action=\"/supporters\" class=\"filter\"><label for=\"tag\">" +
                  std::string(tr("Tag")) + "</label><select id=\"tag\" name=\"tag\"><option value=\"\">" +
                  tr("all supporters") + "</option>";
  for (const auto& t : tags) {
    b += "<option value=\"" + esc(t.tag) + "\"" + (t.tag == tag ? " selected" : "") + ">" + esc(t.tag) + " (" +
         i18n::number(t.supporters) + ")</option>";
  }
  b += "</select><button type=\"submit\">" + std::string(tr("Filter")) + "</button></form>";
  const std::string total = i18n::number(page.total);
  b += "<p>" +
       (tag.empty() ? trnf("{} supporter. Values are masked; open a record to reveal one field, with a reason.",
                           "{} supporters. Values are masked; open a record to reveal one field, with a reason.",
                           page.total, total)
                    : trnf("{} supporter tagged {}. Values are masked; open a record to reveal one field, with a "
                           "reason.",
                           "{} supporters tagged {}. Values are masked; open a record to reveal one field, with a "
                           "reason.",
                           page.total, total, esc(tag))) +
       "</p>";
  b += masked_table(page.items);
  if (!page.next_cursor.empty()) {
    std::string href = "/supporters?cursor=" + esc(page.next_cursor);
    if (!tag.empty()) href += "&amp;tag=" + core::form_encode(tag);
    b += "<p><a rel=\"next\" href=\"" + href + "\">" + tr("Next page") + "</a></p>";
  }
  return document(&v, tr("Supporters"), b);
}

std::string search_page(const Viewer& v, const std::vector<services::MaskedSupporter>& found, bool searched,
                        std::string_view message) {
  std::string b = notice_html(message) + "<h2>" + tr("Name and place") + "</h2>" + find_form(v, "", "") + "<h2>" +
                  tr("Exact e-mail or phone") + "</h2>" + search_form(v);
  if (searched) {
    b += found.empty() ? "<p role=\"status\">" + std::string(tr("No supporter has this exact value.")) + "</p>"
                       : masked_table(found);
  }
  return document(&v, tr("Search"), b);
}

std::string find_page(const Viewer& v, const services::MaskedPage& found, std::string_view name,
                      std::string_view place) {
  std::string b = "<h2>" + std::string(tr("Name and place")) + "</h2>" + find_form(v, name, place);
  if (found.items.empty()) {
    b += "<p role=\"status\">" +
         std::string(tr("Nobody matches. Names and places match whole words only: try one word less.")) + "</p>";
  } else {
    const std::string n = i18n::number(found.total);
    b += "<p role=\"status\">" +
         (found.total_capped ? trf("More than {} supporters match: add a word or a place to narrow it.", n)
                             : trnf("{} supporter matches.", "{} supporters match.", found.total, n)) +
         "</p>" + masked_table(found.items);
  }
  if (!found.next_cursor.empty()) {
    b += "<form method=\"post\" action=\"/search\">" + csrf_field(v) +
         "<input type=\"hidden\" name=\"kind\" value=\"find\"><input type=\"hidden\" name=\"name\" value=\"" +
         esc(name) + "\"><input type=\"hidden\" name=\"place\" value=\"" + esc(place) +
         "\"><input type=\"hidden\" name=\"cursor\" value=\"" + esc(found.next_cursor) +
         "\"><button type=\"submit\">" + tr("Next page") + "</button></form>";
  }
  b += "<h2>" + std::string(tr("Exact e-mail or phone")) + "</h2>" + search_form(v);
  return document(&v, tr("Search"), b);
}

std::string record_page(const Viewer& v, const services::MaskedSupporter& s,
                        const std::vector<services::RevealedField>& revealed, std::string_view message,
                        const RecordWork& work) {
  const bool can_reveal = auth::permits(v.role, auth::Action::reveal);
  const bool can_tag = auth::permits(v.role, auth::Action::tags);
  const auto shown = [&](services::FieldKind k) -> const services::RevealedField* {
    for (const auto& r : revealed) {
      if (r.kind == k) return &r;
    }
    return nullptr;
  };
  std::string b = notice_html(message);
  b += "<dl class=\"record\">";
  std::string choices;  // a checkbox per masked field that can be revealed
  const struct {
    services::FieldKind kind;
    const char* label;
    std::string masked;
  } rows[] = {
      {services::FieldKind::name, tr("Name"), s.name},
      {services::FieldKind::email, tr("E-mail"), s.email},
      {services::FieldKind::phone, tr("Phone"), s.phone},
      {services::FieldKind::address, tr("Address"),
       [&] {
         std::string place = s.postal_code + (s.postal_code.empty() || s.locality.empty() ? "" : " ") + s.locality;
         return s.street.empty() ? place : place.empty() ? s.street : s.street + ", " + place;
       }()},
  };
  for (const auto& r : rows) {
    const std::string kind(services::field_kind_name(r.kind));
    b += "<dt>" + std::string(r.label) + "</dt><dd>";
    if (const auto* f = shown(r.kind)) {
      b += "<strong class=\"revealed\" data-field=\"" + kind + "\">" +
           (f->value.empty() ? std::string(tr("(none)")) : esc(f->value)) + "</strong> <span class=\"hint\">" +
           tr("(revealed, recorded in the audit log)") + "</span>";
    } else {
      b += "<span data-field=\"" + kind + "\">" + (r.masked.empty() ? std::string(tr("(none)")) : esc(r.masked)) +
           "</span>";
      if (can_reveal && !r.masked.empty()) {
        choices += "<label><input type=\"checkbox\" name=\"kind\" value=\"" + kind + "\"> " + r.label + "</label>";
      }
    }
    b += "</dd>";
  }
  b += "<dt>" + std::string(tr("Country")) + "</dt><dd>" +
       (s.country.empty() ? std::string("—") : esc(i18n::country_name(s.country))) + "</dd>";
  const auto consent = [](bool yes, bool refused) { return yes ? tr("yes") : refused ? tr("no") : tr("not asked"); };
  b += "<dt>" + std::string(tr("Consent")) + "</dt><dd>" +
       trf("e-mail: {}, text messages: {}", consent(s.consent_email, s.consent_email_refused),
           consent(s.consent_sms, s.consent_sms_refused)) +
       "</dd>";
  b += "<dt>" + std::string(tr("Added")) + "</dt><dd>" + when(s.created_at) + "</dd><dt>" + tr("Updated") +
       "</dt><dd>" + when(s.updated_at) + "</dd>";
  b += "<dt>" + std::string(tr("Tags")) + "</dt><dd><ul class=\"tags\">";
  for (const auto& t : s.tags) {
    b += "<li>" + esc(t);
    if (can_tag) {
      b += " " + button_form(v, "/supporters/" + s.id + "/tags", tr("Remove"),
                             "<input type=\"hidden\" name=\"remove\" value=\"" + esc(t) + "\">");
    }
    b += "</li>";
  }
  b += "</ul>";
  if (can_tag) {
    b += "<form method=\"post\" action=\"/supporters/" + esc(s.id) + "/tags\" class=\"inline\">" + csrf_field(v) +
         // A tag is up to 64 code points; maxlength counts UTF-16 units, so
         // 128 lets 64 emoji through and the server judges the rest.
         "<label for=\"add-tag\">" + tr("Add tag") +
         "</label><input id=\"add-tag\" name=\"add\" required maxlength=\"128\"><button type=\"submit\">" +
         tr("Add") + "</button></form>";
  }
  b += "</dd></dl>";
  // One form for every field: a caller reveals a name and a phone together,
  // with one reason, in one audit entry.
  if (!choices.empty()) {
    b += "<form method=\"post\" action=\"/supporters/" + esc(s.id) + "/reveal\" class=\"stack\">" + csrf_field(v) +
         "<fieldset><legend>" + tr("Reveal") + "</legend>" + choices + "</fieldset><label for=\"reveal-reason\">" +
         tr("Reason") + "</label><input id=\"reveal-reason\" name=\"reason\" required maxlength=\"200\" placeholder=\"" +
         tr("why you need it") + "\"><button type=\"submit\">" + tr("Reveal") + "</button><p class=\"hint\">" +
         tr("Each revealed field counts against your budget and is recorded in the audit log with your reason.") +
         "</p></form>";
  }
  b += record_work_html(v, s, work);
  b += "<p class=\"hint\">" + trf("Record id {}", "<code>" + esc(s.id) + "</code>") + "</p>";
  return document(&v, tr("Supporter"), b);
}

std::string exports_page(const Viewer& v, const std::string& viewer_id, const std::vector<services::ExportRequest>& all,
                         const std::vector<services::TagCount>& tags, const std::vector<std::string>& segments,
                         std::string_view notice) {
  const bool can_approve = auth::permits(v.role, auth::Action::approve_export);
  const auto fields_of = [](const services::ExportRequest& r) {
    std::string f;
    for (std::size_t i = 0; i < r.fields.size(); ++i) f += (i ? ", " : "") + std::string(field_kind_label(r.fields[i]));
    return f;
  };
  std::string b = notice_html(notice);
  b += "<p>" +
       std::string(tr("An export is the only way to take many records out. Another admin must approve it with their "
                      "authenticator code; the file is encrypted to your own export key and carries traceable "
                      "canary rows.")) +
       "</p>";
  b += "<h2>" + std::string(tr("Request an export")) + "</h2><form method=\"post\" action=\"/exports\" class=\"stack\">" +
       csrf_field(v) + "<label for=\"x-tag\">" + tr("Supporters") +
       "</label><select id=\"x-tag\" name=\"tag\"><option value=\"\">" + tr("all supporters") + "</option>";
  for (const auto& t : tags) b += "<option value=\"" + esc(t.tag) + "\">" + trf("tagged {}", esc(t.tag)) + "</option>";
  b += "</select><label for=\"x-segment\">" + std::string(tr("Or the members of a saved segment")) +
       "</label><select id=\"x-segment\" name=\"segment\" aria-describedby=\"x-segment-hint\"><option value=\"\">" +
       tr("no segment") + "</option>";
  for (const auto& name : segments) {
    b += "<option value=\"" + esc(name) + "\">" + trf("segment {}", esc(name)) + "</option>";
  }
  b += "</select><span class=\"hint\" id=\"x-segment-hint\">" +
       std::string(tr("A segment takes the place of the choice above (choose all supporters there); its members are "
                      "taken when the export is approved, and a segment changed meanwhile must be asked for again.")) +
       "</span><fieldset><legend>" + tr("Fields") + "</legend>";
  for (const auto k : services::kAllFieldKinds) {
    const std::string n(services::field_kind_name(k));
    b += "<label><input type=\"checkbox\" name=\"field\" value=\"" + n + "\"> " + field_kind_label(k) + "</label>";
  }
  b += "</fieldset><label for=\"x-reason\">" + std::string(tr("Reason")) +
       "</label><input id=\"x-reason\" name=\"reason\" required maxlength=\"200\">" + code_input("x-request") +
       "<button type=\"submit\">" + tr("Request") + "</button></form>";
  b += "<h2>" + std::string(tr("Requests")) + "</h2><table><thead><tr><th scope=\"col\">#</th><th scope=\"col\">" +
       tr("Requested by") + "</th><th scope=\"col\">" + tr("Supporters") + "</th><th scope=\"col\">" + tr("Fields") +
       "</th><th scope=\"col\">" + tr("Reason") + "</th><th scope=\"col\">" + tr("State") +
       "</th><th scope=\"col\">" + tr("Actions") + "</th></tr></thead><tbody>";
  for (const auto& r : all) {
    const bool mine = r.requester_id == viewer_id;
    if (!mine && !can_approve) continue;
    const std::string id = std::to_string(r.id);
    b += "<tr><td>" + id + "</td><td>" + esc(r.requester) + "</td><td>" +
         (!r.segment.empty() ? trf("segment {}", esc(r.segment))
          : r.tag.empty()    ? std::string(tr("all"))
                             : trf("tagged {}", esc(r.tag))) +
         "</td><td>" + esc(fields_of(r)) + "</td><td>" + esc(r.reason) + "</td><td>" +
         (r.approver.empty() ? esc(export_status_text(r.status))
                             : trf("{} by {}", esc(export_status_text(r.status)), esc(r.approver))) +
         "</td><td>";
    if (r.status == "pending" && !mine && can_approve) {
      b += button_form(v, "/exports/" + id + "/approve", tr("Approve"), code_input("x" + id));
    }
    if (mine && (r.status == "approved" || r.status == "downloaded")) {
      b += "<a href=\"/exports/" + id + "/download\" download>" + tr("Download (encrypted)") + "</a>";
    }
    b += "</td></tr>";
  }
  b += "</tbody></table>";
  return document(&v, tr("Exports"), b);
}

std::string tags_page(const Viewer& v, const std::vector<services::TagCount>& tags) {
  std::string b = "<table><thead><tr><th scope=\"col\">" + std::string(tr("Tag")) + "</th><th scope=\"col\">" +
                  tr("Supporters") + "</th></tr></thead><tbody>";
  for (const auto& t : tags) {
    b += "<tr><td><a href=\"/supporters?tag=" + core::form_encode(t.tag) + "\">" + esc(t.tag) + "</a></td><td>" +
         i18n::number(t.supporters) + "</td></tr>";
  }
  b += "</tbody></table>";
  if (auth::permits(v.role, auth::Action::bulk_tags)) b += tag_rename_form(v);
  return document(&v, tr("Tags"), b);
}

std::string sessions_page(const Viewer& v, const auth::SessionInfo& s, const std::vector<auth::SessionSummary>& all,
                          std::string_view notice) {
  std::string b = notice_html(notice);
  b += "<dl><dt>" + std::string(tr("Account")) + "</dt><dd>" + esc(s.name) + "</dd><dt>" + tr("Role") + "</dt><dd>" +
       esc(auth::role_name(s.role)) + "</dd></dl>";
  b += "<table><thead><tr><th scope=\"col\">" + std::string(tr("Began")) + "</th><th scope=\"col\">" +
       tr("Last activity") + "</th><th scope=\"col\">" + tr("From") + "</th><th scope=\"col\"></th></tr></thead><tbody>";
  for (const auto& x : all) {
    b += "<tr><td>" + when(x.created_at) + "</td><td>" + when(x.last_seen_at) + "</td><td>" + esc(x.client) +
         "</td><td>" + (x.current ? tr("this session") : "") + "</td></tr>";
  }
  b += "</tbody></table>";
  b += "<p><a href=\"/account\">" + std::string(tr("Change your password or authenticator")) + "</a></p>";
  b += "<p>" +
       std::string(tr("If you signed in somewhere you no longer control, end every session of your account, this one "
                      "included.")) +
       "</p>" + button_form(v, "/sessions/revoke", tr("Sign out everywhere"));
  return document(&v, tr("Your sessions"), b);
}

std::string_view stylesheet() {
  return R"css(:root{color-scheme:light dark;--fg:#1b1b1f;--bg:#fbfbfd;--muted:#5d5d68;--accent:#8a1538;--line:#d7d7de}
@media (prefers-color-scheme:dark){:root{--fg:#ececf1;--bg:#16161a;--muted:#a8a8b3;--accent:#ff7aa2;--line:#3a3a44}}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;padding:.5rem 1rem;border-bottom:1px solid var(--line)}
.brand{font-weight:700;color:var(--accent)}nav ul{display:flex;flex-wrap:wrap;gap:.25rem 1rem;list-style:none;margin:0;padding:0;align-items:center}
main{padding:1rem;max-width:72rem;margin:auto}a{color:var(--accent)}
a:focus,button:focus,input:focus,select:focus{outline:3px solid var(--accent);outline-offset:2px}
table{border-collapse:collapse;width:100%;display:block;overflow-x:auto}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
svg.chart{width:100%;max-width:40rem;height:auto;display:block}form.stack{display:grid;gap:.4rem;max-width:24rem}form.inline,form.reveal,form.filter,form.search{display:inline-flex;flex-wrap:wrap;gap:.4rem;align-items:center;margin:.2rem 0}
input,select,button{font:inherit;padding:.35rem .5rem;border:1px solid var(--line);border-radius:4px;background:var(--bg);color:var(--fg)}
button{background:var(--accent);color:#fff;border-color:var(--accent);cursor:pointer}
.notice{padding:.5rem;border-left:4px solid var(--accent)}.alert{color:#fff;background:#a00;padding:.5rem}.ok{border-left:4px solid #2a7;padding:.5rem}
fieldset label{display:inline-flex;gap:.35rem;align-items:center;margin:.2rem 1.2rem .2rem 0}.hint{color:var(--muted);font-size:.9em}.revealed{font-size:1.1em}.secret{word-break:break-all}
dl.record dd>span[data-field]{margin-right:1rem}dl.record{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.4rem 1rem}dl.record dd{margin:0}
ul.tags,ul.codes{list-style:none;padding:0;margin:0}
ul.cards{list-style:none;padding:0;margin:0}ul.cards>li{border-bottom:1px solid var(--line);padding:.5rem 0}
.card-title{font-size:1.1rem;margin:0}ul.cards p{margin:.2rem 0}details form.stack{margin:.6rem 0}.qr{width:14rem;height:14rem}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:var(--bg);padding:.5rem}
table.entries{display:table}table.entries code{word-break:break-all}table.entries:not(.consent-log) td:nth-child(2){white-space:nowrap}
table.entries:not(.consent-log) td:nth-child(3) code{word-break:normal}
textarea{font:inherit;padding:.35rem .5rem;border:1px solid var(--line);border-radius:4px;background:var(--bg);color:var(--fg);width:100%;max-width:100%}
textarea:focus{outline:3px solid var(--accent);outline-offset:2px}form.stack input,form.stack select{max-width:100%}
section.work{border-top:1px solid var(--line);margin-top:1rem}ul.notes{list-style:none;padding:0;margin:0}
ul.notes>li{border-bottom:1px solid var(--line);padding:.5rem 0}ul.notes p{margin:.2rem 0;white-space:pre-wrap;overflow-wrap:anywhere}
.danger{background:#a00;border-color:#a00}
dl.kv{margin:0}dl.kv dt,dl.kv dd{display:inline;margin:0}dl.kv dt{color:var(--muted)}dl.kv dd{overflow-wrap:anywhere}dl.kv dl.kv{padding-left:1rem}
form.segment fieldset{display:grid;gap:.3rem;border:1px solid var(--line)}div.buttons{display:flex;flex-wrap:wrap;gap:.5rem}
section.callee{border:1px solid var(--line);border-radius:6px;padding:.5rem 1rem;margin:.5rem 0}
.callee-name{font-size:1.5rem;font-weight:700;margin:.2rem 0;overflow-wrap:anywhere}a.callee-phone{font-size:1.6rem;font-weight:700}
fieldset.outcomes label{display:flex;margin:.45rem 0}fieldset .hint{display:block}
p.script{white-space:pre-wrap;overflow-wrap:anywhere;border-left:4px solid var(--line);padding:.2rem .8rem}
label.check{display:flex;gap:.4rem;align-items:flex-start}
pre.mail{white-space:pre-wrap;overflow-wrap:anywhere;border-left:4px solid var(--line);padding:.2rem .8rem;font:inherit}
a.button{display:inline-block;padding:.35rem .5rem;border-radius:4px;background:var(--accent);color:#fff;text-decoration:none}
dl.segment{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dl.segment dt{font-weight:600}dl.segment dd{margin:0;overflow-wrap:anywhere}
@media (max-width:40rem){dl.record,dl.segment{grid-template-columns:1fr}main{padding:.5rem}
table.people,table.people tbody,table.people tr,table.people td{display:block}table.people thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
table.people tr{border-bottom:1px solid var(--line);padding:.4rem 0}table.people td{border:0;padding:.1rem 0;overflow-wrap:anywhere}table.people td:empty{display:none}
table.people td::before{content:attr(data-label) ": ";color:var(--muted)}
html:lang(fr) table.people td::before,html:lang(fr) table.entries td::before{content:attr(data-label) "\a0: "}
table.entries,table.entries tbody,table.entries tr,table.entries td{display:block}table.entries thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
table.entries tr{border-bottom:1px solid var(--line);padding:.4rem 0}table.entries td{border:0;padding:.1rem 0}table.entries td:empty{display:none}
table.entries td::before{content:attr(data-label) ": ";color:var(--muted)}table.entries:not(.consent-log) td:nth-child(2){white-space:normal}
table.entries:not(.consent-log) td:nth-child(3) code{word-break:break-all}table.entries dl.kv{padding-left:.8rem;border-left:2px solid var(--line)}}
)css";
}

}  // namespace rempart::console
