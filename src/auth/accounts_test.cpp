#include "auth/accounts.hpp"

#include <sodium.h>
#include <sqlite3.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "auth/test_support.hpp"
#include "auth/totp.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/test_support.hpp"

namespace rempart::auth {
namespace {

constexpr std::int64_t kT0 = 1'800'000'000;  // a multiple of 30
constexpr char kPassword[] = "Vert-Galet-Quinze-42";
const std::string kOperator = "operator:test";

struct AuditSeen {
  std::string actor, action, client, details;
};

class AccountsTest : public test_support::AccountServiceTest {
 protected:
  void SetUp() override {
    now_ = kT0;
    open_service();
  }

  Enrolment add(const std::string& name, Role role = Role::organiser) {
    auto e = svc_->create_account(kOperator, name, role, kPassword);
    EXPECT_TRUE(e.has_value()) << (e ? "" : e.error().internal);
    return std::move(*e);
  }

  std::string code(const Enrolment& e, std::int64_t at) { return totp_code(e.totp_secret.span(), at); }

  LoginOutcome login(const std::string& name, std::string_view pw, std::string_view second,
                     const std::string& ip = "192.0.2.1") {
    auto r = svc_->authenticate(name, pw, second, ip);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().internal);
    return r ? std::move(*r) : LoginOutcome{};
  }

  std::vector<AuditSeen> audit(const std::string& act) {
    std::vector<AuditSeen> out;
    auto r = store_->scan_audit(1, [&](const store::AuditEntryRow& row) {
      if (row.action == act) out.push_back({row.actor, row.action, row.client, row.details});
      return true;
    });
    EXPECT_TRUE(r.has_value());
    return out;
  }

  // Every byte of the database, WAL included.
  std::vector<unsigned char> db_bytes() {
    auto a = store::test_support::read_file(dir_.file("rempart.db"));
    auto w = store::test_support::read_file(dir_.file("rempart.db-wal"));
    a.insert(a.end(), w.begin(), w.end());
    return a;
  }
  static std::vector<unsigned char> bytes(std::string_view s) { return {s.begin(), s.end()}; }

};

TEST_F(AccountsTest, CreateRefusesBadNamesWeakPasswordsAndDuplicates) {
  EXPECT_EQ(svc_->create_account(kOperator, "Alice", Role::viewer, kPassword).error().code, Errc::invalid_input);
  EXPECT_EQ(svc_->create_account(kOperator, "", Role::viewer, kPassword).error().code, Errc::invalid_input);
  EXPECT_EQ(svc_->create_account(kOperator, std::string(65, 'a'), Role::viewer, kPassword).error().code,
            Errc::invalid_input);
  EXPECT_EQ(svc_->create_account(kOperator, "alice", Role::viewer, "short-pw").error().code, Errc::invalid_input);
  EXPECT_EQ(svc_->create_account(kOperator, "alice", Role::viewer, "password1234").error().code, Errc::invalid_input);
  EXPECT_EQ(svc_->create_account(kOperator, "alice", Role::viewer, "my-alice-password").error().code,
            Errc::invalid_input);
  const auto e = add("alice");
  EXPECT_EQ(e.recovery_codes.size(), kRecoveryCodeCount);
  EXPECT_EQ([&] {
    std::set<std::string> codes;
    for (const auto& c : e.recovery_codes) codes.emplace(c.text());
    return codes.size();
  }(), kRecoveryCodeCount);
  EXPECT_EQ(e.totp_secret.size(), kTotpSecretSize);
  EXPECT_TRUE(e.otpauth_uri.text().starts_with("otpauth://totp/rempart:alice?secret="));
  EXPECT_EQ(svc_->create_account(kOperator, "alice", Role::admin, kPassword).error().code, Errc::conflict);
  auto list = svc_->list_accounts();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].role, Role::organiser);
  EXPECT_EQ((*list)[0].recovery_codes_left, 10);
  ASSERT_EQ(audit("account.create").size(), 1u);
}

