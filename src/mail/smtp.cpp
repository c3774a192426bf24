#include "mail/smtp.hpp"

#include <algorithm>
#include <cstring>
#include <thread>

#include "mail/curl_support.hpp"
#include "mail/mime.hpp"
#include "crypto/secret_file.hpp"

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
    auto p = crypto::read_secret_file(options.password_file, "smtp password");
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

struct SmtpTransport::Prepared {
  detail::CurlMime mime;
  detail::CurlSlist headers;
  detail::CurlSlist rcpt;
  std::string from;
};

std::optional<SendResult> SmtpTransport::prepare(void* easy, const Message& m, Prepared& p) const {
  if (auto r = check(m); !r) return SendResult{Delivery::refused, 0, r.error().internal};
  CURL* h = static_cast<CURL*>(easy);
  auto mime = detail::build_mime(h, m, std::chrono::system_clock::now());
  if (!mime) return SendResult{Delivery::retry, 0, mime.error().internal};
  p.mime = std::move(mime->mime);
  p.headers = std::move(mime->headers);
  p.rcpt.reset();
  bool listed = static_cast<bool>(detail::slist_append(p.rcpt, "<" + m.to + ">"));
  for (const auto& a : m.also_to) listed = listed && detail::slist_append(p.rcpt, "<" + a + ">");
  if (!listed) return SendResult{Delivery::retry, 0, "out of memory"};

  const long timeout_ms = static_cast<long>(options_.timeout.count());
  p.from = "<" + m.return_path + ">";
  bool set = curl_easy_setopt(h, CURLOPT_URL, options_.url.c_str()) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps") == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_PROXY, "") == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_MAIL_FROM, p.from.c_str()) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_MAIL_RCPT, p.rcpt.get()) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_HTTPHEADER, p.headers.get()) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_MIMEPOST, p.mime.get()) == CURLE_OK;
  if (set && use_ssl_) set = curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL)) == CURLE_OK;
  if (set && password_) {
    set = curl_easy_setopt(h, CURLOPT_USERNAME, options_.username.c_str()) == CURLE_OK &&
          curl_easy_setopt(h, CURLOPT_PASSWORD, reinterpret_cast<const char*>(password_->data())) == CURLE_OK;
  }
  if (!set) return SendResult{Delivery::refused, 0, "libcurl refused an option"};
  return std::nullopt;
}

SendResult SmtpTransport::outcome(void* easy, int code) const {
  CURL* h = static_cast<CURL*>(easy);
  const auto rc = static_cast<CURLcode>(code);
  long reply_code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply_code);
  const int reply = static_cast<int>(reply_code);
  if (rc == CURLE_OK) return {Delivery::delivered, reply, ""};
  if (rc == CURLE_ABORTED_BY_CALLBACK) return {Delivery::stopped, reply, "stopped"};
  std::string why = std::string("transport: ") + curl_easy_strerror(rc);
  if (reply >= 400) why += ", SMTP reply " + std::to_string(reply);  // not the 250 of a EHLO before a TLS refusal
  const bool permanent = (reply >= 500 && reply < 600) || rc == CURLE_USE_SSL_FAILED || rc == CURLE_LOGIN_DENIED ||
                         rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT;
  return {permanent ? Delivery::refused : Delivery::retry, reply, std::move(why)};
}

SendResult SmtpTransport::send_on(void* easy, void* multi, const Message& m, std::stop_token stop) const {
  Prepared p;
  if (auto failed = prepare(easy, m, p)) return *failed;
  CURL* h = static_cast<CURL*>(easy);
  const CURLcode rc = multi != nullptr ? detail::perform_interruptible(h, stop, static_cast<CURLM*>(multi))
                                       : detail::perform_interruptible(h, stop);
  return outcome(easy, rc);
}

// ---- SmtpPool ----------------------------------------------------------------------

std::unique_ptr<SmtpPool> SmtpTransport::pool(std::size_t connections) const {
  return std::unique_ptr<SmtpPool>(new SmtpPool(*this, std::clamp<std::size_t>(connections, 1, 64)));
}

struct SmtpPool::Slot {
  CURL* easy = nullptr;
  std::size_t index = 0;  // of the message in flight
  bool busy = false;
  SmtpTransport::Prepared prepared;
};

