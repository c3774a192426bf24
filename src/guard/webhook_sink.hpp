#pragma once
// Alerts as signed HTTP POSTs (to a chat bridge, an incident tool, a SIEM).
// Internal to the guard layer; operators configure it via WebhookSinkOptions.
#include <memory>
#include <string>

#include "crypto/secret.hpp"
#include "guard/alert_sink.hpp"
#include "guard/alerts.hpp"

namespace rempart::guard {

class WebhookSink final : public AlertSink {
 public:
  // Checks the options (http/https URL, attempts >= 1, timeout > 0) and reads
  // the secret. Errc::config on any refusal; messages never hold the URL or
  // the secret.
  static Result<std::unique_ptr<WebhookSink>> create(const WebhookSinkOptions& options);

  // POSTs alert.line with Content-Type: application/json,
  // X-Rempart-Signature: sha256=<hex HMAC-SHA256(secret, body)> and
  // X-Rempart-Timestamp: <Unix seconds of this attempt>. Retries, with
  // exponential backoff, after a transport failure, a timeout, a 5xx or a
  // 429; any other non-2xx answer is final. Redirects are not followed.
  Result<void> deliver(const StampedAlert& alert, std::stop_token stop) override;

 private:
  enum class Outcome { delivered, retry, refused, stopped };
  WebhookSink(WebhookSinkOptions options, crypto::SecretBytes secret)
      : options_(std::move(options)), secret_(std::move(secret)) {}
  Outcome attempt(const std::string& body, const std::string& signature, std::stop_token stop,
                  std::string& why);

  WebhookSinkOptions options_;
  crypto::SecretBytes secret_;
};

}  // namespace rempart::guard
