// HTML of the call list pages: a caller's shares and, for organisers, every
// list and the form that makes one; one list's progress; the person in
// hand with the outcome form; the end of a share. No script; every outside
// text through esc().
#include <string>
#include <utility>

#include "console/call_pages.hpp"
#include "console/page_parts.hpp"
#include "core/validate.hpp"

namespace rempart::console {

namespace {

constexpr std::pair<std::string_view, std::string_view> kOutcomeWords[] = {
    {"called", "Talked with them"},
    {"rsvp", "Will come (RSVP)"},
    {"left_message", "Left a message"},
    {"no_answer", "No answer"},
    {"wrong_number", "Wrong number"},
};

std::string outcome_words(std::string_view o) {
  for (const auto& [value, words] : kOutcomeWords) {
    if (value == o) return std::string(words);
  }
  return std::string(o);
}

std::string state_words(const services::CallListView& l) {
  if (l.state == "open") return "open until " + when(l.ends_at);
  if (l.state == "scheduled") return "opens " + when(l.starts_at);
  if (l.state == "closed") return "closed " + when(l.closed_at.value_or(0));
  return "ended " + when(l.ends_at);
}

std::string progress(std::int64_t done, std::int64_t entries) {
  return std::to_string(done) + " of " + std::to_string(entries) + " done";
}

std::string start_button(const Viewer& v, const services::CallListView& l) {
  return button_form(v, "/calls/" + l.name + "/next", l.opened > l.done ? "Continue calling" : "Start calling");
}

std::string list_form(const Viewer& v, const CallListForm& f) {
  std::string b = "<h2 id=\"new\">Make a call list</h2>" + notice_html(f.message);
  if (f.segments.empty()) {
    return b + "<p>A call list is made from a saved segment. <a href=\"/segments/new\">Build a segment</a> "
               "first.</p>";
  }
  if (f.callers.empty()) return b + "<p>No account may make calls yet: callers are viewers or organisers.</p>";
  b += "<form method=\"post\" action=\"/calls\" class=\"stack\">" + csrf_field(v);
  b += "<label for=\"name\">Name</label><input id=\"name\" name=\"name\" required maxlength=\"48\" "
       "pattern=\"[a-z0-9_\\-]{1,48}\" autocomplete=\"off\" autocapitalize=\"none\" spellcheck=\"false\" "
       "aria-describedby=\"name-hint\" value=\"" +
       esc(f.name) + "\"><span class=\"hint\" id=\"name-hint\">Lower-case letters, digits, - and _, up to 48.</span>";
  b += "<label for=\"segment\">Segment</label><select id=\"segment\" name=\"segment\" "
       "aria-describedby=\"segment-hint\">";
  for (const auto& s : f.segments) {
    b += "<option" + std::string(s == f.segment ? " selected" : "") + ">" + esc(s) + "</option>";
  }
  b += "</select><span class=\"hint\" id=\"segment-hint\">Its members with a phone number, as they are now.</span>";
  b += "<fieldset><legend>Callers</legend>";
  for (const auto& c : f.callers) {
    bool ticked = false;
    for (const auto& t : f.chosen) ticked = ticked || t == c;
    b += "<label><input type=\"checkbox\" name=\"caller\" value=\"" + esc(c) + "\"" + (ticked ? " checked" : "") +
         "> " + esc(c) + "</label>";
  }
  b += "<span class=\"hint\">The people are shared out among them in turn.</span></fieldset>";
  b += "<label for=\"starts\">Opens (UTC)</label><input type=\"datetime-local\" id=\"starts\" name=\"starts\" "
       "required value=\"" +
       esc(f.starts) + "\"><label for=\"ends\">Closes (UTC)</label><input type=\"datetime-local\" id=\"ends\" "
                       "name=\"ends\" required aria-describedby=\"ends-hint\" value=\"" +
       esc(f.ends) + "\"><span class=\"hint\" id=\"ends-hint\">At most 31 days after it opens.</span>";
  b += "<label for=\"script\">What to say</label><textarea id=\"script\" name=\"script\" rows=\"5\" "
       "maxlength=\"8000\" aria-describedby=\"script-hint\">" +
       esc(f.script) +
       "</textarea><span class=\"hint\" id=\"script-hint\">Shown to callers on every call. No personal data.</span>";
  b += "<button type=\"submit\">Make the list</button></form>";
  return b;
}

}  // namespace

std::string calls_page(const Viewer& v, const std::vector<services::CallListView>& mine,
                       const std::optional<std::vector<services::CallListView>>& all,
                       const std::optional<CallListForm>& form, std::string_view notice) {
  std::string b = notice_html(notice);
  b += "<h2>Your calls</h2>";
  if (mine.empty()) {
    b += "<p>You have no call list.</p>";
  } else {
    b += "<ul class=\"cards\">";
    for (const auto& l : mine) {
      const auto& s = l.shares.front();
      b += "<li><h3 class=\"card-title\">" + esc(l.name) + "</h3><p>" + progress(s.done, s.entries) + " · " +
           esc(state_words(l)) + "</p>";
      if (l.state == "open" && s.done < s.entries) b += start_button(v, l);
      b += "</li>";
    }
    b += "</ul>";
  }
  if (all) {
    b += "<h2>Every call list</h2>";
    if (all->empty()) b += "<p>No call list yet.</p>";
    else {
      b += "<ul class=\"cards\">";
      for (const auto& l : *all) {
        b += "<li><h3 class=\"card-title\"><a href=\"/calls/" + esc(l.name) + "\">" + esc(l.name) + "</a></h3><p>" +
             progress(l.done, l.entries) + " · " + std::to_string(l.shares.size()) +
             (l.shares.size() == 1 ? " caller" : " callers") + " · " + esc(state_words(l)) + "</p></li>";
      }
      b += "</ul>";
    }
  }
  if (form) b += list_form(v, *form);
  return document(&v, "Calls", b);
}

std::string call_list_page(const Viewer& v, const services::CallListView& l, std::string_view notice) {
  std::string b = notice_html(notice);
  b += "<dl class=\"segment\"><dt>State</dt><dd>" + esc(state_words(l)) + "</dd><dt>Window</dt><dd>" +
       when(l.starts_at) + " to " + when(l.ends_at) + "</dd><dt>Segment</dt><dd>" + esc(l.segment) +
       " (as it was on " + when(l.created_at) + ")</dd><dt>Made by</dt><dd>" + esc(l.created_by) +
       "</dd><dt>Progress</dt><dd>" + progress(l.done, l.entries) + ", " + std::to_string(l.opened - l.done) +
       " in hand</dd></dl>";
  b += "<h2>Callers</h2><table class=\"people\"><thead><tr><th>Caller</th><th>People</th><th>Opened</th>"
       "<th>Done</th></tr></thead><tbody>";
  for (const auto& s : l.shares) {
    b += "<tr><td data-label=\"Caller\">" + esc(s.caller) + "</td><td data-label=\"People\">" +
         std::to_string(s.entries) + "</td><td data-label=\"Opened\">" + std::to_string(s.opened) +
         "</td><td data-label=\"Done\">" + std::to_string(s.done) + "</td></tr>";
  }
  b += "</tbody></table><h2>Outcomes</h2>";
  if (l.outcomes.empty()) b += "<p>No call recorded yet.</p>";
  else {
    b += "<dl class=\"segment\">";
    for (const auto& [o, n] : l.outcomes) b += "<dt>" + esc(outcome_words(o)) + "</dt><dd>" + std::to_string(n) + "</dd>";
    b += "</dl>";
  }
  if (!l.script.empty()) b += "<h2>What to say</h2><p class=\"script\">" + esc(l.script) + "</p>";
  if (!l.closed_at) b += button_form(v, "/calls/" + l.name + "/close", "Close the list");
  b += "<p><a href=\"/calls\">Back to the calls</a></p>";
  return document(&v, "Call list " + l.name, b);
}

std::string call_page(const Viewer& v, const services::CallPerson& p, std::string_view message) {
  std::string b = notice_html(message);
  b += "<p>" + esc(p.list) + ": " + std::to_string(p.share - p.left + 1) + " of " + std::to_string(p.share) +
       ". This call was opened for you and is recorded.</p>";
  const std::string shown_phone = core::phone_for_display(p.phone);
  b += "<section class=\"callee\" aria-label=\"Person to call\"><p class=\"callee-name\">" +
       esc(p.name.empty() ? std::string("(no name)") : p.name) + "</p><p><a class=\"callee-phone\" href=\"tel:" +
       esc(p.phone) + "\">" + esc(shown_phone) + "</a></p>";
  if (!p.tags.empty()) {
    b += "<p class=\"hint\">Tags: ";
    for (std::size_t i = 0; i < p.tags.size(); ++i) b += (i ? ", " : "") + esc(p.tags[i]);
    b += "</p>";
  }
  b += "</section>";
  if (!p.script.empty()) b += "<h2>What to say</h2><p class=\"script\">" + esc(p.script) + "</p>";
  b += "<form method=\"post\" action=\"/calls/" + esc(p.list) + "/outcome\" class=\"stack\">" + csrf_field(v) +
       "<input type=\"hidden\" name=\"entry\" value=\"" + std::to_string(p.entry) +
       "\"><fieldset class=\"outcomes\"><legend>How did the call go?</legend>";
  bool first = true;
  for (const auto& [value, words] : kOutcomeWords) {
    b += "<label><input type=\"radio\" name=\"outcome\" value=\"" + std::string(value) + "\"" +
         (first ? " required" : "") + "> " + std::string(words) + "</label>";
    first = false;
  }
  b += "</fieldset><label for=\"text\">A short note for the organisers (optional)</label><input id=\"text\" "
       "name=\"text\" maxlength=\"800\" autocomplete=\"off\">"
       "<div class=\"buttons\"><button type=\"submit\" name=\"op\" value=\"next\">Save and call the next person"
       "</button><button type=\"submit\" name=\"op\" value=\"stop\">Save and stop</button></div></form>";
  return document(&v, "Call", b);
}

std::string share_done_page(const Viewer& v, std::string_view list) {
  return document(&v, "Calls done",
                  "<p role=\"status\" class=\"ok\">Every person of your share of " + esc(list) +
                      " has been called. Thank you.</p><p><a href=\"/calls\">Back to the calls</a></p>");
}

}  // namespace rempart::console
