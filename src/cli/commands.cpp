#include "cli/selfcheck_settings.hpp"
#include "cli/commands.hpp"

#include <array>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include <pthread.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "i18n/i18n.hpp"
#include "audit/blast_radius.hpp"
#include "audit/chain.hpp"
#include "audit/chain_watch.hpp"
#include "audit/checkpoint.hpp"
#include "audit/verify.hpp"
#include "cli/config.hpp"
#include "cli/keeper_access.hpp"
#include "cli/key_versions_command.hpp"
#include "cli/pg_setup.hpp"
#include "cli/progress.hpp"
#include "core/hex.hpp"
#include "core/mutex.hpp"
#include "core/validate.hpp"
#include "crypto/keyring.hpp"
#include "crypto/secret.hpp"
#include "http/intake_routes.hpp"
#include "http/server.hpp"
#include "console/console.hpp"
#include "services/audit_reader.hpp"
#include "services/directory.hpp"
#include "services/disk_reserve.hpp"
#include "services/folder.hpp"
#include "services/retention.hpp"
#include "services/rewrap.hpp"
#include "services/records.hpp"
#include "services/importer.hpp"
#include "services/intake_writer.hpp"
#include "services/synth.hpp"
#include "services/vault.hpp"
#include "store/backends.hpp"
#include "store/postgres/migrations.hpp"
#include "store/sqlite/migrations.hpp"

namespace rempart::cli {
namespace {

namespace fs = std::filesystem;

// The sign-up rate limit all intake nodes share, where the backend keeps
// one (store::SignupLimiter): a few connections, one per request at a time.
// Keys (client addresses) reach the database hashed, and only for as long
// as their bucket is not full again. If the database cannot answer, the
// node's own bucket decides.
class SharedSignupLimit final : public http::SharedRateLimit {
 public:
  // nullptr when the backend keeps no shared limit.
  static Result<std::unique_ptr<SharedSignupLimit>> open(store::Backend& backend, double rate, double burst,
                                                         unsigned threads) {
    auto first = backend.open_signup_limiter();
    if (!first) return std::unexpected(first.error());
    if (!*first) return std::unique_ptr<SharedSignupLimit>();
    auto out = std::unique_ptr<SharedSignupLimit>(new SharedSignupLimit(rate, burst));
    out->free_.push_back(std::move(*first));
    const unsigned n = std::clamp(threads == 0 ? std::thread::hardware_concurrency() : threads, 1U, 16U);
    for (unsigned i = 1; i < n; ++i) {
      auto more = backend.open_signup_limiter();
      if (!more) return std::unexpected(more.error());
      out->free_.push_back(std::move(*more));
    }
    return out;
  }

  std::optional<http::RateDecision> acquire(std::string_view key) override {
    // After a failure, the node's own bucket decides for a few seconds: a
    // server that does not answer is not waited for by every sign-up.
    if (std::chrono::steady_clock::now().time_since_epoch().count() < skip_until_.load()) return std::nullopt;
    std::unique_ptr<store::SignupLimiter> limiter;
    {
      MutexLock lock(mu_);
      if (free_.empty()) return std::nullopt;  // every connection busy: the node's bucket decides
      limiter = std::move(free_.back());
      free_.pop_back();
    }
    std::array<unsigned char, 16> digest{};
    crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                       nullptr, 0);
    auto wait = limiter->take(core::to_hex(digest), rate_, burst_);
    {
      MutexLock lock(mu_);
      free_.push_back(std::move(limiter));
    }
    if (!wait) {
      const auto now = std::chrono::steady_clock::now();
      skip_until_.store((now + std::chrono::seconds(5)).time_since_epoch().count());
      spdlog::warn("intake: the shared sign-up limit did not answer ({}); this node's own limit applies for 5 s",
                   errc_name(wait.error().code));
      return std::nullopt;
    }
    if (*wait <= 0) return http::RateDecision{true, std::chrono::seconds{0}};
    return http::RateDecision{false, std::chrono::seconds{std::max<long long>(1, static_cast<long long>(std::ceil(*wait)))}};
  }

 private:
  SharedSignupLimit(double rate, double burst) : rate_(rate), burst_(burst) {}
  const double rate_;
  const double burst_;
  std::atomic<std::int64_t> skip_until_{0};  // steady_clock ticks
  Mutex mu_;
  std::vector<std::unique_ptr<store::SignupLimiter>> free_ REMPART_GUARDED_BY(mu_);
};

const char* consent_word(bool yes, bool refused) { return yes ? "yes" : refused ? "no" : "unknown"; }

void print_person(const services::Supporter& s, bool json) {
  const auto& p = s.person;
  const char* email_consent = consent_word(p.consent.email, p.consent.email_refused);
  const char* sms_consent = consent_word(p.consent.sms, p.consent.sms_refused);
  if (json) {
    nlohmann::json j = {{"given_name", p.given_name}, {"family_name", p.family_name}, {"email", p.email},
                        {"phone", p.phone},           {"street", p.street},
                        {"postal_code", p.postal_code}, {"locality", p.locality},
                        {"country", p.country},       {"tags", p.tags},
                        {"consent", {{"email", p.consent.email}, {"sms", p.consent.sms}}},
                        {"consent_state", {{"email", email_consent}, {"sms", sms_consent}}},
                        {"created_at", s.created_at}, {"updated_at", s.updated_at}};
    std::cout << j.dump() << "\n";
    return;
  }
  auto line = [](const char* k, const std::string& v) {
    if (!v.empty()) std::cout << k << v << "\n";
  };
  line("given name:  ", p.given_name);
  line("family name: ", p.family_name);
  line("email:       ", p.email);
  line("phone:       ", p.phone);
  {
    std::string_view rest = p.street;  // lines, '\n'-joined
    for (const char* k = "street:      "; !rest.empty(); k = "             ") {
      const auto nl = rest.find('\n');
      line(k, std::string(rest.substr(0, nl)));
      rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    }
  }
  line("postal code: ", p.postal_code);
  line("locality:    ", p.locality);
  line("country:     ", p.country);
  std::string tags;
  for (const auto& t : p.tags) tags += (tags.empty() ? "" : ", ") + t;
  line("tags:        ", tags);
  std::cout << "consent:     email " << email_consent << ", sms " << sms_consent << "\n";
}


}  // namespace

int report(const Error& e) {
  std::cerr << "rempart: " << e.internal << "\n";
  return e.code == Errc::invalid_input || e.code == Errc::config ? 2 : 1;
}

// "operator:<unix user>": who runs a CLI command, for the audit log.
std::string operator_actor() {
  const passwd* pw = ::getpwuid(::geteuid());
  return "operator:" + (pw != nullptr && pw->pw_name != nullptr ? std::string(pw->pw_name)
                                                                  : std::to_string(::geteuid()));
}

