#include "services/mailings.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <thread>

#include "audit/chain.hpp"
#include "core/text.hpp"
#include "core/hex.hpp"
#include "core/mutex.hpp"
#include "core/validate.hpp"
#include "crypto/account_keys.hpp"
#include "crypto/secret.hpp"
#include "mail/template.hpp"

namespace rempart::services {

namespace {

constexpr std::size_t kMaxName = 80;
constexpr std::size_t kMaxSubject = 200;
constexpr std::size_t kMaxBody = 20000;
constexpr std::size_t kDrawPage = 1000;

// What every mailing ends with, whatever staff wrote: the phrase that tells
// a real mail from a phishing one, and the person's ways out.
constexpr std::string_view kFooterEn =
    "\n\n-- \n"
    "{{phrase_line_en}}"
    "To receive no more e-mail from {{organisation}}: {{unsubscribe_link}}\n"
    "To see, correct or erase what {{organisation}} holds about you: {{manage_link}}\n";
constexpr std::string_view kFooterFr =
    "\n\n-- \n"
    "{{phrase_line_fr}}"
    "Pour ne plus recevoir de courriel de {{organisation}} : {{unsubscribe_link}}\n"
    "Pour consulter, corriger ou effacer ce que {{organisation}} d\xC3\xA9tient sur vous : {{manage_link}}\n";

// The breach notification (Mailings::notify), {{details}} replaced by the
// organisation's account when the notice is made.
constexpr std::string_view kNoticeSubjectEn = "Important: a security incident and your data at {{organisation}}";
constexpr std::string_view kNoticeBodyEn =
    "Hello {{given_name}},\n\n"
    "We are writing to tell you that data about you held by {{organisation}} was affected by a security "
    "incident.\n\n"
    "{{details}}\n\n"
    "{{phrase_notice_en}}"
    "Be wary of messages about this incident: do not answer one that asks for a password, a payment or your bank "
    "details, and do not open its attachments.";
constexpr std::string_view kNoticeSubjectFr =
    "Important : un incident de s\xC3\xA9" "curit\xC3\xA9 et vos donn\xC3\xA9" "es chez {{organisation}}";
constexpr std::string_view kNoticeBodyFr =
    "Bonjour {{given_name}},\n\n"
    "Nous vous \xC3\xA9" "crivons pour vous informer que des donn\xC3\xA9" "es vous concernant, d\xC3\xA9tenues par "
    "{{organisation}}, ont \xC3\xA9t\xC3\xA9 touch\xC3\xA9" "es par un incident de s\xC3\xA9" "curit\xC3\xA9.\n\n"
    "{{details}}\n\n"
    "{{phrase_notice_fr}}"
    "M\xC3\xA9" "fiez-vous des messages au sujet de cet incident : ne r\xC3\xA9pondez pas \xC3\xA0 un message qui vous "
    "demanderait un mot de passe, un paiement ou vos coordonn\xC3\xA9" "es bancaires, et n'en ouvrez pas les pi\xC3\xA8" "ces "
    "jointes.";

std::vector<std::string_view> body_placeholders() {
  std::vector<std::string_view> all(std::begin(kMailingPlaceholders), std::end(kMailingPlaceholders));
  for (std::string_view internal : {"phrase_line_en", "phrase_line_fr", "phrase_notice_en", "phrase_notice_fr"}) {
    all.push_back(internal);
  }
  return all;
}

Result<void> record(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const Asker& who, std::string_view act,
                    nlohmann::json details) {
  if (!who.session.empty()) details["session"] = who.session;
  auto e = audit::record(tx, keys, audit::Event{who.actor, std::string(act), "", std::move(details), who.client});
  if (!e) return std::unexpected(e.error());
  return {};
}

struct Rendered {
  std::string subject, text, html;
};

// Renders `d` with `vars` (the footer of its language appended to the body).
Result<Rendered> render(const MailingDraft& d, const mail::Vars& vars) {
  const auto names = body_placeholders();
  auto subject_t = mail::Template::parse(d.subject, kMailingPlaceholders);
  if (!subject_t) return std::unexpected(subject_t.error());
  auto body_t = mail::Template::parse(d.body + std::string(d.lang == "fr" ? kFooterFr : kFooterEn), names);
  if (!body_t) return std::unexpected(body_t.error());
  auto subject = mail::render_text(*subject_t, vars);
  if (!subject) return std::unexpected(subject.error());
  // A subject is one line whatever a value held.
  std::replace(subject->begin(), subject->end(), '\n', ' ');
  auto text = mail::render_text(*body_t, vars);
  if (!text) return std::unexpected(text.error());
  auto html = mail::render_html(*body_t, vars, d.lang == "fr" ? "fr" : "en", *subject);
  if (!html) return std::unexpected(html.error());
  return Rendered{std::move(*subject), std::move(*text), std::move(*html)};
}

mail::Vars vars_for(const SupporterMailOptions& mail, const std::string& given, const std::string& family,
                    const std::string& phrase, const std::string& unsubscribe_link) {
  const auto when_phrase = [&](std::string text) { return phrase.empty() ? std::string() : text; };
  return mail::Vars{
      {"given_name", given},
      {"family_name", family},
      {"organisation", mail.organisation},
      {"phrase", phrase},
      {"phrase_line_en", when_phrase("Your anti-phishing phrase: " + phrase + " (a message without it is not from us)\n")},
      {"phrase_line_fr",
       when_phrase("Votre phrase anti-hame\xC3\xA7onnage : " + phrase + " (un message sans elle ne vient pas de nous)\n")},
      {"phrase_notice_en",
       when_phrase("This message quotes your anti-phishing phrase, " + phrase +
                   ", so that you can tell it is from us: a message about this incident that claims to come from us "
                   "and does not quote it is not ours.\n\n")},
      {"phrase_notice_fr",
       when_phrase("Ce message cite votre phrase anti-hame\xC3\xA7onnage, " + phrase +
                   ", pour que vous sachiez qu'il vient de nous : un message au sujet de cet incident qui dit venir de "
                   "nous sans la citer n'est pas de nous.\n\n")},
      {"unsubscribe_link", unsubscribe_link},
      {"manage_link", mail.links_base + "/manage"}};
}

MailingDraft draft_of(const store::MailingRow& m) {
  return MailingDraft{m.name, m.subject, m.body, m.segment, m.audience == "given", m.lang};
}

std::string audience_of(const MailingDraft& d) { return d.unconfirmed_too ? "given" : "confirmed"; }

// What staff wrote, into `row`, as a draft.
void apply_draft(store::MailingRow& row, const MailingDraft& d) {
  row.name = d.name;
  row.subject = d.subject;
  row.body = d.body;
  row.segment = d.segment;
  row.audience = audience_of(d);
  row.lang = d.lang;
  row.state = "draft";
}

}  // namespace

namespace {
Result<void> check_text(const MailingDraft& d);
}  // namespace

Result<void> check_draft(const MailingDraft& d) {
  if (!valid_segment_name(d.segment)) return fail(Errc::invalid_input, "mailing: invalid segment name");
  return check_text(d);
}

namespace {
Result<void> check_text(const MailingDraft& d) {
  if (!core::text::is_plain_line(d.name, kMaxName)) return fail(Errc::invalid_input, "mailing: name must be one line of 1..80 bytes");
  if (!core::text::is_plain_line(d.subject, kMaxSubject)) {
    return fail(Errc::invalid_input, "mailing: subject must be one line of 1..200 bytes");
  }
  if (d.body.empty() || d.body.size() > kMaxBody || !core::text::is_valid_utf8(d.body)) {
    return fail(Errc::invalid_input, "mailing: body must be 1..20000 bytes of UTF-8 text");
  }
  if (d.lang != "en" && d.lang != "fr") return fail(Errc::invalid_input, "mailing: the language is en or fr");
  if (auto t = mail::Template::parse(d.subject, kMailingPlaceholders); !t) {
    return fail(Errc::invalid_input, "mailing: subject: " + t.error().internal);
  }
  if (auto t = mail::Template::parse(d.body, kMailingPlaceholders); !t) {
    return fail(Errc::invalid_input, "mailing: body: " + t.error().internal);
  }
  return {};
}
}  // namespace

// ---- Mailings -------------------------------------------------------------------------

Mailings::Mailings(store::KeeperStore& store, const crypto::KeeperKeyring& keys, const SupporterMailOptions& mail,
                   MailingOptions options)
    : store_(store), keys_(keys), mail_(mail), o_(options) {}

Result<std::int64_t> Mailings::create(const Asker& who, const MailingDraft& d) {
  if (auto c = check_draft(d); !c) return std::unexpected(c.error());
  std::int64_t id = 0;
  auto r = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto seg = tx.find_segment(d.segment);
    if (!seg) return std::unexpected(seg.error());
    if (!*seg) return fail(Errc::not_found, "mailing: no such segment");
    const std::int64_t now = unix_now();
    store::MailingRow row;
    apply_draft(row, d);
    row.created_by = who.actor;
    row.created_at = now;
    row.updated_at = now;
    auto n = tx.insert_mailing(row);
    if (!n) return std::unexpected(n.error());
    id = *n;
    return record(tx, keys_, who, audit::action::mailing_create,
                  {{"mailing", id}, {"name", d.name}, {"segment", d.segment}, {"audience", audience_of(d)}});
  });
  if (!r) return std::unexpected(r.error());
  return id;
}

