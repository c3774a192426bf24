#pragma once
// application/x-www-form-urlencoded decoding, shared by the sign-up form and
// the console's forms. Pure; thread-safe.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rempart::core {

// Decodes '+' and %XX; nullopt on a truncated or non-hex escape.
std::optional<std::string> form_decode(std::string_view in);

// Percent-encodes every byte but A-Z a-z 0-9 - . _ ~, so that text put in a
// link's query ("/supporters?tag=...") comes back whole through form_decode
// whatever it holds ('&', '#', '+', '%', spaces, any UTF-8).
std::string form_encode(std::string_view in);

// Every name=value pair in order (empty pairs skipped). nullopt when an
// escape is malformed or there are more than `max_pairs` pairs.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_urlencoded(std::string_view body,
                                                                                 std::size_t max_pairs);

}  // namespace rempart::core