void setup_logging(const std::string& level) {
  static bool done = false;
  if (!done) {
    auto logger = spdlog::stderr_logger_mt("rempart");
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
    done = true;
  }
  spdlog::set_level(spdlog::level::from_str(level));
}

namespace {

// The configuration in force, as a fingerprint: a change seen at start-up
// shows in the log without the file's content (which names paths) in it.
std::string config_fingerprint(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::array<std::uint8_t, 32> h{};
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const unsigned char*>(text.data()), text.size(), nullptr, 0);
  return audit::to_hex(h);
}

Result<void> record_service_event(store::KeeperStore& st, const crypto::KeeperKeyring& keys, std::string_view action,
                                  const ServeArgs& a, const Config& c) {
  const char* role = a.role == Role::all ? "all" : a.role == Role::keeper ? "keeper" : "intake";
  nlohmann::json details = {{"role", role}, {"version", "0.1.0"}, {"pid", ::getpid()}};
  if (action == audit::action::service_start) {
    details["config_blake2b"] = config_fingerprint(a.config);
    details["checkpoint_file"] = !c.audit.checkpoint_file.empty();
    details["checkpoint_syslog"] = c.audit.checkpoint_syslog;
    details["verify_seconds"] = c.audit.verify_seconds;
    details["key_version"] = keys.current().version;
    // The schema the keeper's store is at: opening it brought it to this
    // binary's last migration (SQLite) or found it exactly there
    // (PostgreSQL). A start on another schema than the last start's is a
    // schema change (`rempart incident changes`).
    details["schema_version"] = c.backend == "postgresql" ? store::postgres::embedded_migrations().back().version
                                                          : store::sqlite::embedded_migrations().back().version;
  }
  return st.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto e = audit::record(tx, keys, audit::Event{std::string(audit::kKeeperActor), std::string(action), "",
                                                  std::move(details), ""});
    if (!e) return std::unexpected(e.error());
    return {};
  });
}

}  // namespace

int run_init(const InitArgs& a) {
  ::umask(077);
  Config c;
  c.data_dir = fs::absolute(a.data_dir).lexically_normal();
  c.keys_dir = fs::absolute(a.keys_dir).lexically_normal();
  c.intake.default_region = a.region;
  auto listen = parse_listen(a.listen);
  if (!listen) return report(listen.error());
  c.intake_listen = *listen;
  auto console_listen = parse_listen(a.console_listen);
  if (!console_listen) return report(console_listen.error());
  c.console.listen = *console_listen;
  c.audit.checkpoint_file = a.checkpoints.empty() ? c.keys_dir.parent_path() / "rempart-audit.checkpoints"
                                                  : fs::absolute(a.checkpoints).lexically_normal();
  if (a.backend == "postgresql") {
    c.backend = a.backend;
    c.dsn = a.dsn;
    // Beside the key directory, as the checkpoints: outside the data.
    c.keeper_password_file = c.keys_dir.parent_path() / "rempart-pg-keeper.pass";
    c.intake_password_file = c.keys_dir.parent_path() / "rempart-pg-intake.pass";
    if (!a.keeper_user.empty()) c.keeper_user = a.keeper_user;
    if (!a.intake_user.empty()) c.intake_user = a.intake_user;
  } else if (a.backend != "sqlite") {
    return report(Error{Errc::config, "--backend must be sqlite or postgresql"});
  } else if (!a.dsn.empty() || a.print_sql || !a.keeper_user.empty() || !a.intake_user.empty()) {
    return report(Error{Errc::config, "--dsn, --print-sql and the users are for --backend postgresql"});
  }
  if (a.print_sql) {
    // Checked as serve would, then shown: nothing is written.
    if (auto r = parse_config(render_config(c), a.config); !r) return report(r.error());
    std::cout << postgres_setup_sql(c);
    return 0;
  }
  if (auto r = check_layout(c); !r) return report(r.error());
  if (fs::exists(a.config)) {
    std::cerr << "rempart: " << a.config.string() << " already exists; refusing to overwrite it\n";
    return 1;
  }
  // Validate what we are about to write with the same parser serve uses.
  if (auto r = parse_config(render_config(c), a.config); !r) return report(r.error());
  if (auto r = crypto::init(); !r) return report(r.error());

  std::error_code ec;
  fs::create_directories(c.data_dir, ec);
  if (ec) return report(Error{Errc::io, "cannot create data directory " + c.data_dir.string()});
  fs::permissions(c.data_dir, fs::perms::owner_all, ec);
  if (ec) return report(Error{Errc::io, "cannot set mode 0700 on " + c.data_dir.string()});
  if (auto r = crypto::create_keyrings(c.keys_dir); !r) return report(r.error());
  if (c.backend == "postgresql") {
    auto v = setup_postgres(c, PgSetupArgs{a.admin_user, a.admin_password_file});
    if (!v) return report(v.error());
    std::cout << "rempart: the database's schema is at version " << *v << "; the keeper connects as "
              << c.keeper_user << ", the intake as " << c.intake_user << "\n";
  }
  // Create the schema now so that an intake-only node can start on it
  // (postgresql: check that both roles can connect).
  {
    auto backend = store::open_backend(c.storage());
    if (!backend) return report(backend.error());
    if (auto st = (*backend)->open_keeper(); !st) return report(st.error());
    if (auto st = (*backend)->open_inbox(); !st) return report(st.error());
  }
  {
    // The checkpoint file exists from the start, so `audit verify` can
    // tell "never written" from "deleted".
    fs::create_directories(c.audit.checkpoint_file.parent_path(), ec);
    std::ofstream touch(c.audit.checkpoint_file, std::ios::app);
    if (!touch) return report(Error{Errc::io, "cannot create " + c.audit.checkpoint_file.string()});
  }

  {
    std::ofstream out(a.config, std::ios::trunc);
    out << render_config(c);
    if (!out) return report(Error{Errc::io, "cannot write " + a.config.string()});
  }
  std::cout << "rempart: wrote " << a.config.string() << "\n"
            << "  data: " << c.data_dir.string() << " (mode 0700)\n"
            << "  keys: " << c.keys_dir.string() << " (keeper.keyring: every secret; intake.keyring: the public "
               "sealing key only)\n"
            << "  audit checkpoints: " << c.audit.checkpoint_file.string() << " (append-only; keep a copy off this host)\n";
  if (c.backend == "postgresql") {
    std::cout << "  database passwords: " << c.keeper_password_file.string() << " (keeper), "
              << c.intake_password_file.string() << " (intake); mode 0600, give each to its role only\n";
  }
  std::cout << "Back up the key directory separately from the data: without it the data cannot be read.\n";
  return 0;
}

