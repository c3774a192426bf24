// Two-person privilege changes and self-enrolment against a real SQLite file
// and real TOTP codes (docs/accounts.md).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "auth/account_internal.hpp"
#include "auth/accounts.hpp"
#include "auth/totp.hpp"
#include "guard/budget.hpp"
#include "auth/test_support.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/test_support.hpp"

namespace rempart::auth {
namespace {

constexpr std::int64_t kT0 = 1'800'000'000;  // a multiple of 30
constexpr char kPassword[] = "Vert-Galet-Quinze-42";
constexpr char kNewPassword[] = "Brume-Ardoise-Neuf-31";
const std::string kOperator = "operator:test";
constexpr std::int64_t kDay = 86400;

class PrivilegesTest : public test_support::AccountServiceTest {
 protected:
  void SetUp() override {
    now_ = kT0;
    open_service();
    alice_ = add("alice", Role::admin);
    bob_ = add("bob", Role::admin);
    now_ += kDay + 60;  // both past the cooling period
  }

  Enrolment add(const std::string& name, Role role) {
    auto e = svc_->create_account(kOperator, name, role, kPassword);
    EXPECT_TRUE(e.has_value()) << (e ? "" : e.error().internal);
    return std::move(*e);
  }

  // A code of the next time step: never the one last used.
  std::string fresh(const Enrolment& e) {
    now_ += 30;
    return totp_code(e.totp_secret.span(), now_);
  }
  std::string fresh(std::span<const std::uint8_t> secret) {
    now_ += 30;
    return totp_code(secret, now_);
  }

  Result<PrivilegeReceipt> ask(const Enrolment& who, PrivilegeAsk a) {
    return svc_->request_privilege(who.account_id, a, fresh(who), "192.0.2.1");
  }
  static PrivilegeAsk of(PrivilegeKind k, std::string target, Role role = Role::viewer) {
    PrivilegeAsk a;
    a.kind = k;
    a.target = std::move(target);
    a.role = role;
    return a;
  }

  std::vector<store::AuditEntryRow> audit(std::string_view act) {
    std::vector<store::AuditEntryRow> out;
    EXPECT_TRUE(store_->scan_audit(1, [&](const store::AuditEntryRow& row) {
      if (row.action == act) out.push_back(row);
      return true;
    }));
    return out;
  }
  std::string all_audit_text() {
    std::string out;
    EXPECT_TRUE(store_->scan_audit(1, [&](const store::AuditEntryRow& row) {
      out += row.actor + row.action + row.subject + row.details + "\n";
      return true;
    }));
    return out;
  }

  // Takes an enrolment code through enrol_self and confirm_enrolment.
  crypto::SecretBytes enrol(std::string_view code) {
    auto e = svc_->enrol_self(code, kNewPassword, "192.0.2.2");
    EXPECT_TRUE(e) << (e ? "" : e.error().internal);
    auto c = svc_->confirm_enrolment(code, fresh(e->totp_secret.span()), "192.0.2.2");
    EXPECT_TRUE(c && *c);
    return std::move(e->totp_secret);
  }

  // Charges `n` phone reveals to `who` (an organiser) at `at` with the
  // default budgets (10 an hour); whether that locked them.
  bool charge_phone(const Enrolment& who, std::int64_t n, std::int64_t at) {
    bool locked = false;
    EXPECT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto v = guard::charge(tx, *keys_, guard::Budgets{}, account_actor(who.account_id), guard::Counted::phone, n,
                             at, "", "organiser");
      if (!v) return std::unexpected(v.error());
      locked = v->locked;
      return {};
    }));
    return locked;
  }

  Enrolment alice_, bob_;
};

