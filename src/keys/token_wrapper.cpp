#include "keys/token_wrapper.hpp"

#include <algorithm>

namespace rempart::keys {

std::string record_wrap_label(std::uint32_t version) { return "rempart-record-wrap-v" + std::to_string(version); }

Result<void> make_record_wrap_key(Token& token, std::uint32_t version) {
  auto key = token.aes_key(record_wrap_label(version), true);
  if (!key) return std::unexpected(key.error());
  return {};
}

Result<Token::Handle> TokenRecordWrapper::key_of(std::uint32_t version) const {
  {
    std::lock_guard lock(mu_);
    if (auto it = found_.find(version); it != found_.end()) {
      if (it->second) return *it->second;
      return fail(Errc::not_found, "the token holds no record wrapping key of version " + std::to_string(version));
    }
  }
  auto key = token_.aes_key(record_wrap_label(version), false);
  if (!key && key.error().code != Errc::not_found) return key;  // the token failing is not an answer to keep
  std::lock_guard lock(mu_);
  found_[version] = key ? std::optional<Token::Handle>(*key) : std::nullopt;
  return key;
}

bool TokenRecordWrapper::holds(std::uint32_t version) const { return key_of(version).has_value(); }

Result<Bytes> TokenRecordWrapper::wrap(std::uint32_t version, std::span<const std::uint8_t> data_key,
                                       std::span<const std::uint8_t> ad) const {
  auto key = key_of(version);
  if (!key) return std::unexpected(key.error());
  return token_.seal(*key, data_key, ad);
}

Result<void> TokenRecordWrapper::unwrap(std::uint32_t version, std::span<const std::uint8_t> wrapped,
                                        std::span<const std::uint8_t> ad, std::span<std::uint8_t> out) const {
  auto key = key_of(version);
  if (!key) return std::unexpected(key.error());
  auto plain = token_.open(*key, wrapped, ad);
  if (!plain) return std::unexpected(plain.error());
  if (plain->size() != out.size()) return fail(Errc::crypto, "the token unwrapped a key of the wrong size");
  std::copy(plain->span().begin(), plain->span().end(), out.begin());
  return {};
}

std::string audit_sign_label(std::uint32_t version) { return "rempart-audit-sign-v" + std::to_string(version); }

Result<std::array<std::uint8_t, 32>> make_audit_sign_key(Token& token, std::uint32_t version) {
  const std::string label = audit_sign_label(version);
  auto key = token.ed25519_key(label, true);
  if (!key) return std::unexpected(key.error());
  return token.ed25519_public(label);
}

Result<Token::Handle> TokenAuditSigner::key_of(std::uint32_t version) const {
  {
    std::lock_guard lock(mu_);
    if (auto it = found_.find(version); it != found_.end()) return it->second;
  }
  auto key = token_.ed25519_key(audit_sign_label(version), false);
  if (!key) return key;
  std::lock_guard lock(mu_);
  found_[version] = *key;
  return key;
}

bool TokenAuditSigner::holds(std::uint32_t version) const { return key_of(version).has_value(); }

Result<std::array<std::uint8_t, 64>> TokenAuditSigner::sign(std::uint32_t version,
                                                            std::span<const std::uint8_t> message) const {
  auto key = key_of(version);
  if (!key) return std::unexpected(key.error());
  return token_.sign(*key, message);
}

}  // namespace rempart::keys
