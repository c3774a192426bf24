#pragma once
// Internal to the crypto layer: little-endian encoding of the binary formats
// (keyring files, sealed field blobs, associated data). The reader is the
// only way hostile bytes are parsed here, so every read is bounds-checked and
// a failed read leaves the reader in a sticky failed state instead of
// touching memory outside the input.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "crypto/secret.hpp"

namespace rempart::crypto::detail {

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::uint8_t> in) noexcept : in_(in) {}

  bool ok() const noexcept { return ok_; }
  std::size_t remaining() const noexcept { return ok_ ? in_.size() - pos_ : 0; }
  bool at_end() const noexcept { return ok_ && pos_ == in_.size(); }

  // `n` bytes from the input, or an empty span and the failed state.
  std::span<const std::uint8_t> take(std::size_t n) noexcept {
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      return {};
    }
    auto s = in_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  std::uint8_t u8() noexcept { return static_cast<std::uint8_t>(uint_le(1)); }
  std::uint16_t u16() noexcept { return static_cast<std::uint16_t>(uint_le(2)); }
  std::uint32_t u32() noexcept { return static_cast<std::uint32_t>(uint_le(4)); }

 private:
  std::uint64_t uint_le(std::size_t n) noexcept {
    auto s = take(n);
    std::uint64_t v = 0;
    for (std::size_t i = s.size(); i > 0; --i) v = (v << 8) | s[i - 1];
    return v;
  }

  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// Appends to a growable, non-secret buffer.
inline void put_u8(Bytes& out, std::uint8_t v) { out.push_back(v); }
inline void put_u16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
}
inline void put_u32(Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
inline void put_bytes(Bytes& out, std::span<const std::uint8_t> b) { out.insert(out.end(), b.begin(), b.end()); }
inline void put_bytes(Bytes& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }
// Length-prefixed (u32) so that concatenations stay unambiguous.
inline void put_lp(Bytes& out, std::span<const std::uint8_t> b) {
  put_u32(out, static_cast<std::uint32_t>(b.size()));
  put_bytes(out, b);
}
inline void put_lp(Bytes& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  put_bytes(out, s);
}

// Writes into a fixed-size buffer (typically SecretBytes) so secrets are
// never staged in ordinary heap memory. Overflow is a programming error in
// the size computation; it is reported through ok() rather than written.
class FixedWriter {
 public:
  explicit FixedWriter(std::span<std::uint8_t> out) noexcept : out_(out) {}
  bool ok() const noexcept { return ok_; }
  std::size_t written() const noexcept { return pos_; }

  void bytes(std::span<const std::uint8_t> b) noexcept {
    if (!ok_ || b.size() > out_.size() - pos_) {
      ok_ = false;
      return;
    }
    for (std::size_t i = 0; i < b.size(); ++i) out_[pos_ + i] = b[i];
    pos_ += b.size();
  }
  void u32(std::uint32_t v) noexcept {
    std::uint8_t b[4];
    for (int i = 0; i < 4; ++i) b[i] = static_cast<std::uint8_t>(v >> (8 * i));
    bytes(b);
  }

 private:
  std::span<std::uint8_t> out_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

inline std::span<const std::uint8_t> as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace rempart::crypto::detail