TEST_F(PrivilegesTest, DirectPathsAreTheOperatorsOnly) {
  const std::string me = account_actor(alice_.account_id);
  EXPECT_EQ(svc_->create_account(me, "carol", Role::admin, kPassword).error().code, Errc::permission);
  EXPECT_EQ(svc_->set_role(me, "bob", Role::viewer).error().code, Errc::permission);
  EXPECT_EQ(svc_->reset_mfa(me, "bob").error().code, Errc::permission);
  EXPECT_EQ(svc_->unlock(me, "bob", "why").error().code, Errc::permission);
  EXPECT_EQ(svc_->create_api_token(me, "t", Scope::reveal, 1).error().code, Errc::permission);
  EXPECT_EQ(svc_->invite_account(me, "carol", Role::viewer).error().code, Errc::permission);
  EXPECT_TRUE(svc_->create_api_token(me, "t", Scope::read_masked, 1));  // reads masked only: no approval
  EXPECT_FALSE(svc_->account("carol"));
}

TEST_F(PrivilegesTest, ARequestNeedsAFreshCodeAndSaysWhatIsWrong) {
  // Malformed asks are refused before the code is spent.
  auto bad = svc_->request_privilege(alice_.account_id, of(PrivilegeKind::create_account, "Not A Name"), "000000", "");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::invalid_input);
  EXPECT_TRUE(audit(action::mfa_check).empty());
  PrivilegeAsk unlock = of(PrivilegeKind::unlock, "bob");
  EXPECT_EQ(ask(alice_, unlock).error().code, Errc::invalid_input) << "an unlock needs a reason";
  EXPECT_EQ(ask(alice_, of(PrivilegeKind::set_role, "alice", Role::viewer)).error().code, Errc::permission);
  EXPECT_EQ(ask(alice_, of(PrivilegeKind::set_role, "nobody")).error().code, Errc::not_found);
  EXPECT_EQ(ask(alice_, of(PrivilegeKind::create_account, "bob")).error().code, Errc::conflict);
  unlock.reason = "called her";
  EXPECT_EQ(ask(alice_, unlock).error().code, Errc::conflict) << "bob is not locked";

  // Without a right code nothing is filed; the code just used is a wait.
  const auto wrong = svc_->request_privilege(alice_.account_id, of(PrivilegeKind::create_account, "carol"), "000000", "");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::permission);
  const std::string code = fresh(alice_);
  ASSERT_TRUE(svc_->request_privilege(alice_.account_id, of(PrivilegeKind::create_account, "carol"), code, ""));
  const auto again = svc_->request_privilege(alice_.account_id, of(PrivilegeKind::create_account, "dan"), code, "");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::retry_later);
  EXPECT_EQ(ask(alice_, of(PrivilegeKind::create_account, "carol")).error().code, Errc::conflict) << "already pending";
  auto list = svc_->privilege_requests();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].target, "carol");
  EXPECT_EQ((*list)[0].requester, "alice");
  EXPECT_EQ((*list)[0].status, "pending");
  EXPECT_EQ(audit(action::privilege_request).size(), 1u);
}

TEST_F(PrivilegesTest, TheApproverIsAnotherIndependentAdminOfLongStanding) {
  auto r = ask(alice_, of(PrivilegeKind::create_account, "puppet", Role::admin));
  ASSERT_TRUE(r);
  const auto checks = audit(action::mfa_check).size();
  // Not the requester.
  EXPECT_EQ(svc_->approve_privilege(alice_.account_id, r->id, fresh(alice_), "").error().code, Errc::permission);
  // Not an admin made after the request, even by the operator.
  const auto late = add("late", Role::admin);
  EXPECT_EQ(svc_->approve_privilege(late.account_id, r->id, fresh(late), "").error().code, Errc::permission);
  EXPECT_EQ(audit(action::mfa_check).size(), checks) << "refused before any code is checked";
  ASSERT_TRUE(svc_->approve_privilege(bob_.account_id, r->id, fresh(bob_), ""));
  const std::int64_t approved_at = now_;
  const auto totp = enrol(r->secret.text());
  auto puppet = svc_->account("puppet");
  ASSERT_TRUE(puppet);
  EXPECT_FALSE(puppet->enrolling);
  EXPECT_EQ(puppet->admin_since, approved_at);
  // The puppet is never a second person for alice, who asked for it, nor
  // for bob, who approved it; not even much later.
  now_ += 10 * kDay;
  Enrolment pe;
  pe.account_id = puppet->id;
  pe.totp_secret = *crypto::SecretBytes::copy_of(totp.span());
  auto role = ask(alice_, of(PrivilegeKind::set_role, "bob", Role::viewer));
  ASSERT_TRUE(role);
  auto refused = svc_->approve_privilege(pe.account_id, role->id, fresh(pe), "");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::permission);
  EXPECT_NE(refused.error().internal.find("made or promoted"), std::string::npos);
  // Nor may alice approve what the puppet asks.
  auto back = ask(pe, of(PrivilegeKind::set_role, "late", Role::viewer));
  ASSERT_TRUE(back);
  EXPECT_EQ(svc_->approve_privilege(alice_.account_id, back->id, fresh(alice_), "").error().code, Errc::permission);
  // An independent admin of long standing may.
  ASSERT_TRUE(svc_->approve_privilege(late.account_id, role->id, fresh(late), ""));
}

