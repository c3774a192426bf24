// The admins' self-check page: what fails first, then what warns, each
// with its fix; what passes folded away. One column of cards, readable on a
// phone. No script; every text goes through esc().
#include <string>

#include "console/page_parts.hpp"
#include "console/selfcheck_pages.hpp"
#include "i18n/i18n.hpp"

namespace rempart::console {

using i18n::tr;
using i18n::trf;
using i18n::trnf;
namespace sc = services::selfcheck;

namespace {

std::string card(const sc::Finding& f) {
  const char* level = f.level == sc::Level::fail ? tr("Fails") : f.level == sc::Level::warn ? tr("Warning") : tr("Passes");
  std::string s = "<li><p><strong>" + std::string(level) + "</strong> · " + esc(f.finding.translated()) + "</p>";
  if (f.level != sc::Level::ok && f.fix.msgid != nullptr && *f.fix.msgid != '\0') {
    s += "<p>" + trf("Fix: {}", esc(f.fix.translated())) + "</p>";
  }
  return s + "<p class=\"hint\"><code>" + esc(f.id) + "</code></p></li>";
}

std::string cards(const sc::Report& r, sc::Level level) {
  std::string s;
  for (const auto& f : r.findings) {
    if (f.level == level) s += card(f);
  }
  return s.empty() ? s : "<ul class=\"cards\">" + s + "</ul>";
}

}  // namespace

std::string selfcheck_page(const Viewer& v, const sc::Report& r, bool configured) {
  std::string b;
  if (!configured) {
    b += "<p class=\"notice\">" +
         std::string(tr("This keeper was started without the self-check's settings. Run `rempart selfcheck --config "
                        "FILE` on the server instead.")) +
         "</p>";
    return document(&v, tr("Self-check"), b);
  }
  const auto fails = static_cast<std::int64_t>(r.count(sc::Level::fail));
  const auto warns = static_cast<std::int64_t>(r.count(sc::Level::warn));
  const auto oks = static_cast<std::int64_t>(r.count(sc::Level::ok));
  const char* cls = fails != 0 ? "alert" : warns != 0 ? "notice" : "ok";
  b += "<p class=\"" + std::string(cls) + "\" role=\"status\">" +
       trnf("{} check fails", "{} checks fail", fails, i18n::number(fails)) + " · " +
       trnf("{} warning", "{} warnings", warns, i18n::number(warns)) + " · " +
       trnf("{} check passes", "{} checks pass", oks, i18n::number(oks)) + "</p>";
  b += "<p class=\"hint\">" +
       trf("Checked {}. The same checks run with `rempart selfcheck` (exit status 1 when one fails, for cron), which "
           "also scans the data files for personal data in clear: this page shows its last result and never scans.",
           esc(when(r.at))) +
       "</p>";
  if (fails != 0) b += "<h2>" + std::string(tr("To fix now")) + "</h2>" + cards(r, sc::Level::fail);
  if (warns != 0) b += "<h2>" + std::string(tr("To look at")) + "</h2>" + cards(r, sc::Level::warn);
  if (oks != 0) {
    b += "<details><summary>" + trnf("{} check passes", "{} checks pass", oks, i18n::number(oks)) + "</summary>" +
         cards(r, sc::Level::ok) + "</details>";
  }
  return document(&v, tr("Self-check"), b);
}

}  // namespace rempart::console
