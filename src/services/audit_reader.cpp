// The auditor's reading of the log (audit_reader.hpp).
#include "services/audit_reader.hpp"

#include <nlohmann/json.hpp>
#include <utility>

#include "audit/chain.hpp"
#include "auth/accounts.hpp"

namespace rempart::services {

namespace {

bool has_control(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

Result<std::string> resolve_audit_actor(store::KeeperStore& store, std::string_view given) {
  if (given.empty()) return std::string();
  if (given.size() > kAuditActorMax || has_control(given)) {
    return fail(Errc::invalid_input, std::string(kAuditActorInvalid));
  }
  if (given.find(':') != std::string_view::npos || given == audit::kKeeperActor || given == kAnonymousActor) {
    return std::string(given);
  }
  if (!auth::valid_account_name(given)) return fail(Errc::invalid_input, std::string(kAuditActorInvalid));
  std::optional<std::string> actor;
  auto r = store.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto a = tx.find_account_by_name(std::string(given));
    if (!a) return propagate(a);
    if (*a) actor = auth::account_actor(audit::to_hex((*a)->id));
    return {};
  });
  if (!r) return std::unexpected(r.error());
  if (!actor) return fail(Errc::invalid_input, std::string(kAuditActorUnknown));
  return std::move(*actor);
}

Result<std::map<std::string, std::string>> account_names(store::KeeperStore& store) {
  std::map<std::string, std::string> out;
  auto r = store.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto all = tx.accounts();
    if (!all) return propagate(all);
    for (const auto& a : *all) out.emplace(auth::account_actor(audit::to_hex(a.id)), a.name);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<AuditReading> read_audit(store::KeeperStore& store, const crypto::KeeperKeyring& keys,
                                audit::ChainWatch& watch, const AuditReadFilter& filter,
                                const std::string& checkpoint_file, bool whole, const Asker& asker) {
  AuditReading out;
  auto actor = resolve_audit_actor(store, filter.actor);
  if (!actor) return std::unexpected(actor.error());
  out.actor = std::move(*actor);
  const bool by_name = !out.actor.empty() && out.actor != filter.actor;

  audit::VerifyOptions vo;
  if (!checkpoint_file.empty()) vo.checkpoint_file = checkpoint_file;
  auto checked = watch.check(store, keys, vo, whole, audit::now_us());
  if (!checked) return std::unexpected(checked.error());
  out.verify = std::move(checked->report);
  out.whole_at_us = checked->whole_at_us;

  store::AuditFilter f;
  f.actor = out.actor;
  f.action = filter.action;
  auto s = store.scan_audit_newest(f, kAuditReadEntries, [&](const store::AuditEntryRow& row) {
    out.entries.push_back(row);
    return true;
  });
  if (!s) return std::unexpected(s.error());
  auto names = account_names(store);
  if (!names) return std::unexpected(names.error());
  out.names = std::move(*names);

  if (!out.actor.empty()) {
    audit::BlastQuery bq;
    bq.actor = out.actor;
    auto b = audit::blast_radius(store, bq);
    if (!b) return std::unexpected(b.error());
    out.blast = std::move(*b);
    out.blast_summary = audit::summary(*out.blast);
  }
  // Reading the log is itself recorded.
  auto rec = store.transact([&](store::KeeperTx& tx) -> Result<void> {
    nlohmann::json d = {
        {"filter_actor", out.actor}, {"filter_action", filter.action}, {"shown", out.entries.size()}};
    if (by_name) d["filter_account"] = filter.actor;
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
