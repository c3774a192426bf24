#include "services/dashboard.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "audit/chain.hpp"

namespace rempart::services {

Result<Dashboard> read_dashboard(store::KeeperStore& store, std::int64_t now) {
  constexpr std::int64_t kDay = 86400;
  const std::int64_t today = now / kDay;
  const std::int64_t first = today - (kDashboardDays - 1);
  Dashboard d;
  auto r = store.snapshot([&]() -> Result<void> {
    auto per_day = store.added_per_day(first * kDay);
    if (!per_day) return std::unexpected(per_day.error());
    d.days.clear();
    for (std::int64_t day = first; day <= today; ++day) d.days.push_back(DashboardDay{day * kDay, 0});
    d.added = 0;
    for (const auto& [day, n] : *per_day) {
      if (day < first || day > today) continue;  // a clock set back: a later day is not drawn
      d.days[static_cast<std::size_t>(day - first)].added = n;
      d.added += n;
    }
    auto tags = store.tag_counts_since(first * kDay, 10);
    if (!tags) return std::unexpected(tags.error());
    d.tags = std::move(*tags);
    auto sources = store.added_by_origin(first * kDay);
    if (!sources) return std::unexpected(sources.error());
    d.sources = std::move(*sources);
    const std::string actions[] = {std::string(audit::action::guard_lock)};
    d.locks.clear();
    auto scanned = store.scan_audit_actions(actions, "", (now - 7 * kDay) * 1'000'000, (now + 1) * 1'000'000,
                                            [&](const store::AuditEntryRow& e) {
                                              auto details = nlohmann::json::parse(e.details, nullptr, false);
                                              std::string reason;
                                              if (details.is_object() && details.contains("reason") &&
                                                  details["reason"].is_string()) {
                                                reason = details["reason"].get<std::string>();
                                              }
                                              d.locks.push_back(DashboardLock{e.actor, std::move(reason), e.at});
                                              return true;
                                            });
    if (!scanned) return scanned;
    std::sort(d.locks.begin(), d.locks.end(),
              [](const DashboardLock& a, const DashboardLock& b) { return a.at_us > b.at_us; });
    if (d.locks.size() > 50) d.locks.resize(50);
    // A page of no rows: its total alone, honeytokens left out.
    auto all = store.supporter_page(store::SupporterPageQuery{.tag = "", .after = std::nullopt, .limit = 0});
    if (!all) return std::unexpected(all.error());
    d.supporters = all->total;
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return d;
}

}  // namespace rempart::services
