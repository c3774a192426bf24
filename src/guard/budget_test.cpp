// Budgets and the automatic lock against a real SQLite file and keyring.
#include "guard/budget.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "audit/chain.hpp"
#include "crypto/secret.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace rempart::guard {
namespace {

constexpr std::int64_t kT0 = 1'800'000'000 - 1'800'000'000 % 86400;  // start of a day

class BudgetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("rempart-budget-" + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    ASSERT_TRUE(crypto::init());
    auto k = crypto::KeeperKeyring::generate();
    ASSERT_TRUE(k);
    keys_.emplace(std::move(*k));
    open();
    // An account with a session, and an API token.
    account_id_ = store::Bytes(16, 0xab);
    ASSERT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
      store::AccountRow a;
      a.id = account_id_;
      a.name = "orga";
      a.role = "organiser";
      a.password_hash = "x";
      a.totp_sealed = {1};
      if (auto r = tx.insert_account(a); !r) return r;
      if (auto r = tx.insert_session({store::Bytes(32, 1), account_id_, kT0, kT0, "192.0.2.1"}); !r) return r;
      store::ApiTokenRow t;
      t.label = "site";
      t.scope = "reveal";
      t.prefix = "rmp_x";
      t.token_hash = store::Bytes(32, 2);
      t.created_by = "operator:test";
      t.expires_at = kT0 + 86400 * 30;
      auto id = tx.insert_api_token(t);
      if (!id) return std::unexpected(id.error());
      token_id_ = *id;
      return {};
    }));
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void open() {
    store_.reset();
    auto s = store::open_sqlite_keeper(dir_ / "rempart.db");
    ASSERT_TRUE(s) << s.error().internal;
    store_ = std::move(*s);
  }
  std::string account_actor() const { return "account:" + audit::to_hex(account_id_); }

  Verdict charge_one(const std::string& actor, Counted what, std::int64_t now, const Budgets& b = {}) {
    Verdict v;
    auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto got = charge(tx, *keys_, b, actor, what, 1, now, "192.0.2.1");
      if (!got) return std::unexpected(got.error());
      v = *got;
      return {};
    });
    EXPECT_TRUE(r) << (r ? "" : r.error().internal);
    return v;
  }
  store::AccountRow account() {
    store::AccountRow out;
    EXPECT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto a = tx.find_account(account_id_);
      if (!a) return std::unexpected(a.error());
      out = **a;
      return {};
    }));
    return out;
  }
  std::vector<store::AuditEntryRow> locks() {
    std::vector<store::AuditEntryRow> out;
    store::AuditFilter f;
    f.action = std::string(audit::action::guard_lock);
    EXPECT_TRUE(store_->scan_audit_filtered(f, [&](const store::AuditEntryRow& r) {
      out.push_back(r);
      return true;
    }));
    return out;
  }

  std::filesystem::path dir_;
  std::optional<crypto::KeeperKeyring> keys_;
  std::unique_ptr<store::KeeperStore> store_;
  store::Bytes account_id_;
  std::int64_t token_id_ = 0;
};

TEST_F(BudgetTest, CrossingTheHourlyBudgetLocksTheAccountAndEndsItsSessions) {
  const auto limit = Budgets{}.of(Counted::email).per_hour;
  for (std::int64_t i = 0; i < limit; ++i) EXPECT_FALSE(charge_one(account_actor(), Counted::email, kT0 + i).locked);
  EXPECT_FALSE(account().locked);
  const auto v = charge_one(account_actor(), Counted::email, kT0 + limit);
  EXPECT_TRUE(v.locked);
  EXPECT_EQ(v.reason, kReasonRevealBudget);
  EXPECT_TRUE(account().locked);
  auto session = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto s = tx.find_session(store::Bytes(32, 1));
    if (!s) return std::unexpected(s.error());
    EXPECT_FALSE(s->has_value()) << "the session was deleted";
    return {};
  });
  EXPECT_TRUE(session);
  const auto l = locks();
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].actor, account_actor());
  EXPECT_NE(l[0].details.find("reveal_budget"), std::string::npos);
  EXPECT_NE(l[0].details.find("\"window\":\"h\""), std::string::npos);
}

