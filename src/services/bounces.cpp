#include "services/bounces.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "audit/chain.hpp"
#include "crypto/blind_index.hpp"
#include "mail/report.hpp"
#include "services/supporter_mail.hpp"

namespace rempart::services {
namespace {

constexpr std::size_t kMaxMessage = 1u << 20;  // a report with the original attached whole stays well below
constexpr std::int64_t kDay = 86400;

// The record a report is about: its VERP address where it was delivered,
// else the reported message's Return-Path, else the standing token of the
// reported message's List-Unsubscribe link.
std::optional<store::Bytes> record_of(const crypto::KeeperKeyring& keys, const mail::MailReport& r) {
  for (const auto& a : r.delivered_to) {
    if (auto id = verp_record(keys, a)) return id;
  }
  if (!r.original_return_path.empty()) {
    if (auto id = verp_record(keys, r.original_return_path)) return id;
  }
  const std::string& lu = r.original_list_unsubscribe;
  for (std::size_t at = lu.find("t="); at != std::string::npos; at = lu.find("t=", at + 2)) {
    if (at == 0 || (lu[at - 1] != '?' && lu[at - 1] != '&')) continue;
    const std::size_t start = at + 2;
    std::size_t end = start;
    while (end < lu.size() && (std::isalnum(static_cast<unsigned char>(lu[end])) != 0 || lu[end] == '-' ||
                               lu[end] == '_')) {
      ++end;
    }
    if (auto id = standing_unsubscribe_id(keys, std::string_view(lu).substr(start, end - start))) return id;
  }
  return std::nullopt;
}

// The mailing a reported message belonged to, from its Message-ID
// ("<32 hex>.m<id>@domain", services/mailings.cpp); nullopt for any other.
std::optional<std::int64_t> mailing_of(std::string_view message_id) {
  const auto at = message_id.rfind('@');
  if (at == std::string_view::npos || at < 35 || message_id.substr(32, 2) != ".m") return std::nullopt;
  const std::string_view digits = message_id.substr(34, at - 34);
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  std::int64_t id = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + (c - '0');
  }
  return id;
}

const char* kind_name(mail::ReportKind k) {
  switch (k) {
    case mail::ReportKind::hard_bounce: return "hard_bounce";
    case mail::ReportKind::soft_bounce: return "soft_bounce";
    case mail::ReportKind::complaint: return "complaint";
    case mail::ReportKind::none: break;
  }
  return "none";
}

}  // namespace

Result<void> check(const BounceOptions& o) {
  if (o.poll.count() < 10 || o.poll.count() > 86400) return fail(Errc::config, "[bounces].poll_seconds must be 10..86400");
  if (o.hard < 1 || o.hard > 100) return fail(Errc::config, "[bounces].hard must be 1..100");
  if (o.soft < 1 || o.soft > 100) return fail(Errc::config, "[bounces].soft must be 1..100");
  if (o.soft_days < 1 || o.soft_days > 365) return fail(Errc::config, "[bounces].soft_days must be 1..365");
  if (o.complaints < 1 || o.complaints > 100) return fail(Errc::config, "[bounces].complaints must be 1..100");
  if (o.per_pass < 1 || o.per_pass > 10000) return fail(Errc::config, "[bounces].per_pass must be 1..10000");
  return {};
}

BounceReader::BounceReader(const crypto::KeeperKeyring& keys, store::KeeperStore& store, BounceOptions options)
    : keys_(keys), store_(store), o_(std::move(options)) {}

