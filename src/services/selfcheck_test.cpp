#include "services/selfcheck.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "services/selfcheck_scan.hpp"
#include "store/backends.hpp"
#include "store/test_support.hpp"

namespace rempart::services::selfcheck {
namespace {

using store::test_support::TempDir;
namespace fs = std::filesystem;
using store::Bytes;

const Finding* find(const std::vector<Finding>& v, std::string_view id) {
  for (const auto& f : v) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

Level level_of(const std::vector<Finding>& v, std::string_view id) {
  const auto* f = find(v, id);
  EXPECT_NE(f, nullptr) << id;
  return f != nullptr ? f->level : Level::fail;
}

void write(const fs::path& p, std::string_view text, mode_t mode) {
  std::ofstream(p) << text;
  ::chmod(p.c_str(), mode);
}

// An instance laid out as `rempart init` lays it out.
struct Instance {
  TempDir dir;
  Settings s;
  Instance() {
    s.data_dir = dir.file("data");
    s.keys_dir = dir.file("keys");
    s.exports_dir = s.data_dir / "exports";
    fs::create_directories(s.exports_dir);
    fs::create_directories(s.keys_dir);
    ::chmod(s.data_dir.c_str(), 0700);
    ::chmod(s.keys_dir.c_str(), 0700);
    write(s.keys_dir / "keeper.keyring", "k", 0600);
    write(s.keys_dir / "intake.keyring", "k", 0600);
    write(s.data_dir / "rempart.db", "d", 0600);
  }
};

TEST(Keys, ClosedKeysOutsideTheDataAreFine) {
  Instance i;
  std::vector<Finding> out;
  check_keys(i.s, out);
  check_data(i.s, out);
  EXPECT_EQ(level_of(out, "keys.location"), Level::ok);
  EXPECT_EQ(level_of(out, "keys.mode"), Level::ok);
  EXPECT_EQ(level_of(out, "keys.owner"), Level::ok);
  EXPECT_EQ(level_of(out, "data.mode"), Level::ok);
}

TEST(Keys, OpenModesFailWithTheirFix) {
  Instance i;
  ::chmod((i.s.keys_dir / "keeper.keyring").c_str(), 0644);
  ::chmod(i.s.data_dir.c_str(), 0755);
  std::vector<Finding> out;
  check_keys(i.s, out);
  check_data(i.s, out);
  const auto* k = find(out, "keys.mode");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->level, Level::fail);
  EXPECT_NE(k->finding.english().find("keeper.keyring 0644"), std::string::npos) << k->finding.english();
  EXPECT_EQ(k->fix.english(), "chmod 700 " + i.s.keys_dir.string() + " and chmod 600 every file in it");
  EXPECT_EQ(level_of(out, "data.mode"), Level::fail);
}

TEST(Keys, KeysInsideTheDataDirectoryFail) {
  Instance i;
  i.s.keys_dir = i.s.data_dir / "keys";
  fs::create_directories(i.s.keys_dir);
  ::chmod(i.s.keys_dir.c_str(), 0700);
  std::vector<Finding> out;
  check_keys(i.s, out);
  EXPECT_EQ(level_of(out, "keys.location"), Level::fail);
}

TEST(Secrets, PasswordFilesAreChecked) {
  Instance i;
  write(i.dir.file("db-password"), "x", 0640);
  i.s.secret_files.push_back({"[storage].keeper_password_file", i.dir.file("db-password")});
  std::vector<Finding> out;
  check_data(i.s, out);
  EXPECT_EQ(level_of(out, "secrets.mode"), Level::fail);
  ::chmod(i.dir.file("db-password").c_str(), 0600);
  out.clear();
  check_data(i.s, out);
  EXPECT_EQ(level_of(out, "secrets.mode"), Level::ok);
}

TEST(Listeners, PlainHttpOffTheLoopbackFails) {
  EXPECT_TRUE(is_loopback("127.0.0.1"));
  EXPECT_TRUE(is_loopback("127.1.2.3"));
  EXPECT_TRUE(is_loopback("::1"));
  EXPECT_TRUE(is_loopback("[::1]"));
  EXPECT_TRUE(is_loopback("localhost"));
  EXPECT_FALSE(is_loopback("0.0.0.0"));
  EXPECT_FALSE(is_loopback("::"));
  EXPECT_FALSE(is_loopback("127.0.0.1.example.org"));
  EXPECT_FALSE(is_loopback("192.0.2.1"));
  Settings s;
  s.listeners = {{"intake", "0.0.0.0", 8080, true, {}, {}}, {"console", "127.0.0.1", 8081, true, {}, {}}};
  std::vector<Finding> out;
  check_listeners(s, out, 0);
  EXPECT_EQ(level_of(out, "listen.intake"), Level::fail);
  EXPECT_NE(find(out, "listen.intake")->fix.english().find("[intake]"), std::string::npos);
  EXPECT_EQ(level_of(out, "listen.console"), Level::ok);
}

TEST(Listeners, AnOpenTlsKeyAndAMissingCertificateFail) {
  Instance i;
  write(i.dir.file("tls.key"), "key", 0644);
  Settings s;
  s.listeners = {{"console", "0.0.0.0", 8443, true, i.dir.file("none.pem"), i.dir.file("tls.key")}};
  std::vector<Finding> out;
  check_listeners(s, out, 0);
  EXPECT_EQ(level_of(out, "listen.console"), Level::ok);
  EXPECT_EQ(level_of(out, "listen.console_key"), Level::fail);
  EXPECT_EQ(level_of(out, "listen.console_certificate"), Level::fail);
}

TEST(Settings, WeakDefaultsAreFound) {
  Instance i;
  {
    std::vector<Finding> out;
    i.s.checkpoint_file = i.dir.file("checkpoints");
    i.s.alerts.webhook = guard::WebhookSinkOptions{};
    check_settings(i.s, out);
    for (const auto& f : out) EXPECT_EQ(f.level, Level::ok) << f.id << ": " << f.finding.english();
  }
  i.s.budgets.of(guard::Counted::email) = guard::Limit{0, 0, 0};
  i.s.budgets.of(guard::Counted::phone) = guard::Limit{0, 1000, 0};
  i.s.alerts = guard::AlertOptions{};
  i.s.checkpoint_file = i.s.data_dir / "checkpoints";
  i.s.disk_reserve_mib = 0;
  i.s.retention.record_months = 0;
  i.s.mail_links.push_back({"[mail]", "smtp://relay.example.org:587", false});
  i.s.mail_links.push_back({"[alerts.smtp]", "smtp://127.0.0.1:25", false});
  std::vector<Finding> out;
  check_settings(i.s, out);
  EXPECT_EQ(level_of(out, "guard.budgets"), Level::warn);
  EXPECT_NE(find(out, "guard.budgets")->finding.english().find("email"), std::string::npos);
  EXPECT_EQ(level_of(out, "alerts.sink"), Level::warn);
  EXPECT_EQ(level_of(out, "audit.checkpoint"), Level::fail);
  EXPECT_EQ(level_of(out, "storage.disk_reserve"), Level::warn);
  EXPECT_EQ(level_of(out, "retention.off"), Level::warn);
  EXPECT_EQ(level_of(out, "mail.tls"), Level::fail);
  EXPECT_EQ(std::count_if(out.begin(), out.end(), [](const Finding& f) { return f.id == "mail.tls"; }), 1);
  i.s.alerts.stderr_json = false;
  out.clear();
  check_settings(i.s, out);
  EXPECT_EQ(level_of(out, "alerts.sink"), Level::fail);
}

store::AccountRow account(const std::string& name, const std::string& role, std::int64_t created) {
  store::AccountRow a;
  a.id = Bytes(16, static_cast<std::uint8_t>(name[0]));
  a.name = name;
  a.role = role;
  a.password_hash = "$argon2id$x";
  a.totp_sealed = Bytes{1, 2, 3};
  a.totp_last_step = 5;
  a.created_at = a.updated_at = created;
  if (role == "admin") a.admin_since = created;
  return a;
}

TEST(Accounts, EveryEnabledAccountHasItsAuthenticator) {
  TempDir dir;
  store::StorageOptions o;
  o.data_dir = dir.path();
  auto backend = store::open_backend(o);
  ASSERT_TRUE(backend) << backend.error().internal;
  auto st = (*backend)->open_keeper();
  ASSERT_TRUE(st) << st.error().internal;
  const std::int64_t now = 1800000000;
  auto no_totp = account("bob", "organiser", now - 86400);
  no_totp.totp_sealed.clear();
  auto invited = account("carol", "viewer", now - 3 * 86400);
  invited.state = "enrolling";
  invited.totp_sealed.clear();
  invited.enrol_hash = Bytes(32, 7);
  invited.enrol_expires_at = now + 86400;
  auto gone = account("dave", "viewer", now);
  gone.totp_sealed.clear();
  gone.disabled = true;
  ASSERT_TRUE((*st)->transact([&](store::KeeperTx& tx) -> Result<void> {
    for (const auto& a : {account("alice", "admin", now - 86400), no_totp, invited, gone}) {
      if (auto r = tx.insert_account(a); !r) return r;
    }
    return {};
  }));
  std::vector<Finding> out;
  check_accounts(**st, out, now);
  const auto* totp = find(out, "accounts.totp");
  ASSERT_NE(totp, nullptr);
  EXPECT_EQ(totp->level, Level::fail);
  EXPECT_NE(totp->finding.english().find("bob"), std::string::npos);
  const auto* inv = find(out, "accounts.enrolment");
  ASSERT_NE(inv, nullptr);
  EXPECT_EQ(inv->level, Level::warn);
  EXPECT_NE(inv->finding.english().find("carol: invited 3 days ago"), std::string::npos) << inv->finding.english();
  EXPECT_EQ(level_of(out, "accounts.admins"), Level::warn);
  for (const auto& f : out) EXPECT_EQ(f.finding.english().find("dave"), std::string::npos) << "disabled";
}

TEST(Report, ExitCodesJsonAndTheRecordedScan) {
  Instance i;
  Report r;
  r.at = 1800000000;
  r.findings.push_back({"keys.mode", Level::ok, {"fine", {}}, {}});
  EXPECT_EQ(r.exit_code(false), 0);
  r.findings.push_back({"alerts.sink", Level::warn, {"alerts go {}", {"nowhere"}}, {"fix {}", {"it"}}});
  EXPECT_EQ(r.exit_code(false), 0);
  EXPECT_EQ(r.exit_code(true), 1);
  r.findings.push_back({"data.mode", Level::fail, {"open", {}}, {"chmod", {}}});
  EXPECT_EQ(r.exit_code(false), 1);
  const auto j = r.to_json();
  EXPECT_EQ(j["summary"]["fail"], 1);
  EXPECT_EQ(j["findings"][1]["finding"], "alerts go nowhere");
  EXPECT_EQ(j["findings"][1]["group"], "alerts");
  const auto text = render_text(r, false);
  EXPECT_EQ(text.find("keys.mode"), std::string::npos);  // ok ones only with --all
  EXPECT_NE(text.find("FAIL  data.mode"), std::string::npos) << text;
  EXPECT_NE(text.find("fix: fix it"), std::string::npos) << text;
  EXPECT_NE(text.find("1 failed, 1 warnings, 1 ok"), std::string::npos) << text;

  // The page shows the CLI's last scan: none yet, then the recorded one.
  std::vector<Finding> shown;
  recorded_scan(i.s, shown, r.at, scan_texts());
  EXPECT_EQ(level_of(shown, "plaintext.scan"), Level::warn);
  const auto scan = scan_data_files(i.s);
  ASSERT_TRUE(record_scan(i.s, scan.findings, r.at));
  struct stat st {};
  ASSERT_EQ(::stat(scan_record_path(i.s).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  shown.clear();
  recorded_scan(i.s, shown, r.at + 86400, scan_texts());
  EXPECT_EQ(level_of(shown, "plaintext.scan"), Level::ok);
  const auto* db = find(shown, "plaintext.rempart_db");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->finding.english(), find(scan.findings, "plaintext.rempart_db")->finding.english());
  EXPECT_EQ(db->finding.msgid, find(scan.findings, "plaintext.rempart_db")->finding.msgid);  // translatable again
  shown.clear();
  recorded_scan(i.s, shown, r.at + 9 * 86400, scan_texts());
  EXPECT_EQ(level_of(shown, "plaintext.scan"), Level::warn);
}

}  // namespace
}  // namespace rempart::services::selfcheck
