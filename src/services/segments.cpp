#include "services/segments.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <initializer_list>
#include <utility>

#include "audit/chain.hpp"
#include "core/hex.hpp"
#include "core/validate.hpp"
#include "services/search_tokens.hpp"

namespace rempart::services {
namespace {

constexpr std::size_t kMaxTagsPerList = 10;
constexpr std::size_t kMaxNameBytes = 48;
constexpr std::size_t kMaxIdsPage = 1000;
constexpr std::size_t kBulkChunk = 500;
constexpr std::int64_t kDay = 86400;
constexpr std::string_view kCursorLabel = "v1.";

constexpr std::string_view kKeys[] = {"tags_all",    "tags_any",       "tags_none",    "email",
                                      "sms",         "signed_up_from", "signed_up_to", "updated_from",
                                      "updated_to",  "origin",         "place"};

Result<void> bad(std::string_view key) { return fail(Errc::invalid_input, "segment: invalid " + std::string(key)); }

Result<std::vector<std::string>> tag_list(const nlohmann::json& j, std::string_view key) {
  std::vector<std::string> out;
  if (!j.contains(key)) return out;
  const auto& v = j.at(std::string(key));
  if (!v.is_array() || v.size() > kMaxTagsPerList) return std::unexpected(bad(key).error());
  for (const auto& t : v) {
    if (!t.is_string()) return std::unexpected(bad(key).error());
    auto n = core::normalize_tag(t.get<std::string>());
    if (!n) return std::unexpected(bad(key).error());
    out.push_back(std::move(*n));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<std::string> one_of(const nlohmann::json& j, std::string_view key, std::initializer_list<std::string_view> allowed,
                           std::string_view fallback) {
  if (!j.contains(key)) return std::string(fallback);
  const auto& v = j.at(std::string(key));
  if (!v.is_string()) return std::unexpected(bad(key).error());
  const std::string s = v.get<std::string>();
  if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) return std::unexpected(bad(key).error());
  return s;
}

// Days since 1970-01-01 of a "YYYY-MM-DD" date (proleptic Gregorian,
// years 1970..9999); nullopt for anything else, 2026-02-30 included.
std::optional<std::int64_t> parse_day(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int y = 0, m = 0, d = 0;
  const auto num = [](std::string_view part, int& out) {
    for (const char c : part) {
      if (c < '0' || c > '9') return false;
    }
    return std::from_chars(part.data(), part.data() + part.size(), out).ec == std::errc{};
  };
  if (!num(s.substr(0, 4), y) || !num(s.substr(5, 2), m) || !num(s.substr(8, 2), d)) return std::nullopt;
  if (y < 1970) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd}.time_since_epoch().count();
}

Result<std::string> date(const nlohmann::json& j, std::string_view key) {
  if (!j.contains(key)) return std::string();
  const auto& v = j.at(std::string(key));
  if (!v.is_string()) return std::unexpected(bad(key).error());
  std::string s = v.get<std::string>();
  if (!s.empty() && !parse_day(s)) return std::unexpected(bad(key).error());
  return s;
}

bool valid_origin(std::string_view o) {
  if (o.empty() || o == "intake" || o == "import" || o == "synth" || o == "unknown") return true;
  if (!o.starts_with("import:")) return false;
  const auto tool = o.substr(7);
  if (tool.empty() || tool.size() > 32) return false;
  return std::all_of(tool.begin(), tool.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

std::optional<std::int64_t> day_start(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return *parse_day(s) * kDay;
}
std::optional<std::int64_t> day_end(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return (*parse_day(s) + 1) * kDay;
}

// "v1.<created_at>.<id hex>", as the directory's cursors.
std::string encode_cursor(const store::SupporterRow& row) {
  return std::string(kCursorLabel) + std::to_string(row.created_at) + "." + audit::to_hex(row.id);
}

std::optional<store::SupporterPosition> parse_cursor(std::string_view c) {
  if (!c.starts_with(kCursorLabel)) return std::nullopt;
  c.remove_prefix(kCursorLabel.size());
  const auto dot = c.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const auto number = c.substr(0, dot), hex = c.substr(dot + 1);
  std::int64_t at = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), at);
  if (ec != std::errc{} || end != number.data() + number.size() || std::to_string(at) != number) return std::nullopt;
  if (std::any_of(hex.begin(), hex.end(), [](char ch) { return ch >= 'A' && ch <= 'F'; })) return std::nullopt;
  auto id = core::from_hex(hex, 16);
  if (!id) return std::nullopt;
  return store::SupporterPosition{at, std::move(*id)};
}

Result<Segment> to_segment(const store::SegmentRow& row) {
  auto j = nlohmann::json::parse(row.definition, nullptr, false);
  auto d = j.is_discarded() ? Result<SegmentDefinition>(std::unexpected(Error{Errc::invalid_input, ""}))
                            : parse_segment_definition(j);
  if (!d) return fail(Errc::storage, "segment: a stored definition does not validate");
  return Segment{row.name, std::move(*d), row.created_by, row.created_at, row.updated_at};
}

audit::Event event(const Asker& who, std::string_view action, nlohmann::json details) {
  if (!who.session.empty()) details["session"] = who.session;
  return audit::Event{who.actor, std::string(action), "", std::move(details), who.client};
}

Result<std::string> one_tag(std::string_view tag, std::string_view op) {
  auto n = core::normalize_tag(tag);
  if (!n) return fail(Errc::invalid_input, std::string(op) + ": invalid tag");
  return std::move(*n);
}

void replace_in(std::vector<std::string>& tags, const std::string& from, const std::string& to) {
  for (auto& t : tags) {
    if (t == from) t = to;
  }
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
}

}  // namespace

Result<SegmentDefinition> parse_segment_definition(const nlohmann::json& j) {
  if (!j.is_object()) return fail(Errc::invalid_input, "segment: the definition is not an object");
  for (const auto& item : j.items()) {
    if (std::find(std::begin(kKeys), std::end(kKeys), item.key()) == std::end(kKeys)) {
      return fail(Errc::invalid_input, "segment: unknown key in the definition");
    }
  }
  SegmentDefinition d;
  auto all = tag_list(j, "tags_all");
  if (!all) return std::unexpected(all.error());
  auto any = tag_list(j, "tags_any");
  if (!any) return std::unexpected(any.error());
  auto none = tag_list(j, "tags_none");
  if (!none) return std::unexpected(none.error());
  d.tags_all = std::move(*all);
  d.tags_any = std::move(*any);
  d.tags_none = std::move(*none);
  for (auto [key, out] : {std::pair{"email", &d.email}, std::pair{"sms", &d.sms}}) {
    auto v = one_of(j, key, {"any", "given", "refused", "unknown"}, "any");
    if (!v) return std::unexpected(v.error());
    *out = std::move(*v);
  }
  for (auto [key, out] : {std::pair{"signed_up_from", &d.signed_up_from}, std::pair{"signed_up_to", &d.signed_up_to},
                          std::pair{"updated_from", &d.updated_from}, std::pair{"updated_to", &d.updated_to}}) {
    auto v = date(j, key);
    if (!v) return std::unexpected(v.error());
    *out = std::move(*v);
  }
  if (j.contains("origin")) {
    if (!j["origin"].is_string() || !valid_origin(j["origin"].get<std::string>())) {
      return std::unexpected(bad("origin").error());
    }
    d.origin = j["origin"].get<std::string>();
  }
  if (j.contains("place")) {
    if (!j["place"].is_string()) return std::unexpected(bad("place").error());
    std::string_view place = j["place"].get_ref<const std::string&>();
    constexpr std::string_view kSpace = " \t\n\r\v\f";
    place.remove_prefix(std::min(place.find_first_not_of(kSpace), place.size()));
    place.remove_suffix(place.size() - std::min(place.find_last_not_of(kSpace) + 1, place.size()));
    if (!place.empty() && !check_place(place)) return std::unexpected(bad("place").error());
    d.place = std::string(place);
  }
  // Both ends of a range, when given, must not cross: such a segment is a
  // mistake, not an empty set worth saving.
  if (!d.signed_up_from.empty() && !d.signed_up_to.empty() && d.signed_up_to < d.signed_up_from) {
    return std::unexpected(bad("signed_up_to").error());
  }
  if (!d.updated_from.empty() && !d.updated_to.empty() && d.updated_to < d.updated_from) {
    return std::unexpected(bad("updated_to").error());
  }
  return d;
}

nlohmann::json to_json(const SegmentDefinition& d) {
  nlohmann::json j = nlohmann::json::object();
  if (!d.tags_all.empty()) j["tags_all"] = d.tags_all;
  if (!d.tags_any.empty()) j["tags_any"] = d.tags_any;
  if (!d.tags_none.empty()) j["tags_none"] = d.tags_none;
  if (d.email != "any") j["email"] = d.email;
  if (d.sms != "any") j["sms"] = d.sms;
  if (!d.signed_up_from.empty()) j["signed_up_from"] = d.signed_up_from;
  if (!d.signed_up_to.empty()) j["signed_up_to"] = d.signed_up_to;
  if (!d.updated_from.empty()) j["updated_from"] = d.updated_from;
  if (!d.updated_to.empty()) j["updated_to"] = d.updated_to;
  if (!d.origin.empty()) j["origin"] = d.origin;
  if (!d.place.empty()) j["place"] = d.place;
  return j;
}

Result<store::SegmentFilter> segment_filter(const SegmentDefinition& d, const crypto::KeySet& keys) {
  store::SegmentFilter f;
  if (!d.place.empty()) {
    auto groups = place_query(keys, d.place);
    if (!groups || groups->size() != 1 || groups->front().empty()) {
      return fail(Errc::invalid_input, "segment: invalid place");
    }
    f.place_tokens = std::move(groups->front());
  }
  f.tags_all = d.tags_all;
  f.tags_any = d.tags_any;
  f.tags_none = d.tags_none;
  f.email = d.email == "any" ? "" : d.email;
  f.sms = d.sms == "any" ? "" : d.sms;
  f.signed_from = day_start(d.signed_up_from);
  f.signed_before = day_end(d.signed_up_to);
  f.updated_from = day_start(d.updated_from);
  f.updated_before = day_end(d.updated_to);
  f.origin = d.origin;
  return f;
}

bool valid_segment_name(std::string_view name) {
  // "new" and "count" name console addresses beside the segments'.
  if (name.empty() || name.size() > kMaxNameBytes || name == "new" || name == "count") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

ShownCount shown(std::int64_t exact) noexcept {
  if (exact < kSmallCount) return ShownCount{0, true};
  return ShownCount{exact, false};
}

Segments::Segments(store::KeeperStore& store, const crypto::KeeperKeyring& keys) : store_(&store), keys_(&keys) {}

Result<std::vector<Segment>> Segments::list() {
  auto rows = store_->segments();
  if (!rows) return std::unexpected(rows.error());
  std::vector<Segment> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) {
    auto s = to_segment(r);
    if (!s) return std::unexpected(s.error());
    out.push_back(std::move(*s));
  }
  return out;
}

Result<std::optional<Segment>> Segments::find(std::string_view name) {
  if (!valid_segment_name(name)) return fail(Errc::invalid_input, "segment: invalid name");
  auto row = store_->find_segment(std::string(name));
  if (!row) return std::unexpected(row.error());
  if (!*row) return std::optional<Segment>{};
  auto s = to_segment(**row);
  if (!s) return std::unexpected(s.error());
  return std::optional<Segment>{std::move(*s)};
}

Result<void> Segments::save(const Asker& who, std::string_view name, const SegmentDefinition& d, bool replace) {
  if (!valid_segment_name(name)) return fail(Errc::invalid_input, "segment: invalid name");
  // Through the JSON form once more: what is stored is what a load accepts.
  auto checked = parse_segment_definition(to_json(d));
  if (!checked) return std::unexpected(checked.error());
  const std::string text = to_json(*checked).dump();
  const std::int64_t now = unix_now();
  return store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    store::SegmentRow row{0, std::string(name), text, who.actor, now, now};
    if (replace) {
      if (auto r = tx.update_segment(row); !r) return r;
    } else {
      auto id = tx.insert_segment(row);
      if (!id) return std::unexpected(id.error());
    }
    nlohmann::json details = {
        {"name", name}, {"change", replace ? "changed" : "created"}, {"definition", to_json(*checked)}};
    auto e = audit::record(tx, *keys_, event(who, audit::action::segment_save, std::move(details)));
    if (!e) return std::unexpected(e.error());
    return {};
  });
}