// Requests that passed the session check before the lock and reach their
// transaction after it: refused, not counted, not locked again.
TEST_F(BudgetTest, ALockedAccountIsRefusedEveryChargeAfterItsLock) {
  const auto limit = Budgets{}.of(Counted::email).per_hour;
  for (std::int64_t i = 0; i <= limit; ++i) charge_one(account_actor(), Counted::email, kT0 + i);
  ASSERT_TRUE(account().locked);
  for (Counted what : {Counted::name, Counted::email, Counted::masked}) {
    const auto v = charge_one(account_actor(), what, kT0 + limit + 1);
    EXPECT_TRUE(v.locked);
    EXPECT_EQ(v.reason, kReasonAlreadyLocked);
  }
  EXPECT_EQ(locks().size(), 1u);
}

TEST_F(BudgetTest, KindsAreCountedApartAndWindowsRoll) {
  Budgets b;
  b.of(Counted::phone) = {0, 2, 3};
  EXPECT_FALSE(charge_one(account_actor(), Counted::phone, kT0, b).locked);
  EXPECT_FALSE(charge_one(account_actor(), Counted::phone, kT0 + 1, b).locked);
  EXPECT_FALSE(charge_one(account_actor(), Counted::email, kT0 + 2, b).locked);  // another kind
  EXPECT_FALSE(charge_one(account_actor(), Counted::phone, kT0 + 3600, b).locked);  // next hour: 1/h, 3/d
  EXPECT_TRUE(charge_one(account_actor(), Counted::phone, kT0 + 3601, b).locked);   // 4 in the day
}

TEST_F(BudgetTest, CountersSurviveARestart) {
  Budgets b;
  b.of(Counted::name) = {0, 3, 0};
  EXPECT_FALSE(charge_one(account_actor(), Counted::name, kT0, b).locked);
  EXPECT_FALSE(charge_one(account_actor(), Counted::name, kT0 + 1, b).locked);
  open();  // a new process would see the same counters
  EXPECT_FALSE(charge_one(account_actor(), Counted::name, kT0 + 2, b).locked);
  EXPECT_TRUE(charge_one(account_actor(), Counted::name, kT0 + 3, b).locked);
}

TEST_F(BudgetTest, MaskedPagesHaveAPerMinuteBudget) {
  Budgets b;
  b.of(Counted::masked) = {3, 0, 0};
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(charge_one(account_actor(), Counted::masked, kT0 + i, b).locked);
  const auto v = charge_one(account_actor(), Counted::masked, kT0 + 4, b);
  EXPECT_TRUE(v.locked);
  EXPECT_EQ(v.reason, kReasonListBudget);
}

TEST_F(BudgetTest, ATokenIsRevoked) {
  Budgets b;
  b.of(Counted::email) = {0, 1, 0};
  const std::string actor = "token:" + std::to_string(token_id_);
  EXPECT_FALSE(charge_one(actor, Counted::email, kT0, b).locked);
  EXPECT_TRUE(charge_one(actor, Counted::email, kT0 + 1, b).locked);
  auto tokens = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto all = tx.api_tokens();
    if (!all) return std::unexpected(all.error());
    EXPECT_TRUE(all->at(0).revoked_at.has_value());
    return {};
  });
  EXPECT_TRUE(tokens);
  EXPECT_FALSE(account().locked);  // only the token
}

TEST_F(BudgetTest, OperatorsAreCountedButNeverLocked) {
  Budgets b;
  b.of(Counted::email) = {0, 1, 0};
  EXPECT_FALSE(charge_one("operator:root", Counted::email, kT0, b).locked);
  EXPECT_FALSE(charge_one("operator:root", Counted::email, kT0 + 1, b).locked);
  EXPECT_TRUE(locks().empty());
}

TEST_F(BudgetTest, ZeroMeansNoLimit) {
  Budgets b;
  b.of(Counted::address) = {0, 0, 0};
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(charge_one(account_actor(), Counted::address, kT0 + i, b).locked);
}

}  // namespace
}  // namespace rempart::guard
