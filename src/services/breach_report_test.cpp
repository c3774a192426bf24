#include "services/breach_report.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace rempart::services::breach {
namespace {

constexpr std::int64_t kHour = 3600LL * 1000000;
constexpr std::int64_t kSince = 1767225600LL * 1000000;  // 2026-01-01T00:00:00Z

audit::Exposure exposure(const std::string& record, std::set<std::string> fields) {
  audit::Exposure e;
  e.record = record;
  e.fields = std::move(fields);
  e.times = 1;
  return e;
}

audit::BlastRadius radius() {
  audit::BlastRadius b;
  b.revealed = {exposure("aa01", {"email"}), exposure("aa02", {"email", "phone"}),
                exposure("aa03", {"given_name", "family_name", "email"}), exposure("aa04", {"postal_code", "notes"}),
                exposure("dec0", {"email"})};
  b.masked_only = {exposure("bb01", {}), exposure("bb02", {}), exposure("dec1", {})};
  b.opened_only = {exposure("cc01", {})};
  b.entries = 9;
  return b;
}

store::AuditEntryRow entry(std::string action, std::int64_t at, std::string details = "{}") {
  store::AuditEntryRow e;
  e.action = std::move(action);
  e.at = at;
  e.details = std::move(details);
  return e;
}

Notice notice() {
  Notice n;
  n.facts = tally(radius(), {"dec0", "dec1"});
  n.facts.since = kSince;
  n.now = kSince + 10 * kHour;
  n.aware_at = kSince + 2 * kHour;
  n.aware_from = AwareFrom::alert;
  n.facts.first_alert_action = "guard.lock";
  return n;
}

bool has(const std::string& text, const std::string& words) { return text.find(words) != std::string::npos; }

TEST(BreachTally, CountsPeopleByCategoryAndLeavesDecoysOut) {
  const Facts f = tally(radius(), {"dec0", "dec1"});
  EXPECT_EQ(f.people, 4);
  EXPECT_EQ(f.people_masked, 2);
  EXPECT_EQ(f.decoys, 2);
  EXPECT_EQ(f.opened_only, 1);
  EXPECT_EQ(f.records(), 6);
  EXPECT_EQ(f.values_revealed, 1 + 2 + 3 + 2);
  const std::map<Category, std::int64_t> expected{
      {Category::name, 1}, {Category::email, 3}, {Category::phone, 1}, {Category::address, 1}, {Category::notes, 1}};
  EXPECT_EQ(f.categories, expected) << "a person counts once per category, given and family name alike";
}

TEST(BreachTally, FieldNamesOfTheConsoleAndOfARecordAreOneCategory) {
  EXPECT_EQ(category_of("name"), Category::name);
  EXPECT_EQ(category_of("family_name"), Category::name);
  EXPECT_EQ(category_of("address"), Category::address);
  EXPECT_EQ(category_of("locality"), Category::address);
  EXPECT_EQ(category_of("consent_sms"), Category::consents);
  EXPECT_EQ(category_of("something_new"), Category::other);
  for (Category c : kAllCategories) EXPECT_EQ(parse_category(category_code(c)), c);
  EXPECT_EQ(parse_category("blood_type"), std::nullopt);
}

TEST(BreachMeasures, AreCountedByActionAndASignOutIsNone) {
  Facts f;
  f.since = kSince;
  note(f, entry("guard.lock", kSince - kHour));  // before the window: a measure, not this breach's alert
  note(f, entry("session.revoke", kSince + 3 * kHour, R"({"reason":"logout","sessions":1})"));
  note(f, entry("guard.lock", kSince + 2 * kHour));
  note(f, entry("session.revoke", kSince + 4 * kHour, R"({"reason":"revoke_all","sessions":3})"));
  note(f, entry("session.revoke", kSince + 5 * kHour, R"({"reason":"revoke_all","sessions":1})"));
  note(f, entry("keys.rotate", kSince + 6 * kHour));
  note(f, entry("incident.lockdown", kSince + 6 * kHour + 1));  // after the first alert: a measure only here
  note(f, entry("supporter.reveal", kSince + 7 * kHour));
  note(f, entry("canary.trace", kSince + kHour));  // a leaked value found: an alert, no measure
  ASSERT_TRUE(f.first_alert.has_value());
  EXPECT_EQ(*f.first_alert, kSince + kHour);
  EXPECT_EQ(f.first_alert_action, "canary.trace");
  ASSERT_EQ(f.measures.size(), 4u);
  EXPECT_EQ(f.measures[0].action, "guard.lock");
  EXPECT_EQ(f.measures[0].count, 2);
  EXPECT_EQ(f.measures[1].action, "session.revoke");
  EXPECT_EQ(f.measures[1].count, 2) << "the sign-out is left out";
  EXPECT_EQ(f.measures[1].first_at, kSince + 4 * kHour);
  EXPECT_EQ(f.measures[1].last_at, kSince + 5 * kHour);
  EXPECT_EQ(nlohmann::json::parse(measures_json(f)),
            nlohmann::json::parse(R"({"guard.lock":2,"session.revoke":2,"keys.rotate":1,"incident.lockdown":1})"));
  const auto actions = logged_actions();
  for (const auto& a : actions) EXPECT_EQ(std::count(actions.begin(), actions.end(), a), 1) << a << " read twice";
}

TEST(BreachConsequences, FollowTheCategoriesAndAlwaysNamePoliticalOpinion) {
  Facts f = tally(radius(), {});
  const auto c = consequences(f);
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c.front(), Consequence::political_opinion);
  for (Consequence want : {Consequence::phishing, Consequence::phone_scams, Consequence::impersonation,
                           Consequence::home_address, Consequence::notes, Consequence::masked_only}) {
    EXPECT_NE(std::find(c.begin(), c.end(), want), c.end()) << consequence_code(want);
  }
  EXPECT_EQ(std::find(c.begin(), c.end(), Consequence::tags), c.end());
  Facts masked;
  masked.people_masked = 3;
  EXPECT_EQ(consequences(masked), (std::vector<Consequence>{Consequence::political_opinion, Consequence::masked_only}));
  EXPECT_TRUE(consequences(Facts{}).empty());
}

