#pragma once
// Alerts of the exfiltration guard. When a session crosses a reveal budget or
// touches a honeytoken the account is locked first and an Alert is raised
// second; the Alerter hands it to every configured sink (stderr, a JSONL file,
// a signed webhook, an e-mail) without ever making the caller wait for one.
//
// An alert names things by id only (actor, session, client, ids in details)
// and never carries personal data: the receivers are chat rooms and mailboxes
// outside the keeper, so whatever an alert holds must be safe to leak.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/mutex.hpp"

namespace rempart::guard {

enum class Severity { info, warning, critical };

// "info", "warning", "critical".
const char* severity_name(Severity s) noexcept;

struct Alert {
  Severity severity = Severity::warning;
  std::string kind;     // "reveal_budget", "honeytoken", "account_locked", "list_budget", ...
  std::string actor;    // e.g. "account:42"
  std::string session;  // short non-secret session id, or ""
  std::string client;   // e.g. "ip:203.0.113.9" or a client id
  std::string reason;   // fixed wording chosen by the caller, never user input
  nlohmann::json details = nlohmann::json::object();  // ids and counters only
  std::int64_t at_us = 0;  // microseconds since the Unix epoch; 0: now
};

// The wire form shared by every sink: exactly the fields
//   id (fresh random 128-bit value, 32 lowercase hex digits), at (RFC 3339
//   UTC with microseconds, "2026-01-01T00:00:00.123456Z"), severity, kind,
//   actor, session, client, reason, details, source ("rempart").
// Nothing else is added. A details value that is not a JSON object is
// replaced by {} so that receivers can rely on its type. Each call draws a new
// id; the Alerter calls it once per raise() so that all sinks (and all
// retries) carry the same id, which receivers use to drop duplicates.
// Thread-safe. Throws only std::bad_alloc.
nlohmann::json to_json(const Alert& alert);

struct WebhookSinkOptions {
  std::string url;  // http:// or https:// only; redirects are not followed
  std::filesystem::path secret_file;  // HMAC key; mode 0600 or stricter, not empty
  int max_attempts = 5;
  std::chrono::milliseconds first_backoff{200};  // doubles after each failed attempt
  std::chrono::milliseconds timeout{3000};       // per attempt, connection included
};

struct SmtpSinkOptions {
  std::string url;  // smtp://host:port (STARTTLS when require_tls) or smtps://host:port
  std::string from;
  std::vector<std::string> to;  // at least one
  std::filesystem::path password_file;  // optional; used with username
  std::string username;
  bool require_tls = false;  // refuse to send over a connection without TLS
  std::chrono::milliseconds timeout{10000};  // per attempt
  int max_attempts = 3;
};

struct AlertOptions {
  bool stderr_json = true;     // one JSON line per alert on stderr
  std::filesystem::path file;  // append-only JSONL (created 0600); "" for none
  std::optional<WebhookSinkOptions> webhook;
  std::optional<SmtpSinkOptions> smtp;
  // Alerts waiting per sink; past it the oldest waiting one is dropped (and
  // counted) so that a dead sink costs bounded memory.
  std::size_t queue_capacity = 1024;
};

// The X-Rempart-Signature header value for `body`:
// "sha256=" + lowercase hex of HMAC-SHA256(secret, body). Thread-safe.
std::string sign_body(std::span<const std::uint8_t> secret, std::string_view body);

// True when `header` is exactly sign_body(secret, body) (hex in either case).
// The comparison takes the same time wherever the first difference lies.
bool verify_signature(std::span<const std::uint8_t> secret, std::string_view body,
                      std::string_view header);

class Alerter {
 public:
  struct SinkStats {
    std::uint64_t delivered = 0;
    std::uint64_t failed = 0;   // attempts exhausted, permanent refusal, or cut off by stop()
    std::uint64_t dropped = 0;  // never tried: queue overflow, raised after stop(), or left at stop()
  };
  struct Stats {
    SinkStats stderr_json, file, webhook, smtp;  // all zero for a sink not configured
  };

  // Checks every option, reads the webhook secret and SMTP password, opens the
  // file sink and starts one worker thread per configured sink. Fails with
  // Errc::config for refused options (unknown URL scheme, missing, empty or
  // group/other-readable secret file, no recipient, ...), Errc::io when the
  // alert file cannot be opened, Errc::internal when libcurl cannot start.
  // No error message ever contains a secret, a password or a full URL.
  static Result<std::unique_ptr<Alerter>> start(AlertOptions options);

  Alerter(const Alerter&) = delete;
  Alerter& operator=(const Alerter&) = delete;
  ~Alerter();

  // Stamps the alert (to_json) and queues it for every sink. Never waits on a
  // sink: it takes each sink's queue lock only to push. When a queue is full
  // its oldest alert is dropped. After stop() alerts are dropped (counted).
  // Thread-safe; callable from any number of threads.
  void raise(Alert alert) noexcept;

  // Stops accepting alerts, lets workers deliver what is queued for up to
  // `drain`, then cuts off transfers and retries still running and joins the
  // workers. Returns shortly after `drain` at worst. Idempotent and
  // thread-safe: a call made while another runs waits for it, later calls
  // return at once. The destructor calls stop() with the default drain.
  void stop(std::chrono::milliseconds drain = std::chrono::seconds(5));

  // A snapshot of the counters. Thread-safe.
  Stats stats() const;

 private:
  struct Worker;
  Alerter();

  std::vector<std::unique_ptr<Worker>> workers_;  // fixed after start()
  std::size_t capacity_ = 0;
  Mutex stop_mu_;  // serialises stop()
  bool stopped_ REMPART_GUARDED_BY(stop_mu_) = false;
};

}  // namespace rempart::guard
