#pragma once
// libcurl plumbing shared by the mail layer's SMTP transport and the guard's
// webhook sink. Not part of the mail layer's public interface (namespace
// detail): only rempart's own layers include it.
#include <chrono>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>

#include <curl/curl.h>

#include "core/error.hpp"

namespace rempart::mail::detail {

// curl_global_init, exactly once per process whatever the number of threads
// calling it; later calls return the first outcome. curl_global_cleanup is
// never called: other threads may still hold handles at exit.
Result<void> curl_init();

struct CurlEasyDeleter {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlSlistDeleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// Appends to a list, keeping the list intact when libcurl runs out of memory.
Result<void> slist_append(CurlSlist& list, const std::string& item);

// Runs the transfer set up on `easy` and returns its outcome, or
// CURLE_ABORTED_BY_CALLBACK as soon as `stop` is requested (the transfer is
// cut at once, not at its next progress tick). Blocks the calling thread.
CURLcode perform_interruptible(CURL* easy, std::stop_token stop);
// The same on `multi`, which is kept (with its open connections, for the
// next transfer to reuse) instead of made and cleaned up.
CURLcode perform_interruptible(CURL* easy, std::stop_token stop, CURLM* multi);

// Sleeps for `d`; returns false early when `stop` is requested.
bool sleep_interruptible(std::stop_token stop, std::chrono::milliseconds d);

// The delay before attempt `attempt` (2, 3, ...): first * 2^(attempt-2),
// capped at one minute.
std::chrono::milliseconds backoff_before(std::chrono::milliseconds first, int attempt);

// The lowercase scheme of an absolute URL with a host. Errc::config when the
// URL cannot be parsed; the message never repeats the URL (it may hold a
// token).
Result<std::string> url_scheme(const std::string& url);

// The scheme (lowercase) and host of an absolute URL, as url_scheme() parses
// them. An IPv6 host keeps its brackets ("[::1]"). Same errors as url_scheme().
struct UrlParts {
  std::string scheme;
  std::string host;
};
Result<UrlParts> url_parts(const std::string& url);

// True for hosts that name this machine: "localhost" (any case), IPv4
// 127.0.0.0/8 in dotted-quad form, and ::1 (bracketed or not). Nothing is
// resolved: a name that merely resolves to the loopback is not one.
bool is_loopback_host(std::string_view host);

}  // namespace rempart::mail::detail
