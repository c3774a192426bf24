// End-to-end on PostgreSQL: several intake and keeper processes of the real
// binary on one database of the test cluster (docs/postgresql.md), under a
// sign-up load, with nodes killed and restarted in the middle.
//
// The cluster is the one scripts/test starts (tests/support/pg_cluster.sh),
// found through REMPART_TEST_PG (an administrator's connection string) and
// REMPART_TEST_PG_PASSWORD_FILE only. Each test makes a database of its own,
// rempart_multinode, and `rempart init --backend postgresql` sets it up; the
// ctest entries hold the RESOURCE_LOCK "postgresql" (init gives the cluster's
// rempart roles new passwords).
//
// Every e-mail address, name and reason here is synthetic (example.org):
// failure messages may name them, never anything else.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "integration/process.hpp"

namespace rempart::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kDatabase = "rempart_multinode";
// The nodes' login users, members of the roles init makes (see SetUp).
constexpr const char* kKeeperUser = "rempart_multinode_keeper";
constexpr const char* kIntakeUser = "rempart_multinode_intake";
constexpr const char* kForm = "application/x-www-form-urlencoded";
constexpr const char* kOathtool = "/usr/bin/oathtool";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A libpq keyword value, quoted as conninfo strings want it.
std::string conninfo_value(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// One administrator connection to the test cluster (the test's own
// assertions: rempart itself never sees it).
class Pg {
 public:
  Pg(const std::string& admin_conninfo, const std::string& password, const std::string& dbname) {
    // The later "dbname" overrides the one the conninfo string holds.
    const char* keys[] = {"dbname", "dbname", "password", "application_name", nullptr};
    const char* values[] = {admin_conninfo.c_str(), dbname.c_str(), password.c_str(), "rempart-multinode-test",
                            nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    if (PQstatus(conn_) != CONNECTION_OK) error_ = PQerrorMessage(conn_);
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);  // "does not exist, skipping"
  }
  ~Pg() { PQfinish(conn_); }
  Pg(const Pg&) = delete;
  Pg& operator=(const Pg&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  // Runs `sql` (a constant of this test); its first row's first value ("" if
  // it returned no row), nullopt on an error (then last_error()).
  std::optional<std::string> value(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    std::optional<std::string> out;
    const auto st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK) {
      out = PQntuples(r) > 0 && PQnfields(r) > 0 ? std::string(PQgetvalue(r, 0, 0)) : std::string();
    } else if (st == PGRES_COMMAND_OK) {
      out = std::string();
    } else {
      const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      last_error_ = std::string("SQLSTATE ") + (state != nullptr ? state : "?") + " on: " + sql;
    }
    PQclear(r);
    return out;
  }
  // value() as a number; -1 on an error.
  long long number(const std::string& sql) {
    auto v = value(sql);
    if (!v || v->empty()) return -1;
    return std::stoll(*v);
  }
  const std::string& last_error() const { return last_error_; }

  // `text` as an SQL literal, quoted by libpq.
  std::string literal(const std::string& text) {
    char* q = PQescapeLiteral(conn_, text.data(), text.size());
    if (q == nullptr) throw std::runtime_error("PQescapeLiteral failed");
    std::string out(q);
    PQfreemem(q);
    return out;
  }
  // The SCRAM verifier of `password` for `user`: what the server keeps.
  std::string verifier(const std::string& user, const std::string& password) {
    char* v = PQencryptPasswordConn(conn_, password.c_str(), user.c_str(), "scram-sha-256");
    if (v == nullptr) throw std::runtime_error("PQencryptPasswordConn failed");
    std::string out(v);
    PQfreemem(v);
    return out;
  }

 private:
  PGconn* conn_ = nullptr;
  std::string error_;
  std::string last_error_;
};

// Sets `key = value` in `[section]` of a configuration text.
std::string set_key(const std::string& text, const std::string& section, const std::string& key,
                    const std::string& value) {
  std::istringstream in(text);
  std::ostringstream out;
  std::string line, current;
  bool done = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '[') {
      current = line.substr(1, line.find(']') - 1);
    } else if (!done && current == section && line.rfind(key + " =", 0) == 0) {
      line = key + " = " + value;
      done = true;
    }
    out << line << "\n";
  }
  if (!done) throw std::runtime_error("the configuration has no " + key + " in [" + section + "]");
  return out.str();
}

// The local TCP ports of the sockets process `pid` holds (its database
// connections among them), from /proc.
std::vector<unsigned> tcp_local_ports(pid_t pid) {
  const fs::path proc = fs::path("/proc") / std::to_string(pid);
  std::set<std::string> inodes;
  std::error_code ec;
  for (const auto& fd : fs::directory_iterator(proc / "fd", ec)) {
    const auto target = fs::read_symlink(fd.path(), ec).string();
    if (!ec && target.rfind("socket:[", 0) == 0) inodes.insert(target.substr(8, target.size() - 9));
  }
  std::vector<unsigned> ports;
  for (const char* table : {"net/tcp", "net/tcp6"}) {
    std::istringstream lines(read_file(proc / table));
    std::string line;
    std::getline(lines, line);  // header
    while (std::getline(lines, line)) {
      std::istringstream f(line);
      std::string sl, local, remote, st, queues, timer, retr, uid, timeout, inode;
      f >> sl >> local >> remote >> st >> queues >> timer >> retr >> uid >> timeout >> inode;
      if (inodes.count(inode) != 0 && local.find(':') != std::string::npos) {
        ports.push_back(static_cast<unsigned>(std::stoul(local.substr(local.find(':') + 1), nullptr, 16)));
      }
    }
  }
  return ports;
}

// One node of the cluster: a `rempart serve` with its log and port.
struct Node {
  std::unique_ptr<Server> server;
  unsigned short port = 0;
};

