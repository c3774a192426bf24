// What a person does to their own account (self_service.cpp), and an admin's
// enable, against a real SQLite file with real TOTP codes.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/accounts.hpp"
#include "auth/totp.hpp"
#include "auth/test_support.hpp"

namespace rempart::auth {
namespace {

constexpr std::int64_t kT0 = 1'800'000'000;  // a multiple of 30
constexpr char kPassword[] = "Vert-Galet-Quinze-42";
constexpr char kNewPassword[] = "Autre-Caillou-Neuf-77";
const std::string kOperator = "operator:test";

using test_support::secret_of;

class SelfServiceTest : public test_support::AccountServiceTest {
 protected:
  void SetUp() override {
    now_ = kT0;
    AuthOptions o;
    o.lock_after_failures = 4;
    open_service(o);
    auto e = svc_->create_account(kOperator, "alice", Role::organiser, kPassword);
    ASSERT_TRUE(e) << e.error().internal;
    alice_.emplace(std::move(*e));
  }

  // A code of `secret` in the next time step (each step serves once).
  std::string next_code(std::span<const std::uint8_t> secret) {
    now_ += 30;
    return totp_code(secret, now_);
  }

  // A signed-in session of alice; its token.
  std::string sign_in(std::string_view password = kPassword) {
    auto r = svc_->authenticate("alice", password, next_code(alice_->totp_secret.span()), "192.0.2.1");
    EXPECT_TRUE(r && r->session);
    return r && r->session ? std::string(r->session->token.text()) : std::string();
  }

  bool live(const std::string& token) {
    auto s = svc_->validate_session(token);
    return s && *s;
  }

  std::vector<std::string> audit_details(const std::string& act) {
    std::vector<std::string> out;
    auto r = store_->scan_audit(1, [&](const store::AuditEntryRow& row) {
      if (row.action == act) out.push_back(row.details);
      return true;
    });
    EXPECT_TRUE(r.has_value());
    return out;
  }

  std::optional<Enrolment> alice_;
};

TEST_F(SelfServiceTest, ChangingThePasswordEndsTheOtherSessionsOnly) {
  const std::string here = sign_in();
  const std::string there = sign_in();
  ASSERT_TRUE(live(here) && live(there));
  ASSERT_TRUE(svc_->change_password(here, kPassword, kNewPassword, next_code(alice_->totp_secret.span()), "192.0.2.1"));
  EXPECT_TRUE(live(here));
  EXPECT_FALSE(live(there)) << "other sessions end";
  // The old password no longer opens the account; the new one does.
  auto old = svc_->authenticate("alice", kPassword, next_code(alice_->totp_secret.span()), "192.0.2.9");
  ASSERT_TRUE(old);
  EXPECT_FALSE(old->session);
  EXPECT_TRUE(live(sign_in(kNewPassword)));
  const auto entries = audit_details("account.password");
  ASSERT_FALSE(entries.empty());
  EXPECT_NE(entries.back().find("\"changed\""), std::string::npos);
  EXPECT_NE(entries.back().find("\"sessions_ended\":1"), std::string::npos);
  for (const auto& d : entries) {
    EXPECT_EQ(d.find(kPassword), std::string::npos);
    EXPECT_EQ(d.find(kNewPassword), std::string::npos);
  }
}

TEST_F(SelfServiceTest, APasswordChangeIsRefusedForAWrongPasswordCodeOrPolicyAndChangesNothing) {
  const std::string here = sign_in();
  const std::string there = sign_in();
  auto wrong_password =
      svc_->change_password(here, "Not-The-Password-1", kNewPassword, next_code(alice_->totp_secret.span()), "c");
  ASSERT_FALSE(wrong_password);
  EXPECT_EQ(wrong_password.error().code, Errc::permission);
  auto wrong_code = svc_->change_password(here, kPassword, kNewPassword, "000000", "c");
  ASSERT_FALSE(wrong_code);
  EXPECT_EQ(wrong_code.error().code, Errc::permission);
  // A weak new password: refused before anything is checked or counted.
  auto weak = svc_->change_password(here, kPassword, "password1234", next_code(alice_->totp_secret.span()), "c");
  ASSERT_FALSE(weak);
  EXPECT_EQ(weak.error().code, Errc::invalid_input);
  auto named = svc_->change_password(here, kPassword, "alice-alice-alice", next_code(alice_->totp_secret.span()), "c");
  ASSERT_FALSE(named);
  EXPECT_EQ(named.error().code, Errc::invalid_input);
  // Not without a live session.
  auto nobody =
      svc_->change_password("no-such-session", kPassword, kNewPassword, next_code(alice_->totp_secret.span()), "c");
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.error().code, Errc::not_found);
  // Nothing changed: both sessions live, two failures counted.
  EXPECT_TRUE(live(here));
  EXPECT_TRUE(live(there));
  EXPECT_EQ(svc_->account("alice")->failures, 2);
  // A code already spent (just now, by a sign-in): wait, not a failure.
  const std::string third = sign_in();
  auto replay = svc_->change_password(here, kPassword, kNewPassword, totp_code(alice_->totp_secret.span(), now_), "c");
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().code, Errc::retry_later);
  EXPECT_EQ(svc_->account("alice")->failures, 0);
  EXPECT_TRUE(live(third));
  // The old password still works.
  EXPECT_TRUE(live(sign_in(kPassword)));
}

