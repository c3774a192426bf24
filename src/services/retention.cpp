#include "services/retention.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "audit/chain.hpp"

namespace rempart::services {
namespace {

constexpr std::size_t kChunk = 500;

struct Policy {
  std::string_view name;
  std::int64_t seconds;  // 0: off
};

}  // namespace

Result<std::int64_t> Retention::count(std::string_view policy, std::int64_t cutoff) {
  std::int64_t n = 0;
  store::Bytes after;
  for (;;) {
    auto ids = store_.retention_candidates(policy, cutoff, after, kChunk);
    if (!ids) return std::unexpected(ids.error());
    n += static_cast<std::int64_t>(ids->size());
    if (ids->size() < kChunk) return n;
    after = ids->back();
  }
}

Result<std::int64_t> Retention::apply(std::string_view policy, std::int64_t cutoff, const std::string& actor) {
  std::int64_t n = 0;
  store::Bytes after;
  for (bool more = true; more;) {
    auto r = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
      auto ids = tx.retention_candidates(policy, cutoff, after, kChunk);
      if (!ids) return std::unexpected(ids.error());
      more = ids->size() == kChunk;
      if (!ids->empty()) after = ids->back();
      auto log = audit::Appender::begin(tx, keys_);
      if (!log) return std::unexpected(log.error());
      for (const auto& id : *ids) {
        if (policy == "phone") {
          auto row = tx.find_supporter(id);
          if (!row) return std::unexpected(row.error());
          if (!*row) continue;
          auto opened = vault_.open_for_retention(**row);
          if (!opened) return std::unexpected(opened.error());
          core::Person p = std::move(*opened);
          p.phone.clear();
          // Dropping the phone is no activity: updated_at stays.
          const std::int64_t kept = (*row)->updated_at;
          auto w = writer_.rewrite(tx, **row, p, kept);
          wipe_person(p);
          if (!w) return w;
        } else {
          auto gone = tx.erase_supporter(id);
          if (!gone) return std::unexpected(gone.error());
          if (!*gone) continue;
        }
        ++n;
        auto e = log->append(audit::Event{actor, std::string(audit::action::supporter_retention), audit::to_hex(id),
                                          {{"policy", policy}}, ""},
                             audit::now_us());
        if (!e) return std::unexpected(e.error());
      }
      return {};
    });
    if (!r) return std::unexpected(r.error());
  }
  return n;
}

Result<RetentionCounts> Retention::report(std::int64_t now) {
  RetentionCounts c;
  if (o_.unconfirmed_days > 0) {
    auto n = count("unconfirmed", now - o_.unconfirmed_days * 86400);
    if (!n) return std::unexpected(n.error());
    c.unconfirmed = *n;
  }
  if (o_.record_months > 0) {
    auto n = count("inactive", now - o_.record_months * kSecondsPerMonth);
    if (!n) return std::unexpected(n.error());
    c.inactive = *n;
  }
  if (o_.phone_months > 0) {
    auto n = count("phone", now - o_.phone_months * kSecondsPerMonth);
    if (!n) return std::unexpected(n.error());
    c.phone = *n;
  }
  return c;
}

Result<RetentionCounts> Retention::run(std::int64_t now, const std::string& actor, bool dry_run) {
  RetentionCounts c;
  if (dry_run) {
    auto r = report(now);
    if (!r) return r;
    c = *r;
  } else {
    // Erasures first: a phone is not dropped from a record about to go.
    if (o_.unconfirmed_days > 0) {
      auto n = apply("unconfirmed", now - o_.unconfirmed_days * 86400, actor);
      if (!n) return std::unexpected(n.error());
      c.unconfirmed = *n;
    }
    if (o_.record_months > 0) {
      auto n = apply("inactive", now - o_.record_months * kSecondsPerMonth, actor);
      if (!n) return std::unexpected(n.error());
      c.inactive = *n;
    }
    if (o_.phone_months > 0) {
      auto n = apply("phone", now - o_.phone_months * kSecondsPerMonth, actor);
      if (!n) return std::unexpected(n.error());
      c.phone = *n;
    }
    if (c.unconfirmed + c.inactive != 0 || c.phone != 0) flush_after_erasure(store_);
  }
  nlohmann::json d = {{"inactive", c.inactive},
                      {"phone", c.phone},
                      {"unconfirmed", c.unconfirmed},
                      {"record_months", o_.record_months},
                      {"phone_months", o_.phone_months},
                      {"unconfirmed_days", o_.unconfirmed_days}};
  if (dry_run) d["dry_run"] = true;
  auto e = store_.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto s = audit::record(tx, keys_, audit::Event{actor, std::string(audit::action::retention_run), "", d, ""});
    if (!s) return std::unexpected(s.error());
    return {};
  });
  if (!e) return std::unexpected(e.error());
  return c;
}

RetentionLoop::RetentionLoop(Retention& retention, std::chrono::seconds first, std::chrono::seconds every)
    : retention_(retention), first_(first), every_(every), thread_([this](std::stop_token st) { run(st); }) {}

RetentionLoop::~RetentionLoop() { stop(); }

void RetentionLoop::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  cv_.notify_all();
  thread_.join();
}

void RetentionLoop::run(std::stop_token stop) {
  auto next = std::chrono::steady_clock::now() + first_;
  while (!stop.stop_requested()) {
    {
      MutexLock lock(mu_);
      lock.sleep_until(cv_, stop, next);
    }
    if (stop.stop_requested()) return;
    auto r = retention_.run(unix_now(), std::string(audit::kKeeperActor), false);
    if (!r) {
      spdlog::error("keeper: retention run failed ({}); tried again tomorrow", errc_name(r.error().code));
    } else if (r->inactive + r->phone + r->unconfirmed != 0) {
      spdlog::info("keeper: retention: {} inactive records erased, {} phone numbers dropped, {} unconfirmed "
                   "sign-ups erased",
                   r->inactive, r->phone, r->unconfirmed);
    }
    next = std::chrono::steady_clock::now() + every_;
  }
}

}  // namespace rempart::services
