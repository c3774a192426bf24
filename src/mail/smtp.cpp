#include "mail/smtp.hpp"

#include <cstring>

#include "mail/curl_support.hpp"
#include "mail/mime.hpp"
#include "mail/secret_file.hpp"

namespace rempart::mail {

namespace {

Result<std::unique_ptr<SmtpTransport>> refuse(const std::string& why) { return fail(Errc::config, "smtp: " + why); }

}  // namespace

Result<std::unique_ptr<SmtpTransport>> SmtpTransport::create(const SmtpOptions& options) {
  if (auto r = detail::curl_init(); !r) return std::unexpected(r.error());
  if (options.url.empty()) return refuse("url is not set");
  auto url = detail::url_parts(options.url);
  if (!url) return refuse(url.error().internal);
  if (url->scheme != "smtp" && url->scheme != "smtps") return refuse("only smtp:// and smtps:// URLs are accepted");
  if (url->scheme == "smtp" && !options.require_tls && !detail::is_loopback_host(url->host)) {
    return refuse("require_tls = false is only accepted for a relay on the loopback (127.0.0.0/8, ::1, localhost)");
  }
  if (options.timeout.count() <= 0) return refuse("timeout must be positive");
  if (options.username.empty() != options.password_file.empty()) {
    return refuse("username and password_file go together");
  }
  std::optional<crypto::SecretBytes> password;
  if (!options.username.empty()) {
    if (url->scheme == "smtp" && !options.require_tls) return refuse("a password over smtp:// needs require_tls");
    auto p = detail::read_secret_file(options.password_file, "smtp password");
    if (!p) return std::unexpected(p.error());
    // NUL-terminated for CURLOPT_PASSWORD, in guarded memory throughout.
    auto z = crypto::SecretBytes::allocate(p->size() + 1);
    if (!z) return std::unexpected(z.error());
    std::memcpy(z->data(), p->data(), p->size());
    z->data()[p->size()] = 0;
    password = std::move(*z);
  }
  return std::unique_ptr<SmtpTransport>(new SmtpTransport(options, options.require_tls, std::move(password)));
}

SendResult SmtpTransport::send(const Message& m, std::stop_token stop) const {
  detail::CurlEasy easy(curl_easy_init());
  if (!easy) return {Delivery::retry, 0, "no libcurl handle"};
  return send_on(easy.get(), nullptr, m, stop);
}

std::unique_ptr<SmtpSession> SmtpTransport::session() const {
  return std::unique_ptr<SmtpSession>(new SmtpSession(*this));
}

SmtpSession::SmtpSession(const SmtpTransport& t)
    : transport_(t), easy_(curl_easy_init()), multi_(curl_multi_init()) {}

SmtpSession::~SmtpSession() {
  if (multi_ != nullptr) curl_multi_cleanup(static_cast<CURLM*>(multi_));  // closes the connection
  if (easy_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(easy_));
}

SendResult SmtpSession::send(const Message& m, std::stop_token stop) {
  if (easy_ == nullptr || multi_ == nullptr) return {Delivery::retry, 0, "no libcurl handle"};
  // Every option set again; the multi handle keeps the open connection.
  curl_easy_reset(static_cast<CURL*>(easy_));
  return transport_.send_on(easy_, multi_, m, stop);
}

SendResult SmtpTransport::send_on(void* easy, void* multi, const Message& m, std::stop_token stop) const {
  if (auto r = check(m); !r) return {Delivery::refused, 0, r.error().internal};
  CURL* h = static_cast<CURL*>(easy);
  auto mime = detail::build_mime(h, m, std::chrono::system_clock::now());
  if (!mime) return {Delivery::retry, 0, mime.error().internal};
  detail::CurlSlist rcpt;
  bool listed = static_cast<bool>(detail::slist_append(rcpt, "<" + m.to + ">"));
  for (const auto& a : m.also_to) listed = listed && detail::slist_append(rcpt, "<" + a + ">");
  if (!listed) return {Delivery::retry, 0, "out of memory"};

  const long timeout_ms = static_cast<long>(options_.timeout.count());
  const std::string from = "<" + m.return_path + ">";
  bool set = curl_easy_setopt(h, CURLOPT_URL, options_.url.c_str()) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps") == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_PROXY, "") == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str()) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt.get()) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_HTTPHEADER, mime->headers.get()) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_MIMEPOST, mime->mime.get()) == CURLE_OK;
  if (set && use_ssl_) set = curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL)) == CURLE_OK;
  if (set && password_) {
    set = curl_easy_setopt(h, CURLOPT_USERNAME, options_.username.c_str()) == CURLE_OK &&
          curl_easy_setopt(h, CURLOPT_PASSWORD, reinterpret_cast<const char*>(password_->data())) == CURLE_OK;
  }
  if (!set) return {Delivery::refused, 0, "libcurl refused an option"};

  const CURLcode rc = multi != nullptr ? detail::perform_interruptible(h, stop, static_cast<CURLM*>(multi))
                                       : detail::perform_interruptible(h, stop);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  const int reply = static_cast<int>(code);
  if (rc == CURLE_OK) return {Delivery::delivered, reply, ""};
  if (rc == CURLE_ABORTED_BY_CALLBACK) return {Delivery::stopped, reply, "stopped"};
  std::string why = std::string("transport: ") + curl_easy_strerror(rc);
  if (reply >= 400) why += ", SMTP reply " + std::to_string(reply);  // not the 250 of a EHLO before a TLS refusal
  const bool permanent = (reply >= 500 && reply < 600) || rc == CURLE_USE_SSL_FAILED || rc == CURLE_LOGIN_DENIED ||
                         rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT;
  return {permanent ? Delivery::refused : Delivery::retry, reply, std::move(why)};
}

}  // namespace rempart::mail
