#include "crypto/secret.hpp"

#include <sodium.h>

#include <algorithm>
#include <utility>

namespace rempart::crypto {

void wipe(std::string& s) noexcept {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

Result<void> init() {
  // sodium_init is itself idempotent and thread-safe; the static only saves
  // repeated calls and keeps the answer stable for the process lifetime.
  static const int status = sodium_init();
  if (status < 0) return fail(Errc::crypto, "libsodium failed to initialise");
  return {};
}

Result<SecretBytes> SecretBytes::allocate(std::size_t n) {
  if (auto ok = init(); !ok) return std::unexpected(ok.error());
  if (n == 0) return SecretBytes{};
  auto* p = static_cast<std::uint8_t*>(sodium_malloc(n));
  if (p == nullptr) return fail(Errc::internal, "cannot allocate guarded memory for key material");
  return SecretBytes{p, n};
}

Result<SecretBytes> SecretBytes::random(std::size_t n) {
  auto s = allocate(n);
  if (s && n > 0) randombytes_buf(s->data(), n);
  return s;
}

Result<SecretBytes> SecretBytes::copy_of(std::span<const std::uint8_t> src) {
  auto s = allocate(src.size());
  if (s && !src.empty()) std::copy(src.begin(), src.end(), s->data());
  return s;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SecretBytes::~SecretBytes() { release(); }

void SecretBytes::release() noexcept {
  if (data_ != nullptr) sodium_free(data_);  // zeroes before unmapping
  data_ = nullptr;
  size_ = 0;
}

void detail::wipe(std::span<std::uint8_t> bytes) noexcept {
  if (!bytes.empty()) sodium_memzero(bytes.data(), bytes.size());
}

bool SecretBytes::equals(std::span<const std::uint8_t> other) const noexcept {
  if (other.size() != size_) return false;
  if (size_ == 0) return true;
  return sodium_memcmp(data_, other.data(), size_) == 0;
}

}  // namespace rempart::crypto
