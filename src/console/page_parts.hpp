#pragma once
// Pieces the console's page files share (pages.cpp, account_pages.cpp).
// Every text from outside goes through esc().
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "console/pages.hpp"

namespace rempart::console {

// "6 Dec 2026, 13:20 UTC" in the request's language (i18n::date_time), or "—" for 0.
std::string when(std::int64_t unix_seconds);
// `unix_seconds` in UTC through strftime's `format` (at most 63 bytes out).
std::string utc_text(std::int64_t unix_seconds, const char* format);
std::string csrf_field(const Viewer& v);
// A POST form holding one button (and the hidden or visible fields in `extra`).
std::string button_form(const Viewer& v, std::string_view action, std::string_view label,
                        std::string_view extra = {});
std::string notice_html(std::string_view notice);
// The otpauth:// URI as an inline SVG QR code.
std::string qr_svg(std::string_view text);
// Masked supporters as a table; on a narrow screen each row stacks its
// cells under their labels (pages.cpp).
std::string masked_rows(const std::vector<services::MaskedSupporter>& items);
// A labelled input for a fresh authenticator code (step-up); `id` must be
// unique on the page.
std::string code_input(std::string_view id);

}  // namespace rempart::console