TEST(BreachNotice, BothLanguagesCarryTheCountsTheDeadlineAndThePlaceholders) {
  const Notice n = notice();
  const std::string fr = render(n, Lang::fr);
  const std::string en = render(n, Lang::en);
  EXPECT_TRUE(has(fr, "affichées en clair ou exportées : 4, dont :")) << fr;
  EXPECT_TRUE(has(fr, "adresse électronique : 3")) << fr;
  EXPECT_TRUE(has(fr, "forme masquée (initiales, adresse et numéro en partie cachés) : 2")) << fr;
  EXPECT_TRUE(has(fr, "2 fiches leurres")) << fr;
  EXPECT_TRUE(has(fr, "article 9 du RGPD")) << fr;
  EXPECT_TRUE(has(fr, "jusqu'au 04/01/2026 à 02:00 UTC (il reste 64 heures)")) << fr;
  EXPECT_TRUE(has(fr, "[À COMPLÉTER : nom et coordonnées]")) << fr;
  EXPECT_TRUE(has(fr, "rempart notify")) << fr;
  EXPECT_TRUE(has(en, "displayed in full or exported: 4, of whom:")) << en;
  EXPECT_TRUE(has(en, "e-mail address: 3")) << en;
  EXPECT_TRUE(has(en, "GDPR article 9")) << en;
  EXPECT_TRUE(has(en, "2026-01-04 02:00 UTC (64 hours left)")) << en;
  EXPECT_TRUE(has(en, "[TO COMPLETE: name and contact details]")) << en;
  EXPECT_TRUE(has(en, "audit blast-radius")) << en;
  EXPECT_FALSE(has(en, "Reasons for the delay")) << "within the 72 hours";
  for (const std::string* text : {&fr, &en}) {
    for (const char* id : {"aa01", "aa02", "bb01", "dec0", "cc01"}) {
      EXPECT_FALSE(has(*text, id)) << "no record id in a notification";
    }
  }
}

