#include "drill/corpus.hpp"

#include <charconv>
#include <optional>
#include <cstdint>
#include <utility>

namespace rempart::drill {
namespace {

struct CorpusFile {
  std::string_view stem;
  std::string_view text;
};

constexpr CorpusFile kCorpus[] = {
#include "payload_corpus.inc"
};

// Code point `cp` as UTF-8; surrogates too (Python's "surrogatepass").
void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The hex number of `digits` characters at `at`, or nullopt.
std::optional<std::uint32_t> hex_at(std::string_view line, std::size_t at, std::size_t digits) {
  if (at + digits > line.size()) return std::nullopt;
  std::uint32_t v = 0;
  const char* first = line.data() + at;
  const auto [end, ec] = std::from_chars(first, first + digits, v, 16);
  if (ec != std::errc{} || end != first + digits || v > 0x10FFFF) return std::nullopt;
  return v;
}

}  // namespace

std::string decode_payload_line(std::string_view line) {
  constexpr std::string_view kRepeat = "@repeat ";
  if (line.starts_with(kRepeat)) {
    const std::string_view rest = line.substr(kRepeat.size());
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
    if (ec == std::errc{} && end < rest.data() + rest.size() && *end == ' ' && n <= 1'000'000) {
      const std::string unit = decode_payload_line(rest.substr(static_cast<std::size_t>(end - rest.data()) + 1));
      std::string out;
      out.reserve(unit.size() * n);
      for (std::size_t i = 0; i < n; ++i) out += unit;
      return out;
    }
  }
  std::string out;
  for (std::size_t i = 0; i < line.size();) {
    const char c = line[i];
    if (c != '\\' || i + 1 >= line.size()) {
      out += c;
      ++i;
      continue;
    }
    const char n = line[i + 1];
    switch (n) {
      case 'r': out += '\r'; i += 2; continue;
      case 'n': out += '\n'; i += 2; continue;
      case 't': out += '\t'; i += 2; continue;
      case '0': out += '\0'; i += 2; continue;
      case '\\': out += '\\'; i += 2; continue;
      default: break;
    }
    const std::size_t digits = n == 'x' ? 2 : n == 'u' ? 4 : n == 'U' ? 8 : 0;
    const auto v = digits == 0 ? std::nullopt : hex_at(line, i + 2, digits);
    if (!v) {
      out += '\\';
      ++i;
      continue;
    }
    if (n == 'x') {
      out += static_cast<char>(static_cast<unsigned char>(*v));
    } else {
      append_utf8(out, *v);
    }
    i += 2 + digits;
  }
  return out;
}

std::vector<Payload> payload_corpus() {
  std::vector<Payload> out;
  for (const auto& file : kCorpus) {
    std::string_view text = file.text;
    while (!text.empty()) {
      const auto nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
      if (line.empty() || line == "#" || line.starts_with("# ")) continue;
      out.push_back(Payload{file.stem, decode_payload_line(line)});
    }
  }
  return out;
}

}  // namespace rempart::drill