int run_migrate(const MigrateArgs& a) {
  auto c = load_config(a.config);
  if (!c) return report(c.error());
  if (c->backend != "postgresql") {
    if (!a.admin_user.empty() || !a.admin_password_file.empty()) {
      return report(Error{Errc::config, "--admin-user and --admin-password-file are for a PostgreSQL store"});
    }
    if (auto r = crypto::init(); !r) return report(r.error());
    // Opening the keeper's store applies what is pending, in one transaction.
    auto backend = store::open_backend(c->storage());
    if (!backend) return report(backend.error());
    if (auto st = (*backend)->open_keeper(); !st) return report(st.error());
    std::cout << "rempart: the SQLite store is at this binary's schema version (the keeper also migrates it "
                 "when it starts)\n";
    return 0;
  }
  auto m = migrate_postgres(*c, PgSetupArgs{a.admin_user, a.admin_password_file});
  if (!m) return report(m.error());
  if (m->before == m->after) {
    std::cout << "rempart: the database's schema is at version " << m->after << ", this binary's: nothing to apply\n";
  } else {
    std::cout << "rempart: the database's schema went from version " << m->before << " to " << m->after
              << "; the keepers and intakes of this version may start\n";
  }
  return 0;
}

namespace {

// The disk reserve of a serving process ([storage].disk_reserve_mib). On
// SQLite it watches the filesystem of the inbox file (a packaged inbox is a
// link into a shared directory: followed), the one the intake fills; on
// PostgreSQL the inbox is on the server, whose disk no node can read, and
// it watches the data directory's own files (exports) only. Logs what it
// found, sizes only.
Result<std::unique_ptr<services::DiskReserve>> open_disk_reserve(const Config& c, guard::Alerter* alerter) {
  services::DiskReserveOptions o;
  o.reserve = static_cast<std::uint64_t>(c.disk_reserve_mib) << 20;
  o.guards_inbox = c.backend == "sqlite";
  std::error_code ec;
  const fs::path inbox = c.data_dir / "inbox.db";
  const fs::path watched = o.guards_inbox && fs::exists(inbox, ec) ? inbox : c.data_dir;
  auto r = services::DiskReserve::open(watched, o, alerter);
  if (!r) return r;
  const auto now = (*r)->reading();
  const double mib = 1024.0 * 1024.0;
  if (o.reserve == 0) {
    spdlog::warn("disk: no reserve ([storage].disk_reserve_mib = 0): the intake writes until the disk is full");
  } else if (o.guards_inbox) {
    spdlog::info("disk: {:.1f} MiB free on the inbox's filesystem; the intake refuses sign-ups below {} MiB "
                 "(and takes them again from {:.1f} MiB)",
                 now.free ? static_cast<double>(*now.free) / mib : -1.0, c.disk_reserve_mib,
                 static_cast<double>(now.resume) / mib);
  } else {
    spdlog::info("disk: {:.1f} MiB free on the data directory's filesystem, reserve {} MiB (the inbox is on the "
                 "database server: watch its disk there)",
                 now.free ? static_cast<double>(*now.free) / mib : -1.0, c.disk_reserve_mib);
  }
  return r;
}

}  // namespace

