#include "audit/blast_radius.hpp"

#include <algorithm>
#include <map>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "audit/chain.hpp"

namespace rempart::audit {
namespace {

void note(Exposure& e, const std::string& record, const std::string& actor, std::int64_t at) {
  if (e.times == 0) {
    e.record = record;
    e.first_at = at;
    e.last_at = at;
  }
  e.first_at = std::min(e.first_at, at);
  e.last_at = std::max(e.last_at, at);
  e.actors.insert(actor);
  ++e.times;
}

std::vector<std::string> strings(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  const auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

Result<BlastRadius> blast_radius(store::KeeperStore& store, const BlastQuery& q) {
  // A record's notes read (supporter.notes_read, "fields": ["notes"]) count
  // as revealed: their text is personal data.
  const std::string actions[] = {std::string(action::supporter_reveal), std::string(action::supporter_export),
                                 std::string(action::supporter_list), std::string(action::supporter_sample),
                                 std::string(action::supporter_notes_read)};
  std::unordered_map<std::string, Exposure> revealed, masked, opened;
  BlastRadius out;
  auto r = store.scan_audit_actions(actions, q.actor, q.since, q.until, [&](const store::AuditEntryRow& row) {
    const auto details = nlohmann::json::parse(row.details, nullptr, false);
    if (details.is_discarded() || !details.is_object()) {
      ++out.malformed;
      return true;
    }
    if (!q.session.empty()) {
      const auto s = details.find("session");
      if (s == details.end() || !s->is_string() || s->get<std::string>() != q.session) return true;
    }
    ++out.entries;
    if (row.action == action::supporter_list) {
      for (const auto& id : strings(details, "records")) note(masked[id], id, row.actor, row.at);
      return true;
    }
    if (row.action == action::supporter_sample) {
      for (const auto& id : strings(details, "records")) note(opened[id], id, row.actor, row.at);
      return true;
    }
    auto records = strings(details, "records");
    if (!row.subject.empty()) records.push_back(row.subject);
    const auto fields = strings(details, "fields");
    for (const auto& id : records) {
      Exposure& e = revealed[id];
      note(e, id, row.actor, row.at);
      e.fields.insert(fields.begin(), fields.end());
    }
    return true;
  });
  if (!r) return std::unexpected(r.error());
  for (auto& [id, e] : revealed) out.revealed.push_back(std::move(e));
  for (auto& [id, e] : masked) {
    if (!revealed.contains(id)) out.masked_only.push_back(std::move(e));
  }
  for (auto& [id, e] : opened) {
    if (!revealed.contains(id) && !masked.contains(id)) out.opened_only.push_back(std::move(e));
  }
  auto by_record = [](const Exposure& a, const Exposure& b) { return a.record < b.record; };
  std::sort(out.revealed.begin(), out.revealed.end(), by_record);
  std::sort(out.masked_only.begin(), out.masked_only.end(), by_record);
  std::sort(out.opened_only.begin(), out.opened_only.end(), by_record);
  return out;
}

std::string summary(const BlastRadius& b) {
  std::map<std::string, std::size_t> by_fields;
  for (const auto& e : b.revealed) {
    std::string key;
    for (const auto& f : e.fields) key += (key.empty() ? "" : "+") + f;
    ++by_fields[key.empty() ? "unspecified fields" : key];
  }
  std::vector<std::pair<std::string, std::size_t>> groups(by_fields.begin(), by_fields.end());
  std::stable_sort(groups.begin(), groups.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
  std::string s = std::to_string(b.revealed.size()) + (b.revealed.size() == 1 ? " supporter" : " supporters");
  if (!groups.empty()) {
    s += ":";
    for (std::size_t i = 0; i < groups.size(); ++i) {
      s += (i == 0 ? " " : ", ") + std::to_string(groups[i].second) + " " + groups[i].first;
    }
  }
  if (!b.masked_only.empty()) s += "; " + std::to_string(b.masked_only.size()) + " more seen masked only";
  if (!b.opened_only.empty()) {
    s += "; " + std::to_string(b.opened_only.size()) + " more opened inside the keeper, shown to nobody";
  }
  return s;
}

}  // namespace rempart::audit
