#pragma once
// SQL functions the keeper's statements call, registered on each
// connection to the records' file (statements.hpp, REMPART_SEGMENT_WHERE).
#include <sqlite3.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "store/tag_list.hpp"

namespace rempart::store::sqlite {

using store::tag_list;

// Whether `list` (a tag list) holds every tag of `all`, at least one of
// `any` unless it is empty, and none of `none` (each a tag list too).
bool tags_match(std::string_view list, std::string_view all, std::string_view any, std::string_view none) noexcept;

// Registers rempart_tags_match(list, all, any, none) -> 0 or 1, the SQL
// form of tags_match (NULL read as ''), deterministic and callable from
// the connection's own statements only (not from a trigger or a view).
Result<void> register_functions(sqlite3* db);

}  // namespace rempart::store::sqlite
