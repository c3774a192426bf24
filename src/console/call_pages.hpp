#pragma once
// HTML of the call list pages (call_pages.cpp). Pure functions; thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "console/pages.hpp"
#include "services/call_lists.hpp"

namespace rempart::console {

// What the form that makes a list offers and shows again after a refusal.
struct CallListForm {
  std::vector<std::string> segments;  // saved segments, by name
  std::vector<std::string> callers;   // accounts that may make calls, by name
  std::string name, segment, starts, ends, script;  // as typed ("YYYY-MM-DDTHH:MM", UTC)
  std::vector<std::string> chosen;    // callers ticked
  std::string message;                // why the form came back, or ""
};

// The caller's own shares; for organisers also every list and the form.
std::string calls_page(const Viewer& v, const std::vector<services::CallListView>& mine,
                       const std::optional<std::vector<services::CallListView>>& all,
                       const std::optional<CallListForm>& form, std::string_view notice);
// One list for organisers: the shares, outcomes, and the close button.
std::string call_list_page(const Viewer& v, const services::CallListView& l, std::string_view notice);
// The person in hand: name and phone together, the script, the outcome form.
std::string call_page(const Viewer& v, const services::CallPerson& p, std::string_view message);
// The caller's share of `list` is done.
std::string share_done_page(const Viewer& v, std::string_view list);

}  // namespace rempart::console
