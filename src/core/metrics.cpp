#include "core/metrics.hpp"

#include <chrono>
#include <cstdio>

#ifndef REMPART_VERSION
#error "REMPART_VERSION must be defined by the build (src/core/CMakeLists.txt)"
#endif

namespace rempart::core::metrics {

namespace {

// The label values: fixed names, one per enumeration value.
std::string_view name_of(SignupApi v) noexcept {
  switch (v) {
    case SignupApi::form: return "form";
    case SignupApi::osdi: return "osdi";
    case SignupApi::count_: break;
  }
  return "";
}

std::string_view name_of(LinkKind v) noexcept {
  switch (v) {
    case LinkKind::confirm: return "confirm";
    case LinkKind::unsubscribe: return "unsubscribe";
    case LinkKind::manage_request: return "manage_request";
    case LinkKind::manage_step: return "manage_step";
    case LinkKind::count_: break;
  }
  return "";
}

std::string_view name_of(Reject v) noexcept {
  switch (v) {
    case Reject::validation: return "validation";
    case Reject::malformed: return "malformed";
    case Reject::cross_site: return "cross_site";
    case Reject::origin: return "origin";
    case Reject::not_found: return "not_found";
    case Reject::method: return "method";
    case Reject::too_large: return "too_large";
    case Reject::header_too_large: return "header_too_large";
    case Reject::media_type: return "media_type";
    case Reject::rate_limited: return "rate_limited";
    case Reject::unavailable: return "unavailable";
    case Reject::disk_reserve: return "disk_reserve";
    case Reject::internal: return "internal";
    case Reject::count_: break;
  }
  return "";
}

std::string_view name_of(FoldResult v) noexcept {
  switch (v) {
    case FoldResult::created: return "created";
    case FoldResult::merged: return "merged";
    case FoldResult::unchanged: return "unchanged";
    case FoldResult::rejected: return "rejected";
    case FoldResult::suppressed: return "suppressed";
    case FoldResult::link: return "link";
    case FoldResult::count_: break;
  }
  return "";
}

std::string_view name_of(LockReason v) noexcept {
  switch (v) {
    case LockReason::reveal_budget: return "reveal_budget";
    case LockReason::list_budget: return "list_budget";
    case LockReason::honeytoken: return "honeytoken";
    case LockReason::search_misses: return "search_misses";
    case LockReason::login_failures: return "login_failures";
    case LockReason::other: return "other";
    case LockReason::count_: break;
  }
  return "";
}

std::string_view name_of(AlertSeverity v) noexcept {
  switch (v) {
    case AlertSeverity::info: return "info";
    case AlertSeverity::warning: return "warning";
    case AlertSeverity::critical: return "critical";
    case AlertSeverity::count_: break;
  }
  return "";
}

std::string_view name_of(MailResult v) noexcept {
  switch (v) {
    case MailResult::sent: return "sent";
    case MailResult::retried: return "retried";
    case MailResult::failed: return "failed";
    case MailResult::dropped: return "dropped";
    case MailResult::count_: break;
  }
  return "";
}

std::string_view name_of(MailingResult v) noexcept {
  switch (v) {
    case MailingResult::sent: return "sent";
    case MailingResult::failed: return "failed";
    case MailingResult::skipped: return "skipped";
    case MailingResult::count_: break;
  }
  return "";
}

// A label value as the text format wants it inside quotes. The values are
// fixed names (and the build's version), escaped all the same.
void append_escaped(std::string& out, std::string_view v) {
  for (const char ch : v) {
    if (ch == '\\') {
      out += "\\\\";
    } else if (ch == '"') {
      out += "\\\"";
    } else if (ch == '\n') {
      out += "\\n";
    } else {
      out += ch;
    }
  }
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void counter(std::string& out, std::string_view name, std::string_view help, const Counter& c) {
  header(out, name, "counter", help);
  out.append(name).append(" ").append(std::to_string(c.value())).append("\n");
}

template <typename E>
void family(std::string& out, std::string_view name, std::string_view help, std::string_view label,
            const Family<E>& f) {
  header(out, name, "counter", help);
  for (std::size_t i = 0; i < Family<E>::kSize; ++i) {
    out.append(name).append("{").append(label).append("=\"");
    append_escaped(out, name_of(static_cast<E>(i)));
    out.append("\"} ").append(std::to_string(f.at(i).value())).append("\n");
  }
}

void gauge(std::string& out, std::string_view name, std::string_view help, std::optional<std::int64_t> v) {
  if (!v || *v < 0) return;
  header(out, name, "gauge", help);
  out.append(name).append(" ").append(std::to_string(*v)).append("\n");
}

}  // namespace

LockReason lock_reason_of(std::string_view reason) noexcept {
  for (std::size_t i = 0; i < Family<LockReason>::kSize; ++i) {
    const auto r = static_cast<LockReason>(i);
    if (r != LockReason::other && name_of(r) == reason) return r;
  }
  return LockReason::other;
}

Registry::Registry()
    : start_time_(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count()) {}

std::string Registry::exposition(const Gauges& g) const {
  std::string out;
  out.reserve(6144);
  header(out, "rempart_build_info", "gauge", "The version of this rempart binary; always 1.");
  out.append("rempart_build_info{version=\"");
  append_escaped(out, build_version());
  out.append("\"} 1\n");
  header(out, "rempart_process_start_time_seconds", "gauge", "When this process started, in unix seconds.");
  char start[32];
  std::snprintf(start, sizeof start, "%.3f", start_time_);
  out.append("rempart_process_start_time_seconds ").append(start).append("\n");

  family(out, "rempart_intake_signups_total", "Sign-ups the intake stored in the inbox, by entry point.", "api",
         signups);
  family(out, "rempart_intake_links_total",
         "Posts of mailed links (confirm, unsubscribe) and self-service requests and steps the intake answered.",
         "kind", links);
  family(out, "rempart_intake_rejected_total", "Requests the intake refused, by reason.", "reason", rejected);
  gauge(out, "rempart_inbox_backlog", "Submissions waiting in the inbox, as the fold loop last counted them.",
        g.inbox_backlog);
  gauge(out, "rempart_outbox_pending", "Mails to supporters queued or being sent, counted at this scrape.",
        g.outbox_pending);
  gauge(out, "rempart_disk_free_bytes",
        "Bytes free on the filesystem of the inbox (SQLite) or of the data directory (PostgreSQL), read at this "
        "scrape.",
        g.disk_free_bytes);
  gauge(out, "rempart_disk_reserve_bytes",
        "Free space kept for the keeper: below it the intake refuses sign-ups ([storage].disk_reserve_mib).",
        g.disk_reserve_bytes);
  gauge(out, "rempart_intake_refusing_for_space",
        "1 while free space is below the reserve and the intake refuses sign-ups (until reserve and margin are free).",
        g.intake_refusing_for_space);
  counter(out, "rempart_fold_passes_total", "Passes of the keeper's fold loop.", fold_passes);
  counter(out, "rempart_fold_failures_total", "Passes of the fold loop that failed (retried on the next pass).",
          fold_failures);
  family(out, "rempart_folded_total", "Submissions the keeper folded, by what became of them.", "result", folded);
  counter(out, "rempart_fold_confirmation_mails_total", "Confirmation mails the fold queued.",
          confirmations_queued);
  counter(out, "rempart_reveals_total", "Records opened in full for a person (each one a supporter.reveal entry).",
          reveals);
  counter(out, "rempart_revealed_fields_total", "Fields shown by those reveals.", revealed_fields);
  family(out, "rempart_locks_total", "Accounts locked and tokens revoked by the guard or by failed sign-ins, by reason.",
         "reason", locks);
  family(out, "rempart_alerts_total", "Alerts raised, by severity.", "severity", alerts);
  family(out, "rempart_mail_total", "Supporter mail handed to the relay, by outcome.", "result", mail);
  family(out, "rempart_mailing_messages_total", "Messages of mailings, by outcome.", "result", mailing);
  return out;
}

Registry& process_registry() noexcept {
  static Registry r;
  return r;
}

std::string_view build_version() noexcept { return REMPART_VERSION; }

}  // namespace rempart::core::metrics