Result<void> Mailings::edit(const Asker& who, std::int64_t id, const MailingDraft& d) {
  if (auto c = check_draft(d); !c) return std::unexpected(c.error());
  return store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto m = tx.mailing(id);
    if (!m) return std::unexpected(m.error());
    if (!*m) return fail(Errc::not_found, "mailing: no such mailing");
    store::MailingRow row = **m;
    if (row.state != "draft" && row.state != "ready") return fail(Errc::conflict, "mailing: only a draft can change");
    if (row.audience == "notice") return fail(Errc::conflict, "mailing: a notice is made again, not changed");
    auto seg = tx.find_segment(d.segment);
    if (!seg) return std::unexpected(seg.error());
    if (!*seg) return fail(Errc::not_found, "mailing: no such segment");
    if (row.state == "ready") {  // its recipients are drawn again after the change
      if (auto k = tx.delete_mailing_recipients(id); !k) return std::unexpected(k.error());
    }
    apply_draft(row, d);
    row.recipients = 0;
    row.drawn_at.reset();
    row.updated_at = unix_now();
    if (auto u = tx.update_mailing(row); !u) return u;
    return record(tx, keys_, who, audit::action::mailing_edit,
                  {{"mailing", id}, {"segment", d.segment}, {"audience", row.audience}});
  });
}