TEST_F(SelfServiceTest, WrongProofsLockTheAccountLikeFailedSignIns) {
  const std::string here = sign_in();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(svc_->change_password(here, "Not-The-Password-1", kNewPassword, "123456", "c").error().code,
              Errc::permission);
  }
  auto last = svc_->begin_authenticator_change(here, "Not-The-Password-1", "123456", "c");
  ASSERT_FALSE(last);
  EXPECT_EQ(last.error().code, Errc::locked);
  EXPECT_FALSE(live(here)) << "the lock ends the sessions";
  const auto a = svc_->account("alice");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->locked);
  EXPECT_EQ(a->lock_reason, "too many failed logins");
  EXPECT_EQ(a->locked_at, now_);
  EXPECT_EQ(a->lock_detail.value("failures", 0), 4);
  EXPECT_EQ(lock_description(*a), "too many failed sign-ins or codes: 4 in a row");
  // Unlocked by the operator: the reason and its details go.
  ASSERT_TRUE(svc_->unlock(kOperator, "alice", "checked with alice"));
  const auto b = svc_->account("alice");
  EXPECT_FALSE(b->locked);
  EXPECT_EQ(b->lock_reason, "");
  EXPECT_FALSE(b->locked_at);
  EXPECT_TRUE(b->lock_detail.empty());
}

TEST_F(SelfServiceTest, ANewAuthenticatorReplacesTheOldOnlyOnceItsFirstCodeConfirms) {
  const std::string here = sign_in();
  const std::string there = sign_in();
  auto change = svc_->begin_authenticator_change(here, kPassword, next_code(alice_->totp_secret.span()), "c");
  ASSERT_TRUE(change) << change.error().internal;
  EXPECT_TRUE(change->otpauth_uri.text().starts_with("otpauth://totp/rempart:alice?secret="));
  const auto fresh = secret_of(change->otpauth_uri.text());
  ASSERT_EQ(fresh.size(), kTotpSecretSize);
  // Nothing is replaced yet: the old authenticator still signs in.
  EXPECT_TRUE(live(there));
  // A wrong first code, a tampered or stale pending value, another session:
  // refused, nothing changes.
  EXPECT_EQ(svc_->confirm_authenticator_change(here, change->pending, change->issued_at, "000000", "c").error().code,
            Errc::permission);
  std::string tampered = change->pending;
  tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(svc_->confirm_authenticator_change(here, tampered, change->issued_at, totp_code(fresh, now_), "c")
                .error()
                .code,
            Errc::not_found);
  EXPECT_EQ(svc_->confirm_authenticator_change(here, change->pending, change->issued_at + 1, totp_code(fresh, now_), "c")
                .error()
                .code,
            Errc::not_found);
  EXPECT_EQ(svc_->confirm_authenticator_change(there, change->pending, change->issued_at, totp_code(fresh, now_), "c")
                .error()
                .code,
            Errc::not_found)
      << "bound to the session that asked";
  EXPECT_TRUE(live(there));
  // The first code of the new authenticator: in force, other sessions end.
  ASSERT_TRUE(svc_->confirm_authenticator_change(here, change->pending, change->issued_at, totp_code(fresh, now_), "c"));
  EXPECT_TRUE(live(here));
  EXPECT_FALSE(live(there));
  // The old authenticator no longer signs in; the new one does; the
  // recovery codes still work.
  auto old = svc_->authenticate("alice", kPassword, next_code(alice_->totp_secret.span()), "192.0.2.9");
  ASSERT_TRUE(old);
  EXPECT_FALSE(old->session);
  auto with_new = svc_->authenticate("alice", kPassword, next_code(fresh), "192.0.2.9");
  ASSERT_TRUE(with_new);
  EXPECT_TRUE(with_new->session);
  now_ += 30;
  auto recovery = svc_->authenticate("alice", kPassword, alice_->recovery_codes[0].text(), "192.0.2.9");
  ASSERT_TRUE(recovery);
  EXPECT_TRUE(recovery->session);
  // No secret in the audit entries.
  const std::string b32 = std::string(change->otpauth_uri.text()).substr(change->otpauth_uri.text().find("secret=") + 7, 32);
  const auto entries = audit_details("account.authenticator");
  ASSERT_GE(entries.size(), 2u);
  for (const auto& d : entries) {
    EXPECT_EQ(d.find(b32), std::string::npos);
    EXPECT_EQ(d.find(change->pending), std::string::npos);
  }
}