int run_serve(const ServeArgs& a) {
  ::umask(077);
  // Signals are taken by sigwait below, never by a worker thread: block them
  // before any thread starts so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto c = load_config(a.config);
  if (!c) return report(c.error());
  setup_logging(c->log_level);
  i18n::set_default(*i18n::parse(c->default_language));  // checked by parse_config
  if (auto r = load_intake_logo(*c); !r) return report(r.error());
  if (a.listen) {
    auto l = parse_listen(*a.listen);
    if (!l) return report(l.error());
    c->intake_listen = *l;
  }
  if (a.console_listen) {
    auto l = parse_listen(*a.console_listen);
    if (!l) return report(l.error());
    c->console.listen = *l;
  }
  if (auto r = check_layout(*c); !r) return report(r.error());
  if (auto r = check_data_dir(c->data_dir); !r) return report(r.error());
  if (auto r = crypto::init(); !r) return report(r.error());

  const bool intake = a.role != Role::keeper;
  const bool keeper = a.role != Role::intake;
  auto opened = store::open_backend(c->storage());
  if (!opened) return report(opened.error());
  const std::unique_ptr<store::Backend> backend = std::move(*opened);

  // Keeper side: the only place the private keys are loaded.
  KeySource keeper_key_source;  // the token that opens keeper.keyring, if any: outlives the keys
  std::optional<crypto::KeeperKeyring> keeper_keys;
  std::optional<services::Vault> keeper_vault;  // the one unseal point, over keeper_keys
  std::unique_ptr<store::KeeperStore> keeper_store;
  std::unique_ptr<store::InboxStore> keeper_inbox;
  // Declared before the fold loop, whose passes use them: they outlive it.
  std::unique_ptr<guard::Alerter> alerter;
  std::unique_ptr<services::DiskReserve> disk_reserve;  // the intake's routes and the fold loop ask it
  std::unique_ptr<services::Folder> folder;
  std::unique_ptr<services::FoldLoop> fold_loop;
  std::atomic<std::int64_t> inbox_backlog{-1};  // the fold loop's last count, for the dashboard
  std::unique_ptr<audit::Checkpointer> checkpointer;
  std::unique_ptr<audit::ChainWatch> chain_watch;
  std::unique_ptr<audit::ChainPatrol> chain_patrol;
  std::unique_ptr<mail::SmtpTransport> mail_transport;
  std::unique_ptr<store::KeeperStore> mail_store;
  std::unique_ptr<services::MailSender> mail_sender;
  std::unique_ptr<services::MailingSender> mailing_sender;
  std::unique_ptr<services::MailLoop> mail_loop;
  std::unique_ptr<store::KeeperStore> bounce_store;
  std::unique_ptr<services::BounceReader> bounce_reader;
  std::unique_ptr<services::BounceLoop> bounce_loop;
  std::unique_ptr<store::KeeperStore> retention_store;
  std::unique_ptr<services::Retention> retention;
  std::unique_ptr<services::RetentionLoop> retention_loop;
  std::unique_ptr<store::KeeperStore> rewrap_store;
  std::unique_ptr<services::Rewrapper> rewrapper;
  std::unique_ptr<services::RewrapLoop> rewrap_loop;
  std::unique_ptr<KeyFileWatch> keeper_key_watch;
  if (keeper) {
    auto source = open_key_source(*c);
    if (!source) return report(source.error());
    keeper_key_source = std::move(*source);
    auto keys = keeper_key_source.load(c->keys_dir);
    if (!keys) return report(keys.error());
    keeper_keys.emplace(std::move(*keys));
    keeper_vault.emplace(*keeper_keys);
    // The fold's own commits checkpoint the WAL when due, pausing the fold
    // (not the intake: a checkpoint holds no write lock). Handed to a
    // thread of the store instead (store::KeeperUse::bulk), the fold
    // went on committing while the checkpoint's writes and sync competed
    // with its own, and the sign-ups' p99 under `serve --role all` rose
    // from 23.9-25.5 ms to 33.8-36.3 ms (docs/benchmarks.md, "Checkpoints").
    std::size_t moved = 0;
    auto st = backend->open_keeper(store::KeeperUse::serve, &moved);
    if (!st) return report(st.error());
    keeper_store = std::move(*st);
    if (moved != 0) spdlog::info("keeper: moved {} waiting submissions an older version left into the inbox", moved);
    auto inbox = backend->open_inbox();
    if (!inbox) return report(inbox.error());
    keeper_inbox = std::move(*inbox);
    folder = std::make_unique<services::Folder>(*keeper_keys, *keeper_store, *keeper_inbox, c->intake);
    if (c->mail) {
      // Mail to supporters: its own store and thread, so that a slow relay
      // never holds the fold up (docs/supporter-mail.md).
      auto t = mail::SmtpTransport::create(c->mail->smtp);
      if (!t) return report(t.error());
      mail_transport = std::move(*t);
      auto ms = backend->open_keeper();
      if (!ms) return report(ms.error());
      mail_store = std::move(*ms);
      folder->set_mail(c->mail->supporter);
      mail_sender = std::make_unique<services::MailSender>(*keeper_vault, *mail_store, *mail_transport,
                                                           c->mail->supporter);
      mailing_sender = std::make_unique<services::MailingSender>(*keeper_vault, *mail_store, *mail_transport,
                                                                 c->mail->supporter, c->mailings);
      mail_loop = std::make_unique<services::MailLoop>(*mail_sender, *mail_store, std::chrono::seconds(1),
                                                       mailing_sender.get());
      spdlog::info("keeper: mailing supporters through the [mail] relay, at most {} messages a minute",
                   c->mail->supporter.per_minute);
      if (c->bounces) {
        // The bounce mailbox: its own store and thread (docs/mailings.md).
        auto box = mail::ImapMailbox::create(c->bounces->imap);
        if (!box) return report(box.error());
        auto bs = backend->open_keeper();
        if (!bs) return report(bs.error());
        bounce_store = std::move(*bs);
        bounce_reader = std::make_unique<services::BounceReader>(*keeper_keys, *bounce_store, *c->bounces);
        bounce_loop = std::make_unique<services::BounceLoop>(*bounce_reader, std::move(*box), std::chrono::seconds(60),
                                                             c->bounces->poll);
        spdlog::info("keeper: reading bounces and complaints from the [bounces] mailbox every {} s",
                     c->bounces->poll.count());
      } else {
        spdlog::info("keeper: no [bounces]: bounces and complaints are not read");
      }
    } else {
      spdlog::info("keeper: no [mail]: no confirmation or other mail is sent to supporters");
    }
    {
      // Retention: an hour after start, then daily, on a store of its own.
      auto rs = backend->open_keeper();
      if (!rs) return report(rs.error());
      retention_store = std::move(*rs);
      retention = std::make_unique<services::Retention>(*retention_store, *keeper_keys, *keeper_vault, c->retention);
      retention_loop = std::make_unique<services::RetentionLoop>(*retention, std::chrono::hours(1),
                                                                 std::chrono::hours(24));
    }
    {
      // Rotation (docs/key-custody.md): a new keeper.keyring is taken
      // within a second, and the records are moved to its current version
      // in the background, on a store of their own, at a bounded rate.
      auto rw = backend->open_keeper();
      if (!rw) return report(rw.error());
      rewrap_store = std::move(*rw);
      rewrapper = std::make_unique<services::Rewrapper>(*keeper_keys, *rewrap_store);
      rewrap_loop = std::make_unique<services::RewrapLoop>(*rewrapper, *keeper_keys,
                                                               static_cast<double>(c->rewrap_per_second));
      keeper_key_watch = std::make_unique<KeyFileWatch>(
          c->keys_dir / crypto::kKeeperKeyringFile, std::chrono::seconds(1),
          [&keeper_keys, &keeper_key_source, dir = c->keys_dir] {
            auto fresh = crypto::load_keeper_keyring(dir, keeper_key_source.seal());
            if (!fresh) {
              spdlog::error("keeper: keeper.keyring changed but does not load ({}); keeping the keys in use",
                            errc_name(fresh.error().code));
              return;
            }
            for (const crypto::KeySet& set : fresh->all()) {
              const crypto::KeySet* mine = keeper_keys->version(set.version);
              if (set.retired && mine != nullptr && !mine->retired) {
                spdlog::warn("keeper: key version {} is retired in keeper.keyring; this keeper holds its keys in "
                             "memory until it restarts",
                             set.version);
              }
            }
            auto added = keeper_keys->adopt(std::move(*fresh));
            if (!added) {
              spdlog::error("keeper: keeper.keyring changed but is refused: {}", added.error().internal);
            } else if (*added != 0) {
              spdlog::info("keeper: key version {} taken from keeper.keyring; records are moved to it in the background",
                           keeper_keys->current().version);
            }
          });
    }
    checkpointer = make_checkpointer(*c, *keeper_keys, *keeper_store);
    if (c->audit.checkpoint_file.empty()) {
      spdlog::warn("keeper: no [audit].checkpoint_file: a truncated or rolled-back audit log would go unnoticed");
    }
    if (auto r = record_service_event(*keeper_store, *keeper_keys, audit::action::service_start, a, *c); !r) {
      return report(r.error());
    }
    auto al = guard::Alerter::start(c->alerts);
    if (!al) return report(al.error());
    alerter = std::move(*al);
    auto disk = open_disk_reserve(*c, alerter.get());
    if (!disk) return report(disk.error());
    disk_reserve = std::move(*disk);
    // Runs on the fold loop's thread, which owns keeper_store from here on.
    // Records older than their search tokens get them a chunk per pass. The
    // disk reserve is read again when due, so that a crossing is seen (and
    // alerted) while no sign-up comes.
    auto after_pass = [cp = checkpointer.get(), st = keeper_store.get(), inbox = keeper_inbox.get(),
                       backlog = &inbox_backlog, indexer = services::RecordWriter(*keeper_keys),
                       disk = disk_reserve.get()] {
      disk->check_if_due();
      if (auto n = inbox->count(); n) backlog->store(*n, std::memory_order_relaxed);
      if (auto r = cp->maybe(audit::now_us()); !r) {
        spdlog::error("keeper: audit checkpoint failed ({}): {}", errc_name(r.error().code), r.error().internal);
      }
      if (auto n = indexer.index_backlog(*st, 2000); !n) {
        spdlog::error("keeper: computing search tokens failed ({}): {}", errc_name(n.error().code),
                      n.error().internal);
      } else if (*n != 0) {
        spdlog::info("keeper: computed the search tokens of {} records", *n);
      }
    };
    fold_loop = std::make_unique<services::FoldLoop>(*folder, std::chrono::milliseconds(c->fold_interval_ms),
                                                     c->fold_batch, after_pass);
    spdlog::info("keeper: folding the inbox every {} ms", c->fold_interval_ms);

    // The whole audit chain, read again in the background on its own store;
    // a fault is a critical alert (seqs and counts only).
    const std::chrono::seconds verify_every(c->audit.verify_seconds);
    chain_watch = std::make_unique<audit::ChainWatch>(verify_every);
    auto patrol_store = backend->open_keeper();
    if (!patrol_store) return report(patrol_store.error());
    audit::VerifyOptions vo;
    if (!c->audit.checkpoint_file.empty()) vo.checkpoint_file = c->audit.checkpoint_file;
    chain_patrol = std::make_unique<audit::ChainPatrol>(
        *chain_watch, std::move(*patrol_store), *keeper_keys, vo, verify_every,
        [al = alerter.get()](const audit::VerifyReport& r) {
          guard::Alert alert;
          alert.severity = guard::Severity::critical;
          alert.kind = "audit_chain";
          alert.actor = std::string(audit::kKeeperActor);
          alert.reason = "the audit log does not verify: entries edited, removed or rolled back";
          alert.details = {{"faults", r.fault_count}, {"first_seq", r.first() ? r.first()->seq : 0},
                           {"last_seq", r.last_seq}};
          al->raise(std::move(alert));
        });
    spdlog::info("keeper: reading the whole audit chain every {} s", c->audit.verify_seconds);
  }

  // The console: keeper side only, on its own address.
  std::unique_ptr<console::Console> console;
  std::unique_ptr<http::Server> console_server;
  if (keeper && c->console.enabled) {
    console::ConsoleOptions co;
    co.hostnames = c->console.hostnames;
    co.selfcheck = std::make_shared<const services::selfcheck::Settings>(selfcheck_settings(*c));
    co.listen_host = c->console.listen.host;
    co.tls = c->console.tls.enabled();
    co.default_region = c->intake.default_region;
    co.workers = c->console.workers;
    co.checkpoint_file = c->audit.checkpoint_file.string();
    co.alerter = alerter.get();
    co.chain_watch = chain_watch.get();
    co.inbox_backlog = &inbox_backlog;
    co.disk_reserve = disk_reserve.get();
    if (c->mail) co.mail = c->mail->supporter;
    co.mailings = c->mailings;
    co.mail_configured = c->mail.has_value();
    co.transport = mail_transport.get();
    const auth::AuthOptions ao = auth_options(*c);
    store::Backend* stores = backend.get();
    const crypto::KeeperKeyring* keys = &*keeper_keys;
    const services::Vault* vault = &*keeper_vault;
    const guard::Budgets* budgets = &c->budgets;
    const services::ExportOptions xo = c->exports;
    const std::string region = c->intake.default_region;
    auto made = console::Console::start(co, *keeper_keys,
                                        [stores, keys, vault, ao, budgets, xo, region]() -> Result<std::unique_ptr<console::Worker>> {
      auto st = stores->open_keeper();
      if (!st) return std::unexpected(st.error());
      auto w = std::make_unique<console::Worker>();
      w->store = std::move(*st);
      w->accounts = std::make_unique<auth::AccountService>(*w->store, *keys, ao);
      w->directory = std::make_unique<services::Directory>(*w->store, *vault, budgets);
      w->casework = std::make_unique<services::Casework>(*w->store, *vault, budgets, region);
      w->calls = std::make_unique<services::CallLists>(*w->store, *vault, budgets);
      w->exports = std::make_unique<services::Exports>(*w->store, *vault, xo);
      return w;
    });
    if (!made) return report(made.error());
    console = std::move(*made);
    http::ServerOptions so;
    so.address = c->console.listen.host;
    so.port = c->console.listen.port;
    so.threads = 2;
    if (c->console.tls.enabled()) so.tls = http::TlsOptions{c->console.tls.certificate, c->console.tls.key};
    auto s = http::Server::start(so, console->handler(), console->error_renderer());
    if (!s) return report(s.error());
    console_server = std::move(*s);
    spdlog::info("console listening on {}:{}{}", c->console.listen.host, console_server->port(),
                 c->console.tls.enabled() ? " (TLS)" : "");
  }

  // Intake side: holds the public sealing key and a write-only store.
  std::unique_ptr<SharedSignupLimit> shared_limit;  // outlives routes
  std::unique_ptr<services::IntakeWriter> writer;
  std::unique_ptr<KeyFileWatch> intake_key_watch;  // before the writer goes
  std::unique_ptr<http::IntakeRoutes> routes;
  std::unique_ptr<http::Server> server;
  if (intake) {
    auto keys = crypto::load_intake_keyring(c->keys_dir);
    if (!keys) return report(keys.error());
    auto st = backend->open_intake();
    if (!st) return report(st.error());
    auto w = services::IntakeWriter::start(*keys, std::move(*st));
    if (!w) return report(w.error());
    writer = std::move(*w);
    intake_key_watch = std::make_unique<KeyFileWatch>(
        c->keys_dir / crypto::kIntakeKeyringFile, std::chrono::seconds(1), [&writer, dir = c->keys_dir] {
          auto fresh = crypto::load_intake_keyring(dir);
          if (!fresh) {
            spdlog::error("intake: intake.keyring changed but does not load ({}); sealing to the key in use",
                          errc_name(fresh.error().code));
            return;
          }
          if (fresh->version < writer->key_version()) {
            spdlog::error("intake: intake.keyring changed to an older key version ({}); sealing to version {}",
                          fresh->version, writer->key_version());
            return;
          }
          if (fresh->version == writer->key_version()) return;
          writer->use_keys(*fresh);
          spdlog::info("intake: sealing to key version {} from intake.keyring", fresh->version);
        });
    http::IntakeRoutesOptions ro;
    if (c->backend == "sqlite") {
      // The intake's own reading of the inbox's filesystem: with the roles
      // split it refuses by itself, and has no alert sink (the keeper on
      // the same host watches the same filesystem and alerts).
      if (!disk_reserve) {
        auto disk = open_disk_reserve(*c, nullptr);
        if (!disk) return report(disk.error());
        disk_reserve = std::move(*disk);
      }
      ro.inbox_room = disk_reserve.get();
    }
    ro.intake = c->intake;
    ro.allowed_origins = c->allowed_origins;
    ro.rate_per_second = c->rate_per_minute / 60.0;
    ro.burst = c->burst;
    ro.confirmation_mail = c->mail.has_value();
    {
      auto shared = SharedSignupLimit::open(*backend, ro.rate_per_second, ro.burst, c->threads);
      if (!shared) return report(shared.error());
      shared_limit = std::move(*shared);
      ro.shared_rate_limit = shared_limit.get();
    }
    auto rt = http::IntakeRoutes::create(ro, *writer);
    if (!rt) return report(rt.error());
    routes = std::move(*rt);
    http::ServerOptions so;
    so.address = c->intake_listen.host;
    so.port = c->intake_listen.port;
    so.threads = c->threads;
    if (c->intake_tls.enabled()) so.tls = http::TlsOptions{c->intake_tls.certificate, c->intake_tls.key};
    auto s = http::Server::start(so, routes->handler(), routes->error_renderer());
    if (!s) return report(s.error());
    server = std::move(*s);
    spdlog::info("intake listening on {}:{}", c->intake_listen.host, server->port());
  }

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("stopping: finishing in-flight work");
  if (server) server->stop();
  if (console_server) console_server->stop();
  if (console) console->stop();
  chain_patrol.reset();
  if (alerter) alerter->stop();
  intake_key_watch.reset();
  keeper_key_watch.reset();
  if (writer) writer->stop();
  if (fold_loop) fold_loop->stop();
  if (rewrap_loop) rewrap_loop->stop();
  if (mail_loop) mail_loop->stop();
  if (bounce_loop) bounce_loop->stop();
  if (retention_loop) retention_loop->stop();
  if (checkpointer) {
    // The loop's thread has ended: the store is this thread's again.
    if (auto r = record_service_event(*keeper_store, *keeper_keys, audit::action::service_stop, a, *c); !r) {
      spdlog::error("keeper: cannot record the stop in the audit log: {}", r.error().internal);
    }
    if (auto r = checkpointer->force(audit::now_us()); !r) {
      spdlog::error("keeper: final audit checkpoint failed: {}", r.error().internal);
    }
  }
  spdlog::info("stopped");
  return 0;
}

