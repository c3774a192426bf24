#pragma once
// Low-level text checks shared by the validators and the CSV reader. All
// functions are pure and thread-safe; none of them logs or keeps its input.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rempart::core::text {

// True if `s` is well-formed UTF-8: no overlong forms, no surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence.
bool is_valid_utf8(std::string_view s) noexcept;

// Decodes the code point starting at s[i] and advances i past it. Returns
// nullopt (leaving i unchanged) if the bytes there are not well-formed UTF-8.
std::optional<char32_t> decode_one(std::string_view s, std::size_t& i) noexcept;

// Number of code points in well-formed UTF-8 `s`.
std::size_t count_code_points(std::string_view s) noexcept;

// C0/C1 control characters (general category Cc), NUL included.
bool is_control(char32_t c) noexcept;

// Characters that reorder displayed text (bidi embeddings, overrides,
// isolates and marks). They let a name display as something else in the
// console, so they are refused in stored text.
bool is_bidi_control(char32_t c) noexcept;

// Free text recorded as typed and shown back later (a reveal's or an
// export's reason): 1..max_bytes of well-formed UTF-8 without control or
// bidi characters.
bool is_plain_line(std::string_view s, std::size_t max_bytes) noexcept;

// Strips ASCII whitespace (space, tab, CR, LF, VT, FF) at both ends.
std::string_view trim_ascii(std::string_view s) noexcept;

// Strips Unicode White_Space at both ends of well-formed UTF-8 `s`.
std::string_view trim_unicode(std::string_view s) noexcept;

// `unix_seconds` in UTC through strftime's `format` (at most 63 bytes out).
std::string utc_text(std::int64_t unix_seconds, const char* format);

std::string ascii_lower(std::string_view s);
std::string ascii_upper(std::string_view s);

// NFC normalisation (ICU) of well-formed UTF-8. Returns nullopt if ICU
// reports a failure.
std::optional<std::string> to_nfc(std::string_view s);

}  // namespace rempart::core::text
