#pragma once
// Alerts as plain-text e-mail, for the people on call. Internal to the guard
// layer; operators configure it via SmtpSinkOptions.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "crypto/secret.hpp"
#include "guard/alert_sink.hpp"
#include "guard/alerts.hpp"

namespace rempart::guard {

// The whole message (headers and body, CRLF line ends, no line over 998
// octets) for one stamped alert: Date (`now`), From, To, Message-ID (from the
// alert id), Subject "[rempart] <severity>: <kind> (<actor>)", and a body with
// one "field: value" line per alert field. Header values are reduced to
// printable ASCII so that no alert field can add a header.
std::string format_alert_email(const nlohmann::json& alert, const SmtpSinkOptions& options,
                               std::chrono::system_clock::time_point now);

class SmtpSink final : public AlertSink {
 public:
  // Checks the options: smtp:// or smtps:// URL, a sender and at least one
  // recipient (plain addresses), username and password_file together, and no
  // password over smtp:// without require_tls. Reads the password file.
  // Errc::config on any refusal.
  static Result<std::unique_ptr<SmtpSink>> create(const SmtpSinkOptions& options);

  // Sends the message, retrying after transport failures and transient
  // (4xx) SMTP replies; a permanent (5xx) reply, a refused login or a server
  // without TLS when TLS is required are final.
  Result<void> deliver(const StampedAlert& alert, std::stop_token stop) override;

 private:
  enum class Outcome { delivered, retry, refused, stopped };
  SmtpSink(SmtpSinkOptions options, std::optional<crypto::SecretBytes> password)
      : options_(std::move(options)), password_(std::move(password)) {}
  Outcome attempt(const std::string& message, std::stop_token stop, std::string& why);

  SmtpSinkOptions options_;
  std::optional<crypto::SecretBytes> password_;
};

}  // namespace rempart::guard
