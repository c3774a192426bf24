#pragma once
// Internal to the audit layer: the canonical big-endian encoding of what is
// hashed, MAC'd or signed (chain.cpp's entries, backup_manifest.cpp's
// manifests): integers big-endian, byte strings length-prefixed (u32).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace rempart::audit::detail {

inline void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

inline void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

inline void put_lp(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

inline void put_lp(std::string& out, std::span<const std::uint8_t> b) {
  put_u32(out, static_cast<std::uint32_t>(b.size()));
  out.append(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace rempart::audit::detail