class MultiNode : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_conninfo_ = env("REMPART_TEST_PG");
    const std::string password_file = env("REMPART_TEST_PG_PASSWORD_FILE");
    ASSERT_FALSE(admin_conninfo_.empty() || password_file.empty())
        << "REMPART_TEST_PG and REMPART_TEST_PG_PASSWORD_FILE are not set: run the tests through scripts/test, "
           "which starts a PostgreSQL cluster (or tests/support/pg_cluster.sh by hand)";
    admin_password_file_ = password_file;
    {
      std::istringstream pw(read_file(password_file));
      std::getline(pw, admin_password_);
    }
    ASSERT_FALSE(admin_password_.empty()) << "REMPART_TEST_PG_PASSWORD_FILE is empty or unreadable";

    // rempart's DSN: the cluster's server, our database, no user.
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(admin_conninfo_.c_str(), &err);
    ASSERT_NE(opts, nullptr) << "REMPART_TEST_PG does not parse" << (err != nullptr ? std::string(": ") + err : "");
    for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
      const std::string k = o->keyword;
      if (o->val != nullptr && *o->val != '\0' && (k == "host" || k == "hostaddr" || k == "port")) {
        dsn_ += k + "=" + conninfo_value(o->val) + " ";
      }
    }
    PQconninfoFree(opts);
    dsn_ += std::string("dbname=") + kDatabase;

    {
      Pg postgres(admin_conninfo_, admin_password_, "postgres");
      ASSERT_TRUE(postgres.ok()) << "cannot reach the test cluster: " << postgres.error();
      ASSERT_TRUE(postgres.value(std::string("DROP DATABASE IF EXISTS ") + kDatabase + " WITH (FORCE)"))
          << postgres.last_error();
      for (const char* user : {kKeeperUser, kIntakeUser}) {
        ASSERT_TRUE(postgres.value(std::string("DROP ROLE IF EXISTS ") + user)) << postgres.last_error();
      }
      ASSERT_TRUE(postgres.value(std::string("CREATE DATABASE ") + kDatabase +
                                 " ENCODING 'UTF8' TEMPLATE template0"))
          << postgres.last_error();
    }
    config_ = dir_.path() / "rempart.toml";
    const auto init = run_rempart({"init", "--data", (dir_.path() / "data").string(), "--keys",
                                   (dir_.path() / "keys").string(), "--config", config_.string(), "--backend",
                                   "postgresql", "--dsn", dsn_, "--admin-user", "postgres", "--admin-password-file",
                                   admin_password_file_, "--listen", "127.0.0.1:0", "--console-listen",
                                   "127.0.0.1:0"});
    ASSERT_EQ(init.exit_code, 0) << "rempart init --backend postgresql failed:\n" << init.err;
    db_ = std::make_unique<Pg>(admin_conninfo_, admin_password_, kDatabase);
    ASSERT_TRUE(db_->ok()) << db_->error();

    // The nodes log in as users of this test's own, each a member of the
    // role init made ("or a login user that is its member",
    // docs/postgresql.md; [storage] keeper_user and intake_user), with the
    // passwords init wrote: the roles rempart_keeper and rempart_intake are
    // the whole cluster's, and another test setting their passwords again
    // (as every `rempart init` and store_pg_tests do) must not lock these
    // nodes out halfway. init has no option for these users, so the test
    // makes them as init would (CREATE ROLE ... LOGIN, GRANT role TO user,
    // a SCRAM verifier, never the password, sent to the server).
    for (const auto& [role, user, file] :
         {std::tuple<std::string, std::string, fs::path>{"rempart_keeper", kKeeperUser,
                                                         dir_.path() / "rempart-pg-keeper.pass"},
          std::tuple<std::string, std::string, fs::path>{"rempart_intake", kIntakeUser,
                                                         dir_.path() / "rempart-pg-intake.pass"}}) {
      std::string password;
      std::istringstream(read_file(file)) >> password;
      ASSERT_FALSE(password.empty()) << file << " holds no password";
      ASSERT_TRUE(db_->value("CREATE ROLE " + user + " LOGIN IN ROLE " + role + " PASSWORD " +
                             db_->literal(db_->verifier(user, password))))
          << db_->last_error();
    }
    edit_config([](std::string t) {
      t = set_key(t, "storage", "keeper_user", std::string("\"") + kKeeperUser + "\"");
      return set_key(t, "storage", "intake_user", std::string("\"") + kIntakeUser + "\"");
    });
  }

  void TearDown() override {
    db_.reset();
    if (HasFailure()) return;  // left for a look; the next run drops it
    Pg postgres(admin_conninfo_, admin_password_, "postgres");
    if (!postgres.ok()) return;
    postgres.value(std::string("DROP DATABASE IF EXISTS ") + kDatabase + " WITH (FORCE)");
    for (const char* user : {kKeeperUser, kIntakeUser}) postgres.value(std::string("DROP ROLE IF EXISTS ") + user);
  }

  void edit_config(const std::function<std::string(std::string)>& edit) {
    const std::string text = edit(read_file(config_));
    std::ofstream out(config_, std::ios::trunc);
    out << text;
  }

  Node start_intake(const std::string& name) {
    Node n;
    n.server = std::make_unique<Server>(
        std::vector<std::string>{"serve", "--config", config_.string(), "--role", "intake", "--listen", "127.0.0.1:0"},
        dir_.path() / (name + ".log"));
    return n;
  }
  Node start_keeper(const std::string& name) {
    Node n;
    n.server = std::make_unique<Server>(std::vector<std::string>{"serve", "--config", config_.string(), "--role",
                                                                 "keeper", "--console-listen", "127.0.0.1:0"},
                                        dir_.path() / (name + ".log"));
    return n;
  }
  // Waits for the node's listener ("intake" or "console"; a keeper's console
  // opens once its fold loop runs).
  static bool ready(Node& n, const std::string& listener) {
    n.port = n.server->wait_for_port(60s, listener);
    return n.port != 0;
  }

  // Waits (bounded) until the inbox is empty; false if it never was.
  bool wait_inbox_empty(std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (db_->number("SELECT count(*) FROM rempart.inbox") == 0) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  long long count_actions(const std::string& action) {
    return db_->number("SELECT count(*) FROM rempart.audit_entries WHERE action = '" + action + "'");
  }

  void expect_audit_ok() {
    const auto verify = run_rempart({"audit", "verify", "--config", config_.string()}, 120s);
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
    EXPECT_NE(verify.out.find("audit log OK"), std::string::npos) << verify.out << verify.err;
  }

  TempDir dir_;
  fs::path config_;
  std::string admin_conninfo_;
  std::string admin_password_;
  std::string admin_password_file_;
  std::string dsn_;
  std::unique_ptr<Pg> db_;
};