TEST_F(SelfServiceTest, APendingAuthenticatorExpires) {
  const std::string here = sign_in();
  auto change = svc_->begin_authenticator_change(here, kPassword, next_code(alice_->totp_secret.span()), "c");
  ASSERT_TRUE(change);
  const auto fresh = secret_of(change->otpauth_uri.text());
  now_ += kAuthenticatorChangeSeconds + 1;  // the session itself is still live (15 minutes idle)
  auto late = svc_->confirm_authenticator_change(here, change->pending, change->issued_at, totp_code(fresh, now_), "c");
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, Errc::not_found);
  // The old authenticator still works.
  EXPECT_TRUE(live(sign_in()));
}

TEST_F(SelfServiceTest, EnablingADisabledAccountBringsBackThePersonNotItsTokens) {
  auto admin = svc_->create_account(kOperator, "boss", Role::admin, kPassword);
  ASSERT_TRUE(admin);
  const std::string boss = account_actor(admin->account_id);
  const std::string alice_actor = account_actor(alice_->account_id);
  auto token = svc_->create_api_token(alice_actor, "script", Scope::read_masked, 30);
  ASSERT_TRUE(token);
  // Not an account that is not disabled; not oneself; not an unknown one.
  EXPECT_EQ(svc_->enable_account(boss, "alice").error().code, Errc::conflict);
  ASSERT_TRUE(svc_->disable_account(boss, "alice"));
  EXPECT_EQ(svc_->enable_account(alice_actor, "alice").error().code, Errc::permission);
  EXPECT_EQ(svc_->enable_account(boss, "nobody").error().code, Errc::not_found);
  EXPECT_TRUE(svc_->account("alice")->disabled);
  ASSERT_TRUE(svc_->enable_account(boss, "alice"));
  EXPECT_FALSE(svc_->account("alice")->disabled);
  EXPECT_TRUE(live(sign_in()));
  auto t = svc_->check_api_token(token->token.text());
  ASSERT_TRUE(t);
  EXPECT_FALSE(*t) << "a token made before the account was disabled stays revoked";
  const auto entries = audit_details("account.enable");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_NE(entries[0].find("\"tokens_revoked\":1"), std::string::npos);
  EXPECT_EQ(svc_->enable_account(boss, "alice").error().code, Errc::conflict);
}

TEST(LockDescription, SaysWhyInWordsWithoutParentheses) {
  AccountInfo a;
  EXPECT_EQ(lock_description(a), "") << "not locked";
  a.locked = true;
  const auto says = [&](std::string reason, nlohmann::json detail) {
    a.lock_reason = std::move(reason);
    a.lock_detail = std::move(detail);
    const std::string out = lock_description(a);
    EXPECT_EQ(out.find_first_of("()"), std::string::npos) << out;
    return out;
  };
  EXPECT_EQ(says("guard: reveal_budget", {{"counted", "phone"}, {"window", "d"}, {"limit", 30}}),
            "reveal budget exceeded: phone, per day, limit 30");
  EXPECT_EQ(says("guard: list_budget", {{"counted", "masked"}, {"window", "m"}, {"limit", 50}}),
            "listing budget exceeded: masked rows, per minute, limit 50");
  EXPECT_EQ(says("guard: search_misses", {{"counted", "miss"}, {"window", "h"}, {"limit", 30}}),
            "too many searches that found nobody: per hour, limit 30");
  EXPECT_EQ(says("guard: honeytoken", {{"by", "reveal"}}), "a honeytoken record was touched, by reveal");
  EXPECT_EQ(says("too many failed logins", {{"failures", 10}}), "too many failed sign-ins or codes: 10 in a row");
  // Locks older than their details: the reason alone.
  EXPECT_EQ(says("guard: reveal_budget", nlohmann::json::object()), "reveal budget exceeded");
  EXPECT_EQ(says("", nlohmann::json::object()), "no reason recorded");
}

}  // namespace
}  // namespace rempart::auth
