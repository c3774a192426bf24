// The console's segment routes, as pages and as /api/v1/: saved segments
// and their counts, building and saving one, its masked members, a tag
// added or removed for every member (after a confirmation that shows the
// count), and a tag renamed or merged. What is counted, changed and
// audited comes from services::Segments; members are listed through
// services::Directory like every masked list.
#include <charconv>
#include <memory>

#include "console/console_internal.hpp"
#include "console/segment_pages.hpp"
#include "core/validate.hpp"
#include "i18n/i18n.hpp"
#include "services/segments.hpp"

namespace rempart::console::detail {

using i18n::tr;
using i18n::trnf;

services::Segments& segments_of(Call& c) {
  // One per worker, made on first use: it holds only the worker's store.
  if (!c.w.segments) c.w.segments = std::make_unique<services::Segments>(*c.w.store, c.impl.keys);
  return *c.w.segments;
}

namespace {

nlohmann::json count_json(std::int64_t exact) {
  const auto n = services::shown(exact);
  if (n.fewer) return {{"supporters", nullptr}, {"fewer_than", services::kSmallCount}};
  return {{"supporters", n.supporters}};
}

nlohmann::json segment_json(const services::Segment& s) {
  return {{"name", s.name},
          {"definition", services::to_json(s.definition)},
          {"created_at", s.created_at},
          {"updated_at", s.updated_at}};
}

// "a, b ,c" -> ["a", "b", "c"] (tags never hold a comma); empty parts dropped.
nlohmann::json split_tags(std::string_view text) {
  nlohmann::json out = nlohmann::json::array();
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    while (!part.empty() && (part.front() == ' ' || part.front() == '\t')) part.remove_prefix(1);
    while (!part.empty() && (part.back() == ' ' || part.back() == '\t')) part.remove_suffix(1);
    if (!part.empty()) out.push_back(std::string(part));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return out;
}

// The builder form's fields as a definition's JSON (validated by the service).
nlohmann::json form_definition(const Call& c) {
  nlohmann::json j = nlohmann::json::object();
  for (const char* key : {"tags_all", "tags_any", "tags_none"}) {
    auto tags = split_tags(c.form.get(key).value_or(""));
    if (!tags.empty()) j[key] = std::move(tags);
  }
  for (const char* key :
       {"email", "sms", "signed_up_from", "signed_up_to", "updated_from", "updated_to", "origin", "place"}) {
    if (auto v = c.form.get(key); v && !v->empty()) j[key] = *v;
  }
  return j;
}

// What the builder form shows again after a refusal: the typed tag lists
// and place, each kept only if it validates on its own (then echoed escaped).
services::SegmentDefinition echo_definition(const Call& c) {
  services::SegmentDefinition tags;
  const auto list = [&](const char* key) {
    std::vector<std::string> out;
    for (const auto& t : split_tags(c.form.get(key).value_or(""))) out.push_back(t.get<std::string>());
    return out;
  };
  tags.tags_all = list("tags_all");
  tags.tags_any = list("tags_any");
  tags.tags_none = list("tags_none");
  services::SegmentDefinition d;
  if (auto ok = services::parse_segment_definition(services::to_json(tags))) d = std::move(*ok);
  if (auto place = c.form.get("place"); place && !place->empty()) {
    if (auto ok = services::parse_segment_definition(nlohmann::json{{"place", *place}})) d.place = ok->place;
  }
  return d;
}

// Fixed words for a refused definition (the service's message names the key).
std::string definition_message(const Error& e) {
  for (const char* key : {"tags_all", "tags_any", "tags_none"}) {
    if (e.internal.ends_with(key)) {
      return tr("A tag list holds a tag that is not valid (up to 10 tags, 64 characters each).");
    }
  }
  if (e.internal.find("signed_up") != std::string::npos || e.internal.find("updated") != std::string::npos) {
    return tr("A date is not valid, or a range ends before it starts.");
  }
  if (e.internal.ends_with("place")) {
    return tr("The place is not valid: one postcode, département, region or town, up to 100 characters.");
  }
  return tr("Something in the segment is not valid.");
}

std::optional<std::int64_t> whole_number(std::string_view text) {
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || p != text.data() + text.size() || v < 0) return std::nullopt;
  return v;
}

Result<std::string> core_tag(std::string_view t) {
  auto n = core::normalize_tag(t);
  if (!n) return fail(Errc::invalid_input, "segment: invalid tag");
  return std::move(*n);
}

Response segment_view(Call& c, const std::string& name, std::string_view notice) {
  auto& segs = segments_of(c);
  auto s = segs.find(name);
  if (!s) return failure(c, s.error());
  if (!*s) return problem(c, problem_of(Errc::not_found));
  auto n = segs.count((*s)->definition);
  if (!n) return failure(c, n.error());
  if (c.route.kind == Kind::api) {
    auto j = segment_json(**s);
    j.update(count_json(*n));
    return json_answer(bhttp::status::ok, j);
  }
  return html(bhttp::status::ok, segment_page(c.viewer(), **s, services::shown(*n), notice));
}

}  // namespace