TEST_F(AccountsTest, LoginWithTotpOpensASessionAndRefusesReplay) {
  const auto e = add("alice");
  auto ok = login("alice", kPassword, code(e, now_));
  ASSERT_TRUE(ok.session);
  EXPECT_EQ(ok.session->info.name, "alice");
  EXPECT_EQ(ok.session->info.role, Role::organiser);
  EXPECT_EQ(ok.session->token.size(), 43u);  // 256 bits, base64url
  // The same code again, even a second later in the same step: refused.
  now_ += 1;
  EXPECT_FALSE(login("alice", kPassword, code(e, kT0)).session);
  // The next step's code is fine.
  now_ = kT0 + 30;
  EXPECT_TRUE(login("alice", kPassword, code(e, now_)).session);
  // ±1 step accepted, ±2 refused (fresh account so no replay guard interferes).
  const auto b = add("bob");
  now_ = kT0 + 3000;
  EXPECT_FALSE(login("bob", kPassword, code(b, now_ - 60)).session);
  EXPECT_FALSE(login("bob", kPassword, code(b, now_ + 60)).session);
  EXPECT_TRUE(login("bob", kPassword, code(b, now_ - 30)).session);
  EXPECT_TRUE(login("bob", kPassword, code(b, now_ + 30)).session);
  EXPECT_EQ(audit("login.success").size(), 4u);
}

TEST_F(AccountsTest, EveryFailureLooksTheSame) {
  const auto e = add("alice");
  const std::string good = code(e, now_);
  std::vector<LoginOutcome> outs;
  outs.push_back(login("nobody", kPassword, good, "198.51.100.1"));
  outs.push_back(login("alice", "Wrong-Password-99", good, "198.51.100.2"));
  outs.push_back(login("alice", kPassword, "000000" == good ? "111111" : "000000", "198.51.100.3"));
  for (const auto& o : outs) {
    EXPECT_FALSE(o.session);
    EXPECT_EQ(o.retry_after_seconds, 0);  // first failures: no delay yet
    EXPECT_FALSE(o.recovery_code_used);
    EXPECT_EQ(o.recovery_codes_left, 0);
  }
  const auto failures = audit("login.failure");
  ASSERT_EQ(failures.size(), 3u);
  EXPECT_NE(failures[0].details.find("\"account\":\"unknown\""), std::string::npos);
  EXPECT_EQ(failures[0].actor, "anonymous");
  EXPECT_NE(failures[1].details.find("\"account\":\"alice\""), std::string::npos);
  EXPECT_EQ(failures[1].client, "198.51.100.2");
  for (const auto& f : failures) {
    EXPECT_EQ(f.details.find(kPassword), std::string::npos);
    EXPECT_EQ(f.details.find("Wrong-Password-99"), std::string::npos);
    EXPECT_EQ(f.details.find(good), std::string::npos);
  }
}

TEST_F(AccountsTest, RecoveryCodeWorksOnce) {
  const auto e = add("alice");
  const std::string rc(e.recovery_codes[3].text());
  auto ok = login("alice", kPassword, rc);
  ASSERT_TRUE(ok.session);
  EXPECT_TRUE(ok.recovery_code_used);
  EXPECT_EQ(ok.recovery_codes_left, 9);
  EXPECT_FALSE(login("alice", kPassword, rc, "192.0.2.9").session);
  // Typed in upper case without dashes, another code works.
  std::string other(e.recovery_codes[4].text());
  other.erase(std::remove(other.begin(), other.end(), '-'), other.end());
  std::transform(other.begin(), other.end(), other.begin(), [](unsigned char c) { return std::toupper(c); });
  EXPECT_TRUE(login("alice", kPassword, other, "192.0.2.9").session);
  EXPECT_EQ(audit("mfa.recovery_used").size(), 2u);
  // A recovery code never replaces the password.
  EXPECT_FALSE(login("alice", "Wrong-Password-99", e.recovery_codes[5].text(), "192.0.2.10").session);
}

