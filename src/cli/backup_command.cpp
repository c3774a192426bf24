#include "cli/backup_command.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "audit/backup_manifest.hpp"
#include "audit/chain.hpp"
#include "audit/checkpoint.hpp"
#include "audit/verify.hpp"
#include "cli/commands.hpp"
#include "cli/config.hpp"
#include "cli/keeper_access.hpp"
#include "core/fd.hpp"
#include "core/hex.hpp"
#include "core/metrics.hpp"
#include "crypto/audit_keys.hpp"
#include "crypto/keyring.hpp"
#include "crypto/secret.hpp"
#include "store/backends.hpp"
#include "store/sqlite/backup.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace rempart::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kEngine = "sqlite";

std::string errno_text(int e) { return std::strerror(e); }

fs::path full_path(const fs::path& p) { return fs::absolute(p).lexically_normal(); }

// A refusal before anything was done: a usage error.
int refuse(const std::string& message) {
  std::cerr << "rempart: " << message << "\n";
  return 2;
}

int failed(const std::string& message) {
  std::cerr << "rempart: " << message << "\n";
  return 1;
}

std::string postgres_refusal(std::string_view command) {
  return "this configuration keeps its records in PostgreSQL ([storage] backend = \"postgresql\"); `rempart backup " +
         std::string(command) +
         "` is for the files of the embedded SQLite engine. Back PostgreSQL up with pgBackRest or pg_basebackup "
         "(docs/postgresql.md, \"High availability with the usual tools\") and check a restored database with "
         "`rempart audit verify` (docs/operations.md, \"Backups\"). Nothing was done.";
}

// Whether `dir` exists: it must be a directory with nothing in it, or not
// exist. Errc::invalid_input otherwise (nothing is ever written over).
Result<bool> new_or_empty(const fs::path& dir, std::string_view option) {
  std::error_code ec;
  const auto st = fs::symlink_status(dir, ec);
  if (st.type() == fs::file_type::not_found) return false;
  if (ec) return fail(Errc::io, "cannot look at " + dir.string() + ": " + ec.message());
  if (st.type() != fs::file_type::directory) {
    return fail(Errc::invalid_input, dir.string() + " exists and is not a directory; give " + std::string(option) +
                                         " a new or empty directory");
  }
  if (!fs::is_empty(dir, ec) || ec) {
    return fail(Errc::invalid_input, dir.string() + " is not empty; give " + std::string(option) +
                                         " a new or empty directory (nothing is ever written over)");
  }
  return true;
}

Result<void> make_private_dir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0) return fail(Errc::io, "cannot create " + dir.string() + ": " + errno_text(errno));
  // mkdir's mode is filtered by the umask; state the intent.
  if (::chmod(dir.c_str(), 0700) != 0) return fail(Errc::io, "cannot set mode 0700 on " + dir.string());
  return {};
}

Result<void> fsync_dir(const fs::path& dir) {
  core::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) return fail(Errc::io, "cannot sync " + dir.string() + ": " + errno_text(errno));
  return {};
}

Result<void> write_new_file(const fs::path& path, std::string_view text) {
  core::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return fail(Errc::io, "cannot create " + path.string() + ": " + errno_text(errno));
  if (::fchmod(fd.get(), 0600) != 0) return fail(Errc::io, "cannot set mode 0600 on " + path.string());
  while (!text.empty()) {
    const ssize_t n = ::write(fd.get(), text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(Errc::io, "cannot write " + path.string() + ": " + errno_text(errno));
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fsync(fd.get()) != 0) return fail(Errc::io, "cannot sync " + path.string() + ": " + errno_text(errno));
  if (::close(fd.release()) != 0) return fail(Errc::io, "cannot close " + path.string());
  return {};
}

// What a command writes into a directory it was given new or empty: removed
// (with what SQLite made beside each file) unless the command completes.
// Declare it before any store opened on those files, so the store closes
// first.
class Written {
 public:
  Written() = default;
  Written(const Written&) = delete;
  Written& operator=(const Written&) = delete;
  ~Written() {
    if (kept_) return;
    for (const fs::path& f : files_) {
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) ::unlink((f.string() + suffix).c_str());
    }
    if (created_) ::rmdir(dir_.c_str());
  }
  void dir(const fs::path& d, bool created) {
    dir_ = d;
    created_ = created;
  }
  void add(const fs::path& f) { files_.push_back(f); }
  void keep() noexcept { kept_ = true; }

 private:
  fs::path dir_;
  bool created_ = false;
  std::vector<fs::path> files_;
  bool kept_ = false;
};