Result<std::int64_t> Mailings::draw(const Asker& who, std::int64_t id) {
  // The segment as it stands now; its members are walked a page at a time
  // (each page a transaction of its own), then the count is fixed.
  std::optional<store::MailingRow> m;
  auto got = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto row = tx.mailing(id);
    if (!row) return std::unexpected(row.error());
    if (!*row) return fail(Errc::not_found, "mailing: no such mailing");
    if ((*row)->state != "draft") return fail(Errc::conflict, "mailing: its recipients are drawn already");
    if ((*row)->audience == "notice") return fail(Errc::conflict, "mailing: its recipients are drawn already");
    m = **row;
    return {};
  });
  if (!got) return std::unexpected(got.error());
  Segments segments(store_, keys_);
  auto seg = segments.find(m->segment);
  if (!seg) return std::unexpected(seg.error());
  if (!*seg) return fail(Errc::not_found, "mailing: no such segment");
  std::string cursor;
  for (;;) {
    auto page = segments.ids((*seg)->definition, cursor, kDrawPage);
    if (!page) return std::unexpected(page.error());
    auto added = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
      for (const auto& s : page->ids) {
        if (auto a = tx.add_mailing_recipient(id, s, m->audience); !a) return std::unexpected(a.error());
      }
      return {};
    });
    if (!added) return std::unexpected(added.error());
    if (page->next_cursor.empty()) break;
    cursor = page->next_cursor;
  }
  std::int64_t count = 0;
  auto r = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto row = tx.mailing(id);
    if (!row) return std::unexpected(row.error());
    if (!*row || (*row)->state != "draft") return fail(Errc::conflict, "mailing: changed while its recipients were drawn");
    auto c = tx.mailing_counts(id);
    if (!c) return std::unexpected(c.error());
    count = c->queued;
    store::MailingRow next = **row;
    next.state = "ready";
    next.recipients = count;
    next.drawn_at = unix_now();
    next.updated_at = *next.drawn_at;
    if (auto u = tx.update_mailing(next); !u) return u;
    return record(tx, keys_, who, audit::action::mailing_draw, {{"mailing", id}, {"recipients", count}});
  });
  if (!r) return std::unexpected(r.error());
  return count;
}

