#pragma once
// Mail templates: plain text with {{name}} placeholders, written once by the
// organisation and filled per recipient. One template gives both bodies of a
// message: render_text() the text/plain part, render_html() the text/html
// alternative, where every character of the template and of the values is
// escaped for HTML.
//
// A placeholder the caller does not offer is an error when the template is
// parsed (at configuration time), so a typo fails loudly instead of sending
// a blank. Errors name the placeholder and its offset, never a value.
#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace rempart::mail {

// Values by placeholder name. Names ending in "_link" are URLs: in HTML they
// become links when they are http:// or https:// URLs.
using Vars = std::map<std::string, std::string, std::less<>>;

class Template {
 public:
  // Parses `text`, whose placeholders are "{{name}}" with name in [a-z_]+
  // and no space inside the braces. Errc::invalid_input when a "{{" is not
  // the start of such a placeholder, or a name is not in `allowed`.
  static Result<Template> parse(std::string_view text, std::span<const std::string_view> allowed);

  // The names used, each once, in order of first use.
  const std::vector<std::string>& placeholders() const noexcept { return names_; }

 private:
  friend Result<std::string> render_text(const Template&, const Vars&);
  friend Result<std::string> render_html(const Template&, const Vars&, std::string_view, std::string_view);

  struct Piece {
    bool placeholder;  // `text` is then the name
    std::string text;
  };
  std::vector<Piece> pieces_;
  std::vector<std::string> names_;
};

// The template with each placeholder replaced by its value as it is, less
// control characters other than \n (a CR, a tab or an escape sequence in a
// value cannot reshape the mail); bytes that are not UTF-8 become U+FFFD.
// Errc::invalid_input naming the first placeholder that `vars` lacks.
Result<std::string> render_text(const Template& t, const Vars& vars);

// A whole HTML document from the same template: the template's text and the
// values HTML-escaped (& < > " '), blank-line separated paragraphs as <p>,
// other line breaks as <br>, and a value whose name ends in "_link" as
// <a href="URL">URL</a> when it is an http:// or https:// URL of printable
// ASCII (any other value, "javascript:" included, stays escaped text).
// Values are cleaned as render_text() does. The document is minimal and
// accessible: <html lang="LANG">, a charset meta, a viewport meta, the
// escaped `title`; no style sheet, no image, no remote resource, nothing
// that tracks. Errc::invalid_input when `lang` is not a language tag
// (letters, digits and '-', 2..35 characters) or a value is missing.
Result<std::string> render_html(const Template& t, const Vars& vars, std::string_view lang, std::string_view title);

// `s` with & < > " ' as character references.
std::string html_escape(std::string_view s);

}  // namespace rempart::mail