TEST_F(AccountsTest, ThrottlesGrowingAndLocksAfterTenFailures) {
  const auto e = add("alice");
  std::int64_t last_delay = 0;
  for (int i = 1; i <= 10; ++i) {
    auto o = login("alice", "Wrong-Password-99", code(e, now_), "203.0.113." + std::to_string(i));
    EXPECT_FALSE(o.session);
    EXPECT_GE(o.retry_after_seconds, last_delay);
    last_delay = o.retry_after_seconds;
    if (i == 3) {
      EXPECT_GT(o.retry_after_seconds, 0);
    }
    // An attempt before the delay is over is refused untried, even with
    // the right credentials.
    if (o.retry_after_seconds > 0 && i < 10) {
      auto early = login("alice", kPassword, code(e, now_), "203.0.113.200");
      EXPECT_FALSE(early.session);
      EXPECT_GT(early.retry_after_seconds, 0);
    }
    now_ += o.retry_after_seconds + 31;
  }
  EXPECT_GT(last_delay, 1);
  auto info = svc_->account("alice");
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->locked);
  EXPECT_EQ(info->failures, 10);
  // Locked: even the right password and code fail.
  now_ += 1000;
  EXPECT_FALSE(login("alice", kPassword, code(e, now_), "203.0.113.77").session);
  // Another admin unlocks it; then it works.
  EXPECT_EQ(svc_->unlock(kOperator, "alice", "").error().code, Errc::invalid_input);
  ASSERT_TRUE(svc_->unlock(kOperator, "alice", "called the owner"));
  now_ += 1000;
  EXPECT_TRUE(login("alice", kPassword, code(e, now_), "203.0.113.78").session);
  EXPECT_EQ(audit("account.unlock").size(), 1u);
  const auto fails = audit("login.failure");
  EXPECT_TRUE(std::any_of(fails.begin(), fails.end(),
                          [](const AuditSeen& a) { return a.details.find("\"locked\":true") != std::string::npos; }));
}

TEST_F(AccountsTest, ThrottlesPerClientAcrossAccounts) {
  add("alice");
  std::int64_t delay = 0;
  for (int i = 0; i < 4; ++i) {
    auto o = login("user" + std::to_string(i), "Wrong-Password-99", "123456", "198.51.100.50");
    delay = o.retry_after_seconds;
    now_ += delay;
  }
  EXPECT_GT(delay, 0);
  auto o = login("someone", "Wrong-Password-99", "123456", "198.51.100.50");
  now_ += 0;
  auto early = login("another", "Wrong-Password-99", "123456", "198.51.100.50");
  EXPECT_GT(early.retry_after_seconds, 0);
  // Another client is not held up.
  EXPECT_EQ(login("nobody", "Wrong-Password-99", "123456", "198.51.100.51").retry_after_seconds, 0);
  (void)o;
}

TEST_F(AccountsTest, SessionsExpireWhenIdleAndWhenOld) {
  const auto e = add("alice");
  auto s = login("alice", kPassword, code(e, now_));
  ASSERT_TRUE(s.session);
  const std::string token(s.session->token.text());
  // Keep it busy every 14 minutes: alive until 8 h.
  std::int64_t t = now_;
  while (t + 14 * 60 <= kT0 + 8 * 3600) {
    t += 14 * 60;
    now_ = t;
    auto v = svc_->validate_session(token);
    ASSERT_TRUE(v);
    ASSERT_TRUE(*v) << "at +" << (t - kT0);
    EXPECT_EQ((*v)->csrf_token.text(), s.session->info.csrf_token.text());
  }
  now_ = kT0 + 8 * 3600 + 1;
  auto v = svc_->validate_session(token);
  ASSERT_TRUE(v);
  EXPECT_FALSE(*v);
  // Idle: 15 minutes and one second without a request.
  now_ += 120;
  auto s2 = login("alice", kPassword, code(e, now_));
  ASSERT_TRUE(s2.session);
  now_ += 15 * 60 + 1;
  EXPECT_FALSE(*svc_->validate_session(s2.session->token.text()));
  // Gone for good, even if time went back.
  now_ -= 16 * 60;
  EXPECT_FALSE(*svc_->validate_session(s2.session->token.text()));
  EXPECT_FALSE(*svc_->validate_session("not-a-token"));
}

TEST_F(AccountsTest, LogoutAndRevokeAll) {
  const auto e = add("alice");
  auto a = login("alice", kPassword, code(e, now_));
  now_ += 30;
  auto b = login("alice", kPassword, code(e, now_));
  now_ += 30;
  auto c = login("alice", kPassword, code(e, now_));
  ASSERT_TRUE(a.session && b.session && c.session);
  ASSERT_TRUE(svc_->logout(a.session->token.text(), "192.0.2.1"));
  EXPECT_FALSE(*svc_->validate_session(a.session->token.text()));
  EXPECT_TRUE(*svc_->validate_session(b.session->token.text()));
  auto n = svc_->revoke_sessions(kOperator, "alice");
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 2);
  EXPECT_FALSE(*svc_->validate_session(b.session->token.text()));
  EXPECT_FALSE(*svc_->validate_session(c.session->token.text()));
  EXPECT_EQ(audit("session.revoke").size(), 2u);
}

