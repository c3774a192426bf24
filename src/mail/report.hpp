#pragma once
// Reading what a message in the bounce mailbox reports, with GMime (a real
// MIME parser): a delivery status notification (RFC 3464,
// multipart/report; report-type=delivery-status) or a feedback report, the
// complaint a mailbox provider forwards when a person marks a message as
// spam (RFC 5965, report-type=feedback-report).
//
// What comes out names the message reported, not the person: the addresses
// the report was delivered to (rempart's VERP addresses), and the Return-Path,
// Message-ID and List-Unsubscribe of the reported message when the report
// includes its headers. Never the recipient's address (Final-Recipient,
// Original-Recipient, the reported message's To), nor any text of the body.
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace rempart::mail {

enum class ReportKind {
  none,         // not a report, or a report that tells nothing to act on (delivered, relayed, expanded)
  hard_bounce,  // a recipient failed for good: Action failed with a 5.x.x Status (or no Status)
  soft_bounce,  // a recipient delayed, or failed with a 4.x.x Status
  complaint,    // a feedback report of type abuse, fraud or other (not not-spam, virus or auth-failure)
};

struct MailReport {
  bool is_report = false;  // multipart/report with a delivery-status or feedback-report part
  ReportKind kind = ReportKind::none;
  // Where the report was delivered: the addresses of its Delivered-To,
  // X-Original-To, Envelope-To and To headers, in that order, duplicates dropped.
  std::vector<std::string> delivered_to;
  // Of the reported message, when the report includes its headers
  // (message/rfc822, text/rfc822-headers or message/global-headers); "" if not.
  std::string original_return_path;  // the address alone
  std::string original_message_id;   // without angle brackets
  std::string original_list_unsubscribe;
};

// Errc::invalid_input when `raw` is not a message at all (GMime builds none) or is
// larger than 4 MiB. A message that is no report is no error (is_report false).
Result<MailReport> read_report(std::string_view raw);

}  // namespace rempart::mail
