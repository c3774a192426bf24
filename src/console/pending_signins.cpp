// The first-step sign-in table (pending_signins.hpp).
#include "console/pending_signins.hpp"

#include <sodium.h>

#include <chrono>
#include <utility>
#include <vector>

namespace rempart::console::detail {

namespace {

std::string random_token(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string out(sodium_base64_encoded_len(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), raw.data(), raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(raw.data(), raw.size());
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string PendingSignins::add(const std::string& name, std::string_view password, const std::string& client) {
  const auto now = now_seconds();
  MutexLock lock(mu_);
  std::erase_if(pending_, [&](const auto& kv) { return kv.second.expires <= now; });
  // A few sign-ins in flight per address: past that, this address's oldest
  // gives way, so one address can neither fill the table nor touch another
  // address's sign-ins.
  // The table is passed in, so the lambda reads nothing the lock guards.
  const auto oldest_of = [](auto& table, const auto& keep) {
    auto found = table.end();
    for (auto it = table.begin(); it != table.end(); ++it) {
      if (keep(it->second) && (found == table.end() || it->second.arrival < found->second.arrival)) found = it;
    }
    return found;
  };
  std::size_t mine = 0;
  for (const auto& [id, p] : pending_) mine += p.client == client ? 1 : 0;
  if (mine >= kMaxPendingPerClient) {
    pending_.erase(oldest_of(pending_, [&](const PendingSignin& p) { return p.client == client; }));
  }
  // Full (many addresses at once): the oldest pending sign-in gives way, so
  // nobody can block every sign-in by filling the table.
  if (pending_.size() >= kMaxPending) pending_.erase(oldest_of(pending_, [](const PendingSignin&) { return true; }));
  auto secret = crypto::SecretBytes::copy_of(
      {reinterpret_cast<const std::uint8_t*>(password.data()), password.size()});
  if (!secret) return {};
  PendingSignin p;
  p.name = name;
  p.password = std::move(*secret);
  p.client = client;
  p.expires = now + kPendingSeconds;
  p.arrival = ++arrivals_;
  auto id = random_token(32);
  pending_.emplace(id, std::move(p));
  return id;
}

std::optional<PendingSignin> PendingSignins::take(const std::string& id, const std::string& client) {
  MutexLock lock(mu_);
  const auto it = pending_.find(id);
  if (it == pending_.end()) return std::nullopt;
  PendingSignin p = std::move(it->second);
  pending_.erase(it);  // single use, whatever happens next
  if (p.expires <= now_seconds() || p.client != client) return std::nullopt;
  return p;
}

}  // namespace rempart::console::detail
