#pragma once
// rempart's one configuration file (TOML). Checked against a fixed schema:
// unknown tables or keys are refused, so a typo never silently falls back to
// a default. The file holds no secret; keys live in [keys].dir.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/validate.hpp"
#include "auth/accounts.hpp"
#include "guard/alerts.hpp"
#include "guard/budget.hpp"
#include "mail/smtp.hpp"
#include "services/exports.hpp"
#include "services/bounces.hpp"
#include "services/mailings.hpp"
#include "services/retention.hpp"
#include "services/supporter_mail.hpp"
#include "store/backend.hpp"

namespace rempart::cli {

struct ListenAddress {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
};

// TLS for a listener: both paths set, or neither (plain HTTP).
struct TlsFiles {
  std::filesystem::path certificate;  // PEM chain
  std::filesystem::path key;          // PEM private key, mode 0600
  bool enabled() const { return !certificate.empty(); }
};

// [audit]: when the head of the audit log is signed and where the
// checkpoints go besides the database.
struct AuditConfig {
  std::int64_t checkpoint_every = 1000;   // entries
  std::int64_t checkpoint_seconds = 60;
  std::filesystem::path checkpoint_file;  // outside data_dir; empty: none (verify then cannot see truncation)
  bool checkpoint_syslog = false;
  // A running keeper reads the whole chain this often in the background
  // (and the console's page when its last whole read is older); between
  // two, the page reads only what was appended (docs/audit.md).
  std::int64_t verify_seconds = 3600;
};

// [console]: the keeper's admin console (served on its own address, never
// the intake one) and its session lifetimes.
struct ConsoleConfig {
  ListenAddress listen{"127.0.0.1", 8081};
  std::int64_t session_idle_minutes = 15;
  std::int64_t session_absolute_hours = 8;
  bool enabled = true;
  std::vector<std::string> hostnames;  // Host names accepted besides localhost and the listen host
  unsigned workers = 2;                // threads for sign-ins (Argon2id) and database work
  TlsFiles tls;
};

// [accounts]: the two-person rule (docs/accounts.md).
struct AccountsConfig {
  std::int64_t approver_cooling_hours = 24;
  std::int64_t request_hours = 72;
  std::int64_t enrolment_hours = 72;
};

// [mail]: mail to supporters (docs/supporter-mail.md). Absent: nothing is
// mailed, e-mail consents stay unconfirmed.
struct MailConfig {
  mail::SmtpOptions smtp;
  services::SupporterMailOptions supporter;
};

struct Config {
  std::filesystem::path data_dir;  // holds the database; 0700
  std::filesystem::path keys_dir;  // holds the keyrings; never inside data_dir
  // [keys] provider = "pkcs11": keeper.keyring is kept sealed by an AES key
  // of a PKCS#11 token (keys/sealed_keyring.hpp; docs/key-custody.md).
  struct Token {
    std::filesystem::path module;    // the PKCS#11 module
    std::string label;               // the token's label
    std::filesystem::path pin_file;  // the user PIN, 0600, outside the data and key directories
  };
  std::optional<Token> key_token;
  // [keys] rewrap_per_second: records a serving keeper moves to the current
  // key version a second after a rotation (services/rewrap.hpp), so that
  // the fold and the console keep the writer; `keys rewrap` is unbounded.
  std::int64_t rewrap_per_second = 500;
  ListenAddress intake_listen;
  unsigned threads = 0;  // 0 = one per core
  core::IntakeOptions intake;
  std::vector<std::string> allowed_origins;
  TlsFiles intake_tls;
  // [intake] logo: a PNG, JPEG or SVG file of at most 256 KiB shown above
  // the sign-up page's heading; a relative path is beside the config file.
  // Read by load_intake_logo when the intake starts.
  std::filesystem::path intake_logo;
  double rate_per_minute = 30;  // sustained sign-ups per client address
  double burst = 10;
  unsigned fold_interval_ms = 200;
  std::size_t fold_batch = 1000;  // submissions per fold transaction (see docs/operations.md)
  std::string log_level = "info";
  AuditConfig audit;
  ConsoleConfig console;
  guard::Budgets budgets;      // [guard]
  AccountsConfig accounts;     // [accounts]
  guard::AlertOptions alerts;  // [alerts], [alerts.webhook], [alerts.smtp]
  services::ExportOptions exports;  // [exports]; dir defaults to data_dir/exports
  std::optional<MailConfig> mail;   // [mail]
  services::RetentionOptions retention;  // [retention]
  services::MailingOptions mailings;     // [mailings] (sent only with [mail])
  std::optional<services::BounceOptions> bounces;  // [bounces] (with [mail] only)

  std::string backend = "sqlite";  // [storage].backend: see store/backends.hpp
  // [storage].disk_reserve_mib: free space kept for the keeper on the
  // inbox's filesystem; below it the intake refuses sign-ups (503). 0: no
  // reserve. On PostgreSQL it watches the local data directory only
  // (services/disk_reserve.hpp; docs/operations.md, "The disk reserve").
  std::int64_t disk_reserve_mib = 64;
  // [storage] of backend = "postgresql" only (docs/operations.md, "[storage]
  // with PostgreSQL"): a libpq connection string naming the server(s) and the
  // database, never a user nor a password; the database role of each role;
  // the files holding their passwords (empty: none), outside data_dir and
  // keys_dir, beside the configuration file when relative. The files are
  // read, and their mode checked, by the store when it connects.
  std::string dsn;
  std::string intake_user = store::StorageOptions{}.intake_user;
  std::string keeper_user = store::StorageOptions{}.keeper_user;
  std::filesystem::path intake_password_file;
  std::filesystem::path keeper_password_file;
  // [ui] default_language: the pages' and mails' language when a request
  // names none of ours (Accept-Language, the switch); "en" or "fr".
  std::string default_language = "en";

  // What store::open_backend opens.
  store::StorageOptions storage() const {
    store::StorageOptions o;
    o.backend = backend;
    o.data_dir = data_dir;
    o.dsn = dsn;
    o.intake_user = intake_user;
    o.keeper_user = keeper_user;
    o.intake_password_file = intake_password_file;
    o.keeper_password_file = keeper_password_file;
    return o;
  }
};

// The account service's options from the configuration.
auth::AuthOptions auth_options(const Config& c);

// Parses and checks a configuration file. Errors name the offending key.
Result<Config> load_config(const std::filesystem::path& file);
Result<Config> parse_config(std::string_view toml_text, const std::filesystem::path& origin);

// The file `rempart init` writes: every key present, with comments.
std::string render_config(const Config& c);

Result<ListenAddress> parse_listen(std::string_view text);

// Reads c.intake_logo into c.intake.logo and logo_type (nothing when no
// logo is configured). Errc::config for a file that is missing, too large
// or not a PNG, JPEG or SVG image.
Result<void> load_intake_logo(Config& c);

}  // namespace rempart::cli