// A backup never sits with the keys (who takes one would take both), nor
// in the data directory (it would go with it), nor holds the checkpoint
// file that would expose its own rollback.
Result<void> check_backup_place(const fs::path& dir, const Config& c) {
  if (crypto::path_is_within(dir, c.keys_dir) || crypto::path_is_within(c.keys_dir, dir)) {
    return fail(Errc::invalid_input, dir.string() + " is inside the key directory " + c.keys_dir.string() +
                                         ": a backup must never sit with the keys; choose a directory elsewhere");
  }
  if (crypto::path_is_within(dir, c.data_dir) || crypto::path_is_within(c.data_dir, dir)) {
    return fail(Errc::invalid_input, dir.string() + " is inside the data directory " + c.data_dir.string() +
                                         ": a backup there is lost with it; choose a directory elsewhere");
  }
  if (!c.audit.checkpoint_file.empty() && crypto::path_is_within(c.audit.checkpoint_file, dir)) {
    return fail(Errc::invalid_input, "the checkpoint file " + c.audit.checkpoint_file.string() + " is inside " +
                                         dir.string() + "; choose another directory");
  }
  return {};
}

std::string short_hash(std::span<const std::uint8_t> h) { return core::to_hex(h).substr(0, 16); }

// ---- Reading and checking a backup -------------------------------------

struct Keys {
  Config config;
  KeySource source;  // outlives the keyring it opened
  crypto::KeeperKeyring keys;
};

// The configuration and the keeper keyring, opened as open_keeper opens
// it: what checking a backup needs (no data directory: the machine may
// have lost it).
Result<Keys> load_keys(const fs::path& config_file) {
  auto c = load_config(config_file);
  if (!c) return std::unexpected(c.error());
  setup_logging(c->log_level);
  if (auto r = crypto::init(); !r) return std::unexpected(r.error());
  auto source = open_key_source(*c);
  if (!source) return std::unexpected(source.error());
  // Wired to the token's signer: a restore signs its checkpoint.
  auto keys = source->load(c->keys_dir);
  if (!keys) return std::unexpected(keys.error());
  return Keys{std::move(*c), std::move(*source), std::move(*keys)};
}

// The manifest of `dir`, its signature checked, naming the files of a
// backup of this rempart's engine. Errc::invalid_input or Errc::crypto.
Result<audit::BackupManifest> read_manifest(const fs::path& dir, const crypto::KeeperKeyring& keys) {
  const fs::path path = dir / audit::kManifestFile;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return fail(Errc::not_found, dir.string() + " does not exist");
  if (!fs::is_directory(dir, ec)) return fail(Errc::not_found, dir.string() + " is not a directory");
  if (!fs::is_regular_file(path, ec)) {
    return fail(Errc::not_found, dir.string() + " holds no " + std::string(audit::kManifestFile) +
                                     ": it is not a rempart backup, or not a whole one");
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) return fail(Errc::io, "cannot read " + path.string());
  auto m = audit::parse_manifest(text.str());
  if (!m) return fail(Errc::invalid_input, path.string() + ": " + m.error().internal);
  if (!crypto::AuditVerifier::of(keys, m->key_version)) {
    return fail(Errc::crypto, path.string() + " is signed with audit key version " + std::to_string(m->key_version) +
                                  ", which this keyring does not hold: the backup is of another instance, or the "
                                  "keyring lacks that version");
  }
  if (!audit::manifest_valid(keys, *m)) {
    return fail(Errc::crypto, path.string() +
                                  ": its signature does not verify: the manifest was changed after the backup was "
                                  "made, or the backup is of another instance");
  }
  std::set<std::string> named;
  for (const auto& f : m->files) named.insert(f.name);
  const std::set<std::string> expected(store::sqlite::kBackupFiles.begin(), store::sqlite::kBackupFiles.end());
  if (m->engine != kEngine || named != expected) {
    return fail(Errc::invalid_input, path.string() + " is a backup of engine " + m->engine +
                                         " naming other files than this rempart backs up and restores");
  }
  return m;
}

