// The dashboard (`GET /dashboard`, `GET /api/v1/dashboard`): supporters
// added per day as a chart drawn here as SVG (no script), the tags they
// carry, where they came from, the inbox backlog, and the guard's locks of the week by account
// name, and the viewer's own budgets. Aggregates only: not audited, nobody
// shown (services/dashboard.hpp).
#include <algorithm>
#include <ctime>

#include "console/console_internal.hpp"
#include "console/page_parts.hpp"
#include "console/pages.hpp"
#include "core/urlencoded.hpp"
#include "services/audit_reader.hpp"
#include "services/dashboard.hpp"

namespace rempart::console::detail {

namespace {

using i18n::tr;
using i18n::trf;
using i18n::trnf;

// The API's day ("2026-12-06"); pages show i18n::date.
std::string day_label(std::int64_t unix_seconds, const char* format) { return utc_text(unix_seconds, format); }

std::string lock_reason_text(std::string_view reason) {
  if (reason == "reveal_budget") return tr("reveal budget");
  if (reason == "list_budget") return tr("masked rows budget");
  if (reason == "search_misses") return tr("searches that found nobody");
  if (reason == "honeytoken") return tr("a honeytoken was touched");
  if (reason == "mfa_failures" || reason == "login_failures") return tr("failed sign-ins or codes");
  return std::string(reason);
}

// Bars of the last days, drawn in a 600 × 200 box that scales with the
// page; each bar has its day and count as a tooltip, and the numbers are
// also in a table below for screen readers and copying.
std::string chart(const services::Dashboard& d) {
  constexpr int kWidth = 600, kHeight = 220, kTop = 22, kBottom = 28;
  const int n = static_cast<int>(d.days.size());
  std::int64_t max = 1;
  for (const auto& day : d.days) max = std::max(max, day.added);
  const int slot = kWidth / std::max(n, 1);
  std::string s = "<svg class=\"chart\" viewBox=\"0 0 " + std::to_string(kWidth) + " " + std::to_string(kHeight) +
                  "\" role=\"img\" aria-labelledby=\"chart-title\"><title id=\"chart-title\">" +
                  trf("Supporters added per day, last {} days: {} in all", i18n::number(n), i18n::number(d.added)) +
                  "</title>";
  const int plot = kHeight - kTop - kBottom;
  s += "<line x1=\"0\" y1=\"" + std::to_string(kHeight - kBottom) + "\" x2=\"" + std::to_string(kWidth) + "\" y2=\"" +
       std::to_string(kHeight - kBottom) + "\" stroke=\"#888\" stroke-width=\"1\"/>";
  s += "<text x=\"0\" y=\"16\" font-size=\"18\" fill=\"#444\">" + i18n::number(max) + "</text>";
  for (int i = 0; i < n; ++i) {
    const auto& day = d.days[static_cast<std::size_t>(i)];
    const int h = static_cast<int>(day.added * plot / max);
    const int x = i * slot + 2;
    s += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(kHeight - kBottom - h) + "\" width=\"" +
         std::to_string(slot - 4) + "\" height=\"" + std::to_string(std::max(h, day.added > 0 ? 1 : 0)) +
         "\" fill=\"#2f5d8a\"><title>" + trf("{}: {}", i18n::date(day.day), i18n::number(day.added)) +
         "</title></rect>";
    if (i == 0 || i == n - 1 || i == n / 2) {
      const char* anchor = i == 0 ? "start" : i == n - 1 ? "end" : "middle";
      const int tx = i == 0 ? 0 : i == n - 1 ? kWidth : x + slot / 2;
      s += "<text x=\"" + std::to_string(tx) + "\" y=\"" + std::to_string(kHeight - 6) +
           "\" font-size=\"18\" fill=\"#444\" text-anchor=\"" + anchor + "\">" + i18n::date(day.day) +
           "</text>";
    }
  }
  s += "</svg>";
  return s;
}

// An origin in words (supporters.origin, services/segments.hpp).
std::string source_words(const std::string& origin) {
  if (origin == "intake") return tr("Sign-up form or OSDI API");
  if (origin == "synth") return tr("Synthetic test data");
  if (origin == "unknown") return tr("Not recorded");
  if (origin.starts_with("import:")) return trf("Import ({})", origin.substr(7));
  return origin;
}

const char* counted_label(guard::Counted c) {
  switch (c) {
    case guard::Counted::name: return tr("Names revealed");
    case guard::Counted::email: return tr("E-mail addresses revealed");
    case guard::Counted::phone: return tr("Phone numbers revealed");
    case guard::Counted::address: return tr("Addresses revealed");
    case guard::Counted::masked: return tr("Rows shown masked");
    case guard::Counted::miss: return tr("Searches that found nobody");
  }
  return "";
}

// One row per budget: used of allowed, per minute, hour and day ("—" for
// a window without a limit).
std::string budgets_html(const std::vector<guard::Standing>& standing) {
  if (standing.empty()) return {};
  std::string b = "<section aria-labelledby=\"budgets\"><h2 id=\"budgets\">" + std::string(tr("Your budgets")) +
                  "</h2><p>" +
                  tr("What you have used of each; going past one locks your account until an admin unlocks it.") +
                  "</p><table><thead><tr><th scope=\"col\">" + tr("Budget") + "</th><th scope=\"col\">" +
                  tr("This minute") + "</th><th scope=\"col\">" + tr("This hour") + "</th><th scope=\"col\">" +
                  tr("Today") + "</th></tr></thead><tbody>";
  for (const guard::Counted what : guard::kAllCounted) {
    std::string cells;
    bool any = false;
    for (const std::int64_t window : {60, 3600, 86400}) {
      auto it = std::find_if(standing.begin(), standing.end(), [&](const guard::Standing& s) {
        return s.what == what && s.window_seconds == window;
      });
      if (it == standing.end()) {
        cells += "<td>—</td>";
      } else {
        any = true;
        cells += "<td>" + trf("{} of {}", i18n::number(it->used), i18n::number(it->limit)) + "</td>";
      }
    }
    if (any) b += "<tr><th scope=\"row\">" + std::string(counted_label(what)) + "</th>" + cells + "</tr>";
  }
  return b + "</tbody></table></section>";
}

std::string dashboard_page(const Viewer& v, const services::Dashboard& d, std::int64_t backlog,
                           const std::map<std::string, std::string>& names,
                           const std::vector<guard::Standing>& standing) {
  const std::string added = i18n::number(d.added), days = i18n::number(static_cast<std::int64_t>(d.days.size())),
                    all = i18n::number(d.supporters);
  std::string b = "<section aria-labelledby=\"added\"><h2 id=\"added\">" + std::string(tr("Added per day")) +
                  "</h2><p>" +
                  trnf("{} supporter added in the last {} days (sign-ups and imports); {} in all.",
                       "{} supporters added in the last {} days (sign-ups and imports); {} in all.", d.added, added,
                       days, all) +
                  "</p>" + chart(d) + "<details><summary>" + tr("The numbers") +
                  "</summary><table><thead><tr><th scope=\"col\">" + tr("Day") + "</th><th scope=\"col\">" +
                  tr("Added") + "</th></tr></thead><tbody>";
  for (auto it = d.days.rbegin(); it != d.days.rend(); ++it) {
    b += "<tr><td>" + i18n::date(it->day) + "</td><td>" + i18n::number(it->added) + "</td></tr>";
  }
  b += "</tbody></table></details></section>";
  b += "<section aria-labelledby=\"tags\"><h2 id=\"tags\">" + std::string(tr("Their tags")) + "</h2>";
  if (d.tags.empty()) {
    b += "<p>" + std::string(tr("None of them carries a tag.")) + "</p>";
  } else {
    b += "<table><thead><tr><th scope=\"col\">" + std::string(tr("Tag")) + "</th><th scope=\"col\">" +
         tr("Supporters") + "</th></tr></thead><tbody>";
    for (const auto& t : d.tags) {
      b += "<tr><td><a href=\"/supporters?tag=" + core::form_encode(t.tag) + "\">" + esc(t.tag) + "</a></td><td>" +
           i18n::number(t.supporters) + "</td></tr>";
    }
    b += "</tbody></table>";
  }
  b += "</section><section aria-labelledby=\"sources\"><h2 id=\"sources\">" + std::string(tr("Where they came from")) +
       "</h2>";
  if (d.sources.empty()) {
    b += "<p>" + std::string(tr("Nobody was added in these days.")) + "</p>";
  } else {
    b += "<table><thead><tr><th scope=\"col\">" + std::string(tr("Source")) + "</th><th scope=\"col\">" +
         tr("Supporters") + "</th></tr></thead><tbody>";
    for (const auto& o : d.sources) {
      b += "<tr><td>" + esc(source_words(o.origin)) + "</td><td>" + i18n::number(o.supporters) + "</td></tr>";
    }
    b += "</tbody></table>";
  }
  b += "</section><section aria-labelledby=\"inbox\"><h2 id=\"inbox\">" + std::string(tr("Inbox")) + "</h2><p>";
  b += backlog < 0    ? std::string(tr("Not known here (the keeper folds the inbox in another process)."))
       : backlog == 0 ? std::string(tr("Every sign-up received is filed."))
                      : trnf("{} sign-up waits to be filed.", "{} sign-ups wait to be filed.", backlog,
                             i18n::number(backlog));
  b += "</p></section><section aria-labelledby=\"locks\"><h2 id=\"locks\">" + std::string(tr("Locks this week")) +
       "</h2>";
  if (d.locks.empty()) {
    b += "<p>" + std::string(tr("Nobody was locked in the last 7 days.")) + "</p>";
  } else {
    b += "<table><thead><tr><th scope=\"col\">" + std::string(tr("When")) + "</th><th scope=\"col\">" + tr("Who") +
         "</th><th scope=\"col\">" + tr("Why") + "</th></tr></thead><tbody>";
    for (const auto& l : d.locks) {
      const auto n = names.find(l.actor);
      b += "<tr><td>" + when(l.at_us / 1'000'000) + "</td><td>" + esc(n != names.end() ? n->second : l.actor) +
           "</td><td>" + esc(lock_reason_text(l.reason)) + "</td></tr>";
    }
    b += "</tbody></table>";
  }
  b += "</section>" + budgets_html(standing);
  return document(&v, tr("Dashboard"), b);
}

}  // namespace

Response get_dashboard(Call& c) {
  auto d = services::read_dashboard(*c.w.store, unix_now());
  if (!d) return failure(c, d.error());
  const std::int64_t backlog =
      c.impl.opt.inbox_backlog != nullptr ? c.impl.opt.inbox_backlog->load(std::memory_order_relaxed) : -1;
  auto names = services::account_names(*c.w.store);
  if (!names) return failure(c, names.error());
  auto standing = c.w.directory->standing(c.asker());
  if (!standing) return failure(c, standing.error());
  if (c.route.kind == Kind::api) {
    nlohmann::json days = nlohmann::json::array(), tags = nlohmann::json::array(), locks = nlohmann::json::array();
    for (const auto& day : d->days) days.push_back(nlohmann::json{{"day", day_label(day.day, "%Y-%m-%d")}, {"added", day.added}});
    for (const auto& t : d->tags) tags.push_back(nlohmann::json{{"tag", t.tag}, {"supporters", t.supporters}});
    nlohmann::json sources = nlohmann::json::array();
    for (const auto& o : d->sources) {
      sources.push_back(nlohmann::json{{"origin", o.origin}, {"supporters", o.supporters}});
    }
    for (const auto& l : d->locks) {
      const auto n = names->find(l.actor);
      locks.push_back(nlohmann::json{{"actor", l.actor},
                       {"actor_name", n != names->end() ? n->second : std::string()},
                       {"reason", l.reason},
                       {"at", l.at_us / 1'000'000}});
    }
    nlohmann::json j = {{"days", days},       {"added", d->added}, {"supporters", d->supporters},
                        {"tags", tags},       {"sources", sources}, {"locks", locks}};
    j["inbox_backlog"] = backlog < 0 ? nlohmann::json(nullptr) : nlohmann::json(backlog);
    nlohmann::json budgets = nlohmann::json::array();
    for (const auto& st : *standing) {
      budgets.push_back(nlohmann::json{{"counted", guard::counted_name(st.what)},
                         {"window", st.window_seconds == 60 ? "minute" : st.window_seconds == 3600 ? "hour" : "day"},
                         {"used", st.used},
                         {"limit", st.limit}});
    }
    j["budgets"] = std::move(budgets);
    return json_answer(bhttp::status::ok, j);
  }
  return html(bhttp::status::ok, dashboard_page(c.viewer(), *d, backlog, *names, *standing));
}

}  // namespace rempart::console::detail
