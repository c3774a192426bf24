#pragma once
// The bounce mailbox, read over IMAP with libcurl: the keeper lists the
// messages it has not dealt with, fetches each, then deletes it (a report
// acted on) or marks it with the keyword "RempartLeft" (a message rempart
// does not act on, left for a person to read), and expunges at the end of
// a pass. A pass logs in once: its commands share one connection.
//
// Nothing here logs. Errors carry libcurl's error text only: never the URL
// (it may hold credentials), the password or a message's content.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "crypto/secret.hpp"

namespace rempart::mail {

struct ImapOptions {
  std::string url;                      // imaps://host[:port]/MAILBOX, or imap://host[:port]/MAILBOX (STARTTLS)
  std::string username;                 // required
  std::filesystem::path password_file;  // required; mode 0600 or stricter; read into guarded memory
  bool require_tls = true;              // STARTTLS required (CURLUSESSL_ALL) for imap://
  std::chrono::milliseconds timeout{30000};  // per command, connection included
};

class ImapMailbox {
 public:
  // Checks the options and reads the password file. Errc::config when the
  // URL is not imap:// or imaps:// with a host and a mailbox; when
  // require_tls is false for a host that is not the loopback; when the
  // user name or the password file is missing, or the file is open to
  // group or others, empty or over 64 KiB; when the timeout is not
  // positive. Messages never repeat the URL. Connects to nothing yet.
  static Result<std::unique_ptr<ImapMailbox>> create(const ImapOptions& options);
  ~ImapMailbox();
  ImapMailbox(const ImapMailbox&) = delete;
  ImapMailbox& operator=(const ImapMailbox&) = delete;

  // The UIDs of up to `limit` messages neither deleted nor marked left,
  // lowest first, on a new connection (the commands after it reuse it). Errc::io when the server cannot be reached, the login is
  // refused or a command fails; Errc::busy when `stop` is requested.
  Result<std::vector<std::uint64_t>> pending(std::size_t limit, std::stop_token stop);
  // The message's bytes as stored. Errc::invalid_input when it is larger than
  // `max_bytes` (the transfer is cut there); otherwise as pending().
  Result<std::string> fetch(std::uint64_t uid, std::size_t max_bytes, std::stop_token stop);
  // Flags the message \Deleted (gone at the next expunge).
  Result<void> remove(std::uint64_t uid, std::stop_token stop);
  // Adds the keyword RempartLeft: never listed by pending() again.
  Result<void> leave(std::uint64_t uid, std::stop_token stop);
  // Removes the messages flagged \Deleted.
  Result<void> expunge(std::stop_token stop);

 private:
  ImapMailbox(ImapOptions options, bool use_ssl, crypto::SecretBytes password);
  // One command on the mailbox's URL (suffix appended to it for a fetch),
  // its untagged answers (or the message fetched) in `out`.
  Result<void> run(const std::string& command, const std::string& url_suffix, std::string& out, std::size_t max_bytes,
                   std::stop_token stop);

  ImapOptions options_;
  bool use_ssl_;
  crypto::SecretBytes password_;  // NUL-terminated for CURLOPT_PASSWORD
  void* easy_ = nullptr;          // CURL*
  void* multi_ = nullptr;         // CURLM*
};

}  // namespace rempart::mail
