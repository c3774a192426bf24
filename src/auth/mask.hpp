#pragma once
// Masked views of personal data for lists and search results. A masked
// value keeps just enough to tell two people apart at a glance and never
// the whole value. Pure functions; thread-safe.
#include <string>
#include <string_view>

namespace rempart::auth {

// "jean@example.org" -> "j•••@e•••.org". Without '@': "•••".
std::string mask_email(std::string_view email);

// E.164 "+33612345642" -> "+33 6•• •• •• 42": the country code (ITU
// lengths), the first national digit and the last two; the rest masked.
// Anything else (not '+' and 7..15 digits) -> "•••".
std::string mask_phone(std::string_view e164);

// "Jean-Luc Dupont" -> "J. D.": the first character (UTF-8 code point) of
// each space-separated word, upper-cased when ASCII.
std::string initials(std::string_view name);

}  // namespace rempart::auth