SmtpPool::SmtpPool(const SmtpTransport& t, std::size_t connections) : transport_(t), multi_(curl_multi_init()) {
  if (multi_ != nullptr) {
    curl_multi_setopt(static_cast<CURLM*>(multi_), CURLMOPT_MAXCONNECTS, static_cast<long>(connections));
  }
  for (std::size_t i = 0; i < connections; ++i) {
    auto slot = std::make_unique<Slot>();
    slot->easy = curl_easy_init();
    slots_.push_back(std::move(slot));
  }
}

SmtpPool::~SmtpPool() {
  if (multi_ != nullptr) curl_multi_cleanup(static_cast<CURLM*>(multi_));  // closes the connections
  for (auto& s : slots_) {
    if (s->easy != nullptr) curl_easy_cleanup(s->easy);
  }
}

std::vector<std::optional<SendResult>> SmtpPool::send_all(std::span<const Message> messages, const Pacing& pacing,
                                                          std::stop_token stop) {
  using clock = std::chrono::steady_clock;
  std::vector<std::optional<SendResult>> results(messages.size());
  auto* multi = static_cast<CURLM*>(multi_);
  if (multi == nullptr) return results;
  for (const auto& s : slots_) {
    if (s->easy == nullptr) return results;
  }
  std::stop_callback wake(stop, [multi] { curl_multi_wakeup(multi); });
  std::size_t next = 0, running = 0;
  bool hold = false;  // the relay asked to wait: nothing more is started
  const auto finish = [&](Slot& slot, CURLcode rc) {
    curl_multi_remove_handle(multi, slot.easy);
    results[slot.index] = transport_.outcome(slot.easy, rc);
    if (results[slot.index]->outcome == Delivery::retry) hold = true;
    slot.prepared = {};
    slot.busy = false;
    --running;
  };
  for (;;) {
    // Start what may start now, on the free connections.
    auto poll_ms = 1000;
    while (!hold && !stop.stop_requested() && next < messages.size() && running < slots_.size()) {
      if (pacing.not_before) {
        const auto at = pacing.not_before();
        const auto now = clock::now();
        if (at > now + std::chrono::milliseconds(2)) {  // a long wait: the transfers under way go on meanwhile
          poll_ms = static_cast<int>(
              std::clamp<long long>(std::chrono::ceil<std::chrono::milliseconds>(at - now).count(), 1, 1000));
          break;
        }
        if (at > now) std::this_thread::sleep_for(at - now);  // a short one (a high rate's gap)
      }
      Slot* slot = nullptr;
      for (auto& s : slots_) {
        if (!s->busy) slot = s.get();
      }
      curl_easy_reset(slot->easy);  // every option set again; the multi handle keeps the connections
      if (auto failed = transport_.prepare(slot->easy, messages[next], slot->prepared)) {
        results[next] = *failed;
        slot->prepared = {};
        if (failed->outcome == Delivery::retry) hold = true;
        ++next;
        continue;
      }
      if (curl_multi_add_handle(multi, slot->easy) != CURLM_OK) {
        results[next] = SendResult{Delivery::retry, 0, "libcurl refused a transfer"};
        slot->prepared = {};
        hold = true;
        break;
      }
      slot->index = next++;
      slot->busy = true;
      ++running;
      if (pacing.started) pacing.started();
    }
    if (stop.stop_requested()) {
      for (auto& s : slots_) {
        if (s->busy) finish(*s, CURLE_ABORTED_BY_CALLBACK);
      }
      return results;
    }
    if (running == 0 && (hold || next >= messages.size())) return results;
    int still = 0;
    if (curl_multi_perform(multi, &still) != CURLM_OK) {
      for (auto& s : slots_) {
        if (s->busy) finish(*s, CURLE_FAILED_INIT);
      }
      return results;
    }
    int left = 0;
    bool freed = false;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      for (auto& s : slots_) {
        if (s->busy && s->easy == msg->easy_handle) {
          finish(*s, msg->data.result);
          freed = true;
          break;
        }
      }
    }
    // A connection came free and there is more to send: start it at once
    // (unless the pacing said to wait).
    if (running == 0 && (hold || next >= messages.size())) return results;
    if (freed && !hold && next < messages.size()) continue;
    if (curl_multi_poll(multi, nullptr, 0, poll_ms, nullptr) != CURLM_OK) {
      for (auto& s : slots_) {
        if (s->busy) finish(*s, CURLE_FAILED_INIT);
      }
      return results;
    }
  }
}

}  // namespace rempart::mail
