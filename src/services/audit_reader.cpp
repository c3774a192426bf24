// The auditor's reading of the log (audit_reader.hpp).
#include "services/audit_reader.hpp"

#include <deque>
#include <nlohmann/json.hpp>
#include <utility>

#include "audit/chain.hpp"

namespace rempart::services {

Result<AuditReading> read_audit(store::KeeperStore& store, const crypto::KeeperKeyring& keys,
                                const AuditReadFilter& filter, const std::string& checkpoint_file,
                                const Asker& asker) {
  AuditReading out;
  audit::VerifyOptions vo;
  if (!checkpoint_file.empty()) vo.checkpoint_file = checkpoint_file;
  auto report = audit::verify(store, keys, vo);
  if (!report) return std::unexpected(report.error());
  out.verify = std::move(*report);

  // The newest kAuditReadEntries matching entries: scan in order, keep a
  // ring of the last.
  store::AuditFilter f;
  f.actor = filter.actor;
  f.action = filter.action;
  std::deque<store::AuditEntryRow> last;
  auto s = store.scan_audit_filtered(f, [&](const store::AuditEntryRow& row) {
    last.push_back(row);
    if (last.size() > kAuditReadEntries) last.pop_front();
    return true;
  });
  if (!s) return std::unexpected(s.error());
  out.entries.assign(last.rbegin(), last.rend());

  if (!filter.actor.empty()) {
    audit::BlastQuery bq;
    bq.actor = filter.actor;
    auto b = audit::blast_radius(store, bq);
    if (!b) return std::unexpected(b.error());
    out.blast = std::move(*b);
    out.blast_summary = audit::summary(*out.blast);
  }
  // Reading the log is itself recorded.
  auto rec = store.transact([&](store::KeeperTx& tx) -> Result<void> {
    nlohmann::json d = {
        {"filter_actor", filter.actor}, {"filter_action", filter.action}, {"shown", out.entries.size()}};
    auto e = audit::record(
        tx, keys, audit::Event{asker.actor, std::string(audit::action::audit_query), "", std::move(d), asker.client});
    if (!e) return std::unexpected(e.error());
    return {};
  });
  if (!rec) return std::unexpected(rec.error());
  return out;
}

}  // namespace rempart::services