Result<void> Segments::remove(const Asker& who, std::string_view name) {
  if (!valid_segment_name(name)) return fail(Errc::invalid_input, "segment: invalid name");
  return store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto gone = tx.delete_segment(std::string(name));
    if (!gone) return std::unexpected(gone.error());
    if (!*gone) return fail(Errc::not_found, "segment: no such segment");
    auto e = audit::record(tx, *keys_, event(who, audit::action::segment_delete, {{"name", name}}));
    if (!e) return std::unexpected(e.error());
    return {};
  });
}

Result<std::int64_t> Segments::count(const SegmentDefinition& d) {
  auto filter = segment_filter(d, keys_->current());
  if (!filter) return std::unexpected(filter.error());
  return store_->count_segment(*filter);
}

Result<SegmentIdPage> Segments::ids(const SegmentDefinition& d, std::string_view cursor, std::size_t limit) {
  if (limit < 1 || limit > kMaxIdsPage) return fail(Errc::invalid_input, "segment: limit out of 1..1000");
  store::SupporterPageQuery q;
  if (!cursor.empty()) {
    auto pos = parse_cursor(cursor);
    if (!pos) return fail(Errc::invalid_input, "segment: invalid cursor");
    q.after = std::move(*pos);
  }
  q.limit = limit + 1;
  auto filter = segment_filter(d, keys_->current());
  if (!filter) return std::unexpected(filter.error());
  auto page = store_->segment_page(*filter, q, false);
  if (!page) return std::unexpected(page.error());
  SegmentIdPage out;
  const bool more = page->items.size() > limit;
  if (more) page->items.resize(limit);
  for (const auto& item : page->items) out.ids.push_back(item.row.id);
  if (more) out.next_cursor = encode_cursor(page->items.back().row);
  return out;
}

