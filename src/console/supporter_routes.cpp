// The console's supporter routes, as pages and as /api/v1/: the masked
// list, exact search, a masked record, the per-field reveal, tags, and
// /api/v1/me. What is shown and audited comes from services::Directory.
#include <charconv>

#include "console/console_internal.hpp"
#include "console/segment_pages.hpp"

namespace rempart::console::detail {

using i18n::tr;

namespace {

const char* state(bool yes, bool refused) { return yes ? "yes" : refused ? "no" : "unknown"; }

nlohmann::json to_json(const services::MaskedSupporter& m) {
  return {{"id", m.id},           {"name", m.name},
          {"email", m.email},     {"phone", m.phone},
          {"street", m.street},   {"postal_code", m.postal_code}, {"locality", m.locality},
          {"country", m.country}, {"tags", m.tags},
          {"consent_email", m.consent_email}, {"consent_sms", m.consent_sms},
          {"consent_state", {{"email", state(m.consent_email, m.consent_email_refused)},
                             {"sms", state(m.consent_sms, m.consent_sms_refused)}}},
          {"created_at", m.created_at}, {"updated_at", m.updated_at}};
}

services::ListQuery list_query(const Call& c) {
  services::ListQuery q;
  q.tag = query_param(c.req.target(), "tag").value_or("");
  q.cursor = query_param(c.req.target(), "cursor").value_or("");
  if (auto l = query_param(c.req.target(), "limit")) {
    std::size_t n = 0;
    const auto [p, ec] = std::from_chars(l->data(), l->data() + l->size(), n);
    q.limit = (ec == std::errc{} && p == l->data() + l->size()) ? n : 0;  // 0 is refused by the directory
  }
  return q;
}

}  // namespace

Response get_supporters(Call& c) {
  const auto q = list_query(c);
  const auto segment = query_param(c.req.target(), "segment");
  auto page = segment ? segment_member_page(c, *segment, q) : c.w.directory->list(c.asker(), q);
  if (!page) return failure(c, page.error());
  if (c.route.kind == Kind::api) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& m : page->items) items.push_back(to_json(m));
    return json_answer(bhttp::status::ok, {{"items", items}, {"next_cursor", page->next_cursor}, {"total", page->total}});
  }
  if (segment) return html(bhttp::status::ok, segment_members_page(c.viewer(), *page, *segment));
  auto tags = c.w.directory->tags();
  if (!tags) return failure(c, tags.error());
  return html(bhttp::status::ok, supporters_page(c.viewer(), *page, q.tag, *tags));
}

Response get_search(Call& c) { return html(bhttp::status::ok, search_page(c.viewer(), {}, false, "")); }

namespace {

// A name and place search: the API's kinds "name" and "place" (with the
// other one optional beside it, "place" or "name"), the console's "find".
Response find(Call& c, services::FindQuery q) {
  const bool api = c.route.kind == Kind::api;
  auto found = c.w.directory->find(c.asker(), q);
  if (!found) {
    if (found.error().code == Errc::invalid_input && !api) {
      return html(bhttp::status::bad_request,
                  search_page(c.viewer(), {}, false,
                              tr("Type a name, a place or both: whole words (at most 5 in a name), up to 100 "
                                 "characters each.")));
    }
    return failure(c, found.error());
  }
  if (api) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& m : found->items) items.push_back(to_json(m));
    return json_answer(bhttp::status::ok,
                       {{"items", items},
                        {"next_cursor", found->next_cursor},
                        {"total", found->total},
                        {"total_capped", found->total_capped}});
  }
  return html(bhttp::status::ok, find_page(c.viewer(), *found, q.name, q.place));
}

// An optional string member of the API's body; false when present and not
// a string.
bool optional_string(const nlohmann::json& body, const char* key, std::string& out) {
  if (!body.contains(key)) return true;
  if (!body[key].is_string()) return false;
  out = body[key].get<std::string>();
  return true;
}

}  // namespace

Response post_search(Call& c) {
  std::string kind, value;
  if (c.route.kind == Kind::api) {
    if (!c.body.contains("kind") || !c.body["kind"].is_string() || !c.body.contains("value") ||
        !c.body["value"].is_string()) {
      return problem(c, problem_of(Errc::invalid_input));
    }
    kind = c.body["kind"].get<std::string>();
    value = c.body["value"].get<std::string>();
    if (kind == "name" || kind == "place") {
      services::FindQuery q;
      (kind == "name" ? q.name : q.place) = value;
      if (!optional_string(c.body, kind == "name" ? "place" : "name", kind == "name" ? q.place : q.name) ||
          !optional_string(c.body, "cursor", q.cursor)) {
        return problem(c, problem_of(Errc::invalid_input));
      }
      if (c.body.contains("limit")) {
        if (!c.body["limit"].is_number_unsigned()) return problem(c, problem_of(Errc::invalid_input));
        q.limit = c.body["limit"].get<std::size_t>();
      }
      return find(c, std::move(q));
    }
  } else {
    kind = c.form.get("kind").value_or("");
    value = c.form.get("q").value_or("");
    if (kind == "find") {
      services::FindQuery q;
      q.name = c.form.get("name").value_or("");
      q.place = c.form.get("place").value_or("");
      q.cursor = c.form.get("cursor").value_or("");
      return find(c, std::move(q));
    }
  }
  auto found = c.w.directory->search(c.asker(), kind, value, c.impl.opt.default_region);
  if (!found) {
    if (found.error().code == Errc::invalid_input && c.route.kind == Kind::page) {
      return html(bhttp::status::bad_request,
                  search_page(c.viewer(), {}, false, tr("That is not a valid e-mail address or phone number.")));
    }
    return failure(c, found.error());
  }
  if (c.route.kind == Kind::api) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& m : *found) items.push_back(to_json(m));
    return json_answer(bhttp::status::ok, {{"items", items}});
  }
  return html(bhttp::status::ok, search_page(c.viewer(), *found, true, ""));
}

