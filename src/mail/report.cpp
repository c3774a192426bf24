#include "mail/report.hpp"

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>

#include <gmime/gmime.h>

#include "core/text.hpp"

namespace rempart::mail {
namespace {

constexpr std::size_t kMaxReport = 4u << 20;

void gmime_init() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });  // never shut down: other threads may parse meanwhile
}

struct Unref {
  void operator()(gpointer p) const noexcept {
    if (p != nullptr) g_object_unref(p);
  }
};
template <class T>
using GPtr = std::unique_ptr<T, Unref>;

GPtr<GMimeParser> parser_of(std::string_view bytes) {
  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(bytes.data(), bytes.size()));
  if (!stream) return nullptr;
  return GPtr<GMimeParser>(g_mime_parser_new_with_stream(stream.get()));
}

GPtr<GMimeMessage> parse_message(std::string_view bytes) {
  auto parser = parser_of(bytes);
  if (!parser) return nullptr;
  return GPtr<GMimeMessage>(g_mime_parser_construct_message(parser.get(), nullptr));
}

// The decoded content of a leaf part (transfer encoding undone).
std::optional<std::string> content_of(GMimeObject* obj) {
  if (!GMIME_IS_PART(obj)) return std::nullopt;
  GMimeDataWrapper* w = g_mime_part_get_content(GMIME_PART(obj));
  if (w == nullptr) return std::string();
  GPtr<GMimeStream> mem(g_mime_stream_mem_new());
  if (!mem || g_mime_data_wrapper_write_to_stream(w, mem.get()) < 0) return std::nullopt;
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
  if (bytes == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

std::string header(GMimeObject* obj, const char* name) {
  const char* v = g_mime_object_get_header(obj, name);
  return v == nullptr ? std::string() : std::string(core::text::trim_ascii(v));
}

// The plain addresses of a header value that holds addresses.
std::vector<std::string> addresses(const std::string& value) {
  std::vector<std::string> out;
  if (value.empty()) return out;
  GPtr<InternetAddressList> list(internet_address_list_parse(nullptr, value.c_str()));
  if (!list) return out;
  const int n = internet_address_list_length(list.get());
  for (int i = 0; i < n; ++i) {
    InternetAddress* a = internet_address_list_get_address(list.get(), i);
    if (!INTERNET_ADDRESS_IS_MAILBOX(a)) continue;
    const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
    if (addr != nullptr && *addr != '\0') out.emplace_back(addr);
  }
  return out;
}

// The header fields of a block of "Name: value" lines (a delivery-status
// or feedback-report group), read by GMime's header parser as the headers
// of a part.
GPtr<GMimeObject> fields_of(std::string_view block) {
  std::string text(block);
  text += "\r\n\r\n";
  auto parser = parser_of(text);
  if (!parser) return nullptr;
  return GPtr<GMimeObject>(g_mime_parser_construct_part(parser.get(), nullptr));
}

// The groups of a delivery-status or feedback-report body: runs of lines
// separated by empty lines (RFC 3464 section 2.1; RFC 5965 has one group).
std::vector<std::string_view> groups_of(std::string_view body) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  std::size_t pos = 0;
  const auto flush = [&](std::size_t end) {
    std::string_view g = body.substr(start, end - start);
    if (g.find_first_not_of(" \t\r\n") != std::string_view::npos) out.push_back(g);
  };
  while (pos < body.size()) {
    const std::size_t eol = body.find('\n', pos);
    const std::size_t next = eol == std::string_view::npos ? body.size() : eol + 1;
    std::string_view line = body.substr(pos, next - pos);
    if (line.find_first_not_of("\r\n") == std::string_view::npos) {  // an empty line ends a group
      flush(pos);
      start = next;
    }
    pos = next;
  }
  flush(body.size());
  return out;
}

ReportKind worse(ReportKind a, ReportKind b) {
  const auto rank = [](ReportKind k) {
    switch (k) {
      case ReportKind::hard_bounce: return 3;
      case ReportKind::complaint: return 2;
      case ReportKind::soft_bounce: return 1;
      case ReportKind::none: break;
    }
    return 0;
  };
  return rank(b) > rank(a) ? b : a;
}

ReportKind delivery_status(std::string_view body) {
  ReportKind kind = ReportKind::none;
  const auto groups = groups_of(body);
  for (std::size_t i = 1; i < groups.size(); ++i) {  // the first group is about the whole message
    auto f = fields_of(groups[i]);
    if (!f) continue;
    const std::string action = core::text::ascii_lower(header(f.get(), "Action"));
    const std::string status = header(f.get(), "Status");
    if (action == "failed") {
      kind = worse(kind, status.starts_with("4") ? ReportKind::soft_bounce : ReportKind::hard_bounce);
    } else if (action == "delayed") {
      kind = worse(kind, ReportKind::soft_bounce);
    }
  }
  return kind;
}

ReportKind feedback(std::string_view body) {
  for (const auto group : groups_of(body)) {
    auto f = fields_of(group);
    if (!f) continue;
    const std::string type = core::text::ascii_lower(header(f.get(), "Feedback-Type"));
    if (type == "abuse" || type == "fraud" || type == "other") return ReportKind::complaint;
    if (!type.empty()) return ReportKind::none;
  }
  return ReportKind::none;
}

void take_original(GMimeObject* headers, MailReport& r) {
  auto rp = addresses(header(headers, "Return-Path"));
  if (!rp.empty()) r.original_return_path = rp.front();
  std::string id = header(headers, "Message-ID");
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
  r.original_message_id = std::move(id);
  r.original_list_unsubscribe = header(headers, "List-Unsubscribe");
}

}  // namespace

