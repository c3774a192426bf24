// The auditor's page and its JSON form (`GET /audit?actor=&action=` and
// `GET /api/v1/audit?actor=&action=`; `POST /audit/verify` and
// `POST /api/v1/audit/verify` read the whole chain now): parses the filter
// and renders what services::read_audit returns (chain verification, the
// newest matching entries with their actors' account names, an actor's blast
// radius; the viewing itself audited). An actor is given by account name or
// as the log writes it; a malformed or unknown one is refused with a fixed
// answer (the page keeps the filter form), and nothing is read or recorded.
#include "console/console_internal.hpp"
#include "i18n/i18n.hpp"
#include "services/audit_reader.hpp"

namespace rempart::console::detail {
namespace {

constexpr std::size_t kActionMax = 64;
constexpr std::size_t kFaultsShown = 10;

// The filter of a call: the query string of a GET, the form (page) or JSON
// body (API) of a POST. nullopt when a JSON member is not a string.
std::optional<services::AuditReadFilter> filter_of(const Call& c) {
  services::AuditReadFilter f;
  if (c.req.method() != bhttp::verb::post) {
    f.actor = query_param(c.req.target(), "actor").value_or("");
    f.action = query_param(c.req.target(), "action").value_or("");
  } else if (c.route.kind == Kind::page) {
    f.actor = c.form.get("actor").value_or("");
    f.action = c.form.get("action").value_or("");
  } else {
    for (const auto& [key, out] : {std::pair{"actor", &f.actor}, std::pair{"action", &f.action}}) {
      if (!c.body.contains(key)) continue;
      if (!c.body[key].is_string()) return std::nullopt;
      *out = c.body[key].get<std::string>();
    }
  }
  return f;
}

nlohmann::json details_json(const std::string& details) {
  auto j = nlohmann::json::parse(details, nullptr, false);
  return j.is_discarded() ? nlohmann::json(details) : j;
}

Response audit_json(const services::AuditReading& r, const services::AuditReadFilter& given) {
  const auto& v = r.verify;
  nlohmann::json faults = nlohmann::json::array();
  for (std::size_t i = 0; i < v.faults.size() && i < kFaultsShown; ++i) {
    faults.push_back({{"seq", v.faults[i].seq}, {"reason", v.faults[i].reason}});
  }
  nlohmann::json chain = {{"ok", v.ok()},
                          {"fault_count", v.fault_count},
                          {"faults", faults},
                          {"last_seq", v.last_seq},
                          {"covered_seq", v.covered_seq},
                          {"file_read", v.file_read},
                          {"whole", v.whole()},
                          {"read_from_seq", v.from_seq},
                          {"read_entries", v.entries},
                          {"whole_at", r.whole_at_us / 1000000}};
  const auto name_of = [&](const std::string& actor) -> nlohmann::json {
    const auto it = r.names.find(actor);
    return it == r.names.end() ? nlohmann::json(nullptr) : nlohmann::json(it->second);
  };
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& e : r.entries) {
    entries.push_back({{"seq", e.seq},
                       {"at_us", e.at},
                       {"actor", e.actor},
                       {"actor_name", name_of(e.actor)},
                       {"action", e.action},
                       {"subject", e.subject},
                       {"details", details_json(e.details)}});
  }
  nlohmann::json out = {{"chain", chain},
                        {"filter", {{"actor", r.actor}, {"actor_name", name_of(r.actor)}, {"action", given.action}}},
                        {"entries", entries}};
  if (r.blast) out["blast_summary"] = r.blast_summary;
  return json_answer(bhttp::status::ok, out);
}

// A refused actor filter: a fixed answer, never the text given (the page's
// form holds it, escaped, to be corrected).
Response refused_actor(Call& c, const services::AuditReadFilter& filter, const Error& e) {
  const bool unknown = e.internal == services::kAuditActorUnknown;
  if (c.route.kind == Kind::api) {
    return json_answer(bhttp::status::bad_request, {{"error", unknown ? "unknown_account" : "invalid_actor"}});
  }
  auto names = services::account_names(*c.w.store);
  if (!names) return failure(c, names.error());
  AuditView view;
  view.actor = filter.actor;
  view.action = filter.action;
  view.names = std::move(*names);
  view.notice = unknown ? i18n::tr("No account has that name. Choose one of the names offered, or give the actor "
                                    "as the log writes it (account:…, token:…, operator:…, keeper).")
                        : i18n::tr("That is neither an account name (lower-case letters, digits, '.', '_' and '-') "
                                   "nor an actor as the log writes it (account:…, token:…, operator:…, keeper).");
  return html(bhttp::status::bad_request, audit_page(c.viewer(), view));
}

Response audit_reading(Call& c, bool whole) {
  const auto filter = filter_of(c);
  if (!filter || filter->action.size() > kActionMax) return problem(c, problem_of(Errc::invalid_input));
  auto reading = services::read_audit(*c.w.store, c.impl.keys, *c.impl.chain_watch, *filter,
                                      c.impl.opt.checkpoint_file, whole, c.asker());
  if (!reading) {
    const auto& e = reading.error();
    if (e.code == Errc::invalid_input &&
        (e.internal == services::kAuditActorUnknown || e.internal == services::kAuditActorInvalid)) {
      return refused_actor(c, *filter, e);
    }
    return failure(c, e);
  }
  if (c.route.kind == Kind::api) return audit_json(*reading, *filter);

  AuditView view;
  view.actor = filter->actor;
  view.action = filter->action;
  view.actor_id = reading->actor;
  view.names = std::move(reading->names);
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

Response get_audit(Call& c) { return audit_reading(c, false); }

Response post_audit_verify(Call& c) { return audit_reading(c, true); }

}  // namespace rempart::console::detail