Response show_record(Call& c, const std::vector<services::RevealedField>& revealed, std::string_view message,
                     bhttp::status status) {
  auto rec = c.w.directory->record(c.asker(), c.params.at(0));
  if (!rec) return failure(c, rec.error());
  if (!*rec) return problem(c, problem_of(Errc::not_found));
  if (c.route.kind == Kind::api) {
    nlohmann::json j = to_json(**rec);
    nlohmann::json log = nlohmann::json::array();
    for (const auto& e : record_work_of(c, (*rec)->id).consent_log) {
      log.push_back({{"channel", e.channel}, {"choice", e.choice}, {"at", e.at}, {"source", e.source}});
    }
    j["consent_log"] = std::move(log);
    return json_answer(status, j);
  }
  auto work = record_work(c, (*rec)->id);
  if (!work) return failure(c, work.error());
  return html(status, record_page(c.viewer(), **rec, revealed, message, *work));
}

Response get_record(Call& c) { return show_record(c, {}, done_notice(c)); }

Response post_reveal(Call& c) {
  std::vector<services::FieldKind> kinds;
  std::string reason;
  if (c.route.kind == Kind::api) {
    if (!c.body.contains("fields") || !c.body["fields"].is_array() || !c.body.contains("reason") ||
        !c.body["reason"].is_string()) {
      return problem(c, problem_of(Errc::invalid_input));
    }
    for (const auto& f : c.body["fields"]) {
      auto k = f.is_string() ? services::parse_field_kind(f.get<std::string>()) : std::nullopt;
      if (!k) return problem(c, problem_of(Errc::invalid_input));
      kinds.push_back(*k);
    }
    reason = c.body["reason"].get<std::string>();
  } else {
    for (const auto& [name, value] : c.form.pairs) {
      if (name != "kind") continue;
      auto k = services::parse_field_kind(value);
      if (!k) return problem(c, problem_of(Errc::invalid_input));
      kinds.push_back(*k);
    }
    reason = c.form.get("reason").value_or("");
    if (kinds.empty()) return show_record(c, {}, tr("Tick the fields to reveal."));
  }
  auto shown = c.w.directory->reveal(c.asker(), c.params.at(0), kinds, reason);
  if (!shown) {
    if (shown.error().code == Errc::invalid_input && c.route.kind == Kind::page) {
      return show_record(c, {}, tr("Give a short reason (up to 200 characters, no personal data) to reveal a field."));
    }
    return failure(c, shown.error());
  }
  if (!*shown) return problem(c, problem_of(Errc::not_found));
  if (c.route.kind == Kind::api) {
    nlohmann::json fields = nlohmann::json::object();
    for (const auto& f : **shown) fields[std::string(services::field_kind_name(f.kind))] = f.value;
    return json_answer(bhttp::status::ok, {{"id", c.params.at(0)}, {"fields", fields}});
  }
  return show_record(c, **shown, "");
}

Response post_tags(Call& c) {
  std::vector<std::string> add, remove;
  if (c.route.kind == Kind::api) {
    for (const char* key : {"add", "remove"}) {
      if (!c.body.contains(key)) continue;
      if (!c.body[key].is_array()) return problem(c, problem_of(Errc::invalid_input));
      for (const auto& t : c.body[key]) {
        if (!t.is_string()) return problem(c, problem_of(Errc::invalid_input));
        (std::string_view(key) == "add" ? add : remove).push_back(t.get<std::string>());
      }
    }
  } else {
    if (auto a = c.form.get("add")) add.push_back(*a);
    if (auto r = c.form.get("remove")) remove.push_back(*r);
  }
  if (add.empty() && remove.empty()) return problem(c, problem_of(Errc::invalid_input));
  if (!add.empty()) {
    if (auto r = c.w.directory->add_tags(c.asker(), c.params.at(0), add); !r) return failure(c, r.error());
  }
  if (!remove.empty()) {
    if (auto r = c.w.directory->remove_tags(c.asker(), c.params.at(0), remove); !r) return failure(c, r.error());
  }
  if (c.route.kind == Kind::api) return json_answer(bhttp::status::ok, {{"ok", true}});
  return redirect("/supporters/" + c.params.at(0));
}

Response get_tags(Call& c) {
  auto tags = c.w.directory->tags();
  if (!tags) return failure(c, tags.error());
  if (c.route.kind == Kind::api) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& t : *tags) items.push_back({{"tag", t.tag}, {"supporters", t.supporters}});
    return json_answer(bhttp::status::ok, {{"items", items}});
  }
  return html(bhttp::status::ok, tags_page(c.viewer(), *tags));
}

Response get_me(Call& c) {
  nlohmann::json j = {{"actor", c.who->actor}, {"name", c.who->name}};
  if (c.who->via_token) {
    j["scope"] = auth::scope_name(c.who->scope);
  } else {
    j["role"] = auth::role_name(c.who->role);
    j["csrf_token"] = c.who->session.csrf_token.text();  // the response body is the edge
  }
  return json_answer(bhttp::status::ok, j);
}

}  // namespace rempart::console::detail
