#include "cli/commands.hpp"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/config.hpp"
#include "core/validate.hpp"
#include "crypto/keyring.hpp"
#include "crypto/secret.hpp"
#include "http/intake_routes.hpp"
#include "http/server.hpp"
#include "services/folder.hpp"
#include "services/importer.hpp"
#include "services/intake_writer.hpp"
#include "services/synth.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace rempart::cli {
namespace {

namespace fs = std::filesystem;

int report(const Error& e) {
  std::cerr << "rempart: " << e.internal << "\n";
  return e.code == Errc::invalid_input || e.code == Errc::config ? 2 : 1;
}

// Key files must never sit where a copy of the data directory (a backup, a
// stolen disk image of the data volume) would take them along.
Result<void> check_layout(const Config& c) {
  if (crypto::path_is_within(c.keys_dir, c.data_dir) || crypto::path_is_within(c.data_dir, c.keys_dir)) {
    return fail(Errc::config, "the key directory must not be inside the data directory (nor the reverse): keys " +
                                  c.keys_dir.string() + ", data " + c.data_dir.string());
  }
  return {};
}

Result<void> check_data_dir(const fs::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return fail(Errc::not_found, "data directory " + dir.string() + " is missing: run `rempart init`");
  if ((st.st_mode & 077) != 0) {
    return fail(Errc::permission, "data directory " + dir.string() + " is open to group or others: chmod 700 it");
  }
  return {};
}

struct Keeper {
  Config config;
  crypto::KeeperKeyring keys;
  std::unique_ptr<store::KeeperStore> store;
};

Result<Keeper> open_keeper(const fs::path& config_file) {
  auto c = load_config(config_file);
  if (!c) return std::unexpected(c.error());
  setup_logging(c->log_level);
  if (auto r = check_layout(*c); !r) return std::unexpected(r.error());
  if (auto r = check_data_dir(c->data_dir); !r) return std::unexpected(r.error());
  if (auto r = crypto::init(); !r) return std::unexpected(r.error());
  auto keys = crypto::load_keeper_keyring(c->keys_dir);
  if (!keys) return std::unexpected(keys.error());
  auto st = store::open_sqlite_keeper(c->database());
  if (!st) return std::unexpected(st.error());
  return Keeper{std::move(*c), std::move(*keys), std::move(*st)};
}

void print_person(const services::Supporter& s, bool json) {
  const auto& p = s.person;
  if (json) {
    nlohmann::json j = {{"given_name", p.given_name}, {"family_name", p.family_name}, {"email", p.email},
                        {"phone", p.phone},           {"postal_code", p.postal_code}, {"locality", p.locality},
                        {"country", p.country},       {"tags", p.tags},
                        {"consent", {{"email", p.consent.email}, {"sms", p.consent.sms}}},
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
  line("postal code: ", p.postal_code);
  line("locality:    ", p.locality);
  line("country:     ", p.country);
  std::string tags;
  for (const auto& t : p.tags) tags += (tags.empty() ? "" : ", ") + t;
  line("tags:        ", tags);
  std::cout << "consent:     email " << (p.consent.email ? "yes" : "no") << ", sms " << (p.consent.sms ? "yes" : "no")
            << "\n";
}

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled && ::isatty(STDERR_FILENO) == 1) {}
  void draw(double fraction, const std::string& suffix) {
    if (!enabled_) return;
    constexpr int width = 30;
    const int filled = static_cast<int>(fraction * width);
    std::string bar(static_cast<std::size_t>(std::clamp(filled, 0, width)), '#');
    bar.resize(width, ' ');
    std::fprintf(stderr, "\r[%s] %3d%% %s", bar.c_str(), static_cast<int>(fraction * 100), suffix.c_str());
    std::fflush(stderr);
  }
  void finish() {
    if (enabled_) std::fprintf(stderr, "\n");
  }

 private:
  bool enabled_;
};

}  // namespace

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

