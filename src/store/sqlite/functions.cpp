#include "store/sqlite/functions.hpp"

#include "store/sqlite/connection.hpp"

namespace rempart::store::sqlite {

namespace {

constexpr char kSep = '|';

// Whether `list` holds `tag` as one of its entries.
bool holds(std::string_view list, std::string_view tag) noexcept {
  for (std::size_t at = list.find(tag); at != std::string_view::npos; at = list.find(tag, at + 1)) {
    if (at > 0 && list[at - 1] == kSep && at + tag.size() < list.size() && list[at + tag.size()] == kSep) return true;
  }
  return false;
}

// Calls `fn` on each tag of a tag list, until it returns false; returns
// false then.
template <typename Fn>
bool each_tag(std::string_view list, Fn&& fn) noexcept {
  std::size_t from = 0;
  while (from < list.size()) {
    std::size_t end = list.find(kSep, from);
    if (end == std::string_view::npos) end = list.size();
    if (end > from && !fn(list.substr(from, end - from))) return false;
    from = end + 1;
  }
  return true;
}

std::string_view text_arg(sqlite3_value* v) noexcept {
  const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
  if (p == nullptr) return {};
  return {p, static_cast<std::size_t>(sqlite3_value_bytes(v))};
}

void tags_match_sql(sqlite3_context* ctx, int, sqlite3_value** argv) noexcept {
  sqlite3_result_int(ctx, tags_match(text_arg(argv[0]), text_arg(argv[1]), text_arg(argv[2]), text_arg(argv[3])) ? 1 : 0);
}

}  // namespace

bool tags_match(std::string_view list, std::string_view all, std::string_view any, std::string_view none) noexcept {
  if (!each_tag(all, [&](std::string_view t) { return holds(list, t); })) return false;
  if (!any.empty() && each_tag(any, [&](std::string_view t) { return !holds(list, t); })) return false;
  return each_tag(none, [&](std::string_view t) { return !holds(list, t); });
}

Result<void> register_functions(sqlite3* db) {
  const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY;
  if (int rc = sqlite3_create_function_v2(db, "rempart_tags_match", 4, flags, nullptr, &tags_match_sql, nullptr,
                                          nullptr, nullptr);
      rc != SQLITE_OK) {
    return std::unexpected(sqlite_error(rc, "configure", "rempart_tags_match"));
  }
  return {};
}

}  // namespace rempart::store::sqlite
