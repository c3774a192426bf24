// End-to-end tests of `rempart backup create|verify|restore`: a backup taken
// from a real `serve` while sign-ups arrive, checked, tampered with,
// restored into a new data directory; the restored instance's audit log
// verifies, and an old copy put back by hand is still a rollback.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "integration/process.hpp"

namespace rempart::test {
namespace {

using namespace std::chrono_literals;

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

bool has(const std::string& text, const std::string& words) { return text.find(words) != std::string::npos; }

// Replaces the whole line that starts with `key = ` in a configuration
// `init` wrote (each key once in it).
void set_key(std::string& config, const std::string& key, const std::string& value) {
  const std::regex line("(^|\n)" + key + " = [^\n]*");
  ASSERT_TRUE(std::regex_search(config, line)) << key;
  config = std::regex_replace(config, line, "$1" + key + " = " + value, std::regex_constants::format_first_only);
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << text;
}

std::string signup(int i) {
  return "given_name=Ondine&family_name=Backup" + std::to_string(i) + "&email=ondine.backup" + std::to_string(i) +
         "%40example.org&consent_email=on";
}

int supporters(const fs::path& config) {
  auto r = run_rempart({"supporters", "count", "--config", config.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? std::stoi(r.out) : -1;
}

// The database files of a backup or data directory, copied as `cp` would.
void copy_files(const fs::path& from, const fs::path& to) {
  fs::create_directory(to);
  fs::permissions(to, fs::perms::owner_all);
  for (const char* f : {"inbox.db", "rempart.db"}) fs::copy_file(from / f, to / f);
}

class Backup : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string text = read_file(in.config);
    set_key(text, "rate_per_minute", "6000000");  // the sign-ups come from one address
    set_key(text, "burst", "100000");
    set_key(text, "checkpoint_seconds", "1");
    write_file(in.config, text);
  }

  RunResult backup(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"backup"};
    all.insert(all.end(), args.begin(), args.end());
    all.push_back("--config");
    all.push_back(in.config.string());
    return run_rempart(all);
  }

