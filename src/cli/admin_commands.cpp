#include "cli/admin_commands.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "audit/chain.hpp"
#include "audit/checkpoint.hpp"
#include "auth/accounts.hpp"
#include "auth/totp.hpp"
#include "cli/commands.hpp"
#include "cli/keeper_access.hpp"
#include "cli/key_versions_command.hpp"
#include "cli/config.hpp"
#include "crypto/keyring.hpp"
#include "guard/alerts.hpp"

namespace rempart::cli {
namespace {

namespace fs = std::filesystem;

// What every admin command needs: the keeper keyring and store, and the
// account service over them. Built on the heap and never moved: the
// service keeps references to the keeper's members.
struct Admin {
  Keeper keeper;
  std::optional<auth::AccountService> accounts;
  std::unique_ptr<guard::Alerter> alerter;

  explicit Admin(Keeper k) : keeper(std::move(k)) {
    accounts.emplace(*keeper.store, keeper.keys, auth_options(keeper.config));
  }
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;
  // Signs the head so what this command recorded is covered outside the
  // database at once, and delivers the alerts raised.
  ~Admin() {
    accounts.reset();
    keeper.checkpoint_on_exit();
    if (alerter) alerter->stop();
  }

  // The operator's privilege changes bypass the two-person rule (first
  // admin, break-glass): whoever watches the alerts hears of each one.
  void alert(std::string_view kind, std::string_view reason, nlohmann::json details,
             guard::Severity severity = guard::Severity::warning) {
    if (!alerter) {
      auto a = guard::Alerter::start(keeper.config.alerts);
      if (!a) {
        std::cerr << "rempart: could not start the alert sinks (" << a.error().internal << ")\n";
        return;
      }
      alerter = std::move(*a);
    }
    guard::Alert x;
    x.severity = severity;
    x.kind = std::string(kind);
    x.actor = operator_actor();
    x.reason = std::string(reason);
    x.details = std::move(details);
    alerter->raise(std::move(x));
  }

