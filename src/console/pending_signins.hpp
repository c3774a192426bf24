#pragma once
// The first step of a console sign-in (docs/console.md, "Sign-in"): the
// account name and password, kept in guarded memory for a few minutes under
// a single-use id bound to the client address until the second step brings
// the code. Nothing here checks a password; AccountService::authenticate
// checks both factors at once in the second step.
//
// Not a public header (console::detail). Thread-safe: every method takes the
// table's mutex.
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/mutex.hpp"
#include "crypto/secret.hpp"

namespace rempart::console::detail {

struct PendingSignin {
  std::string name;
  crypto::SecretBytes password;
  std::string client;
  std::int64_t expires = 0;
  // Order of arrival: many first steps share one second, so the expiry alone
  // cannot say which is oldest.
  std::uint64_t arrival = 0;
};

class PendingSignins {
 public:
  static constexpr std::int64_t kPendingSeconds = 300;
  static constexpr std::size_t kMaxPending = 4096;
  static constexpr std::size_t kMaxPendingPerClient = 16;  // an office behind one NAT address

  // Keeps `name` and a guarded copy of `password` for `client` for
  // kPendingSeconds and returns the single-use 256-bit id (URL-safe base64)
  // the code form carries; "" when the password could not be copied into
  // guarded memory. Drops expired entries first; when kMaxPendingPerClient of
  // `client`'s are waiting its own oldest gives way, and when kMaxPending are
  // waiting the oldest of all, so nobody can lock the others out.
  std::string add(const std::string& name, std::string_view password, const std::string& client);
  // The entry under `id`, removed whatever happens next (single use);
  // nullopt when there is none, it expired, or it belongs to another client.
  std::optional<PendingSignin> take(const std::string& id, const std::string& client);

 private:
  Mutex mu_;
  std::unordered_map<std::string, PendingSignin> pending_ REMPART_GUARDED_BY(mu_);
  std::uint64_t arrivals_ REMPART_GUARDED_BY(mu_) = 0;
};

}  // namespace rempart::console::detail