Result<std::int64_t> Segments::bulk_tag(const Asker& who, std::string_view name, std::string_view tag, bool add,
                                        std::int64_t expected) {
  auto clean = one_tag(tag, "bulk_tag");
  if (!clean) return std::unexpected(clean.error());
  auto seg = find(name);
  if (!seg) return std::unexpected(seg.error());
  if (!*seg) return fail(Errc::not_found, "bulk_tag: no such segment");
  auto made = segment_filter((*seg)->definition, keys_->current());
  if (!made) return std::unexpected(made.error());
  const store::SegmentFilter filter = std::move(*made);
  auto now_count = store_->count_segment(filter);
  if (!now_count) return std::unexpected(now_count.error());
  if (*now_count != expected) return fail(Errc::conflict, "bulk_tag: the segment's count changed");

  const std::vector<std::string> tags{*clean};
  std::optional<store::SupporterPosition> after;
  std::int64_t members = 0;
  for (;;) {
    bool last = false;
    auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
      store::SupporterPageQuery q;
      q.after = after;
      q.limit = kBulkChunk;
      auto page = tx.segment_page(filter, q, false);
      if (!page) return std::unexpected(page.error());
      if (page->items.empty()) {
        last = true;
        return {};
      }
      nlohmann::json ids = nlohmann::json::array();
      std::int64_t real = 0;
      for (const auto& item : page->items) {
        auto changed = add ? tx.add_tags(item.row.id, tags, unix_now()) : tx.remove_tags(item.row.id, tags);
        if (!changed) return changed;
        auto honey = tx.is_honeytoken(item.row.id);
        if (!honey) return std::unexpected(honey.error());
        if (!*honey) ++real;
        ids.push_back(audit::to_hex(item.row.id));
      }
      nlohmann::json details = {{"segment", name},
                                {"change", add ? "added" : "removed"},
                                {"tag", *clean},
                                {"count", page->items.size()},
                                {"records", std::move(ids)}};
      auto e = audit::record(tx, *keys_, event(who, audit::action::supporter_tag_bulk, std::move(details)));
      if (!e) return std::unexpected(e.error());
      members += real;
      const auto& tail = page->items.back().row;
      after = store::SupporterPosition{tail.created_at, tail.id};
      last = page->items.size() < kBulkChunk;
      return {};
    });
    if (!r) return std::unexpected(r.error());
    if (last) return members;
    store_->make_way();
  }
}

