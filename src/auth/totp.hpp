#pragma once
// TOTP (RFC 6238) through liboath: HMAC-SHA1, 30 s steps, 6 digits, one step
// of drift accepted either way. Enrolment output: an otpauth:// URI and a QR
// code drawn in the terminal (libqrencode).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "crypto/secret.hpp"

namespace rempart::auth {

inline constexpr std::size_t kTotpSecretSize = 20;
inline constexpr unsigned kTotpStepSeconds = 30;
inline constexpr unsigned kTotpDigits = 6;
inline constexpr std::int64_t kTotpWindow = 1;  // steps either side

// RFC 4648 base32 without padding, as authenticator apps expect.
std::string base32(std::span<const std::uint8_t> bytes);

// otpauth://totp/rempart:NAME?secret=…&issuer=rempart&algorithm=SHA1&digits=6&period=30
// The result (text) holds the secret: show it once, never log it. Fails only
// if guarded memory is unavailable.
Result<crypto::SecretBytes> otpauth_uri(std::string_view account_name, std::span<const std::uint8_t> secret);

// The code for unix time `now`; empty if liboath fails. For tests and tools.
std::string totp_code(std::span<const std::uint8_t> secret, std::int64_t now);

// Checks `code` at `now` within ±kTotpWindow steps and returns the time step
// it matched, or nullopt when it matches none, is malformed, or matches a
// step <= `last_step` (a replay or an older code). Compares in constant
// time. Thread-safe.
std::optional<std::int64_t> totp_check(std::span<const std::uint8_t> secret, std::string_view code,
                                       std::int64_t now, std::int64_t last_step);

// What totp_verify found: the step a fresh code matched, or whether the code
// is right but was already used (its step is <= last_step).
struct TotpVerdict {
  std::optional<std::int64_t> step;  // a fresh match
  bool replayed = false;              // a correct code of a step already used
};
// totp_check that also tells a replayed code from a wrong one, so a person
// who reuses the code they just signed in with can be told to wait for the
// next one. Constant time over the candidate steps. Thread-safe.
TotpVerdict totp_verify(std::span<const std::uint8_t> secret, std::string_view code, std::int64_t now,
                        std::int64_t last_step);

// `text` as a QR code (error correction M) drawn with Unicode half blocks,
// two modules per character cell, with a quiet zone. On a terminal
// (`QrInk::light`) the light modules are drawn, so it reads on a dark
// background; for paper (`QrInk::dark`) the dark ones, so that printed in
// black on white it is not inverted (some scanners refuse inverted codes).
// Empty if encoding fails.
enum class QrInk { light, dark };
std::string qr_terminal(std::string_view text, QrInk ink = QrInk::light);

}  // namespace rempart::auth
