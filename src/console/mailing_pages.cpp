// HTML of the mailing pages (mailing_pages.hpp).
#include "console/mailing_pages.hpp"

#include <string>

#include "console/page_parts.hpp"

namespace rempart::console {

namespace {

std::string state_words(const store::MailingRow& m) {
  if (m.state == "draft") return "draft";
  if (m.state == "ready") return "recipients drawn, not started";
  if (m.state == "approved") return "approved, not started";
  if (m.state == "sending") return "sending";
  if (m.state == "paused") return "paused";
  if (m.state == "sent") return "sent " + when(m.finished_at.value_or(0));
  if (m.state == "cancelled") return "cancelled";
  return m.state;
}

std::string preview_html(const services::MailingPreview& p) {
  return "<section class=\"work\" aria-labelledby=\"preview-h\"><h2 id=\"preview-h\">Preview</h2>"
         "<p class=\"hint\">As a made-up supporter, Camille Exemple, would receive it. The footer is added to "
         "every message.</p><dl class=\"segment\"><dt>Subject</dt><dd>" +
         esc(p.subject) + "</dd></dl><pre class=\"mail\">" + esc(p.text) + "</pre></section>";
}

}  // namespace

std::string mailings_page(const Viewer& v, const std::vector<store::MailingRow>& all, std::int64_t approval_above,
                          std::string_view notice) {
  std::string b = notice_html(notice);
  b += "<p>rempart sends mailings itself: nobody sees the recipients' addresses, and no message carries a "
       "tracking image or a rewritten link.</p>";
  if (auth::permits(v.role, auth::Action::write_mailings)) {
    b += "<p><a class=\"button\" href=\"/mailings/new\">Write a mailing</a></p>";
  }
  if (all.empty()) return document(&v, "Mailings", b + "<p class=\"hint\">No mailing yet.</p>");
  b += "<table class=\"entries\"><caption class=\"visually-hidden\">Mailings</caption><thead><tr>"
       "<th scope=\"col\">Mailing</th><th scope=\"col\">Segment</th><th scope=\"col\">Recipients</th>"
       "<th scope=\"col\">State</th></tr></thead><tbody>";
  for (const auto& m : all) {
    b += "<tr><td data-label=\"Mailing\"><a href=\"/mailings/" + std::to_string(m.id) + "\">" + esc(m.name) +
         "</a></td><td data-label=\"Segment\">" + (m.audience == "notice" ? std::string("(blast radius)") : esc(m.segment)) +
         "</td><td data-label=\"Recipients\">" +
         (m.drawn_at ? std::to_string(m.recipients) : std::string("not drawn yet")) +
         "</td><td data-label=\"State\">" +
         esc(m.state == "ready" && m.recipients > approval_above ? std::string("waiting for a second person's approval")
                                                                 : state_words(m)) +
         "</td></tr>";
  }
  b += "</tbody></table>";
  return document(&v, "Mailings", b);
}

std::string mailing_compose_page(const Viewer& v, const MailingForm& f) {
  const std::string action = f.id == 0 ? "/mailings" : "/mailings/" + std::to_string(f.id);
  std::string b = notice_html(f.message);
  if (f.segments.empty()) {
    return document(&v, "Write a mailing",
                    b + "<p>A mailing goes to a saved segment. <a href=\"/segments/new\">Build a segment</a> "
                        "first.</p>");
  }
  b += "<form method=\"post\" action=\"" + action + "\" class=\"stack\">" + csrf_field(v);
  b += "<label for=\"m-name\">Name</label><input id=\"m-name\" name=\"name\" required maxlength=\"80\" "
       "aria-describedby=\"m-name-hint\" value=\"" +
       esc(f.draft.name) + "\"><span class=\"hint\" id=\"m-name-hint\">For you and your colleagues; supporters do "
                            "not see it.</span>";
  b += "<label for=\"m-segment\">Segment</label><select id=\"m-segment\" name=\"segment\" "
       "aria-describedby=\"m-segment-hint\">";
  for (const auto& s : f.segments) {
    b += "<option" + std::string(s == f.draft.segment ? " selected" : "") + ">" + esc(s) + "</option>";
  }
  b += "</select><span class=\"hint\" id=\"m-segment-hint\">Only its members whose e-mail consent is confirmed and "
       "whose address is not bouncing receive it.</span>";
  b += "<label class=\"check\"><input type=\"checkbox\" name=\"unconfirmed_too\" aria-describedby=\"m-unconfirmed-hint\"" +
       std::string(f.draft.unconfirmed_too ? " checked" : "") +
       "> Also those whose consent was never confirmed</label><span class=\"hint\" id=\"m-unconfirmed-hint\">People "
       "who agreed to our e-mails without confirming it by the link we sent: an imported list, sign-ups from before "
       "mail was set up. Their consent is on record (the consent log says where it came from), but the address was "
       "never proved to be theirs.</span>";
  b += "<label for=\"m-lang\">Language of the footer</label><select id=\"m-lang\" name=\"lang\">"
       "<option value=\"fr\"" + std::string(f.draft.lang == "fr" ? " selected" : "") + ">Fran\xC3\xA7" "ais</option>"
       "<option value=\"en\"" + std::string(f.draft.lang == "fr" ? "" : " selected") + ">English</option></select>";
  b += "<label for=\"m-subject\">Subject</label><input id=\"m-subject\" name=\"subject\" required maxlength=\"200\" "
       "value=\"" +
       esc(f.draft.subject) + "\">";
  b += "<label for=\"m-body\">Text</label><textarea id=\"m-body\" name=\"body\" rows=\"12\" maxlength=\"20000\" "
       "required aria-describedby=\"m-body-hint\">" +
       esc(f.draft.body) +
       "</textarea><span class=\"hint\" id=\"m-body-hint\">Plain text; a blank line starts a paragraph. You may "
       "write {{given_name}}, {{family_name}}, {{organisation}}, {{phrase}} (their anti-phishing phrase), "
       "{{unsubscribe_link}} and {{manage_link}}. Every message ends with their phrase and the links to "
       "unsubscribe and to manage their data.</span>";
  b += "<div class=\"buttons\"><button type=\"submit\" name=\"op\" value=\"preview\">Preview</button>"
       "<button type=\"submit\" name=\"op\" value=\"save\">Save the draft</button></div></form>";
  if (f.preview) b += preview_html(*f.preview);
  return document(&v, f.id == 0 ? "Write a mailing" : "Edit the mailing", b);
}

std::string mailing_page(const Viewer& v, const MailingPageView& p) {
  const auto& m = p.mailing.row;
  const auto& c = p.mailing.counts;
  const std::string base = "/mailings/" + std::to_string(m.id);
  const bool can_write = auth::permits(v.role, auth::Action::write_mailings);
  const bool can_approve = auth::permits(v.role, auth::Action::approve_mailings);
  const bool author = m.created_by == p.viewer_actor;
  std::string b = notice_html(p.notice);
  b += "<dl class=\"segment\"><dt>State</dt><dd>" + esc(state_words(m)) + "</dd><dt>Segment</dt><dd>" +
       (m.audience == "notice" ? std::string("the records a blast radius named (a breach notification)") : esc(m.segment)) +
       "</dd><dt>Consent</dt><dd>" +
       (m.audience == "given"    ? std::string("given, confirmed or not")
        : m.audience == "notice" ? std::string("not asked: the organisation owes this notice")
                                 : std::string("confirmed only")) +
       "</dd><dt>Subject</dt><dd>" + esc(m.subject) + "</dd><dt>Written</dt><dd>" + when(m.created_at) + "</dd>";
  if (m.drawn_at) {
    b += "<dt>Recipients</dt><dd>" + std::to_string(m.recipients) + " (drawn " + when(*m.drawn_at) + ")</dd>";
  }
  if (m.approved_at) b += "<dt>Approved</dt><dd>" + when(*m.approved_at) + "</dd>";
  b += "</dl>";
  if (!p.mail_configured) {
    b += "<p class=\"alert\">This keeper has no mail relay configured ([mail]): nothing is sent until it has "
         "one.</p>";
  }

  std::string next;
  if (m.state == "draft" && can_write && m.audience != "notice") {
    next += "<p>Drawing the recipients fixes who receives it: the segment's members who can be mailed now. You see "
            "their number before anything is sent.</p>" +
            button_form(v, base + "/draw", "Draw the recipients") + " <a href=\"" + base + "/edit\">Edit</a>";
  }
  if (m.state == "ready") {
    if (p.mailing.needs_second_person) {
      next += "<p>" + std::to_string(m.recipients) + " recipients: more than " + std::to_string(p.approval_above) +
              ", so a second person approves it before it can start.</p>";
      if (can_approve && !author) {
        next += button_form(v, base + "/approve", "Approve", code_input("approve"));
      } else {
        next += "<p class=\"hint\">Waiting for someone else's approval.</p>";
      }
    } else if (can_write) {
      next += "<p>" + std::to_string(m.recipients) + " recipients.</p>" +
              button_form(v, base + "/start", "Start sending");
    }
    if (can_write && m.audience != "notice") next += " <a href=\"" + base + "/edit\">Edit (draws them again)</a>";
  }
  if (m.state == "approved" && can_write) next += button_form(v, base + "/start", "Start sending");
  if (m.state == "sending" && can_write) next += button_form(v, base + "/pause", "Pause");
  if (m.state == "paused" && can_write) next += button_form(v, base + "/resume", "Resume");
  if (can_write && m.state != "sent" && m.state != "cancelled") {
    next += button_form(v, base + "/cancel", "Cancel the mailing");
  }
  if (!next.empty()) b += "<section class=\"work\" aria-labelledby=\"next-h\"><h2 id=\"next-h\">Next</h2>" + next + "</section>";
  if (p.can_test && can_write && m.state != "cancelled") {
    b += "<section class=\"work\" aria-labelledby=\"test-h\"><h2 id=\"test-h\">Test</h2>";
    if (p.test_address.empty()) {
      b += "<p>Send yourself a test first: set your test address on <a href=\"/account#test-address\">your "
           "account page</a>.</p>";
    } else {
      b += "<p>The mailing as a made-up person would receive it, to your test address <strong>" +
           esc(p.test_address) + "</strong>, with \"[Test]\" before its subject.</p>" +
           button_form(v, base + "/test", "Send me a test");
    }
    b += "</section>";
  }

  if (m.drawn_at) {
    b += "<section class=\"work\" aria-labelledby=\"progress-h\"><h2 id=\"progress-h\">Progress</h2>"
         "<dl class=\"segment progress\"><dt>Sent</dt><dd>" +
         std::to_string(c.sent) + "</dd><dt>Waiting</dt><dd>" + std::to_string(c.queued) + "</dd><dt>Being sent</dt><dd>" +
         std::to_string(c.sending) + "</dd><dt>Refused by the relay</dt><dd>" + std::to_string(c.failed) +
         "</dd><dt>No longer reachable</dt><dd>" + std::to_string(c.skipped) +
         "</dd></dl><p class=\"hint\">No longer reachable: withdrew their consent or started bouncing before "
         "their turn. Reload the page to follow it.</p>";
    if (m.started_at) {
      b += "<h3>After sending</h3><dl class=\"segment progress\"><dt>Bounced</dt><dd>" + std::to_string(c.bounced) +
           "</dd><dt>Marked as spam</dt><dd>" + std::to_string(c.complained) + "</dd><dt>Unsubscribed</dt><dd>" +
           std::to_string(c.unsubscribed) +
           "</dd></dl><p class=\"hint\">Bounces and spam complaints are read from the bounce mailbox "
           "([bounces]); an unsubscribe counts against the last mailing the person received. Nobody counts "
           "opens or clicks: rempart does not track them.</p>";
    }
    b += "</section>";
  }
  if (p.preview) b += preview_html(*p.preview);
  return document(&v, "Mailing: " + m.name, b);
}

}  // namespace rempart::console
