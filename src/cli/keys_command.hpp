#pragma once
// `rempart keys backup` and `rempart keys restore`: the keeper keyring split
// into shares for trustees, and rebuilt from any `threshold` of them
// (crypto/key_shares.hpp; docs/operations.md, "Key backup in shares").
// Neither needs a configuration or the database: a restore runs on a
// machine that has lost everything but the shares.
#include <filesystem>
#include <vector>

namespace rempart::cli {

struct KeysBackupArgs {
  std::filesystem::path keys_dir;  // holds keeper.keyring (plain)
  std::filesystem::path config;    // or: the configuration's key directory, a sealed keyring opened by its token
  int shares = 0;                  // 3..16
  int threshold = 0;               // 2..shares-1
  std::filesystem::path out_dir;   // new, or empty; share-I-of-N.txt files (0600) go there
};
// Prints where the files are and what to do with them, never a share or a
// key. Exit 0; 2 for numbers out of range (nothing written); 1 when the
// keyring does not load, the output directory is not new or empty, or a
// file cannot be written (the files already written are removed).
int run_keys_backup(const KeysBackupArgs& a);

struct KeysRestoreArgs {
  std::filesystem::path keys_dir;                  // new: keeper.keyring and intake.keyring go there
  std::vector<std::filesystem::path> share_files;  // empty: the shares are read from stdin
};
// Prints how many key versions the rebuilt keyring holds and its
// fingerprint. Exit 0; 1 when the shares do not rebuild it (too few, one
// mistyped, of different keyrings or backups, a number given twice) or a
// key file exists already; nothing is written then. Messages name the file
// a share came from, never its text.
int run_keys_restore(const KeysRestoreArgs& a);

}  // namespace rempart::cli
