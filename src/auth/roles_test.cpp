#include "auth/roles.hpp"

#include <map>
#include <set>
#include <utility>

#include <gtest/gtest.h>

namespace rempart::auth {
namespace {

// The expected matrix, written out independently of roles.cpp: every role x
// every action. A new action without a line here fails the test.
const std::map<Role, std::set<Action>> kExpected = {
    {Role::viewer, {Action::list_masked, Action::search, Action::count_segments, Action::make_calls}},
    {Role::organiser,
     {Action::list_masked, Action::search, Action::reveal, Action::tags, Action::request_export, Action::edit_record,
      Action::withdraw_consent, Action::write_note, Action::read_notes, Action::count_segments,
      Action::manage_segments, Action::bulk_tags, Action::manage_call_lists, Action::make_calls,
      Action::write_mailings, Action::approve_mailings}},
    {Role::admin,
     {Action::manage_accounts, Action::approve_privilege, Action::manage_tokens, Action::request_export,
      Action::approve_export, Action::erase_record, Action::approve_mailings}},
    {Role::auditor, {Action::read_audit}},
};

TEST(Roles, MatrixCoversEveryRoleAndAction) {
  int checked = 0;
  for (Role r : kAllRoles) {
    for (Action a : kAllActions) {
      EXPECT_EQ(permits(r, a), kExpected.at(r).contains(a)) << role_name(r) << " x " << action_name(a);
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(std::size(kAllRoles) * std::size(kAllActions)));
}

TEST(Roles, NoRoleSubmitsIntakeAndAuditorSeesNoPersonalData) {
  for (Role r : kAllRoles) EXPECT_FALSE(permits(r, Action::submit_intake));
  EXPECT_FALSE(permits(Role::auditor, Action::list_masked));
  EXPECT_FALSE(permits(Role::auditor, Action::reveal));
  EXPECT_FALSE(permits(Role::admin, Action::reveal));
  EXPECT_FALSE(permits(Role::admin, Action::read_notes));
  EXPECT_FALSE(permits(Role::auditor, Action::read_notes));
}

// /metrics is for programs: no role's session reads it (a loopback peer
// may, whoever it is), and a metrics token reads nothing else.
TEST(Roles, MetricsOnlyForTheMetricsScope) {
  for (Role r : kAllRoles) EXPECT_FALSE(permits(r, Action::read_metrics)) << role_name(r);
  for (Scope s : kAllScopes) EXPECT_EQ(token_permits(s, Action::read_metrics), s == Scope::metrics) << scope_name(s);
  EXPECT_EQ(parse_scope("metrics"), Scope::metrics);
}

TEST(Roles, TokenScopes) {
  const std::map<Scope, std::set<Action>> expected = {
      {Scope::intake, {Action::submit_intake}},
      {Scope::read_masked, {Action::list_masked, Action::search, Action::count_segments}},
      {Scope::reveal, {Action::list_masked, Action::search, Action::reveal, Action::count_segments}},
      {Scope::metrics, {Action::read_metrics}},
  };
  for (Scope s : kAllScopes) {
    for (Action a : kAllActions) {
      EXPECT_EQ(token_permits(s, a), expected.at(s).contains(a)) << scope_name(s) << " x " << action_name(a);
    }
  }
}

TEST(Roles, NamesRoundTrip) {
  for (Role r : kAllRoles) EXPECT_EQ(parse_role(role_name(r)), r);
  for (Scope s : kAllScopes) EXPECT_EQ(parse_scope(scope_name(s)), s);
  EXPECT_EQ(parse_role("root"), std::nullopt);
  EXPECT_EQ(parse_scope("read_masked"), std::nullopt);
  EXPECT_EQ(scope_name(Scope::read_masked), "read-masked");
}

}  // namespace
}  // namespace rempart::auth