// What the sign-up load saw.
struct Ledger {
  std::mutex mu;
  std::vector<std::string> acknowledged;  // 303: committed, by the contract
  std::vector<std::string> ambiguous;     // sent, then the answer was lost, or 503: may have committed
  std::vector<std::string> unexpected;    // any other answer (must stay empty)
  std::map<int, int> statuses;
  int not_connected = 0;  // attempts that never reached a node (sent again elsewhere)
  std::vector<std::string> errors;  // a few transport errors, for the failure message
};

// The intake nodes the clients spread over: a slot's port is 0 while its
// node is down; `acked` are the slot's acknowledged e-mails, per generation.
struct IntakePool {
  std::mutex mu;
  std::vector<unsigned short> ports;
  std::vector<std::vector<std::vector<std::string>>> acked;  // [slot][generation]
  std::vector<unsigned short> generation;
};

std::string signup_body(const std::string& email) {
  std::string encoded;
  for (char c : email) encoded += c == '@' ? std::string("%40") : std::string(1, c);
  return "email=" + encoded + "&given_name=Charge&consent_email=on";
}

// The keepers' "keeper: folded N submissions (a new, b merged, c
// unchanged, d rejected" lines of a log, summed.
struct FoldTotals {
  long long folded = 0, created = 0, merged = 0, unchanged = 0, rejected = 0, passes = 0;
};
FoldTotals fold_totals(const std::string& log) {
  static const std::regex re(
      "keeper: folded ([0-9]+) submissions \\(([0-9]+) new, ([0-9]+) merged, ([0-9]+) unchanged, ([0-9]+) rejected");
  FoldTotals t;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    t.folded += std::stoll(m[1]);
    t.created += std::stoll(m[2]);
    t.merged += std::stoll(m[3]);
    t.unchanged += std::stoll(m[4]);
    t.rejected += std::stoll(m[5]);
    ++t.passes;
  }
  return t;
}