TEST_F(PrivilegesTest, NobodyApprovesAChangeToTheirOwnAccount) {
  auto r = ask(alice_, of(PrivilegeKind::set_role, "bob", Role::viewer));
  ASSERT_TRUE(r);
  const auto checks = audit(action::mfa_check).size();
  auto own = svc_->approve_privilege(bob_.account_id, r->id, fresh(bob_), "");
  ASSERT_FALSE(own);
  EXPECT_EQ(own.error().code, Errc::permission);
  EXPECT_EQ(audit(action::mfa_check).size(), checks) << "refused before the code is checked";
  EXPECT_EQ(svc_->account("bob")->role, Role::admin);
}

TEST_F(PrivilegesTest, EachKindTakesEffectOnlyWhenApproved) {
  const auto orga = add("orga", Role::organiser);
  // Role: nothing changes while pending; admin_since starts at approval.
  auto role = ask(alice_, of(PrivilegeKind::set_role, "orga", Role::admin));
  ASSERT_TRUE(role);
  EXPECT_EQ(svc_->account("orga")->role, Role::organiser);
  ASSERT_TRUE(svc_->approve_privilege(bob_.account_id, role->id, fresh(bob_), ""));
  EXPECT_EQ(svc_->account("orga")->role, Role::admin);
  EXPECT_EQ(svc_->account("orga")->admin_since, now_);

  // Unlock.
  ASSERT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto a = tx.find_account_by_name("orga");
    if (!a || !*a) return fail(Errc::internal, "orga");
    store::AccountRow row = **a;
    row.locked = true;
    row.lock_reason = "guard: reveal_budget";
    return tx.update_account(row);
  }));
  PrivilegeAsk un = of(PrivilegeKind::unlock, "orga");
  un.reason = "checked with her";
  auto unlock = ask(alice_, un);
  ASSERT_TRUE(unlock);
  EXPECT_TRUE(svc_->account("orga")->locked);
  ASSERT_TRUE(svc_->approve_privilege(bob_.account_id, unlock->id, fresh(bob_), ""));
  EXPECT_FALSE(svc_->account("orga")->locked);

  // Raised budget: in force for its hours, then the role's limit again.
  PrivilegeAsk raise = of(PrivilegeKind::raise_budget, "orga");
  raise.counted = "phone";
  raise.per_hour = 100;
  raise.per_day = 200;
  raise.hours = 2;
  auto rb = ask(alice_, raise);
  ASSERT_TRUE(rb);
  ASSERT_TRUE(svc_->approve_privilege(bob_.account_id, rb->id, fresh(bob_), ""));
  auto charge = [&](std::int64_t n, std::int64_t at) { return charge_phone(orga, n, at); };
  // A raise is never 0 (which would read as "no limit").
  PrivilegeAsk zero = raise;
  zero.per_hour = 0;
  EXPECT_EQ(ask(alice_, zero).error().code, Errc::invalid_input);
  EXPECT_FALSE(charge(50, now_)) << "within the raise (the role allows 10 an hour)";
  EXPECT_TRUE(charge(11, now_ + 3 * 3600)) << "the raise has ended: the role's limits again";

  // Reset: the owner enrols again with the requester's code.
  const auto carol = add("carol", Role::viewer);
  auto reset = ask(alice_, of(PrivilegeKind::reset_mfa, "carol"));
  ASSERT_TRUE(reset);
  ASSERT_FALSE(reset->secret.empty());
  EXPECT_FALSE(svc_->enrolment_for(reset->secret.text()).value()) << "not before approval";
  ASSERT_TRUE(svc_->approve_privilege(bob_.account_id, reset->id, fresh(bob_), ""));
  EXPECT_TRUE(svc_->account("carol")->enrolling);
  auto old = svc_->authenticate("carol", kPassword, fresh(carol), "192.0.2.3");
  ASSERT_TRUE(old);
  EXPECT_FALSE(old->session);
  const auto totp = enrol(reset->secret.text());
  auto fresh_login = svc_->authenticate("carol", kNewPassword, fresh(totp.span()), "192.0.2.3");
  ASSERT_TRUE(fresh_login);
  EXPECT_TRUE(fresh_login->session);

  // Reveal token: the token shown at request time opens only after approval,
  // acts for the requester and stops when that account is locked.
  PrivilegeAsk tok = of(PrivilegeKind::reveal_token, "crm sync");
  tok.days = 7;
  auto t = ask(alice_, tok);
  ASSERT_TRUE(t);
  EXPECT_FALSE(svc_->check_api_token(t->secret.text()).value());
  ASSERT_TRUE(svc_->approve_privilege(bob_.account_id, t->id, fresh(bob_), ""));
  auto info = svc_->check_api_token(t->secret.text());
  ASSERT_TRUE(info && *info);
  EXPECT_EQ((*info)->scope, Scope::reveal);
  EXPECT_EQ((*info)->created_by, account_actor(alice_.account_id));
  EXPECT_EQ((*info)->creator_role, Role::admin);
  ASSERT_TRUE(svc_->disable_account(kOperator, "alice"));
  EXPECT_FALSE(svc_->check_api_token(t->secret.text()).value()) << "a disabled account's tokens stop at once";

  // No secret in the audit log.
  const std::string text = all_audit_text();
  for (const auto* s : {&reset->secret, &t->secret}) EXPECT_EQ(text.find(s->text()), std::string::npos);
}

