// The console's call list routes, as pages and as /api/v1/: a caller's
// shares, the person in hand and the outcome of a call; for organisers,
// making a list from a saved segment, following and closing it. What is
// opened, recorded and audited comes from services::CallLists; answers
// name the part of a request at fault, never a value.
#include <chrono>
#include <cstdio>

#include "console/call_pages.hpp"
#include "console/page_parts.hpp"
#include "console/console_internal.hpp"
#include "services/casework.hpp"
#include "services/segments.hpp"

namespace rempart::console::detail {

namespace {

using i18n::tr;

services::CallLists& calls_of(Call& c) { return *c.w.calls; }

bool can_manage(const Call& c) { return c.who && !c.who->via_token && auth::permits(c.who->role, auth::Action::manage_call_lists); }

// "YYYY-MM-DDTHH:MM" (or with ":SS"), read as UTC, as a datetime-local
// field sends it; nullopt for anything else or a date that does not exist.
std::optional<std::int64_t> parse_local_time(std::string_view s) {
  if (s.size() != 16 && s.size() != 19) return std::nullopt;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  const std::string text(s);
  int used = 0;
  if (s.size() == 16) {
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi, &used) != 5) return std::nullopt;
  } else if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6) {
    return std::nullopt;
  }
  if (used != static_cast<int>(s.size())) return std::nullopt;
  for (std::size_t i : {4u, 7u}) {
    if (s[i] != '-') return std::nullopt;
  }
  for (char ch : s) {
    if (ch != '-' && ch != 'T' && ch != ':' && (ch < '0' || ch > '9')) return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok() || y < 2000 || y > 2999 || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  const auto days = std::chrono::sys_days(ymd).time_since_epoch().count();
  return static_cast<std::int64_t>(days) * 86400 + h * 3600 + mi * 60 + sec;
}

std::string local_time(std::int64_t t) { return utc_text(t, "%Y-%m-%dT%H:%M"); }

nlohmann::json list_json(const services::CallListView& l) {
  nlohmann::json shares = nlohmann::json::array();
  for (const auto& s : l.shares) {
    shares.push_back({{"caller", s.caller}, {"entries", s.entries}, {"opened", s.opened}, {"done", s.done}});
  }
  nlohmann::json outcomes = nlohmann::json::object();
  for (const auto& [o, n] : l.outcomes) outcomes[o] = n;
  nlohmann::json j = {{"name", l.name},         {"segment", l.segment},     {"script", l.script},
                      {"created_by", l.created_by}, {"created_at", l.created_at}, {"starts_at", l.starts_at},
                      {"ends_at", l.ends_at},     {"state", l.state},         {"entries", l.entries},
                      {"opened", l.opened},       {"done", l.done},           {"shares", shares}};
  if (l.closed_at) j["closed_at"] = *l.closed_at;
  if (!l.outcomes.empty() || !l.shares.empty()) j["outcomes"] = outcomes;
  return j;
}

// The form's choices: saved segments and the accounts that may make calls.
Result<CallListForm> empty_form(Call& c) {
  CallListForm f;
  auto segs = services::Segments(*c.w.store, c.impl.keys).list();
  if (!segs) return std::unexpected(segs.error());
  for (const auto& s : *segs) f.segments.push_back(s.name);
  auto accounts = c.w.accounts->list_accounts();
  if (!accounts) return std::unexpected(accounts.error());
  for (const auto& a : *accounts) {
    if (!a.disabled && !a.enrolling && auth::permits(a.role, auth::Action::make_calls)) f.callers.push_back(a.name);
  }
  const std::int64_t now = unix_now();
  f.starts = local_time(now - now % 60);
  f.ends = local_time(now - now % 60 + 3 * 3600);
  return f;
}

Response calls_view(Call& c, std::optional<CallListForm> form, std::string_view notice, bhttp::status status) {
  auto mine = calls_of(c).assignments(c.asker());
  if (!mine) return failure(c, mine.error());
  std::optional<std::vector<services::CallListView>> all;
  if (can_manage(c)) {
    auto lists = calls_of(c).lists();
    if (!lists) return failure(c, lists.error());
    all = std::move(*lists);
    if (!form) {
      auto f = empty_form(c);
      if (!f) return failure(c, f.error());
      form = std::move(*f);
    }
  }
  return html(status, calls_page(c.viewer(), *mine, all, can_manage(c) ? form : std::nullopt, notice));
}

// Fixed words for a refused list (the service's message names the part).
std::string create_message(const Error& e) {
  const std::string& m = e.internal;
  if (e.code == Errc::conflict) return tr("A call list of that name exists. Choose another name.");
  if (e.code == Errc::not_found) return tr("That segment does not exist any more. Choose another.");
  if (m.ends_with(": name")) return tr("Give the list a name: lower-case letters, digits, - and _, up to 48.");
  if (m.ends_with(": callers")) return tr("Choose between 1 and 50 callers.");
  if (m.ends_with(": caller")) return tr("A caller chosen cannot make calls (disabled, not enrolled, or an admin).");
  if (m.ends_with(": window")) return tr("The list must close after it opens, within 31 days, and not in the past.");
  if (m.ends_with(": script")) {
    return tr("What to say is too long (2,000 characters at most) or holds control characters.");
  }
  if (m.ends_with(": too_many")) return tr("The segment has more than 10,000 people with a phone. Narrow it first.");
  if (m.ends_with(": empty")) return tr("Nobody in that segment has a phone number.");
  return tr("Something in the list is not valid.");
}

