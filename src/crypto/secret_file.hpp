#pragma once
// Reading a credential (SMTP and IMAP passwords, the guard's webhook HMAC
// key, a PKCS#11 token's PIN) from a file that only the service user may
// read.
#include <filesystem>
#include <string_view>

#include "core/error.hpp"
#include "crypto/secret.hpp"

namespace rempart::crypto {

// The file's bytes, less trailing CR/LF (files written with `echo` end in
// one), in guarded memory. Errc::config when the file is missing, not a
// regular file (symbolic links are followed), readable or writable by group
// or others, larger than 64 KiB or empty. `what` names the credential in
// messages ("webhook secret"); messages name the path, never the content.
Result<SecretBytes> read_secret_file(const std::filesystem::path& path, std::string_view what);

}  // namespace rempart::crypto
