#pragma once
// Errors as values at module boundaries. An Error carries a stable code for
// callers and an internal message for operators' logs. The internal message
// must never contain personal data, SQL text or key material: it names what
// failed, not the values involved.
#include <cstdint>
#include <expected>
#include <string>
#include <utility>

namespace rempart {

enum class Errc {
  invalid_input,    // caller supplied something malformed
  not_found,
  conflict,         // uniqueness or state conflict
  io,               // file system or network
  storage,          // database failure
  crypto,           // decryption/authentication failure or RNG failure
  config,           // configuration refused
  permission,       // file permissions, roles
  busy,             // overloaded or shutting down
  locked,           // the exfiltration guard locked the caller (budget crossed, honeytoken touched)
  retry_later,      // nothing wrong, but not now: e.g. a TOTP code already used (wait for the next one)
  internal,
};

const char* errc_name(Errc c) noexcept;

struct Error {
  Errc code = Errc::internal;
  std::string internal;  // for logs only; never sent to a client

  Error() = default;
  Error(Errc c, std::string msg) : code(c), internal(std::move(msg)) {}
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(Errc c, std::string msg) {
  return std::unexpected<Error>(Error{c, std::move(msg)});
}

// Passes a failed result's error up unchanged (moved out of `r`).
template <typename T>
std::unexpected<Error> propagate(Result<T>& r) {
  return std::unexpected(std::move(r.error()));
}

// Unix time in seconds, from the system clock.
std::int64_t unix_now() noexcept;

}  // namespace rempart
