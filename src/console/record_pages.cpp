// HTML of the record page's work (correct a field, withdraw a consent,
// notes and contacts) and of an admin's erasure pages. Every text from
// outside goes through esc(); no script, no inline style.
#include <span>

#include "console/page_parts.hpp"
#include "console/pages.hpp"
#include "i18n/i18n.hpp"

namespace rempart::console {
namespace {

using i18n::tr;
using i18n::trf;

struct Labelled {
  std::string_view name;
  const char* label;
};

// The labels are English messages, translated where they are shown.
constexpr Labelled kFieldLabels[] = {{"given_name", N_("Given name")}, {"family_name", N_("Family name")},
                                     {"email", N_("E-mail")},          {"phone", N_("Phone")},
                                     {"street", N_("Street")},         {"postal_code", N_("Postcode")},
                                     {"locality", N_("Town")},         {"country", N_("Country")}};
constexpr Labelled kHowAsked[] = {{"phone_call", N_("Phone call")},
                                  {"letter", N_("Letter")},
                                  {"email", N_("E-mail")},
                                  {"in_person", N_("In person")}};
constexpr Labelled kNoteKindLabels[] = {{"note", N_("Note")},
                                        {"called", N_("Called")},
                                        {"left_message", N_("Left a message")},
                                        {"rsvp", N_("Will come (RSVP)")},
                                        {"attended", N_("Attended")},
                                        {"no_answer", N_("No answer")},
                                        {"wrong_number", N_("Wrong number")}};
constexpr Labelled kChannels[] = {{"email", N_("E-mail")}, {"sms", N_("Text messages")}};

std::string options(std::span<const Labelled> all) {
  std::string out;
  for (const auto& l : all) out += "<option value=\"" + std::string(l.name) + "\">" + tr(l.label) + "</option>";
  return out;
}

// The label of a fixed name, or the name escaped when it is not one of `all`
// (a consent source written by another tool: "signup", "import:…").
std::string label_of(std::span<const Labelled> all, std::string_view name) {
  for (const auto& l : all) {
    if (l.name == name) return tr(l.label);
  }
  return esc(name);
}

// "console, Letter", "sign-up form", "import (csv), file cbf9a1b2…": the
// import's file fingerprint cut to what tells two files apart at a glance.
std::string source_label(std::string_view source) {
  if (source.starts_with("console:")) return trf("console, {}", label_of(kHowAsked, source.substr(8)));
  if (source == "signup") return tr("sign-up form");
  if (source.starts_with("import:")) {
    std::string_view rest = source.substr(7);
    const auto colon = rest.find(':');
    const std::string_view tool = rest.substr(0, colon);
    if (colon == std::string_view::npos) return trf("import ({})", esc(tool));
    const std::string_view file = rest.substr(colon + 1);
    return trf("import ({}), file {}", esc(tool), esc(file.substr(0, 8)) + (file.size() > 8 ? "\u2026" : ""));
  }
  return esc(source);
}

// A consent log entry's choice ("yes" | "no") in words.
std::string choice_words(std::string_view choice) {
  if (choice == "yes") return tr("yes");
  if (choice == "no") return tr("no");
  return std::string(choice);
}

std::string section(std::string_view id, std::string_view title, std::string_view body) {
  return "<section class=\"work\" aria-labelledby=\"" + std::string(id) + "\"><h2 id=\"" + std::string(id) + "\">" +
         std::string(title) + "</h2>" + std::string(body) + "</section>";
}

}  // namespace

std::string_view edit_field_label(std::string_view name) {
  for (const auto& l : kFieldLabels) {
    if (l.name == name) return tr(l.label);
  }
  return tr("field");
}

std::string record_work_html(const Viewer& v, const services::MaskedSupporter& s, const RecordWork& work) {
  using auth::Action;
  const std::string base = "/supporters/" + esc(s.id);
  std::string out;
  if (auth::permits(v.role, Action::edit_record)) {
    out += section("edit-h", tr("Correct a field"),
                   "<form method=\"post\" action=\"" + base + "/edit\" class=\"stack\">" + csrf_field(v) +
                       "<label for=\"edit-field\">" + tr("Field") +
                       "</label><select id=\"edit-field\" name=\"field\">" + options(kFieldLabels) +
                       "</select><label for=\"edit-value\">" + tr("New value") +
                       "</label><input id=\"edit-value\" name=\"value\" maxlength=\"1024\" autocomplete=\"off\">"
                       "<p class=\"hint\">" +
                       tr("The current value stays hidden. The new one is checked as the sign-up form checks it; "
                          "left empty, the field is cleared.") +
                       "</p><label for=\"edit-reason\">" + tr("Reason for the correction") +
                       "</label><input id=\"edit-reason\" name=\"reason\" required maxlength=\"200\" placeholder=\"" +
                       tr("why it changes") + "\"><button type=\"submit\">" + tr("Save the correction") +
                       "</button></form>");
  }
  std::string consent;
  const bool email_open = !s.consent_email_refused, sms_open = !s.consent_sms_refused;
  if (auth::permits(v.role, Action::withdraw_consent) && (email_open || sms_open)) {
    std::string channels;
    for (const auto& c : kChannels) {
      if ((c.name == "email" && email_open) || (c.name == "sms" && sms_open)) {
        channels += "<option value=\"" + std::string(c.name) + "\">" + tr(c.label) + "</option>";
      }
    }
    consent += "<form method=\"post\" action=\"" + base + "/consent/withdraw\" class=\"stack\">" + csrf_field(v) +
               "<label for=\"consent-channel\">" + tr("Consent to withdraw") +
               "</label><select id=\"consent-channel\" name=\"channel\">" + channels +
               "</select><label for=\"consent-source\">" + tr("How the person asked") +
               "</label><select id=\"consent-source\" name=\"source\">" + options(kHowAsked) +
               "</select><button type=\"submit\">" + tr("Withdraw consent") + "</button></form>";
  }
  if (work.consent_log.empty()) {
    consent += "<p class=\"hint\">" + std::string(tr("No consent statement recorded.")) + "</p>";
  } else {
    // Stacked on a phone, one labelled line per cell (table.entries).
    const std::string channel = tr("Channel"), choice = tr("Choice"), date = tr("Date"), source = tr("Source");
    consent += "<table class=\"entries consent-log\"><caption class=\"visually-hidden\">" +
               std::string(tr("Consent log")) + "</caption><thead><tr><th scope=\"col\">" + channel +
               "</th><th scope=\"col\">" + choice + "</th><th scope=\"col\">" + date + "</th><th scope=\"col\">" +
               source + "</th></tr></thead><tbody>";
    for (const auto& e : work.consent_log) {
      consent += "<tr><td data-label=\"" + channel + "\">" + label_of(kChannels, e.channel) +
                 "</td><td data-label=\"" + choice + "\">" + esc(choice_words(e.choice)) + "</td><td data-label=\"" +
                 date + "\">" + when(e.at) + "</td><td data-label=\"" + source + "\">" + source_label(e.source) +
                 "</td></tr>";
    }
    consent += "</tbody></table>";
  }
  out += section("consent-h", tr("Consent"), consent);

  const bool can_write = auth::permits(v.role, Action::write_note);
  if (can_write || work.notes) {
    std::string notes;
    if (can_write) {
      notes += "<form method=\"post\" action=\"" + base + "/notes\" class=\"stack\">" + csrf_field(v) +
               "<label for=\"note-kind\">" + tr("What") + "</label><select id=\"note-kind\" name=\"kind\">" +
               options(kNoteKindLabels) + "</select><label for=\"note-text\">" + tr("Text") +
               "</label><textarea id=\"note-text\" name=\"text\" rows=\"4\" "
               "maxlength=\"2000\" aria-describedby=\"note-hint\"></textarea><p class=\"hint\" id=\"note-hint\">" +
               tr("Required for a note (up to 2,000 characters), optional for a contact (up to 200). Encrypted with "
                  "the record.") +
               "</p><button type=\"submit\">" + tr("Add") + "</button></form>";
    }
    if (work.notes) {
      if (work.notes->empty()) {
        notes += "<p class=\"hint\">" + std::string(tr("No notes yet.")) + "</p>";
      } else {
        notes += "<ul class=\"notes\">";
        for (const auto& n : *work.notes) {
          notes += "<li data-note=\"" + esc(n.id) + "\"><strong>" +
                   (n.kind == services::kSignupNoteKind ? std::string(tr("Signed up from"))
                                                        : label_of(kNoteKindLabels, n.kind)) +
                   "</strong> <span class=\"hint\">" + when(n.created_at) + ", " + esc(n.author) + "</span>";
          if (!n.text.empty()) notes += "<p>" + esc(n.text) + "</p>";
          notes += "</li>";
        }
        notes += "</ul><p class=\"hint\">" + std::string(tr("Each reading of these notes is recorded in the audit log.")) +
                 "</p>";
      }
    }
    out += section("notes-h", tr("Notes and contacts"), notes);
  }
  if (auth::permits(v.role, Action::edit_record)) {
    out += "<p class=\"hint\">" +
           std::string(tr("Erasure on the person's request is an admin's: give them the record id below.")) + "</p>";
  }
  return out;
}

std::string erase_page(const Viewer& v, std::string_view id, std::string_view message) {
  std::string b = notice_html(message);
  b += "<p>" +
       std::string(tr("Erasing a record on the person's request cannot be undone. It destroys the record's key, its "
                      "fields, the blind indexes of its e-mail and phone, its tags, consent log, notes and contacts, "
                      "in one step.")) +
       "</p><p>" +
       tr("It cannot reach backups taken before, and the audit log keeps its entries naming this record id (never a "
          "value).") +
       "</p>";
  // The word to type stays "erase" in every language: the server checks it.
  b += "<form method=\"post\" action=\"/supporters/" + esc(id) + "/erase\" class=\"stack\">" + csrf_field(v) +
       "<label for=\"erase-reason\">" + tr("How the person asked") +
       "</label><select id=\"erase-reason\" name=\"reason\">" + options(kHowAsked) +
       "</select><label for=\"erase-confirm\">" + trf("Type {} to confirm", "<strong>erase</strong>") +
       "</label><input id=\"erase-confirm\" name=\"confirm\" required maxlength=\"16\" autocomplete=\"off\" "
       "autocapitalize=\"none\" spellcheck=\"false\"><button type=\"submit\" class=\"danger\">" +
       tr("Erase this record") + "</button></form>";
  b += "<p class=\"hint\">" + trf("Record id {}", "<code>" + esc(id) + "</code>") + "</p>";
  return document(&v, tr("Erase a record"), b);
}

std::string erase_lookup_page(const Viewer& v, std::string_view message) {
  std::string b = notice_html(message);
  b += "<p>" +
       std::string(tr("Erasure on the person's request: enter the record id the organiser who took the request gave "
                      "you.")) +
       "</p><form method=\"get\" action=\"/erase\" class=\"stack\"><label for=\"erase-id\">" + tr("Record id") +
       "</label><input id=\"erase-id\" name=\"id\" required maxlength=\"32\" autocomplete=\"off\" "
       "autocapitalize=\"none\" spellcheck=\"false\" inputmode=\"latin\"><button type=\"submit\">" + tr("Continue") +
       "</button></form>";
  return document(&v, tr("Erase a record"), b);
}

std::string erased_page(const Viewer& v, std::string_view id) {
  return document(&v, tr("Record erased"),
                  "<p class=\"ok\" role=\"status\">" +
                      trf("The record {} is erased. Nothing of it is left in the database but the audit log's "
                          "entries naming its id.",
                          "<code>" + esc(id) + "</code>") +
                      "</p><p><a href=\"/erase\">" + tr("Erase another record") + "</a></p>");
}

}  // namespace rempart::console