Response not_open(Call& c) {
  if (c.route.kind == Kind::api) return json_answer(bhttp::status::conflict, {{"error", "not_open"}});
  return problem(c, {bhttp::status::conflict, "not_open", N_("This list is not open"),
                     N_("Calls can be made only while the list is open: check its window on the calls page.")});
}

Response person_answer(Call& c, const std::string& list, const std::optional<services::CallPerson>& p,
                       std::string_view message) {
  if (c.route.kind == Kind::api) {
    if (!p) return json_answer(bhttp::status::ok, {{"list", list}, {"done", true}});
    return json_answer(bhttp::status::ok, {{"list", p->list},
                                           {"entry", p->entry},
                                           {"record", p->record},
                                           {"name", p->name},
                                           {"phone", p->phone},
                                           {"left", p->left},
                                           {"share", p->share},
                                           {"script", p->script},
                                           {"tags", p->tags},
                                           {"done", false}});
  }
  if (!p) return html(bhttp::status::ok, share_done_page(c.viewer(), list));
  return html(bhttp::status::ok, call_page(c.viewer(), *p, message));
}

Response next_person(Call& c, const std::string& list, std::string_view message) {
  auto p = calls_of(c).next(c.asker(), list);
  if (!p) {
    if (p.error().code == Errc::conflict) return not_open(c);
    return failure(c, p.error());
  }
  return person_answer(c, list, *p, message);
}

}  // namespace

Response get_calls(Call& c) {
  if (c.route.kind == Kind::api) {
    auto mine = calls_of(c).assignments(c.asker());
    if (!mine) return failure(c, mine.error());
    nlohmann::json j = {{"assignments", nlohmann::json::array()}};
    for (const auto& l : *mine) j["assignments"].push_back(list_json(l));
    if (can_manage(c)) {
      auto lists = calls_of(c).lists();
      if (!lists) return failure(c, lists.error());
      j["lists"] = nlohmann::json::array();
      for (const auto& l : *lists) j["lists"].push_back(list_json(l));
    }
    return json_answer(bhttp::status::ok, j);
  }
  return calls_view(c, std::nullopt, "", bhttp::status::ok);
}

// Page: the form's fields. API: {name, segment, callers: [names],
// starts_at, ends_at (unix seconds), script}.
Response post_calls(Call& c) {
  services::CallListSpec spec;
  CallListForm typed;
  if (c.route.kind == Kind::api) {
    const auto& b = c.body;
    const auto str = [&](const char* k) { return b.contains(k) && b[k].is_string(); };
    const auto num = [&](const char* k) { return b.contains(k) && b[k].is_number_integer(); };
    if (!str("name") || !str("segment") || !num("starts_at") || !num("ends_at") || !b.contains("callers") ||
        !b["callers"].is_array() || (b.contains("script") && !b["script"].is_string())) {
      return problem(c, problem_of(Errc::invalid_input));
    }
    for (const auto& x : b["callers"]) {
      if (!x.is_string()) return problem(c, problem_of(Errc::invalid_input));
      spec.callers.push_back(x.get<std::string>());
    }
    spec.name = b["name"].get<std::string>();
    spec.segment = b["segment"].get<std::string>();
    spec.starts_at = b["starts_at"].get<std::int64_t>();
    spec.ends_at = b["ends_at"].get<std::int64_t>();
    spec.script = b.value("script", std::string());
  } else {
    auto f = empty_form(c);
    if (!f) return failure(c, f.error());
    typed = std::move(*f);
    spec.name = c.form.get("name").value_or("");
    spec.segment = c.form.get("segment").value_or("");
    spec.script = c.form.get("script").value_or("");
    for (const auto& [k, v] : c.form.pairs) {
      if (k == "caller") spec.callers.push_back(v);
    }
    const auto starts = parse_local_time(c.form.get("starts").value_or(""));
    const auto ends = parse_local_time(c.form.get("ends").value_or(""));
    // What is shown again is only what the form itself offered, or the
    // values that validate: nothing typed is echoed unchecked.
    if (services::valid_segment_name(spec.name)) typed.name = spec.name;
    for (const auto& s : typed.segments) {
      if (s == spec.segment) typed.segment = s;
    }
    for (const auto& caller : spec.callers) {
      for (const auto& offered : typed.callers) {
        if (offered == caller) typed.chosen.push_back(offered);
      }
    }
    if (starts) typed.starts = local_time(*starts);
    if (ends) typed.ends = local_time(*ends);
    if (!starts || !ends) {
      typed.message = tr("Give the opening and closing times as a date and a time (UTC).");
      if (auto script = services::checked_note_text("note", spec.script); script) typed.script = std::move(*script);
      return calls_view(c, std::move(typed), "", bhttp::status::bad_request);
    }
    spec.starts_at = *starts;
    spec.ends_at = *ends;
  }
  auto made = calls_of(c).create(c.asker(), spec);
  if (!made) {
    const Errc code = made.error().code;
    if (code != Errc::invalid_input && code != Errc::conflict && code != Errc::not_found) {
      return failure(c, made.error());
    }
    if (c.route.kind == Kind::api) {
      std::string part = made.error().internal;
      part = part.substr(part.rfind(' ') + 1);
      const auto status = code == Errc::conflict    ? bhttp::status::conflict
                          : code == Errc::not_found ? bhttp::status::not_found
                                                    : bhttp::status::unprocessable_entity;
      return json_answer(status, {{"error", code == Errc::conflict    ? std::string("name_in_use")
                                            : code == Errc::not_found ? std::string("no_such_segment")
                                                                      : part}});
    }
    typed.message = create_message(made.error());
    if (!made.error().internal.ends_with(": script")) typed.script = spec.script;
    return calls_view(c, std::move(typed), "", code == Errc::conflict ? bhttp::status::conflict
                                                                        : bhttp::status::bad_request);
  }
  if (c.route.kind == Kind::api) return json_answer(bhttp::status::created, list_json(*made));
  return redirect("/calls/" + made->name);
}

