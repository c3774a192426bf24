// HTML of the segment pages: the saved segments with their counts, the
// form that builds one (count first, then save), one segment with its bulk
// tag form, the confirmation steps of a bulk tag and of a tag renamed or
// merged, and a segment's masked members. No script; every outside text
// through esc().
#include <span>
#include <string>
#include <utility>

#include "console/page_parts.hpp"
#include "console/pages.hpp"
#include "console/segment_pages.hpp"
#include "core/urlencoded.hpp"
#include "i18n/i18n.hpp"

namespace rempart::console {

using i18n::tr;
using i18n::trf;
using i18n::trnf;

namespace {

std::string count_text(const services::ShownCount& n) {
  if (n.fewer) return trf("fewer than {} supporters", i18n::number(services::kSmallCount));
  return trnf("{} supporter", "{} supporters", n.supporters, i18n::number(n.supporters));
}

std::string joined(const std::vector<std::string>& tags) {
  std::string s;
  for (std::size_t i = 0; i < tags.size(); ++i) s += (i ? ", " : "") + tags[i];
  return s;
}

std::string consent_words(const std::string& state) {
  if (state == "given") return tr("given");
  if (state == "refused") return tr("refused or withdrawn");
  if (state == "unknown") return tr("never asked");
  return tr("any");
}

std::string origin_words(const std::string& o) {
  if (o.empty()) return tr("anywhere");
  if (o == "intake") return tr("sign-up form or OSDI API");
  if (o == "import") return tr("any import");
  if (o == "synth") return tr("synthetic test data");
  if (o == "unknown") return tr("not recorded");
  return o;
}

// The definition in words, as a list of what holds.
std::string describe(const services::SegmentDefinition& d) {
  std::string s = "<dl class=\"segment\">";
  const auto row = [&](std::string_view label, const std::string& value) {
    s += "<dt>" + std::string(label) + "</dt><dd>" + esc(value) + "</dd>";
  };
  if (!d.tags_all.empty()) row(tr("All of the tags"), joined(d.tags_all));
  if (!d.tags_any.empty()) row(tr("Any of the tags"), joined(d.tags_any));
  if (!d.tags_none.empty()) row(tr("None of the tags"), joined(d.tags_none));
  row(tr("E-mail consent"), consent_words(d.email));
  row(tr("Text message consent"), consent_words(d.sms));
  // The days as given (YYYY-MM-DD, UTC); "…" for an open end.
  const auto range = [](const std::string& from, const std::string& to) {
    return trf("{} to {}", from.empty() ? std::string("…") : from, to.empty() ? std::string("…") : to);
  };
  if (!d.signed_up_from.empty() || !d.signed_up_to.empty()) {
    row(tr("Signed up"), range(d.signed_up_from, d.signed_up_to));
  }
  if (!d.updated_from.empty() || !d.updated_to.empty()) {
    row(tr("Last changed"), range(d.updated_from, d.updated_to));
  }
  row(tr("Came from"), origin_words(d.origin));
  if (!d.place.empty()) row(tr("Place"), d.place);
  s += "</dl>";
  return s;
}

struct Option {
  std::string_view value;
  const char* words;  // marked with N_(), shown through tr()
};

std::string choice(std::string_view id, std::string_view label, const std::string& current,
                   std::span<const Option> options) {
  std::string s = "<label for=\"" + std::string(id) + "\">" + std::string(label) + "</label><select id=\"" +
                  std::string(id) + "\" name=\"" + std::string(id) + "\">";
  for (const auto& [value, words] : options) {
    s += "<option value=\"" + std::string(value) + "\"" + (current == value ? " selected" : "") + ">" +
         std::string(tr(words)) + "</option>";
  }
  return s + "</select>";
}

std::string text_input(std::string_view id, std::string_view label, std::string_view hint, const std::string& value) {
  return "<label for=\"" + std::string(id) + "\">" + std::string(label) + "</label><input id=\"" + std::string(id) +
         "\" name=\"" + std::string(id) + "\" maxlength=\"700\" autocomplete=\"off\" aria-describedby=\"" +
         std::string(id) + "-hint\" value=\"" + esc(value) + "\"><span class=\"hint\" id=\"" + std::string(id) +
         "-hint\">" + std::string(hint) + "</span>";
}

std::string date_input(std::string_view id, std::string_view label, const std::string& value) {
  return "<label for=\"" + std::string(id) + "\">" + std::string(label) + "</label><input type=\"date\" id=\"" +
         std::string(id) + "\" name=\"" + std::string(id) + "\" value=\"" + esc(value) + "\">";
}

constexpr Option kConsentOptions[] = {{"any", N_("any")},
                                      {"given", N_("given")},
                                      {"refused", N_("refused or withdrawn")},
                                      {"unknown", N_("never asked")}};
constexpr Option kOriginOptions[] = {{"", N_("anywhere")},
                                     {"intake", N_("sign-up form or OSDI API")},
                                     {"import", N_("any import")},
                                     {"synth", N_("synthetic test data")},
                                     {"unknown", N_("not recorded")}};

}  // namespace

std::string segments_page(const Viewer& v, const std::vector<SegmentLine>& lines, std::string_view notice) {
  std::string b = notice_html(notice);
  const bool can_manage = auth::permits(v.role, auth::Action::manage_segments);
  if (can_manage) b += "<p><a href=\"/segments/new\">" + std::string(tr("Build a segment")) + "</a></p>";
  if (lines.empty()) {
    b += "<p>" + std::string(tr("No segment is saved yet.")) + "</p>";
    return document(&v, tr("Segments"), b);
  }
  b += "<ul class=\"cards\">";
  std::int64_t oldest = 0;
  for (const auto& l : lines) {
    b += "<li><h2 class=\"card-title\"><a href=\"/segments/" + esc(l.segment.name) + "\">" + esc(l.segment.name) +
         "</a></h2><p>" + count_text(l.count) + "</p></li>";
    if (oldest == 0 || l.counted_at < oldest) oldest = l.counted_at;
  }
  b += "</ul>";
  b += "<p class=\"hint\">" +
       trf("Counted at {} or later; these counts are made again once they are a minute old. A segment's own page "
           "counts it now.",
           utc_text(oldest, "%H:%M UTC")) +
       "</p>";
  return document(&v, tr("Segments"), b);
}

std::string segment_form_page(const Viewer& v, const SegmentForm& f) {
  std::string b = notice_html(f.message);
  if (f.count) {
    b += "<p class=\"ok\" role=\"status\" id=\"count\">" + trf("This segment matches {}.", count_text(*f.count)) +
         "</p>";
  }
  const auto& d = f.definition;
  b += "<form method=\"post\" action=\"/segments\" class=\"stack segment\">" + csrf_field(v);
  if (f.replace) {
    b += "<input type=\"hidden\" name=\"replace\" value=\"1\"><input type=\"hidden\" name=\"name\" value=\"" +
         esc(f.name) + "\"><p>" + trf("Segment {}", "<strong>" + esc(f.name) + "</strong>") + "</p>";
  } else {
    b += "<label for=\"name\">" + std::string(tr("Name")) + "</label><input id=\"name\" name=\"name\" maxlength=\"48\" "
         "pattern=\"[a-z0-9_\\-]{1,48}\" autocomplete=\"off\" autocapitalize=\"none\" spellcheck=\"false\" "
         "aria-describedby=\"name-hint\" value=\"" +
         esc(f.name) +
         "\"><span class=\"hint\" id=\"name-hint\">" +
         tr("Needed to save: lower-case letters, digits, - and _, up to 48.") + "</span>";
  }
  b += "<fieldset><legend>" + std::string(tr("Tags")) + "</legend>";
  b += text_input("tags_all", tr("All of"), tr("Tags separated by commas."), joined(d.tags_all));
  b += text_input("tags_any", tr("Any of"), tr("At least one of these."), joined(d.tags_any));
  b += text_input("tags_none", tr("None of"), tr("Leave out who holds one of these."), joined(d.tags_none));
  b += "</fieldset><fieldset><legend>" + std::string(tr("Consent")) + "</legend>";
  b += choice("email", tr("E-mail"), d.email, kConsentOptions);
  b += choice("sms", tr("Text messages"), d.sms, kConsentOptions);
  b += "</fieldset><fieldset><legend>" + std::string(tr("Signed up (UTC, both days included)")) + "</legend>";
  b += date_input("signed_up_from", tr("First day"), d.signed_up_from) +
       date_input("signed_up_to", tr("Last day"), d.signed_up_to);
  b += "<span class=\"hint\">" +
       std::string(tr("The earlier of the record's creation and the sign-up date its source recorded.")) + "</span>";
  b += "</fieldset><fieldset><legend>" + std::string(tr("Last changed (UTC, both days included)")) + "</legend>";
  b += date_input("updated_from", tr("First day"), d.updated_from) +
       date_input("updated_to", tr("Last day"), d.updated_to);
  b += "</fieldset>";
  b += choice("origin", tr("Came from"), d.origin, kOriginOptions);
  b += "<label for=\"place\">" + std::string(tr("Place")) + "</label><input id=\"place\" name=\"place\" maxlength=\"100\" autocomplete=\"off\" "
       "aria-describedby=\"place-hint\" value=\"" +
       esc(d.place) +
       "\"><span class=\"hint\" id=\"place-hint\">" +
       tr("One postcode, département (69, 2A), region (Bretagne) or town, matched on whole words against the "
          "record's address.") +
       "</span>";
  b += "<div class=\"buttons\"><button type=\"submit\" name=\"op\" value=\"count\">" + std::string(tr("Count")) +
       "</button><button type=\"submit\" name=\"op\" value=\"save\">" + tr("Save") + "</button></div></form>";
  b += "<p><a href=\"/segments\">" + std::string(tr("Back to the segments")) + "</a></p>";
  return document(&v, f.replace ? tr("Change a segment") : tr("Build a segment"), b);
}

std::string segment_page(const Viewer& v, const services::Segment& s, const services::ShownCount& count,
                         std::string_view notice) {
  std::string b = notice_html(notice);
  b += "<p id=\"count\">" + count_text(count) + ".</p>";
  b += describe(s.definition);
  b += "<p><a href=\"/supporters?segment=" + esc(s.name) + "\">" + tr("See its members (masked)") + "</a></p>";
  if (auth::permits(v.role, auth::Action::bulk_tags)) {
    b += "<form method=\"post\" action=\"/segments/" + esc(s.name) + "/tags\" class=\"stack\">" + csrf_field(v) +
         "<h2>" + tr("Tag every member") + "</h2><label for=\"bulk-tag\">" + tr("Tag") +
         "</label><input id=\"bulk-tag\" name=\"tag\" required maxlength=\"256\" autocomplete=\"off\">"
         "<fieldset><legend>" + tr("Change") +
         "</legend><label><input type=\"radio\" name=\"change\" value=\"add\" checked> " + tr("Add the tag") +
         "</label><label><input type=\"radio\" name=\"change\" value=\"remove\"> " + tr("Remove the tag") +
         "</label></fieldset><button type=\"submit\">" + tr("Continue") + "</button></form>";
  }
  if (auth::permits(v.role, auth::Action::manage_segments)) {
    b += "<p><a href=\"/segments/" + esc(s.name) + "/edit\">" + tr("Change this segment") + "</a></p>";
    b += button_form(v, "/segments/" + s.name + "/delete", tr("Delete this segment"));
  }
  b += "<p><a href=\"/segments\">" + std::string(tr("Back to the segments")) + "</a></p>";
  return document(&v, trf("Segment {}", s.name), b);
}

std::string bulk_confirm_page(const Viewer& v, std::string_view name, std::string_view tag, bool add,
                              std::int64_t count) {
  const std::string t = "<strong>" + esc(tag) + "</strong>", n = "<strong>" + i18n::number(count) + "</strong>",
                    of = "<strong>" + esc(name) + "</strong>";
  std::string b = "<p role=\"status\">" +
                  (add ? trnf("Add the tag {0} to the {1} member of {2}?", "Add the tag {0} to the {1} members of {2}?",
                              count, t, n, of)
                       : trnf("Remove the tag {0} from the {1} member of {2}?",
                              "Remove the tag {0} from the {1} members of {2}?", count, t, n, of)) +
                  "</p>";
  b += "<form method=\"post\" action=\"/segments/" + esc(name) + "/tags\" class=\"stack\">" + csrf_field(v) +
       "<input type=\"hidden\" name=\"tag\" value=\"" + esc(tag) + "\"><input type=\"hidden\" name=\"change\" value=\"" +
       (add ? "add" : "remove") + "\"><input type=\"hidden\" name=\"confirm\" value=\"" + std::to_string(count) +
       "\"><button type=\"submit\">" +
       (add ? trnf("Add for {} supporter", "Add for {} supporters", count, i18n::number(count))
            : trnf("Remove for {} supporter", "Remove for {} supporters", count, i18n::number(count))) +
       "</button></form>";
  b += "<p><a href=\"/segments/" + esc(name) + "\">" + std::string(tr("Cancel")) + "</a></p>";
  return document(&v, tr("Confirm"), b);
}

std::string tag_confirm_page(const Viewer& v, std::string_view from, std::string_view to, bool merge,
                             std::int64_t count) {
  const std::string f = "<strong>" + esc(from) + "</strong>", t = "<strong>" + esc(to) + "</strong>",
                    n = "<strong>" + i18n::number(count) + "</strong>";
  std::string b = "<p role=\"status\">" +
                  (merge ? trnf("Merge the tag {0} into {1} for {2} supporter? Records holding both keep one.",
                                "Merge the tag {0} into {1} for {2} supporters? Records holding both keep one.", count,
                                f, t, n)
                         : trnf("Rename the tag {0} to {1} for {2} supporter?",
                                "Rename the tag {0} to {1} for {2} supporters?", count, f, t, n)) +
                  "</p>";
  b += "<form method=\"post\" action=\"/tags/rename\" class=\"stack\">" + csrf_field(v) +
       "<input type=\"hidden\" name=\"from\" value=\"" + esc(from) + "\"><input type=\"hidden\" name=\"to\" value=\"" +
       esc(to) + "\"><input type=\"hidden\" name=\"op\" value=\"" + (merge ? "merge" : "rename") +
       "\"><input type=\"hidden\" name=\"confirm\" value=\"1\"><button type=\"submit\">" +
       (merge ? tr("Merge") : tr("Rename")) + "</button></form><p><a href=\"/tags\">" + tr("Cancel") + "</a></p>";
  return document(&v, tr("Confirm"), b);
}

std::string tag_rename_form(const Viewer& v) {
  return "<h2>" + std::string(tr("Rename or merge a tag")) +
         "</h2><form method=\"post\" action=\"/tags/rename\" class=\"stack\">" + csrf_field(v) +
         "<label for=\"from\">" + tr("Tag") + "</label><input id=\"from\" name=\"from\" required maxlength=\"256\" "
         "autocomplete=\"off\"><label for=\"to\">" + tr("New name, or the tag to merge into") +
         "</label><input id=\"to\" name=\"to\" required maxlength=\"256\" autocomplete=\"off\"><fieldset><legend>" +
         tr("Change") + "</legend><label><input type=\"radio\" name=\"op\" value=\"rename\" checked> " +
         tr("Rename (the new name must be unused)") +
         "</label><label><input type=\"radio\" name=\"op\" value=\"merge\"> " + tr("Merge into an existing tag") +
         "</label></fieldset><button type=\"submit\">" + tr("Continue") + "</button></form>";
}

std::string segment_members_page(const Viewer& v, const services::MaskedPage& page, std::string_view name) {
  std::string b = "<p>" +
                  trf("{} in the segment {}. Values are masked; open a record to reveal one field, with a reason.",
                      count_text(services::shown(page.total)),
                      "<a href=\"/segments/" + esc(name) + "\">" + esc(name) + "</a>") +
                  "</p>";
  b += masked_rows(page.items);
  if (!page.next_cursor.empty()) {
    b += "<p><a rel=\"next\" href=\"/supporters?segment=" + esc(name) + "&amp;cursor=" + esc(page.next_cursor) +
         "\">" + tr("Next page") + "</a></p>";
  }
  return document(&v, trf("Supporters in {}", name), b);
}

}  // namespace rempart::console