int run_count(const fs::path& config) {
  auto k = open_keeper(config);
  if (!k) return report(k.error());
  auto n = k->store->count_supporters();
  if (!n) return report(n.error());
  auto inbox_store = k->backend->open_inbox();
  if (!inbox_store) return report(inbox_store.error());
  auto inbox = (*inbox_store)->count();
  if (!inbox) return report(inbox.error());
  std::cout << *n << "\n";
  if (*inbox != 0) std::cerr << "rempart: " << *inbox << " submissions are still waiting in the inbox\n";
  return 0;
}

int run_show(const ShowArgs& a) {
  if (a.email.empty() == a.phone.empty()) {
    std::cerr << "rempart: give exactly one of --email or --phone\n";
    return 2;
  }
  auto k = open_keeper(a.config);
  if (!k) return report(k.error());
  std::string kind, value;
  if (!a.email.empty()) {
    auto e = core::normalize_email(a.email);
    if (!e) {
      std::cerr << "rempart: --email is not a valid address (" << e.error() << ")\n";
      return 2;
    }
    kind = "email";
    value = *e;
  } else {
    auto p = core::normalize_phone(a.phone, k->config.intake.default_region);
    if (!p) {
      std::cerr << "rempart: --phone is not a valid number (" << p.error() << ")\n";
      return 2;
    }
    kind = "phone";
    value = *p;
  }
  // The reveal's audit entry is committed before anything is printed.
  auto s = k->vault().reveal_by_contact(*k->store, operator_actor(), kind, value, a.reason);
  if (!s) return report(s.error());
  k->checkpoint_on_exit();
  if (!*s) {
    std::cerr << "rempart: no supporter with that " << kind << "\n";
    return 3;
  }
  print_person(**s, a.json);
  return 0;
}

