#pragma once
// TEST-ONLY. A real IMAP server for the tests that read a bounce mailbox:
// Dovecot (tests/support/imap_server.py), where every user name logs in
// with kImapPassword and has a mailbox of its own, so tests keep apart by
// each using a user of its own (unique_imap_user()).
//
// When REMPART_TEST_IMAP_URL is set (imap://127.0.0.1:PORT), the tests use
// that already-running server (scripts/test starts one per stage);
// otherwise the first call to imap_server() spawns one for this test
// binary, which ends with it. deliver() puts a message in a user's INBOX
// with IMAP APPEND, as a mail server delivering it would leave it.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>

#include <curl/curl.h>

#include "mail/test_smtp.hpp"

namespace rempart::mail::testing {

inline constexpr const char* kImapPassword = "test-password";

// url: imap://127.0.0.1:PORT (no mailbox); error: why there is none.
inline const SmtpServer& imap_server() {
  const char* url = std::getenv("REMPART_TEST_IMAP_URL");
  if (url != nullptr && *url != '\0') {
    static const SmtpServer given{url, "", ""};
    return given;
  }
  static const detail::SpawnedServer spawned(REMPART_IMAP_SERVER_SCRIPT, "imap", "dovecot");
  return spawned.server();
}

// A user name no other test (of this or another process) uses.
inline std::string unique_imap_user(std::string_view tag) {
  static std::atomic<unsigned> n{0};
  std::random_device rd;
  return std::string(tag) + "-" + std::to_string(::getpid()) + "-" + std::to_string(++n) + "-" +
         std::to_string(rd() % 1000000);
}

// APPENDs `raw` to the INBOX of `user`; false if the server refused it.
inline bool deliver(const std::string& user, const std::string& raw) {
  struct Src {
    const std::string* data;
    std::size_t off = 0;
  } src{&raw};
  CURL* h = curl_easy_init();
  if (h == nullptr) return false;
  const std::string url = imap_server().url + "/INBOX";
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_USERNAME, user.c_str());
  curl_easy_setopt(h, CURLOPT_PASSWORD, kImapPassword);
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(raw.size()));
  curl_easy_setopt(h, CURLOPT_READDATA, &src);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, +[](char* buf, std::size_t size, std::size_t n, void* data) {
    auto* s = static_cast<Src*>(data);
    const std::size_t len = std::min(size * n, s->data->size() - s->off);
    std::memcpy(buf, s->data->data() + s->off, len);
    s->off += len;
    return len;
  });
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
  const CURLcode rc = curl_easy_perform(h);
  curl_easy_cleanup(h);
  return rc == CURLE_OK;
}

}  // namespace rempart::mail::testing
