// `rempart selfcheck`: the open windows, before an attacker finds them
// (docs/incident.md, "The self-check"). Checks the key and data files, the
// listeners' TLS, the accounts' second factor, weak settings, the linked
// libraries against the list of known-vulnerable versions, and scans the
// data files for personal data in clear; prints each finding with its fix.
// Exit status for cron: 0 nothing fails (warnings are said), 1 something
// fails (or warns, with --strict), 2 the check could not run.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "cli/config.hpp"
#include "cli/incident_command.hpp"
#include "cli/selfcheck_settings.hpp"
#include "i18n/i18n.hpp"
#include "services/selfcheck.hpp"
#include "services/selfcheck_scan.hpp"
#include "services/selfcheck_versions.hpp"
#include "store/backends.hpp"

namespace rempart::cli {

namespace sc = services::selfcheck;

services::selfcheck::Settings selfcheck_settings(const Config& c) {
  sc::Settings s;
  s.backend = c.backend;
  s.data_dir = c.data_dir;
  s.keys_dir = c.keys_dir;
  s.key_token = c.key_token.has_value();
  s.checkpoint_file = c.audit.checkpoint_file;
  s.checkpoint_syslog = c.audit.checkpoint_syslog;
  s.listeners.push_back({"intake", c.intake_listen.host, c.intake_listen.port, true, c.intake_tls.certificate,
                         c.intake_tls.key});
  s.listeners.push_back({"console", c.console.listen.host, c.console.listen.port, c.console.enabled,
                         c.console.tls.certificate, c.console.tls.key});
  if (c.key_token) s.secret_files.push_back({"[keys].pin_file", c.key_token->pin_file});
  if (!c.intake_password_file.empty()) {
    s.secret_files.push_back({"[storage].intake_password_file", c.intake_password_file});
  }
  if (!c.keeper_password_file.empty()) {
    s.secret_files.push_back({"[storage].keeper_password_file", c.keeper_password_file});
  }
  if (c.alerts.webhook) s.secret_files.push_back({"[alerts.webhook].secret_file", c.alerts.webhook->secret_file});
  if (c.alerts.smtp) {
    if (!c.alerts.smtp->password_file.empty()) {
      s.secret_files.push_back({"[alerts.smtp].password_file", c.alerts.smtp->password_file});
    }
    s.mail_links.push_back({"[alerts.smtp]", c.alerts.smtp->url, c.alerts.smtp->require_tls});
  }
  if (c.mail) {
    if (!c.mail->smtp.password_file.empty()) {
      s.secret_files.push_back({"[mail].password_file", c.mail->smtp.password_file});
    }
    s.mail_links.push_back({"[mail]", c.mail->smtp.url, c.mail->smtp.require_tls});
  }
  if (c.bounces) {
    s.secret_files.push_back({"[bounces].password_file", c.bounces->imap.password_file});
    s.mail_links.push_back({"[bounces]", c.bounces->imap.url, c.bounces->imap.require_tls});
  }
  s.budgets = c.budgets;
  s.alerts = c.alerts;
  s.disk_reserve_mib = c.disk_reserve_mib;
  s.retention = c.retention;
  s.exports_dir = c.exports.dir;
  s.log_level = c.log_level;
  return s;
}

namespace {

constexpr const char* kDpkgStatus = "/var/lib/dpkg/status";

struct Args {
  std::string config;
  std::string format = "text";
  std::string versions;  // a newer list than the one built in
  bool strict = false;
  bool all = false;
  bool no_scan = false;
};

int run(const Args& a) {
  if (a.format != "text" && a.format != "json") {
    std::cerr << "rempart: --format must be text or json\n";
    return 2;
  }
  auto c = load_config(a.config);
  if (!c) {
    std::cerr << "rempart: " << c.error().internal << "\n";
    return 2;
  }
  std::string list_text;
  if (a.versions.empty()) {
    const auto bytes = sc::embedded_vulnerable_list();
    list_text.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  } else {
    std::ifstream in(a.versions, std::ios::binary);
    if (!in) {
      std::cerr << "rempart: cannot read " << a.versions << "\n";
      return 2;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    list_text = ss.str();
  }
  auto list = sc::parse_vulnerable_list(list_text);
  if (!list) {
    std::cerr << "rempart: " << list.error().internal << "\n";
    return 2;
  }

  const auto s = selfcheck_settings(*c);
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  sc::Report report;
  report.at = now;
  auto& out = report.findings;
  sc::check_keys(s, out);
  sc::check_data(s, out);
  sc::check_listeners(s, out, now);
  {
    auto backend = store::open_backend(c->storage());
    Result<std::unique_ptr<store::KeeperStore>> st =
        backend ? (*backend)->open_keeper() : Result<std::unique_ptr<store::KeeperStore>>(std::unexpected(backend.error()));
    if (st) {
      sc::check_accounts(**st, out, now);
    } else {
      sc::Finding f;
      f.id = "accounts.read";
      f.level = sc::Level::fail;
      f.finding = {N_("the accounts cannot be read: the database does not open ({})"),
                   {std::string(errc_name(st.error().code))}};
      f.fix = {N_("run the self-check as the user rempart runs as, with the configuration it uses"), {}};
      out.push_back(std::move(f));
    }
  }
  sc::check_settings(s, out);
  std::vector<std::string> packages;
  const auto libs = sc::linked_libraries();
  for (const auto& l : libs) {
    if (!l.debian_package.empty()) packages.push_back(l.debian_package);
  }
  sc::check_libraries(*list, libs, sc::installed_packages(kDpkgStatus, packages), out, now);
  std::string speed;
  if (!a.no_scan) {
    auto scan = sc::scan_data_files(s);
    if (auto r = sc::record_scan(s, scan.findings, now); !r) {
      std::cerr << "rempart: warning: the scan's result is not recorded for the console: " << r.error().internal
                << "\n";
    }
    char buf[160];
    const double mib = static_cast<double>(scan.bytes) / (1024.0 * 1024.0);
    std::snprintf(buf, sizeof buf, "plaintext scan: %.1f MiB in %.2f s (%.0f MiB/s)\n", mib, scan.seconds,
                  scan.seconds > 0 ? mib / scan.seconds : 0.0);
    speed = buf;
    for (auto& f : scan.findings) out.push_back(std::move(f));
  }

  if (a.format == "json") {
    std::cout << report.to_json().dump(2) << "\n";
  } else {
    std::cout << sc::render_text(report, a.all) << speed;
    if (report.count(sc::Level::fail) == 0 && report.count(sc::Level::warn) != 0) {
      std::cout << (a.strict ? "warnings fail with --strict\n" : "nothing fails; the warnings above still deserve a look\n");
    }
  }
  return report.exit_code(a.strict);
}

class Part final : public IncidentPart {
 public:
  explicit Part(CLI::App& app) {
    cmd_ = app.add_subcommand("selfcheck",
                              "Check keys, listeners, accounts, settings, library versions and the data files; "
                              "exit 1 when something fails (docs/incident.md)");
    cmd_->add_option("--config", args_.config, "Configuration file")->required();
    cmd_->add_option("--format", args_.format, "text (default) or json");
    cmd_->add_flag("--strict", args_.strict, "Warnings fail too (exit 1)");
    cmd_->add_flag("--all", args_.all, "List the checks that pass as well");
    cmd_->add_flag("--no-scan", args_.no_scan, "Skip the scan of the data files for plaintext personal data");
    cmd_->add_option("--versions", args_.versions,
                     "A list of vulnerable versions newer than the one built in (TOML, as "
                     "src/services/vulnerable-versions.toml)");
  }
  std::optional<int> run() const override {
    if (!*cmd_) return std::nullopt;
    return rempart::cli::run(args_);
  }

 private:
  CLI::App* cmd_ = nullptr;
  Args args_;
};

}  // namespace

std::unique_ptr<IncidentPart> add_selfcheck(CLI::App& app) { return std::make_unique<Part>(app); }

}  // namespace rempart::cli