Result<void> Mailings::approve(const Asker& who, std::int64_t id) {
  return store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto m = tx.mailing(id);
    if (!m) return std::unexpected(m.error());
    if (!*m) return fail(Errc::not_found, "mailing: no such mailing");
    store::MailingRow row = **m;
    if (row.state != "ready") return fail(Errc::conflict, "mailing: only a mailing whose recipients are drawn can be approved");
    if (row.recipients > o_.approval_above && row.created_by == who.actor) {
      return fail(Errc::permission, "mailing: a second person approves a mailing this large");
    }
    row.state = "approved";
    row.approved_by = who.actor;
    row.approved_at = unix_now();
    row.updated_at = *row.approved_at;
    if (auto u = tx.update_mailing(row); !u) return u;
    return record(tx, keys_, who, audit::action::mailing_approve, {{"mailing", id}, {"recipients", row.recipients}});
  });
}

Result<void> Mailings::start(const Asker& who, std::int64_t id) {
  return store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto m = tx.mailing(id);
    if (!m) return std::unexpected(m.error());
    if (!*m) return fail(Errc::not_found, "mailing: no such mailing");
    store::MailingRow row = **m;
    const bool needs_approval = row.recipients > o_.approval_above;
    if (!(row.state == "approved" || (row.state == "ready" && !needs_approval))) {
      return fail(row.state == "ready" ? Errc::permission : Errc::conflict,
                  row.state == "ready" ? "mailing: it needs a second person's approval first"
                                       : "mailing: only an approved mailing can start");
    }
    row.state = "sending";
    row.started_at = unix_now();
    row.updated_at = *row.started_at;
    if (auto u = tx.update_mailing(row); !u) return u;
    return record(tx, keys_, who, audit::action::mailing_start, {{"mailing", id}, {"recipients", row.recipients}});
  });
}

Result<void> Mailings::move(const Asker& who, std::int64_t id, std::initializer_list<std::string_view> from,
                            std::string_view to, std::string_view action) {
  return store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto m = tx.mailing(id);
    if (!m) return std::unexpected(m.error());
    if (!*m) return fail(Errc::not_found, "mailing: no such mailing");
    store::MailingRow row = **m;
    if (std::find(from.begin(), from.end(), row.state) == from.end()) {
      return fail(Errc::conflict, "mailing: not in a state that allows this");
    }
    row.state = std::string(to);
    row.updated_at = unix_now();
    if (to == "cancelled") row.finished_at = row.updated_at;
    if (auto u = tx.update_mailing(row); !u) return u;
    return record(tx, keys_, who, action, {{"mailing", id}});
  });
}

Result<void> Mailings::pause(const Asker& who, std::int64_t id) {
  return move(who, id, {"sending"}, "paused", audit::action::mailing_pause);
}
Result<void> Mailings::resume(const Asker& who, std::int64_t id) {
  return move(who, id, {"paused"}, "sending", audit::action::mailing_resume);
}
Result<void> Mailings::cancel(const Asker& who, std::int64_t id) {
  return move(who, id, {"draft", "ready", "approved", "sending", "paused"}, "cancelled", audit::action::mailing_cancel);
}

