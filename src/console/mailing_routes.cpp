// The console's mailing routes (docs/mailings.md): write, preview, draw the
// recipients, approve (a second person, with a fresh code), start, pause,
// resume, cancel, and follow the progress. The work and its rules are
// services::Mailings'; no answer here holds a supporter's address or name.

#include "console/console_internal.hpp"
#include "console/mailing_pages.hpp"
#include "i18n/i18n.hpp"

namespace rempart::console::detail {

using i18n::tr;
using i18n::trf;

namespace {

services::Mailings& mailings_of(Call& c) {
  // One per worker, made on first use: it holds only the worker's store.
  if (!c.w.mailings) {
    c.w.mailings = std::make_unique<services::Mailings>(*c.w.store, c.impl.keys, c.impl.opt.mail,
                                                        c.impl.opt.mailings);
  }
  return *c.w.mailings;
}

std::vector<std::string> segment_names(Call& c) {
  std::vector<std::string> names;
  auto saved = segments_of(c).list();
  if (saved) {
    for (const auto& s : *saved) names.push_back(s.name);
  }
  return names;
}

services::MailingDraft draft_from_form(const Call& c) {
  return services::MailingDraft{c.form.get("name").value_or(""), c.form.get("subject").value_or(""),
                                c.form.get("body").value_or(""), c.form.get("segment").value_or(""),
                                c.form.get("unconfirmed_too").value_or("") == "on",
                                c.form.get("lang").value_or("en")};
}

nlohmann::json mailing_json(const services::MailingView& v) {
  const auto& m = v.row;
  const auto opt = [](const std::optional<std::int64_t>& t) { return t ? nlohmann::json(*t) : nlohmann::json(nullptr); };
  return {{"id", m.id},
          {"name", m.name},
          {"segment", m.segment},
          {"audience", m.audience},
          {"lang", m.lang},
          {"subject", m.subject},
          {"state", m.state},
          {"recipients", m.recipients},
          {"needs_second_person", v.needs_second_person},
          {"created_at", m.created_at},
          {"drawn_at", opt(m.drawn_at)},
          {"approved_at", opt(m.approved_at)},
          {"started_at", opt(m.started_at)},
          {"finished_at", opt(m.finished_at)},
          {"progress",
           {{"sent", v.counts.sent},
            {"queued", v.counts.queued},
            {"sending", v.counts.sending},
            {"failed", v.counts.failed},
            {"skipped", v.counts.skipped},
            {"bounced", v.counts.bounced},
            {"complained", v.counts.complained},
            {"unsubscribed", v.counts.unsubscribed}}}};
}

// The compose form again with `message` (a refusal to act on).
Response compose_again(Call& c, std::int64_t id, const services::MailingDraft& d, const Error& e) {
  const bool template_fault = e.code == Errc::invalid_input;
  MailingForm f{id, d, segment_names(c),
                // The service's reason names the field and the template word at fault.
                template_fault ? trf("Check the name, subject and text: {}", e.internal.substr(e.internal.find(':') + 2))
                : e.code == Errc::not_found ? std::string(tr("There is no such segment."))
                                            : std::string(tr("This mailing can no longer be changed.")),
                std::nullopt};
  return html(bhttp::status::bad_request, mailing_compose_page(c.viewer(), f));
}

const char* notice_of(std::string_view done) {
  if (done == "saved") return tr("Saved. Draw its recipients to see how many people it reaches.");
  if (done == "drawn") return tr("Recipients drawn.");
  if (done == "approved") return tr("Approved: it may start now.");
  if (done == "started") return tr("Started: the keeper is sending it.");
  if (done == "paused") return tr("Paused.");
  if (done == "resumed") return tr("Resumed.");
  if (done == "cancelled") return tr("Cancelled.");
  if (done == "tested") return tr("A test was sent to your test address. Check that mailbox.");
  return "";
}

Response show_mailing(Call& c, std::int64_t id, std::string_view notice) {
  auto v = mailings_of(c).show(id);
  if (!v) return failure(c, v.error());
  if (!*v) return problem(c, problem_of(Errc::not_found));
  if (c.route.kind == Kind::api) return json_answer(bhttp::status::ok, mailing_json(**v));
  MailingPageView p;
  p.mailing = **v;
  const auto& row = (*v)->row;
  auto preview = mailings_of(c).preview(
      services::MailingDraft{row.name, row.subject, row.body, row.segment, row.audience == "given", row.lang});
  if (preview) p.preview = std::move(*preview);
  p.viewer_actor = c.who->actor;
  p.mail_configured = c.impl.opt.mail_configured;
  if (p.mail_configured && c.impl.opt.transport != nullptr && !c.who->via_token) {
    auto address = mailings_of(c).test_address(c.asker());
    p.test_address = address ? address->value_or("") : "";
    if (address && *address) crypto::wipe(**address);
    p.can_test = true;
  }
  p.approval_above = c.impl.opt.mailings.approval_above;
  // "Started" is stale once it is sent (the page is reloaded to follow it).
  p.notice = (*v)->row.state == "sent" && notice == notice_of("started") ? std::string() : std::string(notice);
  return html(bhttp::status::ok, mailing_page(c.viewer(), p));
}

}  // namespace

Response get_mailings(Call& c) {
  auto all = mailings_of(c).list(200);
  if (!all) return failure(c, all.error());
  if (c.route.kind == Kind::api) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& m : *all) {
      items.push_back({{"id", m.id}, {"name", m.name}, {"segment", m.segment}, {"state", m.state},
                       {"recipients", m.recipients}});
    }
    return json_answer(bhttp::status::ok, {{"items", std::move(items)}});
  }
  const auto done = query_param(c.req.target(), "done").value_or("");
  return html(bhttp::status::ok, mailings_page(c.viewer(), *all, c.impl.opt.mailings.approval_above, notice_of(done)));
}