  Instance in;
  fs::path dir = in.dir.path() / "backup";
  fs::path checkpoints = in.dir.path() / "rempart-audit.checkpoints";
};

TEST_F(Backup, TakenWhileSignUpsArriveItVerifiesRestoresAndTellsARestoreFromARollback) {
  Server srv({"serve", "--config", in.config.string()}, in.dir.path() / "serve.log");
  const auto port = srv.wait_for_port();
  ASSERT_NE(port, 0) << srv.log();

  std::atomic<bool> stop{false};
  std::atomic<int> accepted{0};
  std::thread load([&] {
    for (int i = 0; !stop.load(); ++i) {
      auto r = try_http_request(port, "POST", "/signup", "application/x-www-form-urlencoded", signup(i));
      if (r.stage == HttpOutcome::Stage::answered && r.response.status == 303) ++accepted;
    }
  });
  struct Join {
    std::atomic<bool>& stop;
    std::thread& t;
    ~Join() {
      stop.store(true);
      if (t.joinable()) t.join();
    }
  } join{stop, load};
  while (accepted.load() < 30) std::this_thread::sleep_for(10ms);

  const int before = accepted.load();
  auto made = backup({"create", dir.string()});
  const int during = accepted.load();
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_GT(during, before) << "sign-ups went on while the backup was taken";
  EXPECT_TRUE(has(made.out, "backup written to " + dir.string())) << made.out;
  EXPECT_TRUE(has(made.out, "It holds no key")) << made.out;
  while (accepted.load() < during + 20) std::this_thread::sleep_for(10ms);
  stop.store(true);
  load.join();
  const int total = accepted.load();

  // What the directory holds: the two files and the manifest, private.
  EXPECT_EQ(mode_of(dir), 0700u);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
    EXPECT_EQ(mode_of(e.path()), 0600u) << e.path();
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"inbox.db", "rempart-backup.json", "rempart.db"}));

  // No key in it: no 16 bytes of either key file past its fixed header.
  for (const char* key_file : {"keeper.keyring", "intake.keyring"}) {
    const std::string key = read_file(in.keys / key_file);
    ASSERT_GT(key.size(), 48u);
    for (const auto& name : names) {
      const std::string content = read_file(dir / name);
      for (std::size_t at = 16; at + 16 <= key.size(); at += 8) {
        ASSERT_EQ(content.find(key.substr(at, 16)), std::string::npos) << key_file << " in " << name << " at " << at;
      }
    }
  }

  auto checked = backup({"verify", dir.string()});
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  EXPECT_TRUE(has(checked.out, "signed with audit key version 1: OK")) << checked.out;
  EXPECT_TRUE(has(checked.out, "rempart: backup OK")) << checked.out;

  // Every sign-up folded, the head signed into the outside file: it now
  // knows later heads than the backup's.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (supporters(in.config) < total && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(100ms);
  ASSERT_EQ(supporters(in.config), total);
  ASSERT_EQ(srv.terminate(), 0);
  ASSERT_TRUE(has(read_file(dir / "rempart-backup.json"), "\"seq\": "));

  // A byte changed in a file of the backup; its manifest edited.
  const fs::path damaged = in.dir.path() / "damaged";
  copy_files(dir, damaged);
  fs::copy_file(dir / "rempart-backup.json", damaged / "rempart-backup.json");
  {
    std::string db = read_file(damaged / "rempart.db");
    db[db.size() / 2] = static_cast<char>(db[db.size() / 2] ^ 0x01);
    write_file(damaged / "rempart.db", db);
  }
  auto bad_byte = backup({"verify", damaged.string()});
  EXPECT_EQ(bad_byte.exit_code, 1);
  EXPECT_TRUE(has(bad_byte.out, "backup FAILED verification: " + (damaged / "rempart.db").string() +
                                    ": its content differs from the manifest's"))
      << bad_byte.out << bad_byte.err;
  const fs::path edited = in.dir.path() / "edited";
  copy_files(dir, edited);
  {
    std::string manifest = read_file(dir / "rempart-backup.json");
    const auto at = manifest.find("\"created_at_us\": ") + 17;
    manifest[at] = manifest[at] == '1' ? '2' : '1';
    write_file(edited / "rempart-backup.json", manifest);
  }
  auto bad_manifest = backup({"verify", edited.string()});
  EXPECT_EQ(bad_manifest.exit_code, 1);
  EXPECT_TRUE(has(bad_manifest.out, "its signature does not verify")) << bad_manifest.out << bad_manifest.err;

  // The data directory lost. Neither damaged backup is restored in its
  // place, and nothing is left there; the good one is.
  fs::rename(in.data, in.dir.path() / "data.lost");
  for (const auto& d : {damaged, edited}) {
    auto r = backup({"restore", d.string(), "--data", in.data.string()});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_TRUE(has(r.err, "not restored")) << r.err;
    EXPECT_FALSE(fs::exists(in.data));
  }
  auto restored = backup({"restore", dir.string(), "--data", in.data.string()});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_TRUE(has(restored.out, "records the restore, and its checkpoint is in " + checkpoints.string()))
      << restored.out;
  EXPECT_TRUE(has(restored.out, "set aside by it")) << restored.out;
  EXPECT_EQ(mode_of(in.data), 0700u);
  EXPECT_EQ(mode_of(in.data / "rempart.db"), 0600u);
  EXPECT_EQ(mode_of(in.data / "inbox.db"), 0600u);
  EXPECT_FALSE(fs::exists(in.data / "rempart-backup.json"));

  auto verified = run_rempart({"audit", "verify", "--config", in.config.string()});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_TRUE(has(verified.out, "records a restore from a backup of seq")) << verified.out;
  EXPECT_TRUE(has(verified.out, "were signed for the log a recorded restore replaced: set aside")) << verified.out;
  EXPECT_TRUE(has(verified.out, "audit log OK")) << verified.out;

  // The restored instance serves: what its inbox copy held is folded, and
  // its log, signed on, still verifies.
  {
    Server again({"serve", "--config", in.config.string()}, in.dir.path() / "serve-restored.log");
    const auto p = again.wait_for_port();
    ASSERT_NE(p, 0) << again.log();
    EXPECT_EQ(http_request(p, "POST", "/signup", "application/x-www-form-urlencoded", signup(100000)).status, 303);
    ASSERT_EQ(again.terminate(), 0);  // a keeper stopping folds what waits first
  }
  const int after_restore = supporters(in.config);
  EXPECT_GT(after_restore, 1);
  EXPECT_LE(after_restore, total + 1);
  auto still = run_rempart({"audit", "verify", "--config", in.config.string()});
  EXPECT_EQ(still.exit_code, 0) << still.out << still.err;

  // The same backup put back by hand, without `backup restore`: a rollback.
  fs::rename(in.data, in.dir.path() / "data.restored");
  copy_files(dir, in.data);
  auto by_hand = run_rempart({"audit", "verify", "--config", in.config.string()});
  EXPECT_EQ(by_hand.exit_code, 1) << by_hand.out;
  EXPECT_TRUE(has(by_hand.out, "(truncated or rolled back)")) << by_hand.out;
  EXPECT_FALSE(has(by_hand.out, "records a restore")) << by_hand.out;
}