// A caller who crossed the hourly phone budget is unlocked by two admins:
// the next reveal is served, not counted on top of the hour that locked her.
TEST_F(PrivilegesTest, AnUnlockStartsTheBudgetsAfresh) {
  const auto orga = add("orga", Role::organiser);
  auto charge = [&](std::int64_t n) { return charge_phone(orga, n, now_); };
  EXPECT_FALSE(charge(10));
  EXPECT_TRUE(charge(1)) << "the eleventh phone of the hour locks";
  ASSERT_TRUE(svc_->account("orga")->locked);
  PrivilegeAsk un = of(PrivilegeKind::unlock, "orga");
  un.reason = "phone-banking evening";
  auto unlock = ask(alice_, un);
  ASSERT_TRUE(unlock);
  ASSERT_TRUE(svc_->approve_privilege(bob_.account_id, unlock->id, fresh(bob_), ""));
  ASSERT_FALSE(svc_->account("orga")->locked);
  EXPECT_FALSE(charge(1)) << "the same hour, after the unlock";
  EXPECT_FALSE(svc_->account("orga")->locked);
  EXPECT_FALSE(charge(9));
  EXPECT_TRUE(charge(1)) << "and the budget holds again from there";
}

TEST_F(PrivilegesTest, RequestsExpireAndCanBeRefusedOrWithdrawn) {
  auto a = ask(alice_, of(PrivilegeKind::create_account, "carol"));
  auto b = ask(alice_, of(PrivilegeKind::create_account, "dan"));
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(svc_->refuse_privilege(bob_.account_id, a->id, ""));
  EXPECT_EQ(svc_->approve_privilege(bob_.account_id, a->id, fresh(bob_), "").error().code, Errc::conflict);
  now_ += 4 * kDay;
  EXPECT_EQ(svc_->approve_privilege(bob_.account_id, b->id, fresh(bob_), "").error().code, Errc::conflict);
  auto list = svc_->privilege_requests();
  ASSERT_TRUE(list);
  EXPECT_EQ((*list)[0].status, "expired");
  EXPECT_EQ((*list)[1].status, "refused");
  EXPECT_EQ((*list)[1].decided_by, "bob");
  EXPECT_FALSE(svc_->account("carol"));
  EXPECT_FALSE(svc_->account("dan"));
  EXPECT_EQ(audit(action::privilege_refuse).size(), 1u);
  EXPECT_EQ(audit(action::privilege_expire).size(), 1u);
}

