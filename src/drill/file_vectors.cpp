// Vectors 2 and 7: the files. A copy of the live data directory read as a
// thief would, then the audit log edited in the database file to hide what
// was done, and `audit verify` run as the responder would.
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include <toml++/toml.h>

#include "crypto/keyring.hpp"
#include "drill/instance.hpp"

namespace rempart::drill::detail {
namespace {

// A copy of the stopped instance's data directory and a configuration that
// points at it, for one tampering: the drill's own log stays intact.
Result<fs::path> copy_instance(const Instance& in, const std::string& name) {
  const fs::path dir = in.root / name;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!ec) fs::copy(in.data, dir / "data", fs::copy_options::recursive, ec);
  if (!ec) fs::permissions(dir / "data", fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return fail(Errc::io, "cannot copy the data directory");
  toml::table t;
  try {
    t = toml::parse_file(in.config.string());
  } catch (const toml::parse_error&) {
    return fail(Errc::config, "the drill's configuration does not parse");
  }
  auto* storage = t["storage"].as_table();
  if (storage == nullptr) return fail(Errc::config, "the configuration has no [storage]");
  storage->insert_or_assign("data_dir", (dir / "data").string());
  const fs::path config = dir / "rempart.toml";
  std::ofstream out(config, std::ios::trunc);
  out << t << "\n";
  if (!out) return fail(Errc::io, "cannot write a configuration");
  return config;
}

// Runs `statements` (fixed text; `?1` bound to `number`, `?2` to `text`)
// on the copy's rempart.db, as someone with the file would.
Result<std::int64_t> tamper(const fs::path& config, const std::vector<const char*>& statements, std::int64_t number,
                            const std::string& text) {
  const fs::path db_file = config.parent_path() / "data" / "rempart.db";
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return fail(Errc::storage, "cannot open the copy's rempart.db");
  }
  std::int64_t changed = 0;
  for (const char* sql : statements) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
      sqlite3_close(db);
      return fail(Errc::storage, "a tampering statement does not prepare");
    }
    if (sqlite3_bind_parameter_count(st) >= 1) sqlite3_bind_int64(st, 1, number);
    if (sqlite3_bind_parameter_count(st) >= 2) sqlite3_bind_text(st, 2, text.c_str(), -1, SQLITE_TRANSIENT);
    const int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
      sqlite3_close(db);
      return fail(Errc::storage, "a tampering statement failed");
    }
    changed += sqlite3_changes(db);
  }
  sqlite3_close(db);
  return changed;
}

// The seq of the first or last `supporter.reveal` entry of the attack.
Result<std::int64_t> reveal_seq(const fs::path& config, bool last) {
  const fs::path db_file = config.parent_path() / "data" / "rempart.db";
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return fail(Errc::storage, "cannot open the copy's rempart.db");
  }
  static constexpr const char* kFirst = "SELECT min(seq) FROM audit_entries WHERE action = 'supporter.reveal'";
  static constexpr const char* kLast = "SELECT max(seq) FROM audit_entries WHERE action = 'supporter.reveal'";
  sqlite3_stmt* st = nullptr;
  std::int64_t seq = 0;
  if (sqlite3_prepare_v2(db, last ? kLast : kFirst, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    seq = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (seq == 0) return fail(Errc::not_found, "no reveal in the audit log");
  return seq;
}

// `audit verify` found a fault (not merely failed to run).
bool detected(const Result<ChildResult>& r) {
  return r && r->exit_code == 1 && r->out.find("FAILED verification") != std::string::npos;
}

}  // namespace

VectorResult data_copy(Instance& in) {
  auto v = start(kDataCopy);
  in.say("2. a copy of the live data directory, read as a thief would");
  Needles::Found found;
  std::int64_t files = 0, bytes = 0, keyrings = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(in.data, ec)) {
    std::error_code entry;  // a file the live keeper removed meanwhile is simply gone
    if (!e.is_regular_file(entry)) continue;
    const auto size = e.file_size(entry);
    if (entry) continue;
    ++files;
    bytes += static_cast<std::int64_t>(size);
    if (e.path().extension() == ".keyring") ++keyrings;
    if (auto r = in.needles.scan_file(e.path(), found); !r && fs::exists(e.path(), entry)) {
      v.failure = r.error().internal;
    }
  }
  if (ec) v.failure = "cannot walk the data directory";
  // The thief's next move: the keys, from what they copied.
  auto keys = crypto::load_keeper_keyring(in.data);
  v.ran = true;
  v.exposed = static_cast<std::int64_t>(found.records());
  v.bound = 0;
  v.stopped_by = "every personal field is encrypted with a key kept outside the data directory (keeper.keyring)";
  v.alert_note = "a copied file leaves no trace rempart can see; the disk's and the backups' own access logs must";
  v.findings.push_back(std::to_string(files) + " files (" + fixed(static_cast<double>(bytes) / 1048576.0) +
                       " MiB: the databases, their write-ahead logs, the sealed export) searched for the " +
                       std::to_string(in.needles.emails()) + " e-mail addresses and " +
                       std::to_string(in.needles.phones()) + " phone numbers: " + std::to_string(found.emails.size()) +
                       " e-mails and " + std::to_string(found.phones.size()) + " phones found in clear");
  v.findings.push_back("key files in the copy: " + std::to_string(keyrings) + "; the keys that open the records " +
                       (keys ? "DID load from it" : "do not load from it") + ", so nothing in it can be decrypted");
  v.counts = {{"files", files},
              {"bytes", bytes},
              {"emails_in_clear", found.emails.size()},
              {"phones_in_clear", found.phones.size()},
              {"keyrings", keyrings},
              {"keys_loaded", keys.has_value()}};
  if (v.failure.empty() && (keyrings != 0 || keys)) v.failure = "a key file is in the data directory";
  return v;
}