int run_synth(const SynthArgs& a) {
  auto k = open_keeper(a.config, KeeperUse::bulk);
  if (!k) return report(k.error());
  ProgressBar bar(true);
  services::SynthOptions opts;
  opts.count = a.count;
  opts.phones = a.phones.value_or(std::min<std::uint64_t>(20000, a.count));
  opts.seed = a.seed;
  opts.actor = operator_actor();
  opts.progress = [&](std::uint64_t done) {
    bar.draw(static_cast<double>(done) / static_cast<double>(std::max<std::uint64_t>(1, a.count)),
             std::to_string(done) + " supporters");
  };
  auto r = services::synth_supporters(*k->store, k->keys, opts);
  bar.finish();
  k->checkpoint_on_exit();
  if (!r) return report(r.error());
  std::cout << "rempart: " << r->created << " synthetic supporters created, " << r->merged + r->unchanged
            << " already present\n";
  return 0;
}

int run_retention(const RetentionArgs& a) {
  auto k = open_keeper(a.config, a.run && !a.dry_run ? KeeperUse::bulk : KeeperUse::brief);
  if (!k) return report(k.error());
  const services::Vault vault = k->vault();
  services::Retention retention(*k->store, k->keys, vault, k->config.retention);
  const auto& o = k->config.retention;
  auto r = a.run ? retention.run(unix_now(), operator_actor(), a.dry_run) : retention.report(unix_now());
  k->checkpoint_on_exit();
  if (!r) return report(r.error());
  const char* verb = !a.run ? "would be" : a.dry_run ? "would be" : "were";
  auto line = [&](const char* what, std::int64_t n, std::int64_t limit, const char* unit) {
    std::cout << "rempart: " << what << ": ";
    if (limit == 0) {
      std::cout << "off\n";
    } else {
      std::cout << n << " " << verb << " " << (std::string_view(what).starts_with("phone") ? "dropped" : "erased")
                << " (after " << limit << " " << unit << ")\n";
    }
  };
  line("records without activity", r->inactive, o.record_months, "months");
  line("phone numbers without activity", r->phone, o.phone_months, "months");
  line("sign-ups never confirmed", r->unconfirmed, o.unconfirmed_days, "days");
  return 0;
}

int run_reindex(const ReindexArgs& a) {
  auto k = open_keeper(a.config, KeeperUse::bulk);
  if (!k) return report(k.error());
  std::int64_t queued = 0;
  auto q = k->store->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto n = tx.queue_all_for_search_tokens();
    if (!n) return std::unexpected(n.error());
    queued = *n;
    return {};
  });
  if (!q) return report(q.error());
  if (a.queue_only) {
    std::cout << "rempart: " << queued << " records queued for their search tokens; serve computes them between "
                 "folds\n";
    return 0;
  }
  // Every record is on the backlog now (honeytokens too): the whole table
  // is the amount of work, whatever was queued before.
  auto total = k->store->count_supporters();
  if (!total) return report(total.error());
  ProgressBar bar(a.progress);
  const services::RecordWriter indexer(k->keys);
  std::int64_t done = 0;
  std::size_t moved = 0;
  for (;;) {
    auto n = indexer.index_backlog(*k->store, kReindexChunk, &moved);
    if (!n) {
      bar.finish();
      k->checkpoint_on_exit();
      std::cerr << "rempart: computed the search tokens of " << done
                << " records, then failed; the rest stay on the backlog for serve or another run\n";
      return report(n.error());
    }
    if (*n == 0) break;
    done += static_cast<std::int64_t>(*n);
    bar.draw(static_cast<double>(std::min(done, *total)) / static_cast<double>(std::max<std::int64_t>(1, *total)),
             std::to_string(done) + " records");
    k->store->make_way();  // a serving keeper's fold gets its turn between chunks
  }
  bar.finish();
  k->checkpoint_on_exit();
  std::cout << "rempart: " << queued << " records queued, the search tokens of " << done << " records computed";
  if (moved > 0) std::cout << "; the e-mail and phone indexes of " << moved << " moved to the current blind-index key";
  std::cout << "\n";
  return 0;
}