// Every entry of `dir` is the manifest or a file it names.
Result<void> check_listing(const fs::path& dir, const audit::BackupManifest& m) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const bool named = name == audit::kManifestFile ||
                       std::any_of(m.files.begin(), m.files.end(), [&](const auto& f) { return f.name == name; });
    if (!named) {
      return fail(Errc::invalid_input, dir.string() + " holds " + name +
                                           ", which the manifest does not name: a backup holds its files only");
    }
  }
  if (ec) return fail(Errc::io, "cannot list " + dir.string() + ": " + ec.message());
  return {};
}

// Each file of the manifest, from `from`, hashed (and copied into `to`,
// when given) in one read, then SQLite's quick_check of the file kept.
Result<void> check_files(const fs::path& from, const fs::path* to, const audit::BackupManifest& m, Written* written) {
  for (const audit::BackupFile& f : m.files) {
    const fs::path target = to != nullptr ? *to / f.name : fs::path();
    auto got = audit::hash_file(from / f.name, to != nullptr ? &target : nullptr);
    if (!got) return std::unexpected(got.error());
    if (to != nullptr && written != nullptr) written->add(target);
    if (got->bytes != f.bytes) {
      return fail(Errc::invalid_input, (from / f.name).string() + " holds " + std::to_string(got->bytes) +
                                           " bytes, the manifest says " + std::to_string(f.bytes) +
                                           ": the file was cut short or changed after the backup");
    }
    if (got->blake2b != f.blake2b) {
      return fail(Errc::invalid_input, (from / f.name).string() +
                                           ": its content differs from the manifest's (BLAKE2b-256): the file was "
                                           "changed or damaged after the backup");
    }
    if (auto q = store::sqlite::check_copy(to != nullptr ? target : from / f.name); !q) return q;
  }
  return {};
}

std::string checkpoint_file_of(const Config& c) { return c.audit.checkpoint_file.string(); }

// The copy's audit log: its head must be the manifest's, then the whole
// verification (audit verify's), the outside file allowed to know later
// heads. Prints what it found; true when it holds.
Result<bool> check_log(const fs::path& records, const audit::BackupManifest& m, const Keys& k) {
  auto st = store::open_sqlite_keeper_copy(records);
  if (!st) return std::unexpected(st.error());
  audit::VerifyOptions opts;
  if (!k.config.audit.checkpoint_file.empty()) opts.checkpoint_file = k.config.audit.checkpoint_file;
  opts.file_may_run_ahead = true;
  auto r = audit::verify(**st, k.keys, opts);
  if (!r) return std::unexpected(r.error());
  std::cout << "rempart: audit log of the copy: " << r->entries << " entries (last seq " << r->last_seq
            << (r->last_seq == m.head_seq ? ", the manifest's head" : "") << "), " << r->db_checkpoints
            << " checkpoints in it, ";
  if (r->file_read) {
    std::cout << r->file_checkpoints << " in " << checkpoint_file_of(k.config);
    if (r->ahead > 0) std::cout << " (" << r->ahead << " of them for later heads, up to seq " << r->ahead_last_seq << ")";
    std::cout << "\n";
  } else {
    std::cout << "no outside checkpoint file\n";
  }
  for (const auto& rp : r->restores) {
    std::cout << "rempart: entry " << rp.seq << " records a restore from a backup of seq " << rp.seq - 1
              << " taken " << format_time(rp.backup_taken_at_us) << "\n";
  }
  bool ok = r->ok();
  const bool head_matches = r->last_seq == m.head_seq && (m.head_seq == 0 || r->last_hash == m.head_hash);
  if (!head_matches) {
    std::cout << "rempart: the copy's audit log ends at seq " << r->last_seq << ", the manifest says seq " << m.head_seq
              << " (hash " << short_hash(m.head_hash) << "…): the records' file is not the one the manifest signed\n";
    ok = false;
  }
  if (!r->ok()) {
    const auto* first = r->first();
    std::cout << "rempart: the copy's audit log FAILED verification: " << r->fault_count << " fault(s)\n";
    std::cout << "first bad entry: seq " << first->seq << ": " << first->reason << "\n";
    for (std::size_t i = 1; i < r->faults.size() && i < 10; ++i) {
      std::cout << "  also: seq " << r->faults[i].seq << ": " << r->faults[i].reason << "\n";
    }
  }
  if (ok && !r->file_read) {
    std::cout << "rempart: warning: without the outside checkpoint file, a copy of a log cut short or rewritten "
                 "with the keys cannot be told apart\n";
  }
  return ok;
}