int run_init(const InitArgs& a) {
  ::umask(077);
  Config c;
  c.data_dir = fs::absolute(a.data_dir).lexically_normal();
  c.keys_dir = fs::absolute(a.keys_dir).lexically_normal();
  c.intake.default_region = a.region;
  auto listen = parse_listen(a.listen);
  if (!listen) return report(listen.error());
  c.intake_listen = *listen;
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
  // Create the schema now so that an intake-only node can start on it.
  if (auto st = store::open_sqlite_keeper(c.database()); !st) return report(st.error());

  {
    std::ofstream out(a.config, std::ios::trunc);
    out << render_config(c);
    if (!out) return report(Error{Errc::io, "cannot write " + a.config.string()});
  }
  std::cout << "rempart: wrote " << a.config.string() << "\n"
            << "  data: " << c.data_dir.string() << " (mode 0700)\n"
            << "  keys: " << c.keys_dir.string() << " (keeper.keyring: every secret; intake.keyring: the public "
               "sealing key only)\n"
            << "Back up the key directory separately from the data: without it the data cannot be read.\n";
  return 0;
}

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
  if (a.listen) {
    auto l = parse_listen(*a.listen);
    if (!l) return report(l.error());
    c->intake_listen = *l;
  }
  if (auto r = check_layout(*c); !r) return report(r.error());
  if (auto r = check_data_dir(c->data_dir); !r) return report(r.error());
  if (auto r = crypto::init(); !r) return report(r.error());

  const bool intake = a.role != Role::keeper;
  const bool keeper = a.role != Role::intake;

  // Keeper side: the only place the private keys are loaded.
  std::optional<crypto::KeeperKeyring> keeper_keys;
  std::unique_ptr<store::KeeperStore> keeper_store;
  std::unique_ptr<services::Folder> folder;
  std::unique_ptr<services::FoldLoop> fold_loop;
  if (keeper) {
    auto keys = crypto::load_keeper_keyring(c->keys_dir);
    if (!keys) return report(keys.error());
    keeper_keys.emplace(std::move(*keys));
    auto st = store::open_sqlite_keeper(c->database());
    if (!st) return report(st.error());
    keeper_store = std::move(*st);
    folder = std::make_unique<services::Folder>(*keeper_keys, *keeper_store, c->intake);
    fold_loop = std::make_unique<services::FoldLoop>(*folder, std::chrono::milliseconds(c->fold_interval_ms),
                                                     c->fold_batch);
    spdlog::info("keeper: folding the inbox every {} ms", c->fold_interval_ms);
  }

  // Intake side: holds the public sealing key and a write-only store.
  std::unique_ptr<services::IntakeWriter> writer;
  std::unique_ptr<http::IntakeRoutes> routes;
  std::unique_ptr<http::Server> server;
  if (intake) {
    auto keys = crypto::load_intake_keyring(c->keys_dir);
    if (!keys) return report(keys.error());
    auto st = store::open_sqlite_intake(c->database());
    if (!st) return report(st.error());
    auto w = services::IntakeWriter::start(*keys, std::move(*st));
    if (!w) return report(w.error());
    writer = std::move(*w);
    http::IntakeRoutesOptions ro;
    ro.intake = c->intake;
    ro.allowed_origins = c->allowed_origins;
    ro.rate_per_second = c->rate_per_minute / 60.0;
    ro.burst = c->burst;
    auto rt = http::IntakeRoutes::create(ro, *writer);
    if (!rt) return report(rt.error());
    routes = std::move(*rt);
    http::ServerOptions so;
    so.address = c->intake_listen.host;
    so.port = c->intake_listen.port;
    so.threads = c->threads;
    auto s = http::Server::start(so, routes->handler(), routes->error_renderer());
    if (!s) return report(s.error());
    server = std::move(*s);
    spdlog::info("intake listening on {}:{}", c->intake_listen.host, server->port());
  }

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("stopping: finishing in-flight work");
  if (server) server->stop();
  if (writer) writer->stop();
  if (fold_loop) fold_loop->stop();
  spdlog::info("stopped");
  return 0;
}

int run_count(const fs::path& config) {
  auto k = open_keeper(config);
  if (!k) return report(k.error());
  auto n = k->store->count_supporters();
  if (!n) return report(n.error());
  auto inbox = k->store->count_inbox();
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
  auto s = services::find_supporter(*k->store, k->keys, kind, value);
  if (!s) return report(s.error());
  if (!*s) {
    std::cerr << "rempart: no supporter with that " << kind << "\n";
    return 3;
  }
  print_person(**s, a.json);
  return 0;
}

int run_import(const ImportArgs& a) {
  auto k = open_keeper(a.config);
  if (!k) return report(k.error());
  auto map = services::parse_column_map(a.map);
  if (!map) return report(map.error());
  std::ifstream in(a.file, std::ios::binary);
  if (!in) return report(Error{Errc::not_found, "cannot read " + a.file.string()});
  std::error_code ec;
  const auto total = fs::file_size(a.file, ec);
  ProgressBar bar(a.progress);
  services::ImportOptions opts;
  opts.intake = k->config.intake;
  opts.intake.collect = {"given_name", "family_name", "email", "phone", "postal_code", "locality", "country"};
  opts.progress = [&](std::uint64_t bytes, std::size_t rows) {
    bar.draw(total == 0 || ec ? 1.0 : static_cast<double>(bytes) / static_cast<double>(total),
             std::to_string(rows) + " rows");
  };
  auto r = services::import_csv(in, *map, *k->store, k->keys, opts);
  bar.finish();
  if (!r) return report(r.error());
  for (const auto& p : r->problems) {
    std::cerr << a.file.filename().string() << ":" << p.line << ": skipped: " << p.field << ": " << p.code << "\n";
  }
  std::size_t bad_rows = 0;
  std::size_t last = 0;
  for (const auto& p : r->problems) {
    if (p.line != last) ++bad_rows;
    last = p.line;
  }
  std::cout << "rempart: " << r->rows << " rows read: " << r->counts.created << " new, " << r->counts.merged
            << " merged, " << r->counts.unchanged << " already known, " << bad_rows << " skipped\n";
  return 0;
}

int run_synth(const SynthArgs& a) {
  auto k = open_keeper(a.config);
  if (!k) return report(k.error());
  ProgressBar bar(true);
  services::SynthOptions opts;
  opts.count = a.count;
  opts.phones = a.phones;
  opts.seed = a.seed;
  opts.progress = [&](std::uint64_t done) {
    bar.draw(static_cast<double>(done) / static_cast<double>(std::max<std::uint64_t>(1, a.count)),
             std::to_string(done) + " supporters");
  };
  auto r = services::synth_supporters(*k->store, k->keys, opts);
  bar.finish();
  if (!r) return report(r.error());
  std::cout << "rempart: " << r->created << " synthetic supporters created, " << r->merged + r->unchanged
            << " already present\n";
  return 0;
}

}  // namespace rempart::cli