Result<MailReport> read_report(std::string_view raw) {
  if (raw.size() > kMaxReport) return fail(Errc::invalid_input, "report: message larger than 4 MiB");
  gmime_init();
  auto message = parse_message(raw);
  if (!message) return fail(Errc::invalid_input, "report: not a message");
  MailReport r;
  GMimeObject* outer = GMIME_OBJECT(message.get());
  for (const char* name : {"Delivered-To", "X-Original-To", "Envelope-To", "To"}) {
    // Every occurrence: a message passed on by several hops carries several Delivered-To.
    GMimeHeaderList* list = g_mime_object_get_header_list(outer);
    const int n = list == nullptr ? 0 : g_mime_header_list_get_count(list);
    for (int i = 0; i < n; ++i) {
      GMimeHeader* h = g_mime_header_list_get_header_at(list, i);
      if (g_ascii_strcasecmp(g_mime_header_get_name(h), name) != 0) continue;
      const char* v = g_mime_header_get_value(h);
      for (auto& a : addresses(v == nullptr ? "" : v)) {
        if (std::find(r.delivered_to.begin(), r.delivered_to.end(), a) == r.delivered_to.end()) {
          r.delivered_to.push_back(std::move(a));
        }
      }
    }
  }

  GMimeObject* body = g_mime_message_get_mime_part(message.get());
  if (body == nullptr || !GMIME_IS_MULTIPART(body)) return r;
  GMimeContentType* ct = g_mime_object_get_content_type(body);
  if (ct == nullptr || !g_mime_content_type_is_type(ct, "multipart", "report")) return r;
  const char* report_type = g_mime_content_type_get_parameter(ct, "report-type");
  const std::string type = core::text::ascii_lower(report_type == nullptr ? "" : report_type);
  if (type != "delivery-status" && type != "feedback-report") return r;

  GMimeMultipart* parts = GMIME_MULTIPART(body);
  const int n = g_mime_multipart_get_count(parts);
  for (int i = 0; i < n; ++i) {
    GMimeObject* part = g_mime_multipart_get_part(parts, i);
    GMimeContentType* pct = g_mime_object_get_content_type(part);
    if (pct == nullptr) continue;
    const bool status = g_mime_content_type_is_type(pct, "message", "delivery-status") ||
                        g_mime_content_type_is_type(pct, "message", "global-delivery-status");
    const bool fb = g_mime_content_type_is_type(pct, "message", "feedback-report");
    if (status || fb) {
      auto text = content_of(part);
      if (!text) continue;
      r.is_report = true;
      r.kind = worse(r.kind, status ? delivery_status(*text) : feedback(*text));
      continue;
    }
    if (GMIME_IS_MESSAGE_PART(part)) {  // message/rfc822: the reported message itself
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
      if (inner != nullptr) take_original(GMIME_OBJECT(inner), r);
      continue;
    }
    if (g_mime_content_type_is_type(pct, "text", "rfc822-headers") ||
        g_mime_content_type_is_type(pct, "message", "global-headers")) {
      auto text = content_of(part);
      if (!text) continue;
      auto headers = fields_of(*text);
      if (headers) take_original(headers.get(), r);
    }
  }
  return r;
}

}  // namespace rempart::mail