void print_manifest(const fs::path& dir, const audit::BackupManifest& m) {
  std::cout << "rempart: backup " << dir.string() << ", taken " << format_time(m.created_at_us) << " by rempart "
            << m.rempart_version << "; manifest signed with audit key version " << m.key_version << ": OK\n";
}

void print_files(const audit::BackupManifest& m) {
  std::cout << "rempart: ";
  for (std::size_t i = 0; i < m.files.size(); ++i) {
    std::cout << (i == 0 ? "" : ", ") << m.files[i].name << " (" << m.files[i].bytes << " bytes)";
  }
  std::cout << ": as in the manifest (BLAKE2b-256), SQLite quick_check OK\n";
}

}  // namespace

int run_backup_create(const BackupArgs& a) {
  ::umask(077);
  auto c = load_config(a.config);
  if (!c) return report(c.error());
  if (c->backend != kEngine) return refuse(postgres_refusal("create"));
  const fs::path dir = full_path(a.dir);
  if (auto ok = check_backup_place(dir, *c); !ok) return report(ok.error());
  auto existed = new_or_empty(dir, "backup create");
  if (!existed) return report(existed.error());

  auto k = open_keeper(a.config);
  if (!k) return report(k.error());
  auto signer = crypto::AuditSigner::current(k->keys);
  if (!signer) return report(signer.error());

  Written written;
  if (!*existed) {
    if (auto ok = make_private_dir(dir); !ok) return report(ok.error());
  }
  written.dir(dir, !*existed);

  // Recorded before the copy is taken, so the copy holds its own entry.
  nlohmann::json names = nlohmann::json::array();
  for (const char* f : store::sqlite::kBackupFiles) names.push_back(f);
  auto entry = k->store->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto seq = audit::record(tx, k->keys, audit::Event{operator_actor(), std::string(audit::action::backup_create), "",
                                                       {{"files", names}}, ""});
    if (!seq) return std::unexpected(seq.error());
    return {};
  });
  if (!entry) return failed("the backup could not be recorded in the audit log, so none was taken: " +
                            entry.error().internal);
  // The entry is signed into the checkpoints however the copy ends.
  struct SignOnExit {
    Keeper& keeper;
    ~SignOnExit() { keeper.checkpoint_on_exit(); }
  } sign_on_exit{*k};

  audit::BackupManifest m;
  m.rempart_version = std::string(core::metrics::build_version());
  m.engine = std::string(kEngine);
  m.created_at_us = audit::now_us();
  for (const char* name : store::sqlite::kBackupFiles) {
    if (auto ok = store::sqlite::copy_database(k->config.data_dir / name, dir / name); !ok) {
      return failed("cannot copy " + std::string(name) + ": " + ok.error().internal + "; nothing is kept in " +
                    dir.string());
    }
    written.add(dir / name);
  }
  for (const char* name : store::sqlite::kBackupFiles) {
    auto f = audit::hash_file(dir / name);
    if (!f) return failed(f.error().internal + "; nothing is kept in " + dir.string());
    m.files.push_back(std::move(*f));
  }
  {
    auto copy = store::open_sqlite_keeper_copy(dir / store::sqlite::kRecordsFile);
    if (!copy) return failed("cannot read the copy: " + copy.error().internal + "; nothing is kept in " + dir.string());
    auto head = (*copy)->audit_head();
    if (!head) return failed("cannot read the copy: " + head.error().internal + "; nothing is kept in " + dir.string());
    if (*head) {
      m.head_seq = (*head)->seq;
      m.head_hash = (*head)->hash;
    }
  }
  if (auto ok = audit::sign_manifest(*signer, m); !ok) return report(ok.error());
  const fs::path manifest = dir / audit::kManifestFile;
  if (auto ok = write_new_file(manifest, audit::format_manifest(m)); !ok) {
    ::unlink(manifest.c_str());
    return failed(ok.error().internal + "; nothing is kept in " + dir.string());
  }
  written.add(manifest);
  if (auto ok = fsync_dir(dir); !ok) return failed(ok.error().internal + "; nothing is kept in " + dir.string());
  written.keep();

  std::cout << "rempart: backup written to " << dir.string() << " (taken " << format_time(m.created_at_us) << "):\n";
  for (const auto& f : m.files) {
    std::cout << "  " << std::left << std::setw(20) << f.name << " " << f.bytes << " bytes\n";
  }
  std::cout << "  " << std::setw(20) << audit::kManifestFile << " the manifest: audit head seq " << m.head_seq
            << " (hash " << short_hash(m.head_hash) << "…), signed with audit key version " << m.key_version << "\n"
            << "It holds no key: keep it apart from the key directory and from the checkpoint file.\n"
            << "Check it now and after every move: rempart backup verify " << dir.string() << " --config "
            << full_path(a.config).string() << "\n";
  return 0;
}

