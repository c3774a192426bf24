#include "audit/chain.hpp"

#include "audit/encoding.hpp"
#include "core/hex.hpp"

#include <chrono>

#include <sodium.h>

namespace rempart::audit {
namespace {

constexpr std::string_view kEntryDomain = "rempart/audit/entry/v1";
constexpr std::string_view kMacDomain = "rempart/audit/mac/v1";

using detail::put_lp;
using detail::put_u32;
using detail::put_u64;

}  // namespace

std::string to_hex(std::span<const std::uint8_t> bytes) { return core::to_hex(bytes); }

void encode_entry(const store::AuditEntryRow& row, std::string& out) {
  out.clear();
  put_lp(out, kEntryDomain);
  put_u64(out, static_cast<std::uint64_t>(row.seq));
  put_u64(out, static_cast<std::uint64_t>(row.at));
  put_lp(out, row.actor);
  put_lp(out, row.action);
  put_lp(out, row.client);
  put_lp(out, row.subject);
  put_lp(out, row.details);
  put_u32(out, row.key_version);
  put_lp(out, row.prev_hash);
}

Digest entry_hash(const store::AuditEntryRow& row, std::string& scratch) {
  encode_entry(row, scratch);
  Digest d{};
  crypto_generichash(d.data(), d.size(), reinterpret_cast<const unsigned char*>(scratch.data()), scratch.size(),
                     nullptr, 0);
  return d;
}

namespace {

using MacInput = std::array<std::uint8_t, kMacDomain.size() + kDigestSize>;

// kMacDomain || hash (at most kDigestSize bytes of it); returns the length used.
std::size_t mac_input(std::span<const std::uint8_t> hash, MacInput& in) {
  std::copy(kMacDomain.begin(), kMacDomain.end(), in.begin());
  const std::size_t n = std::min(hash.size(), kDigestSize);
  std::copy_n(hash.begin(), n, in.begin() + static_cast<std::ptrdiff_t>(kMacDomain.size()));
  return kMacDomain.size() + n;
}

}  // namespace

Digest entry_mac(const crypto::AuditMac& mac, std::span<const std::uint8_t> hash) {
  static_assert(crypto::AuditMac::kTagSize == kDigestSize);
  MacInput in{};
  const std::size_t n = mac_input(hash, in);
  return mac.mac(std::span(in).first(n));
}

bool entry_mac_valid(const crypto::AuditMac& mac, std::span<const std::uint8_t> hash,
                     std::span<const std::uint8_t> tag) {
  MacInput in{};
  const std::size_t n = mac_input(hash, in);
  return mac.verify(std::span(in).first(n), tag);
}

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Appender::Appender(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, std::int64_t seq, const store::Bytes& head)
    : tx_(&tx), keys_(&keys), seq_(seq), prev_(head) {}

Result<Appender> Appender::begin(store::KeeperTx& tx, const crypto::KeeperKeyring& keys) {
  auto head = tx.audit_head();
  if (!head) return std::unexpected(head.error());
  if (!*head) return Appender(tx, keys, 0, store::Bytes(kDigestSize, 0));
  if ((*head)->hash.size() != kDigestSize) return fail(Errc::storage, "audit head has a malformed hash");
  return Appender(tx, keys, (*head)->seq, (*head)->hash);
}

Result<std::int64_t> Appender::append(const Event& e, std::int64_t at_us) {
  if (e.actor.empty() || e.action.empty()) return fail(Errc::invalid_input, "audit entry without actor or action");
  if (!e.details.is_object() && !e.details.is_null()) return fail(Errc::invalid_input, "audit entry details must be a JSON object");
  auto mac = crypto::AuditMac::current(*keys_);
  if (!mac) return std::unexpected(mac.error());
  row_.seq = seq_ + 1;
  row_.at = at_us;
  row_.actor = e.actor;
  row_.action = e.action;
  row_.client = e.client;
  row_.subject = e.subject;
  // nlohmann::json keeps object keys sorted, so equal details dump equally.
  row_.details = e.details.is_null() ? std::string("{}")
                                     : e.details.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  row_.key_version = mac->version();
  row_.prev_hash = prev_;
  const Digest h = entry_hash(row_, scratch_);
  const Digest m = entry_mac(*mac, h);
  row_.hash.assign(h.begin(), h.end());
  row_.mac.assign(m.begin(), m.end());
  if (auto r = tx_->append_audit_entry(row_); !r) return std::unexpected(r.error());
  seq_ = row_.seq;
  prev_ = row_.hash;
  return seq_;
}

Result<std::int64_t> record(store::KeeperTx& tx, const crypto::KeeperKeyring& keys, const Event& e) {
  auto a = Appender::begin(tx, keys);
  if (!a) return std::unexpected(a.error());
  return a->append(e, now_us());
}

}  // namespace rempart::audit
