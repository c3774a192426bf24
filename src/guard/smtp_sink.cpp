#include "guard/smtp_sink.hpp"

#include <spdlog/spdlog.h>

#include <string_view>

#include "core/text.hpp"
#include "mail/curl_support.hpp"

namespace rempart::guard {

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{500};

// Header values: printable ASCII only, so nothing can end the header early.
std::string header_safe(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (unsigned char c : v) out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  if (out.size() > 200) out.resize(200);
  return out;
}

// Body values: no control characters, so one field stays one line, and
// well-formed UTF-8 (a stray byte becomes '?'), which the message needs.
std::string body_safe(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  std::size_t i = 0;
  while (i < v.size()) {
    const std::size_t start = i;
    if (!core::text::decode_one(v, i)) {
      out.push_back('?');
      i = start + 1;
      continue;
    }
    const unsigned char c = static_cast<unsigned char>(v[start]);
    if (c < 0x20 || c == 0x7f) {
      out.push_back(' ');
    } else {
      out.append(v.substr(start, i - start));
    }
  }
  return out;
}

std::string field(const nlohmann::json& alert, const char* key) {
  auto it = alert.find(key);
  if (it == alert.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

mail::Message alert_message(const nlohmann::json& alert, const SmtpSinkOptions& options) {
  std::string domain = "rempart.invalid";
  if (auto at = options.from.rfind('@'); at != std::string::npos && at + 1 < options.from.size()) {
    domain = options.from.substr(at + 1);
  }
  mail::Message m;
  m.return_path = options.from;
  m.from_address = options.from;
  if (!options.to.empty()) {
    m.to = options.to.front();
    m.also_to.assign(options.to.begin() + 1, options.to.end());
  }
  m.subject = "[rempart] " + header_safe(field(alert, "severity")) + ": " + header_safe(field(alert, "kind")) + " (" +
              header_safe(field(alert, "actor")) + ")";
  // header_safe() keeps '<', '>' and spaces, which a Message-ID cannot hold.
  std::string id = header_safe(field(alert, "id"));
  for (char& c : id) {
    if (c == ' ' || c == '<' || c == '>' || c == '@') c = '_';
  }
  m.message_id = id + ".alert@" + header_safe(domain);
  m.headers = {{"Auto-Submitted", "auto-generated"}};
  m.text =
      "rempart raised an alert. It names accounts, sessions and records by id only;\n"
      "look them up in the console or the audit log.\n\n";
  for (const char* key : {"severity", "kind", "actor", "session", "client", "reason", "at", "id", "details", "source"}) {
    m.text += std::string(key) + ": " + body_safe(field(alert, key)) + "\n";
  }
  return m;
}

std::string format_alert_email(const nlohmann::json& alert, const SmtpSinkOptions& options,
                               std::chrono::system_clock::time_point now) {
  const mail::Message m = alert_message(alert, options);
  std::string out;
  for (const auto& h : mail::top_headers(m, now)) out += h + "\r\n";
  out += "\r\n";
  for (char c : m.text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

Result<std::unique_ptr<SmtpSink>> SmtpSink::create(const SmtpSinkOptions& options) {
  if (!mail::is_plain_address(options.from)) return fail(Errc::config, "alert smtp: from is not a plain address");
  if (options.to.empty()) return fail(Errc::config, "alert smtp: no recipient");
  for (const auto& r : options.to) {
    if (!mail::is_plain_address(r)) return fail(Errc::config, "alert smtp: a recipient is not a plain address");
  }
  if (options.max_attempts < 1 || options.max_attempts > 100) {
    return fail(Errc::config, "alert smtp: max_attempts must be between 1 and 100");
  }
  mail::SmtpOptions smtp;
  smtp.url = options.url;
  smtp.username = options.username;
  smtp.password_file = options.password_file;
  smtp.require_tls = options.require_tls;
  smtp.timeout = options.timeout;
  auto transport = mail::SmtpTransport::create(smtp);
  if (!transport) return fail(transport.error().code, "alert " + transport.error().internal);
  return std::unique_ptr<SmtpSink>(new SmtpSink(options, std::move(*transport)));
}

Result<void> SmtpSink::deliver(const StampedAlert& alert, std::stop_token stop) {
  const mail::Message message = alert_message(alert.json, options_);
  std::string why;
  for (int n = 1; n <= options_.max_attempts; ++n) {
    if (n > 1 && !mail::detail::sleep_interruptible(stop, mail::detail::backoff_before(kFirstBackoff, n))) {
      return fail(Errc::busy, "alert smtp: stopped before attempt " + std::to_string(n));
    }
    mail::SendResult r = transport_->send(message, stop);
    switch (r.outcome) {
      case mail::Delivery::delivered:
        return {};
      case mail::Delivery::refused:
        return fail(Errc::io, "alert smtp: refused: " + r.why + " (not retried)");
      case mail::Delivery::stopped:
        return fail(Errc::busy, "alert smtp: stopped during attempt " + std::to_string(n));
      case mail::Delivery::retry:
        why = std::move(r.why);
        spdlog::debug("alert smtp: attempt {}/{} failed: {}", n, options_.max_attempts, why);
        break;
    }
  }
  return fail(Errc::io, "alert smtp: gave up after " + std::to_string(options_.max_attempts) +
                            " attempts; last: " + why);
}

}  // namespace rempart::guard