TEST_F(PrivilegesTest, EnrolmentCodesWorkOnceAndNotForEver) {
  auto code = svc_->invite_account(kOperator, "erin", Role::organiser);
  ASSERT_TRUE(code) << code.error().internal;
  auto invite = svc_->enrolment_for(code->text());
  ASSERT_TRUE(invite && *invite);
  EXPECT_EQ((*invite)->account_name, "erin");
  EXPECT_FALSE(svc_->enrolment_for("rmpe_" + std::string(43, 'A')).value());
  EXPECT_FALSE(svc_->enrolment_for("not-a-code").value());
  // A weak password is refused; starting over makes a new secret.
  EXPECT_EQ(svc_->enrol_self(code->text(), "erin-erin-erin-erin", "").error().code, Errc::invalid_input);
  auto first = svc_->enrol_self(code->text(), kNewPassword, "");
  auto second = svc_->enrol_self(code->text(), kNewPassword, "");
  ASSERT_TRUE(first && second);
  EXPECT_NE(first->otpauth_uri.text(), second->otpauth_uri.text());
  EXPECT_FALSE(svc_->confirm_enrolment(code->text(), fresh(first->totp_secret.span()), "").value())
      << "the first set-up was replaced";
  EXPECT_TRUE(svc_->account("erin")->enrolling);
  ASSERT_TRUE(svc_->confirm_enrolment(code->text(), fresh(second->totp_secret.span()), "").value());
  EXPECT_FALSE(svc_->account("erin")->enrolling);
  EXPECT_EQ(svc_->enrol_self(code->text(), kNewPassword, "").error().code, Errc::not_found) << "spent";
  auto s = svc_->authenticate("erin", kNewPassword, fresh(second->totp_secret.span()), "192.0.2.4");
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->session);

  // A code left unused expires.
  auto late = svc_->invite_account(kOperator, "fay", Role::viewer);
  ASSERT_TRUE(late);
  now_ += 4 * kDay;
  EXPECT_FALSE(svc_->enrolment_for(late->text()).value());
  EXPECT_EQ(svc_->enrol_self(late->text(), kNewPassword, "").error().code, Errc::not_found);
  // Enrolling accounts cannot sign in, whatever is typed.
  auto none = svc_->authenticate("fay", "", "000000", "192.0.2.5");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->session);
}

