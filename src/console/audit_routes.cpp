// The auditor's page (`GET /audit?actor=&action=`, and `POST /audit/verify`
// to read the whole chain now): parses the filter and renders what
// services::read_audit returns (chain verification, the newest matching
// entries, an actor's blast radius; the viewing itself audited).
#include "console/console_internal.hpp"
#include "services/audit_reader.hpp"

namespace rempart::console::detail {
namespace {

Response audit_reading(Call& c, services::AuditReadFilter filter, bool whole) {
  if (filter.actor.size() > 100 || filter.action.size() > 64) return problem(c, problem_of(Errc::invalid_input));
  auto reading = services::read_audit(*c.w.store, c.impl.keys, *c.impl.chain_watch, filter,
                                      c.impl.opt.checkpoint_file, whole, c.asker());
  if (!reading) return failure(c, reading.error());

  AuditView view;
  view.actor = filter.actor;
  view.action = filter.action;
  view.verify = &reading->verify;
  view.whole_at = reading->whole_at_us / 1000000;
  view.now = unix_now();
  view.entries = std::move(reading->entries);
  if (reading->blast) {
    view.blast = &*reading->blast;
    view.blast_summary = std::move(reading->blast_summary);
  }
  return html(bhttp::status::ok, audit_page(c.viewer(), view));
}

}  // namespace

Response get_audit(Call& c) {
  services::AuditReadFilter filter;
  filter.actor = query_param(c.req.target(), "actor").value_or("");
  filter.action = query_param(c.req.target(), "action").value_or("");
  return audit_reading(c, std::move(filter), false);
}

Response post_audit_verify(Call& c) {
  services::AuditReadFilter filter;
  filter.actor = c.form.get("actor").value_or("");
  filter.action = c.form.get("action").value_or("");
  return audit_reading(c, std::move(filter), true);
}

}  // namespace rempart::console::detail
