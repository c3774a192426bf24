// Checks and header encodings of mail::Message, without a server.
#include "mail/message.hpp"

#include <gtest/gtest.h>

#include <sodium.h>

#include "core/text.hpp"

namespace rempart::mail {
namespace {

Message good() {
  Message m;
  m.return_path = "bounces@example.org";
  m.from_address = "contact@example.org";
  m.from_name = "Mouvement Écologie Démo";
  m.to = "elise@example.net";
  m.subject = "Bonjour";
  m.message_id = "abc123@example.org";
  m.headers = {{"List-Unsubscribe", "<https://example.org/u/1>"}, {"Auto-Submitted", "auto-generated"}};
  m.text = "Bonjour\n";
  return m;
}

std::vector<std::string> words_of(const std::string& folded) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  for (;;) {
    const auto fold = folded.find("\r\n ", pos);
    out.push_back(folded.substr(pos, fold - pos));
    if (fold == std::string::npos) break;
    pos = fold + 3;
  }
  return out;
}

std::string base64_decode(std::string_view b64) {
  std::string out(b64.size(), '\0');
  std::size_t len = 0;
  EXPECT_EQ(sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), b64.data(), b64.size(),
                              nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL),
            0);
  out.resize(len);
  return out;
}

// Each word decoded on its own: whole characters, never a split sequence.
std::string decode_words(const std::string& folded) {
  std::string out;
  for (const auto& w : words_of(folded)) {
    EXPECT_TRUE(w.starts_with("=?UTF-8?B?") && w.ends_with("?=")) << w;
    const std::string part = base64_decode(std::string_view(w).substr(10, w.size() - 12));
    EXPECT_TRUE(core::text::is_valid_utf8(part)) << w;
    out += part;
  }
  return out;
}

TEST(MailMessage, AGoodMessagePasses) { EXPECT_TRUE(check(good())); }

TEST(MailMessage, HeaderInjectionIsRefusedNamingTheHeaderNotTheValue) {
  for (const std::string& value : std::vector<std::string>{"x\r\nBcc: all@example.org", "x\nBcc: all@example.org",
                                                          "x\rBcc: all@example.org",
                                                          std::string("x\0Bcc: all@example.org", 22)}) {
    Message m = good();
    m.headers.push_back({"X-Campaign", value});
    auto r = check(m);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_input);
    EXPECT_NE(r.error().internal.find("X-Campaign"), std::string::npos) << r.error().internal;
    EXPECT_EQ(r.error().internal.find("Bcc"), std::string::npos) << r.error().internal;
    EXPECT_EQ(r.error().internal.find("all@"), std::string::npos) << r.error().internal;
  }
  for (const std::string& name :
       std::vector<std::string>{"X-Bad\r\nBcc", "X Bad", "X:Bad", "", std::string("X\0", 2)}) {
    Message m = good();
    m.headers.push_back({name, "value"});
    auto r = check(m);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_input);
    EXPECT_EQ(r.error().internal.find("Bcc"), std::string::npos) << r.error().internal;
  }
  for (const char* name : {"Bcc", "to", "Subject", "Content-Type", "MIME-Version", "Message-ID", "Date", "From"}) {
    Message m = good();
    m.headers.push_back({name, "value"});
    EXPECT_FALSE(check(m)) << name;
  }
  Message m = good();
  m.subject = "Bonjour\r\nBcc: all@example.org";
  auto r = check(m);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().internal.find("subject"), std::string::npos);
  EXPECT_EQ(r.error().internal.find("all@"), std::string::npos);
  m = good();
  m.from_name = "Org\nBcc: x@example.org";
  EXPECT_FALSE(check(m));
  m = good();
  m.message_id = "abc@example.org>\r\nBcc: <x";
  EXPECT_FALSE(check(m));
}

TEST(MailMessage, AddressesMustBePlain) {
  for (const char* bad : {"Elise <elise@example.net>", "elise@example.net, other@example.net", "elise", "@example.net",
                          "elise@", "el ise@example.net", "elise@example.net\r\n", "a@b@c", "élise@example.net",
                          "\"elise\"@example.net", ""}) {
    EXPECT_FALSE(is_plain_address(bad)) << bad;
    Message m = good();
    m.to = bad;
    auto r = check(m);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().internal, "mail message: to is not a plain address");
  }
  EXPECT_TRUE(is_plain_address("elise.dupont+news@xn--mouvement-cologie-jtb.example"));
  Message m = good();
  m.also_to = {"ok@example.org", "not an address"};
  EXPECT_FALSE(check(m));
  m = good();
  m.return_path = "bounces";
  EXPECT_FALSE(check(m));
}

