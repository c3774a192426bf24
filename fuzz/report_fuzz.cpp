// Messages in the bounce mailbox (mail/report.hpp): anyone can send mail to
// the bounce address, so read_report takes hostile MIME. It must end, and
// what it reports must hold together: a kind only in a report, addresses
// that are addresses, no line break in a header value it hands on.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "mail/report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string raw(reinterpret_cast<const char*>(data), size);
  auto r = rempart::mail::read_report(raw);
  if (!r) return 0;
  rempart::fuzz::require(r->is_report || r->kind == rempart::mail::ReportKind::none, "a kind only in a report");
  for (const auto& a : r->delivered_to) {
    rempart::fuzz::require(!a.empty(), "no empty address");
    rempart::fuzz::require(a.find('\n') == std::string::npos, "an address is one line");
  }
  for (const auto* s : {&r->original_return_path, &r->original_message_id, &r->original_list_unsubscribe}) {
    rempart::fuzz::require(s->find('\n') == std::string::npos, "a header value is one line");
  }
  return 0;
}
