#pragma once
// `rempart export decrypt` and `rempart canary trace` (docs/exports.md).
//
// decrypt runs offline on the requester's machine: it needs only the sealed
// file and the export secret key file, no configuration, keyring or
// database. trace runs where the keeper keyring is, and is audited
// (`canary.trace` by "operator:<unix user>", with the kind checked and
// whether it matched; never the value).
#include <cstdint>
#include <filesystem>
#include <string>

namespace rempart::cli {

struct ExportDecryptArgs {
  std::filesystem::path file;
  std::filesystem::path key;  // holds "rmpx1_…"; must not be readable by group or others
  std::filesystem::path out;  // empty: stdout; else written at mode 0600 (an existing file is refused)
};
// Exit 0 on success, 2 for bad arguments or a key file open to others, 1
// when the file does not open (wrong key, altered or truncated).
int run_export_decrypt(const ExportDecryptArgs& a);

struct CanaryTraceArgs {
  std::filesystem::path config = "rempart.toml";
  std::string value;  // an e-mail address or phone number found in a leak
};
// Prints the export id, requester, approver and approval time; exit 0 when
// the value is a canary, 1 when it is not (or on error), 2 for a bad
// configuration.
int run_canary_trace(const CanaryTraceArgs& a);

}  // namespace rempart::cli
