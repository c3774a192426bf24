#pragma once
// A Message as libcurl's MIME tree, for the SMTP transport. Internal to the
// mail layer (namespace detail). libcurl writes the boundaries, the part
// headers and the transfer encodings; this only arranges the parts:
//
//   text only            multipart/mixed { text/plain }
//   text and html        multipart/alternative { text/plain, text/html }
//   with attachments     multipart/mixed { <the above body>, attachment... }
//
// Text parts are UTF-8, quoted-printable, with CRLF line ends; attachments
// base64. The top-level headers go in `headers` for CURLOPT_HTTPHEADER.
#include <chrono>
#include <memory>

#include <curl/curl.h>

#include "core/error.hpp"
#include "mail/curl_support.hpp"
#include "mail/message.hpp"

namespace rempart::mail::detail {

struct CurlMimeDeleter {
  void operator()(curl_mime* m) const noexcept { curl_mime_free(m); }
};
using CurlMime = std::unique_ptr<curl_mime, CurlMimeDeleter>;

struct MimeMessage {
  CurlMime mime;       // for CURLOPT_MIMEPOST; must outlive the transfer
  CurlSlist headers;   // for CURLOPT_HTTPHEADER; likewise
};

// Builds the tree on `easy` (libcurl ties a MIME tree to a handle). `m` must
// have passed check(). Errc::internal when libcurl runs out of memory or
// refuses a part.
Result<MimeMessage> build_mime(CURL* easy, const Message& m, std::chrono::system_clock::time_point now);

// `s` with every line end (CRLF, LF or a lone CR) as CRLF, which SMTP and
// the quoted-printable encoder take as the line break.
std::string crlf_lines(std::string_view s);

}  // namespace rempart::mail::detail
