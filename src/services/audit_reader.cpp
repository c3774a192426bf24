// The auditor's reading of the log (audit_reader.hpp).
#include "services/audit_reader.hpp"

#include <nlohmann/json.hpp>
#include <utility>

#include "audit/chain.hpp"

namespace rempart::services {

Result<AuditReading> read_audit(store::KeeperStore& store, const crypto::KeeperKeyring& keys,
                                audit::ChainWatch& watch, const AuditReadFilter& filter,
                                const std::string& checkpoint_file, bool whole, const Asker& asker) {
  AuditReading out;
  audit::VerifyOptions vo;
  if (!checkpoint_file.empty()) vo.checkpoint_file = checkpoint_file;
  auto checked = watch.check(store, keys, vo, whole, audit::now_us());
  if (!checked) return std::unexpected(checked.error());
  out.verify = std::move(checked->report);
  out.whole_at_us = checked->whole_at_us;

  store::AuditFilter f;
  f.actor = filter.actor;
  f.action = filter.action;
  auto s = store.scan_audit_newest(f, kAuditReadEntries, [&](const store::AuditEntryRow& row) {
    out.entries.push_back(row);
    return true;
  });
  if (!s) return std::unexpected(s.error());

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
    if (whole) d["whole"] = true;
    auto e = audit::record(
        tx, keys, audit::Event{asker.actor, std::string(audit::action::audit_query), "", std::move(d), asker.client});
    if (!e) return std::unexpected(e.error());
    return {};
  });
  if (!rec) return std::unexpected(rec.error());
  return out;
}

}  // namespace rempart::services
