#pragma once
// `rempart backup create|verify|restore`: an online copy of the embedded
// engine's files with a signed manifest, its check, and its restore into a
// new data directory (docs/operations.md, "Backups"). PostgreSQL is backed
// up with its own tools; these commands refuse it and say which.
#include <filesystem>
#include <optional>

namespace CLI {
class App;
}

namespace rempart::cli {

struct BackupArgs {
  std::filesystem::path config = "rempart.toml";
  std::filesystem::path dir;   // the backup directory
  std::filesystem::path data;  // restore: the new data directory
};

// Copies the data directory's database files into `dir` (new, or empty;
// created 0700, files 0600; never inside the key or the data directory)
// with SQLite's backup API while `serve` runs, and writes the manifest
// signed with the audit signing key. A `backup.create` entry is written
// first (in the live log). Exit 0; 2 for a refused directory or a
// PostgreSQL configuration (nothing written); 1 when a copy fails (what
// was written is removed).
int run_backup_create(const BackupArgs& a);

// Checks the manifest's signature (the keeper keyring of the
// configuration's key directory), that the directory holds exactly the
// files it names with their sizes and hashes, SQLite's quick_check of each,
// and the copy's audit log against its manifest and the outside checkpoint
// file (audit::verify, later heads of the file allowed). Writes nothing.
// Exit 0 when all holds, 1 on any fault, 2 on a usage error.
int run_backup_verify(const BackupArgs& a);

// Checks the backup as `verify` does while copying it into `data` (new or
// empty; 0700, files 0600), then appends the restore entry to the restored
// log and publishes its checkpoint, so that `audit verify` on the restored
// instance explains the outside file's later heads. Refuses a `data` beside
// a live data directory that shares the checkpoint file. On any failure
// nothing stays in `data`. Exit 0; 1 on a fault; 2 on a refused argument.
int run_backup_restore(const BackupArgs& a);

// The commands on the command line: construct before parsing (it adds
// `backup` and its subcommands to `app`), run() after.
class BackupCommands {
 public:
  explicit BackupCommands(CLI::App& app);
  BackupCommands(const BackupCommands&) = delete;
  BackupCommands& operator=(const BackupCommands&) = delete;

  // The exit code of the backup command given; nullopt if none was.
  std::optional<int> run() const;

 private:
  BackupArgs args_;
  CLI::App* create_ = nullptr;
  CLI::App* verify_ = nullptr;
  CLI::App* restore_ = nullptr;
};

}  // namespace rempart::cli
