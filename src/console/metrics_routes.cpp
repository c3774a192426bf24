// GET /metrics: the process's counts in the Prometheus text format
// (core/metrics.hpp; docs/operations.md, "Metrics"). Who may read it is
// settled in routes.cpp (Access::local_or_action): a token of scope metrics,
// or a request without any credential from a loopback peer. A scrape is not
// audited: it reads counts, never a record, and writes nothing.
#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>
#include <string>

#include "console/console_internal.hpp"
#include "core/metrics.hpp"
#include "services/disk_reserve.hpp"

namespace rempart::console::detail {

bool from_loopback(const Request& req, const std::string& client) {
  // A proxy on this host makes every request come from loopback: what it
  // forwarded (it says so in one of these headers) is not local.
  for (const auto* h : {"Forwarded", "X-Forwarded-For", "X-Real-IP"}) {
    if (req.find(h) != req.end()) return false;
  }
  boost::system::error_code ec;
  const auto a = boost::asio::ip::make_address(client, ec);
  if (ec) return false;
  if (a.is_v4()) return a.to_v4().is_loopback();
  const auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).is_loopback();
  return v6.is_loopback();
}

Response get_metrics(Call& c) {
  core::metrics::Gauges g;
  if (c.impl.opt.inbox_backlog != nullptr) g.inbox_backlog = c.impl.opt.inbox_backlog->load(std::memory_order_relaxed);
  if (auto* disk = c.impl.opt.disk_reserve; disk != nullptr) {
    // One statvfs(); a crossing it finds is alerted as one a sign-up finds.
    disk->check_now();
    const auto r = disk->reading();
    if (r.free) g.disk_free_bytes = static_cast<std::int64_t>(*r.free);
    g.disk_reserve_bytes = static_cast<std::int64_t>(r.reserve);
    if (r.guards_inbox) g.intake_refusing_for_space = r.refusing ? 1 : 0;
  }
  // The outbox's backlog, read now through the index of what is due; a
  // failed read leaves the gauge out rather than failing the scrape.
  const auto pending = c.w.store->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto n = tx.outbox_pending();
    if (!n) return std::unexpected(n.error());
    g.outbox_pending = *n;
    return {};
  });
  if (!pending) g.outbox_pending.reset();
  auto res = base(bhttp::status::ok);
  res.set(bhttp::field::content_type, core::metrics::kContentType);
  res.body() = core::metrics::process_registry().exposition(g);
  return res;
}

}  // namespace rempart::console::detail
