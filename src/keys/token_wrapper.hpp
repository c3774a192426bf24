#pragma once
// Record data keys wrapped by a PKCS#11 token (docs/key-custody.md, "Record
// keys in the token"): one AES-256 key per key version, made in the token
// (sensitive, never extractable) and labelled "rempart-record-wrap-v<N>".
// The keeper asks the token to wrap each new record's data key and to
// unwrap it for each opening; the key that does it never enters the
// keeper's memory.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "crypto/keyring.hpp"
#include "keys/pkcs11_token.hpp"

namespace rempart::keys {

// The label of version `version`'s record wrapping key in the token.
std::string record_wrap_label(std::uint32_t version);

// Makes version `version`'s record wrapping key in the token if absent.
Result<void> make_record_wrap_key(Token& token, std::uint32_t version);

class TokenRecordWrapper final : public crypto::RecordKeyWrapper {
 public:
  // `token` must outlive this.
  explicit TokenRecordWrapper(Token& token) : token_(token) {}

  bool holds(std::uint32_t version) const override;
  Result<Bytes> wrap(std::uint32_t version, std::span<const std::uint8_t> data_key,
                     std::span<const std::uint8_t> ad) const override;
  Result<void> unwrap(std::uint32_t version, std::span<const std::uint8_t> wrapped, std::span<const std::uint8_t> ad,
                      std::span<std::uint8_t> out) const override;

 private:
  // The key of `version`, looked up once, found or not: a version's key is
  // made with the version (keys rotate, keys seal), before any keeper holds
  // the version.
  Result<Token::Handle> key_of(std::uint32_t version) const;

  Token& token_;
  mutable std::mutex mu_;
  mutable std::map<std::uint32_t, std::optional<Token::Handle>> found_;
};

}  // namespace rempart::keys
