#include "audit/changes.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

namespace rempart::audit {
namespace {

namespace fs = std::filesystem;

// Every action name the code declares: the string constants inside each
// `namespace action { … }` of the sources (audit/chain.hpp,
// auth/accounts.hpp, and any layer that adds one).
std::set<std::string> declared_actions() {
  std::set<std::string> out;
  const std::regex constant(R"re(inline\s+constexpr\s+std::string_view\s+\w+\s*=\s*"([^"]+)")re");
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(REMPART_SOURCE_DIR) / "src")) {
    if (!entry.is_regular_file()) continue;
    const auto ext = entry.path().extension();
    if (ext != ".hpp" && ext != ".cpp" && ext != ".inc") continue;
    std::ifstream in(entry.path());
    std::string line;
    bool inside = false;
    while (std::getline(in, line)) {
      if (line.find("namespace action {") != std::string::npos) inside = true;
      if (!inside) continue;
      std::smatch m;
      if (std::regex_search(line, m, constant)) out.insert(m[1]);
      if (line.find("}  // namespace action") != std::string::npos) inside = false;
    }
  }
  return out;
}

store::AuditEntryRow entry(std::int64_t seq, std::string action, nlohmann::json details,
                           std::string actor = "operator:root", std::int64_t at_us = 1'767'225'600'000'000) {
  store::AuditEntryRow e;
  e.seq = seq;
  e.at = at_us;
  e.actor = std::move(actor);
  e.action = std::move(action);
  e.details = details.dump();
  return e;
}

std::vector<Change> describe(const store::AuditEntryRow& e, const ActorNames& names = {}) {
  return describe_change(e, ServiceStarts{}, names);
}

std::string one_line(const store::AuditEntryRow& e, const ActorNames& names = {}) {
  auto lines = describe(e, names);
  EXPECT_EQ(lines.size(), 1U) << e.action;
  return lines.empty() ? "" : lines.front().what;
}

TEST(ChangesClassify, EveryActionTheCodeDeclaresIsAChangeOrDeliberatelyNot) {
  const auto actions = declared_actions();
  // The walk itself works: it found the two namespaces and their names.
  ASSERT_GE(actions.size(), 80U);
  ASSERT_TRUE(actions.contains("supporter.reveal"));
  ASSERT_TRUE(actions.contains("account.role"));
  ASSERT_TRUE(actions.contains("keys.rotate"));
  for (const auto& a : actions) {
    EXPECT_NE(classify_action(a).cls, ActionClass::unknown)
        << a << ": classify it in src/audit/changes.cpp (kRules): a change of some kind, or not a change";
  }
}

TEST(ChangesClassify, KindsOfTheChangesAResponderLooksForFirst) {
  const std::pair<std::string_view, ChangeKind> expected[] = {
      {"account.create", ChangeKind::accounts},
      {"account.role", ChangeKind::roles},
      {"token.create", ChangeKind::tokens},
      {"account.budget", ChangeKind::budgets},
      {"keys.rotate", ChangeKind::keys},
      {"service.start", ChangeKind::configuration},
      {"export.approve", ChangeKind::exports},
      {"mailing.start", ChangeKind::mailings},
      {"segment.save", ChangeKind::segments},
      {"tag.merge", ChangeKind::segments},
      {"honeytoken.plant", ChangeKind::guard},
      {"retention.run", ChangeKind::data},
      {"backup.restore", ChangeKind::audit},
      {"incident.lockdown", ChangeKind::lockdown},
      {"incident.anything_new", ChangeKind::lockdown},
  };
  for (const auto& [action, kind] : expected) {
    const auto c = classify_action(action);
    EXPECT_EQ(c.cls, ActionClass::change) << action;
    EXPECT_EQ(c.kind, kind) << action;
  }
  for (std::string_view a : {"login.success", "supporter.reveal", "supporter.export", "audit.query", "supporter.create",
                             "session.revoke", "mailing.batch", "service.stop"}) {
    EXPECT_EQ(classify_action(a).cls, ActionClass::not_a_change) << a;
  }
  for (std::string_view a : {"", "incident.", "made.up", "ACCOUNT.CREATE"}) {
    EXPECT_EQ(classify_action(a).cls, ActionClass::unknown) << a;
  }
  // Every kind has a name and a title of its own.
  std::set<std::string_view> seen;
  for (const ChangeKind k : change_kinds()) {
    EXPECT_TRUE(seen.insert(change_kind_name(k)).second);
    EXPECT_FALSE(change_kind_title(k).empty());
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(ChangeKind::unknown) + 1);
}

TEST(ChangesDescribe, AccountsRolesTokensAndBudgetsInOneLineEach) {
  const ActorNames names = {{"account:0a0b", "camille"}, {"account:0c0d", "dana"}};
  EXPECT_EQ(one_line(entry(1, "account.create", {{"account", "mallory"}, {"account_id", "ff"}, {"role", "admin"}})),
            "account \"mallory\" created (role admin)");
  EXPECT_EQ(one_line(entry(2, "account.role",
                           {{"account", "dana"}, {"account_id", "0c0d"}, {"from", "viewer"}, {"to", "admin"}})),
            "role of \"dana\": viewer -> admin");
  EXPECT_EQ(one_line(entry(3, "token.create",
                           {{"token_id", 7},
                            {"label", "website"},
                            {"scope", "reveal"},
                            {"prefix", "rmp_abc"},
                            {"expires_at", 1767312000}})),
            "API token #7 \"website\" created (scope reveal, prefix rmp_abc, expires 2026-01-02T00:00:00Z)");
  EXPECT_EQ(one_line(entry(4, "token.revoke", {{"token_id", 7}})), "API token #7 revoked");
  EXPECT_EQ(one_line(entry(5, "account.budget",
                           {{"account", "dana"},
                            {"counted", "reveal"},
                            {"per_minute", 5},
                            {"per_hour", 50},
                            {"per_day", 200},
                            {"until", 1767312000}})),
            "budget of \"dana\" for reveal raised to 5/min, 50/h, 200/day until 2026-01-02T00:00:00Z");
  // An account named by its id only is shown by its name.
  EXPECT_EQ(one_line(entry(6, "account.disable", {{"account_id", "0a0b"}, {"sessions_revoked", 2}}), names),
            "account \"camille\" disabled (2 sessions ended)");
  // A privilege request goes where the change it asks for goes.
  auto req = describe(entry(7, "privilege.request",
                            {{"request", 3}, {"kind", "set_role"}, {"target", "dana"}, {"params", {{"role", "admin"}}}},
                            "account:0a0b"));
  ASSERT_EQ(req.size(), 1U);
  EXPECT_EQ(req[0].kind, ChangeKind::roles);
  EXPECT_EQ(req[0].what, "asked for set_role for \"dana\" (role admin): request #3");
  auto ok = describe(entry(8, "privilege.approve",
                           {{"request", 3}, {"kind", "reveal_token"}, {"target", "sync"}, {"requester_id", "0a0b"}}),
                     names);
  ASSERT_EQ(ok.size(), 1U);
  EXPECT_EQ(ok[0].kind, ChangeKind::tokens);
  EXPECT_EQ(ok[0].what, "request #3 approved: reveal_token for \"sync\" (asked by \"camille\")");
}

TEST(ChangesDescribe, KeysExportsMailingsAndTheRest) {
  const ActorNames names = {{"account:0a0b", "camille"}};
  EXPECT_EQ(one_line(entry(1, "keys.rotate", {{"from_version", 1}, {"to_version", 2}})),
            "keys rotated: version 1 -> 2");
  EXPECT_EQ(one_line(entry(2, "keys.retire", {{"version", 1}})),
            "key version 1 retired (its secrets dropped from the keyring)");
  EXPECT_EQ(one_line(entry(3, "export.approve",
                           {{"export", 4},
                            {"requester", "account:0a0b"},
                            {"rows", 120},
                            {"canaries", 3},
                            {"fields", {"email", "given_name"}},
                            {"tag", ""}}),
                     names),
            "export #4 approved: 120 rows (for \"camille\", fields email, given_name, canaries 3)");
  EXPECT_EQ(one_line(entry(4, "mailing.create",
                           {{"mailing", 9}, {"name", "Rally"}, {"segment", "paris"}, {"audience", "segment"}})),
            "mailing #9 \"Rally\" written (segment \"paris\", audience segment)");
  EXPECT_EQ(one_line(entry(5, "mailing.cancel", {{"mailing", 9}})), "mailing #9 cancelled");
  EXPECT_EQ(one_line(entry(6, "mailing.start", {{"mailing", 9}, {"recipients", 800}})),
            "mailing #9: sending started to 800 recipients");
  EXPECT_EQ(one_line(entry(7, "tag.merge", {{"from", "old"}, {"to", "new"}, {"count", 12}})),
            "tag \"old\" merged into \"new\" on 12 supporters");
  EXPECT_EQ(one_line(entry(8, "guard.lock", {{"reason", "honeytoken"}, {"sessions_ended", 1}, {"tokens_revoked", 0}},
                           "account:0a0b"),
                     names),
            "\"camille\" locked by the guard (reason honeytoken, 1 session ended, 0 tokens revoked)");
  EXPECT_EQ(one_line(entry(9, "backup.restore", {{"backup_seq", 40}, {"backup_taken_at", 1767225600000000}})),
            "log restored from a backup of seq 40 (taken 2026-01-01T00:00:00Z)");
  EXPECT_EQ(one_line(entry(10, "incident.lockdown",
                           {{"reason", "phished admin"},
                            {"kept", "root-admin"},
                            {"accounts_locked", {"a", "b"}},
                            {"sessions_ended", 4},
                            {"tokens_revoked", {1, 2, 3}},
                            {"requests_refused", nlohmann::json::array()},
                            {"budgets_ended", 1}})),
            "lockdown: 2 accounts locked, 4 sessions ended, 3 tokens revoked, 0 requests refused, 1 budget ended; "
            "kept \"root-admin\"");
  // An incident step this version has no words for: counts only.
  EXPECT_EQ(one_line(entry(11, "incident.drill", {{"note", "secret words"}, {"accounts", 3}, {"dry_run", true}})),
            "drill: accounts=3, dry_run=true");
  EXPECT_TRUE(describe(entry(12, "supporter.reveal", {{"fields", {"email"}}})).empty());
}

TEST(ChangesDescribe, NoFreeTextNoUnknownValuesAndOneLineWhateverTheDetailsHold) {
  // Reasons typed by people are never printed.
  for (const auto& e :
       {entry(1, "account.unlock",
              {{"account", "dana"}, {"reason", "Jean Dupont called"}, {"previous_reason", "reveal_budget"}}),
        entry(2, "export.request", {{"export", 1}, {"reason", "Jean Dupont called"}, {"fields", {"email"}}}),
        entry(3, "incident.release", {{"account", "dana"}, {"reason", "Jean Dupont called"}}),
        entry(4, "made.up", {{"who", "Jean Dupont called"}, {"n", 1}})}) {
    const auto line = one_line(e);
    EXPECT_EQ(line.find("Dupont"), std::string::npos) << line;
    EXPECT_FALSE(line.empty()) << e.action;
  }
  // An unknown action: its field names, never their values.
  auto unknown = describe(entry(5, "made.up", {{"who", "x@example.org"}, {"n", 1}}));
  ASSERT_EQ(unknown.size(), 1U);
  EXPECT_EQ(unknown[0].kind, ChangeKind::unknown);
  EXPECT_EQ(unknown[0].what, "an action this version of rempart does not know; its details hold: n, who");
  // Control characters and long names stay on one line, bounded.
  const auto line = one_line(entry(6, "segment.delete", {{"name", "a\nb\x1b[2J" + std::string(200, 'z')}}));
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
  EXPECT_LT(line.size(), 100U);
  // Details that are no JSON object read as {}.
  store::AuditEntryRow broken = entry(7, "token.revoke", {});
  broken.details = "not json";
  EXPECT_EQ(one_line(broken), "API token #? revoked");
}

TEST(ChangesDescribe, AStartIsAChangeOnlyWhenItsConfigurationBinaryOrSchemaDiffers) {
  const auto start = [](std::int64_t seq, const std::string& role, const std::string& fp, std::optional<int> schema,
                        bool checkpoint_file = true) {
    nlohmann::json d = {{"role", role},
                        {"version", "0.1.0"},
                        {"pid", 12},
                        {"config_blake2b", fp},
                        {"checkpoint_file", checkpoint_file},
                        {"checkpoint_syslog", false},
                        {"verify_seconds", 3600}};
    if (schema) d["schema_version"] = *schema;
    return entry(seq, "service.start", d, "keeper", 1'767'225'600'000'000 + seq * 1'000'000);
  };
  const std::string a(64, 'a'), b(64, 'b');
  ServiceStarts starts;
  // None before: first start seen, for both.
  auto first = describe_change(start(1, "all", a, 28), starts, {});
  ASSERT_EQ(first.size(), 2U);
  EXPECT_EQ(first[0].kind, ChangeKind::configuration);
  EXPECT_EQ(first[0].what, "role all: first start seen; configuration aaaaaaaaaaaaaaaa, rempart 0.1.0");
  EXPECT_EQ(first[1].kind, ChangeKind::schema);
  EXPECT_EQ(first[1].what, "role all: schema version 28 (first start seen)");
  note_service_start(start(1, "all", a, 28), starts);
  // The same again: nothing.
  EXPECT_TRUE(describe_change(start(2, "all", a, 28), starts, {}).empty());
  // Another role is compared with its own starts only.
  EXPECT_EQ(describe_change(start(3, "keeper", a, 28), starts, {}).size(), 2U);
  // Another configuration, with the outside checkpoints turned off.
  auto changed = describe_change(start(4, "all", b, 28, false), starts, {});
  ASSERT_EQ(changed.size(), 1U);
  EXPECT_EQ(changed[0].what,
            "role all: configuration aaaaaaaaaaaaaaaa -> bbbbbbbbbbbbbbbb; outside checkpoint file on -> off "
            "(previous start 2026-01-01T00:00:01Z, seq 1)");
  // Another schema.
  auto migrated = describe_change(start(5, "all", a, 29), starts, {});
  ASSERT_EQ(migrated.size(), 1U);
  EXPECT_EQ(migrated[0].kind, ChangeKind::schema);
  EXPECT_EQ(migrated[0].what, "role all: schema version 28 -> 29 (previous start 2026-01-01T00:00:01Z, seq 1)");
  // A start before schema versions were recorded.
  ServiceStarts old;
  note_service_start(start(6, "all", a, std::nullopt), old);
  auto after_old = describe_change(start(7, "all", a, 28), old, {});
  ASSERT_EQ(after_old.size(), 1U);
  EXPECT_EQ(after_old[0].what, "role all: schema version 28 (earlier starts did not record it)");
}

TEST(ChangesReport, StartsBeforeTheWindowCountRewrapsFoldAndTheRestIsCounted) {
  ChangeReport r(ActorNames{{"account:0a0b", "camille"}});
  const std::string fp(64, 'c');
  const nlohmann::json start = {{"role", "all"}, {"version", "0.1.0"}, {"config_blake2b", fp}, {"schema_version", 28}};
  r.before(entry(1, "service.start", start, "keeper"));
  r.add(entry(10, "service.start", start, "keeper"));  // unchanged: not listed
  r.add(entry(11, "supporter.create", {{"via", "intake"}}, "keeper"));
  r.add(entry(12, "supporter.create", {{"via", "intake"}}, "keeper"));
  r.add(entry(13, "keys.rotate", {{"from_version", 1}, {"to_version", 2}}));
  r.add(entry(14, "keys.rewrap", {{"records", 200}, {"skipped", 0}, {"to_version", 2}}, "keeper"));
  r.add(entry(15, "account.role", {{"account", "dana"}, {"from", "viewer"}, {"to", "admin"}}, "account:0a0b"));
  r.add(
      entry(16, "keys.rewrap", {{"records", 50}, {"skipped", 1}, {"to_version", 2}}, "keeper", 1'767'225'700'000'000));
  EXPECT_EQ(r.entries(), 7);
  EXPECT_EQ(r.total(), 3U);
  EXPECT_EQ(r.count(ChangeKind::keys), 2U);
  EXPECT_EQ(r.count(ChangeKind::roles), 1U);
  EXPECT_EQ(r.count(ChangeKind::configuration), 0U);
  ASSERT_EQ(r.changes().size(), 3U);
  const Change& rewrap = r.changes()[1];
  EXPECT_EQ(rewrap.what, "250 records' data keys moved to key version 2");
  EXPECT_EQ(rewrap.entries, 2);
  EXPECT_EQ(rewrap.seq, 14);
  EXPECT_EQ(rewrap.last_seq, 16);
  EXPECT_EQ(rewrap.last_at_us, 1'767'225'700'000'000);
  EXPECT_EQ(r.not_listed().at("supporter.create"), 2);
  EXPECT_EQ(r.not_listed().at("service.start"), 1);
  EXPECT_EQ(r.unlisted(), 0U);
}

TEST(ChangesReport, LinesPastTheBoundAreCountedNotKept) {
  ChangeReport r(ActorNames{}, 2);
  for (int i = 1; i <= 5; ++i) r.add(entry(i, "token.revoke", {{"token_id", i}}));
  EXPECT_EQ(r.changes().size(), 2U);
  EXPECT_EQ(r.count(ChangeKind::tokens), 5U);
  EXPECT_EQ(r.unlisted(), 3U);
}

}  // namespace
}  // namespace rempart::audit
