# Writes a C++ source holding the bytes of a file, at build time:
#   cmake -DIN=file -DOUT=file.cpp -DFUNCTION=ns::name -DHEADER=x.hpp -P EmbedFile.cmake
# The function returns them as a std::span<const std::uint8_t>.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" chars)
math(EXPR size "${chars} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){32})" "\\1\n" bytes "${bytes}")
string(REGEX MATCH "^(.*)::([^:]+)$" _ "${FUNCTION}")
set(ns "${CMAKE_MATCH_1}")
set(fn "${CMAKE_MATCH_2}")
file(WRITE "${OUT}.tmp" "// Generated from ${IN} by cmake/EmbedFile.cmake; do not edit.
#include \"${HEADER}\"

namespace {
const std::uint8_t kBytes[${size} + 1] = {
${bytes}0};
}  // namespace

namespace ${ns} {
std::span<const std::uint8_t> ${fn}() noexcept { return {kBytes, ${size}}; }
}  // namespace ${ns}
")
file(RENAME "${OUT}.tmp" "${OUT}")