Result<BounceOutcome> BounceReader::unsubscribe(const store::Bytes& id, std::int64_t now, BounceCounts& counts) {
  bool changed = false;
  auto r = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    changed = false;
    auto s = tx.find_supporter(id);
    if (!s) return std::unexpected(s.error());
    nlohmann::json d = {{"channel", "email"}, {"link", "mailto"}, {"changed", false}};
    if (*s) {
      auto w = withdraw_consent(tx, **s, "email", now, "unsubscribe");
      if (!w) return std::unexpected(w.error());
      if (*w) {
        if (auto u = tx.update_supporter(**s); !u) return std::unexpected(u.error());
        auto m = tx.note_mailing_outcome(id, std::nullopt, "unsubscribed", now);
        if (!m) return std::unexpected(m.error());
        if (*m) d["mailing"] = **m;
      }
      changed = *w;
      d["changed"] = *w;
    }
    auto e = audit::record(tx, keys_,
                           audit::Event{std::string(audit::kKeeperActor),
                                        std::string(audit::action::supporter_unsubscribe), audit::to_hex(id),
                                        std::move(d), ""});
    if (!e) return std::unexpected(e.error());
    return {};
  });
  if (!r) return std::unexpected(r.error());
  if (changed) ++counts.unsubscribed;
  ++counts.deleted;
  return BounceOutcome::counted;
}

Result<BounceOutcome> BounceReader::take(std::string_view raw, std::int64_t now, BounceCounts& counts) {
  auto report = mail::read_report(raw);
  // Mail to a List-Unsubscribe mailto: address, whatever it says.
  if (report) {
    for (const auto& a : report->delivered_to) {
      if (auto id = unsubscribe_address_record(keys_, a)) return unsubscribe(*id, now, counts);
    }
  }
  if (!report || !report->is_report) {
    ++counts.left;
    return BounceOutcome::left;
  }
  if (report->kind == mail::ReportKind::none) {  // delivered, relayed, not-spam: nothing to do
    ++counts.deleted;
    return BounceOutcome::nothing;
  }
  auto id = record_of(keys_, *report);
  if (!id) {  // about mail that was not a record's (an alert, a staff member's): for a person
    ++counts.left;
    return BounceOutcome::left;
  }
  const auto hash = crypto::blind_index(keys_.current(), "mail-report", raw);
  const std::string kind = kind_name(report->kind);
  const std::optional<std::int64_t> named = mailing_of(report->original_message_id);
  BounceOutcome outcome = BounceOutcome::nothing;
  bool bouncing = false, withdrawn = false;
  auto r = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    outcome = BounceOutcome::nothing;
    bouncing = withdrawn = false;
    auto s = tx.find_supporter(*id);
    if (!s) return std::unexpected(s.error());
    if (!*s) return {};  // erased since: nothing left to mark
    auto added = tx.add_mail_event(store::MailEventRow{*id, kind, now, std::nullopt, store::Bytes(hash.begin(), hash.end())});
    if (!added) return std::unexpected(added.error());
    if (!*added) {
      outcome = BounceOutcome::repeated;
      return {};
    }
    outcome = BounceOutcome::counted;
    const bool complaint = report->kind == mail::ReportKind::complaint;
    const std::int64_t since = report->kind == mail::ReportKind::soft_bounce ? now - o_.soft_days * kDay : 0;
    auto n = tx.count_mail_events(*id, kind, since);
    if (!n) return std::unexpected(n.error());
    const int threshold = report->kind == mail::ReportKind::hard_bounce   ? o_.hard
                          : report->kind == mail::ReportKind::soft_bounce ? o_.soft
                                                                          : o_.complaints;
    if (*n >= threshold) {
      if (complaint) {
        auto w = withdraw_consent(tx, **s, "email", now, "complaint");
        if (!w) return std::unexpected(w.error());
        if (*w) {
          if (auto u = tx.update_supporter(**s); !u) return std::unexpected(u.error());
        }
        withdrawn = *w;
      } else {
        auto b = tx.mark_email_bouncing(*id, now);
        if (!b) return std::unexpected(b.error());
        bouncing = *b;
      }
    }
    nlohmann::json d = {{"kind", kind}, {"count", *n}};
    // A mailing's statistics count a complaint, a hard bounce, and a soft
    // one only when it makes the address bouncing (a delayed message may
    // still arrive).
    if (report->kind != mail::ReportKind::soft_bounce || bouncing) {
      auto m = tx.note_mailing_outcome(*id, named, complaint ? "complained" : "bounced", now);
      if (!m) return std::unexpected(m.error());
      if (*m) d["mailing"] = **m;
    }
    if (bouncing) d["bouncing"] = true;
    if (withdrawn) d["consent_withdrawn"] = true;
    auto e = audit::record(tx, keys_,
                           audit::Event{std::string(audit::kKeeperActor), std::string(audit::action::mail_report),
                                        audit::to_hex(*id), std::move(d), ""});
    if (!e) return std::unexpected(e.error());
    return {};
  });
  if (!r) return std::unexpected(r.error());
  if (outcome == BounceOutcome::counted) {
    if (report->kind == mail::ReportKind::hard_bounce) ++counts.hard;
    if (report->kind == mail::ReportKind::soft_bounce) ++counts.soft;
    if (report->kind == mail::ReportKind::complaint) ++counts.complaints;
    if (bouncing) ++counts.bouncing;
    if (withdrawn) ++counts.withdrawn;
  }
  ++counts.deleted;
  return outcome;
}