Result<Mailings::Notice> Mailings::notify(const Asker& who, std::string_view lang, std::string_view details,
                                          const std::vector<store::Bytes>& ids) {
  if (lang != "en" && lang != "fr") return fail(Errc::invalid_input, "notice: the language is en or fr");
  if (details.empty() || details.size() > 10000 || !core::text::is_valid_utf8(details) ||
      details.find("{{") != std::string_view::npos) {
    return fail(Errc::invalid_input, "notice: the details must be 1..10000 bytes of UTF-8 text without {{");
  }
  const bool fr = lang == "fr";
  std::string body(fr ? kNoticeBodyFr : kNoticeBodyEn);
  body.replace(body.find("{{details}}"), std::string_view("{{details}}").size(), details);
  Notice out;
  out.listed = static_cast<std::int64_t>(ids.size());
  auto r = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    const std::int64_t now = unix_now();
    store::MailingRow row;
    row.name = fr ? "Notification de l'incident" : "Incident notification";
    row.subject = std::string(fr ? kNoticeSubjectFr : kNoticeSubjectEn);
    row.body = body;
    row.segment = "";
    row.audience = "notice";
    row.lang = std::string(lang);
    row.state = "draft";
    row.created_by = who.actor;
    row.created_at = now;
    row.updated_at = now;
    auto n = tx.insert_mailing(row);
    if (!n) return std::unexpected(n.error());
    out.id = *n;
    if (auto e = record(tx, keys_, who, audit::action::mailing_create,
                        {{"mailing", out.id}, {"name", row.name}, {"audience", "notice"}, {"listed", out.listed}});
        !e) {
      return e;
    }
    for (const auto& id : ids) {
      auto a = tx.add_mailing_recipient(out.id, id, "notice");
      if (!a) return std::unexpected(a.error());
      if (*a) ++out.recipients;
    }
    row.id = out.id;
    row.state = "ready";
    row.recipients = out.recipients;
    row.drawn_at = now;
    if (auto u = tx.update_mailing(row); !u) return u;
    return record(tx, keys_, who, audit::action::mailing_draw, {{"mailing", out.id}, {"recipients", out.recipients}});
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<std::optional<MailingView>> Mailings::show(std::int64_t id) {
  std::optional<MailingView> out;
  auto r = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto m = tx.mailing(id);
    if (!m) return std::unexpected(m.error());
    if (!*m) return {};
    auto c = tx.mailing_counts(id);
    if (!c) return std::unexpected(c.error());
    out = MailingView{**m, *c, (*m)->recipients > o_.approval_above};
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<std::vector<store::MailingRow>> Mailings::list(std::size_t limit) {
  std::vector<store::MailingRow> out;
  auto r = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto l = tx.mailings(limit);
    if (!l) return std::unexpected(l.error());
    out = std::move(*l);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<MailingPreview> Mailings::preview(const MailingDraft& d) const {
  if (auto c = check_text(d); !c) return std::unexpected(c.error());
  // A made-up person: no record is opened for a preview.
  auto r = render(d, vars_for(mail_, "Camille", "Exemple", "lune cerise torrent granit",
                              mail_.links_base + "/unsubscribe?t=EXAMPLE"));
  if (!r) return std::unexpected(r.error());
  return MailingPreview{std::move(r->subject), std::move(r->text), std::move(r->html)};
}

// ---- Test sends ------------------------------------------------------------------------

namespace {

constexpr std::string_view kTestAddressAd = "rempart/test-address/v1";
constexpr std::size_t kTestSendsPerHour = 10;

std::optional<store::Bytes> account_of(const Asker& who) {
  constexpr std::string_view prefix = "account:";
  if (!who.actor.starts_with(prefix)) return std::nullopt;
  auto id = core::from_hex(std::string_view(who.actor).substr(prefix.size()));
  if (!id || id->empty()) return std::nullopt;
  return store::Bytes(id->begin(), id->end());
}

store::Bytes test_address_ad(const store::Bytes& account_id) {
  store::Bytes ad(kTestAddressAd.begin(), kTestAddressAd.end());
  ad.insert(ad.end(), account_id.begin(), account_id.end());
  return ad;
}

// Test sends by account within the last hour, in this process (a restart
// forgets them: the bound is against a slip, not an attack).
bool take_test_send(const std::string& actor, std::int64_t now) {
  static Mutex mu;
  static std::map<std::string, std::vector<std::int64_t>> sent;
  MutexLock lock(mu);
  auto& times = sent[actor];
  std::erase_if(times, [&](std::int64_t t) { return t <= now - 3600; });
  if (times.size() >= kTestSendsPerHour) return false;
  times.push_back(now);
  return true;
}

}  // namespace

Result<std::optional<std::string>> Mailings::test_address(const Asker& who) const {
  auto account = account_of(who);
  if (!account) return fail(Errc::permission, "mailing: only an account has a test address");
  std::optional<std::string> out;
  auto r = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto sealed = tx.account_test_address(*account);
    if (!sealed) return std::unexpected(sealed.error());
    if (!*sealed) return {};
    auto sealer = crypto::TotpSealer::of(keys_, crypto::TotpSealer::version_of(**sealed));
    if (!sealer) return std::unexpected(sealer.error());
    auto opened = sealer->open(**sealed, test_address_ad(*account));
    if (!opened) return std::unexpected(opened.error());
    out = std::string(reinterpret_cast<const char*>(opened->data()), opened->size());
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<void> Mailings::set_test_address(const Asker& who, std::string_view address) {
  auto account = account_of(who);
  if (!account) return fail(Errc::permission, "mailing: only an account has a test address");
  std::optional<store::Bytes> sealed;
  if (!core::text::trim_ascii(address).empty()) {
    auto email = core::normalize_email(core::text::trim_ascii(address));
    if (!email) return fail(Errc::invalid_input, "mailing: the test address is not an e-mail address");
    auto sealer = crypto::TotpSealer::current(keys_);
    if (!sealer) return std::unexpected(sealer.error());
    sealed = sealer->seal(std::span(reinterpret_cast<const std::uint8_t*>(email->data()), email->size()),
                          test_address_ad(*account));
    crypto::wipe(*email);
  }
  return store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    if (auto u = tx.set_account_test_address(*account, sealed); !u) return u;
    return record(tx, keys_, who, audit::action::account_test_address, {{"set", sealed.has_value()}});
  });
}

Result<void> Mailings::send_test(const Asker& who, std::int64_t id, const mail::SmtpTransport& transport) {
  auto view = show(id);
  if (!view) return std::unexpected(view.error());
  if (!*view) return fail(Errc::not_found, "mailing: no such mailing");
  auto to = test_address(who);
  if (!to) return std::unexpected(to.error());
  if (!*to) return fail(Errc::conflict, "mailing: no test address on this account");
  const auto& row = (*view)->row;
  auto rendered = preview(draft_of(row));
  if (!rendered) {
    crypto::wipe(**to);
    return std::unexpected(rendered.error());
  }
  if (!take_test_send(who.actor, unix_now())) {
    crypto::wipe(**to);
    return fail(Errc::busy, "mailing: 10 test sends within the hour already");
  }
  const auto at = mail_.from.rfind('@');
  mail::Message m;
  m.return_path = mail_.bounce_address.empty() ? mail_.from : mail_.bounce_address;
  m.from_address = mail_.from;
  m.from_name = mail_.organisation;
  m.to = std::move(**to);
  m.subject = "[Test] " + rendered->subject;
  m.message_id = audit::to_hex(new_link_token().hash).substr(0, 32) + ".t" + std::to_string(id) +
                 (at == std::string::npos ? std::string("@rempart.invalid") : mail_.from.substr(at));
  m.headers = {{"Auto-Submitted", "auto-generated"}};
  m.text = std::move(rendered->text);
  m.html = std::move(rendered->html);
  const auto result = transport.send(m, std::stop_token{});
  crypto::wipe(m.to);
  auto e = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    return record(tx, keys_, who, audit::action::mailing_test,
                  {{"mailing", id}, {"delivered", result.outcome == mail::Delivery::delivered}});
  });
  if (!e) return std::unexpected(e.error());
  if (result.outcome != mail::Delivery::delivered) {
    return fail(Errc::io, "mailing: the relay did not take the test (" + result.why + ")");
  }
  return {};
}

