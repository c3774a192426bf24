#pragma once
// The manifest of a backup (`rempart backup`, docs/operations.md "Backups"):
// what the backup directory holds (each file's name, size and BLAKE2b-256),
// when and by which rempart it was made, and the audit head of the copy,
// signed with the audit signing key like a checkpoint. And the entry a
// restore writes first on the restored copy, which `audit verify` reads as
// the reason the outside checkpoint file knows later heads (verify.hpp).
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "audit/chain.hpp"
#include "core/error.hpp"
#include "crypto/audit_keys.hpp"
#include "crypto/keyring.hpp"
#include "store/store.hpp"

namespace rempart::audit {

inline constexpr std::uint32_t kBackupFormat = 1;
// The manifest's name in a backup directory.
inline constexpr std::string_view kManifestFile = "rempart-backup.json";

struct BackupFile {
  std::string name;  // a file name of the data directory, no directory part
  std::uint64_t bytes = 0;
  Digest blake2b{};  // BLAKE2b-256 of its content
};

struct BackupManifest {
  std::uint32_t format = kBackupFormat;
  std::string rempart_version;
  std::int64_t created_at_us = 0;
  std::string engine;  // "sqlite"
  std::vector<BackupFile> files;
  std::int64_t head_seq = 0;  // the copy's audit head: its last entry (0: an empty log)
  store::Bytes head_hash;     // that entry's hash (32 bytes; empty when head_seq is 0)
  std::uint32_t key_version = 0;  // of the audit signing key that signed it
  store::Bytes signature;         // Ed25519 over the encoding below
};

// What is signed: every field but the signature, each length-prefixed
// (u32 big-endian) or fixed-size, after a domain label:
//   lp("rempart/backup/manifest/v1") u32(format) lp(rempart_version)
//   u64(created_at_us) lp(engine) u32(file count)
//   { lp(name) u64(bytes) lp(blake2b) }... u64(head_seq) lp(head_hash)
//   u32(key_version)
std::string encode_manifest(const BackupManifest& m);
// BLAKE2b-256 of that encoding: names one backup (the restore entry's
// `manifest`).
Digest manifest_digest(const BackupManifest& m);

// Sets the key version and the signature. Errc::crypto if libsodium fails.
Result<void> sign_manifest(const crypto::AuditSigner& signer, BackupManifest& m);
// True if the signature verifies under the public signing key of the
// manifest's key version (false if the keyring lacks that version).
bool manifest_valid(const crypto::KeeperKeyring& keys, const BackupManifest& m);

// The manifest as JSON (sorted members, one a line), ending in a newline.
std::string format_manifest(const BackupManifest& m);
// Reads exactly what format_manifest writes: every member present and of
// its type, no other, file names without a directory part and never the
// manifest's own, no name twice. Errc::invalid_input naming what is wrong,
// never a value. Does not check the signature.
Result<BackupManifest> parse_manifest(std::string_view text);

// The name, size and BLAKE2b-256 of `file`, read once. With `copy_to`, the
// same bytes are written to that new file as they are read (O_EXCL, mode
// 0600, synced; removed on failure). Errc::not_found if `file` does not
// exist, Errc::conflict if `copy_to` does, Errc::io otherwise.
Result<BackupFile> hash_file(const std::filesystem::path& file, const std::filesystem::path* copy_to = nullptr);

// The first entry `backup restore` appends to the restored copy, in the
// caller's transaction: `backup.restore` by `actor`, its details
// {"backup_head": hex, "backup_seq": n, "backup_taken_at": µs,
//  "file_seq": n, "manifest": hex} where file_seq is the highest seq the
// outside checkpoint file named at the restore (0: none). Errc::conflict if
// the log's head is not the manifest's (the entry must follow the backup's
// head directly: verify.hpp holds it to that).
Result<std::int64_t> record_restore(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const std::string& actor,
                                    const BackupManifest& m, std::int64_t file_seq, std::int64_t at_us);

}  // namespace rempart::audit
