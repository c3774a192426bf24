#include "mail/curl_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <mutex>

namespace rempart::mail::detail {

Result<void> curl_init() {
  static std::once_flag once;
  static CURLcode outcome = CURLE_OK;
  std::call_once(once, [] { outcome = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (outcome != CURLE_OK) return fail(Errc::internal, std::string("libcurl did not initialise: ") + curl_easy_strerror(outcome));
  return {};
}

Result<void> slist_append(CurlSlist& list, const std::string& item) {
  curl_slist* grown = curl_slist_append(list.get(), item.c_str());
  if (grown == nullptr) return fail(Errc::internal, "out of memory building a libcurl list");
  (void)list.release();  // `grown` now heads the same list
  list.reset(grown);
  return {};
}

CURLcode perform_interruptible(CURL* easy, std::stop_token stop) {
  if (stop.stop_requested()) return CURLE_ABORTED_BY_CALLBACK;
  CURLM* multi = curl_multi_init();
  if (multi == nullptr) return CURLE_OUT_OF_MEMORY;
  const CURLcode result = perform_interruptible(easy, stop, multi);
  curl_multi_cleanup(multi);
  return result;
}

CURLcode perform_interruptible(CURL* easy, std::stop_token stop, CURLM* multi) {
  if (stop.stop_requested()) return CURLE_ABORTED_BY_CALLBACK;
  if (curl_multi_add_handle(multi, easy) != CURLM_OK) return CURLE_FAILED_INIT;
  CURLcode result = CURLE_GOT_NOTHING;
  {
    // curl_multi_wakeup may be called from any thread; the callback's
    // destructor waits for a concurrent run to end before the handle goes.
    std::stop_callback wake(stop, [multi] { curl_multi_wakeup(multi); });
    for (;;) {
      int running = 0;
      if (curl_multi_perform(multi, &running) != CURLM_OK) {
        result = CURLE_FAILED_INIT;
        break;
      }
      bool done = false;
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy) {
          result = msg->data.result;
          done = true;
        }
      }
      if (done || running == 0) break;
      if (stop.stop_requested()) {
        result = CURLE_ABORTED_BY_CALLBACK;
        break;
      }
      if (curl_multi_poll(multi, nullptr, 0, 1000, nullptr) != CURLM_OK) {
        result = CURLE_FAILED_INIT;
        break;
      }
      if (stop.stop_requested()) {
        result = CURLE_ABORTED_BY_CALLBACK;
        break;
      }
    }
  }
  curl_multi_remove_handle(multi, easy);
  return result;
}

bool sleep_interruptible(std::stop_token stop, std::chrono::milliseconds d) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  (void)cv.wait_for(lock, stop, d, [] { return false; });  // nobody notifies: only time or stop end it
  return !stop.stop_requested();
}

std::chrono::milliseconds backoff_before(std::chrono::milliseconds first, int attempt) {
  constexpr std::chrono::milliseconds cap{60'000};
  std::chrono::milliseconds d = std::max(first, std::chrono::milliseconds{0});
  for (int i = 2; i < attempt && d < cap; ++i) d *= 2;
  return std::min(d, cap);
}

Result<UrlParts> url_parts(const std::string& url) {
  CURLU* h = curl_url();
  if (h == nullptr) return fail(Errc::internal, "out of memory parsing a URL");
  UrlParts out;
  char* part = nullptr;
  bool ok = curl_url_set(h, CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
            curl_url_get(h, CURLUPART_SCHEME, &part, 0) == CURLUE_OK;
  if (ok) {
    out.scheme = part;
    curl_free(part);
    part = nullptr;
    ok = curl_url_get(h, CURLUPART_HOST, &part, 0) == CURLUE_OK;
    if (ok) {
      out.host = part;
      curl_free(part);
    }
  }
  curl_url_cleanup(h);
  if (!ok) return fail(Errc::config, "the URL is malformed or has no scheme or host");
  std::ranges::transform(out.scheme, out.scheme.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Result<std::string> url_scheme(const std::string& url) {
  auto parts = url_parts(url);
  if (!parts) return std::unexpected(std::move(parts.error()));
  return std::move(parts->scheme);
}

bool is_loopback_host(std::string_view host) {
  std::string h(host);
  std::ranges::transform(h, h.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (h == "localhost") return true;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') {
    in6_addr a6{};
    return ::inet_pton(AF_INET6, h.substr(1, h.size() - 2).c_str(), &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
  }
  in6_addr a6{};
  if (::inet_pton(AF_INET6, h.c_str(), &a6) == 1) return IN6_IS_ADDR_LOOPBACK(&a6);
  // Dotted quad only: inet_pton refuses the short and octal forms
  // ("127.1", "0177.0.0.1") that resolvers would accept.
  in_addr a{};
  if (::inet_pton(AF_INET, h.c_str(), &a) != 1) return false;
  return (ntohl(a.s_addr) >> 24) == 127;
}

}  // namespace rempart::mail::detail