Response get_mailing_new(Call& c) {
  MailingForm f;
  f.segments = segment_names(c);
  if (!f.segments.empty()) f.draft.segment = f.segments.front();
  return html(bhttp::status::ok, mailing_compose_page(c.viewer(), f));
}

Response get_mailing(Call& c) {
  return show_mailing(c, number_param(c), notice_of(query_param(c.req.target(), "done").value_or("")));
}

Response get_mailing_edit(Call& c) {
  const std::int64_t id = number_param(c);
  auto v = mailings_of(c).show(id);
  if (!v) return failure(c, v.error());
  if (!*v) return problem(c, problem_of(Errc::not_found));
  const auto& m = (*v)->row;
  MailingForm f{id, services::MailingDraft{m.name, m.subject, m.body, m.segment, m.audience == "given", m.lang},
                segment_names(c), "", std::nullopt};
  return html(bhttp::status::ok, mailing_compose_page(c.viewer(), f));
}

// `op` preview: the form again with the message as a made-up person gets
// it; `op` save: a new draft (POST /mailings) or the draft changed (POST
// /mailings/:n).
Response post_mailing_save(Call& c) {
  const std::int64_t id = c.params.empty() ? 0 : number_param(c);
  const auto d = draft_from_form(c);
  if (c.form.get("op").value_or("save") == "preview") {
    auto p = mailings_of(c).preview(d);
    if (!p) return compose_again(c, id, d, p.error());
    MailingForm f{id, d, segment_names(c), "", std::move(*p)};
    return html(bhttp::status::ok, mailing_compose_page(c.viewer(), f));
  }
  if (id == 0) {
    auto made = mailings_of(c).create(c.asker(), d);
    if (!made) return compose_again(c, 0, d, made.error());
    return redirect("/mailings/" + std::to_string(*made) + "?done=saved");
  }
  if (auto r = mailings_of(c).edit(c.asker(), id, d); !r) return compose_again(c, id, d, r.error());
  return redirect("/mailings/" + std::to_string(id) + "?done=saved");
}

Response post_mailing_draw(Call& c) {
  const std::int64_t id = number_param(c);
  if (auto n = mailings_of(c).draw(c.asker(), id); !n) return failure(c, n.error());
  return redirect("/mailings/" + std::to_string(id) + "?done=drawn");
}

Response post_mailing_approve(Call& c) {
  const std::int64_t id = number_param(c);
  if (auto r = c.w.accounts->require_step_up(c.who->session.account_id, code_of(c)); !r) return failure(c, r.error());
  if (auto r = mailings_of(c).approve(c.asker(), id); !r) return failure(c, r.error());
  notify(c, "mailing_approved", "a mailing was approved", {{"mailing", id}});
  return redirect("/mailings/" + std::to_string(id) + "?done=approved");
}

Response post_mailing_state(Call& c) {
  const std::int64_t id = number_param(c);
  const std::string_view path = c.req.target();
  auto& m = mailings_of(c);
  Result<void> r;
  std::string done;
  if (path.ends_with("/start")) {
    r = m.start(c.asker(), id);
    done = "started";
  } else if (path.ends_with("/pause")) {
    r = m.pause(c.asker(), id);
    done = "paused";
  } else if (path.ends_with("/resume")) {
    r = m.resume(c.asker(), id);
    done = "resumed";
  } else {
    r = m.cancel(c.asker(), id);
    done = "cancelled";
  }
  if (!r) return failure(c, r.error());
  return redirect("/mailings/" + std::to_string(id) + "?done=" + done);
}

Response post_mailing_test(Call& c) {
  const std::int64_t id = number_param(c);
  if (c.impl.opt.transport == nullptr) return failure(c, Error(Errc::conflict, "mailing: no mail relay to send a test"));
  if (auto r = mailings_of(c).send_test(c.asker(), id, *c.impl.opt.transport); !r) return failure(c, r.error());
  return redirect("/mailings/" + std::to_string(id) + "?done=tested");
}

Response post_own_test_address(Call& c) {
  if (auto r = mailings_of(c).set_test_address(c.asker(), c.form.get("test_address").value_or("")); !r) {
    return failure(c, r.error());
  }
  return redirect("/account?done=test_address");
}

}  // namespace rempart::console::detail