TEST_F(Backup, RefusesWhatItMustNotDoAndWritesNothing) {
  // Inside the key directory, inside the data directory, over files.
  auto keys = backup({"create", (in.keys / "backup").string()});
  EXPECT_EQ(keys.exit_code, 2);
  EXPECT_TRUE(has(keys.err, "inside the key directory")) << keys.err;
  EXPECT_FALSE(fs::exists(in.keys / "backup"));
  auto data = backup({"create", (in.data / "backup").string()});
  EXPECT_EQ(data.exit_code, 2);
  EXPECT_TRUE(has(data.err, "inside the data directory")) << data.err;
  EXPECT_FALSE(fs::exists(in.data / "backup"));
  fs::create_directory(dir);
  write_file(dir / "notes.txt", "mine");
  auto used = backup({"create", dir.string()});
  EXPECT_EQ(used.exit_code, 2);
  EXPECT_TRUE(has(used.err, "is not empty")) << used.err;
  EXPECT_EQ(read_file(dir / "notes.txt"), "mine");
  fs::remove(dir / "notes.txt");

  // A backup with a file slipped in beside it is refused.
  ASSERT_EQ(backup({"create", dir.string()}).exit_code, 0);
  fs::copy_file(in.keys / "keeper.keyring", dir / "keeper.keyring");
  auto extra = backup({"verify", dir.string()});
  EXPECT_EQ(extra.exit_code, 1);
  EXPECT_TRUE(has(extra.out, "holds keeper.keyring, which the manifest does not name")) << extra.out;
  fs::remove(dir / "keeper.keyring");
  EXPECT_EQ(backup({"verify", dir.string()}).exit_code, 0);

  // Restoring beside the live data directory would sign a second history
  // into its checkpoint file.
  const fs::path beside = in.dir.path() / "beside";
  auto next_to = backup({"restore", dir.string(), "--data", beside.string()});
  EXPECT_EQ(next_to.exit_code, 2);
  EXPECT_TRUE(has(next_to.err, "a restore beside it would write a second history into that file")) << next_to.err;
  EXPECT_FALSE(fs::exists(beside));

  // PostgreSQL keeps its own backups.
  std::string text = read_file(in.config);
  set_key(text, "backend", "\"postgresql\"");
  text = std::regex_replace(text, std::regex("\n# dsn = "), "\ndsn = ");
  const fs::path pg_config = in.dir.path() / "pg.toml";
  write_file(pg_config, text);
  auto pg = run_rempart({"backup", "create", (in.dir.path() / "pg-backup").string(), "--config", pg_config.string()});
  EXPECT_EQ(pg.exit_code, 2) << pg.err;
  EXPECT_TRUE(has(pg.err, "pgBackRest or pg_basebackup")) << pg.err;
  EXPECT_TRUE(has(pg.err, "rempart audit verify")) << pg.err;
  EXPECT_FALSE(fs::exists(in.dir.path() / "pg-backup"));
}

}  // namespace
}  // namespace rempart::test
