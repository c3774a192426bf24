#include "audit/verify.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

#include <nlohmann/json.hpp>
#include <sodium.h>

#include "audit/chain.hpp"
#include "core/hex.hpp"

namespace rempart::audit {
namespace {

struct Claim {
  Checkpoint c;
  const char* source;          // "database" or "checkpoint file"
  std::ptrdiff_t position = -1;  // its place among the file's checkpoints, in file order; -1: database
};

class Faults {
 public:
  Faults(VerifyReport& report, std::size_t max) : report_(report), max_(max) {}
  void add(std::int64_t seq, std::string reason) {
    ++report_.fault_count;
    if (report_.faults.size() < max_) report_.faults.push_back({seq, std::move(reason)});
  }

 private:
  VerifyReport& report_;
  std::size_t max_;
};

bool same(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The file's checkpoints that confirmed restores set aside (RestorePoint):
// each restore's checkpoint line is an anchor; a file checkpoint before an
// anchor, for the restore entry's seq or later, was signed for the log the
// restore replaced.
class Restores {
 public:
  Restores(const std::vector<Claim>& claims, VerifyReport& report) : claims_(claims), report_(report) {}

  // Records `r`, confirmed if the file holds a checkpoint of it.
  void add(RestorePoint r) {
    r.confirmed = false;
    for (const Claim& cl : claims_) {
      if (cl.position >= 0 && cl.c.seq == r.seq && same(cl.c.head_hash, r.hash)) {
        if (!r.confirmed) anchors_.push_back({r.seq, cl.position});
        r.confirmed = true;
        anchors_.back().position = std::min(anchors_.back().position, cl.position);
      }
    }
    report_.restores.push_back(std::move(r));
  }

  // True, and counted, if `cl` was set aside by a confirmed restore.
  bool set_aside(const Claim& cl) {
    if (cl.position < 0) return false;
    for (const Anchor& a : anchors_) {
      if (cl.c.seq >= a.seq && cl.position < a.position) {
        ++report_.set_aside;
        report_.set_aside_last_seq = std::max(report_.set_aside_last_seq, cl.c.seq);
        return true;
      }
    }
    return false;
  }

 private:
  struct Anchor {
    std::int64_t seq;
    std::ptrdiff_t position;
  };
  const std::vector<Claim>& claims_;
  VerifyReport& report_;
  std::vector<Anchor> anchors_;
};

// A `backup.restore` entry must follow the head of the backup it names
// directly: the restore writes it first on the restored copy. Returns its
// restore point, or nullopt when its details do not say so.
std::optional<RestorePoint> restore_point(const store::AuditEntryRow& row) {
  const auto d = nlohmann::json::parse(row.details, nullptr, false);
  if (!d.is_object()) return std::nullopt;
  const auto seq = d.find("backup_seq");
  const auto head = d.find("backup_head");
  const auto taken = d.find("backup_taken_at");
  if (seq == d.end() || head == d.end() || taken == d.end() || !seq->is_number_integer() || !head->is_string() ||
      !taken->is_number_integer()) {
    return std::nullopt;
  }
  const std::string expected_head = row.seq == 1 ? std::string() : core::to_hex(row.prev_hash);
  if (seq->get<std::int64_t>() != row.seq - 1 || head->get_ref<const std::string&>() != expected_head) {
    return std::nullopt;
  }
  return RestorePoint{row.seq, row.hash, taken->get<std::int64_t>(), false};
}

}  // namespace

Result<VerifyReport> verify(store::KeeperStore& store, const crypto::KeeperKeyring& keys, const VerifyOptions& opts) {
  const auto started = std::chrono::steady_clock::now();
  VerifyReport report;
  Faults faults(report, opts.max_faults);

  // 1. Checkpoints: the database's, then the outside file's. Only those
  // whose signature verifies are held against the chain.
  std::vector<Claim> claims;
  auto db = store.audit_checkpoints();
  if (!db) return std::unexpected(db.error());
  report.db_checkpoints = db->size();
  for (auto& c : *db) {
    if (!checkpoint_valid(keys, c)) {
      faults.add(c.seq, "database checkpoint at seq " + std::to_string(c.seq) + ": signature does not verify");
      continue;
    }
    claims.push_back({std::move(c), "database"});
  }
  if (opts.checkpoint_file) {
    auto file = read_checkpoint_file(*opts.checkpoint_file);
    if (!file) {
      if (file.error().code != Errc::not_found || report.db_checkpoints != 0) {
        faults.add(0, "checkpoint file: " + file.error().internal);
      }
    } else {
      report.file_read = true;
      report.file_checkpoints = file->size();
      std::ptrdiff_t position = 0;
      for (auto& c : *file) {
        const std::ptrdiff_t at = position++;
        if (!checkpoint_valid(keys, c)) {
          faults.add(c.seq, "checkpoint file entry for seq " + std::to_string(c.seq) + ": signature does not verify");
          continue;
        }
        claims.push_back({std::move(c), "checkpoint file", at});
      }
    }
  }
  std::stable_sort(claims.begin(), claims.end(), [](const Claim& a, const Claim& b) { return a.c.seq < b.c.seq; });
  Restores restores(claims, report);

  // 2. Resuming after a verified prefix: its last entry must be unchanged.
  // When it is not, the whole chain is verified to say where it broke.
  std::size_t next_claim = 0;
  std::int64_t expected = 1;
  store::Bytes prev(kDigestSize, 0);
  if (opts.after && opts.after->seq > 0) {
    const VerifiedPrefix& a = *opts.after;
    for (const RestorePoint& r : a.restores) restores.add(r);
    std::optional<store::AuditEntryRow> anchor;
    auto read = store.scan_audit(a.seq, [&](const store::AuditEntryRow& row) {
      anchor = row;
      return false;
    });
    if (!read) return std::unexpected(read.error());
    if (!anchor || anchor->seq != a.seq) {
      faults.add(a.seq, "entry " + std::to_string(a.seq) +
                            ", found whole by an earlier verification, is missing (truncated or rolled back)");
    } else if (!same(anchor->hash, a.hash)) {
      faults.add(a.seq, "entry " + std::to_string(a.seq) +
                            ": hash differs from the one an earlier verification found (log rewritten)");
    } else {
      report.from_seq = a.seq + 1;
      report.last_seq = a.seq;
      report.last_hash = a.hash;
      report.covered_seq = a.covered_seq;
      // Checkpoints below the anchor were held against the prefix when it
      // was verified; those naming the anchor are held against it now.
      while (next_claim < claims.size() && claims[next_claim].c.seq < a.seq) ++next_claim;
      for (; next_claim < claims.size() && claims[next_claim].c.seq == a.seq; ++next_claim) {
        if (same(claims[next_claim].c.head_hash, a.hash)) {
          report.covered_seq = a.seq;
        } else if (!restores.set_aside(claims[next_claim])) {
          faults.add(a.seq, "entry " + std::to_string(a.seq) + ": hash differs from the one signed in the " +
                                claims[next_claim].source + " checkpoint (log rewritten or rolled back)");
        }
      }
      expected = a.seq + 1;
      prev = a.hash;
    }
  }

  // 3. The chain, in one streaming pass.
  std::string scratch;
  std::optional<crypto::AuditMac> mac;
  auto scanned = store.scan_audit(expected, [&](const store::AuditEntryRow& row) {
    ++report.entries;
    report.last_seq = row.seq;
    bool linked = true;
    bool whole = false;  // linked, and its hash and MAC verify
    if (row.seq != expected) {
      if (row.seq > expected) {
        faults.add(expected, "entries " + std::to_string(expected) + ".." + std::to_string(row.seq - 1) +
                                 " are missing");
      } else {
        faults.add(row.seq, "entry out of sequence");
      }
      linked = false;  // the gap is the fault; do not report the link too
    }
    if (linked && !same(row.prev_hash, prev)) {
      faults.add(row.seq, "entry " + std::to_string(row.seq) + ": previous-hash does not match entry " +
                              std::to_string(row.seq - 1) + " (entry removed, inserted or reordered)");
    } else {
      const Digest h = entry_hash(row, scratch);
      if (!same(h, row.hash)) {
        faults.add(row.seq, "entry " + std::to_string(row.seq) + ": content does not match its hash (edited)");
      } else {
        if (!mac || mac->version() != row.key_version) {
          auto m = crypto::AuditMac::of(keys, row.key_version);
          mac = m ? std::optional(*m) : std::nullopt;
        }
        if (!mac) {
          faults.add(row.seq, "entry " + std::to_string(row.seq) + ": MAC key version " +
                                  std::to_string(row.key_version) + " is not in the keyring");
        } else if (!entry_mac_valid(*mac, h, row.mac)) {
          faults.add(row.seq, "entry " + std::to_string(row.seq) +
                                  ": MAC does not verify (forged or rewritten without the audit key)");
        } else {
          whole = linked;
        }
      }
    }
    if (whole && row.action == action::backup_restore) {
      auto point = restore_point(row);
      if (point) {
        restores.add(std::move(*point));
      } else {
        faults.add(row.seq, "entry " + std::to_string(row.seq) +
                                ": a restore entry that does not directly follow the backup head it names");
      }
    }
    while (next_claim < claims.size() && claims[next_claim].c.seq < row.seq) {
      if (restores.set_aside(claims[next_claim])) {
        ++next_claim;
        continue;
      }
      // A checkpoint for a seq the scan skipped (a gap already reported).
      faults.add(claims[next_claim].c.seq, std::string(claims[next_claim].source) + " checkpoint names seq " +
                                                std::to_string(claims[next_claim].c.seq) + ", which is missing");
      ++next_claim;
    }
    while (next_claim < claims.size() && claims[next_claim].c.seq == row.seq) {
      const Claim& cl = claims[next_claim];
      if (same(cl.c.head_hash, row.hash)) {
        report.covered_seq = row.seq;
      } else if (!restores.set_aside(cl)) {
        faults.add(row.seq, "entry " + std::to_string(row.seq) + ": hash differs from the one signed in the " +
                                cl.source + " checkpoint (log rewritten or rolled back)");
      }
      ++next_claim;
    }
    prev = row.hash;
    report.last_hash = row.hash;
    expected = row.seq + 1;
    return true;
  });
  if (!scanned) return std::unexpected(scanned.error());

  // 4. Checkpoints beyond the end: the tail was cut or the file rolled back,
  // unless a restore set them aside or the log is a copy of one that went on.
  const Claim* beyond = nullptr;
  for (; next_claim < claims.size(); ++next_claim) {
    const Claim& cl = claims[next_claim];
    if (restores.set_aside(cl)) continue;
    if (opts.file_may_run_ahead && cl.position >= 0) {
      ++report.ahead;
      report.ahead_last_seq = std::max(report.ahead_last_seq, cl.c.seq);
      continue;
    }
    beyond = &cl;
  }
  if (beyond != nullptr) {
    const Claim& cl = *beyond;
    faults.add(report.last_seq + 1, "entries " + std::to_string(report.last_seq + 1) + ".." +
                                        std::to_string(cl.c.seq) + " are missing: the " + cl.source +
                                        " checkpoint names seq " + std::to_string(cl.c.seq) + " but the log ends at " +
                                        std::to_string(report.last_seq) + " (truncated or rolled back)");
  }
  std::stable_sort(report.faults.begin(), report.faults.end(),
                   [](const Fault& a, const Fault& b) { return a.seq < b.seq; });
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace rempart::audit
