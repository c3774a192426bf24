#pragma once
// The CLI's commands. main.cpp only parses arguments and calls these; each
// returns the process exit code and prints its own messages (never personal
// data to logs; `supporters show` prints a record to stdout by design).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>

#include "core/error.hpp"
#include "services/importer.hpp"

namespace rempart::cli {

struct InitArgs {
  std::filesystem::path data_dir;
  std::filesystem::path keys_dir;
  std::filesystem::path config = "rempart.toml";
  std::string region = "FR";
  std::string listen = "127.0.0.1:8080";
  std::string console_listen = "127.0.0.1:8081";
  // Where audit checkpoints are appended; empty: next to the key directory.
  // Refused inside the data directory.
  std::filesystem::path checkpoints;
  // [storage]: "sqlite" (files in the data directory) or "postgresql" (the
  // database `dsn` names, set up through an administrator's connection:
  // admin_user, admin_password_file; docs/postgresql.md).
  std::string backend = "sqlite";
  std::string dsn;
  std::string admin_user;
  std::filesystem::path admin_password_file;
  // The keeper's and the intake's database login users (members of the
  // rempart_keeper and rempart_intake roles); empty: the roles themselves.
  // Two instances on one PostgreSQL cluster need users of their own.
  std::string keeper_user;
  std::string intake_user;
  // postgresql: print the SQL that sets up the database, and do nothing else.
  bool print_sql = false;
};
int run_init(const InitArgs& a);

// `rempart migrate`: brings the database's schema to this binary's version
// (PostgreSQL: as an administrator, since the nodes' roles have no DDL;
// SQLite migrates itself when the keeper opens it).
struct MigrateArgs {
  std::filesystem::path config = "rempart.toml";
  std::string admin_user;
  std::filesystem::path admin_password_file;
};
int run_migrate(const MigrateArgs& a);

enum class Role { all, intake, keeper };
struct ServeArgs {
  std::filesystem::path config = "rempart.toml";
  Role role = Role::all;
  std::optional<std::string> listen;          // overrides [intake].listen
  std::optional<std::string> console_listen;  // overrides [console].listen
};
int run_serve(const ServeArgs& a);

struct ShowArgs {
  std::filesystem::path config = "rempart.toml";
  std::string email;
  std::string phone;
  bool json = false;
  std::string reason;  // recorded with the reveal; must hold no personal data
};
int run_count(const std::filesystem::path& config);
int run_show(const ShowArgs& a);

struct ImportArgs {
  std::filesystem::path config = "rempart.toml";
  std::filesystem::path file;
  std::string preset;                    // action-network | nationbuilder | civicrm
  std::string encoding;                  // utf-8 | windows-1252 | latin-1; "" = detected
  std::vector<std::string> map;          // each "field=Header,field=Header"
  std::vector<std::string> ignore;       // headers
  std::vector<std::string> yes_values, no_values;
  std::vector<std::string> invert;       // consent_email | consent_sms
  bool dry_run = false;
  std::filesystem::path report_file;     // CSV: line,column,code,reason,other_line
  bool progress = true;
  std::size_t rows_per_transaction = services::kImportRowsPerTransaction;
};
int run_import(const ImportArgs& a);

struct SynthArgs {
  std::filesystem::path config = "rempart.toml";
  std::uint64_t count = 120000;
  std::optional<std::uint64_t> phones;  // default: 20,000, or every one of them when fewer
  std::uint64_t seed = 2026;
};
int run_synth(const SynthArgs& a);

// `supporters reindex`: puts every record on the search backlog again (after
// a change of the search tokens' rules or of the blind-index key) and,
// unless `queue_only`, computes their tokens now, as serve's fold loop does
// between folds: chunks of kReindexChunk records, one transaction and one
// `search.index` entry (a count, no ids) each. docs/console.md, "Finding
// people".
inline constexpr std::size_t kReindexChunk = 2000;
struct ReindexArgs {
  std::filesystem::path config = "rempart.toml";
  bool queue_only = false;
  bool progress = true;
};
int run_reindex(const ReindexArgs& a);

// `rempart retention report|run [--dry-run]` (docs/retention.md).
struct RetentionArgs {
  std::filesystem::path config = "rempart.toml";
  bool run = false;      // apply, not only report
  bool dry_run = false;  // with run: count and record the run, change nothing
};
int run_retention(const RetentionArgs& a);

// `rempart audit …`: read and check the audit log (needs the keeper keyring).
struct AuditVerifyArgs {
  std::filesystem::path config = "rempart.toml";
  std::optional<std::filesystem::path> checkpoints;  // overrides [audit].checkpoint_file
};
int run_audit_verify(const AuditVerifyArgs& a);
int run_audit_checkpoint(const std::filesystem::path& config);

struct AuditQueryArgs {
  std::filesystem::path config = "rempart.toml";
  std::string actor, action, since, until, record;
  std::string format = "table";  // table | jsonl | csv
  std::size_t limit = 0;         // 0: no limit
};
int run_audit_query(const AuditQueryArgs& a);

struct AuditBlastArgs {
  std::filesystem::path config = "rempart.toml";
  std::string actor, token, since, until, session;
  std::optional<std::filesystem::path> csv;
};
int run_audit_blast_radius(const AuditBlastArgs& a);

// Parses "1767225600" (unix seconds), "2026-01-01", "2026-01-01T10:00",
// "2026-01-01T10:00:00Z" (UTC) into unix microseconds; nullopt otherwise.
std::optional<std::int64_t> parse_time(const std::string& text);
// Unix microseconds as "2026-01-01T10:00:00.000000Z".
std::string format_time(std::int64_t at_us);

// --since/--until as parse_time reads them, into [from, until) in unix µs;
// either may be empty (no bound). A clear usage error otherwise.
Result<std::pair<std::int64_t, std::int64_t>> time_window(const std::string& since, const std::string& until);

// The actor an --actor option names (services::resolve_audit_actor: an
// account name, or the actor as the log writes it), or a usage error
// naming the option, never echoing the text unless it is a valid name.
Result<std::string> actor_option(store::KeeperStore& st, const std::string& given);

void setup_logging(const std::string& level);

// Prints an error's internal message (never personal data) and returns the
// exit code: 2 for a bad argument or configuration, 1 otherwise.
int report(const Error& e);

// "operator:<unix user>": who runs a CLI command, for the audit log.
std::string operator_actor();

}  // namespace rempart::cli
