#pragma once
// A record's tags as one text (supporters.tag_list, in every backend's
// schema): '|' before and after each tag, '' for none. Segments match tags
// on it without a join (rempart_tags_match in each engine).
#include <optional>
#include <span>
#include <string>

namespace rempart::store {

// nullopt if a tag holds '|' (a normalised tag never does) or is empty.
std::optional<std::string> tag_list(std::span<const std::string> tags);

}  // namespace rempart::store
