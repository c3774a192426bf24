#include "guard/smtp_sink.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <string_view>

#include "guard/curl_support.hpp"
#include "guard/secret_file.hpp"

namespace rempart::guard {

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{500};
constexpr std::size_t kMaxLine = 900;  // RFC 5322 allows 998; leave room

// Header values: printable ASCII only, so nothing can end the header early.
std::string header_safe(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (unsigned char c : v) out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  if (out.size() > 200) out.resize(200);
  return out;
}

// Body values: no control characters, so one field stays one line.
std::string body_safe(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (unsigned char c : v) out.push_back(c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c));
  return out;
}

std::string field(const nlohmann::json& alert, const char* key) {
  auto it = alert.find(key);
  if (it == alert.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void append_line(std::string& out, std::string_view line) {
  do {
    std::string_view part = line.substr(0, kMaxLine);
    out.append(part);
    out.append("\r\n");
    line.remove_prefix(part.size());
  } while (!line.empty());
}

bool plain_address(std::string_view a) {
  if (a.empty() || a.size() > 254 || a.find('@') == std::string_view::npos) return false;
  return std::ranges::none_of(a, [](unsigned char c) {
    return c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == ',' || c == '"' || c == '(' || c == ')';
  });
}

struct Upload {
  const std::string* data;
  std::size_t pos = 0;
};

std::size_t read_upload(char* buf, std::size_t size, std::size_t n, void* user) {
  auto* up = static_cast<Upload*>(user);
  const std::size_t len = std::min(size * n, up->data->size() - up->pos);
  std::memcpy(buf, up->data->data() + up->pos, len);
  up->pos += len;
  return len;
}

}  // namespace

std::string format_alert_email(const nlohmann::json& alert, const SmtpSinkOptions& options,
                               std::chrono::system_clock::time_point now) {
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);

  std::string domain = "rempart.invalid";
  if (auto at = options.from.rfind('@'); at != std::string::npos && at + 1 < options.from.size()) {
    domain = options.from.substr(at + 1);
  }
  std::string to;
  for (const auto& r : options.to) to += (to.empty() ? "" : ", ") + r;

  std::string m;
  append_line(m, std::string("Date: ") + date);
  append_line(m, "From: " + header_safe(options.from));
  append_line(m, "To: " + header_safe(to));
  append_line(m, "Message-ID: <" + header_safe(field(alert, "id")) + ".alert@" + header_safe(domain) + ">");
  append_line(m, "Subject: [rempart] " + header_safe(field(alert, "severity")) + ": " +
                     header_safe(field(alert, "kind")) + " (" + header_safe(field(alert, "actor")) + ")");
  append_line(m, "MIME-Version: 1.0");
  append_line(m, "Content-Type: text/plain; charset=utf-8");
  append_line(m, "Content-Transfer-Encoding: 8bit");
  append_line(m, "Auto-Submitted: auto-generated");
  append_line(m, "");
  append_line(m, "rempart raised an alert. It names accounts, sessions and records by id only;");
  append_line(m, "look them up in the console or the audit log.");
  append_line(m, "");
  for (const char* key : {"severity", "kind", "actor", "session", "client", "reason", "at", "id", "details", "source"}) {
    append_line(m, std::string(key) + ": " + body_safe(field(alert, key)));
  }
  return m;
}