TEST_F(AccountsTest, SessionsListsTheLiveOnesOfTheSameAccountOnly) {
  const auto e = add("alice");
  const auto f = add("bob");
  auto a = login("alice", kPassword, code(e, now_));
  auto other = login("bob", kPassword, code(f, now_));
  now_ += 30;
  auto b = login("alice", kPassword, code(e, now_));
  ASSERT_TRUE(a.session && b.session && other.session);
  auto list = svc_->sessions(b.session->token.text());
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(std::count_if(list->begin(), list->end(), [](const SessionSummary& x) { return x.current; }), 1);
  EXPECT_EQ(list->front().client, "192.0.2.1");
  now_ += 10 * 60;
  ASSERT_TRUE(*svc_->validate_session(b.session->token.text()));  // b stays active, a goes idle
  now_ += 6 * 60;
  list = svc_->sessions(b.session->token.text());
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 1u);
  EXPECT_TRUE(svc_->sessions("not-a-session")->empty());
}

TEST_F(AccountsTest, CsrfTokenIsBoundToItsSession) {
  const auto e = add("alice");
  auto a = login("alice", kPassword, code(e, now_));
  now_ += 30;
  auto b = login("alice", kPassword, code(e, now_));
  ASSERT_TRUE(a.session && b.session);
  EXPECT_TRUE(check_csrf(a.session->token.text(), a.session->info.csrf_token.text()));
  EXPECT_FALSE(check_csrf(a.session->token.text(), b.session->info.csrf_token.text()));
  EXPECT_FALSE(check_csrf(a.session->token.text(), ""));
  EXPECT_FALSE(check_csrf(a.session->token.text(), a.session->token.text()));
  EXPECT_NE(a.session->info.csrf_token.text(), a.session->token.text());
}

TEST_F(AccountsTest, DisableRoleAndResetMfa) {
  const auto e = add("alice");
  auto s = login("alice", kPassword, code(e, now_));
  ASSERT_TRUE(s.session);
  ASSERT_TRUE(svc_->set_role(kOperator, "alice", Role::viewer));
  EXPECT_EQ(svc_->account("alice")->role, Role::viewer);
  EXPECT_FALSE(*svc_->validate_session(s.session->token.text()));
  // reset-mfa: the old secret and codes stop working.
  auto fresh = svc_->reset_mfa(kOperator, "alice");
  ASSERT_TRUE(fresh);
  now_ += 60;
  EXPECT_FALSE(login("alice", kPassword, code(e, now_)).session);
  EXPECT_FALSE(login("alice", kPassword, e.recovery_codes[0].text()).session);
  now_ += 60;
  auto s2 = login("alice", kPassword, code(*fresh, now_));
  ASSERT_TRUE(s2.session);
  EXPECT_EQ(s2.session->info.role, Role::viewer);
  // An account may not act on itself (the console's "another admin").
  EXPECT_EQ(svc_->unlock(account_actor(s2.session->info.account_id), "alice", "me").error().code,
            Errc::permission);
  ASSERT_TRUE(svc_->disable_account(kOperator, "alice"));
  EXPECT_FALSE(*svc_->validate_session(s2.session->token.text()));
  now_ += 60;
  EXPECT_FALSE(login("alice", kPassword, code(*fresh, now_)).session);
  EXPECT_EQ(svc_->disable_account(kOperator, "nobody").error().code, Errc::not_found);
  EXPECT_EQ(audit("account.role").size(), 1u);
  EXPECT_EQ(audit("account.reset_mfa").size(), 1u);
  EXPECT_EQ(audit("account.disable").size(), 1u);
}