// ---- audit ---------------------------------------------------------------

std::optional<std::int64_t> parse_time(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (text.find_first_not_of("0123456789") == std::string::npos) {
    if (text.size() > 12) return std::nullopt;
    return std::stoll(text) * 1'000'000;
  }
  std::tm tm{};
  for (const char* fmt : {"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M",
                          "%Y-%m-%d"}) {
    tm = std::tm{};
    const char* end = ::strptime(text.c_str(), fmt, &tm);
    if (end != nullptr && *end == '\0') return static_cast<std::int64_t>(::timegm(&tm)) * 1'000'000;
  }
  return std::nullopt;
}

std::string format_time(std::int64_t at_us) {
  const std::int64_t secs = at_us >= 0 ? at_us / 1'000'000 : (at_us - 999'999) / 1'000'000;
  const auto micros = at_us - secs * 1'000'000;
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(micros));
  return buf;
}

Result<std::pair<std::int64_t, std::int64_t>> time_window(const std::string& since, const std::string& until) {
  std::int64_t from = std::numeric_limits<std::int64_t>::min(), to = std::numeric_limits<std::int64_t>::max();
  if (!since.empty()) {
    auto t = parse_time(since);
    if (!t) return fail(Errc::invalid_input, "--since must be unix seconds or YYYY-MM-DD[THH:MM[:SS]][Z] (UTC)");
    from = *t;
  }
  if (!until.empty()) {
    auto t = parse_time(until);
    if (!t) return fail(Errc::invalid_input, "--until must be unix seconds or YYYY-MM-DD[THH:MM[:SS]][Z] (UTC)");
    to = *t;
  }
  if (from >= to) return fail(Errc::invalid_input, "--since must be before --until");
  return std::pair{from, to};
}

namespace {

std::string csv_cell(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Entries are written by rempart itself (ASCII JSON, names and ids), but a
// terminal still gets nothing it would interpret.
std::string printable(const std::string& v) {
  std::string out;
  for (char c : v) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return out;
}

}  // namespace

// The actor an --actor option names (services::resolve_audit_actor), or the
// refusal as a usage error naming the option, never the text given unless
// it is a valid account name.
Result<std::string> actor_option(store::KeeperStore& st, const std::string& given) {
  auto r = services::resolve_audit_actor(st, given);
  if (r || r.error().code != Errc::invalid_input) return r;
  if (r.error().internal == services::kAuditActorUnknown) {
    return fail(Errc::invalid_input, "--actor: no account is named '" + given +
                                         "' (give an account name, or the actor as the log writes it: "
                                         "account:<id>, token:<n>, operator:<user>, keeper)");
  }
  if (r.error().internal == services::kAuditActorInvalid) {
    return fail(Errc::invalid_input,
                "--actor must be an account name ([a-z0-9._-]{1,64}) or the actor as the log writes it "
                "(account:<id>, token:<n>, operator:<user>, keeper)");
  }
  return r;
}

int run_audit_verify(const AuditVerifyArgs& a) {
  auto k = open_keeper(a.config);
  if (!k) return report(k.error());
  audit::VerifyOptions opts;
  if (a.checkpoints) {
    opts.checkpoint_file = *a.checkpoints;
  } else if (!k->config.audit.checkpoint_file.empty()) {
    opts.checkpoint_file = k->config.audit.checkpoint_file;
  }
  auto r = audit::verify(*k->store, k->keys, opts);
  if (!r) return report(r.error());
  const double rate = r->seconds > 0 ? static_cast<double>(r->entries) / r->seconds : 0;
  std::cout << "rempart: " << r->entries << " entries (last seq " << r->last_seq << "), " << r->db_checkpoints
            << " checkpoints in the database, ";
  if (r->file_read) {
    std::cout << r->file_checkpoints << " in " << opts.checkpoint_file->string() << "\n";
  } else {
    std::cout << "no outside checkpoint file\n";
  }
  std::cout << "rempart: verified in " << std::fixed << std::setprecision(3) << r->seconds << " s ("
            << std::setprecision(0) << rate << " entries/s)\n";
  for (const auto& rp : r->restores) {
    std::cout << "rempart: entry " << rp.seq << " records a restore from a backup of seq " << rp.seq - 1 << " taken "
              << format_time(rp.backup_taken_at_us)
              << (rp.confirmed ? "" : " (the checkpoint file holds no checkpoint of it: it explains nothing)") << "\n";
  }
  if (r->set_aside > 0) {
    std::cout << "rempart: " << r->set_aside << " checkpoint(s) of the file, up to seq " << r->set_aside_last_seq
              << ", were signed for the log a recorded restore replaced: set aside\n";
  }
  if (!r->ok()) {
    const auto* first = r->first();
    std::cout << "rempart: audit log FAILED verification: " << r->fault_count << " fault(s)\n";
    std::cout << "first bad entry: seq " << first->seq << ": " << first->reason << "\n";
    for (std::size_t i = 1; i < r->faults.size() && i < 10; ++i) {
      std::cout << "  also: seq " << r->faults[i].seq << ": " << r->faults[i].reason << "\n";
    }
    return 1;
  }
  if (!r->file_read) {
    std::cout << "rempart: warning: without outside checkpoints a truncated or rolled-back log cannot be detected\n";
  }
  if (r->covered_seq < r->last_seq) {
    std::cout << "rempart: note: entries " << r->covered_seq + 1 << ".." << r->last_seq
              << " are not yet covered by a checkpoint\n";
  }
  std::cout << "rempart: audit log OK\n";
  return 0;
}

int run_audit_checkpoint(const fs::path& config) {
  auto k = open_keeper(config);
  if (!k) return report(k.error());
  auto r = k->checkpointer()->force(audit::now_us());
  if (!r) return report(r.error());
  if (!*r) {
    std::cout << "rempart: nothing new to sign\n";
  } else {
    std::cout << audit::format_checkpoint(**r) << "\n";
  }
  return 0;
}

int run_audit_query(const AuditQueryArgs& a) {
  if (a.format != "table" && a.format != "jsonl" && a.format != "csv") {
    std::cerr << "rempart: --format must be table, jsonl or csv\n";
    return 2;
  }
  auto w = time_window(a.since, a.until);
  if (!w) return report(w.error());
  auto k = open_keeper(a.config);
  if (!k) return report(k.error());
  auto actor = actor_option(*k->store, a.actor);
  if (!actor) return report(actor.error());
  auto names = services::account_names(*k->store);
  if (!names) return report(names.error());
  const auto name_of = [&](const std::string& who) -> const std::string* {
    const auto it = names->find(who);
    return it == names->end() ? nullptr : &it->second;
  };
  store::AuditFilter f{*actor, a.action, a.record, w->first, w->second};
  if (a.format == "csv") std::cout << "seq,time,actor,action,client,subject,details\n";
  if (a.format == "table") {
    std::cout << std::left << std::setw(8) << "seq" << "  " << std::setw(27) << "time" << "  " << std::setw(24)
              << "actor" << "  " << std::setw(22) << "action" << "  " << std::setw(32) << "subject" << "  details\n";
  }
  std::size_t n = 0;
  auto r = k->store->scan_audit_filtered(f, [&](const store::AuditEntryRow& e) {
    if (a.format == "jsonl") {
      nlohmann::json j = {{"seq", e.seq},         {"time", format_time(e.at)}, {"at_us", e.at},
                          {"actor", e.actor},     {"action", e.action},        {"client", e.client},
                          {"subject", e.subject}, {"key_version", e.key_version}};
      const auto* name = name_of(e.actor);
      j["actor_name"] = name ? nlohmann::json(*name) : nlohmann::json(nullptr);
      auto d = nlohmann::json::parse(e.details, nullptr, false);
      j["details"] = d.is_discarded() ? nlohmann::json(e.details) : d;
      std::cout << j.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace) << "\n";
    } else if (a.format == "csv") {
      std::cout << e.seq << "," << format_time(e.at) << "," << csv_cell(e.actor) << "," << csv_cell(e.action) << ","
                << csv_cell(e.client) << "," << csv_cell(e.subject) << "," << csv_cell(e.details) << "\n";
    } else {
      std::cout << std::left << std::setw(8) << e.seq << "  " << std::setw(27) << format_time(e.at) << "  "
                << std::setw(24) << printable(name_of(e.actor) ? *name_of(e.actor) : e.actor) << "  "
                << std::setw(22) << printable(e.action) << "  "
                << std::setw(32) << printable(e.subject) << "  " << printable(e.details) << "\n";
    }
    ++n;
    return a.limit == 0 || n < a.limit;
  });
  if (!r) return report(r.error());
  if (a.format == "table") std::cerr << "rempart: " << n << " entries\n";
  return 0;
}

