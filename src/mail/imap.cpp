#include "mail/imap.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "mail/curl_support.hpp"
#include "crypto/secret_file.hpp"

namespace rempart::mail {

namespace {

Result<std::unique_ptr<ImapMailbox>> refuse(const std::string& why) { return fail(Errc::config, "imap: " + why); }

// The mailbox named by the URL's path ("/INBOX" → "INBOX"), "" if none.
std::string mailbox_of(const std::string& url) {
  CURLU* u = curl_url();
  if (u == nullptr) return "";
  std::string out;
  char* path = nullptr;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK && path != nullptr) {
    out = path;
    while (!out.empty() && out.front() == '/') out.erase(0, 1);
  }
  curl_free(path);
  curl_url_cleanup(u);
  return out;
}

struct Sink {
  std::string* out;
  std::size_t max;
  bool over = false;
};

std::size_t write_cb(char* data, std::size_t size, std::size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  const std::size_t len = size * n;
  if (s->out->size() + len > s->max) {
    s->over = true;
    return 0;  // cuts the transfer
  }
  s->out->append(data, len);
  return len;
}

}  // namespace

Result<std::unique_ptr<ImapMailbox>> ImapMailbox::create(const ImapOptions& options) {
  if (auto r = detail::curl_init(); !r) return std::unexpected(r.error());
  if (options.url.empty()) return refuse("url is not set");
  auto url = detail::url_parts(options.url);
  if (!url) return refuse(url.error().internal);
  if (url->scheme != "imap" && url->scheme != "imaps") return refuse("only imap:// and imaps:// URLs are accepted");
  if (mailbox_of(options.url).empty()) return refuse("the URL names no mailbox (imaps://host/INBOX)");
  if (url->scheme == "imap" && !options.require_tls && !detail::is_loopback_host(url->host)) {
    return refuse("require_tls = false is only accepted for a server on the loopback (127.0.0.0/8, ::1, localhost)");
  }
  if (options.timeout.count() <= 0) return refuse("timeout must be positive");
  if (options.username.empty() || options.password_file.empty()) {
    return refuse("username and password_file are required");
  }
  auto p = crypto::read_secret_file(options.password_file, "imap password");
  if (!p) return std::unexpected(p.error());
  auto z = crypto::SecretBytes::allocate(p->size() + 1);  // NUL-terminated for CURLOPT_PASSWORD
  if (!z) return std::unexpected(z.error());
  std::memcpy(z->data(), p->data(), p->size());
  z->data()[p->size()] = 0;
  return std::unique_ptr<ImapMailbox>(new ImapMailbox(options, options.require_tls, std::move(*z)));
}

ImapMailbox::ImapMailbox(ImapOptions options, bool use_ssl, crypto::SecretBytes password)
    : options_(std::move(options)),
      use_ssl_(use_ssl),
      password_(std::move(password)),
      easy_(curl_easy_init()),
      multi_(curl_multi_init()) {}

ImapMailbox::~ImapMailbox() {
  if (multi_ != nullptr) curl_multi_cleanup(static_cast<CURLM*>(multi_));  // logs out and closes
  if (easy_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(easy_));
}

Result<void> ImapMailbox::run(const std::string& command, const std::string& url_suffix, std::string& out,
                              std::size_t max_bytes, std::stop_token stop) {
  if (easy_ == nullptr || multi_ == nullptr) return fail(Errc::io, "imap: no libcurl handle");
  CURL* h = static_cast<CURL*>(easy_);
  curl_easy_reset(h);  // every option set again; the multi handle keeps the open connection
  Sink sink{&out, max_bytes};
  const std::string url = options_.url + url_suffix;
  const long timeout_ms = static_cast<long>(options_.timeout.count());
  bool set = curl_easy_setopt(h, CURLOPT_URL, url.c_str()) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "imap,imaps") == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_PROXY, "") == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &write_cb) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_USERNAME, options_.username.c_str()) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_PASSWORD, reinterpret_cast<const char*>(password_.data())) == CURLE_OK;
  if (set && !command.empty()) set = curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, command.c_str()) == CURLE_OK;
  if (set && use_ssl_) set = curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL)) == CURLE_OK;
  if (!set) return fail(Errc::io, "imap: libcurl refused an option");
  const CURLcode rc = detail::perform_interruptible(h, stop, static_cast<CURLM*>(multi_));
  if (rc == CURLE_OK) return {};
  if (rc == CURLE_ABORTED_BY_CALLBACK) return fail(Errc::busy, "imap: stopped");
  if (sink.over) return fail(Errc::invalid_input, "imap: message larger than the limit");
  return fail(Errc::io, std::string("imap: ") + curl_easy_strerror(rc));
}

Result<std::vector<std::uint64_t>> ImapMailbox::pending(std::size_t limit, std::stop_token stop) {
  // A new connection for each listing: a session kept selected since the
  // last pass may not be told of messages delivered meanwhile (a server
  // announces them when it chooses), and an idle one is logged out anyway.
  if (multi_ != nullptr) curl_multi_cleanup(static_cast<CURLM*>(multi_));
  multi_ = curl_multi_init();
  std::string out;
  if (auto r = run("UID SEARCH UNDELETED UNKEYWORD RempartLeft", "", out, 4u << 20, stop); !r) {
    return std::unexpected(r.error());
  }
  // The untagged answer "* SEARCH 3 7 12" (RFC 9051 section 7.3.5; other
  // untagged lines, such as FLAGS after the SELECT, are skipped).
  std::vector<std::uint64_t> uids;
  std::size_t pos = 0;
  while (pos < out.size()) {
    std::size_t eol = out.find('\n', pos);
    if (eol == std::string::npos) eol = out.size();
    std::string_view line(out.data() + pos, eol - pos);
    pos = eol + 1;
    if (!line.starts_with("* SEARCH")) continue;
    line.remove_prefix(8);
    while (!line.empty()) {
      while (!line.empty() && (line.front() == ' ' || line.front() == '\r')) line.remove_prefix(1);
      std::uint64_t uid = 0;
      const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), uid);
      if (ec != std::errc() || end == line.data()) break;
      uids.push_back(uid);
      line.remove_prefix(static_cast<std::size_t>(end - line.data()));
    }
  }
  std::sort(uids.begin(), uids.end());
  if (uids.size() > limit) uids.resize(limit);
  return uids;
}

Result<std::string> ImapMailbox::fetch(std::uint64_t uid, std::size_t max_bytes, std::stop_token stop) {
  std::string out;
  // ";UID=n" fetches by UID (libcurl 7.62 and later), the whole message (BODY.PEEK[] is not used: the flag
  // \Seen is harmless here).
  if (auto r = run("", ";UID=" + std::to_string(uid), out, max_bytes, stop); !r) return std::unexpected(r.error());
  return out;
}

Result<void> ImapMailbox::remove(std::uint64_t uid, std::stop_token stop) {
  std::string out;
  return run("UID STORE " + std::to_string(uid) + " +FLAGS.SILENT (\\Deleted)", "", out, 1u << 20, stop);
}

Result<void> ImapMailbox::leave(std::uint64_t uid, std::stop_token stop) {
  std::string out;
  return run("UID STORE " + std::to_string(uid) + " +FLAGS.SILENT (RempartLeft)", "", out, 1u << 20, stop);
}

Result<void> ImapMailbox::expunge(std::stop_token stop) {
  std::string out;
  return run("EXPUNGE", "", out, 1u << 20, stop);
}

}  // namespace rempart::mail