Result<std::unique_ptr<SmtpSink>> SmtpSink::create(const SmtpSinkOptions& options) {
  if (auto r = detail::curl_init(); !r) return std::unexpected(r.error());
  if (options.url.empty()) return fail(Errc::config, "alert smtp: url is not set");
  auto scheme = detail::url_scheme(options.url);
  if (!scheme) return fail(Errc::config, "alert smtp: " + scheme.error().internal);
  if (*scheme != "smtp" && *scheme != "smtps") {
    return fail(Errc::config, "alert smtp: only smtp:// and smtps:// URLs are accepted");
  }
  if (!plain_address(options.from)) return fail(Errc::config, "alert smtp: from is not a plain address");
  if (options.to.empty()) return fail(Errc::config, "alert smtp: no recipient");
  for (const auto& r : options.to) {
    if (!plain_address(r)) return fail(Errc::config, "alert smtp: a recipient is not a plain address");
  }
  if (options.max_attempts < 1 || options.max_attempts > 100) {
    return fail(Errc::config, "alert smtp: max_attempts must be between 1 and 100");
  }
  if (options.timeout.count() <= 0) return fail(Errc::config, "alert smtp: timeout must be positive");
  if (options.username.empty() != options.password_file.empty()) {
    return fail(Errc::config, "alert smtp: username and password_file go together");
  }
  std::optional<crypto::SecretBytes> password;
  if (!options.username.empty()) {
    if (*scheme == "smtp" && !options.require_tls) {
      return fail(Errc::config, "alert smtp: a password over smtp:// needs require_tls");
    }
    auto p = detail::read_secret_file(options.password_file, "alert smtp password");
    if (!p) return std::unexpected(p.error());
    // NUL-terminated for CURLOPT_PASSWORD, in guarded memory throughout.
    auto z = crypto::SecretBytes::allocate(p->size() + 1);
    if (!z) return std::unexpected(z.error());
    std::memcpy(z->data(), p->data(), p->size());
    z->data()[p->size()] = 0;
    password = std::move(*z);
  }
  return std::unique_ptr<SmtpSink>(new SmtpSink(options, std::move(password)));
}

Result<void> SmtpSink::deliver(const StampedAlert& alert, std::stop_token stop) {
  const std::string message = format_alert_email(alert.json, options_, std::chrono::system_clock::now());
  std::string why;
  for (int n = 1; n <= options_.max_attempts; ++n) {
    if (n > 1 && !detail::sleep_interruptible(stop, detail::backoff_before(kFirstBackoff, n))) {
      return fail(Errc::busy, "alert smtp: stopped before attempt " + std::to_string(n));
    }
    switch (attempt(message, stop, why)) {
      case Outcome::delivered:
        return {};
      case Outcome::refused:
        return fail(Errc::io, "alert smtp: refused: " + why + " (not retried)");
      case Outcome::stopped:
        return fail(Errc::busy, "alert smtp: stopped during attempt " + std::to_string(n));
      case Outcome::retry:
        spdlog::debug("alert smtp: attempt {}/{} failed: {}", n, options_.max_attempts, why);
        break;
    }
  }
  return fail(Errc::io, "alert smtp: gave up after " + std::to_string(options_.max_attempts) +
                            " attempts; last: " + why);
}

SmtpSink::Outcome SmtpSink::attempt(const std::string& message, std::stop_token stop, std::string& why) {
  detail::CurlEasy easy(curl_easy_init());
  if (!easy) {
    why = "no libcurl handle";
    return Outcome::retry;
  }
  detail::CurlSlist rcpt;
  for (const auto& r : options_.to) {
    if (!detail::slist_append(rcpt, "<" + r + ">")) {
      why = "out of memory";
      return Outcome::retry;
    }
  }
  Upload up{&message};
  CURL* h = easy.get();
  const long timeout_ms = static_cast<long>(options_.timeout.count());
  const std::string from = "<" + options_.from + ">";
  bool set = curl_easy_setopt(h, CURLOPT_URL, options_.url.c_str()) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps") == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_PROXY, "") == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str()) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt.get()) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_READFUNCTION, &read_upload) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_READDATA, &up) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_UPLOAD, 1L) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size())) == CURLE_OK;
  if (set && options_.require_tls) set = curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL)) == CURLE_OK;
  if (set && password_) {
    set = curl_easy_setopt(h, CURLOPT_USERNAME, options_.username.c_str()) == CURLE_OK &&
          curl_easy_setopt(h, CURLOPT_PASSWORD, reinterpret_cast<const char*>(password_->data())) == CURLE_OK;
  }
  const CURLcode rc = set ? detail::perform_interruptible(h, stop) : CURLE_FAILED_INIT;
  if (!set) {
    why = "libcurl refused an option";
    return Outcome::refused;
  }
  if (rc == CURLE_OK) return Outcome::delivered;
  if (rc == CURLE_ABORTED_BY_CALLBACK) return Outcome::stopped;
  long reply = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
  why = std::string("transport: ") + curl_easy_strerror(rc) + (reply ? ", SMTP reply " + std::to_string(reply) : "");
  const bool permanent = (reply >= 500 && reply < 600) || rc == CURLE_USE_SSL_FAILED || rc == CURLE_LOGIN_DENIED ||
                         rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT;
  return permanent ? Outcome::refused : Outcome::retry;
}

}  // namespace rempart::guard
