// Mail templates: placeholders checked at parse time, values cleaned for
// text and escaped for HTML.
#include "mail/template.hpp"

#include <gtest/gtest.h>

#include <array>

namespace rempart::mail {
namespace {

constexpr std::array<std::string_view, 4> kAllowed = {"first_name", "organisation", "unsubscribe_link", "amount"};

Template parse_ok(std::string_view text) {
  auto t = Template::parse(text, kAllowed);
  EXPECT_TRUE(t) << t.error().internal;
  return t ? std::move(*t) : Template{};
}

TEST(MailTemplate, UnknownOrMalformedPlaceholdersAreRefusedAtParse) {
  auto r = Template::parse("Bonjour {{first_nmae}},", kAllowed);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_input);
  EXPECT_NE(r.error().internal.find("{{first_nmae}}"), std::string::npos) << r.error().internal;
  EXPECT_NE(r.error().internal.find("offset 8"), std::string::npos) << r.error().internal;

  for (const char* bad : {"{{First_name}}", "{{ first_name }}", "{{first_name}", "{{}}", "{{first-name}}",
                          "x {{", "{{{first_name}}}"}) {
    auto b = Template::parse(bad, kAllowed);
    ASSERT_FALSE(b) << bad;
    EXPECT_EQ(b.error().code, Errc::invalid_input) << bad;
  }
  // Single braces are text.
  EXPECT_TRUE(Template::parse("{ not a placeholder } }}", kAllowed));
}

TEST(MailTemplate, PlaceholdersAreListedOnceInOrder) {
  const Template t = parse_ok("{{organisation}}: {{first_name}}, {{organisation}}");
  EXPECT_EQ(t.placeholders(), (std::vector<std::string>{"organisation", "first_name"}));
}

TEST(MailTemplate, TextInsertsValuesLessControlCharacters) {
  const Template t = parse_ok("Bonjour {{first_name}},\n\nMerci de soutenir {{organisation}}.\n");
  auto out = render_text(t, {{"first_name", "Élise\r\n\tBcc:\x1b[31m\x7f"}, {"organisation", "Mouvement\nÉcologie"}});
  ASSERT_TRUE(out) << out.error().internal;
  EXPECT_EQ(*out, "Bonjour Élise\nBcc:[31m,\n\nMerci de soutenir Mouvement\nÉcologie.\n");
  // A C1 control (U+0085) goes too, ill-formed bytes become U+FFFD.
  auto c1 = render_text(t, {{"first_name", "A\xc2\x85" "B\xff"}, {"organisation", "O"}});
  ASSERT_TRUE(c1);
  EXPECT_EQ(*c1, "Bonjour AB\xEF\xBF\xBD,\n\nMerci de soutenir O.\n");
}

TEST(MailTemplate, AMissingValueIsAnErrorNotABlank) {
  const Template t = parse_ok("Bonjour {{first_name}}");
  auto out = render_text(t, {{"organisation", "x"}});
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, Errc::invalid_input);
  EXPECT_NE(out.error().internal.find("first_name"), std::string::npos);
  EXPECT_FALSE(render_html(t, {}, "fr", "t"));
}

TEST(MailTemplate, HtmlEscapesTemplateAndValuesAndBuildsParagraphs) {
  const Template t = parse_ok("Bonjour {{first_name}} & <amis>,\nligne deux\n\n  \n\nMerci de soutenir {{organisation}}.\n");
  auto out = render_html(t, {{"first_name", "<script>alert('x')</script>"}, {"organisation", "\"Écologie\" & Co"}}, "fr",
                         "Adhésion <confirmée>");
  ASSERT_TRUE(out) << out.error().internal;
  const std::string& h = *out;
  EXPECT_EQ(h.find("<script>"), std::string::npos) << h;
  EXPECT_NE(h.find("<p>Bonjour &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;amis&gt;,<br>\nligne deux</p>\n"
                   "<p>Merci de soutenir &quot;Écologie&quot; &amp; Co.</p>\n"),
            std::string::npos)
      << h;
  EXPECT_TRUE(h.starts_with("<!DOCTYPE html>\n<html lang=\"fr\">\n")) << h;
  EXPECT_NE(h.find("<meta charset=\"utf-8\">"), std::string::npos);
  EXPECT_NE(h.find("<title>Adhésion &lt;confirmée&gt;</title>"), std::string::npos);
  // Nothing that loads or tracks.
  for (const char* tag : {"<img", "<script", "<link", "<style", "src=", "<iframe"}) {
    EXPECT_EQ(h.find(tag), std::string::npos) << tag;
  }
}

TEST(MailTemplate, LinksOnlyForHttpUrlsInLinkValues) {
  const Template t = parse_ok("Se désinscrire : {{unsubscribe_link}}\nMontant : {{amount}}");
  auto good = render_html(t, {{"unsubscribe_link", "https://mouvement.example.org/u/ab?x=1&y=2"}, {"amount", "https://x.example"}},
                          "fr", "t");
  ASSERT_TRUE(good);
  EXPECT_NE(good->find("Se désinscrire : <a href=\"https://mouvement.example.org/u/ab?x=1&amp;y=2\">"
                       "https://mouvement.example.org/u/ab?x=1&amp;y=2</a><br>\n"),
            std::string::npos)
      << *good;
  // Only names ending in _link become links.
  EXPECT_NE(good->find("Montant : https://x.example</p>"), std::string::npos) << *good;

  for (const char* bad : {"javascript:alert(document.cookie)", "JaVaScRiPt:alert(1)", "data:text/html,<b>x</b>",
                          "https://x.example/\" onmouseover=\"alert(1)", "//evil.example/x", "https://"}) {
    auto out = render_html(t, {{"unsubscribe_link", bad}, {"amount", "1"}}, "fr", "t");
    ASSERT_TRUE(out);
    EXPECT_EQ(out->find("<a "), std::string::npos) << bad << "\n" << *out;
    EXPECT_EQ(out->find("href"), std::string::npos) << bad;
    EXPECT_EQ(out->find("<b>"), std::string::npos) << bad;
    EXPECT_EQ(out->find("\" onmouseover"), std::string::npos) << bad;
  }
  auto js = render_html(t, {{"unsubscribe_link", "javascript:alert(1)"}, {"amount", "1"}}, "fr", "t");
  ASSERT_TRUE(js);
  EXPECT_NE(js->find("Se désinscrire : javascript:alert(1)<br>"), std::string::npos) << *js;
  EXPECT_NE(render_html(t, {{"unsubscribe_link", "HTTP://x.example/u"}, {"amount", "1"}}, "fr", "t")->find("<a href="),
            std::string::npos);
}

TEST(MailTemplate, LangMustBeALanguageTag) {
  const Template t = parse_ok("x");
  EXPECT_TRUE(render_html(t, {}, "fr-CA", "t"));
  for (const char* bad : {"", "f", "fr\" onload=\"x", "fr><script>"}) {
    auto out = render_html(t, {}, bad, "t");
    ASSERT_FALSE(out) << bad;
    EXPECT_EQ(out.error().code, Errc::invalid_input);
  }
}

}  // namespace
}  // namespace rempart::mail