VectorResult audit_tampering(Instance& in) {
  auto v = start(kAuditTampering);
  in.say("7. covering tracks: the audit log edited, then `audit verify`");
  // The log as it stands must verify, or a detection would mean nothing.
  auto control = in.rempart({"audit", "verify", "--config", in.config.string()}, std::chrono::seconds(300));
  if (!control || control->exit_code != 0) {
    v.failure = "the untouched audit log does not verify (exit " +
                (control ? std::to_string(control->exit_code) : control.error().internal) + ")";
    return v;
  }
  struct Attempt {
    const char* what;
    bool detected = false;
    double seconds = 0;
    std::int64_t changed = 0;
  };
  std::vector<Attempt> attempts;

  // 1. The stolen session's last reveal rewritten as something harmless.
  if (auto cfg = copy_instance(in, "tamper-edit"); !cfg) {
    v.failure = cfg.error().internal;
  } else if (auto seq = reveal_seq(*cfg, true); !seq) {
    v.failure = seq.error().internal;
  } else {
    static constexpr const char* kRewrite = "UPDATE audit_entries SET details = ?2 WHERE seq = ?1";
    auto changed = tamper(*cfg, {kRewrite}, *seq, R"({"fields":["name"],"reason":"routine check"})");
    if (!changed) {
      v.failure = changed.error().internal;
    } else {
      auto r = in.rempart({"audit", "verify", "--config", cfg->string()}, std::chrono::seconds(300));
      attempts.push_back({"one entry's details rewritten", detected(r), r ? r->seconds : 0, *changed});
    }
  }
  // 2. Everything from the attack's first reveal on deleted, with the
  //    checkpoints in the database that covered it.
  if (auto cfg = copy_instance(in, "tamper-cut"); !cfg) {
    v.failure = cfg.error().internal;
  } else if (auto seq = reveal_seq(*cfg, false); !seq) {
    v.failure = seq.error().internal;
  } else {
    static constexpr const char* kCutEntries = "DELETE FROM audit_entries WHERE seq >= ?1";
    static constexpr const char* kCutCheckpoints = "DELETE FROM audit_checkpoints WHERE seq >= ?1";
    auto changed = tamper(*cfg, {kCutEntries, kCutCheckpoints}, *seq, "");
    if (!changed) {
      v.failure = changed.error().internal;
    } else {
      auto r = in.rempart({"audit", "verify", "--config", cfg->string()}, std::chrono::seconds(300));
      attempts.push_back({"the log's tail deleted from the first reveal on", detected(r),
                          r ? r->seconds : 0, *changed});
    }
  }
  std::error_code ec;
  fs::remove_all(in.root / "tamper-edit", ec);
  fs::remove_all(in.root / "tamper-cut", ec);

  v.ran = true;
  v.bound = 0;
  v.unit = "edits not detected";
  v.stopped_by = "the hash-chained, MAC'd audit log and its signed checkpoints kept outside the database: "
                 "`rempart audit verify` finds any edit";
  v.alert_note = "nothing alerts at the moment of the edit; a serving keeper re-reads the whole chain every "
                 "[audit] verify_seconds (1 hour by default) and raises a critical alert";
  double slowest = 0;
  nlohmann::json details = nlohmann::json::array();
  for (const auto& a : attempts) {
    v.exposed += a.detected ? 0 : 1;
    slowest = std::max(slowest, a.seconds);
    v.findings.push_back(std::string(a.what) + " (" + std::to_string(a.changed) + (a.changed == 1 ? " row" : " rows") + "): " +
                         (a.detected ? "detected" : "NOT DETECTED") + " by `audit verify` in " + fixed(a.seconds) +
                         " s");
    details.push_back({{"what", a.what}, {"rows_changed", a.changed}, {"detected", a.detected}, {"seconds", a.seconds}});
  }
  v.counts = {{"attempts", details}, {"detection_seconds", slowest}, {"control_verified", true}};
  if (v.failure.empty() && attempts.size() != 2) v.failure = "a tampering could not be played";
  return v;
}

}  // namespace rempart::drill::detail
