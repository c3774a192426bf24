#include "guard/webhook_sink.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <string>

#include "mail/curl_support.hpp"
#include "crypto/secret_file.hpp"

namespace rempart::guard {

namespace {

// The receiver's answer is not used; reading it keeps the connection sane.
std::size_t discard(char*, std::size_t size, std::size_t n, void*) { return size * n; }

}  // namespace

Result<std::unique_ptr<WebhookSink>> WebhookSink::create(const WebhookSinkOptions& options) {
  if (auto r = mail::detail::curl_init(); !r) return std::unexpected(r.error());
  if (options.url.empty()) return fail(Errc::config, "alert webhook: url is not set");
  auto scheme = mail::detail::url_scheme(options.url);
  if (!scheme) return fail(Errc::config, "alert webhook: " + scheme.error().internal);
  if (*scheme != "http" && *scheme != "https") {
    return fail(Errc::config, "alert webhook: only http:// and https:// URLs are accepted");
  }
  if (options.max_attempts < 1 || options.max_attempts > 100) {
    return fail(Errc::config, "alert webhook: max_attempts must be between 1 and 100");
  }
  if (options.timeout.count() <= 0) return fail(Errc::config, "alert webhook: timeout must be positive");
  if (options.first_backoff.count() < 0) return fail(Errc::config, "alert webhook: first_backoff must not be negative");
  auto secret = crypto::read_secret_file(options.secret_file, "alert webhook secret");
  if (!secret) return std::unexpected(secret.error());
  return std::unique_ptr<WebhookSink>(new WebhookSink(options, std::move(*secret)));
}

Result<void> WebhookSink::deliver(const StampedAlert& alert, std::stop_token stop) {
  const std::string signature = sign_body(secret_.span(), alert.line);
  std::string why;
  for (int n = 1; n <= options_.max_attempts; ++n) {
    if (n > 1 && !mail::detail::sleep_interruptible(stop, mail::detail::backoff_before(options_.first_backoff, n))) {
      return fail(Errc::busy, "alert webhook: stopped before attempt " + std::to_string(n));
    }
    switch (attempt(alert.line, signature, stop, why)) {
      case Outcome::delivered:
        return {};
      case Outcome::refused:
        return fail(Errc::io, "alert webhook: refused with " + why + " (not retried)");
      case Outcome::stopped:
        return fail(Errc::busy, "alert webhook: stopped during attempt " + std::to_string(n));
      case Outcome::retry:
        spdlog::debug("alert webhook: attempt {}/{} failed: {}", n, options_.max_attempts, why);
        break;
    }
  }
  return fail(Errc::io, "alert webhook: gave up after " + std::to_string(options_.max_attempts) +
                            " attempts; last: " + why);
}

WebhookSink::Outcome WebhookSink::attempt(const std::string& body, const std::string& signature,
                                          std::stop_token stop, std::string& why) {
  mail::detail::CurlEasy easy(curl_easy_init());
  if (!easy) {
    why = "no libcurl handle";
    return Outcome::retry;
  }
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  mail::detail::CurlSlist headers;
  for (const std::string& h : {std::string("Content-Type: application/json"),
                               "X-Rempart-Signature: " + signature,
                               "X-Rempart-Timestamp: " + std::to_string(now_s),
                               std::string("User-Agent: rempart-alerts"),
                               std::string("Expect:")}) {
    if (!mail::detail::slist_append(headers, h)) {
      why = "out of memory";
      return Outcome::retry;
    }
  }
  CURL* h = easy.get();
  const long timeout_ms = static_cast<long>(options_.timeout.count());
  bool set = curl_easy_setopt(h, CURLOPT_URL, options_.url.c_str()) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
             // Environment proxies are ignored: where alerts go is the
             // operator's configured URL and nothing else.
             curl_easy_setopt(h, CURLOPT_PROXY, "") == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_POST, 1L) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data()) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size())) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get()) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &discard) == CURLE_OK;
  if (!set) {
    why = "libcurl refused an option";
    return Outcome::refused;
  }
  const CURLcode rc = mail::detail::perform_interruptible(h, stop);
  if (rc == CURLE_ABORTED_BY_CALLBACK) return Outcome::stopped;
  if (rc != CURLE_OK) {
    why = std::string("transport: ") + curl_easy_strerror(rc);
    return rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT ? Outcome::refused : Outcome::retry;
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300) return Outcome::delivered;
  why = "HTTP " + std::to_string(status);
  return status == 429 || status >= 500 ? Outcome::retry : Outcome::refused;
}

}  // namespace rempart::guard
