#pragma once
// Key bytes live in their own type so that they cannot drift into strings,
// logs or ordinary heap memory by accident. SecretBytes owns a buffer from
// sodium_malloc: guard pages on both sides, mlocked where the system allows
// (so it is not swapped out), excluded from core dumps, and wiped when freed.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace rempart::crypto {

// Non-secret byte strings (ciphertexts, public keys, identifiers).
using Bytes = std::vector<std::uint8_t>;

// Initialises libsodium once per process. Safe to call from any thread, any
// number of times; every factory in this layer calls it itself, so callers
// need it only to fail early at start-up. Fails with Errc::crypto if the
// library cannot initialise (e.g. no entropy source).
Result<void> init();

class SecretBytes {
 public:
  // An empty value owning nothing (size 0, data() == nullptr); what a
  // moved-from object becomes.
  SecretBytes() noexcept = default;

  // `n` bytes of guarded memory with unspecified content. Fails with
  // Errc::crypto if libsodium cannot initialise, Errc::internal if the
  // memory cannot be obtained. allocate(0) yields an empty value.
  static Result<SecretBytes> allocate(std::size_t n);
  // `n` bytes from libsodium's CSPRNG.
  static Result<SecretBytes> random(std::size_t n);
  // `src` copied into fresh guarded memory.
  static Result<SecretBytes> copy_of(std::span<const std::uint8_t> src);

  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes();  // wipes and frees (sodium_free)

  std::uint8_t* data() noexcept { return data_; }
  const std::uint8_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::span<std::uint8_t> span() noexcept { return {data_, size_}; }
  std::span<const std::uint8_t> span() const noexcept { return {data_, size_}; }

  // The bytes as text, for secrets that are text (tokens, codes). The view
  // lives as long as this object; copy it only into what is shown once.
  std::string_view text() const noexcept { return {reinterpret_cast<const char*>(data_), size_}; }
  // `s` copied into fresh guarded memory (then wipe `s`).
  static Result<SecretBytes> copy_of_text(std::string_view s) {
    return copy_of({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
  }

  // Constant-time comparison of contents; sizes are not secret.
  bool equals(std::span<const std::uint8_t> other) const noexcept;

 private:
  SecretBytes(std::uint8_t* p, std::size_t n) noexcept : data_(p), size_(n) {}
  void release() noexcept;

  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// Zeroes a string's bytes (sodium_memzero) and clears it: plaintext
// personal data, once used.
void wipe(std::string& s) noexcept;

namespace detail {

// sodium_memzero: a wipe the compiler does not drop.
void wipe(std::span<std::uint8_t> bytes) noexcept;

// A fixed-size key in ordinary memory (on the stack, or on the heap behind a
// unique_ptr), wiped when it goes. Only for keys on the intake path that live
// from microseconds to one group commit (per-item data keys, batch wrapping
// keys, an X25519 exchange): there sodium_malloc's system calls (mmap,
// mprotect, mlock and back) cost more than the work they guard
// (docs/architecture.md, "Batches"). Every other secret is a SecretBytes.
template <std::size_t N>
struct WipedKey {
  std::array<std::uint8_t, N> bytes{};
  WipedKey() = default;
  WipedKey(const WipedKey&) = delete;
  WipedKey& operator=(const WipedKey&) = delete;
  ~WipedKey() { wipe(bytes); }
  std::uint8_t* data() noexcept { return bytes.data(); }
  const std::uint8_t* data() const noexcept { return bytes.data(); }
  std::span<std::uint8_t, N> span() noexcept { return bytes; }
  std::span<const std::uint8_t, N> span() const noexcept { return bytes; }
};

}  // namespace detail

}  // namespace rempart::crypto