TEST(MailMessage, BodiesAndAttachmentsAreChecked) {
  Message m = good();
  m.text.clear();
  EXPECT_FALSE(check(m));
  m = good();
  m.text = "caf\xe9";  // Latin-1, not UTF-8
  EXPECT_FALSE(check(m));
  m = good();
  m.html = std::string("<p>a\0b</p>", 10);
  EXPECT_FALSE(check(m));
  m = good();
  m.attachments.push_back({"ok.json", "application/json", "{}"});
  EXPECT_TRUE(check(m));
  for (const char* name : {"", "a\"b.json", "../etc/passwd", "a\r\nb.json", "reçu.pdf"}) {
    m = good();
    m.attachments.push_back({name, "application/json", "{}"});
    EXPECT_FALSE(check(m)) << name;
  }
  m = good();
  m.attachments.push_back({"a.json", "json", "{}"});
  EXPECT_FALSE(check(m));
  m = good();
  m.attachments.push_back({"a.json", "application/json\r\nX: y", "{}"});
  EXPECT_FALSE(check(m));
}

TEST(MailMessage, EncodedWordsSplitOnCharacterBoundariesWithinSeventyFiveCharacters) {
  // 2-, 3- and 4-byte characters, so that a naive split would cut one.
  std::string subject;
  for (int i = 0; i < 12; ++i) subject += "Adhésion confirmée 🌱 — merci ! ";
  const std::string folded = encode_header_word(subject, 9);
  const auto words = words_of(folded);
  EXPECT_GT(words.size(), 5u);
  for (const auto& w : words) EXPECT_LE(w.size(), 75u) << w;
  EXPECT_LE(9 + words.front().size(), 76u);
  EXPECT_EQ(decode_words(folded), subject);

  EXPECT_EQ(encode_header_word(""), "");
  EXPECT_EQ(encode_header_word("é"), "=?UTF-8?B?w6k=?=");
  // A lone emoji fits even the smallest first word.
  EXPECT_EQ(decode_words(encode_header_word("🌱", 70)), "🌱");
}

TEST(MailMessage, UnstructuredValuesStayPlainOnlyWhenSafe) {
  EXPECT_EQ(encode_unstructured("[rempart] critical: honeytoken (account:7)", 9),
            "[rempart] critical: honeytoken (account:7)");
  EXPECT_TRUE(encode_unstructured("Adhésion", 9).starts_with("=?UTF-8?B?"));
  EXPECT_TRUE(encode_unstructured("looks =?like?= a word", 9).starts_with("=?UTF-8?B?"));
  const std::string long_ascii(100, 'x');
  EXPECT_EQ(decode_words(encode_unstructured(long_ascii, 9)), long_ascii);
}

TEST(MailMessage, Mailboxes) {
  EXPECT_EQ(format_mailbox("", "a@example.org", 6), "a@example.org");
  EXPECT_EQ(format_mailbox("Rempart Alerts", "a@example.org", 6), "Rempart Alerts <a@example.org>");
  EXPECT_EQ(format_mailbox("Dupont, \"Les\" Amis", "a@example.org", 6),
            "\"Dupont, \\\"Les\\\" Amis\" <a@example.org>");
  const std::string enc = format_mailbox("Mouvement Écologie Démo", "contact@example.org", 6);
  EXPECT_TRUE(enc.starts_with("=?UTF-8?B?")) << enc;
  EXPECT_TRUE(enc.ends_with(" <contact@example.org>")) << enc;
}

TEST(MailMessage, TopHeaders) {
  Message m = good();
  m.subject = "Adhésion 🌱";
  m.also_to = {"b@example.org"};
  const auto h = top_headers(m, std::chrono::system_clock::from_time_t(1767225600));
  ASSERT_EQ(h.size(), 8u);
  EXPECT_EQ(h[0], "Date: Thu, 01 Jan 2026 00:00:00 +0000");
  EXPECT_TRUE(h[1].starts_with("From: =?UTF-8?B?"));
  EXPECT_EQ(h[2], "To: elise@example.net, b@example.org");
  EXPECT_TRUE(h[3].starts_with("Subject: =?UTF-8?B?"));
  EXPECT_EQ(decode_words(h[3].substr(9)), "Adhésion 🌱");
  EXPECT_EQ(h[4], "Message-ID: <abc123@example.org>");
  EXPECT_EQ(h[5], "MIME-Version: 1.0");
  EXPECT_EQ(h[6], "List-Unsubscribe: <https://example.org/u/1>");
  EXPECT_EQ(h[7], "Auto-Submitted: auto-generated");
  EXPECT_EQ(format_date(std::chrono::system_clock::from_time_t(0)), "Thu, 01 Jan 1970 00:00:00 +0000");
}

}  // namespace
}  // namespace rempart::mail