TEST(BreachNotice, WhatTheOfficerGaveReplacesItsPlaceholder) {
  Notice n = notice();
  n.contact = "DPO, dpo@example.org, +33 1 99 00 00 00";
  n.nature = "Session volée.\nScript de lecture.";
  n.measures_note = "Correctif appliqué.";
  n.organisation = "Mouvement Exemple";
  n.register_id = 7;
  const std::string fr = render(n, Lang::fr);
  EXPECT_TRUE(has(fr, "DPO, dpo@example.org")) << fr;
  EXPECT_TRUE(has(fr, "Circonstances : Session volée.\n  Script de lecture.")) << fr;
  EXPECT_TRUE(has(fr, "Correctif appliqué.")) << fr;
  EXPECT_TRUE(has(fr, "sympathisants de Mouvement Exemple")) << fr;
  EXPECT_TRUE(has(fr, "entrée n° 7")) << fr;
  EXPECT_FALSE(has(fr, "[À COMPLÉTER : nom et coordonnées]")) << fr;
  EXPECT_FALSE(has(fr, "comment la violation s'est produite")) << fr;
}

TEST(BreachNotice, OneActorsReportSaysSo) {
  Notice n = notice();
  EXPECT_TRUE(has(render(n, Lang::en), "every account and process"));
  EXPECT_FALSE(has(render(n, Lang::fr), "même compte"));
  n.facts.one_actor = true;
  EXPECT_TRUE(has(render(n, Lang::en), "the activity of one account or process"));
  EXPECT_TRUE(has(render(n, Lang::fr), "(même période, même compte)"));
}

TEST(BreachNotice, PastTheDeadlineItAsksForTheReasonsOfTheDelay) {
  Notice n = notice();
  n.now = n.aware_at + kDeadlineUs + kHour;
  EXPECT_TRUE(has(render(n, Lang::en), "Reasons for the delay (article 33(1)): [TO COMPLETE: reasons for the delay]"));
  EXPECT_TRUE(has(render(n, Lang::fr), "Motifs du retard (article 33(1)) : [À COMPLÉTER : motifs du retard]"));
}

TEST(BreachNotice, LargeNumbersAreGroupedAsEachLanguageWritesThem) {
  Notice n = notice();
  n.facts.people_masked = 120000;
  EXPECT_TRUE(has(render(n, Lang::en), "120,000"));
  EXPECT_TRUE(has(render(n, Lang::fr), "120\u202F000"));
}

TEST(BreachRegister, ARowHoldsCountsInSecondsAndTheReasonNotToNotify) {
  Notice n = notice();
  n.facts.until = kSince + 8 * kHour;
  n.not_notified_reason = "masked lists only";
  const auto row = to_row(n, "account:0c8a", "operator:dpo");
  EXPECT_EQ(row.recorded_at, (kSince + 10 * kHour) / 1000000);
  EXPECT_EQ(row.since_at, kSince / 1000000);
  EXPECT_EQ(row.until_at, std::optional<std::int64_t>((kSince + 8 * kHour) / 1000000));
  EXPECT_EQ(row.aware_at, (kSince + 2 * kHour) / 1000000);
  EXPECT_EQ(row.people, 4);
  EXPECT_EQ(row.people_masked, 2);
  EXPECT_EQ(row.records, 6);
  EXPECT_EQ(row.state, "not_notified");
  EXPECT_EQ(row.actor, "account:0c8a");
  EXPECT_EQ(nlohmann::json::parse(row.categories)["email"], 3);
  EXPECT_EQ(row.consequences.substr(0, 17), "political_opinion");
  n.not_notified_reason = std::nullopt;
  EXPECT_EQ(to_row(n, "", "operator:dpo").state, "open");
}

store::BreachRow open_row() {
  store::BreachRow r;
  r.id = 3;
  r.since_at = 1000;
  r.state = "open";
  return r;
}

