#pragma once
// Alerts as plain-text e-mail, for the people on call. Internal to the guard
// layer; operators configure it via SmtpSinkOptions. The message is a
// mail::Message sent by mail::SmtpTransport (MIME by libcurl); this sink
// only words the alert and retries.
#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "guard/alert_sink.hpp"
#include "guard/alerts.hpp"
#include "mail/message.hpp"
#include "mail/smtp.hpp"

namespace rempart::guard {

// The e-mail for one stamped alert: From options.from, To every recipient
// (one message, all named in To), Message-ID from the alert id, Subject
// "[rempart] <severity>: <kind> (<actor>)", Auto-Submitted, and a body with
// one "field: value" line per alert field. Subject parts are reduced to
// printable ASCII so that no alert field can add a header; body values lose
// their control characters so that one field stays one line.
mail::Message alert_message(const nlohmann::json& alert, const SmtpSinkOptions& options);

// The message as a reader sees it, for review and tests: the top-level
// headers that alert_message() gets (Date `now`) and its text, CRLF line
// ends. On the wire libcurl adds the MIME headers and sends the text
// quoted-printable.
std::string format_alert_email(const nlohmann::json& alert, const SmtpSinkOptions& options,
                               std::chrono::system_clock::time_point now);

class SmtpSink final : public AlertSink {
 public:
  // Checks the options: a sender and at least one recipient (plain
  // addresses) and 1..100 attempts here; the URL, TLS, credentials and
  // timeout as mail::SmtpTransport::create does, so require_tls = false
  // (the default) is only accepted for a relay on the loopback. Reads the
  // password file. Errc::config on any refusal.
  static Result<std::unique_ptr<SmtpSink>> create(const SmtpSinkOptions& options);

  // Sends the message, retrying after transport failures and transient
  // (4xx) SMTP replies; a permanent (5xx) reply, a refused login or a server
  // without TLS when TLS is required are final.
  Result<void> deliver(const StampedAlert& alert, std::stop_token stop) override;

 private:
  SmtpSink(SmtpSinkOptions options, std::unique_ptr<mail::SmtpTransport> transport)
      : options_(std::move(options)), transport_(std::move(transport)) {}

  SmtpSinkOptions options_;
  std::unique_ptr<mail::SmtpTransport> transport_;
};

}  // namespace rempart::guard
