#pragma once
// HTML of the mailing pages (docs/mailings.md): the list, the compose form
// with its preview, and one mailing with what the viewer may do next and
// its progress. Counts and the organisation's own text only: no page here
// holds a supporter's address or name. No script; every outside text
// through esc().
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "console/pages.hpp"
#include "services/mailings.hpp"

namespace rempart::console {

// `approval_above`: a drawn mailing with more recipients awaits a second
// person, and the list says so.
std::string mailings_page(const Viewer& v, const std::vector<store::MailingRow>& all, std::int64_t approval_above,
                          std::string_view notice);

// The compose form, new (id 0) or a draft's, filled with what was typed.
struct MailingForm {
  std::int64_t id = 0;
  services::MailingDraft draft;
  std::vector<std::string> segments;  // the saved segments' names
  std::string message;                // a refusal to act on, or ""
  std::optional<services::MailingPreview> preview = std::nullopt;
};
std::string mailing_compose_page(const Viewer& v, const MailingForm& f);

struct MailingPageView {
  services::MailingView mailing;
  std::optional<services::MailingPreview> preview;  // rendered for a made-up person
  std::string viewer_actor;  // "account:<hex>": the author may not approve a large one
  bool mail_configured = false;  // [mail]: without it nothing is sent
  bool can_test = false;         // a test send is possible here (an account, a relay)
  std::string test_address;      // the viewer's own, shown to them only; "" when none is set
  std::int64_t approval_above = 500;
  std::string notice;
};
std::string mailing_page(const Viewer& v, const MailingPageView& m);

}  // namespace rempart::console
