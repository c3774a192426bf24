// The console's export routes (docs/exports.md): request a bulk export (of
// every supporter, a tag's or a saved segment's members) with a fresh code,
// another admin's approval, and the requester's download of the sealed
// file. The work and its rules are services::Exports'.

#include "console/console_internal.hpp"
#include "i18n/i18n.hpp"
#include "services/segments.hpp"

namespace rempart::console::detail {

namespace {

std::string account_hex(const Principal& p) { return p.session.account_id; }

nlohmann::json export_json(const services::ExportRequest& r) {
  nlohmann::json fields = nlohmann::json::array();
  for (const auto k : r.fields) fields.push_back(services::field_kind_name(k));
  return {{"id", r.id},
          {"requester", r.requester},
          {"tag", r.tag},
          {"segment", r.segment},
          {"fields", std::move(fields)},
          {"reason", r.reason},
          {"status", r.status},
          {"created_at", r.created_at},
          {"expires_at", r.expires_at},
          {"approver", r.approver},
          {"approved_at", r.approved_at ? nlohmann::json(*r.approved_at) : nlohmann::json(nullptr)},
          {"rows", r.rows}};
}

// A JSON member that must be a string when present; "" when absent.
std::optional<std::string> optional_text(const nlohmann::json& body, const char* key) {
  if (!body.contains(key)) return std::string();
  if (!body[key].is_string()) return std::nullopt;
  return body[key].get<std::string>();
}

}  // namespace

Response get_exports(Call& c) {
  auto all = c.w.exports->list(auth::permits(c.who->role, auth::Action::approve_export) ? "" : account_hex(*c.who));
  if (!all) return failure(c, all.error());
  if (c.route.kind == Kind::api) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& r : *all) items.push_back(export_json(r));
    return json_answer(bhttp::status::ok, {{"items", std::move(items)}});
  }
  auto tags = c.w.directory->tags();
  if (!tags) return failure(c, tags.error());
  auto saved = segments_of(c).list();
  if (!saved) return failure(c, saved.error());
  std::vector<std::string> segments;
  for (const auto& s : *saved) segments.push_back(s.name);
  const auto done = query_param(c.req.target(), "done").value_or("");
  const std::string notice = done == "requested"  ? i18n::tr("Requested. Another admin must approve it.")
                             : done == "approved" ? i18n::tr("Approved: the requester can now download the file.")
                                                  : "";
  return html(bhttp::status::ok, exports_page(c.viewer(), account_hex(*c.who), *all, *tags, segments, notice));
}

// Page: the form's `tag` or `segment`, `field` (repeated), `reason` and
// `code`. API: {"tag" or "segment", "fields": [...], "reason", "code"}.
Response post_export_request(Call& c) {
  std::vector<services::FieldKind> fields;
  std::string tag, segment, reason, code;
  if (c.route.kind == Kind::api) {
    const auto& b = c.body;
    auto t = optional_text(b, "tag"), s = optional_text(b, "segment"), r = optional_text(b, "reason"),
         k = optional_text(b, "code");
    if (!t || !s || !r || !k || !b.contains("fields") || !b["fields"].is_array()) {
      return problem(c, problem_of(Errc::invalid_input));
    }
    for (const auto& f : b["fields"]) {
      auto kind = f.is_string() ? services::parse_field_kind(f.get<std::string>()) : std::nullopt;
      if (!kind) return problem(c, problem_of(Errc::invalid_input));
      fields.push_back(*kind);
    }
    tag = std::move(*t);
    segment = std::move(*s);
    reason = std::move(*r);
    code = std::move(*k);
  } else {
    for (const auto& [k, v] : c.form.pairs) {
      if (k != "field") continue;
      auto f = services::parse_field_kind(v);
      if (!f) return problem(c, problem_of(Errc::invalid_input));
      fields.push_back(*f);
    }
    tag = c.form.get("tag").value_or("");
    segment = c.form.get("segment").value_or("");
    reason = c.form.get("reason").value_or("");
    code = code_of(c);
  }
  if (auto r = c.w.accounts->require_step_up(account_hex(*c.who), code); !r) return failure(c, r.error());
  auto id = c.w.exports->request(c.asker(), account_hex(*c.who), tag, fields, reason, segment);
  if (!id) return failure(c, id.error());
  notify(c, "export_requested", "a bulk export was requested", {{"export", *id}});
  if (c.route.kind == Kind::api) return json_answer(bhttp::status::created, {{"id", *id}, {"status", "pending"}});
  return redirect("/exports?done=requested");
}

Response post_export_approve(Call& c) {
  const std::int64_t id = number_param(c);
  auto r = c.w.exports->approve(c.asker(), account_hex(*c.who), id, *c.w.accounts, code_of(c));
  if (!r) return failure(c, r.error());
  notify(c, "export_approved", "a bulk export was approved and written",
         {{"export", id}, {"rows", r->rows}, {"requester", r->requester}});
  return redirect("/exports?done=approved");
}

Response get_export_download(Call& c) {
  const std::int64_t id = number_param(c);
  auto bytes = c.w.exports->download(c.asker(), account_hex(*c.who), id);
  if (!bytes) return failure(c, bytes.error());
  auto res = base(bhttp::status::ok);
  res.set(bhttp::field::content_type, "application/octet-stream");
  res.set(bhttp::field::content_disposition, "attachment; filename=\"rempart-export-" + c.params[0] + ".rmpx\"");
  res.body() = std::move(*bytes);
  return res;
}

}  // namespace rempart::console::detail