// ---- MailingSender --------------------------------------------------------------------

MailingSender::MailingSender(const Vault& vault, store::KeeperStore& store, const mail::SmtpTransport& transport,
                             const SupporterMailOptions& mail, MailingOptions options)
    : vault_(vault), store_(store), transport_(transport), mail_(mail), o_(options) {}

Result<MailingSendCounts> MailingSender::send_batch(std::stop_token stop) {
  MailingSendCounts counts;
  std::vector<store::Bytes> out;         // the recipients of the batch
  std::vector<mail::Message> messages;   // and their messages, in the same order
  std::int64_t mailing_id = 0;
  std::int64_t batch_no = 0;
  bool finished = false;

  // 1. The batch: its records opened, its messages made, its entry written.
  auto r = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto sending = tx.oldest_sending_mailing();
    if (!sending) return std::unexpected(sending.error());
    if (!*sending) return {};
    const std::optional<store::MailingRow>& m = *sending;
    mailing_id = m->id;
    // A batch left in flight by a crash goes first, again.
    auto ids = tx.mailing_recipients(m->id, "sending", o_.batch);
    if (!ids) return std::unexpected(ids.error());
    if (ids->empty()) {
      ids = tx.mailing_recipients(m->id, "queued", o_.batch);
      if (!ids) return std::unexpected(ids.error());
    }
    if (ids->empty()) {
      auto c = tx.mailing_counts(m->id);
      if (!c) return std::unexpected(c.error());
      store::MailingRow done = *m;
      done.state = "sent";
      done.finished_at = unix_now();
      done.updated_at = *done.finished_at;
      if (auto u = tx.update_mailing(done); !u) return u;
      finished = true;
      auto e = audit::record(tx, vault_.keyring(),
                             audit::Event{std::string(audit::kKeeperActor), std::string(audit::action::mailing_sent),
                                          "",
                                          {{"mailing", m->id},
                                           {"recipients", m->recipients},
                                           {"sent", c->sent},
                                           {"failed", c->failed},
                                           {"skipped", c->skipped}},
                                          ""});
      if (!e) return std::unexpected(e.error());
      return {};
    }
    batch_no = audit::now_us();
    messages.reserve(ids->size());  // never moved once made
    const MailingDraft draft = draft_of(*m);
    nlohmann::json opened_ids = nlohmann::json::array();
    const auto at = mail_.from.rfind('@');
    for (const auto& id : *ids) {
      auto mailable = tx.mailable(id, m->audience);
      if (!mailable) return std::unexpected(mailable.error());
      std::optional<store::SupporterRow> row;
      if (*mailable) {
        auto found = tx.find_supporter(id);
        if (!found) return std::unexpected(found.error());
        row = std::move(*found);
      }
      if (!row) {  // no longer mailable (or gone): skipped, not opened
        if (auto k = tx.mark_mailing_recipient(m->id, id, "skipped", batch_no, unix_now(), 0); !k) {
          return std::unexpected(k.error());
        }
        ++counts.skipped;
        continue;
      }
      auto phrase = tx.phrase_of(id);
      if (!phrase) return std::unexpected(phrase.error());
      auto opened = vault_.open_for_mail(*row, *phrase);
      if (!opened) return std::unexpected(opened.error());
      const std::string unsubscribe_link =
          mail_.links_base + "/unsubscribe?t=" + standing_unsubscribe_token(vault_.keyring().current(), id);
      auto vars = vars_for(mail_, opened->person.given_name, opened->person.family_name, opened->phrase,
                           unsubscribe_link);
      auto rendered = render(draft, vars);
      for (auto& [k, v] : vars) crypto::wipe(v);
      if (!rendered) {
        wipe_person(opened->person);
        crypto::wipe(opened->phrase);
        return fail(Errc::internal, "mailing: a message did not render");
      }
      mail::Message& msg = messages.emplace_back();
      msg.return_path = verp_address(vault_.keyring().current(),
                                     mail_.bounce_address.empty() ? mail_.from : mail_.bounce_address, id);
      msg.from_address = mail_.from;
      msg.from_name = mail_.organisation;
      msg.to = opened->person.email;
      msg.subject = std::move(rendered->subject);
      msg.message_id = audit::to_hex(new_link_token().hash).substr(0, 32) + ".m" + std::to_string(m->id) +
                       mail_.from.substr(at);
      msg.headers = {{"List-Unsubscribe", list_unsubscribe(vault_.keyring().current(), mail_, id, unsubscribe_link)},
                     {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
                     {"Precedence", "bulk"}};
      msg.text = std::move(rendered->text);
      msg.html = std::move(rendered->html);
      wipe_person(opened->person);
      crypto::wipe(opened->phrase);
      if (auto k = tx.mark_mailing_recipient(m->id, id, "sending", batch_no, std::nullopt, 0); !k) {
        return std::unexpected(k.error());
      }
      opened_ids.push_back(audit::to_hex(id));
      out.push_back(id);
    }
    if (opened_ids.empty()) return {};
    auto e = audit::record(tx, vault_.keyring(),
                           audit::Event{std::string(audit::kKeeperActor), std::string(audit::action::mailing_batch), "",
                                        {{"mailing", m->id}, {"records", std::move(opened_ids)}}, ""});
    if (!e) return std::unexpected(e.error());
    return {};
  });
  const auto wipe_all = [&] {
    for (auto& m : messages) {
      crypto::wipe(m.to);
      crypto::wipe(m.text);
      crypto::wipe(m.html);
      crypto::wipe(m.subject);
      for (auto& [name, value] : m.headers) crypto::wipe(value);
    }
  };
  if (!r) {
    wipe_all();
    return std::unexpected(r.error());
  }
  if (finished || out.empty()) return counts;

  // 2. Each message handed to the relay, paced; outside any transaction.
  const auto gap = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(60.0 / mail_.per_minute));
  struct Done {
    std::string state;
    int reply = 0;
  };
  std::vector<std::optional<Done>> done(out.size());
  mail::Pacing pacing;
  pacing.not_before = [&] {
    auto at = last_handed_ + gap;
    if (o_.per_hour > 0) {
      const auto hour_ago = std::chrono::steady_clock::now() - std::chrono::hours(1);
      std::erase_if(last_hour_, [&](auto t) { return t < hour_ago; });
      if (static_cast<std::int64_t>(last_hour_.size()) >= o_.per_hour) {
        at = std::max(at, last_hour_.front() + std::chrono::hours(1));
      }
    }
    return at;
  };
  pacing.started = [&] {
    last_handed_ = std::chrono::steady_clock::now();
    if (o_.per_hour > 0) last_hour_.push_back(last_handed_);
  };
  if (!pool_) pool_ = transport_.pool(o_.connections);
  const auto results = pool_->send_all(messages, pacing, stop);
  bool relay_busy = false;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (!results[i]) continue;  // never started: queued again
    switch (results[i]->outcome) {
      case mail::Delivery::delivered: done[i] = Done{"sent", results[i]->reply}; break;
      case mail::Delivery::refused: done[i] = Done{"failed", results[i]->reply}; break;
      case mail::Delivery::stopped: break;
      default:
        // The relay asks to wait: this and the rest go back in the queue.
        if (!relay_busy) {
          spdlog::warn("mailing {}: the relay answered {} ({}); the batch's rest waits for the next pass",
                       mailing_id, results[i]->reply, results[i]->why);
        }
        relay_busy = true;
        break;
    }
  }
  if (relay_busy) pool_.reset();  // new connections next time
  wipe_all();

  // 3. What became of each.
  auto w = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    const std::int64_t now = unix_now();
    for (std::size_t i = 0; i < out.size(); ++i) {
      const std::string state = done[i] ? done[i]->state : "queued";
      auto k = tx.mark_mailing_recipient(mailing_id, out[i], state, batch_no,
                                         done[i] ? std::optional<std::int64_t>(now) : std::nullopt,
                                         done[i] ? done[i]->reply : 0);
      if (!k) return std::unexpected(k.error());
    }
    return {};
  });
  if (!w) return std::unexpected(w.error());
  for (const auto& d : done) {
    if (!d) continue;
    if (d->state == "sent") ++counts.sent;
    else ++counts.failed;
  }
  return counts;
}

}  // namespace rempart::services