// Three intakes and two keepers under a sign-up load; one intake and one
// keeper die by SIGKILL in the middle and start again. Every sign-up that
// was answered 303 is folded, once; the ones whose answer was lost are
// folded at most once; the audit chain verifies.
TEST_F(MultiNode, EveryAcknowledgedSignUpIsFoldedOnceThroughKillsAndRestarts) {
  constexpr int kClients = 4;
  constexpr int kPerClient = 500;  // 2,000 sign-ups in all (and 10 more), if the time allows
  constexpr auto kLoadTime = 50s;  // the most the load may last
  edit_config([](std::string t) {
    // The load comes from one address: the per-address limit must not count
    // here (the next test checks it). Small, frequent folds so that both
    // keepers take part, and checkpoints signed by both along the way.
    t = set_key(t, "intake", "rate_per_minute", "6000000");
    t = set_key(t, "intake", "burst", "100000");
    t = set_key(t, "keeper", "fold_interval_ms", "20");
    t = set_key(t, "keeper", "fold_batch", "20");
    t = set_key(t, "audit", "checkpoint_every", "100");
    return t;
  });

  std::vector<Node> intakes, keepers;
  for (int i = 0; i < 3; ++i) intakes.push_back(start_intake("intake" + std::to_string(i)));
  for (int i = 0; i < 2; ++i) keepers.push_back(start_keeper("keeper" + std::to_string(i)));
  for (auto& n : intakes) ASSERT_TRUE(ready(n, "intake")) << n.server->log();
  for (auto& n : keepers) ASSERT_TRUE(ready(n, "console")) << n.server->log();

  // The nodes are connected, each as its role's login user.
  EXPECT_EQ(db_->number(std::string("SELECT count(DISTINCT usename) FROM pg_stat_activity WHERE datname = '") +
                        kDatabase + "' AND usename IN ('" + kKeeperUser + "', '" + kIntakeUser + "')"),
            2)
      << db_->last_error();

  IntakePool pool;
  for (auto& n : intakes) pool.ports.push_back(n.port);
  pool.acked.assign(3, std::vector<std::vector<std::string>>(1));
  pool.generation.assign(3, 0);
  Ledger ledger;
  std::atomic<int> acked_count{0};
  std::atomic<bool> stop{false};
  const auto load_start = Clock::now();

  // Sends one sign-up to the intake in `slot` and books its outcome; false
  // if the connection was refused (nothing sent: it may go elsewhere).
  auto send = [&](const std::string& email, std::size_t slot, unsigned short port, unsigned short generation) {
    const auto out = try_http_request(port, "POST", "/", kForm, signup_body(email), {}, "", 20s);
    std::lock_guard lock(ledger.mu);
    if (out.stage == HttpOutcome::Stage::not_connected) {
      ++ledger.not_connected;
      if (ledger.errors.size() < 5) ledger.errors.push_back(out.error);
      return false;
    }
    if (out.stage == HttpOutcome::Stage::no_answer) {
      ledger.ambiguous.push_back(email);
      if (ledger.errors.size() < 5) ledger.errors.push_back(out.error);
      return true;
    }
    ++ledger.statuses[out.response.status];
    if (out.response.status == 303) {
      ledger.acknowledged.push_back(email);
      ++acked_count;
      std::lock_guard plock(pool.mu);
      pool.acked[slot][generation].push_back(email);
    } else if (out.response.status == 503) {
      ledger.ambiguous.push_back(email);
    } else {
      ledger.unexpected.push_back(email);
    }
    return true;
  };
  auto client = [&](int c) {
    std::size_t turn = static_cast<std::size_t>(c);
    for (int i = 0; i < kPerClient && !stop.load(); ++i) {
      const std::string email = "charge-" + std::to_string(c) + "-" + std::to_string(i) + "@example.org";
      // Until a node takes it: a node that is down refuses the connection,
      // and nothing was sent, so the same sign-up goes to the next one.
      for (int attempt = 0; attempt < 200 && !stop.load(); ++attempt) {
        std::size_t slot = 0;
        unsigned short port = 0, generation = 0;
        {
          std::lock_guard lock(pool.mu);
          for (std::size_t k = 0; k < pool.ports.size() && port == 0; ++k) {
            slot = (turn + k) % pool.ports.size();
            port = pool.ports[slot];
            generation = pool.generation[slot];
          }
        }
        ++turn;
        if (port == 0) {
          std::this_thread::sleep_for(10ms);
          continue;
        }
        if (send(email, slot, port, generation)) break;
      }
    }
  };
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) clients.emplace_back(client, c);
  auto stop_clients = [&] {
    stop = true;
    for (auto& t : clients) {
      if (t.joinable()) t.join();
    }
  };

  // A third of the way: intake 1 and keeper 0 die at once, as in a crash.
  const int total = kClients * kPerClient;
  while (acked_count.load() < total / 3 && seconds_since(load_start) < 30) std::this_thread::sleep_for(10ms);
  // Keeper 0 dies in the middle of a fold: when its connection holds the
  // inbox's row lock (items claimed FOR UPDATE SKIP LOCKED, not yet
  // committed), found by its connections' ports (bounded wait).
  bool keeper_mid_fold = false;
  {
    std::string ports;
    for (unsigned p : tcp_local_ports(keepers[0].server->pid())) ports += (ports.empty() ? "" : ",") + std::to_string(p);
    const std::string in_fold =
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.relation = 'rempart.inbox'::regclass AND l.mode = 'RowShareLock' AND a.client_port IN (" +
        (ports.empty() ? std::string("0") : ports) + ")";
    const auto until = Clock::now() + 5s;
    while (!keeper_mid_fold && Clock::now() < until) keeper_mid_fold = db_->number(in_fold) > 0;
  }
  const int acked_before_kill = acked_count.load();
  const double kill_at = seconds_since(load_start);
  const bool keeper_was_running = keepers[0].server->kill9();
  const bool intake_was_running = intakes[1].server->kill9();
  if (!intake_was_running || !keeper_was_running) stop_clients();
  ASSERT_TRUE(intake_was_running) << "intake 1 had stopped before the kill:\n" << intakes[1].server->log();
  ASSERT_TRUE(keeper_was_running) << "keeper 0 had stopped before the kill:\n" << keepers[0].server->log();
  EXPECT_TRUE(keeper_mid_fold) << "keeper 0 was never seen folding in 5 s: killed between two folds";
  // For a moment the clients still try the dead intake (refused); then it
  // is taken out of the pool until it is back.
  std::this_thread::sleep_for(300ms);
  {
    std::lock_guard lock(pool.mu);
    pool.ports[1] = 0;
  }
  const std::string keeper0_first_log = keepers[0].server->log();
  const std::string intake1_first_log = intakes[1].server->log();
  keepers[0] = start_keeper("keeper0-restarted");
  intakes[1] = start_intake("intake1-restarted");
  const bool restarted = ready(intakes[1], "intake") && ready(keepers[0], "console");
  if (!restarted) stop_clients();
  ASSERT_TRUE(restarted) << "a node did not start again:\n"
                         << intakes[1].server->log() << "\n" << keepers[0].server->log();
  {
    std::lock_guard lock(pool.mu);
    pool.ports[1] = intakes[1].port;
    pool.generation[1] = 1;
    pool.acked[1].emplace_back();
  }
  const double restarted_at = seconds_since(load_start);
  // However fast the clients were meanwhile, the restarted intake takes
  // some of the load.
  for (int i = 0; i < 10; ++i) send("relance-" + std::to_string(i) + "@example.org", 1, intakes[1].port, 1);
  const int total_sent = total + 10;

  while (seconds_since(load_start) < std::chrono::duration<double>(kLoadTime).count()) {
    bool all_done = true;
    {
      std::lock_guard lock(ledger.mu);
      all_done = static_cast<int>(ledger.acknowledged.size() + ledger.ambiguous.size() + ledger.unexpected.size()) >=
                 total_sent;
    }
    if (all_done) break;
    std::this_thread::sleep_for(50ms);
  }
  stop_clients();
  const double load_seconds = seconds_since(load_start);

  std::ostringstream summary;
  summary << ledger.acknowledged.size() << " acknowledged, " << ledger.ambiguous.size()
          << " without a sure answer, " << ledger.unexpected.size() << " other answers, " << ledger.not_connected
          << " connections refused (sent again) in " << load_seconds << " s; kill at " << kill_at << " s"
          << (keeper_mid_fold ? " (keeper 0 mid-fold)" : "") << " after "
          << acked_before_kill << " acknowledged, back at " << restarted_at << " s; statuses:";
  for (const auto& [status, n] : ledger.statuses) summary << " " << status << "x" << n;
  for (const auto& e : ledger.errors) summary << "\n  transport: " << e;
  std::cerr << "[multinode] " << summary.str() << "\n";

  EXPECT_TRUE(ledger.unexpected.empty()) << summary.str();
  EXPECT_GE(ledger.acknowledged.size(), 400u) << "too little load to mean anything: " << summary.str();
  EXPECT_LE(ledger.ambiguous.size(), 50u) << summary.str();
  {
    // Work went to every intake, the restarted one included.
    std::lock_guard lock(pool.mu);
    for (std::size_t s = 0; s < 3; ++s) {
      EXPECT_FALSE(pool.acked[s][0].empty()) << "intake " << s << " acknowledged nothing";
    }
    ASSERT_EQ(pool.acked[1].size(), 2u);
    EXPECT_FALSE(pool.acked[1][0].empty()) << "intake 1 acknowledged nothing before it was killed";
    EXPECT_FALSE(pool.acked[1][1].empty()) << "the restarted intake acknowledged nothing";
  }

  ASSERT_TRUE(wait_inbox_empty(90s)) << db_->number("SELECT count(*) FROM rempart.inbox")
                                     << " submissions still in the inbox\n"
                                     << keepers[0].server->log() << keepers[1].server->log();

  // Which of the unsure ones made it: each looked up (0 found, 3 not).
  std::set<std::string> committed(ledger.acknowledged.begin(), ledger.acknowledged.end());
  ASSERT_EQ(committed.size(), ledger.acknowledged.size()) << "an e-mail was acknowledged twice";
  for (const auto& email : ledger.ambiguous) {
    const auto show = run_rempart({"supporters", "show", "--config", config_.string(), "--email", email, "--reason",
                                   "multinode test"});
    ASSERT_TRUE(show.exit_code == 0 || show.exit_code == 3) << email << ": " << show.err;
    if (show.exit_code == 0) committed.insert(email);
  }

  std::cerr << "[multinode] " << committed.size() - ledger.acknowledged.size() << " of the "
            << ledger.ambiguous.size() << " without a sure answer committed\n";

  // Exactly once: as many records as distinct e-mails that committed (the
  // acknowledged ones and the unsure ones found), each created by one fold
  // and never folded again (a second fold of an item would be a merge or an
  // "unchanged" entry); the e-mail blind index is unique.
  const long long supporters = db_->number("SELECT count(*) FROM rempart.supporters");
  EXPECT_EQ(supporters, static_cast<long long>(committed.size())) << summary.str();
  EXPECT_EQ(db_->number("SELECT count(*) FROM rempart.supporters WHERE origin = 'intake'"), supporters);
  EXPECT_EQ(db_->value("SELECT count(*) = count(DISTINCT email_index) FROM rempart.supporters "
                       "WHERE origin = 'intake'"),
            std::optional<std::string>("t"));
  EXPECT_EQ(count_actions("supporter.create"), supporters);
  EXPECT_EQ(db_->number("SELECT count(DISTINCT subject) FROM rempart.audit_entries WHERE action = 'supporter.create'"),
            supporters);
  EXPECT_EQ(count_actions("supporter.merge"), 0);
  EXPECT_EQ(count_actions("supporter.unchanged"), 0);
  EXPECT_EQ(count_actions("intake.reject"), 0);
  {
    const auto count = run_rempart({"supporters", "count", "--config", config_.string()});
    EXPECT_EQ(count.exit_code, 0) << count.err;
    EXPECT_EQ(count.out, std::to_string(supporters) + "\n");
    EXPECT_EQ(count.err.find("waiting in the inbox"), std::string::npos) << count.err;
  }

  // A sample looked up by e-mail: the last ones intake 1 acknowledged before
  // it died, the first ones of its restart, and the last ones of all.
  std::vector<std::string> sample;
  {
    std::lock_guard lock(pool.mu);
    const auto& before = pool.acked[1][0];
    const auto& after = pool.acked[1][1];
    for (std::size_t i = before.size() > 3 ? before.size() - 3 : 0; i < before.size(); ++i) sample.push_back(before[i]);
    for (std::size_t i = 0; i < std::min<std::size_t>(3, after.size()); ++i) sample.push_back(after[i]);
  }
  for (std::size_t i = ledger.acknowledged.size() > 3 ? ledger.acknowledged.size() - 3 : 0;
       i < ledger.acknowledged.size(); ++i) {
    sample.push_back(ledger.acknowledged[i]);
  }
  for (const auto& email : sample) {
    const auto show = run_rempart({"supporters", "show", "--config", config_.string(), "--email", email, "--reason",
                                   "multinode test"});
    EXPECT_EQ(show.exit_code, 0) << email << " was acknowledged and is not found: " << show.err;
    EXPECT_NE(show.out.find(email), std::string::npos) << email;
  }

  // Both keepers folded (keeper 0: before its death or after its restart),
  // and no fold met an item already folded.
  const auto k0 = fold_totals(keeper0_first_log + keepers[0].server->log());
  const auto k1 = fold_totals(keepers[1].server->log());
  std::cerr << "[multinode] keeper 0 folded " << k0.folded << " in " << k0.passes << " passes (restarted), keeper 1 "
            << k1.folded << " in " << k1.passes << " passes\n";
  EXPECT_GT(k0.folded, 0) << "keeper 0 never folded: the work did not spread";
  EXPECT_GT(k1.folded, 0) << "keeper 1 never folded: the work did not spread";
  for (const auto* k : {&k0, &k1}) {
    EXPECT_EQ(k->merged, 0);
    EXPECT_EQ(k->unchanged, 0);
    EXPECT_EQ(k->rejected, 0);
    EXPECT_EQ(k->created, k->folded);
  }
  // A keeper killed after a commit may not have logged it: never more.
  EXPECT_LE(k0.folded + k1.folded, supporters);
  EXPECT_EQ(intake1_first_log.find("ERROR: AddressSanitizer"), std::string::npos) << intake1_first_log;

  for (auto* group : {&intakes, &keepers}) {
    for (auto& n : *group) EXPECT_EQ(n.server->terminate(), 0) << n.server->log();
  }
  expect_audit_ok();
}