int run_backup_verify(const BackupArgs& a) {
  auto k = load_keys(a.config);
  if (!k) return report(k.error());
  const fs::path dir = full_path(a.dir);
  // What the check finds goes to stdout, as `audit verify`'s faults do.
  const auto bad = [](const std::string& why) {
    std::cout << "rempart: backup FAILED verification: " << why << "\n";
    return 1;
  };
  auto m = read_manifest(dir, k->keys);
  if (!m) return bad(m.error().internal);
  print_manifest(dir, *m);
  if (auto ok = check_listing(dir, *m); !ok) return bad(ok.error().internal);
  if (auto ok = check_files(dir, nullptr, *m, nullptr); !ok) return bad(ok.error().internal);
  print_files(*m);
  auto log = check_log(dir / store::sqlite::kRecordsFile, *m, *k);
  if (!log) return bad("cannot read the copy's audit log: " + log.error().internal);
  if (!*log) return bad("its audit log (above)");
  std::cout << "rempart: backup OK\n";
  return 0;
}

int run_backup_restore(const BackupArgs& a) {
  ::umask(077);
  auto c = load_config(a.config);
  if (!c) return report(c.error());
  if (c->backend != kEngine) return refuse(postgres_refusal("restore"));
  const fs::path from = full_path(a.dir);
  const fs::path to = full_path(a.data);
  Config target = *c;
  target.data_dir = to;
  if (auto ok = check_layout(target); !ok) return report(ok.error());
  if (crypto::path_is_within(to, from) || crypto::path_is_within(from, to)) {
    return refuse("--data " + to.string() + " and the backup " + from.string() + " must be apart");
  }
  // The checkpoint file belongs to the instance whose data directory the
  // configuration names: a restore beside it would sign a second history
  // into that instance's file.
  std::error_code ec;
  if (full_path(c->data_dir) != to && fs::exists(c->data_dir / store::sqlite::kRecordsFile, ec)) {
    return refuse("the configuration's data directory " + c->data_dir.string() +
                  " holds a database, and the checkpoint file " + checkpoint_file_of(*c) +
                  " is its own: a restore beside it would write a second history into that file. To restore for "
                  "real, stop rempart, then move " + c->data_dir.string() +
                  " away (keep it as evidence) and restore into it, or set [storage] data_dir = \"" + to.string() +
                  "\" first; to rehearse, use a copy of the configuration with a data_dir and a checkpoint_file "
                  "of its own (docs/operations.md, \"Backups\")");
  }
  if (!c->audit.checkpoint_file.empty() && !fs::exists(c->audit.checkpoint_file, ec)) {
    return refuse("the checkpoint file " + checkpoint_file_of(*c) +
                  " does not exist: bring back its copy from off this host (the restored log is held against it). "
                  "If it is lost for good, create it empty (mode 0600) and restore again");
  }
  auto existed = new_or_empty(to, "--data");
  if (!existed) return report(existed.error());

  auto k = load_keys(a.config);
  if (!k) return report(k.error());
  auto m = read_manifest(from, k->keys);
  if (!m) return failed("not restored: " + m.error().internal);
  print_manifest(from, *m);
  if (auto ok = check_listing(from, *m); !ok) return failed("not restored: " + ok.error().internal);
  std::int64_t file_seq = 0;
  if (!c->audit.checkpoint_file.empty()) {
    auto published = audit::read_checkpoint_file(c->audit.checkpoint_file);
    if (!published) return failed("not restored: " + published.error().internal);
    for (const auto& cp : *published) file_seq = std::max(file_seq, cp.seq);
  }

  Written written;  // before the store: the store closes first
  if (!*existed) {
    if (auto ok = make_private_dir(to); !ok) return report(ok.error());
  }
  written.dir(to, !*existed);
  const auto undone = [&](const std::string& why) {
    return failed("not restored: " + why + "; nothing is kept in " + to.string());
  };
  if (auto ok = check_files(from, &to, *m, &written); !ok) return undone(ok.error().internal);
  print_files(*m);
  auto log = check_log(to / store::sqlite::kRecordsFile, *m, *k);
  if (!log) return undone("cannot read the copy's audit log: " + log.error().internal);
  if (!*log) return undone("the backup FAILED verification (above)");

  auto backend = store::open_backend(target.storage());
  if (!backend) return undone(backend.error().internal);
  auto st = (*backend)->open_keeper();
  if (!st) return undone(st.error().internal);
  const std::int64_t at = audit::now_us();
  std::int64_t seq = 0;
  auto entry = (*st)->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto s = audit::record_restore(tx, k->keys, operator_actor(), *m, file_seq, at);
    if (!s) return std::unexpected(s.error());
    seq = *s;
    return {};
  });
  if (!entry) return undone("cannot record the restore: " + entry.error().internal);
  // Its checkpoint, in the database and the outside file: what `audit
  // verify` reads the file's later heads by.
  auto cp = make_checkpointer(target, k->keys, **st)->force(audit::now_us());
  if (!cp || !*cp) {
    return undone("cannot publish the restore's checkpoint" + (cp ? std::string() : ": " + cp.error().internal));
  }
  st->reset();
  written.keep();

  std::cout << "rempart: restored into " << to.string() << ": the backup's audit log ends at seq " << m->head_seq
            << "; entry " << seq << " records the restore";
  if (!c->audit.checkpoint_file.empty()) std::cout << ", and its checkpoint is in " << checkpoint_file_of(*c);
  std::cout << "\n";
  if (file_seq > m->head_seq) {
    std::cout << "rempart: the checkpoint file knew the log up to seq " << file_seq
              << ": those later checkpoints are of the log this restore replaces, and `rempart audit verify` "
                 "reports them as set aside by it\n";
  }
  if (full_path(c->data_dir) != to) {
    std::cout << "rempart: before starting rempart on it, set [storage] data_dir = \"" << to.string() << "\" in "
              << full_path(a.config).string() << "\n";
  }
  return 0;
}