Response get_segments(Call& c) {
  auto& segs = segments_of(c);
  auto all = segs.list();
  if (!all) return failure(c, all.error());
  std::vector<SegmentLine> lines;
  nlohmann::json items = nlohmann::json::array();
  const std::int64_t now = unix_now();
  for (auto& s : *all) {
    auto n = c.impl.segment_counts.count(segs, s.definition, now);
    if (!n) return failure(c, n.error());
    if (c.route.kind == Kind::api) {
      auto j = segment_json(s);
      j.update(count_json(n->supporters));
      j["counted_at"] = n->counted_at;
      items.push_back(std::move(j));
    } else {
      lines.push_back(SegmentLine{std::move(s), services::shown(n->supporters), n->counted_at});
    }
  }
  if (c.route.kind == Kind::api) return json_answer(bhttp::status::ok, {{"items", items}});
  return html(bhttp::status::ok, segments_page(c.viewer(), lines, ""));
}

Response get_segment_new(Call& c) { return html(bhttp::status::ok, segment_form_page(c.viewer(), SegmentForm{})); }

Response get_segment(Call& c) { return segment_view(c, c.params.at(0), ""); }

Response get_segment_edit(Call& c) {
  auto s = segments_of(c).find(c.params.at(0));
  if (!s) return failure(c, s.error());
  if (!*s) return problem(c, problem_of(Errc::not_found));
  SegmentForm f;
  f.name = (*s)->name;
  f.definition = (*s)->definition;
  f.replace = true;
  return html(bhttp::status::ok, segment_form_page(c.viewer(), f));
}

// Page: the builder's two buttons, op=count (the form again with its count)
// and op=save. API: {name, definition, replace} saves.
Response post_segments(Call& c) {
  auto& segs = segments_of(c);
  if (c.route.kind == Kind::api) {
    if (!c.body.contains("name") || !c.body["name"].is_string() || !c.body.contains("definition") ||
        (c.body.contains("replace") && !c.body["replace"].is_boolean())) {
      return problem(c, problem_of(Errc::invalid_input));
    }
    auto d = services::parse_segment_definition(c.body["definition"]);
    if (!d) return problem(c, problem_of(Errc::invalid_input));
    const std::string name = c.body["name"].get<std::string>();
    if (auto r = segs.save(c.asker(), name, *d, c.body.value("replace", false)); !r) return failure(c, r.error());
    return segment_view(c, name, "");
  }
  SegmentForm f;
  f.replace = c.form.get("replace").value_or("") == "1";
  f.name = c.form.get("name").value_or("");
  const std::string op = c.form.get("op").value_or("");
  auto d = services::parse_segment_definition(form_definition(c));
  if (!d) {
    f.definition = echo_definition(c);
    f.message = definition_message(d.error());
    if (!services::valid_segment_name(f.name)) f.name.clear();
    return html(bhttp::status::bad_request, segment_form_page(c.viewer(), f));
  }
  f.definition = *d;
  if (op == "count") {
    if (!services::valid_segment_name(f.name)) f.name.clear();
    auto n = segs.count(*d);
    if (!n) return failure(c, n.error());
    f.count = services::shown(*n);
    return html(bhttp::status::ok, segment_form_page(c.viewer(), f));
  }
  if (op != "save") return problem(c, problem_of(Errc::invalid_input));
  if (!services::valid_segment_name(f.name)) {
    f.name.clear();
    f.message = tr("Give the segment a name: lower-case letters, digits, - and _, up to 48 (not \"new\" or \"count\").");
    return html(bhttp::status::bad_request, segment_form_page(c.viewer(), f));
  }
  if (auto r = segs.save(c.asker(), f.name, *d, f.replace); !r) {
    if (r.error().code == Errc::conflict) {
      f.message = tr("A segment of that name exists. Choose another name, or change that segment from its page.");
      return html(bhttp::status::conflict, segment_form_page(c.viewer(), f));
    }
    return failure(c, r.error());
  }
  return redirect("/segments/" + f.name);
}