Result<BounceCounts> BounceReader::read_once(mail::ImapMailbox& box, std::int64_t now, std::stop_token stop) {
  BounceCounts counts;
  auto uids = box.pending(o_.per_pass, stop);
  if (!uids) return std::unexpected(uids.error());
  bool removed = false;
  for (const auto uid : *uids) {
    if (stop.stop_requested()) break;
    auto raw = box.fetch(uid, kMaxMessage, stop);
    if (!raw && raw.error().code != Errc::invalid_input) return std::unexpected(raw.error());
    BounceOutcome outcome = BounceOutcome::left;
    if (!raw) {
      ++counts.left;  // too large to be a report of ours
    } else {
      auto t = take(*raw, now, counts);
      crypto::wipe(*raw);
      if (!t) return std::unexpected(t.error());
      outcome = *t;
    }
    auto done = outcome == BounceOutcome::left ? box.leave(uid, stop) : box.remove(uid, stop);
    if (!done) return std::unexpected(done.error());
    removed = removed || outcome != BounceOutcome::left;
  }
  if (removed) {
    if (auto e = box.expunge(stop); !e) return std::unexpected(e.error());
  }
  return counts;
}

BounceLoop::BounceLoop(BounceReader& reader, std::unique_ptr<mail::ImapMailbox> box, std::chrono::seconds first,
                       std::chrono::seconds poll)
    : reader_(reader),
      box_(std::move(box)),
      first_(first),
      poll_(poll),
      thread_([this](std::stop_token st) { run(st); }) {}

BounceLoop::~BounceLoop() { stop(); }

void BounceLoop::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  cv_.notify_all();
  thread_.join();
}

void BounceLoop::run(std::stop_token stop) {
  auto next = std::chrono::steady_clock::now() + first_;
  while (!stop.stop_requested()) {
    {
      MutexLock lock(mu_);
      lock.sleep_until(cv_, stop, next);
    }
    if (stop.stop_requested()) return;
    auto r = reader_.read_once(*box_, unix_now(), stop);
    if (!r) {
      if (!stop.stop_requested()) {
        spdlog::error("keeper: the bounce mailbox was not read ({}): {}", errc_name(r.error().code),
                      r.error().internal);
      }
    } else if (r->deleted + r->left != 0) {
      spdlog::info("keeper: bounce mailbox: {} hard bounces, {} soft, {} complaints, {} unsubscribes by mail; "
                   "{} addresses now bouncing, {} e-mail consents withdrawn by complaints; {} messages deleted, "
                   "{} left for a person to read",
                   r->hard, r->soft, r->complaints, r->unsubscribed, r->bouncing, r->withdrawn, r->deleted, r->left);
    }
    next = std::chrono::steady_clock::now() + poll_;
  }
}

}  // namespace rempart::services