Response get_call_list(Call& c) {
  auto l = calls_of(c).find(c.params.at(0));
  if (!l) return failure(c, l.error());
  if (!*l) return problem(c, problem_of(Errc::not_found));
  if (c.route.kind == Kind::api) return json_answer(bhttp::status::ok, list_json(**l));
  return html(bhttp::status::ok, call_list_page(c.viewer(), **l, ""));
}

Response post_call_list_close(Call& c) {
  auto closed = calls_of(c).close(c.asker(), c.params.at(0));
  if (!closed) return failure(c, closed.error());
  if (c.route.kind == Kind::api) return json_answer(bhttp::status::ok, {{"closed", *closed}});
  return redirect("/calls/" + c.params.at(0));
}

Response post_call_next(Call& c) { return next_person(c, c.params.at(0), ""); }

// Page: {entry, outcome, text, op: next | stop}. API: {entry, outcome,
// text}; answers {"ok": true}.
Response post_call_outcome(Call& c) {
  const std::string list = c.params.at(0);
  std::optional<std::int64_t> entry;
  std::string outcome, text;
  bool go_on = false;
  if (c.route.kind == Kind::api) {
    const auto& b = c.body;
    if (!b.contains("entry") || !b["entry"].is_number_integer() || !b.contains("outcome") ||
        !b["outcome"].is_string() || (b.contains("text") && !b["text"].is_string())) {
      return problem(c, problem_of(Errc::invalid_input));
    }
    entry = b["entry"].get<std::int64_t>();
    outcome = b["outcome"].get<std::string>();
    text = b.value("text", std::string());
  } else {
    entry = form_int(c, "entry");
    outcome = c.form.get("outcome").value_or("");
    text = c.form.get("text").value_or("");
    const std::string op = c.form.get("op").value_or("stop");
    if (op != "next" && op != "stop") return problem(c, problem_of(Errc::invalid_input));
    go_on = op == "next";
  }
  if (!entry) return problem(c, problem_of(Errc::invalid_input));
  auto r = calls_of(c).outcome(c.asker(), list, *entry, outcome, text);
  if (!r) {
    const Error& e = r.error();
    if (e.code == Errc::conflict) {
      if (c.route.kind == Kind::api) return json_answer(bhttp::status::conflict, {{"error", "not_in_hand"}});
      // A second submit of the same form (a reload): the call was recorded.
      return next_person(c, list, tr("That call was recorded already."));
    }
    if (e.code == Errc::invalid_input && c.route.kind == Kind::page) {
      // The person in hand again, with what was wrong.
      return next_person(c, list,
                         e.internal.ends_with("outcome")
                             ? tr("Choose how the call went.")
                             : tr("The word left is too long (200 characters at most) or holds control characters."));
    }
    return failure(c, r.error());
  }
  if (c.route.kind == Kind::api) return json_answer(bhttp::status::ok, {{"ok", true}});
  if (go_on) {
    auto p = calls_of(c).next(c.asker(), list);
    if (!p && p.error().code == Errc::conflict) {
      return calls_view(c, std::nullopt, tr("Saved. The list is not open any more: nobody else opens."),
                        bhttp::status::ok);
    }
    if (!p) return failure(c, p.error());
    return person_answer(c, list, *p, tr("Saved."));
  }
  return calls_view(c, std::nullopt, tr("Saved."), bhttp::status::ok);
}

}  // namespace rempart::console::detail