TEST_F(AccountsTest, ApiTokensScopesExpiryRevocation) {
  auto t = svc_->create_api_token(kOperator, "website", Scope::intake, 30);
  ASSERT_TRUE(t) << t.error().internal;
  EXPECT_TRUE(t->token.text().starts_with(t->info.prefix + "_"));
  auto r = svc_->create_api_token(kOperator, "reader", Scope::read_masked, 1);
  ASSERT_TRUE(r);
  EXPECT_EQ(svc_->create_api_token(kOperator, "", Scope::reveal, 1).error().code, Errc::invalid_input);
  EXPECT_EQ(svc_->create_api_token(kOperator, "x", Scope::reveal, 0).error().code, Errc::invalid_input);

  auto c = svc_->check_api_token(t->token.text());
  ASSERT_TRUE(c && *c);
  EXPECT_EQ((*c)->scope, Scope::intake);
  EXPECT_TRUE(token_permits((*c)->scope, Action::submit_intake));
  EXPECT_FALSE(token_permits((*c)->scope, Action::list_masked));
  EXPECT_FALSE(*svc_->check_api_token(std::string(t->token.text()) + "x"));
  EXPECT_FALSE(*svc_->check_api_token(""));

  // Expiry.
  EXPECT_TRUE(*svc_->check_api_token(r->token.text()));
  now_ += 86400;
  EXPECT_FALSE(*svc_->check_api_token(r->token.text()));

  // Listing shows no secret; revocation.
  auto list = svc_->list_api_tokens();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  ASSERT_TRUE(svc_->revoke_api_token(kOperator, t->info.id));
  EXPECT_FALSE(*svc_->check_api_token(t->token.text()));
  EXPECT_EQ(svc_->revoke_api_token(kOperator, t->info.id).error().code, Errc::not_found);
  EXPECT_EQ(audit("token.create").size(), 2u);
  EXPECT_EQ(audit("token.revoke").size(), 1u);
  const auto db = db_bytes();
  EXPECT_FALSE(store::test_support::contains(db, bytes(t->token.text())));
  EXPECT_FALSE(store::test_support::contains(db, bytes(t->token.text().substr(t->info.prefix.size() + 1))));
}

TEST_F(AccountsTest, NoSecretReachesTheDatabase) {
  const auto e = add("alice");
  auto s = login("alice", kPassword, e.recovery_codes[0].text());
  ASSERT_TRUE(s.session);
  now_ += 30;
  auto s2 = login("alice", "Wrong-Password-99", code(e, now_));
  ASSERT_TRUE(svc_->reset_mfa(kOperator, "alice"));
  const auto db = db_bytes();
  ASSERT_FALSE(db.empty());
  EXPECT_FALSE(store::test_support::contains(db, bytes(kPassword)));
  EXPECT_FALSE(store::test_support::contains(db, bytes("Wrong-Password-99")));
  const std::string b32 = base32(e.totp_secret.span());
  EXPECT_FALSE(store::test_support::contains(db, bytes(b32)));
  EXPECT_FALSE(store::test_support::contains(db, std::vector<unsigned char>(e.totp_secret.data(),
                                                                            e.totp_secret.data() + e.totp_secret.size())));
  for (const auto& rc : e.recovery_codes) {
    EXPECT_FALSE(store::test_support::contains(db, bytes(rc.text())));
    std::string bare(rc.text());
    bare.erase(std::remove(bare.begin(), bare.end(), '-'), bare.end());
    EXPECT_FALSE(store::test_support::contains(db, bytes(bare)));
  }
  EXPECT_FALSE(store::test_support::contains(db, bytes(s.session->token.text())));
  EXPECT_FALSE(store::test_support::contains(db, bytes(s.session->info.csrf_token.text())));
  // And every audit entry of this test is free of them too (already covered
  // by the grep above; kept explicit for the reader).
  auto r = store_->scan_audit(1, [&](const store::AuditEntryRow& row) {
    EXPECT_EQ(row.details.find(kPassword), std::string::npos);
    EXPECT_EQ(row.details.find(b32), std::string::npos);
    return true;
  });
  EXPECT_TRUE(r);
}

TEST_F(AccountsTest, SealedTotpSecretIsBoundToItsAccount) {
  // Swapping the sealed secrets of two accounts makes both unusable rather
  // than letting one account's code open the other.
  const auto a = add("alice");
  const auto b = add("bob");
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.file("rempart.db").c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h,
                         "UPDATE accounts SET totp_sealed = (SELECT totp_sealed FROM accounts WHERE name = 'bob')"
                         " WHERE name = 'alice'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(h);
  auto r = svc_->authenticate("alice", kPassword, code(b, now_), "192.0.2.1");
  EXPECT_FALSE(r.has_value() && r->session.has_value());
  (void)a;
}


