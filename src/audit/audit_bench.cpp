// Throughput of the audit log, as JSON lines for scripts/bench:
//   audit_bench [ENTRIES=1000000] [--keep DIR]
// Appends ENTRIES entries to a fresh SQLite file in transactions of 1000
// (like the fold loop), a mix of keeper sign-ups and organisers' reveals and
// listings, then verifies the whole log and runs the blast-radius report for
// one organiser and for a one-hour window across everyone.
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <sodium.h>

#include "audit/blast_radius.hpp"
#include "audit/chain.hpp"
#include "audit/checkpoint.hpp"
#include "audit/verify.hpp"
#include "crypto/secret.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace {

using namespace rempart;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void figure(const char* name, double value, const char* unit) {
  std::printf("{\"figure\":\"%s\",\"value\":%.1f,\"unit\":\"%s\"}\n", name, value, unit);
  std::fflush(stdout);
}

int die(const char* what, const Error& e) {
  std::fprintf(stderr, "audit_bench: %s: %s\n", what, e.internal.c_str());
  return 1;
}

std::string record_id(std::uint64_t i) {
  std::uint8_t b[16] = {};
  for (int k = 0; k < 8; ++k) b[k] = static_cast<std::uint8_t>(i >> (8 * k));
  return audit::to_hex(b);
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t n = 1'000'000;
  std::filesystem::path keep;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--keep" && i + 1 < argc) {
      keep = argv[++i];
    } else {
      n = std::stoll(a);
    }
  }
  if (auto r = crypto::init(); !r) return die("init", r.error());
  std::string tmpl = (std::filesystem::temp_directory_path() / "rempart-audit-bench-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return 1;
  const std::filesystem::path dir = keep.empty() ? std::filesystem::path(tmpl) : keep;
  std::filesystem::create_directories(dir);
  const auto db = dir / "audit-bench.db";
  auto keys = crypto::KeeperKeyring::generate();
  if (!keys) return die("keys", keys.error());
  auto st = store::open_sqlite_keeper(db);
  if (!st) return die("open", st.error());
  auto& store = **st;

  constexpr std::int64_t kPerTx = 1000;
  constexpr int kOrganisers = 50;
  const std::int64_t t0 = 1'780'000'000'000'000;  // entries 1 ms apart: 1M span ~17 minutes
  auto started = Clock::now();
  for (std::int64_t base = 0; base < n; base += kPerTx) {
    auto r = store.transact([&](store::KeeperTx& tx) -> Result<void> {
      auto a = audit::Appender::begin(tx, *keys);
      if (!a) return std::unexpected(a.error());
      for (std::int64_t i = base; i < std::min(n, base + kPerTx); ++i) {
        audit::Event e;
        const std::uint64_t u = static_cast<std::uint64_t>(i);
        if (i % 100 < 97) {
          e = {"keeper", std::string(audit::action::supporter_create), record_id(u), {{"via", "intake"}}, ""};
        } else if (i % 100 < 99) {
          e = {"account:organiser-" + std::to_string(u / 100 % kOrganisers), std::string(audit::action::supporter_reveal),
               record_id(u * 7919 % static_cast<std::uint64_t>(n)), {{"fields", {"email"}}, {"reason", "phone bank"}},
               "10.0.0.8"};
        } else {
          nlohmann::json ids = nlohmann::json::array();
          for (std::uint64_t k = 0; k < 20; ++k) ids.push_back(record_id((u + k * 104729) % static_cast<std::uint64_t>(n)));
          e = {"account:organiser-" + std::to_string(u / 100 % kOrganisers), std::string(audit::action::supporter_list), "",
               {{"records", ids}, {"page", 1}}, "10.0.0.8"};
        }
        if (auto s = a->append(e, t0 + i * 1000); !s) return std::unexpected(s.error());
      }
      return {};
    });
    if (!r) return die("append", r.error());
  }
  const double append_s = seconds_since(started);
  figure("audit_append_per_s", static_cast<double>(n) / append_s, "entries/s");

  const auto outside = dir / "audit-bench.checkpoints";
  std::vector<std::unique_ptr<audit::CheckpointSink>> sinks;
  sinks.push_back(std::make_unique<audit::FileCheckpointSink>(outside));
  audit::Checkpointer cp(*keys, store, {}, std::move(sinks));
  if (auto c = cp.force(audit::now_us()); !c) return die("checkpoint", c.error());

  started = Clock::now();
  audit::VerifyOptions vo;
  vo.checkpoint_file = outside;
  vo.max_faults = 10;
  auto v = audit::verify(store, *keys, vo);
  if (!v) return die("verify", v.error());
  if (!v->ok()) {
    std::fprintf(stderr, "audit_bench: verify found %zu faults\n", v->fault_count);
    return 1;
  }
  figure("audit_verify_per_s", static_cast<double>(v->entries) / seconds_since(started), "entries/s");

  // What the auditor's page reads between two whole verifications: the
  // verified prefix's last entry, then 100 entries appended since.
  const audit::VerifiedPrefix prefix{v->last_seq, v->last_hash, v->covered_seq, v->restores};
  auto more = store.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto a = audit::Appender::begin(tx, *keys);
    if (!a) return std::unexpected(a.error());
    for (int i = 0; i < 100; ++i) {
      if (auto s = a->append(audit::Event{"account:auditor", "audit.query", "", {{"shown", 100}}, ""},
                             t0 + (n + i) * 1000);
          !s) {
        return std::unexpected(s.error());
      }
    }
    return {};
  });
  if (!more) return die("append", more.error());
  started = Clock::now();
  vo.after = prefix;
  auto resumed = audit::verify(store, *keys, vo);
  if (!resumed) return die("verify (resumed)", resumed.error());
  if (!resumed->ok() || resumed->entries != 100) {
    std::fprintf(stderr, "audit_bench: resumed verify found %zu faults, read %lld\n", resumed->fault_count,
                 static_cast<long long>(resumed->entries));
    return 1;
  }
  figure("audit_verify_resumed_100_ms", seconds_since(started) * 1000, "ms");
  vo.after.reset();

  // Baselines of verify, on the same entries: reading them back alone, and
  // hashing the same canonical encodings with BLAKE2b alone (the bytes are
  // encoded beforehand, outside the timing; verify also checks each MAC, the
  // links and the signed checkpoints).
  std::vector<std::string> encoded;
  encoded.reserve(static_cast<std::size_t>(n));
  started = Clock::now();
  std::uint64_t scanned = 0;
  auto sc = store.scan_audit(1, [&](const store::AuditEntryRow&) {
    ++scanned;
    return true;
  });
  if (!sc) return die("scan", sc.error());
  figure("audit_scan_per_s", static_cast<double>(scanned) / seconds_since(started), "entries/s");
  auto en = store.scan_audit(1, [&](const store::AuditEntryRow& row) {
    audit::encode_entry(row, encoded.emplace_back());
    return true;
  });
  if (!en) return die("scan", en.error());
  std::uint8_t digest[32];
  volatile unsigned char sink = 0;  // keeps the loop from being optimised away
  started = Clock::now();
  for (const auto& e : encoded) {
    crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(e.data()), e.size(), nullptr, 0);
    sink = static_cast<unsigned char>(sink ^ digest[0]);
  }
  figure("audit_blake2b_per_s", static_cast<double>(encoded.size()) / seconds_since(started), "entries/s");

  started = Clock::now();
  auto b = audit::blast_radius(store, {"account:organiser-7"});
  if (!b) return die("blast radius", b.error());
  figure(n == 1'000'000 ? "blast_radius_ms_1M" : "blast_radius_actor_ms", seconds_since(started) * 1000, "ms");
  std::fprintf(stderr, "audit_bench: organiser-7: %s\n", audit::summary(*b).c_str());

  started = Clock::now();
  auto w = audit::blast_radius(store, {"", t0 + n * 500, t0 + n * 500 + 3600LL * 1'000'000});
  if (!w) return die("blast radius window", w.error());
  figure(n == 1'000'000 ? "blast_radius_window_ms_1M" : "blast_radius_window_ms", seconds_since(started) * 1000, "ms");
  std::fprintf(stderr, "audit_bench: one hour, everyone: %s\n", audit::summary(*w).c_str());

  std::error_code ec;
  if (keep.empty()) std::filesystem::remove_all(dir, ec);
  return 0;
}