// API: the count of a definition that need not be saved.
Response post_segment_count(Call& c) {
  if (!c.body.contains("definition")) return problem(c, problem_of(Errc::invalid_input));
  auto d = services::parse_segment_definition(c.body["definition"]);
  if (!d) return problem(c, problem_of(Errc::invalid_input));
  auto n = segments_of(c).count(*d);
  if (!n) return failure(c, n.error());
  return json_answer(bhttp::status::ok, count_json(*n));
}

Response post_segment_delete(Call& c) {
  if (auto r = segments_of(c).remove(c.asker(), c.params.at(0)); !r) return failure(c, r.error());
  if (c.route.kind == Kind::api) return json_answer(bhttp::status::ok, {{"ok", true}});
  return redirect("/segments");
}

// Page: without `confirm`, the confirmation with the exact count; with it
// (the count confirmed), the change. API: {"add"|"remove": tag, "count": n};
// without "count" it answers the count to confirm and changes nothing.
Response post_segment_tags(Call& c) {
  auto& segs = segments_of(c);
  const std::string name = c.params.at(0);
  std::string tag;
  bool add = true;
  std::optional<std::int64_t> confirmed;
  if (c.route.kind == Kind::api) {
    const bool has_add = c.body.contains("add"), has_remove = c.body.contains("remove");
    if (has_add == has_remove) return problem(c, problem_of(Errc::invalid_input));
    const auto& t = c.body[has_add ? "add" : "remove"];
    if (!t.is_string()) return problem(c, problem_of(Errc::invalid_input));
    tag = t.get<std::string>();
    add = has_add;
    if (c.body.contains("count")) {
      if (!c.body["count"].is_number_integer()) return problem(c, problem_of(Errc::invalid_input));
      confirmed = c.body["count"].get<std::int64_t>();
    }
  } else {
    tag = c.form.get("tag").value_or("");
    const std::string change = c.form.get("change").value_or("");
    if (change != "add" && change != "remove") return problem(c, problem_of(Errc::invalid_input));
    add = change == "add";
    if (auto k = c.form.get("confirm")) {
      confirmed = whole_number(*k);
      if (!confirmed) return problem(c, problem_of(Errc::invalid_input));
    }
  }
  auto normal = core_tag(tag);
  if (!normal) return failure(c, normal.error());
  auto s = segs.find(name);
  if (!s) return failure(c, s.error());
  if (!*s) return problem(c, problem_of(Errc::not_found));
  if (!confirmed) {
    auto n = segs.count((*s)->definition);
    if (!n) return failure(c, n.error());
    if (c.route.kind == Kind::api) {
      return json_answer(bhttp::status::ok, {{"segment", name}, {"tag", *normal}, {"count", *n}, {"done", false}});
    }
    return html(bhttp::status::ok, bulk_confirm_page(c.viewer(), name, *normal, add, *n));
  }
  auto done = segs.bulk_tag(c.asker(), name, *normal, add, *confirmed);
  if (!done) {
    if (done.error().code == Errc::conflict) {
      if (c.route.kind == Kind::api) return json_answer(bhttp::status::conflict, {{"error", "count_changed"}});
      return segment_view(c, name, tr("The segment changed since you confirmed: nothing was done. Check the count "
                                      "and try again."));
    }
    return failure(c, done.error());
  }
  if (c.route.kind == Kind::api) {
    return json_answer(bhttp::status::ok, {{"segment", name}, {"tag", *normal}, {"count", *done}, {"done", true}});
  }
  return segment_view(c, name,
                      add ? trnf("Added the tag for {} supporter.", "Added the tag for {} supporters.", *done,
                                 i18n::number(*done))
                          : trnf("Removed the tag for {} supporter.", "Removed the tag for {} supporters.", *done,
                                 i18n::number(*done)));
}

