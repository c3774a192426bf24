// The admins' self-check page as HTML: failures first with their fix, the
// passing checks folded away, every text escaped, French from the
// catalogue, and the page's word when the process has no settings.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "console/pages.hpp"
#include "console/selfcheck_pages.hpp"
#include "i18n/i18n.hpp"

namespace rempart::console {
namespace {

namespace sc = services::selfcheck;

sc::Report sample() {
  sc::Report r;
  r.at = 1796630400;
  r.findings.push_back({"keys.mode", sc::Level::fail, {N_("key files open to group or others: {}"), {"<keeper>.keyring 0644"}},
                        {N_("chmod 700 {} and chmod 600 every file in it"), {"/srv/rempart/keys"}}});
  r.findings.push_back({"alerts.sink", sc::Level::warn,
                        {N_("alerts only go to this machine's log and files: nobody is told when the guard locks "
                            "someone"),
                         {}},
                        {N_("configure [alerts.webhook] (a chat room) or [alerts.smtp] (a mailbox someone reads)"), {}}});
  r.findings.push_back({"data.mode", sc::Level::ok, {N_("the data directory {} is closed to group and others"),
                                                     {"/srv/rempart/data"}},
                        {}});
  return r;
}

std::size_t at(const std::string& html, const std::string& words) {
  const auto p = html.find(words);
  EXPECT_NE(p, std::string::npos) << words;
  return p;
}

TEST(SelfcheckPage, FailuresFirstWithTheirFixEscaped) {
  const Viewer v{"ada", auth::Role::admin, "csrf"};
  const auto html = selfcheck_page(v, sample(), true);
  EXPECT_LT(at(html, "To fix now"), at(html, "To look at"));
  EXPECT_LT(at(html, "To look at"), at(html, "<details>"));
  at(html, "1 check fails · 1 warning · 1 check passes");
  at(html, "key files open to group or others: &lt;keeper&gt;.keyring 0644");
  at(html, "Fix: chmod 700 /srv/rempart/keys and chmod 600 every file in it");
  EXPECT_EQ(html.find("<keeper>"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  if (const char* dir = std::getenv("REMPART_ARTIFACTS")) std::ofstream(std::string(dir) + "/selfcheck.html") << html;
}

TEST(SelfcheckPage, InFrench) {
  const i18n::Scope fr(i18n::Lang::fr);
  const Viewer v{"ada", auth::Role::admin, "csrf"};
  const auto html = selfcheck_page(v, sample(), true);
  at(html, "À corriger maintenant");
  at(html, "fichiers de clés ouverts au groupe ou aux autres : &lt;keeper&gt;.keyring 0644");
  at(html, "Correctif : chmod 700 /srv/rempart/keys et chmod 600 sur chacun de ses fichiers");
}

TEST(SelfcheckPage, WithoutSettingsItSaysSo) {
  const Viewer v{"ada", auth::Role::admin, "csrf"};
  at(selfcheck_page(v, {}, false), "without the self-check");
}

}  // namespace
}  // namespace rempart::console