BackupCommands::BackupCommands(CLI::App& app) {
  auto* b = app.add_subcommand("backup", "Copies of the data that restore (SQLite; docs/operations.md, \"Backups\")");
  b->require_subcommand(1);
  b->fallthrough();
  b->add_option("--config", args_.config, "Configuration file")->capture_default_str();
  create_ = b->add_subcommand("create", "Copy the data files while serving, with a manifest signed by the audit key");
  create_->add_option("dir", args_.dir, "New or empty directory for the backup (created with mode 0700)")->required();
  verify_ = b->add_subcommand(
      "verify", "Check a backup: its manifest's signature, every file's hash, its audit log; exit 1 on any fault");
  verify_->add_option("dir", args_.dir, "The backup directory")->required();
  restore_ = b->add_subcommand("restore", "Check a backup and restore it into a new data directory");
  restore_->add_option("dir", args_.dir, "The backup directory")->required();
  restore_->add_option("--data", args_.data, "New or empty data directory to restore into (created with mode 0700)")
      ->required();
}

std::optional<int> BackupCommands::run() const {
  if (*create_) return run_backup_create(args_);
  if (*verify_) return run_backup_verify(args_);
  if (*restore_) return run_backup_restore(args_);
  return std::nullopt;
}

}  // namespace rempart::cli
