// HTML of the record page's work (correct a field, withdraw a consent,
// notes and contacts) and of an admin's erasure pages. Every text from
// outside goes through esc(); no script, no inline style.
#include <span>

#include "console/page_parts.hpp"
#include "console/pages.hpp"

namespace rempart::console {
namespace {

struct Labelled {
  std::string_view name;
  const char* label;
};

constexpr Labelled kFieldLabels[] = {{"given_name", "Given name"}, {"family_name", "Family name"},
                                     {"email", "E-mail"},          {"phone", "Phone"},
                                     {"street", "Street"},         {"postal_code", "Postcode"},
                                     {"locality", "Town"},         {"country", "Country"}};
constexpr Labelled kHowAsked[] = {
    {"phone_call", "Phone call"}, {"letter", "Letter"}, {"email", "E-mail"}, {"in_person", "In person"}};
constexpr Labelled kNoteKindLabels[] = {{"note", "Note"},
                                        {"called", "Called"},
                                        {"left_message", "Left a message"},
                                        {"rsvp", "Will come (RSVP)"},
                                        {"attended", "Attended"},
                                        {"no_answer", "No answer"},
                                        {"wrong_number", "Wrong number"}};
constexpr Labelled kChannels[] = {{"email", "E-mail"}, {"sms", "Text messages"}};

std::string options(std::span<const Labelled> all) {
  std::string out;
  for (const auto& l : all) out += "<option value=\"" + std::string(l.name) + "\">" + l.label + "</option>";
  return out;
}

// The label of a fixed name, or the name escaped when it is not one of `all`
// (a consent source written by another tool: "signup", "import:…").
std::string label_of(std::span<const Labelled> all, std::string_view name) {
  for (const auto& l : all) {
    if (l.name == name) return l.label;
  }
  return esc(name);
}

// "console, Letter", "sign-up form", "import (csv), file cbf9a1b2…": the
// import's file fingerprint cut to what tells two files apart at a glance.
std::string source_label(std::string_view source) {
  if (source.starts_with("console:")) return "console, " + label_of(kHowAsked, source.substr(8));
  if (source == "signup") return "sign-up form";
  if (source.starts_with("import:")) {
    std::string_view rest = source.substr(7);
    const auto colon = rest.find(':');
    const std::string_view tool = rest.substr(0, colon);
    std::string out = "import (" + esc(tool) + ")";
    if (colon != std::string_view::npos) {
      const std::string_view file = rest.substr(colon + 1);
      out += ", file " + esc(file.substr(0, 8)) + (file.size() > 8 ? "\u2026" : "");
    }
    return out;
  }
  return esc(source);
}

std::string section(std::string_view id, std::string_view title, std::string_view body) {
  return "<section class=\"work\" aria-labelledby=\"" + std::string(id) + "\"><h2 id=\"" + std::string(id) + "\">" +
         std::string(title) + "</h2>" + std::string(body) + "</section>";
}

}  // namespace

std::string_view edit_field_label(std::string_view name) {
  for (const auto& l : kFieldLabels) {
    if (l.name == name) return l.label;
  }
  return "field";
}

std::string record_work_html(const Viewer& v, const services::MaskedSupporter& s, const RecordWork& work) {
  using auth::Action;
  const std::string base = "/supporters/" + esc(s.id);
  std::string out;
  if (auth::permits(v.role, Action::edit_record)) {
    out += section("edit-h", "Correct a field",
                   "<form method=\"post\" action=\"" + base + "/edit\" class=\"stack\">" + csrf_field(v) +
                       "<label for=\"edit-field\">Field</label><select id=\"edit-field\" name=\"field\">" +
                       options(kFieldLabels) +
                       "</select><label for=\"edit-value\">New value</label>"
                       "<input id=\"edit-value\" name=\"value\" maxlength=\"1024\" autocomplete=\"off\">"
                       "<p class=\"hint\">The current value stays hidden. The new one is checked as the sign-up form "
                       "checks it; left empty, the field is cleared.</p>"
                       "<label for=\"edit-reason\">Reason for the correction</label><input id=\"edit-reason\" name=\"reason\" required "
                       "maxlength=\"200\" placeholder=\"why it changes\">"
                       "<button type=\"submit\">Save the correction</button></form>");
  }
  std::string consent;
  const bool email_open = !s.consent_email_refused, sms_open = !s.consent_sms_refused;
  if (auth::permits(v.role, Action::withdraw_consent) && (email_open || sms_open)) {
    std::string channels;
    for (const auto& c : kChannels) {
      if ((c.name == "email" && email_open) || (c.name == "sms" && sms_open)) {
        channels += "<option value=\"" + std::string(c.name) + "\">" + c.label + "</option>";
      }
    }
    consent += "<form method=\"post\" action=\"" + base + "/consent/withdraw\" class=\"stack\">" + csrf_field(v) +
               "<label for=\"consent-channel\">Consent to withdraw</label><select id=\"consent-channel\" "
               "name=\"channel\">" + channels +
               "</select><label for=\"consent-source\">How the person asked</label><select id=\"consent-source\" "
               "name=\"source\">" + options(kHowAsked) +
               "</select><button type=\"submit\">Withdraw consent</button></form>";
  }
  if (work.consent_log.empty()) {
    consent += "<p class=\"hint\">No consent statement recorded.</p>";
  } else {
    // Stacked on a phone, one labelled line per cell (table.entries).
    consent += "<table class=\"entries consent-log\"><caption class=\"visually-hidden\">Consent log</caption>"
               "<thead><tr><th scope=\"col\">Channel</th><th scope=\"col\">Choice</th><th scope=\"col\">Date</th>"
               "<th scope=\"col\">Source</th></tr></thead><tbody>";
    for (const auto& e : work.consent_log) {
      consent += "<tr><td data-label=\"Channel\">" + label_of(kChannels, e.channel) + "</td><td data-label=\"Choice\">" +
                 esc(e.choice) + "</td><td data-label=\"Date\">" + when(e.at) + "</td><td data-label=\"Source\">" +
                 source_label(e.source) + "</td></tr>";
    }
    consent += "</tbody></table>";
  }
  out += section("consent-h", "Consent", consent);

  const bool can_write = auth::permits(v.role, Action::write_note);
  if (can_write || work.notes) {
    std::string notes;
    if (can_write) {
      notes += "<form method=\"post\" action=\"" + base + "/notes\" class=\"stack\">" + csrf_field(v) +
               "<label for=\"note-kind\">What</label><select id=\"note-kind\" name=\"kind\">" +
               options(kNoteKindLabels) +
               "</select><label for=\"note-text\">Text</label><textarea id=\"note-text\" name=\"text\" rows=\"4\" "
               "maxlength=\"2000\" aria-describedby=\"note-hint\"></textarea><p class=\"hint\" id=\"note-hint\">"
               "Required for a note (up to 2,000 characters), optional for a contact (up to 200). Encrypted with "
               "the record.</p><button type=\"submit\">Add</button></form>";
    }
    if (work.notes) {
      if (work.notes->empty()) {
        notes += "<p class=\"hint\">No notes yet.</p>";
      } else {
        notes += "<ul class=\"notes\">";
        for (const auto& n : *work.notes) {
          notes += "<li data-note=\"" + esc(n.id) + "\"><strong>" + (n.kind == services::kSignupNoteKind ? std::string("Signed up from") : label_of(kNoteKindLabels, n.kind)) +
                   "</strong> <span class=\"hint\">" + when(n.created_at) + ", " + esc(n.author) + "</span>";
          if (!n.text.empty()) notes += "<p>" + esc(n.text) + "</p>";
          notes += "</li>";
        }
        notes += "</ul><p class=\"hint\">Each reading of these notes is recorded in the audit log.</p>";
      }
    }
    out += section("notes-h", "Notes and contacts", notes);
  }
  if (auth::permits(v.role, Action::edit_record)) {
    out += "<p class=\"hint\">Erasure on the person's request is an admin's: give them the record id below.</p>";
  }
  return out;
}

std::string erase_page(const Viewer& v, std::string_view id, std::string_view message) {
  std::string b = notice_html(message);
  b += "<p>Erasing a record on the person's request cannot be undone. It destroys the record's key, its fields, the "
       "blind indexes of its e-mail and phone, its tags, consent log, notes and contacts, in one step.</p>"
       "<p>It cannot reach backups taken before, and the audit log keeps its entries naming this record id "
       "(never a value).</p>";
  b += "<form method=\"post\" action=\"/supporters/" + esc(id) + "/erase\" class=\"stack\">" + csrf_field(v) +
       "<label for=\"erase-reason\">How the person asked</label><select id=\"erase-reason\" name=\"reason\">" +
       options(kHowAsked) +
       "</select><label for=\"erase-confirm\">Type <strong>erase</strong> to confirm</label><input "
       "id=\"erase-confirm\" name=\"confirm\" required maxlength=\"16\" autocomplete=\"off\" autocapitalize=\"none\" "
       "spellcheck=\"false\"><button type=\"submit\" class=\"danger\">Erase this record</button></form>";
  b += "<p class=\"hint\">Record id <code>" + esc(id) + "</code></p>";
  return document(&v, "Erase a record", b);
}

std::string erase_lookup_page(const Viewer& v, std::string_view message) {
  std::string b = notice_html(message);
  b += "<p>Erasure on the person's request: enter the record id the organiser who took the request gave you.</p>"
       "<form method=\"get\" action=\"/erase\" class=\"stack\"><label for=\"erase-id\">Record id</label>"
       "<input id=\"erase-id\" name=\"id\" required maxlength=\"32\" autocomplete=\"off\" autocapitalize=\"none\" "
       "spellcheck=\"false\" inputmode=\"latin\"><button type=\"submit\">Continue</button></form>";
  return document(&v, "Erase a record", b);
}

std::string erased_page(const Viewer& v, std::string_view id) {
  return document(&v, "Record erased",
                  "<p class=\"ok\" role=\"status\">The record <code>" + esc(id) +
                      "</code> is erased. Nothing of it is left in the database but the audit log's entries naming "
                      "its id.</p><p><a href=\"/erase\">Erase another record</a></p>");
}

}  // namespace rempart::console
