#pragma once
// HTML of the segment pages (segment_pages.cpp). Pure functions; thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "console/pages.hpp"
#include "services/directory.hpp"
#include "services/segments.hpp"

namespace rempart::console {

struct SegmentLine {
  services::Segment segment;
  services::ShownCount count;
  std::int64_t counted_at = 0;  // unix seconds (services::CountCache)
};

// The builder's state: what was typed (shown again), and the count once asked.
struct SegmentForm {
  std::string name;
  services::SegmentDefinition definition;
  bool replace = false;  // changing a saved segment (its name fixed)
  std::optional<services::ShownCount> count;
  std::string message;  // why the form came back, or ""
};

std::string segments_page(const Viewer& v, const std::vector<SegmentLine>& lines, std::string_view notice);
std::string segment_form_page(const Viewer& v, const SegmentForm& f);
std::string segment_page(const Viewer& v, const services::Segment& s, const services::ShownCount& count,
                         std::string_view notice);
// The confirmation step: the exact count the change will touch.
std::string bulk_confirm_page(const Viewer& v, std::string_view name, std::string_view tag, bool add,
                              std::int64_t count);
std::string tag_confirm_page(const Viewer& v, std::string_view from, std::string_view to, bool merge,
                             std::int64_t count);
// The rename / merge form, for the tags page.
std::string tag_rename_form(const Viewer& v);
std::string segment_members_page(const Viewer& v, const services::MaskedPage& page, std::string_view name);

}  // namespace rempart::console