Result<std::int64_t> Segments::rename_tag(const Asker& who, std::string_view from, std::string_view to, bool merge) {
  const std::string_view op = merge ? "merge_tag" : "rename_tag";
  auto f = one_tag(from, op);
  if (!f) return std::unexpected(f.error());
  auto t = one_tag(to, op);
  if (!t) return std::unexpected(t.error());
  if (*f == *t) return fail(Errc::invalid_input, std::string(op) + ": the same tag");
  std::int64_t held = 0;
  auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    const auto real_count = [&](const std::string& tag) -> Result<std::int64_t> {
      store::SupporterPageQuery q;
      q.tag = tag;
      q.limit = 0;
      auto page = tx.supporter_page(q);
      if (!page) return std::unexpected(page.error());
      return page->total;
    };
    auto before = real_count(*f);
    if (!before) return std::unexpected(before.error());
    if (*before == 0) return fail(Errc::not_found, std::string(op) + ": nobody holds the tag");
    if (!merge) {
      auto taken = real_count(*t);
      if (!taken) return std::unexpected(taken.error());
      if (*taken > 0) return fail(Errc::conflict, std::string(op) + ": the new name is in use");
    }
    auto moved = tx.move_tag(*f, *t, unix_now());
    if (!moved) return std::unexpected(moved.error());
    // Saved segments follow the tag, so none silently stops matching.
    auto rows = tx.segments();
    if (!rows) return std::unexpected(rows.error());
    for (auto& row : *rows) {
      auto seg = to_segment(row);
      if (!seg) return std::unexpected(seg.error());
      SegmentDefinition d = seg->definition;
      replace_in(d.tags_all, *f, *t);
      replace_in(d.tags_any, *f, *t);
      replace_in(d.tags_none, *f, *t);
      if (d == seg->definition) continue;
      row.definition = to_json(d).dump();
      row.updated_at = unix_now();
      if (auto u = tx.update_segment(row); !u) return u;
    }
    nlohmann::json details = {{"from", *f}, {"to", *t}, {"count", *before}};
    auto e = audit::record(tx, *keys_,
                           event(who, merge ? audit::action::tag_merge : audit::action::tag_rename, std::move(details)));
    if (!e) return std::unexpected(e.error());
    held = *before;
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return held;
}

Result<CountAt> CountCache::count(Segments& segs, const SegmentDefinition& d, std::int64_t now) {
  const std::string key = to_json(d).dump();
  {
    std::unique_lock lock(mu_);
    for (;;) {
      Entry& e = entries_[key];
      if (e.last && (now - e.last->counted_at < kCountMaxAge || e.counting)) return *e.last;
      if (!e.counting) break;
      counted_.wait(lock);  // the first count of it, being made: wait for it (or for its failure)
    }
    entries_[key].counting = true;
  }
  auto n = segs.count(d);
  std::lock_guard lock(mu_);
  Entry& e = entries_[key];
  e.counting = false;
  if (n) e.last = CountAt{*n, now};
  CountAt made = e.last.value_or(CountAt{});
  // Definitions edited or deleted leave their entries behind: a bound, then a fresh start.
  if (entries_.size() > 1000) entries_.clear();
  counted_.notify_all();
  if (!n) return std::unexpected(n.error());
  return made;
}

}  // namespace rempart::services
