// The console's export routes (docs/exports.md): request a bulk export (of
// every supporter, a tag's or a saved segment's members) with a fresh code,
// another admin's approval, and the requester's download of the sealed
// file. The work and its rules are services::Exports'.

#include "console/console_internal.hpp"
#include "services/segments.hpp"

namespace rempart::console::detail {

namespace {

std::string account_hex(const Principal& p) { return p.session.account_id; }

}  // namespace

Response get_exports(Call& c) {
  auto all = c.w.exports->list(auth::permits(c.who->role, auth::Action::approve_export) ? "" : account_hex(*c.who));
  if (!all) return failure(c, all.error());
  auto tags = c.w.directory->tags();
  if (!tags) return failure(c, tags.error());
  auto saved = segments_of(c).list();
  if (!saved) return failure(c, saved.error());
  std::vector<std::string> segments;
  for (const auto& s : *saved) segments.push_back(s.name);
  const auto done = query_param(c.req.target(), "done").value_or("");
  const std::string notice = done == "requested"  ? "Requested. Another admin must approve it."
                             : done == "approved" ? "Approved: the requester can now download the file."
                                                  : "";
  return html(bhttp::status::ok, exports_page(c.viewer(), account_hex(*c.who), *all, *tags, segments, notice));
}

Response post_export_request(Call& c) {
  std::vector<services::FieldKind> fields;
  for (const auto& [k, v] : c.form.pairs) {
    if (k != "field") continue;
    auto f = services::parse_field_kind(v);
    if (!f) return problem(c, problem_of(Errc::invalid_input));
    fields.push_back(*f);
  }
  if (auto r = c.w.accounts->require_step_up(account_hex(*c.who), code_of(c)); !r) return failure(c, r.error());
  auto id = c.w.exports->request(c.asker(), account_hex(*c.who), c.form.get("tag").value_or(""), fields,
                                 c.form.get("reason").value_or(""), c.form.get("segment").value_or(""));
  if (!id) return failure(c, id.error());
  notify(c, "export_requested", "a bulk export was requested", {{"export", *id}});
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
