#include "core/error.hpp"

#include <chrono>

namespace rempart {

std::int64_t unix_now() noexcept {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* errc_name(Errc c) noexcept {
  switch (c) {
    case Errc::invalid_input: return "invalid_input";
    case Errc::not_found: return "not_found";
    case Errc::conflict: return "conflict";
    case Errc::io: return "io";
    case Errc::storage: return "storage";
    case Errc::crypto: return "crypto";
    case Errc::config: return "config";
    case Errc::permission: return "permission";
    case Errc::busy: return "busy";
    case Errc::locked: return "locked";
    case Errc::retry_later: return "retry_later";
    case Errc::internal: return "internal";
  }
  return "internal";
}

}  // namespace rempart