// Page: rename or merge, after a confirmation with the count. API: {from,
// to, merge} does it at once and answers the count.
Response post_tag_rename(Call& c) {
  std::string from, to;
  bool merge = false, confirm = false;
  if (c.route.kind == Kind::api) {
    if (!c.body.contains("from") || !c.body["from"].is_string() || !c.body.contains("to") || !c.body["to"].is_string() ||
        (c.body.contains("merge") && !c.body["merge"].is_boolean())) {
      return problem(c, problem_of(Errc::invalid_input));
    }
    from = c.body["from"].get<std::string>();
    to = c.body["to"].get<std::string>();
    merge = c.body.value("merge", false);
    confirm = true;
  } else {
    from = c.form.get("from").value_or("");
    to = c.form.get("to").value_or("");
    const std::string op = c.form.get("op").value_or("");
    if (op != "rename" && op != "merge") return problem(c, problem_of(Errc::invalid_input));
    merge = op == "merge";
    confirm = c.form.get("confirm").value_or("") == "1";
  }
  auto f = core_tag(from);
  if (!f) return failure(c, f.error());
  auto t = core_tag(to);
  if (!t) return failure(c, t.error());
  if (*f == *t) return problem(c, problem_of(Errc::invalid_input));
  if (!confirm) {
    std::int64_t held = 0;
    auto tags = c.w.directory->tags();
    if (!tags) return failure(c, tags.error());
    for (const auto& x : *tags) {
      if (x.tag == *f) held = x.supporters;
    }
    if (held == 0) return problem(c, problem_of(Errc::not_found));
    return html(bhttp::status::ok, tag_confirm_page(c.viewer(), *f, *t, merge, held));
  }
  auto n = segments_of(c).rename_tag(c.asker(), *f, *t, merge);
  if (!n) {
    if (n.error().code == Errc::conflict && c.route.kind == Kind::page) {
      return problem(c, {bhttp::status::conflict, "tag_in_use", tr("The new name is in use"),
                         tr("Another tag already has this name. Merge into it instead, or choose another name.")});
    }
    if (n.error().code == Errc::conflict) return json_answer(bhttp::status::conflict, {{"error", "tag_in_use"}});
    return failure(c, n.error());
  }
  if (c.route.kind == Kind::api) {
    return json_answer(bhttp::status::ok, {{"from", *f}, {"to", *t}, {"merged", merge}, {"count", *n}});
  }
  return redirect("/tags");
}

Result<services::MaskedPage> segment_member_page(Call& c, const std::string& name, services::ListQuery q) {
  auto s = segments_of(c).find(name);
  if (!s) return std::unexpected(s.error());
  if (!*s) return fail(Errc::not_found, "segment: no such segment");
  auto made = services::segment_filter((*s)->definition, c.impl.keys.current());
  if (!made) return std::unexpected(made.error());
  const store::SegmentFilter filter = std::move(*made);
  q.segment = &filter;
  q.segment_name = name;
  return c.w.directory->list(c.asker(), q);
}

}  // namespace rempart::console::detail
