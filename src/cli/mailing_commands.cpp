#include "cli/mailing_commands.hpp"

#include <fstream>
#include <iostream>
#include <iterator>

#include "cli/commands.hpp"
#include "cli/keeper_access.hpp"
#include "core/csv.hpp"
#include "core/hex.hpp"
#include "core/text.hpp"
#include "services/bounces.hpp"
#include "services/mailings.hpp"

namespace rempart::cli {

namespace {

std::string when(const std::optional<std::int64_t>& t) {
  return t ? core::text::utc_text(*t, "%Y-%m-%d %H:%M UTC") : std::string("-");
}

// The [mail] options mailings are sent with; without [mail] nothing is sent
// and the commands say so.
const services::SupporterMailOptions& mail_of(const Keeper& k) {
  static const services::SupporterMailOptions none;
  return k.config.mail ? k.config.mail->supporter : none;
}

template <typename Fn>
int with_mailings(const MailingArgs& a, Fn&& fn) {
  auto k = open_keeper(a.config);
  if (!k) return report(k.error());
  services::Mailings mailings(*k->store, k->keys, mail_of(*k), k->config.mailings);
  const int rc = fn(*k, mailings);
  k->checkpoint_on_exit();
  return rc;
}

services::Asker asker() { return services::Asker{operator_actor(), ""}; }

int state_change(const MailingArgs& a, Result<void> (services::Mailings::*change)(const services::Asker&, std::int64_t),
                 const char* done) {
  return with_mailings(a, [&](Keeper&, services::Mailings& m) {
    if (auto r = (m.*change)(asker(), a.id); !r) return report(r.error());
    std::cout << "rempart: mailing " << a.id << " " << done << "\n";
    return 0;
  });
}

}  // namespace

int run_mailing_list(const MailingArgs& a) {
  return with_mailings(a, [&](Keeper&, services::Mailings& m) {
    auto list = m.list(100);
    if (!list) return report(list.error());
    if (list->empty()) std::cout << "rempart: no mailing yet\n";
    for (const auto& r : *list) {
      std::cout << r.id << "\t" << r.state << "\t" << r.recipients << " recipients\t" << r.segment << "\t" << r.name
                << "\n";
    }
    return 0;
  });
}

int run_mailing_show(const MailingArgs& a) {
  return with_mailings(a, [&](Keeper& k, services::Mailings& m) {
    auto v = m.show(a.id);
    if (!v) return report(v.error());
    if (!*v) return report(Error(Errc::not_found, "mailing: no such mailing"));
    const auto& r = (*v)->row;
    const auto& c = (*v)->counts;
    std::cout << "mailing " << r.id << ": " << r.name << "\n"
              << "  state:       " << r.state << "\n"
              << "  segment:     " << (r.audience == "notice" ? "(the records a blast radius named)" : r.segment) << "\n"
              << "  consent:     "
              << (r.audience == "given"    ? "given, confirmed or not"
                  : r.audience == "notice" ? "not asked: a notice the organisation owes"
                                           : "confirmed only")
              << "\n"
              << "  subject:     " << r.subject << "\n"
              << "  written by:  " << r.created_by << ", " << when(r.created_at) << "\n"
              << "  recipients:  " << r.recipients << " (drawn " << when(r.drawn_at) << ")"
              << ((*v)->needs_second_person ? ", above [mailings].approval_above: a second person approves" : "")
              << "\n"
              << "  approved by: " << r.approved_by.value_or("-") << ", " << when(r.approved_at) << "\n"
              << "  started:     " << when(r.started_at) << ", finished: " << when(r.finished_at) << "\n"
              << "  progress:    " << c.sent << " sent, " << c.queued << " waiting, " << c.sending << " in flight, "
              << c.failed << " refused by the relay, " << c.skipped << " no longer mailable\n"
              << "  since:       " << c.bounced << " bounced, " << c.complained << " marked as spam, "
              << c.unsubscribed << " unsubscribed\n";
    if (!k.config.mail) std::cout << "  (no [mail] in the configuration: serve sends nothing)\n";
    return 0;
  });
}

int run_mailing_create(const MailingArgs& a) {
  std::ifstream in(a.body_file, std::ios::binary);
  if (!in) return report(Error(Errc::io, "mailing: cannot read the body file"));
  const std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return with_mailings(a, [&](Keeper&, services::Mailings& m) {
    auto id = m.create(asker(), services::MailingDraft{a.name, a.subject, body, a.segment, a.unconfirmed_too});
    if (!id) return report(id.error());
    std::cout << "rempart: mailing " << *id << " written (draft); `rempart mailing send " << *id
              << "` draws its recipients and starts it\n";
    return 0;
  });
}

int run_mailing_send(const MailingArgs& a) {
  return with_mailings(a, [&](Keeper& k, services::Mailings& m) {
    auto v = m.show(a.id);
    if (!v) return report(v.error());
    if (!*v) return report(Error(Errc::not_found, "mailing: no such mailing"));
    if ((*v)->row.state == "draft") {
      auto n = m.draw(asker(), a.id);
      if (!n) return report(n.error());
      std::cout << "rempart: mailing " << a.id << ": " << *n << " recipients drawn\n";
      v = m.show(a.id);
      if (!v) return report(v.error());
    }
    if ((*v)->row.state == "ready" && (*v)->needs_second_person) {
      std::cout << "rempart: mailing " << a.id << " goes to " << (*v)->row.recipients
                << " people, above [mailings].approval_above (" << k.config.mailings.approval_above
                << "): a second person approves it before it starts\n";
      return 3;
    }
    if (auto r = m.start(asker(), a.id); !r) return report(r.error());
    std::cout << "rempart: mailing " << a.id << " started; serve sends it"
              << (k.config.mail ? "" : " once [mail] is configured") << " (`rempart mailing show " << a.id
              << "` follows it)\n";
    return 0;
  });
}

int run_mailing_pause(const MailingArgs& a) { return state_change(a, &services::Mailings::pause, "paused"); }
int run_mailing_resume(const MailingArgs& a) { return state_change(a, &services::Mailings::resume, "resumed"); }
int run_mailing_cancel(const MailingArgs& a) { return state_change(a, &services::Mailings::cancel, "cancelled"); }

int run_notify(const NotifyArgs& a) {
  if (a.template_name != "breach") return report(Error(Errc::invalid_input, "notify: the only template is breach"));
  std::ifstream details_in(a.details_file, std::ios::binary);
  if (!details_in) return report(Error(Errc::io, "notify: cannot read the details file"));
  const std::string details((std::istreambuf_iterator<char>(details_in)), std::istreambuf_iterator<char>());
  std::ifstream in(a.blast_radius, std::ios::binary);
  if (!in) return report(Error(Errc::io, "notify: cannot read the blast radius file"));
  // The record ids of `rempart audit blast-radius --csv` (column record_id).
  core::CsvReader csv(in);
  std::vector<store::Bytes> ids;
  std::optional<std::size_t> column;
  for (;;) {
    auto row = csv.next();
    if (!row) return report(Error(Errc::invalid_input, "notify: the blast radius file is not a CSV file"));
    if (!*row) break;
    if (!column) {
      for (std::size_t i = 0; i < (*row)->fields.size(); ++i) {
        if ((*row)->fields[i] == "record_id") column = i;
      }
      if (!column) return report(Error(Errc::invalid_input, "notify: the file has no record_id column"));
      continue;
    }
    auto id = *column < (*row)->fields.size() ? core::from_hex((*row)->fields[*column], 16) : std::nullopt;
    if (!id) {
      return report(Error(Errc::invalid_input,
                          "notify: line " + std::to_string((*row)->line) + " holds no record id; nothing was sent"));
    }
    ids.emplace_back(id->begin(), id->end());
  }
  MailingArgs m;
  m.config = a.config;
  return with_mailings(m, [&](Keeper& k, services::Mailings& mailings) {
    auto n = mailings.notify(asker(), a.lang, details, ids);
    if (!n) return report(n.error());
    std::cout << "rempart: notice " << n->id << ": " << n->recipients << " of the " << n->listed
              << " records listed have an e-mail address that can be written to\n";
    if (n->recipients == 0) {
      std::cout << "rempart: nobody to write to; notice " << n->id << " is kept, not started\n";
      return 0;
    }
    if (n->recipients > k.config.mailings.approval_above) {
      std::cout << "rempart: above [mailings].approval_above (" << k.config.mailings.approval_above
                << "): a second person approves it in the console (/mailings/" << n->id << ") before it starts\n";
      return 3;
    }
    if (auto r = mailings.start(asker(), n->id); !r) return report(r.error());
    std::cout << "rempart: notice " << n->id << " started; serve sends it (`rempart mailing show " << n->id
              << "` follows it)\n";
    return 0;
  });
}

int run_mailing_bounces(const MailingArgs& a) {
  auto k = open_keeper(a.config);
  if (!k) return report(k.error());
  if (!k->config.bounces) {
    std::cerr << "rempart: no [bounces] in the configuration: there is no bounce mailbox to read\n";
    return 2;
  }
  auto box = mail::ImapMailbox::create(k->config.bounces->imap);
  if (!box) return report(box.error());
  services::BounceReader reader(k->keys, *k->store, *k->config.bounces);
  auto r = reader.read_once(**box, unix_now(), std::stop_token{});
  k->checkpoint_on_exit();
  if (!r) return report(r.error());
  std::cout << "rempart: bounce mailbox read: " << r->hard << " hard bounces, " << r->soft << " soft, "
            << r->complaints << " complaints, " << r->unsubscribed << " unsubscribes by mail; " << r->bouncing
            << " addresses now bouncing, " << r->withdrawn << " e-mail consents withdrawn by complaints; "
            << r->deleted << " messages deleted, " << r->left << " left in the mailbox for a person to read\n";
  return 0;
}

}  // namespace rempart::cli