TEST_F(PrivilegesTest, ALockdownLetsOnlyTheBreakGlassAdminIn) {
  const auto orga = add("orga", Role::organiser);
  const auto session = [&](const Enrolment& e, const std::string& name, const char* pw) {
    auto s = svc_->authenticate(name, pw, fresh(e), "192.0.2.7");
    EXPECT_TRUE(s && s->session) << name;
    return s && s->session ? std::string(s->session->token.text()) : std::string();
  };
  const std::string alice_session = session(alice_, "alice", kPassword);
  const std::string orga_session = session(orga, "orga", kPassword);
  auto token = svc_->create_api_token(kOperator, "website", Scope::intake, 30);
  ASSERT_TRUE(token);
  auto pending = ask(bob_, of(PrivilegeKind::set_role, "orga", Role::admin));
  ASSERT_TRUE(pending);
  ASSERT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    return tx.put_account_budget(store::AccountBudgetRow{*internal::parse_account_id(orga.account_id), "phone", 0, 500, 0,
                                                         now_ + kDay});
  }));

  // Refused, and nothing changes: a non-operator, a bad reason, a kept
  // account that is no enrolled admin.
  EXPECT_EQ(svc_->lock_down(account_actor(alice_.account_id), "alice", "breach").error().code, Errc::permission);
  EXPECT_EQ(svc_->lock_down(kOperator, "alice", "").error().code, Errc::invalid_input);
  EXPECT_EQ(svc_->lock_down(kOperator, "alice", "two\nlines").error().code, Errc::invalid_input);
  EXPECT_EQ(svc_->lock_down(kOperator, "orga", "breach").error().code, Errc::invalid_input);
  EXPECT_EQ(svc_->lock_down(kOperator, "nobody", "breach").error().code, Errc::invalid_input);
  ASSERT_TRUE(svc_->validate_session(orga_session).value());
  EXPECT_TRUE(audit(action::incident_lockdown).empty());

  auto l = svc_->lock_down(kOperator, "alice", "passwords seen on a paste site");
  ASSERT_TRUE(l) << l.error().internal;
  EXPECT_EQ(l->kept, "alice");
  EXPECT_EQ(l->locked, (std::vector<std::string>{"bob", "orga"}));
  EXPECT_EQ(l->sessions_ended, 2);
  EXPECT_EQ(l->tokens_revoked, std::vector<std::int64_t>{token->info.id});
  EXPECT_EQ(l->requests_refused, std::vector<std::int64_t>{pending->id});
  EXPECT_EQ(l->budgets_ended, 1);

  // Every session is gone, the kept admin's too; the token no longer opens.
  EXPECT_FALSE(svc_->validate_session(alice_session).value());
  EXPECT_FALSE(svc_->validate_session(orga_session).value());
  EXPECT_FALSE(svc_->check_api_token(token->token.text()).value());
  EXPECT_EQ(svc_->approve_privilege(alice_.account_id, pending->id, fresh(alice_), "").error().code, Errc::conflict);
  // The others cannot sign in with what they had, nor with a stolen code.
  for (const auto& [e, name] : {std::pair<const Enrolment*, const char*>{&bob_, "bob"}, {&orga, "orga"}}) {
    auto s = svc_->authenticate(name, kPassword, fresh(*e), "192.0.2.7");
    ASSERT_TRUE(s);
    EXPECT_FALSE(s->session) << name;
    EXPECT_TRUE(svc_->account(name)->disabled);
    EXPECT_EQ(svc_->account(name)->recovery_codes_left, 0);
  }
  // The break-glass admin signs in as before.
  EXPECT_FALSE(session(alice_, "alice", kPassword).empty());

  auto entries = audit(action::incident_lockdown);
  ASSERT_EQ(entries.size(), 1u);
  const auto d = nlohmann::json::parse(entries[0].details);
  EXPECT_EQ(d["kept"], "alice");
  EXPECT_EQ(d["accounts_locked"].size(), 2u);
  EXPECT_EQ(d["reason"], "passwords seen on a paste site");

  // Back one by one: a new enrolment, a new password and authenticator.
  EXPECT_EQ(svc_->release_account(kOperator, "orga", "").error().code, Errc::invalid_input);
  EXPECT_EQ(svc_->release_account(account_actor(alice_.account_id), "orga", "checked").error().code,
            Errc::permission);
  auto code = svc_->release_account(kOperator, "orga", "laptop checked");
  ASSERT_TRUE(code) << code.error().internal;
  EXPECT_FALSE(svc_->account("orga")->disabled);
  EXPECT_TRUE(svc_->account("bob")->disabled) << "one account at a time";
  auto secret = enrol(code->text());
  auto s = svc_->authenticate("orga", kNewPassword, fresh(secret.span()), "192.0.2.7");
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->session);
  ASSERT_EQ(audit(action::incident_release).size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(audit(action::incident_release)[0].details)["was_disabled"], true);
}

}  // namespace
}  // namespace rempart::auth