TEST_F(AccountsTest, CheckSecondFactorAcceptsOnceAndCountsFailures) {
  const auto e = add("alice");
  now_ += 60;
  const std::string good = code(e, now_);
  auto ok = svc_->check_second_factor(e.account_id, good);
  ASSERT_TRUE(ok.has_value()) << ok.error().internal;
  EXPECT_EQ(*ok, StepUp::ok);
  // The same code again: a replay, refused here and at login, but not
  // counted as a failure: the person is told to wait for the next code.
  auto replay = svc_->check_second_factor(e.account_id, good);
  ASSERT_TRUE(replay.has_value());
  EXPECT_EQ(*replay, StepUp::replayed);
  EXPECT_EQ(svc_->account("alice")->failures, 0);
  EXPECT_EQ(svc_->require_step_up(e.account_id, good).error().code, Errc::retry_later);
  EXPECT_FALSE(login("alice", kPassword, good).session);
  // A code one step old is accepted only if newer than the last one used.
  now_ += 30;
  EXPECT_EQ(*svc_->check_second_factor(e.account_id, code(e, now_)), StepUp::ok);
  // Recovery codes and garbage are refused.
  EXPECT_EQ(*svc_->check_second_factor(e.account_id, e.recovery_codes[0].text()), StepUp::failed);
  EXPECT_EQ(*svc_->check_second_factor(e.account_id, "12345"), StepUp::failed);
  EXPECT_EQ(svc_->require_step_up(e.account_id, "12345").error().code, Errc::permission);
  const auto checks = audit(std::string(action::mfa_check));
  ASSERT_EQ(checks.size(), 7u);
  EXPECT_EQ(checks[0].actor, account_actor(e.account_id));
  EXPECT_NE(checks[0].details.find("\"success\""), std::string::npos);
  EXPECT_NE(checks[1].details.find("\"replayed\""), std::string::npos);
  EXPECT_NE(checks[4].details.find("\"failure\""), std::string::npos);
  for (const auto& c : checks) EXPECT_EQ(c.details.find(good), std::string::npos);

  // Failures lock the account at lock_after_failures (10), like logins.
  auto info = svc_->account("alice");
  ASSERT_TRUE(info);
  const std::int64_t before = info->failures;
  EXPECT_EQ(before, 3);
  for (std::int64_t i = before; i < 9; ++i) {
    EXPECT_EQ(*svc_->check_second_factor(e.account_id, "000000x"), StepUp::failed);
  }
  // The tenth says so, so the console can end the session and alert.
  EXPECT_EQ(*svc_->check_second_factor(e.account_id, "000000x"), StepUp::locked);
  info = svc_->account("alice");
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->locked);
  now_ += 30;
  EXPECT_EQ(*svc_->check_second_factor(e.account_id, code(e, now_)), StepUp::failed);  // locked: even a good code

  auto bad = svc_->check_second_factor("zz", "123456");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::invalid_input);
  auto unknown = svc_->check_second_factor(std::string(32, '0'), "123456");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::not_found);
}

TEST_F(AccountsTest, ExportKeyIsMadeAtCreationAndResetAndOnlyItsPublicHalfIsStored) {
  const auto e = add("alice");
  ASSERT_TRUE(e.export_secret_key.text().starts_with(kExportSecretKeyPrefix));
  std::vector<unsigned char> secret(32);
  std::size_t len = 0;
  const std::string_view b64 = e.export_secret_key.text().substr(kExportSecretKeyPrefix.size());
  ASSERT_EQ(sodium_base642bin(secret.data(), secret.size(), b64.data(), b64.size(), nullptr, &len, nullptr,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING),
            0);
  ASSERT_EQ(len, 32u);
  std::vector<unsigned char> derived(32);
  ASSERT_EQ(crypto_scalarmult_base(derived.data(), secret.data()), 0);
  auto pk = svc_->export_public_key(e.account_id);
  ASSERT_TRUE(pk.has_value()) << pk.error().internal;
  ASSERT_TRUE(pk->has_value());
  EXPECT_EQ(**pk, derived);

  const auto db = db_bytes();
  EXPECT_FALSE(store::test_support::contains(db, secret));
  EXPECT_FALSE(store::test_support::contains(db, bytes(b64)));

  auto reset = svc_->reset_mfa(kOperator, "alice");
  ASSERT_TRUE(reset);
  EXPECT_NE(reset->export_secret_key.text(), e.export_secret_key.text());
  auto pk2 = svc_->export_public_key(e.account_id);
  ASSERT_TRUE(pk2 && pk2->has_value());
  EXPECT_NE(**pk2, **pk);

  const auto other = add("bob");
  EXPECT_NE(other.export_secret_key.text(), e.export_secret_key.text());
  auto unknown = svc_->export_public_key(std::string(32, 'a'));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::not_found);
}
}  // namespace
}  // namespace rempart::auth
