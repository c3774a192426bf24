#pragma once
// Hexadecimal for ids, hashes and signatures: the one encoder and parser.
// Not constant-time: nothing secret is written or read as hex here.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rempart::core {

// Lower-case hex of `bytes`.
std::string to_hex(std::span<const std::uint8_t> bytes);

// The bytes of `hex`: an even number of hex digits of either case and
// nothing else; nullopt otherwise (the empty string gives no bytes).
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view hex);
// The same, and exactly `bytes` long.
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view hex, std::size_t bytes);

}  // namespace rempart::core
