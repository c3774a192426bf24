#pragma once
// The self-check (`rempart selfcheck`, and the admins' /selfcheck page): the
// open windows an attacker would look for, each a Finding with a stable id,
// a level, one line of what was found and one line of how to fix it
// (docs/incident.md, "The self-check").
//
// The checks read what the caller hands them (Settings, taken from the
// configuration by the CLI) and the files and accounts those name; they
// change nothing. The slow one (the plaintext scan, selfcheck_scan.hpp) is
// run by the CLI only, which records its counts for the page to show.
//
// No finding ever carries personal data, a secret, a key or SQL: paths,
// file names, account names (staff), counts, versions and CVE ids only.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "guard/alerts.hpp"
#include "guard/budget.hpp"
#include "services/retention.hpp"
#include "store/store.hpp"

namespace rempart::services::selfcheck {

enum class Level { ok, warn, fail };
// "ok", "warn", "fail".
const char* level_name(Level l) noexcept;

// A message marked with N_() where it is made and its {} arguments, shown in
// the reader's language (i18n::tr) or in English for machines.
struct Text {
  const char* msgid = "";
  std::vector<std::string> args;
  std::string english() const;
  std::string translated() const;  // i18n::current()
};

struct Finding {
  std::string id;  // stable: "<group>.<check>", e.g. "keys.mode"
  Level level = Level::ok;
  Text finding;    // one line
  Text fix;        // one line; empty msgid when nothing is to be done
  std::string group() const { return id.substr(0, id.find('.')); }
};

struct Report {
  std::vector<Finding> findings;
  std::int64_t at = 0;  // unix seconds
  std::size_t count(Level l) const;
  // Exit status for cron: 1 when something fails (or, with `strict`, warns).
  int exit_code(bool strict) const;
  // The findings with their English texts ("finding", "fix"), and the
  // patterns and arguments they were made from ("msgid", "args", …).
  nlohmann::json to_json() const;
  // A report to_json wrote. Texts whose pattern is one of `known` are
  // translatable again; others keep their English words.
  static Result<Report> from_json(const nlohmann::json& j, std::span<const char* const> known);
};

// One listener of the process: where it listens and whether it speaks TLS.
struct Listener {
  std::string name;  // "intake", "console"
  std::string host;
  std::uint16_t port = 0;
  bool enabled = true;
  std::filesystem::path tls_certificate;  // empty: plain HTTP
  std::filesystem::path tls_key;
};

// A file holding a secret (a password, a PIN, a webhook key), by the
// configuration key that names it.
struct SecretFile {
  std::string key;  // "[storage].keeper_password_file", …
  std::filesystem::path path;
};

// An outgoing mail connection, for its TLS.
struct MailLink {
  std::string key;  // "[mail]", "[alerts.smtp]", "[bounces]"
  std::string url;
  bool require_tls = true;
};

// What the checks read, as the configuration has it (cli builds it).
struct Settings {
  std::string backend = "sqlite";
  std::filesystem::path data_dir;
  std::filesystem::path keys_dir;
  bool key_token = false;  // [keys] provider = "pkcs11"
  std::filesystem::path checkpoint_file;
  bool checkpoint_syslog = false;
  std::vector<Listener> listeners;
  std::vector<SecretFile> secret_files;
  std::vector<MailLink> mail_links;
  guard::Budgets budgets;
  guard::AlertOptions alerts;
  std::int64_t disk_reserve_mib = 64;
  RetentionOptions retention;
  std::filesystem::path exports_dir;
  std::string log_level = "info";
};

// Whether `host` is a loopback address or name (127.0.0.0/8, ::1, localhost).
bool is_loopback(std::string_view host);

// Each group appends its findings. None fails as a whole: what cannot be
// read is itself a finding.
void check_keys(const Settings& s, std::vector<Finding>& out);
void check_data(const Settings& s, std::vector<Finding>& out);
void check_listeners(const Settings& s, std::vector<Finding>& out, std::int64_t now);
void check_settings(const Settings& s, std::vector<Finding>& out);
// Every enabled account has its authenticator; invitations not taken up;
// at least two admins for the two-person rules. Read in one transaction.
void check_accounts(store::KeeperStore& st, std::vector<Finding>& out, std::int64_t now);

// Where the CLI records the plaintext scan's last findings for the page:
// <data_dir>/selfcheck-scan.json (counts and file names only, mode 0600).
std::filesystem::path scan_record_path(const Settings& s);
// The recorded scan's findings, marked with its date; a warning when none
// was recorded or it is older than a week.
// `known`: the scan's patterns (scan_texts(), selfcheck_scan.hpp).
void recorded_scan(const Settings& s, std::vector<Finding>& out, std::int64_t now,
                   std::span<const char* const> known);
Result<void> record_scan(const Settings& s, const std::vector<Finding>& scan, std::int64_t now);

// Text for a person: grouped, the fix under each finding that is not ok,
// and a last line with the counts. `all`: list the ok ones too.
std::string render_text(const Report& r, bool all);

}  // namespace rempart::services::selfcheck
