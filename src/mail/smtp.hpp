#pragma once
// Sending one Message to one SMTP relay: the keeper's mail to supporters and
// the guard's alert e-mail both go through SmtpTransport, a mailing through
// an SmtpPool of it. One call is one attempt; whoever queues the mail (the
// keeper's outbox, a mailing's sender, the guard's sink) owns retries and
// backoff, and reads the outcome to decide.
//
// Nothing here logs. SendResult::why and every error carry libcurl's error
// text and the SMTP reply code only: never an address, a header value, a
// body, the URL (it may hold credentials) or the password.
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "crypto/secret.hpp"
#include "mail/message.hpp"

namespace rempart::mail {

struct SmtpOptions {
  std::string url;                      // smtp://host:port (STARTTLS) or smtps://host:port (TLS from the start)
  std::string username;                 // optional, with password_file
  std::filesystem::path password_file;  // mode 0600 or stricter; read into guarded memory
  bool require_tls = true;              // STARTTLS required (CURLUSESSL_ALL) for smtp://
  std::chrono::milliseconds timeout{10000};  // per attempt, connection included
};

enum class Delivery {
  delivered,  // the relay accepted the message (250 after DATA)
  retry,      // transient: a 4xx reply, a refused or cut connection, a timeout
  refused,    // final: a 5xx reply, login denied, no TLS where it is required, a message check() refuses
  stopped,    // the stop token was requested; the relay may or may not have the message
};

struct SendResult {
  Delivery outcome;
  int reply = 0;    // the relay's last SMTP reply code, 0 if none came
  std::string why;  // libcurl's error text, and the reply code when it is 4xx or 5xx; "" when delivered
};

class SmtpPool;

class SmtpTransport {
 public:
  // Checks the options and reads the password file. Errc::config when the
  // URL is not smtp:// or smtps:// with a host; when require_tls is false
  // for smtp:// to a host that is not the loopback (127.0.0.0/8, ::1,
  // "localhost"): TLS is mandatory unless the relay is on this machine;
  // when only one of username and password_file is set; when a password
  // would go over smtp:// without require_tls (even on the loopback); when
  // the password file is missing, open to group or others, empty or over
  // 64 KiB; when the timeout is not positive. Messages never repeat the URL.
  static Result<std::unique_ptr<SmtpTransport>> create(const SmtpOptions& options);

  // One attempt to hand `m` to the relay: MAIL FROM return_path, RCPT TO
  // `to` and every also_to, then the message built by libcurl's MIME API
  // (mail/mime.hpp) with a Date of now. A message that check() refuses is
  // Delivery::refused without a connection. Blocks the calling thread for
  // at most the timeout; `stop` cuts the transfer at once (Delivery::stopped).
  // Thread-safe: each call has its own libcurl handle, and the transport is
  // not changed by sending.
  SendResult send(const Message& m, std::stop_token stop) const;

  // Up to `connections` (1..64) connections at once, each kept open from
  // one message to the next (for mail sent in numbers: a relay sees a few
  // connections, TLS handshakes and logins, not one per message), so that
  // the relay's answers to one message do not hold up the next. Not thread-safe; one per sending
  // thread. It must not outlive the transport.
  std::unique_ptr<SmtpPool> pool(std::size_t connections) const;

 private:
  friend class SmtpPool;
  // What a transfer holds on to until it ends (smtp.cpp).
  struct Prepared;
  // Sets `easy` up to send `m`, `p` holding what the transfer needs; the
  // outcome when it cannot be sent at all (check() refuses it, libcurl
  // refuses an option).
  std::optional<SendResult> prepare(void* easy, const Message& m, Prepared& p) const;
  // The outcome of a transfer on `easy` that ended with CURLcode `code`.
  SendResult outcome(void* easy, int code) const;
  // One attempt on `easy` within `multi` (whose connections it may reuse).
  SendResult send_on(void* easy, void* multi, const Message& m, std::stop_token stop) const;

  SmtpTransport(SmtpOptions options, bool use_ssl, std::optional<crypto::SecretBytes> password)
      : options_(std::move(options)), use_ssl_(use_ssl), password_(std::move(password)) {}

  SmtpOptions options_;
  bool use_ssl_;  // CURLUSESSL_ALL: STARTTLS or fail
  std::optional<crypto::SecretBytes> password_;  // NUL-terminated for CURLOPT_PASSWORD
};

// When a pool may start the next message: `not_before` gives the earliest
// time (nullptr: at once), `started` is told of each start.
struct Pacing {
  std::function<std::chrono::steady_clock::time_point()> not_before;
  std::function<void()> started;
};

class SmtpPool {
 public:
  ~SmtpPool();
  SmtpPool(const SmtpPool&) = delete;
  SmtpPool& operator=(const SmtpPool&) = delete;

  // Hands each message to the relay, up to the pool's connections at once,
  // in order of start, paced by `pacing`. The outcome of each, or nullopt
  // for a message never started: once the relay answers "try later"
  // (Delivery::retry), nothing more is started and the transfers under way
  // finish; `stop` cuts them (Delivery::stopped) and starts nothing more.
  std::vector<std::optional<SendResult>> send_all(std::span<const Message> messages, const Pacing& pacing,
                                                  std::stop_token stop);

 private:
  friend class SmtpTransport;
  struct Slot;
  SmtpPool(const SmtpTransport& t, std::size_t connections);
  const SmtpTransport& transport_;
  void* multi_;  // CURLM*
  std::vector<std::unique_ptr<Slot>> slots_;
};

}  // namespace rempart::mail
