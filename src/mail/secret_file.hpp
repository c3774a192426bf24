#pragma once
// Reading a credential (SMTP password, the guard's webhook HMAC key) from a
// file that only the service user may read. Not part of the mail layer's
// public interface (namespace detail): only rempart's own layers include it.
#include <filesystem>
#include <string_view>

#include "core/error.hpp"
#include "crypto/secret.hpp"

namespace rempart::mail::detail {

// The file's bytes, less trailing CR/LF (files written with `echo` end in
// one), in guarded memory. Errc::config when the file is missing, not a
// regular file (symbolic links are followed), readable or writable by group
// or others, larger than 64 KiB or empty. `what` names the credential in
// messages ("webhook secret"); messages name the path, never the content.
Result<crypto::SecretBytes> read_secret_file(const std::filesystem::path& path, std::string_view what);

}  // namespace rempart::mail::detail
