// HTML of the mailing pages (mailing_pages.hpp).
#include "console/mailing_pages.hpp"

#include <string>

#include "console/page_parts.hpp"
#include "i18n/i18n.hpp"

namespace rempart::console {

using i18n::tr;
using i18n::trf;
using i18n::trnf;

namespace {

std::string state_words(const store::MailingRow& m) {
  if (m.state == "draft") return tr("draft");
  if (m.state == "ready") return tr("recipients drawn, not started");
  if (m.state == "approved") return tr("approved, not started");
  if (m.state == "sending") return tr("sending");
  if (m.state == "paused") return tr("paused");
  if (m.state == "sent") return trf("sent {}", when(m.finished_at.value_or(0)));
  if (m.state == "cancelled") return tr("cancelled");
  return m.state;
}

std::string preview_html(const services::MailingPreview& p) {
  return "<section class=\"work\" aria-labelledby=\"preview-h\"><h2 id=\"preview-h\">" + std::string(tr("Preview")) +
         "</h2><p class=\"hint\">" +
         tr("As a made-up supporter, Camille Exemple, would receive it. The footer is added to every message.") +
         "</p><dl class=\"segment\"><dt>" + tr("Subject") + "</dt><dd>" + esc(p.subject) +
         "</dd></dl><pre class=\"mail\">" + esc(p.text) + "</pre></section>";
}

}  // namespace

std::string mailings_page(const Viewer& v, const std::vector<store::MailingRow>& all, std::int64_t approval_above,
                          std::string_view notice) {
  std::string b = notice_html(notice);
  b += "<p>" +
       std::string(tr("rempart sends mailings itself: nobody sees the recipients' addresses, and no message carries "
                      "a tracking image or a rewritten link.")) +
       "</p>";
  if (auth::permits(v.role, auth::Action::write_mailings)) {
    b += "<p><a class=\"button\" href=\"/mailings/new\">" + std::string(tr("Write a mailing")) + "</a></p>";
  }
  if (all.empty()) {
    return document(&v, tr("Mailings"), b + "<p class=\"hint\">" + tr("No mailing yet.") + "</p>");
  }
  const std::string mailing = tr("Mailing"), segment = tr("Segment"), recipients = tr("Recipients"),
                    state = tr("State");
  b += "<table class=\"entries\"><caption class=\"visually-hidden\">" + std::string(tr("Mailings")) +
       "</caption><thead><tr><th scope=\"col\">" + mailing + "</th><th scope=\"col\">" + segment +
       "</th><th scope=\"col\">" + recipients + "</th><th scope=\"col\">" + state + "</th></tr></thead><tbody>";
  for (const auto& m : all) {
    b += "<tr><td data-label=\"" + mailing + "\"><a href=\"/mailings/" + std::to_string(m.id) + "\">" +
         esc(m.name) + "</a></td><td data-label=\"" + segment + "\">" +
         (m.audience == "notice" ? std::string(tr("(blast radius)")) : esc(m.segment)) + "</td><td data-label=\"" +
         recipients + "\">" + (m.drawn_at ? i18n::number(m.recipients) : std::string(tr("not drawn yet"))) +
         "</td><td data-label=\"" + state + "\">" +
         esc(m.state == "ready" && m.recipients > approval_above
                 ? std::string(tr("waiting for a second person's approval"))
                 : state_words(m)) +
         "</td></tr>";
  }
  b += "</tbody></table>";
  return document(&v, tr("Mailings"), b);
}

std::string mailing_compose_page(const Viewer& v, const MailingForm& f) {
  const std::string action = f.id == 0 ? "/mailings" : "/mailings/" + std::to_string(f.id);
  std::string b = notice_html(f.message);
  if (f.segments.empty()) {
    return document(&v, tr("Write a mailing"),
                    b + "<p>" +
                        trf("A mailing goes to a saved segment. {} first.",
                            "<a href=\"/segments/new\">" + std::string(tr("Build a segment")) + "</a>") +
                        "</p>");
  }
  b += "<form method=\"post\" action=\"" + action + "\" class=\"stack\">" + csrf_field(v);
  b += "<label for=\"m-name\">" + std::string(tr("Name")) +
       "</label><input id=\"m-name\" name=\"name\" required maxlength=\"80\" "
       "aria-describedby=\"m-name-hint\" value=\"" +
       esc(f.draft.name) + "\"><span class=\"hint\" id=\"m-name-hint\">" +
       tr("For you and your colleagues; supporters do not see it.") + "</span>";
  b += "<label for=\"m-segment\">" + std::string(tr("Segment")) + "</label><select id=\"m-segment\" name=\"segment\" "
       "aria-describedby=\"m-segment-hint\">";
  for (const auto& s : f.segments) {
    b += "<option" + std::string(s == f.draft.segment ? " selected" : "") + ">" + esc(s) + "</option>";
  }
  b += "</select><span class=\"hint\" id=\"m-segment-hint\">" +
       std::string(tr("Only its members whose e-mail consent is confirmed and whose address is not bouncing receive "
                      "it.")) +
       "</span>";
  b += "<label class=\"check\"><input type=\"checkbox\" name=\"unconfirmed_too\" aria-describedby=\"m-unconfirmed-hint\"" +
       std::string(f.draft.unconfirmed_too ? " checked" : "") + "> " + tr("Also those whose consent was never confirmed") +
       "</label><span class=\"hint\" id=\"m-unconfirmed-hint\">" +
       tr("People who agreed to our e-mails without confirming it by the link we sent: an imported list, sign-ups "
          "from before mail was set up. Their consent is on record (the consent log says where it came from), but "
          "the address was never proved to be theirs.") +
       "</span>";
  b += "<label for=\"m-lang\">" + std::string(tr("Language of the footer")) + "</label><select id=\"m-lang\" name=\"lang\">"
       "<option value=\"fr\"" + std::string(f.draft.lang == "fr" ? " selected" : "") + ">Fran\xC3\xA7" "ais</option>"
       "<option value=\"en\"" + std::string(f.draft.lang == "fr" ? "" : " selected") + ">English</option></select>";
  b += "<label for=\"m-subject\">" + std::string(tr("Subject")) + "</label><input id=\"m-subject\" name=\"subject\" required maxlength=\"200\" "
       "value=\"" +
       esc(f.draft.subject) + "\">";
  b += "<label for=\"m-body\">" + std::string(tr("Text")) + "</label><textarea id=\"m-body\" name=\"body\" rows=\"12\" maxlength=\"20000\" "
       "required aria-describedby=\"m-body-hint\">" +
       esc(f.draft.body) +
       "</textarea><span class=\"hint\" id=\"m-body-hint\">" +
       // Not a format string: the {{…}} are the mailing's own fields, shown as they are typed.
       tr("Plain text; a blank line starts a paragraph. You may write {{given_name}}, {{family_name}}, "
          "{{organisation}}, {{phrase}} (their anti-phishing phrase), {{unsubscribe_link}} and {{manage_link}}. "
          "Every message ends with their phrase and the links to unsubscribe and to manage their data.") +
       "</span>";
  b += "<div class=\"buttons\"><button type=\"submit\" name=\"op\" value=\"preview\">" + std::string(tr("Preview")) +
       "</button><button type=\"submit\" name=\"op\" value=\"save\">" + tr("Save the draft") +
       "</button></div></form>";
  if (f.preview) b += preview_html(*f.preview);
  return document(&v, f.id == 0 ? tr("Write a mailing") : tr("Edit the mailing"), b);
}

std::string mailing_page(const Viewer& v, const MailingPageView& p) {
  const auto& m = p.mailing.row;
  const auto& c = p.mailing.counts;
  const std::string base = "/mailings/" + std::to_string(m.id);
  const bool can_write = auth::permits(v.role, auth::Action::write_mailings);
  const bool can_approve = auth::permits(v.role, auth::Action::approve_mailings);
  const bool author = m.created_by == p.viewer_actor;
  std::string b = notice_html(p.notice);
  b += "<dl class=\"segment\"><dt>" + std::string(tr("State")) + "</dt><dd>" + esc(state_words(m)) + "</dd><dt>" +
       tr("Segment") + "</dt><dd>" +
       (m.audience == "notice" ? std::string(tr("the records a blast radius named (a breach notification)"))
                               : esc(m.segment)) +
       "</dd><dt>" + tr("Consent") + "</dt><dd>" +
       (m.audience == "given"    ? tr("given, confirmed or not")
        : m.audience == "notice" ? tr("not asked: the organisation owes this notice")
                                 : tr("confirmed only")) +
       "</dd><dt>" + tr("Subject") + "</dt><dd>" + esc(m.subject) + "</dd><dt>" + tr("Written") + "</dt><dd>" +
       when(m.created_at) + "</dd>";
  if (m.drawn_at) {
    b += "<dt>" + std::string(tr("Recipients")) + "</dt><dd>" +
         trf("{} (drawn {})", i18n::number(m.recipients), when(*m.drawn_at)) + "</dd>";
  }
  if (m.approved_at) b += "<dt>" + std::string(tr("Approved")) + "</dt><dd>" + when(*m.approved_at) + "</dd>";
  b += "</dl>";
  if (!p.mail_configured) {
    b += "<p class=\"alert\">" +
         std::string(tr("This keeper has no mail relay configured ([mail]): nothing is sent until it has one.")) +
         "</p>";
  }

  std::string next;
  if (m.state == "draft" && can_write && m.audience != "notice") {
    next += "<p>" +
            std::string(tr("Drawing the recipients fixes who receives it: the segment's members who can be mailed "
                           "now. You see their number before anything is sent.")) +
            "</p>" + button_form(v, base + "/draw", tr("Draw the recipients")) + " <a href=\"" + base + "/edit\">" +
            tr("Edit") + "</a>";
  }
  if (m.state == "ready") {
    if (p.mailing.needs_second_person) {
      next += "<p>" +
              trnf("{} recipient: more than {}, so a second person approves it before it can start.",
                   "{} recipients: more than {}, so a second person approves it before it can start.", m.recipients,
                   i18n::number(m.recipients), i18n::number(p.approval_above)) +
              "</p>";
      if (can_approve && !author) {
        next += button_form(v, base + "/approve", tr("Approve"), code_input("approve"));
      } else {
        next += "<p class=\"hint\">" + std::string(tr("Waiting for someone else's approval.")) + "</p>";
      }
    } else if (can_write) {
      next += "<p>" + trnf("{} recipient.", "{} recipients.", m.recipients, i18n::number(m.recipients)) + "</p>" +
              button_form(v, base + "/start", tr("Start sending"));
    }
    if (can_write && m.audience != "notice") {
      next += " <a href=\"" + base + "/edit\">" + tr("Edit (draws them again)") + "</a>";
    }
  }
  if (m.state == "approved" && can_write) next += button_form(v, base + "/start", tr("Start sending"));
  if (m.state == "sending" && can_write) next += button_form(v, base + "/pause", tr("Pause"));
  if (m.state == "paused" && can_write) next += button_form(v, base + "/resume", tr("Resume"));
  if (can_write && m.state != "sent" && m.state != "cancelled") {
    next += button_form(v, base + "/cancel", tr("Cancel the mailing"));
  }
  if (!next.empty()) {
    b += "<section class=\"work\" aria-labelledby=\"next-h\"><h2 id=\"next-h\">" + std::string(tr("Next")) +
         "</h2>" + next + "</section>";
  }
  if (p.can_test && can_write && m.state != "cancelled") {
    b += "<section class=\"work\" aria-labelledby=\"test-h\"><h2 id=\"test-h\">" + std::string(tr("Test")) +
         "</h2>";
    if (p.test_address.empty()) {
      b += "<p>" +
           trf("Send yourself a test first: set your test address on {}.",
               "<a href=\"/account#test-address\">" + std::string(tr("your account page")) + "</a>") +
           "</p>";
    } else {
      b += "<p>" +
           trf("The mailing as a made-up person would receive it, to your test address {}, with \"[Test]\" before "
               "its subject.",
               "<strong>" + esc(p.test_address) + "</strong>") +
           "</p>" + button_form(v, base + "/test", tr("Send me a test"));
    }
    b += "</section>";
  }

  if (m.drawn_at) {
    const auto row = [](const char* label, std::int64_t n) {
      return "<dt>" + std::string(label) + "</dt><dd>" + i18n::number(n) + "</dd>";
    };
    b += "<section class=\"work\" aria-labelledby=\"progress-h\"><h2 id=\"progress-h\">" +
         std::string(tr("Progress")) + "</h2><dl class=\"segment progress\">" + row(tr("Sent"), c.sent) +
         row(tr("Waiting"), c.queued) + row(tr("Being sent"), c.sending) + row(tr("Refused by the relay"), c.failed) +
         row(tr("No longer reachable"), c.skipped) + "</dl><p class=\"hint\">" +
         tr("No longer reachable: withdrew their consent or started bouncing before their turn. Reload the page to "
            "follow it.") +
         "</p>";
    if (m.started_at) {
      b += "<h3>" + std::string(tr("After sending")) + "</h3><dl class=\"segment progress\">" +
           row(tr("Bounced"), c.bounced) + row(tr("Marked as spam"), c.complained) +
           row(tr("Unsubscribed"), c.unsubscribed) + "</dl><p class=\"hint\">" +
           tr("Bounces and spam complaints are read from the bounce mailbox ([bounces]); an unsubscribe counts "
              "against the last mailing the person received. Nobody counts opens or clicks: rempart does not track "
              "them.") +
           "</p>";
    }
    b += "</section>";
  }
  if (p.preview) b += preview_html(*p.preview);
  return document(&v, trf("Mailing: {}", m.name), b);
}

}  // namespace rempart::console