// One address sends sign-ups to the three intakes in turn: the database's
// bucket is shared, so together they accept its burst (and what refills
// meanwhile), not three bursts.
// `rempart migrate`: on a database at this binary's version it applies
// nothing, leaves every password as it is (it may run on a host without the
// password files), and the nodes start after it; a schema newer than the
// binary stops both a node and migrate, changing nothing; an administrator
// without the rights is refused with a plain message. (A schema older than
// the binary, which names `rempart migrate`, needs a second migration to
// exist: store_pg_tests checks the message for version 0.)
TEST_F(MultiNode, MigrateKeepsThePasswordsAndRefusesANewerSchema) {
  const std::string verifiers =
      "SELECT string_agg(rolname || ':' || coalesce(rolpassword, ''), ',' ORDER BY rolname) FROM pg_authid "
      "WHERE rolname LIKE 'rempart%'";
  const auto before = db_->value(verifiers);
  ASSERT_TRUE(before) << db_->last_error();
  const fs::path keeper_pass = dir_.path() / "rempart-pg-keeper.pass";
  const std::string keeper_password = read_file(keeper_pass);
  // Away, as on an administrator's own host: migrate must not need it.
  fs::rename(keeper_pass, dir_.path() / "keeper.pass.away");

  const std::vector<std::string> migrate = {"migrate", "--config", config_.string(), "--admin-user", "postgres",
                                            "--admin-password-file", admin_password_file_};
  auto m = run_rempart(migrate);
  EXPECT_EQ(m.exit_code, 0) << m.out << m.err;
  EXPECT_NE(m.out.find("this binary's: nothing to apply"), std::string::npos) << m.out;
  EXPECT_EQ(db_->value(verifiers), before);
  EXPECT_FALSE(fs::exists(keeper_pass));
  fs::rename(dir_.path() / "keeper.pass.away", keeper_pass);
  EXPECT_EQ(read_file(keeper_pass), keeper_password);

  // A newer schema (as an older binary would see it).
  ASSERT_TRUE(db_->value("UPDATE rempart.schema_migrations SET version = version + 100"
                         " WHERE version = (SELECT max(version) FROM rempart.schema_migrations)"))
      << db_->last_error();
  auto refused = run_rempart({"serve", "--config", config_.string(), "--role", "keeper", "--console-listen",
                              "127.0.0.1:0"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("is newer than this binary knows"), std::string::npos) << refused.err;
  m = run_rempart(migrate);
  EXPECT_NE(m.exit_code, 0);
  EXPECT_NE(m.err.find("is newer than this binary knows"), std::string::npos) << m.err;
  EXPECT_EQ(db_->number("SELECT count(*) FROM rempart.schema_migrations WHERE version > 100"), 1);
  ASSERT_TRUE(db_->value("UPDATE rempart.schema_migrations SET version = version - 100 WHERE version > 100"))
      << db_->last_error();

  // The keeper's login user is no administrator: refused, nothing changed.
  m = run_rempart({"migrate", "--config", config_.string(), "--admin-user", kKeeperUser, "--admin-password-file",
                   keeper_pass.string()});
  EXPECT_NE(m.exit_code, 0);
  EXPECT_NE(m.err.find("rempart:"), std::string::npos) << m.err;
  EXPECT_EQ(m.err.find("CREATE"), std::string::npos) << m.err;  // no SQL text
  EXPECT_EQ(db_->value(verifiers), before);

  Node keeper = start_keeper("keeper-after-migrate");
  EXPECT_TRUE(ready(keeper, "console")) << read_file(dir_.path() / "keeper-after-migrate.log");
}

TEST_F(MultiNode, OneAddressOverThreeIntakesIsRateLimitedAsOne) {
  constexpr double kBurst = 10;            // the defaults init wrote
  constexpr double kRatePerSecond = 0.5;   // 30 a minute
  constexpr int kRequests = 30;  // ten per intake: each node's own bucket (ten) never refuses
  ASSERT_NE(read_file(config_).find("rate_per_minute = 30 "), std::string::npos);
  ASSERT_NE(read_file(config_).find("burst = 10\n"), std::string::npos);
  std::vector<Node> intakes;
  for (int i = 0; i < 3; ++i) intakes.push_back(start_intake("intake" + std::to_string(i)));
  for (auto& n : intakes) ASSERT_TRUE(ready(n, "intake")) << n.server->log();

  const std::string one = "127.0.0.3";
  int accepted = 0, limited = 0;
  std::vector<int> limited_by(3, 0);
  const auto start = Clock::now();
  for (int i = 0; i < kRequests; ++i) {
    const std::size_t node = static_cast<std::size_t>(i) % 3;
    const auto out = try_http_request(intakes[node].port, "POST", "/", kForm,
                                      signup_body("limite-" + std::to_string(i) + "@example.org"), {}, one);
    ASSERT_EQ(out.stage, HttpOutcome::Stage::answered) << out.error;
    if (out.response.status == 303) {
      ++accepted;
    } else {
      ASSERT_EQ(out.response.status, 429) << "request " << i;
      EXPECT_EQ(out.response.headers.count("retry-after"), 1u);
      ++limited;
      ++limited_by[node];
    }
  }
  const double elapsed = seconds_since(start);
  const int allowance = static_cast<int>(kBurst + std::floor(elapsed * kRatePerSecond)) + 1;
  std::cerr << "[multinode] one address over three intakes: " << accepted << " accepted, " << limited
            << " limited in " << elapsed << " s (allowance " << allowance << ")\n";
  EXPECT_GE(accepted, static_cast<int>(kBurst));
  EXPECT_LE(accepted, allowance) << "the three intakes did not share the address's bucket (" << elapsed << " s)";
  EXPECT_LT(accepted, 2 * static_cast<int>(kBurst));
  // Each intake alone would have accepted all of its ten (its own bucket
  // holds ten): each refused some because the shared bucket was empty.
  for (std::size_t n = 0; n < 3; ++n) EXPECT_GT(limited_by[n], 0) << "intake " << n << " refused nothing";

  // The same at once: six clients of one other address, two on each intake,
  // sending together (the database's bucket is taken under a row lock).
  {
    const std::string many = "127.0.0.5";
    std::atomic<int> ok{0}, refused{0}, other{0};
    std::vector<std::thread> senders;
    const auto at_once = Clock::now();
    for (int t = 0; t < 6; ++t) {
      senders.emplace_back([&, t] {
        for (int i = 0; i < 5; ++i) {
          const auto out = try_http_request(
              intakes[static_cast<std::size_t>(t) % 3].port, "POST", "/", kForm,
              signup_body("ensemble-" + std::to_string(t) + "-" + std::to_string(i) + "@example.org"), {}, many);
          if (out.stage != HttpOutcome::Stage::answered) {
            ++other;
          } else if (out.response.status == 303) {
            ++ok;
          } else if (out.response.status == 429) {
            ++refused;
          } else {
            ++other;
          }
        }
      });
    }
    for (auto& t : senders) t.join();
    const double took = seconds_since(at_once);
    const int allowed = static_cast<int>(kBurst + std::floor(took * kRatePerSecond)) + 1;
    std::cerr << "[multinode] six clients of one address at once: " << ok << " accepted, " << refused
              << " limited in " << took << " s (allowance " << allowed << ")\n";
    EXPECT_EQ(other.load(), 0);
    EXPECT_GE(ok.load(), static_cast<int>(kBurst));
    EXPECT_LE(ok.load(), allowed) << "concurrent requests of one address got past the shared bucket";
  }

  // The limit is the address's, not everyone's: another one is served.
  const auto other = try_http_request(intakes[0].port, "POST", "/", kForm, signup_body("autre@example.org"), {},
                                      "127.0.0.4");
  ASSERT_EQ(other.stage, HttpOutcome::Stage::answered) << other.error;
  EXPECT_EQ(other.response.status, 303);
  // The buckets live in the database (hashed addresses only).
  EXPECT_GE(db_->number("SELECT count(*) FROM rempart.intake_rate"), 1) << db_->last_error();

  for (auto& n : intakes) EXPECT_EQ(n.server->terminate(), 0) << n.server->log();
}

// A console account's session, signed in on keeper 0 and used on both
// keepers; an intake and a few records to reveal.
struct StolenSession {
  Node intake;
  std::vector<Node> keepers;
  unsigned short k0 = 0, k1 = 0;
  std::string cookie, csrf;
  std::vector<std::string> ids;  // the records' ids

  std::map<std::string, std::string> headers() const { return {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}; }
  HttpOutcome reveal(unsigned short port, std::size_t n, const std::string& field = "email") const {
    return try_http_request(port, "POST", "/api/v1/supporters/" + ids[n % ids.size()] + "/reveal",
                            "application/json", R"({"fields":[")" + field + R"("],"reason":"multinode test"})",
                            headers());
  }
  HttpOutcome me(unsigned short port) const {
    return try_http_request(port, "GET", "/api/v1/me", "", "", {{"Cookie", cookie}});
  }
};

class MultiNodeConsole : public MultiNode {
 protected:
  // An organiser "orga" whose e-mail reveals are budgeted `email_budget` an
  // hour, signed in on keeper 0; the thief holds the cookie.
  void steal_a_session(StolenSession& t, int email_budget) {
    edit_config([email_budget](std::string c) {
      c = set_key(c, "guard", "email_per_hour", std::to_string(email_budget));
      return set_key(c, "keeper", "fold_interval_ms", "50");
    });
    const std::string password = "Correct-Horse-Battery-42";
    const auto add = run_rempart_input(
        {"admin", "add", "orga", "--role", "organiser", "--password-stdin", "--config", config_.string()},
        password + "\n");
    ASSERT_EQ(add.exit_code, 0) << add.err;
    std::smatch secret_match;
    ASSERT_TRUE(std::regex_search(add.out, secret_match, std::regex("secret=([A-Z2-7]+)")))
        << "admin add printed no otpauth URI";
    const std::string secret = secret_match[1];

    t.intake = start_intake("intake");
    for (int i = 0; i < 2; ++i) t.keepers.push_back(start_keeper("keeper" + std::to_string(i)));
    ASSERT_TRUE(ready(t.intake, "intake")) << t.intake.server->log();
    for (auto& n : t.keepers) ASSERT_TRUE(ready(n, "console")) << n.server->log();
    t.k0 = t.keepers[0].port;
    t.k1 = t.keepers[1].port;

    // A few records to reveal.
    constexpr int kPeople = 5;
    for (int i = 0; i < kPeople; ++i) {
      const auto r = try_http_request(t.intake.port, "POST", "/", kForm,
                                      signup_body("revele-" + std::to_string(i) + "@example.org"));
      ASSERT_EQ(r.stage, HttpOutcome::Stage::answered) << r.error;
      ASSERT_EQ(r.response.status, 303);
    }
    ASSERT_TRUE(wait_inbox_empty(30s));
    ASSERT_EQ(db_->number("SELECT count(*) FROM rempart.supporters"), kPeople);

    // Signed in on keeper 0, both steps, as a person does.
    auto first = try_http_request(t.k0, "POST", "/login", kForm, "name=orga&password=" + password);
    ASSERT_EQ(first.stage, HttpOutcome::Stage::answered) << first.error;
    ASSERT_EQ(first.response.status, 200);
    std::smatch pending;
    ASSERT_TRUE(std::regex_search(first.response.body, pending,
                                  std::regex("name=\"pending\" value=\"([A-Za-z0-9_-]+)\"")));
    const auto code = run_program({kOathtool, "--totp", "-b", secret});
    ASSERT_EQ(code.exit_code, 0) << "oathtool: " << code.err;
    const std::string totp = code.out.substr(0, code.out.find('\n'));
    auto second = try_http_request(t.k0, "POST", "/login/code", kForm,
                                   "pending=" + std::string(pending[1]) + "&code=" + totp);
    ASSERT_EQ(second.stage, HttpOutcome::Stage::answered) << second.error;
    ASSERT_EQ(second.response.status, 303) << "sign-in refused";
    const std::string set_cookie = second.response.headers["set-cookie"];
    t.cookie = set_cookie.substr(0, set_cookie.find(';'));
    ASSERT_EQ(t.cookie.rfind("rempart_session=", 0), 0u);

    // The thief has the cookie: keeper 1 accepts it too (sessions live in
    // the database), with the same CSRF token.
    for (auto port : {t.k0, t.k1}) {
      const auto me = t.me(port);
      ASSERT_EQ(me.stage, HttpOutcome::Stage::answered) << me.error;
      ASSERT_EQ(me.response.status, 200) << "keeper on port " << port << " refused the session";
      std::smatch m;
      ASSERT_TRUE(std::regex_search(me.response.body, m, std::regex("\"csrf_token\":\"([A-Za-z0-9_-]+)\"")));
      if (t.csrf.empty()) t.csrf = m[1];
      EXPECT_EQ(t.csrf, m[1].str());
    }
    const auto list = try_http_request(t.k1, "GET", "/api/v1/supporters?limit=10", "", "", {{"Cookie", t.cookie}});
    ASSERT_EQ(list.stage, HttpOutcome::Stage::answered);
    ASSERT_EQ(list.response.status, 200);
    static const std::regex id_re("\"id\":\"([0-9a-f]{32})\"");
    const std::string& body = list.response.body;
    for (auto it = std::sregex_iterator(body.begin(), body.end(), id_re); it != std::sregex_iterator(); ++it) {
      t.ids.push_back((*it)[1]);
    }
    ASSERT_EQ(t.ids.size(), static_cast<std::size_t>(kPeople));
  }

  void stop(StolenSession& t) {
    EXPECT_EQ(t.intake.server->terminate(), 0) << t.intake.server->log();
    for (auto& n : t.keepers) EXPECT_EQ(n.server->terminate(), 0) << n.server->log();
  }
};

// The session of a console account, stolen, used on both keepers at once:
// its reveals are counted in one budget in the database, so the two
// keepers together serve exactly the budget, then the account is locked
// and the session ends on both.
TEST_F(MultiNodeConsole, AStolenSessionGetsOneBudgetAcrossBothKeepers) {
  constexpr int kBudget = 4;  // e-mail reveals an hour
  StolenSession t;
  ASSERT_NO_FATAL_FAILURE(steal_a_session(t, kBudget));

  // One reveal on each keeper, in turn ...
  std::vector<int> served(2, 0);
  for (std::size_t k = 0; k < 2; ++k) {
    const auto r = t.reveal(k == 0 ? t.k0 : t.k1, k);
    ASSERT_EQ(r.stage, HttpOutcome::Stage::answered) << r.error;
    ASSERT_EQ(r.response.status, 200) << "keeper " << k;
    ++served[k];
  }
  // ... then as fast as it can, two threads on each keeper at once.
  std::mutex mu;
  std::map<int, int> refusals;
  std::vector<std::thread> thieves;
  for (int n = 0; n < 4; ++n) {
    thieves.emplace_back([&, n] {
      const std::size_t k = static_cast<std::size_t>(n) % 2;
      for (int i = 0; i < 3 * kBudget; ++i) {
        const auto r = t.reveal(k == 0 ? t.k0 : t.k1, static_cast<std::size_t>(n + i));
        std::lock_guard lock(mu);
        if (r.stage != HttpOutcome::Stage::answered) {
          ++refusals[-1];
          return;
        }
        if (r.response.status != 200) {
          ++refusals[r.response.status];
          return;
        }
        ++served[k];
      }
    });
  }
  for (auto& th : thieves) th.join();
  std::ostringstream seen;
  seen << "served by keeper 0: " << served[0] << ", by keeper 1: " << served[1] << "; refusals:";
  for (const auto& [status, n] : refusals) seen << " " << status << "x" << n;
  seen << "; guard.lock entries: " << count_actions("guard.lock");
  std::cerr << "[multinode] stolen session: " << seen.str() << "\n";
  EXPECT_EQ(served[0] + served[1], kBudget) << seen.str();
  EXPECT_EQ(refusals.count(-1), 0u) << seen.str();
  EXPECT_GE(refusals[403], 1) << "the request that crossed the budget is answered 403: " << seen.str();
  for (const auto& [status, n] : refusals) EXPECT_TRUE(status == 403 || status == 401) << seen.str();
  EXPECT_EQ(count_actions("supporter.reveal"), kBudget);

  // Locked, and the session is over on both keepers.
  EXPECT_EQ(db_->value("SELECT locked || ' ' || lock_reason FROM rempart.accounts WHERE name = 'orga'"),
            std::optional<std::string>("1 guard: reveal_budget"));
  EXPECT_GE(count_actions("guard.lock"), 1);
  for (auto port : {t.k0, t.k1}) {
    const auto me = t.me(port);
    ASSERT_EQ(me.stage, HttpOutcome::Stage::answered) << me.error;
    EXPECT_EQ(me.response.status, 401) << "keeper on port " << port << " still accepts the session";
    const auto r = t.reveal(port, 0);
    ASSERT_EQ(r.stage, HttpOutcome::Stage::answered) << r.error;
    EXPECT_EQ(r.response.status, 401);
  }
  EXPECT_EQ(count_actions("supporter.reveal"), kBudget);

  stop(t);
  expect_audit_ok();
}

// Reproduces a bug in rempart, reported and not fixed yet: DISABLED until
// it is (run it with --gtest_also_run_disabled_tests). E-mail reveals cross
// their budget while name reveals (a budget of their own, far from crossed)
// run at the same time on both keepers. The request that crosses locks the
// account and ends its sessions, yet name reveals already in flight are
// still served and recorded after the lock: the console checks the session
// (AccountService::validate_session, its own transaction) before the
// transaction that charges and reveals (Directory::reveal), which never
// checks again that the account is unlocked and the session alive. With
// eight console workers per keeper it fails every time here (1 to 11
// reveals after the lock); it happens on one SQLite node as well.
TEST_F(MultiNodeConsole, NoRevealIsServedAfterTheLock) {
  constexpr int kBudget = 4;
  edit_config([](std::string c) { return set_key(c, "console", "workers", "8"); });
  StolenSession t;
  ASSERT_NO_FATAL_FAILURE(steal_a_session(t, kBudget));
  std::mutex mu;
  std::map<std::string, int> outcome;
  std::vector<std::thread> thieves;
  for (int n = 0; n < 16; ++n) {
    thieves.emplace_back([&, n] {
      const unsigned short port = n % 2 == 0 ? t.k0 : t.k1;
      const std::string field = n < 4 ? "email" : "name";
      for (int i = 0; i < 40; ++i) {
        const auto r = t.reveal(port, static_cast<std::size_t>(n + i), field);
        std::lock_guard lock(mu);
        if (r.stage != HttpOutcome::Stage::answered) {
          ++outcome[field + " no answer"];
          return;
        }
        ++outcome[field + " " + std::to_string(r.response.status)];
        if (r.response.status != 200) return;
      }
    });
  }
  for (auto& th : thieves) th.join();
  std::ostringstream seen;
  for (const auto& [k, n] : outcome) seen << k << " x" << n << "; ";
  const auto after = db_->number(
      "SELECT count(*) FROM rempart.audit_entries WHERE action = 'supporter.reveal' AND seq > "
      "(SELECT min(seq) FROM rempart.audit_entries WHERE action = 'guard.lock')");
  seen << "guard.lock entries: " << count_actions("guard.lock") << "; reveals recorded after the first lock: " << after;
  std::cerr << "[multinode] " << seen.str() << "\n";
  EXPECT_EQ(after, 0) << seen.str();
  stop(t);
}

}  // namespace
}  // namespace rempart::test
