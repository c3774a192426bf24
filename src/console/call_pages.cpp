// HTML of the call list pages: a caller's shares and, for organisers, every
// list and the form that makes one; one list's progress; the person in
// hand with the outcome form; the end of a share. No script; every outside
// text through esc().
#include <string>
#include <utility>

#include "console/call_pages.hpp"
#include "console/page_parts.hpp"
#include "core/validate.hpp"
#include "i18n/i18n.hpp"

namespace rempart::console {

namespace {

using i18n::tr;
using i18n::trf;
using i18n::trnf;

// The words are English messages, translated where they are shown.
constexpr std::pair<std::string_view, const char*> kOutcomeWords[] = {
    {"called", N_("Talked with them")},
    {"rsvp", N_("Will come (RSVP)")},
    {"left_message", N_("Left a message")},
    {"no_answer", N_("No answer")},
    {"wrong_number", N_("Wrong number")},
};

std::string outcome_words(std::string_view o) {
  for (const auto& [value, words] : kOutcomeWords) {
    if (value == o) return tr(words);
  }
  return std::string(o);
}

std::string state_words(const services::CallListView& l) {
  if (l.state == "open") return trf("open until {}", when(l.ends_at));
  if (l.state == "scheduled") return trf("opens {}", when(l.starts_at));
  if (l.state == "closed") return trf("closed {}", when(l.closed_at.value_or(0)));
  return trf("ended {}", when(l.ends_at));
}

std::string progress(std::int64_t done, std::int64_t entries) {
  return trf("{} of {} done", i18n::number(done), i18n::number(entries));
}

std::string start_button(const Viewer& v, const services::CallListView& l) {
  return button_form(v, "/calls/" + l.name + "/next",
                     l.opened > l.done ? tr("Continue calling") : tr("Start calling"));
}

std::string list_form(const Viewer& v, const CallListForm& f) {
  std::string b = "<h2 id=\"new\">" + std::string(tr("Make a call list")) + "</h2>" + notice_html(f.message);
  if (f.segments.empty()) {
    return b + "<p>" +
           trf("A call list is made from a saved segment. {}Build a segment{} first.",
               "<a href=\"/segments/new\">", "</a>") +
           "</p>";
  }
  if (f.callers.empty()) {
    return b + "<p>" + tr("No account may make calls yet: callers are viewers or organisers.") + "</p>";
  }
  b += "<form method=\"post\" action=\"/calls\" class=\"stack\">" + csrf_field(v);
  b += "<label for=\"name\">" + std::string(tr("Name")) +
       "</label><input id=\"name\" name=\"name\" required maxlength=\"48\" "
       "pattern=\"[a-z0-9_\\-]{1,48}\" autocomplete=\"off\" autocapitalize=\"none\" spellcheck=\"false\" "
       "aria-describedby=\"name-hint\" value=\"" +
       esc(f.name) + "\"><span class=\"hint\" id=\"name-hint\">" +
       tr("Lower-case letters, digits, - and _, up to 48.") + "</span>";
  b += "<label for=\"segment\">" + std::string(tr("Segment")) +
       "</label><select id=\"segment\" name=\"segment\" aria-describedby=\"segment-hint\">";
  for (const auto& s : f.segments) {
    b += "<option" + std::string(s == f.segment ? " selected" : "") + ">" + esc(s) + "</option>";
  }
  b += "</select><span class=\"hint\" id=\"segment-hint\">" +
       std::string(tr("Its members with a phone number, as they are now.")) + "</span>";
  b += "<fieldset><legend>" + std::string(tr("Callers")) + "</legend>";
  for (const auto& c : f.callers) {
    bool ticked = false;
    for (const auto& t : f.chosen) ticked = ticked || t == c;
    b += "<label><input type=\"checkbox\" name=\"caller\" value=\"" + esc(c) + "\"" + (ticked ? " checked" : "") +
         "> " + esc(c) + "</label>";
  }
  b += "<span class=\"hint\">" + std::string(tr("The people are shared out among them in turn.")) +
       "</span></fieldset>";
  b += "<label for=\"starts\">" + std::string(tr("Opens (UTC)")) +
       "</label><input type=\"datetime-local\" id=\"starts\" name=\"starts\" required value=\"" + esc(f.starts) +
       "\"><label for=\"ends\">" + tr("Closes (UTC)") +
       "</label><input type=\"datetime-local\" id=\"ends\" name=\"ends\" required aria-describedby=\"ends-hint\" "
       "value=\"" + esc(f.ends) + "\"><span class=\"hint\" id=\"ends-hint\">" +
       tr("At most 31 days after it opens.") + "</span>";
  b += "<label for=\"script\">" + std::string(tr("What to say")) +
       "</label><textarea id=\"script\" name=\"script\" rows=\"5\" maxlength=\"8000\" "
       "aria-describedby=\"script-hint\">" +
       esc(f.script) + "</textarea><span class=\"hint\" id=\"script-hint\">" +
       tr("Shown to callers on every call. No personal data.") + "</span>";
  b += "<button type=\"submit\">" + std::string(tr("Make the list")) + "</button></form>";
  return b;
}

}  // namespace

std::string calls_page(const Viewer& v, const std::vector<services::CallListView>& mine,
                       const std::optional<std::vector<services::CallListView>>& all,
                       const std::optional<CallListForm>& form, std::string_view notice) {
  std::string b = notice_html(notice);
  b += "<h2>" + std::string(tr("Your calls")) + "</h2>";
  if (mine.empty()) {
    b += "<p>" + std::string(tr("You have no call list.")) + "</p>";
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
    b += "<h2>" + std::string(tr("Every call list")) + "</h2>";
    if (all->empty()) b += "<p>" + std::string(tr("No call list yet.")) + "</p>";
    else {
      b += "<ul class=\"cards\">";
      for (const auto& l : *all) {
        b += "<li><h3 class=\"card-title\"><a href=\"/calls/" + esc(l.name) + "\">" + esc(l.name) + "</a></h3><p>" +
             progress(l.done, l.entries) + " · " +
             trnf("{} caller", "{} callers", static_cast<std::int64_t>(l.shares.size()),
                  i18n::number(static_cast<std::int64_t>(l.shares.size()))) +
             " · " + esc(state_words(l)) + "</p></li>";
      }
      b += "</ul>";
    }
  }
  if (form) b += list_form(v, *form);
  return document(&v, tr("Calls"), b);
}

std::string call_list_page(const Viewer& v, const services::CallListView& l, std::string_view notice) {
  std::string b = notice_html(notice);
  b += "<dl class=\"segment\"><dt>" + std::string(tr("State")) + "</dt><dd>" + esc(state_words(l)) + "</dd><dt>" +
       tr("Window") + "</dt><dd>" + trf("{} to {}", when(l.starts_at), when(l.ends_at)) + "</dd><dt>" +
       tr("Segment") + "</dt><dd>" + trf("{} (as it was on {})", esc(l.segment), when(l.created_at)) + "</dd><dt>" +
       tr("Made by") + "</dt><dd>" + esc(l.created_by) + "</dd><dt>" + tr("Progress") + "</dt><dd>" +
       trf("{}, {} in hand", progress(l.done, l.entries), i18n::number(l.opened - l.done)) + "</dd></dl>";
  const std::string caller = tr("Caller"), people = tr("People"), opened = tr("Opened"), done = tr("Done");
  b += "<h2>" + std::string(tr("Callers")) + "</h2><table class=\"people\"><thead><tr><th>" + caller + "</th><th>" +
       people + "</th><th>" + opened + "</th><th>" + done + "</th></tr></thead><tbody>";
  for (const auto& s : l.shares) {
    b += "<tr><td data-label=\"" + caller + "\">" + esc(s.caller) + "</td><td data-label=\"" + people + "\">" +
         i18n::number(s.entries) + "</td><td data-label=\"" + opened + "\">" + i18n::number(s.opened) +
         "</td><td data-label=\"" + done + "\">" + i18n::number(s.done) + "</td></tr>";
  }
  b += "</tbody></table><h2>" + std::string(tr("Outcomes")) + "</h2>";
  if (l.outcomes.empty()) b += "<p>" + std::string(tr("No call recorded yet.")) + "</p>";
  else {
    b += "<dl class=\"segment\">";
    for (const auto& [o, n] : l.outcomes) {
      b += "<dt>" + esc(outcome_words(o)) + "</dt><dd>" + i18n::number(n) + "</dd>";
    }
    b += "</dl>";
  }
  if (!l.script.empty()) {
    b += "<h2>" + std::string(tr("What to say")) + "</h2><p class=\"script\">" + esc(l.script) + "</p>";
  }
  if (!l.closed_at) b += button_form(v, "/calls/" + l.name + "/close", tr("Close the list"));
  b += "<p><a href=\"/calls\">" + std::string(tr("Back to the calls")) + "</a></p>";
  return document(&v, trf("Call list {}", l.name), b);
}

std::string call_page(const Viewer& v, const services::CallPerson& p, std::string_view message) {
  std::string b = notice_html(message);
  b += "<p>" +
       trf("{}: {} of {}. This call was opened for you and is recorded.", esc(p.list),
           i18n::number(p.share - p.left + 1), i18n::number(p.share)) +
       "</p>";
  const std::string shown_phone = core::phone_for_display(p.phone);
  b += "<section class=\"callee\" aria-label=\"" + std::string(tr("Person to call")) +
       "\"><p class=\"callee-name\">" + esc(p.name.empty() ? std::string(tr("(no name)")) : p.name) +
       "</p><p><a class=\"callee-phone\" href=\"tel:" + esc(p.phone) + "\">" + esc(shown_phone) + "</a></p>";
  if (!p.tags.empty()) {
    std::string tags;
    for (std::size_t i = 0; i < p.tags.size(); ++i) tags += (i ? ", " : "") + esc(p.tags[i]);
    b += "<p class=\"hint\">" + trf("Tags: {}", tags) + "</p>";
  }
  b += "</section>";
  if (!p.script.empty()) {
    b += "<h2>" + std::string(tr("What to say")) + "</h2><p class=\"script\">" + esc(p.script) + "</p>";
  }
  b += "<form method=\"post\" action=\"/calls/" + esc(p.list) + "/outcome\" class=\"stack\">" + csrf_field(v) +
       "<input type=\"hidden\" name=\"entry\" value=\"" + std::to_string(p.entry) +
       "\"><fieldset class=\"outcomes\"><legend>" + tr("How did the call go?") + "</legend>";
  bool first = true;
  for (const auto& [value, words] : kOutcomeWords) {
    b += "<label><input type=\"radio\" name=\"outcome\" value=\"" + std::string(value) + "\"" +
         (first ? " required" : "") + "> " + tr(words) + "</label>";
    first = false;
  }
  b += "</fieldset><label for=\"text\">" + std::string(tr("A short note for the organisers (optional)")) +
       "</label><input id=\"text\" name=\"text\" maxlength=\"800\" autocomplete=\"off\">"
       "<div class=\"buttons\"><button type=\"submit\" name=\"op\" value=\"next\">" +
       tr("Save and call the next person") + "</button><button type=\"submit\" name=\"op\" value=\"stop\">" +
       tr("Save and stop") + "</button></div></form>";
  return document(&v, tr("Call"), b);
}

std::string share_done_page(const Viewer& v, std::string_view list) {
  return document(&v, tr("Calls done"),
                  "<p role=\"status\" class=\"ok\">" +
                      trf("Every person of your share of {} has been called. Thank you.", esc(list)) +
                      "</p><p><a href=\"/calls\">" + tr("Back to the calls") + "</a></p>");
}

}  // namespace rempart::console
