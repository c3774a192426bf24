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

namespace rempart::console {

namespace {

std::string count_text(const services::ShownCount& n) {
  if (n.fewer) return "fewer than " + std::to_string(services::kSmallCount) + " supporters";
  return std::to_string(n.supporters) + (n.supporters == 1 ? " supporter" : " supporters");
}

std::string joined(const std::vector<std::string>& tags) {
  std::string s;
  for (std::size_t i = 0; i < tags.size(); ++i) s += (i ? ", " : "") + tags[i];
  return s;
}

std::string consent_words(const std::string& state) {
  if (state == "given") return "given";
  if (state == "refused") return "refused or withdrawn";
  if (state == "unknown") return "never asked";
  return "any";
}

std::string origin_words(const std::string& o) {
  if (o.empty()) return "any";
  if (o == "intake") return "sign-up form or OSDI API";
  if (o == "import") return "any import";
  if (o == "synth") return "synthetic test data";
  if (o == "unknown") return "not recorded";
  return o;
}

// The definition in words, as a list of what holds.
std::string describe(const services::SegmentDefinition& d) {
  std::string s = "<dl class=\"segment\">";
  const auto row = [&](std::string_view label, const std::string& value) {
    s += "<dt>" + std::string(label) + "</dt><dd>" + esc(value) + "</dd>";
  };
  if (!d.tags_all.empty()) row("All of the tags", joined(d.tags_all));
  if (!d.tags_any.empty()) row("Any of the tags", joined(d.tags_any));
  if (!d.tags_none.empty()) row("None of the tags", joined(d.tags_none));
  row("E-mail consent", consent_words(d.email));
  row("Text message consent", consent_words(d.sms));
  if (!d.signed_up_from.empty() || !d.signed_up_to.empty()) {
    row("Signed up", (d.signed_up_from.empty() ? "…" : d.signed_up_from) + " to " +
                         (d.signed_up_to.empty() ? "…" : d.signed_up_to));
  }
  if (!d.updated_from.empty() || !d.updated_to.empty()) {
    row("Last changed", (d.updated_from.empty() ? "…" : d.updated_from) + " to " +
                            (d.updated_to.empty() ? "…" : d.updated_to));
  }
  row("Came from", origin_words(d.origin));
  if (!d.place.empty()) row("Place", d.place);
  s += "</dl>";
  return s;
}

using Option = std::pair<std::string_view, std::string_view>;  // value, words

std::string choice(std::string_view id, std::string_view label, const std::string& current,
                   std::span<const Option> options) {
  std::string s = "<label for=\"" + std::string(id) + "\">" + std::string(label) + "</label><select id=\"" +
                  std::string(id) + "\" name=\"" + std::string(id) + "\">";
  for (const auto& [value, words] : options) {
    s += "<option value=\"" + std::string(value) + "\"" + (current == value ? " selected" : "") + ">" +
         std::string(words) + "</option>";
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

constexpr Option kConsentOptions[] = {
    {"any", "any"}, {"given", "given"}, {"refused", "refused or withdrawn"}, {"unknown", "never asked"}};
constexpr Option kOriginOptions[] = {{"", "anywhere"},
                                     {"intake", "sign-up form or OSDI API"},
                                     {"import", "any import"},
                                     {"synth", "synthetic test data"},
                                     {"unknown", "not recorded"}};

}  // namespace

std::string segments_page(const Viewer& v, const std::vector<SegmentLine>& lines, std::string_view notice) {
  std::string b = notice_html(notice);
  const bool can_manage = auth::permits(v.role, auth::Action::manage_segments);
  if (can_manage) b += "<p><a href=\"/segments/new\">Build a segment</a></p>";
  if (lines.empty()) {
    b += "<p>No segment is saved yet.</p>";
    return document(&v, "Segments", b);
  }
  b += "<ul class=\"cards\">";
  std::int64_t oldest = 0;
  for (const auto& l : lines) {
    b += "<li><h2 class=\"card-title\"><a href=\"/segments/" + esc(l.segment.name) + "\">" + esc(l.segment.name) +
         "</a></h2><p>" + count_text(l.count) + "</p></li>";
    if (oldest == 0 || l.counted_at < oldest) oldest = l.counted_at;
  }
  b += "</ul>";
  b += "<p class=\"hint\">Counted at " + utc_text(oldest, "%H:%M UTC") +
       " or later; these counts are made again once they are a minute old. A segment's own page counts it "
       "now.</p>";
  return document(&v, "Segments", b);
}

std::string segment_form_page(const Viewer& v, const SegmentForm& f) {
  std::string b = notice_html(f.message);
  if (f.count) {
    b += "<p class=\"ok\" role=\"status\" id=\"count\">This segment matches " + count_text(*f.count) + ".</p>";
  }
  const auto& d = f.definition;
  b += "<form method=\"post\" action=\"/segments\" class=\"stack segment\">" + csrf_field(v);
  if (f.replace) {
    b += "<input type=\"hidden\" name=\"replace\" value=\"1\"><input type=\"hidden\" name=\"name\" value=\"" +
         esc(f.name) + "\"><p>Segment <strong>" + esc(f.name) + "</strong></p>";
  } else {
    b += "<label for=\"name\">Name</label><input id=\"name\" name=\"name\" maxlength=\"48\" "
         "pattern=\"[a-z0-9_\\-]{1,48}\" autocomplete=\"off\" autocapitalize=\"none\" spellcheck=\"false\" "
         "aria-describedby=\"name-hint\" value=\"" +
         esc(f.name) +
         "\"><span class=\"hint\" id=\"name-hint\">Needed to save: lower-case letters, digits, - and _, "
         "up to 48.</span>";
  }
  b += "<fieldset><legend>Tags</legend>";
  b += text_input("tags_all", "All of", "Tags separated by commas.", joined(d.tags_all));
  b += text_input("tags_any", "Any of", "At least one of these.", joined(d.tags_any));
  b += text_input("tags_none", "None of", "Leave out who holds one of these.", joined(d.tags_none));
  b += "</fieldset><fieldset><legend>Consent</legend>";
  b += choice("email", "E-mail", d.email, kConsentOptions);
  b += choice("sms", "Text messages", d.sms, kConsentOptions);
  b += "</fieldset><fieldset><legend>Signed up (UTC, both days included)</legend>";
  b += date_input("signed_up_from", "From", d.signed_up_from) + date_input("signed_up_to", "To", d.signed_up_to);
  b += "<span class=\"hint\">The earlier of the record's creation and the sign-up date its source recorded.</span>";
  b += "</fieldset><fieldset><legend>Last changed (UTC, both days included)</legend>";
  b += date_input("updated_from", "From", d.updated_from) + date_input("updated_to", "To", d.updated_to);
  b += "</fieldset>";
  b += choice("origin", "Came from", d.origin, kOriginOptions);
  b += "<label for=\"place\">Place</label><input id=\"place\" name=\"place\" maxlength=\"100\" autocomplete=\"off\" "
       "aria-describedby=\"place-hint\" value=\"" +
       esc(d.place) +
       "\"><span class=\"hint\" id=\"place-hint\">One postcode, département (69, 2A), region (Bretagne) or town, "
       "matched on whole words against the record's address.</span>";
  b += "<div class=\"buttons\"><button type=\"submit\" name=\"op\" value=\"count\">Count</button>"
       "<button type=\"submit\" name=\"op\" value=\"save\">Save</button></div></form>";
  b += "<p><a href=\"/segments\">Back to the segments</a></p>";
  return document(&v, f.replace ? "Change a segment" : "Build a segment", b);
}

std::string segment_page(const Viewer& v, const services::Segment& s, const services::ShownCount& count,
                         std::string_view notice) {
  std::string b = notice_html(notice);
  b += "<p id=\"count\">" + count_text(count) + ".</p>";
  b += describe(s.definition);
  b += "<p><a href=\"/supporters?segment=" + esc(s.name) + "\">See its members (masked)</a></p>";
  if (auth::permits(v.role, auth::Action::bulk_tags)) {
    b += "<form method=\"post\" action=\"/segments/" + esc(s.name) + "/tags\" class=\"stack\">" + csrf_field(v) +
         "<h2>Tag every member</h2><label for=\"bulk-tag\">Tag</label><input id=\"bulk-tag\" name=\"tag\" required "
         "maxlength=\"256\" autocomplete=\"off\">"
         "<fieldset><legend>Change</legend><label><input type=\"radio\" name=\"change\" value=\"add\" checked> "
         "Add the tag</label><label><input type=\"radio\" name=\"change\" value=\"remove\"> Remove the tag</label>"
         "</fieldset><button type=\"submit\">Continue</button></form>";
  }
  if (auth::permits(v.role, auth::Action::manage_segments)) {
    b += "<p><a href=\"/segments/" + esc(s.name) + "/edit\">Change this segment</a></p>";
    b += button_form(v, "/segments/" + s.name + "/delete", "Delete this segment");
  }
  b += "<p><a href=\"/segments\">Back to the segments</a></p>";
  return document(&v, "Segment " + s.name, b);
}

std::string bulk_confirm_page(const Viewer& v, std::string_view name, std::string_view tag, bool add,
                              std::int64_t count) {
  std::string b = "<p role=\"status\">" + std::string(add ? "Add" : "Remove") + " the tag <strong>" + esc(tag) +
                  "</strong> " + (add ? "to " : "from ") + "the <strong>" + std::to_string(count) +
                  "</strong> members of <strong>" + esc(name) + "</strong>?</p>";
  b += "<form method=\"post\" action=\"/segments/" + esc(name) + "/tags\" class=\"stack\">" + csrf_field(v) +
       "<input type=\"hidden\" name=\"tag\" value=\"" + esc(tag) + "\"><input type=\"hidden\" name=\"change\" value=\"" +
       (add ? "add" : "remove") + "\"><input type=\"hidden\" name=\"confirm\" value=\"" + std::to_string(count) +
       "\"><button type=\"submit\">" + (add ? "Add" : "Remove") + " for " + std::to_string(count) +
       " supporters</button></form>";
  b += "<p><a href=\"/segments/" + esc(name) + "\">Cancel</a></p>";
  return document(&v, "Confirm", b);
}

std::string tag_confirm_page(const Viewer& v, std::string_view from, std::string_view to, bool merge,
                             std::int64_t count) {
  std::string b = "<p role=\"status\">" + std::string(merge ? "Merge" : "Rename") + " the tag <strong>" + esc(from) +
                  "</strong> " + (merge ? "into" : "to") + " <strong>" + esc(to) + "</strong> for <strong>" +
                  std::to_string(count) + "</strong> supporters?" +
                  (merge ? " Records holding both keep one." : "") + "</p>";
  b += "<form method=\"post\" action=\"/tags/rename\" class=\"stack\">" + csrf_field(v) +
       "<input type=\"hidden\" name=\"from\" value=\"" + esc(from) + "\"><input type=\"hidden\" name=\"to\" value=\"" +
       esc(to) + "\"><input type=\"hidden\" name=\"op\" value=\"" + (merge ? "merge" : "rename") +
       "\"><input type=\"hidden\" name=\"confirm\" value=\"1\"><button type=\"submit\">" +
       (merge ? "Merge" : "Rename") + "</button></form><p><a href=\"/tags\">Cancel</a></p>";
  return document(&v, "Confirm", b);
}

std::string tag_rename_form(const Viewer& v) {
  return "<h2>Rename or merge a tag</h2><form method=\"post\" action=\"/tags/rename\" class=\"stack\">" +
         csrf_field(v) +
         "<label for=\"from\">Tag</label><input id=\"from\" name=\"from\" required maxlength=\"256\" "
         "autocomplete=\"off\"><label for=\"to\">New name, or the tag to merge into</label><input id=\"to\" "
         "name=\"to\" required maxlength=\"256\" autocomplete=\"off\"><fieldset><legend>Change</legend>"
         "<label><input type=\"radio\" name=\"op\" value=\"rename\" checked> Rename (the new name must be "
         "unused)</label><label><input type=\"radio\" name=\"op\" value=\"merge\"> Merge into an existing "
         "tag</label></fieldset><button type=\"submit\">Continue</button></form>";
}

std::string segment_members_page(const Viewer& v, const services::MaskedPage& page, std::string_view name) {
  std::string b = "<p>" + count_text(services::shown(page.total)) + " in the segment <a href=\"/segments/" +
                  esc(name) + "\">" + esc(name) +
                  "</a>. Values are masked; open a record to reveal one field, with a reason.</p>";
  b += masked_rows(page.items);
  if (!page.next_cursor.empty()) {
    b += "<p><a rel=\"next\" href=\"/supporters?segment=" + esc(name) + "&amp;cursor=" + esc(page.next_cursor) +
         "\">Next page</a></p>";
  }
  return document(&v, "Supporters in " + std::string(name), b);
}

}  // namespace rempart::console
