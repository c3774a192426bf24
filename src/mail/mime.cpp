#include "mail/mime.hpp"

#include <string>

namespace rempart::mail::detail {

namespace {

constexpr const char* kText = "text/plain; charset=utf-8";
constexpr const char* kHtml = "text/html; charset=utf-8";

Result<void> refused(const char* what) { return fail(Errc::internal, std::string("mail mime: libcurl refused ") + what); }

// One inline text part, quoted-printable.
Result<void> add_text(curl_mime* into, const std::string& body, const char* type) {
  curl_mimepart* part = curl_mime_addpart(into);
  if (part == nullptr) return refused("a part");
  const std::string data = crlf_lines(body);
  if (curl_mime_data(part, data.data(), data.size()) != CURLE_OK || curl_mime_type(part, type) != CURLE_OK ||
      curl_mime_encoder(part, "quoted-printable") != CURLE_OK) {
    return refused("a text part");
  }
  return {};
}

// The text/plain part, or the multipart/alternative holding it and the HTML,
// added to a multipart/mixed `into`.
Result<void> add_body_part(CURL* easy, curl_mime* into, const Message& m) {
  if (m.html.empty()) return add_text(into, m.text, kText);
  CurlMime alt(curl_mime_init(easy));
  if (!alt) return refused("a multipart");
  if (auto r = add_text(alt.get(), m.text, kText); !r) return r;
  if (auto r = add_text(alt.get(), m.html, kHtml); !r) return r;
  curl_mimepart* part = curl_mime_addpart(into);
  if (part == nullptr || curl_mime_subparts(part, alt.get()) != CURLE_OK) return refused("a multipart");
  (void)alt.release();  // `part` owns it now
  if (curl_mime_type(part, "multipart/alternative") != CURLE_OK) return refused("a multipart type");
  return {};
}

Result<void> add_attachment(curl_mime* into, const Attachment& a) {
  curl_mimepart* part = curl_mime_addpart(into);
  if (part == nullptr) return refused("a part");
  if (curl_mime_data(part, a.data.data(), a.data.size()) != CURLE_OK ||
      curl_mime_type(part, a.content_type.c_str()) != CURLE_OK ||
      curl_mime_filename(part, a.filename.c_str()) != CURLE_OK || curl_mime_encoder(part, "base64") != CURLE_OK) {
    return refused("an attachment");
  }
  return {};
}

}  // namespace

std::string crlf_lines(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 32);
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out.append("\r\n");
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else if (s[i] == '\n') {
      out.append("\r\n");
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

Result<MimeMessage> build_mime(CURL* easy, const Message& m, std::chrono::system_clock::time_point now) {
  MimeMessage out;
  out.mime.reset(curl_mime_init(easy));
  if (!out.mime) return fail(Errc::internal, "mail mime: libcurl refused a multipart");
  for (const auto& h : top_headers(m, now)) {
    if (auto r = slist_append(out.headers, h); !r) return std::unexpected(std::move(r.error()));
  }
  if (m.attachments.empty() && !m.html.empty()) {
    // The root itself is the alternative. libcurl takes the root's type from
    // a Content-Type among the top-level headers and adds the boundary.
    if (auto r = add_text(out.mime.get(), m.text, kText); !r) return std::unexpected(std::move(r.error()));
    if (auto r = add_text(out.mime.get(), m.html, kHtml); !r) return std::unexpected(std::move(r.error()));
    if (auto r = slist_append(out.headers, "Content-Type: multipart/alternative"); !r) {
      return std::unexpected(std::move(r.error()));
    }
    return out;
  }
  // multipart/mixed, libcurl's default for the root.
  if (auto r = add_body_part(easy, out.mime.get(), m); !r) return std::unexpected(std::move(r.error()));
  for (const auto& a : m.attachments) {
    if (auto r = add_attachment(out.mime.get(), a); !r) return std::unexpected(std::move(r.error()));
  }
  return out;
}

}  // namespace rempart::mail::detail