TEST(BreachRegister, UpdatesFollowTheDecisionAndAClosedEntryStaysClosed) {
  store::BreachRow r = open_row();
  Update close_first;
  close_first.close = true;
  close_first.close_reason = "done";
  auto refused = apply(r, close_first, 5000);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::conflict) << "the decision to notify or not comes first";
  EXPECT_EQ(r, open_row()) << "a refused update changes nothing";

  Update notified;
  notified.authority_notified_at = 2000;
  notified.people_notified_at = 2500;
  auto changed = apply(r, notified, 3000);
  ASSERT_TRUE(changed) << changed.error().internal;
  EXPECT_EQ(*changed, (std::vector<std::string>{"authority_notified_at", "people_notified_at"}));
  EXPECT_EQ(r.state, "notified");
  EXPECT_EQ(r.updated_at, 3000);

  Update not_after_all;
  not_after_all.not_notified_reason = "no risk";
  auto late = apply(r, not_after_all, 3100);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, Errc::conflict);

  Update no_reason;
  no_reason.close = true;
  EXPECT_EQ(apply(r, no_reason, 3200).error().code, Errc::invalid_input);
  auto closed = apply(r, close_first, 4000);
  ASSERT_TRUE(closed);
  EXPECT_EQ(r.state, "closed");
  EXPECT_EQ(r.closed_at, std::optional<std::int64_t>(4000));
  EXPECT_EQ(r.close_reason, std::optional<std::string>("done"));
  Update again;
  again.people_notified_at = 4100;
  EXPECT_EQ(apply(r, again, 4200).error().code, Errc::conflict);
}

TEST(BreachRegister, AReasonNotToNotifyIsADecisionThatAllowsClosing) {
  store::BreachRow r = open_row();
  Update u;
  u.not_notified_reason = "only one masked list, no risk";
  u.close = true;
  u.close_reason = "documented";
  ASSERT_TRUE(apply(r, u, 2000));
  EXPECT_EQ(r.state, "closed");
  EXPECT_EQ(r.not_notified_reason, std::optional<std::string>("only one masked list, no risk"));

  store::BreachRow later = open_row();
  later.not_notified_reason = "thought harmless";
  later.state = "not_notified";
  Update told;
  told.authority_notified_at = 2100;
  ASSERT_TRUE(apply(later, told, 2200));
  EXPECT_EQ(later.state, "notified");
  EXPECT_EQ(later.not_notified_reason, std::nullopt) << "no longer true";
}

TEST(BreachRegister, RefusesEmptyContradictoryOrImpossibleUpdates) {
  store::BreachRow r = open_row();
  EXPECT_EQ(apply(r, Update{}, 2000).error().code, Errc::invalid_input);
  Update both;
  both.authority_notified_at = 1500;
  both.not_notified_reason = "x";
  EXPECT_EQ(apply(r, both, 2000).error().code, Errc::invalid_input);
  Update before;
  before.authority_notified_at = 999;
  EXPECT_EQ(apply(r, before, 2000).error().code, Errc::invalid_input);
  Update future;
  future.people_notified_at = 2000 + 3600;
  EXPECT_EQ(apply(r, future, 2000).error().code, Errc::invalid_input);
  Update empty_reason;
  empty_reason.not_notified_reason = "";
  EXPECT_EQ(apply(r, empty_reason, 2000).error().code, Errc::invalid_input);
  EXPECT_EQ(r, open_row());
}

TEST(BreachText, TheOfficersTextIsPlainUtf8) {
  EXPECT_TRUE(check_text("Vol de session.\nScript.\tFin", "--nature"));
  EXPECT_TRUE(check_text("", "--nature"));
  EXPECT_EQ(check_text("a\x1b[2Jb", "--nature").error().code, Errc::invalid_input);
  EXPECT_EQ(check_text("\xff\xfe", "--nature").error().code, Errc::invalid_input);
  EXPECT_EQ(check_text(std::string(4001, 'a'), "--nature").error().code, Errc::invalid_input);
  const auto e = check_text("secret\x01", "--contact");
  EXPECT_EQ(e.error().internal.find("secret"), std::string::npos) << "never the text itself";
}

}  // namespace
}  // namespace rempart::services::breach