int run_audit_blast_radius(const AuditBlastArgs& a) {
  if (!a.actor.empty() && !a.token.empty()) {
    std::cerr << "rempart: give --actor or --token, not both\n";
    return 2;
  }
  if (a.token.empty() && a.actor.empty() && a.since.empty() && a.session.empty()) {
    std::cerr << "rempart: give --actor, --token, --session or --since\n";
    return 2;
  }
  auto w = time_window(a.since, a.until);
  if (!w) return report(w.error());
  auto k = open_keeper(a.config);
  if (!k) return report(k.error());
  std::string actor = "token:" + a.token;
  if (a.token.empty()) {
    auto named = actor_option(*k->store, a.actor);
    if (!named) return report(named.error());
    actor = std::move(*named);
  }
  const auto started = std::chrono::steady_clock::now();
  auto b = audit::blast_radius(*k->store, {actor, w->first, w->second, a.session});
  if (!b) return report(b.error());
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();

  // Reading who was exposed is itself recorded (counts only).
  nlohmann::json details = {{"actor", actor},
                            {"session", a.session},
                            {"revealed", b->revealed.size()},
                            {"masked_only", b->masked_only.size()},
                            {"opened_only", b->opened_only.size()},
                            {"csv", a.csv.has_value()}};
  if (!a.since.empty()) details["since_us"] = w->first;
  if (!a.until.empty()) details["until_us"] = w->second;
  auto rec = k->store->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto e = audit::record(tx, k->keys, audit::Event{operator_actor(), std::string(audit::action::audit_blast_radius),
                                                     "", std::move(details), ""});
    if (!e) return std::unexpected(e.error());
    return {};
  });
  if (!rec) return report(rec.error());
  k->checkpoint_on_exit();

  auto fields_of = [](const audit::Exposure& e) {
    std::string f;
    for (const auto& x : e.fields) f += (f.empty() ? "" : "+") + x;
    return f;
  };
  auto actors_of = [](const audit::Exposure& e) {
    std::string f;
    for (const auto& x : e.actors) f += (f.empty() ? "" : " ") + x;
    return f;
  };
  std::cout << "rempart: blast radius of " << (actor.empty() ? "every actor" : actor);
  if (!a.since.empty()) std::cout << " since " << format_time(w->first);
  if (!a.until.empty()) std::cout << " until " << format_time(w->second);
  std::cout << "\n" << audit::summary(*b) << "\n";
  if (!b->revealed.empty()) std::cout << "\nrevealed or exported:\n";
  for (const auto& e : b->revealed) {
    std::cout << "  " << e.record << "  " << std::left << std::setw(24) << fields_of(e) << "  " << format_time(e.first_at)
              << " .. " << format_time(e.last_at) << "  x" << e.times << "  " << printable(actors_of(e)) << "\n";
  }
  if (!b->masked_only.empty()) std::cout << "\nseen masked only:\n";
  for (const auto& e : b->masked_only) {
    std::cout << "  " << e.record << "  " << format_time(e.first_at) << " .. " << format_time(e.last_at) << "  x"
              << e.times << "  " << printable(actors_of(e)) << "\n";
  }
  if (!b->opened_only.empty()) std::cout << "\nopened inside the keeper, shown to nobody:\n";
  for (const auto& e : b->opened_only) {
    std::cout << "  " << e.record << "  " << format_time(e.first_at) << " .. " << format_time(e.last_at) << "  x"
              << e.times << "  " << printable(actors_of(e)) << "\n";
  }
  if (b->malformed != 0) std::cout << "warning: " << b->malformed << " entries had unreadable details\n";
  if (a.csv) {
    std::ofstream out(*a.csv, std::ios::trunc);
    out << "record_id,exposure,fields,first_seen,last_seen\n";
    for (const auto& e : b->revealed) {
      out << e.record << ",revealed," << fields_of(e) << "," << format_time(e.first_at) << ","
          << format_time(e.last_at) << "\n";
    }
    for (const auto& e : b->masked_only) {
      out << e.record << ",masked,," << format_time(e.first_at) << "," << format_time(e.last_at) << "\n";
    }
    for (const auto& e : b->opened_only) {
      out << e.record << ",opened,," << format_time(e.first_at) << "," << format_time(e.last_at) << "\n";
    }
    if (!out) return report(Error{Errc::io, "cannot write " + a.csv->string()});
    std::cout << "rempart: wrote " << b->revealed.size() + b->masked_only.size() + b->opened_only.size()
              << " record ids to "
              << a.csv->string() << "\n";
  }
  std::cerr << "rempart: answered in " << std::fixed << std::setprecision(1) << ms << " ms\n";
  return 0;
}

}  // namespace rempart::cli
