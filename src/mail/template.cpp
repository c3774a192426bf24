#include "mail/template.hpp"

#include <algorithm>
#include <cctype>

#include "core/text.hpp"

namespace rempart::mail {

namespace {

constexpr std::string_view kOpen = "{{";
constexpr std::string_view kClose = "}}";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool name_char(char c) noexcept { return (c >= 'a' && c <= 'z') || c == '_'; }

// A value with every control character but \n removed and ill-formed bytes
// replaced, so that it holds only what a reader should see.
std::string clean(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  std::size_t i = 0;
  while (i < v.size()) {
    const std::size_t start = i;
    auto c = core::text::decode_one(v, i);
    if (!c) {
      out.append(kReplacement);
      i = start + 1;
      continue;
    }
    if (*c == U'\n' || !core::text::is_control(*c)) out.append(v.substr(start, i - start));
  }
  return out;
}

const std::string* lookup(const Vars& vars, const std::string& name) {
  auto it = vars.find(name);
  return it == vars.end() ? nullptr : &it->second;
}

std::unexpected<Error> missing(const std::string& name) {
  return fail(Errc::invalid_input, "mail template: no value for {{" + name + "}}");
}

// An http(s) URL that can stand in an href as it is: printable ASCII without
// spaces, and something after the scheme.
bool web_link(std::string_view v) {
  std::string lower(v.substr(0, 8));
  std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::size_t scheme = lower.starts_with("https://") ? 8 : lower.starts_with("http://") ? 7 : 0;
  return scheme != 0 && v.size() > scheme && v.size() <= 2000 &&
         std::ranges::all_of(v, [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

void append_escaped(std::string& out, char c) {
  switch (c) {
    case '&': out.append("&amp;"); break;
    case '<': out.append("&lt;"); break;
    case '>': out.append("&gt;"); break;
    case '"': out.append("&quot;"); break;
    case '\'': out.append("&#39;"); break;
    default: out.push_back(c);
  }
}

// Rendered inline HTML, line by line: a blank line (only spaces and tabs)
// ends a paragraph.
struct Lines {
  std::vector<std::string> html;   // per line
  std::vector<bool> blank;         // per line: no visible content
  void text(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\n') {
        html.emplace_back();
        blank.push_back(true);
        continue;
      }
      // A template written with CRLF line ends: the CR goes with the LF.
      if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') continue;
      if (s[i] != ' ' && s[i] != '\t') blank.back() = false;
      append_escaped(html.back(), s[i]);
    }
  }
  void link(std::string_view url) {
    const std::string e = html_escape(url);
    html.back().append("<a href=\"" + e + "\">" + e + "</a>");
    blank.back() = false;
  }
};

}  // namespace

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char c : s) append_escaped(out, c);
  return out;
}

Result<Template> Template::parse(std::string_view text, std::span<const std::string_view> allowed) {
  Template t;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t open = text.find(kOpen, pos);
    if (open == std::string_view::npos) {
      t.pieces_.push_back({false, std::string(text.substr(pos))});
      break;
    }
    if (open > pos) t.pieces_.push_back({false, std::string(text.substr(pos, open - pos))});
    std::size_t end = open + kOpen.size();
    while (end < text.size() && name_char(text[end])) ++end;
    const std::string_view name = text.substr(open + kOpen.size(), end - open - kOpen.size());
    if (name.empty() || text.substr(end, kClose.size()) != kClose) {
      return fail(Errc::invalid_input, "mail template: \"{{\" at offset " + std::to_string(open) +
                                           " does not open a {{name}} placeholder (name in a-z and _)");
    }
    if (std::ranges::find(allowed, name) == allowed.end()) {
      return fail(Errc::invalid_input, "mail template: unknown placeholder {{" + std::string(name) + "}} at offset " +
                                           std::to_string(open));
    }
    t.pieces_.push_back({true, std::string(name)});
    if (std::ranges::find(t.names_, name) == t.names_.end()) t.names_.emplace_back(name);
    pos = end + kClose.size();
  }
  return t;
}

Result<std::string> render_text(const Template& t, const Vars& vars) {
  std::string out;
  for (const auto& p : t.pieces_) {
    if (!p.placeholder) {
      out.append(p.text);
      continue;
    }
    const std::string* v = lookup(vars, p.text);
    if (v == nullptr) return missing(p.text);
    out.append(clean(*v));
  }
  return out;
}

Result<std::string> render_html(const Template& t, const Vars& vars, std::string_view lang, std::string_view title) {
  if (lang.size() < 2 || lang.size() > 35 ||
      !std::ranges::all_of(lang, [](unsigned char c) { return std::isalnum(c) != 0 || c == '-'; })) {
    return fail(Errc::invalid_input, "mail template: lang is not a language tag");
  }
  Lines lines{{""}, {true}};
  for (const auto& p : t.pieces_) {
    if (!p.placeholder) {
      lines.text(p.text);
      continue;
    }
    const std::string* v = lookup(vars, p.text);
    if (v == nullptr) return missing(p.text);
    const std::string value = clean(*v);
    if (p.text.ends_with("_link") && web_link(value)) {
      lines.link(value);
    } else {
      lines.text(value);
    }
  }

  std::string body;
  bool open = false;
  for (std::size_t i = 0; i < lines.html.size(); ++i) {
    if (lines.blank[i]) {
      if (open) body.append("</p>\n");
      open = false;
      continue;
    }
    body.append(open ? "<br>\n" : "<p>");
    body.append(lines.html[i]);
    open = true;
  }
  if (open) body.append("</p>\n");

  std::string out;
  out.append("<!DOCTYPE html>\n<html lang=\"").append(lang).append("\">\n<head>\n");
  out.append("<meta charset=\"utf-8\">\n");
  out.append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
  out.append("<title>").append(html_escape(clean(title))).append("</title>\n");
  out.append("</head>\n<body>\n").append(body).append("</body>\n</html>\n");
  return out;
}

}  // namespace rempart::mail