  // Where a person opens an enrolment code: this, then the code.
  std::string enrol_url_before_code() const {
    const auto& c = keeper.config.console;
    const std::string host = c.hostnames.empty() ? c.listen.host : c.hostnames.front();
    return std::string(c.tls.enabled() ? "https://" : "http://") + host + ":" + std::to_string(c.listen.port) +
           "/enrol?code=";
  }
};

Result<std::unique_ptr<Admin>> open_admin(const fs::path& config_file) {
  auto k = open_keeper(config_file);
  if (!k) return std::unexpected(k.error());
  return std::make_unique<Admin>(std::move(*k));
}

// Reads a line without echo when stdin is a terminal, into guarded memory.
std::optional<crypto::SecretBytes> read_secret_line(const char* prompt, bool tty) {
  termios old {};
  if (tty) {
    std::cerr << prompt << std::flush;
    if (::tcgetattr(STDIN_FILENO, &old) != 0) return std::nullopt;
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  const bool ok = static_cast<bool>(std::getline(std::cin, line));
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    std::cerr << "\n";
  }
  if (!ok) return std::nullopt;
  std::string_view text = line;
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  auto held = crypto::SecretBytes::copy_of_text(text);
  if (!line.empty()) sodium_memzero(line.data(), line.size());
  if (!held) return std::nullopt;
  return std::move(*held);
}

void print_enrolment(const std::string& name, const auth::Enrolment& e) {
  std::cout << "Account " << name << " (id " << e.account_id << ")\n\n"
            << "Scan this code with an authenticator app, or enter the URI by hand.\n"
            << "It is shown once and cannot be shown again.\n\n"
            << auth::qr_terminal(e.otpauth_uri.text()) << "\n"
            << e.otpauth_uri.text() << "\n\n"
            << "Recovery codes (each works once; keep them offline):\n";
  for (const auto& c : e.recovery_codes) std::cout << "  " << c.text() << "\n";
  if (!e.export_secret_key.empty()) {
    std::cout << "\nExport key (opens the bulk exports this account requests; shown once, never stored):\n  "
              << e.export_secret_key.text() << "\n"
              << "Save it to a file only its owner can read, e.g. "
                 "`umask 077; cat > ~/.rempart-export.key` (chmod 600), and keep it off shared disks.\n";
  }
}

std::string when(std::int64_t unix_seconds) { return format_time(unix_seconds * 1'000'000).substr(0, 19) + "Z"; }

}  // namespace

int run_admin_add(const AdminAddArgs& a) {
  const auto role = auth::parse_role(a.role);
  if (!role) return report(Error{Errc::invalid_input, "role must be viewer, organiser, admin or auditor"});
  if (!auth::valid_account_name(a.name)) {
    return report(Error{Errc::invalid_input, "account name must match [a-z0-9._-]{1,64}"});
  }
  const bool tty = ::isatty(STDIN_FILENO) == 1;
  if (!tty && !a.password_stdin) {
    return report(Error{Errc::invalid_input, "stdin is not a terminal: pass --password-stdin to read the password from it"});
  }
  auto pw = read_secret_line("Password for the new account: ", tty && !a.password_stdin);
  if (!pw) return report(Error{Errc::invalid_input, "no password given"});
  if (!a.password_stdin) {
    auto again = read_secret_line("Same password again: ", true);
    if (!again || again->text() != pw->text()) return report(Error{Errc::invalid_input, "the two passwords differ"});
  }
  // Fail on the policy before asking for the keyring.
  if (auto r = auth::check_password_policy(pw->text(), a.name); !r) return report(r.error());
  auto admin = open_admin(a.config);
  if (!admin) return report(admin.error());
  auto e = (*admin)->accounts->create_account(operator_actor(), a.name, *role, pw->text());
  if (!e) return report(e.error());
  (*admin)->alert("operator_account_created", "an account was created on the keeper host (no second person)",
                  {{"account", a.name}, {"role", a.role}});
  print_enrolment(a.name, *e);
  return 0;
}

void print_invite(const Admin& admin, const std::string& name, const crypto::SecretBytes& code) {
  std::cout << "Hand this enrolment link to " << name << " yourself (in person or over a channel you trust).\n"
            << "It works once, for " << admin.keeper.config.accounts.enrolment_hours
            << " hours; with it they choose their own password and set up their own authenticator.\n"
            << "It is shown once.\n\n  " << admin.enrol_url_before_code() << code.text() << "\n";
}

int run_admin_invite(const fs::path& config, const std::string& name, const std::string& role) {
  const auto r = auth::parse_role(role);
  if (!r) return report(Error{Errc::invalid_input, "role must be viewer, organiser, admin or auditor"});
  auto admin = open_admin(config);
  if (!admin) return report(admin.error());
  auto code = (*admin)->accounts->invite_account(operator_actor(), name, *r);
  if (!code) return report(code.error());
  (*admin)->alert("operator_account_created", "an account was created on the keeper host (no second person)",
                  {{"account", name}, {"role", role}});
  print_invite(**admin, name, *code);
  return 0;
}

int run_admin_list(const fs::path& config) {
  auto admin = open_admin(config);
  if (!admin) return report(admin.error());
  auto list = (*admin)->accounts->list_accounts();
  if (!list) return report(list.error());
  std::cout << std::left << std::setw(24) << "NAME" << std::setw(11) << "ROLE" << std::setw(10) << "STATE"
            << std::setw(9) << "FAILURES" << std::setw(10) << "RECOVERY" << "CREATED\n";
  for (const auto& x : *list) {
    const std::string state = x.disabled ? "disabled" : x.locked ? "locked" : x.enrolling ? "enrolling" : "active";
    std::cout << std::left << std::setw(24) << x.name << std::setw(11) << auth::role_name(x.role) << std::setw(10)
              << state << std::setw(9) << x.failures << std::setw(10) << x.recovery_codes_left << when(x.created_at);
    if (x.locked) {
      // The reason's code first, for scripts; then the same in words.
      std::cout << "  (" << (x.lock_reason.empty() ? std::string("-") : x.lock_reason) << "; "
                << auth::lock_description(x);
      if (x.locked_at) std::cout << "; since " << when(*x.locked_at);
      std::cout << ")";
    }
    std::cout << "\n";
  }
  return 0;
}

int run_admin_disable(const fs::path& config, const std::string& name) {
  auto admin = open_admin(config);
  if (!admin) return report(admin.error());
  if (auto r = (*admin)->accounts->disable_account(operator_actor(), name); !r) return report(r.error());
  std::cout << "disabled " << name << "; its sessions are ended\n";
  return 0;
}

int run_admin_enable(const fs::path& config, const std::string& name) {
  auto admin = open_admin(config);
  if (!admin) return report(admin.error());
  if (auto r = (*admin)->accounts->enable_account(operator_actor(), name); !r) return report(r.error());
  (*admin)->alert("account_enabled", "a disabled account was enabled again", {{"account", name}});
  std::cout << "enabled " << name << "; API tokens it made before are revoked\n";
  return 0;
}

int run_admin_set_role(const fs::path& config, const std::string& name, const std::string& role) {
  const auto r = auth::parse_role(role);
  if (!r) return report(Error{Errc::invalid_input, "role must be viewer, organiser, admin or auditor"});
  auto admin = open_admin(config);
  if (!admin) return report(admin.error());
  if (auto x = (*admin)->accounts->set_role(operator_actor(), name, *r); !x) return report(x.error());
  (*admin)->alert("operator_role_changed", "a role was changed on the keeper host (no second person)",
                  {{"account", name}, {"role", role}});
  std::cout << name << " is now " << role << "; its sessions are ended\n";
  return 0;
}

int run_admin_reset_mfa(const fs::path& config, const std::string& name) {
  auto admin = open_admin(config);
  if (!admin) return report(admin.error());
  auto code = (*admin)->accounts->reset_enrolment(operator_actor(), name);
  if (!code) return report(code.error());
  (*admin)->alert("operator_mfa_reset", "an authenticator was reset on the keeper host (no second person)",
                  {{"account", name}});
  std::cout << "The sessions, password, authenticator, recovery codes and export key of " << name
            << " are cleared.\n";
  print_invite(**admin, name, *code);
  return 0;
}

int run_admin_unlock(const fs::path& config, const std::string& name, const std::string& reason) {
  auto admin = open_admin(config);
  if (!admin) return report(admin.error());
  if (auto r = (*admin)->accounts->unlock(operator_actor(), name, reason); !r) return report(r.error());
  (*admin)->alert("operator_unlock", "an account was unlocked on the keeper host (no second person)",
                  {{"account", name}});
  std::cout << "unlocked " << name << "\n";
  return 0;
}

int run_admin_revoke_sessions(const fs::path& config, const std::string& name) {
  auto admin = open_admin(config);
  if (!admin) return report(admin.error());
  auto n = (*admin)->accounts->revoke_sessions(operator_actor(), name);
  if (!n) return report(n.error());
  std::cout << "ended " << *n << " session(s) of " << name << "\n";
  return 0;
}

int run_admin_token_create(const AdminTokenCreateArgs& a) {
  const auto scope = auth::parse_scope(a.scope);
  if (!scope) return report(Error{Errc::invalid_input, "scope must be intake, read-masked, reveal or metrics"});
  auto admin = open_admin(a.config);
  if (!admin) return report(admin.error());
  auto t = (*admin)->accounts->create_api_token(operator_actor(), a.label, *scope, a.expires_days);
  if (!t) return report(t.error());
  (*admin)->alert("token_created", "an API token was created on the keeper host",
                  {{"token_id", t->info.id}, {"scope", a.scope}, {"prefix", t->info.prefix}});
  std::cout << "token " << t->info.id << " (" << a.scope << ", expires " << when(t->info.expires_at) << "):\n"
            << t->token.text() << "\n"
            << "It is shown once and cannot be shown again.\n";
  return 0;
}

int run_admin_token_list(const fs::path& config) {
  auto admin = open_admin(config);
  if (!admin) return report(admin.error());
  auto list = (*admin)->accounts->list_api_tokens();
  if (!list) return report(list.error());
  std::cout << std::left << std::setw(6) << "ID" << std::setw(14) << "PREFIX" << std::setw(13) << "SCOPE"
            << std::setw(22) << "EXPIRES" << std::setw(10) << "STATE" << "LABEL\n";
  for (const auto& t : *list) {
    std::cout << std::left << std::setw(6) << t.id << std::setw(14) << t.prefix << std::setw(13)
              << auth::scope_name(t.scope) << std::setw(22) << when(t.expires_at) << std::setw(10)
              << (t.revoked_at ? "revoked" : t.expires_at <= auth::system_now() ? "expired" : "active") << t.label
              << "\n";
  }
  return 0;
}

int run_admin_token_revoke(const fs::path& config, std::int64_t id) {
  auto admin = open_admin(config);
  if (!admin) return report(admin.error());
  if (auto r = (*admin)->accounts->revoke_api_token(operator_actor(), id); !r) return report(r.error());
  std::cout << "revoked token " << id << "\n";
  return 0;
}

// ---- incident lockdown and release (docs/incident.md) ---------------------

namespace {

// "0", or "2 (ids 4, 7)" / "2 (bob, orga)": a count and what it counted.
std::string counted(const auto& items, std::string_view label = "") {
  std::string out = std::to_string(items.size());
  if (items.empty()) return out;
  out += " (";
  out += label;
  bool first = true;
  for (const auto& x : items) {
    if (!first) out += ", ";
    first = false;
    if constexpr (std::is_same_v<std::decay_t<decltype(x)>, std::string>) {
      out += x;
    } else {
      out += std::to_string(x);
    }
  }
  return out + ")";
}

}  // namespace

int run_incident_lockdown(const fs::path& config, const std::string& keep, const std::string& reason) {
  auto admin = open_admin(config);
  if (!admin) return report(admin.error());
  Admin& a = **admin;
  auto l = a.accounts->lock_down(operator_actor(), keep, reason);
  if (!l) {
    std::cerr << "rempart: lockdown refused: " << l.error().internal << "\n";
    return l.error().code == Errc::invalid_input || l.error().code == Errc::permission ? 2 : 1;
  }
  std::cout << "Lockdown recorded (audit entry " << l->seq << ").\n"
            << "- Sessions ended: " << l->sessions_ended << " (of every account"
            << (l->kept.empty() ? "" : ", " + l->kept + " included") << ").\n"
            << "- Accounts disabled, their password, authenticator, recovery codes and export key cleared: "
            << counted(l->locked) << ".\n"
            << "- Break-glass account kept: " << (l->kept.empty() ? std::string("none") : l->kept) << ".\n"
            << "- API tokens revoked: " << counted(l->tokens_revoked, "ids ")
            << "; a website that posts sign-ups with a token needs a new one.\n"
            << "- Pending privilege requests refused: " << counted(l->requests_refused, "ids ") << ".\n"
            << "- Raised budgets ended: " << l->budgets_ended << ".\n"
            << std::flush;
  // Every key next: a copied keyring or inbox stops being useful for what
  // comes after. The accounts are out already, whatever happens here.
  auto rotated = rotate_keys(a.keeper);
  int code = 0;
  if (rotated) {
    std::cout << "- Keys rotated: version " << rotated->to << " is current (was " << rotated->from
              << "); a running keeper and intake take it within seconds, and the keeper moves every record to it.\n";
  } else {
    std::cerr << "rempart: the keys were NOT rotated: " << rotated.error().internal
              << "; run `rempart keys rotate --config " << config.string() << "` once the cause is fixed\n";
    code = 1;
  }
  auto cp = a.keeper.checkpointer()->force(audit::now_us());
  if (cp && *cp) {
    std::cout << "- Audit checkpoint signed at entry " << (*cp)->seq << ".\n";
  } else {
    std::cerr << "rempart: the audit checkpoint was NOT signed"
              << (cp ? std::string(" (nothing to sign)") : ": " + cp.error().internal) << "\n";
    code = 1;
  }
  a.alert("incident_lockdown", "an operator locked every account down and revoked every token",
          {{"accounts_locked", l->locked.size()},
           {"kept", l->kept},
           {"sessions_ended", l->sessions_ended},
           {"tokens_revoked", l->tokens_revoked.size()},
           {"key_version", rotated ? rotated->to : 0}},
          guard::Severity::critical);
  std::cout << "\nNext:\n"
            << "  rempart incident changes --since TIME --config " << config.string()
            << "   what changed before the lockdown (a backdoor shows there)\n"
            << "  rempart incident report --since TIME --config " << config.string()
            << "    the 72-hour notification and the breach register\n"
            << "  rempart incident release NAME --reason TEXT --config " << config.string()
            << "   one account back, with a new password and authenticator\n"
            << "  rempart keys backup --config " << config.string()
            << " --shares N --threshold K --out DIR   the old shares do not hold the new version\n";
  return code;
}

int run_incident_release(const fs::path& config, const std::string& name, const std::string& reason) {
  auto admin = open_admin(config);
  if (!admin) return report(admin.error());
  auto code = (*admin)->accounts->release_account(operator_actor(), name, reason);
  if (!code) return report(code.error());
  (*admin)->alert("incident_release", "an account was let back in after a lockdown", {{"account", name}});
  std::cout << name << " is enabled again; it signs in only after setting a new password and authenticator.\n";
  print_invite(**admin, name, *code);
  return 0;
}

}  // namespace rempart::cli
