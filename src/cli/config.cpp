#include "cli/config.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <fstream>
#include <set>
#include <cmath>
#include <iterator>
#include <memory>
#include <sstream>
#include <tuple>

#include <libpq-fe.h>
#include <toml++/toml.h>

#include "core/text.hpp"
#include "crypto/keyring.hpp"
#include "store/backends.hpp"

namespace rempart::cli {
namespace {

using Keys = std::set<std::string, std::less<>>;

Result<void> refuse_unknown(const toml::table& t, const Keys& allowed, std::string_view where) {
  for (const auto& [k, v] : t) {
    (void)v;
    if (!allowed.contains(k.str())) {
      return fail(Errc::config, "unknown key '" + std::string(k.str()) + "' in [" + std::string(where) + "]");
    }
  }
  return {};
}

template <typename T>
Result<void> read(const toml::table& t, std::string_view table, std::string_view key, T& out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return {};
  auto v = n->value<T>();
  if (!v) {
    return fail(Errc::config, "[" + std::string(table) + "]." + std::string(key) + " has the wrong type");
  }
  out = *v;
  return {};
}

Result<void> read_strings(const toml::table& t, std::string_view table, std::string_view key,
                          std::vector<std::string>& out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return {};
  const toml::array* arr = n->as_array();
  if (arr == nullptr) {
    return fail(Errc::config, "[" + std::string(table) + "]." + std::string(key) + " must be an array of strings");
  }
  out.clear();
  for (const auto& e : *arr) {
    auto s = e.value<std::string>();
    if (!s) {
      return fail(Errc::config, "[" + std::string(table) + "]." + std::string(key) + " must be an array of strings");
    }
    out.push_back(*s);
  }
  return {};
}

// "#rrggbb", dark enough that the sign-up button's white text on it reads
// at WCAG's 4.5:1 contrast at least. "" is rempart's own colour.
Result<void> check_colour(std::string_view colour) {
  if (colour.empty()) return {};
  const auto hex = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
  };
  if (colour.size() != 7 || colour[0] != '#' ||
      std::any_of(colour.begin() + 1, colour.end(), [&](char ch) { return hex(ch) < 0; })) {
    return fail(Errc::config, "[intake] colour must be a colour written \"#rrggbb\", e.g. \"#1d5c2e\"");
  }
  // WCAG 2 relative luminance against white's 1.0.
  double luminance = 0;
  const double weights[] = {0.2126, 0.7152, 0.0722};
  for (int i = 0; i < 3; ++i) {
    const double v = (hex(colour[1 + 2 * i]) * 16 + hex(colour[2 + 2 * i])) / 255.0;
    luminance += weights[i] * (v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4));
  }
  const double contrast = 1.05 / (luminance + 0.05);
  if (contrast < 4.5) {
    return fail(Errc::config, "[intake] colour is too light for the white text of the page's buttons (contrast " +
                                  std::to_string(contrast).substr(0, 3) + ":1, at least 4.5:1 is needed): choose a "
                                  "darker shade");
  }
  return {};
}

const toml::table* sub(const toml::table& root, std::string_view name) {
  const toml::node* n = root.get(name);
  return n != nullptr ? n->as_table() : nullptr;
}

// [keys].rewrap_per_second at most: far past what one writer does.
constexpr std::int64_t kMaxRewrapPerSecond = 1'000'000;

// [storage].disk_reserve_mib at most: 1 TiB.
constexpr std::int64_t kMaxDiskReserveMib = 1 << 20;

// The backend that takes [storage] dsn, the role names and the password files.
constexpr std::string_view kPostgres = "postgresql";
constexpr const char* kPostgresKeys[] = {"dsn", "intake_user", "keeper_user", "intake_password_file",
                                         "keeper_password_file"};

// [storage].dsn: a libpq connection string (keywords or a postgresql:// URI)
// that names the server(s) and the database only. The roles come from
// intake_user and keeper_user, the passwords from files: a user or a secret
// in it is refused. No message repeats any of its text, which may hold the
// very secret it should not (libpq's own parse errors quote it, so they are
// not passed on either).
Result<void> check_dsn(const std::string& dsn) {
  if (std::all_of(dsn.begin(), dsn.end(), [](unsigned char ch) { return ch == ' ' || ch == '\t'; })) {
    return fail(Errc::config, "[storage].dsn is required by backend = \"postgresql\": a libpq connection string "
                              "naming the server and the database");
  }
  if (std::any_of(dsn.begin(), dsn.end(), [](unsigned char ch) { return (ch < 0x20 && ch != '\t') || ch == 0x7f; })) {
    return fail(Errc::config, "[storage].dsn must be one line without control characters");
  }
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(PQconninfoParse(dsn.c_str(), &error),
                                                                       &PQconninfoFree);
  if (error != nullptr) PQfreemem(error);
  if (!options) {
    return fail(Errc::config, "[storage].dsn is not a libpq connection string (keyword = value pairs or a "
                              "postgresql:// URI); its text is not repeated here");
  }
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string_view keyword = o->keyword, value = o->val;
    if (keyword == "password" || keyword == "sslpassword" || keyword == "passfile") {
      return fail(Errc::config, "[storage].dsn must not carry a password or a password file (it sets " +
                                    std::string(keyword) +
                                    "): name files of mode 0600 in intake_password_file and keeper_password_file");
    }
    if (keyword == "user") {
      return fail(Errc::config, "[storage].dsn must not name a user (a URI's user@ does): each role connects as "
                                "its own, intake_user and keeper_user");
    }
    // libpq would read a dbname holding '=' or a URI as a connection string
    // of its own, past these checks.
    if (keyword == "dbname" && (value.find('=') != std::string_view::npos || value.starts_with("postgres://") ||
                                value.starts_with("postgresql://"))) {
      return fail(Errc::config, "[storage].dsn: its dbname must be a database name, not a connection string");
    }
  }
  return {};
}

// A PostgreSQL role name as rempart writes it unquoted: [a-z_][a-z0-9_]*,
// at most 63 bytes (NAMEDATALEN - 1), not pg_..., which the server reserves.
Result<void> check_role_name(std::string_view key, std::string_view name) {
  const bool shaped = !name.empty() && name.size() <= 63 && !(name[0] >= '0' && name[0] <= '9') &&
                      std::all_of(name.begin(), name.end(), [](char ch) {
                        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
                      });
  if (!shaped || name.starts_with("pg_")) {
    return fail(Errc::config, "[storage]." + std::string(key) +
                                  " must be a role name of 1..63 of a-z, 0-9 and _, not starting with a digit nor "
                                  "with pg_");
  }
  return {};
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string quote_list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i != 0) out += ", ";
    out += quote(v[i]);
  }
  return out + "]";
}

}  // namespace

Result<ListenAddress> parse_listen(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return fail(Errc::config, "listen address must be HOST:PORT");
  }
  ListenAddress a;
  a.host = std::string(text.substr(0, colon));
  if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']') {
    a.host = a.host.substr(1, a.host.size() - 2);
  }
  const auto port = text.substr(colon + 1);
  unsigned value = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || p != port.data() + port.size() || value > 65535) {
    return fail(Errc::config, "listen port must be a number from 0 to 65535");
  }
  a.port = static_cast<std::uint16_t>(value);
  return a;
}

// tls_certificate and tls_key of a listener's table: both or neither.
static Result<void> read_tls(const toml::table& t, const char* table, TlsFiles& out) {
  std::string cert, key;
  if (auto r = read(t, table, "tls_certificate", cert); !r) return r;
  if (auto r = read(t, table, "tls_key", key); !r) return r;
  if (cert.empty() != key.empty()) {
    return fail(Errc::config, std::string("[") + table + "] needs both tls_certificate and tls_key, or neither");
  }
  out.certificate = cert;
  out.key = key;
  return {};
}

// The masked-rows keys of [guard] and of its per-role tables.
static Result<void> read_masked_rows(const toml::table& t, const std::string& table, guard::Limit& l) {
  const auto get = [&](const char* key, std::int64_t& out) -> Result<void> {
    if (auto r = read(t, table.c_str(), key, out); !r) return r;
    if (out < 0 || out > 1000000) return fail(Errc::config, "[" + table + "]." + key + " must be 0..1000000");
    return {};
  };
  if (auto r = get("masked_rows_per_minute", l.per_minute); !r) return r;
  if (auto r = get("masked_rows_per_hour", l.per_hour); !r) return r;
  return get("masked_rows_per_day", l.per_day);
}

// [guard]: <kind>_per_hour / <kind>_per_day for the reveal kinds,
// masked_rows_per_minute / _per_hour / _per_day for rows shown masked,
// search_misses_per_minute / _per_hour / _per_day for searches that found
// nobody; [guard.<role>] overrides the masked rows of one role. 0 = no limit.
static Result<void> read_guard(const toml::table& t, guard::Budgets& b) {
  using guard::Counted;
  // The page counts of earlier versions: refused by name, since rows are
  // not pages and a silent reading would change the limit 50-fold.
  for (const char* old : {"masked_per_minute", "masked_per_hour"}) {
    if (t.contains(old)) {
      return fail(Errc::config, std::string("[guard].") + old +
                                    " counted pages; budgets now count rows: use masked_rows_per_minute, "
                                    "masked_rows_per_hour and masked_rows_per_day");
    }
  }
  Keys allowed;
  for (const auto c : {Counted::name, Counted::email, Counted::phone, Counted::address}) {
    allowed.insert(std::string(guard::counted_name(c)) + "_per_hour");
    allowed.insert(std::string(guard::counted_name(c)) + "_per_day");
  }
  for (const char* k : {"masked_rows_per_minute", "masked_rows_per_hour", "masked_rows_per_day",
                        "search_misses_per_minute", "search_misses_per_hour", "search_misses_per_day"}) {
    allowed.insert(k);
  }
  for (const auto role : guard::kBudgetRoles) allowed.insert(std::string(role));
  if (auto r = refuse_unknown(t, allowed, "guard"); !r) return r;
  const auto get = [&](const std::string& key, std::int64_t& out) -> Result<void> {
    if (auto r = read(t, "guard", key, out); !r) return r;
    if (out < 0 || out > 1000000) return fail(Errc::config, "[guard]." + key + " must be 0..1000000");
    return {};
  };
  for (const auto c : {Counted::name, Counted::email, Counted::phone, Counted::address}) {
    const std::string k(guard::counted_name(c));
    if (auto r = get(k + "_per_hour", b.of(c).per_hour); !r) return r;
    if (auto r = get(k + "_per_day", b.of(c).per_day); !r) return r;
  }
  if (auto r = read_masked_rows(t, "guard", b.of(Counted::masked)); !r) return r;
  if (auto r = get("search_misses_per_minute", b.of(Counted::miss).per_minute); !r) return r;
  if (auto r = get("search_misses_per_hour", b.of(Counted::miss).per_hour); !r) return r;
  if (auto r = get("search_misses_per_day", b.of(Counted::miss).per_day); !r) return r;
  for (std::size_t i = 0; i < std::size(guard::kBudgetRoles); ++i) {
    const std::string role(guard::kBudgetRoles[i]);
    const auto* rt = t[role].as_table();
    if (t.contains(role) && !rt) return fail(Errc::config, "[guard]." + role + " must be a table");
    if (!rt) continue;
    const std::string table = "guard." + role;
    if (auto r = refuse_unknown(*rt, {"masked_rows_per_minute", "masked_rows_per_hour", "masked_rows_per_day"},
                                table.c_str());
        !r) {
      return r;
    }
    guard::Limit l = b.masked_by_role[i].value_or(b.of(Counted::masked));
    if (auto r = read_masked_rows(*rt, table, l); !r) return r;
    b.masked_by_role[i] = l;
  }
  return {};
}

// [accounts]: the two-person rule's timings.
static Result<void> read_accounts(const toml::table& t, AccountsConfig& a) {
  if (auto r = refuse_unknown(t, {"approver_cooling_hours", "request_hours", "enrolment_hours"}, "accounts"); !r) {
    return r;
  }
  if (auto r = read(t, "accounts", "approver_cooling_hours", a.approver_cooling_hours); !r) return r;
  if (auto r = read(t, "accounts", "request_hours", a.request_hours); !r) return r;
  if (auto r = read(t, "accounts", "enrolment_hours", a.enrolment_hours); !r) return r;
  if (a.approver_cooling_hours < 0 || a.approver_cooling_hours > 720) {
    return fail(Errc::config, "[accounts].approver_cooling_hours must be 0..720");
  }
  if (a.request_hours < 1 || a.request_hours > 720) return fail(Errc::config, "[accounts].request_hours must be 1..720");
  if (a.enrolment_hours < 1 || a.enrolment_hours > 720) {
    return fail(Errc::config, "[accounts].enrolment_hours must be 1..720");
  }
  return {};
}

static Result<void> read_ms(const toml::table& t, const char* table, const char* key, std::chrono::milliseconds& out) {
  std::int64_t ms = out.count();
  if (auto r = read(t, table, key, ms); !r) return r;
  if (ms < 1 || ms > 600000) return fail(Errc::config, std::string("[") + table + "]." + key + " must be 1..600000");
  out = std::chrono::milliseconds(ms);
  return {};
}

static Result<void> read_attempts(const toml::table& t, const char* table, int& out) {
  std::int64_t n = out;
  if (auto r = read(t, table, "max_attempts", n); !r) return r;
  if (n < 1 || n > 20) return fail(Errc::config, std::string("[") + table + "].max_attempts must be 1..20");
  out = static_cast<int>(n);
  return {};
}

// [mail]: the relay and the sender of mail to supporters
// (docs/supporter-mail.md). The relay's password is never in the file:
// only the path of a file that holds it.
static Result<void> read_mail(const toml::table& t, MailConfig& m) {
  if (auto r = refuse_unknown(t, {"smtp_url", "from", "organisation", "links_base", "username", "password_file",
                                  "require_tls", "timeout_ms", "confirm_days", "confirmations_per_day", "per_minute",
                                  "max_attempts", "bounce_address"},
                              "mail");
      !r) {
    return r;
  }
  auto& o = m.supporter;
  std::string pw;
  std::int64_t confirm_days = o.confirm_valid.count() / 86400, per_day = o.confirmations_per_day,
               attempts = o.max_attempts;
  double per_minute = o.per_minute;
  if (auto r = read(t, "mail", "smtp_url", m.smtp.url); !r) return r;
  if (auto r = read(t, "mail", "from", o.from); !r) return r;
  if (auto r = read(t, "mail", "organisation", o.organisation); !r) return r;
  if (auto r = read(t, "mail", "links_base", o.links_base); !r) return r;
  if (auto r = read(t, "mail", "bounce_address", o.bounce_address); !r) return r;
  if (auto r = read(t, "mail", "username", m.smtp.username); !r) return r;
  if (auto r = read(t, "mail", "password_file", pw); !r) return r;
  if (auto r = read(t, "mail", "require_tls", m.smtp.require_tls); !r) return r;
  if (auto r = read_ms(t, "mail", "timeout_ms", m.smtp.timeout); !r) return r;
  if (auto r = read(t, "mail", "confirm_days", confirm_days); !r) return r;
  if (auto r = read(t, "mail", "confirmations_per_day", per_day); !r) return r;
  if (auto r = read(t, "mail", "per_minute", per_minute); !r) return r;
  if (auto r = read(t, "mail", "max_attempts", attempts); !r) return r;
  if (m.smtp.url.empty() || o.from.empty() || o.organisation.empty() || o.links_base.empty()) {
    return fail(Errc::config, "[mail] needs smtp_url, from, organisation and links_base");
  }
  if (confirm_days < 1 || confirm_days > 90) return fail(Errc::config, "[mail].confirm_days must be 1..90");
  if (per_day < 1 || per_day > 20) return fail(Errc::config, "[mail].confirmations_per_day must be 1..20");
  if (attempts < 1 || attempts > 50) return fail(Errc::config, "[mail].max_attempts must be 1..50");
  m.smtp.password_file = pw;
  o.confirm_valid = std::chrono::seconds(confirm_days * 86400);
  o.confirmations_per_day = static_cast<int>(per_day);
  o.max_attempts = static_cast<int>(attempts);
  o.per_minute = per_minute;
  return services::check(o);
}

// [bounces]: the bounce mailbox read over IMAP (docs/mailings.md). Its
// password is never in the file: only the path of a file that holds it.
static Result<void> read_bounces(const toml::table& t, services::BounceOptions& o) {
  if (auto r = refuse_unknown(t, {"imap_url", "username", "password_file", "require_tls", "timeout_ms",
                                  "poll_seconds", "hard", "soft", "soft_days", "complaints"},
                              "bounces");
      !r) {
    return r;
  }
  std::string pw;
  std::int64_t poll = o.poll.count(), hard = o.hard, soft = o.soft, soft_days = o.soft_days,
               complaints = o.complaints;
  if (auto r = read(t, "bounces", "imap_url", o.imap.url); !r) return r;
  if (auto r = read(t, "bounces", "username", o.imap.username); !r) return r;
  if (auto r = read(t, "bounces", "password_file", pw); !r) return r;
  if (auto r = read(t, "bounces", "require_tls", o.imap.require_tls); !r) return r;
  if (auto r = read_ms(t, "bounces", "timeout_ms", o.imap.timeout); !r) return r;
  if (auto r = read(t, "bounces", "poll_seconds", poll); !r) return r;
  if (auto r = read(t, "bounces", "hard", hard); !r) return r;
  if (auto r = read(t, "bounces", "soft", soft); !r) return r;
  if (auto r = read(t, "bounces", "soft_days", soft_days); !r) return r;
  if (auto r = read(t, "bounces", "complaints", complaints); !r) return r;
  if (o.imap.url.empty() || o.imap.username.empty() || pw.empty()) {
    return fail(Errc::config, "[bounces] needs imap_url, username and password_file");
  }
  const auto small = [](std::int64_t v) { return v < 0 || v > 100000 ? 0 : static_cast<int>(v); };
  o.imap.password_file = pw;
  o.poll = std::chrono::seconds(poll < 0 || poll > 86400 ? 0 : poll);
  o.hard = small(hard);
  o.soft = small(soft);
  o.soft_days = small(soft_days);
  o.complaints = small(complaints);
  return services::check(o);
}

// [alerts] and its sub-tables. Secrets are never in the file: only the
// paths of files (mode 0600) that hold them.
static Result<void> read_alerts(const toml::table& t, guard::AlertOptions& a) {
  if (auto r = refuse_unknown(t, {"stderr_json", "file", "queue_capacity", "webhook", "smtp"}, "alerts"); !r) return r;
  if (auto r = read(t, "alerts", "stderr_json", a.stderr_json); !r) return r;
  std::string file;
  if (auto r = read(t, "alerts", "file", file); !r) return r;
  a.file = file;
  std::int64_t cap = static_cast<std::int64_t>(a.queue_capacity);
  if (auto r = read(t, "alerts", "queue_capacity", cap); !r) return r;
  if (cap < 1 || cap > 1000000) return fail(Errc::config, "[alerts].queue_capacity must be 1..1000000");
  a.queue_capacity = static_cast<std::size_t>(cap);
  if (const auto* w = sub(t, "webhook")) {
    if (auto r = refuse_unknown(*w, {"url", "secret_file", "max_attempts", "first_backoff_ms", "timeout_ms"},
                                "alerts.webhook");
        !r) {
      return r;
    }
    guard::WebhookSinkOptions o;
    std::string secret_path;
    if (auto r = read(*w, "alerts.webhook", "url", o.url); !r) return r;
    if (auto r = read(*w, "alerts.webhook", "secret_file", secret_path); !r) return r;
    o.secret_file = secret_path;
    if (auto r = read_attempts(*w, "alerts.webhook", o.max_attempts); !r) return r;
    if (auto r = read_ms(*w, "alerts.webhook", "first_backoff_ms", o.first_backoff); !r) return r;
    if (auto r = read_ms(*w, "alerts.webhook", "timeout_ms", o.timeout); !r) return r;
    if (o.url.empty() || secret_path.empty()) return fail(Errc::config, "[alerts.webhook] needs url and secret_file");
    a.webhook = std::move(o);
  }
  if (const auto* m = sub(t, "smtp")) {
    if (auto r = refuse_unknown(*m, {"url", "from", "to", "username", "password_file", "require_tls", "timeout_ms",
                                     "max_attempts"},
                                "alerts.smtp");
        !r) {
      return r;
    }
    guard::SmtpSinkOptions o;
    std::string pw;
    if (auto r = read(*m, "alerts.smtp", "url", o.url); !r) return r;
    if (auto r = read(*m, "alerts.smtp", "from", o.from); !r) return r;
    if (auto r = read_strings(*m, "alerts.smtp", "to", o.to); !r) return r;
    if (auto r = read(*m, "alerts.smtp", "username", o.username); !r) return r;
    if (auto r = read(*m, "alerts.smtp", "password_file", pw); !r) return r;
    o.password_file = pw;
    if (auto r = read(*m, "alerts.smtp", "require_tls", o.require_tls); !r) return r;
    if (auto r = read_ms(*m, "alerts.smtp", "timeout_ms", o.timeout); !r) return r;
    if (auto r = read_attempts(*m, "alerts.smtp", o.max_attempts); !r) return r;
    if (o.url.empty() || o.from.empty() || o.to.empty()) {
      return fail(Errc::config, "[alerts.smtp] needs url, from and to");
    }
    a.smtp = std::move(o);
  }
  return {};
}

Result<Config> parse_config(std::string_view toml_text, const std::filesystem::path& origin) {
  toml::table root;
  try {
    root = toml::parse(toml_text, origin.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "configuration is not valid TOML (line " << e.source().begin.line << ")";
    return fail(Errc::config, msg.str());
  }
  if (auto r = refuse_unknown(root, {"storage", "keys", "intake", "keeper", "log", "audit", "console", "guard", "alerts",
                               "exports", "accounts", "mail", "retention", "mailings", "bounces", "ui"},
                              "top level");
      !r) {
    return std::unexpected(r.error());
  }
  Config c;
  std::string data_dir, keys_dir, listen = "127.0.0.1:8080";
  int64_t threads = 0, fold_interval = c.fold_interval_ms, fold_batch = static_cast<int64_t>(c.fold_batch),
          max_tags = static_cast<int64_t>(c.intake.max_tags);

  std::string intake_password_file, keeper_password_file;
  if (const auto* t = sub(root, "storage")) {
    if (auto r = refuse_unknown(*t, {"backend", "data_dir", "disk_reserve_mib", "dsn", "intake_user",
                                     "keeper_user", "intake_password_file", "keeper_password_file"},
                                "storage");
        !r) {
      return std::unexpected(r.error());
    }
    if (auto r = read(*t, "storage", "backend", c.backend); !r) return std::unexpected(r.error());
    const auto names = store::backend_names();
    if (std::find(names.begin(), names.end(), c.backend) == names.end()) {
      std::string known;
      for (const auto n : names) known += (known.empty() ? "\"" : ", \"") + std::string(n) + "\"";
      return fail(Errc::config, "[storage].backend must be one of " + known);
    }
    if (auto r = read(*t, "storage", "data_dir", data_dir); !r) return std::unexpected(r.error());
    if (t->contains("disk_reserve_mib") && !(*t)["disk_reserve_mib"].is_integer()) {
      return fail(Errc::config, "[storage].disk_reserve_mib must be a whole number of MiB, e.g. 64");
    }
    if (auto r = read(*t, "storage", "disk_reserve_mib", c.disk_reserve_mib); !r) return std::unexpected(r.error());
    if (c.disk_reserve_mib < 0 || c.disk_reserve_mib > kMaxDiskReserveMib) {
      return fail(Errc::config, "[storage].disk_reserve_mib must be 0 (no reserve) to " +
                                    std::to_string(kMaxDiskReserveMib) + " (1 TiB) MiB; " +
                                    std::to_string(c.disk_reserve_mib) + " is not");
    }
    if (c.backend != kPostgres) {
      for (const char* key : kPostgresKeys) {
        if (t->contains(key)) {
          return fail(Errc::config, "[storage]." + std::string(key) + " is only for backend = \"postgresql\"");
        }
      }
    }
    if (auto r = read(*t, "storage", "dsn", c.dsn); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "storage", "intake_user", c.intake_user); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "storage", "keeper_user", c.keeper_user); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "storage", "intake_password_file", intake_password_file); !r) {
      return std::unexpected(r.error());
    }
    if (auto r = read(*t, "storage", "keeper_password_file", keeper_password_file); !r) {
      return std::unexpected(r.error());
    }
  }
  if (const auto* t = sub(root, "ui")) {
    if (auto r = refuse_unknown(*t, {"default_language"}, "ui"); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "ui", "default_language", c.default_language); !r) return std::unexpected(r.error());
    if (c.default_language != "en" && c.default_language != "fr") {
      return fail(Errc::config, "[ui] default_language must be \"en\" or \"fr\"");
    }
  }
  std::string key_provider = "file", key_module, key_token, key_pin_file;
  if (const auto* t = sub(root, "keys")) {
    if (auto r = refuse_unknown(*t, {"dir", "provider", "module", "token", "pin_file", "rewrap_per_second"}, "keys");
        !r) {
      return std::unexpected(r.error());
    }
    if (auto r = read(*t, "keys", "dir", keys_dir); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "keys", "provider", key_provider); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "keys", "module", key_module); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "keys", "token", key_token); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "keys", "pin_file", key_pin_file); !r) return std::unexpected(r.error());
    if (t->contains("rewrap_per_second") && !(*t)["rewrap_per_second"].is_integer()) {
      return fail(Errc::config, "[keys].rewrap_per_second must be a whole number of records, e.g. 500");
    }
    if (auto r = read(*t, "keys", "rewrap_per_second", c.rewrap_per_second); !r) return std::unexpected(r.error());
    if (c.rewrap_per_second < 1 || c.rewrap_per_second > kMaxRewrapPerSecond) {
      return fail(Errc::config, "[keys].rewrap_per_second must be 1 to " + std::to_string(kMaxRewrapPerSecond) +
                                    " records a second; " + std::to_string(c.rewrap_per_second) + " is not");
    }
  }
  if (const auto* t = sub(root, "intake")) {
    if (auto r = refuse_unknown(*t, {"listen", "threads", "default_region", "collect", "require", "sources",
                                     "allowed_origins", "rate_per_minute", "burst", "max_tags", "tls_certificate",
                                     "tls_key", "organisation", "privacy", "consent_email_text",
                                     "consent_sms_text", "logo", "colour"},
                                "intake");
        !r) {
      return std::unexpected(r.error());
    }
    if (auto r = read(*t, "intake", "listen", listen); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "intake", "threads", threads); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "intake", "default_region", c.intake.default_region); !r) return std::unexpected(r.error());
    if (auto r = read_strings(*t, "intake", "collect", c.intake.collect); !r) return std::unexpected(r.error());
    if (auto r = read_strings(*t, "intake", "require", c.intake.require); !r) return std::unexpected(r.error());
    if (auto r = read_strings(*t, "intake", "sources", c.intake.sources); !r) return std::unexpected(r.error());
    if (auto r = read_strings(*t, "intake", "allowed_origins", c.allowed_origins); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "intake", "rate_per_minute", c.rate_per_minute); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "intake", "burst", c.burst); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "intake", "max_tags", max_tags); !r) return std::unexpected(r.error());
    if (auto r = read_tls(*t, "intake", c.intake_tls); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "intake", "organisation", c.intake.organisation); !r) return std::unexpected(r.error());
    std::string logo;
    if (auto r = read(*t, "intake", "logo", logo); !r) return std::unexpected(r.error());
    if (!logo.empty()) {
      const std::filesystem::path path(logo);
      c.intake_logo = path.is_absolute() ? path : origin.parent_path() / path;
    }
    if (auto r = read(*t, "intake", "colour", c.intake.colour); !r) return std::unexpected(r.error());
    if (auto r = check_colour(c.intake.colour); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "intake", "consent_email_text", c.intake.consent_email_text); !r) {
      return std::unexpected(r.error());
    }
    if (auto r = read(*t, "intake", "consent_sms_text", c.intake.consent_sms_text); !r) {
      return std::unexpected(r.error());
    }
    if (const auto* p = sub(*t, "privacy")) {
      if (auto r = refuse_unknown(*p, {"controller", "purpose", "retention", "recipients", "contact"}, "intake.privacy");
          !r) {
        return std::unexpected(r.error());
      }
      auto& n = c.intake.privacy;
      for (auto [key, out] : {std::pair<const char*, std::string*>{"controller", &n.controller},
                              {"purpose", &n.purpose},
                              {"retention", &n.retention},
                              {"recipients", &n.recipients},
                              {"contact", &n.contact}}) {
        if (auto r = read(*p, "intake.privacy", key, *out); !r) return std::unexpected(r.error());
      }
      if (n.controller.empty()) return fail(Errc::config, "[intake.privacy] needs controller: who keeps the data");
    }
    // Text the page shows: one plain line each (the page escapes it).
    for (const std::string* v : {&c.intake.organisation, &c.intake.privacy.controller, &c.intake.privacy.purpose,
                                 &c.intake.privacy.retention, &c.intake.privacy.recipients,
                                 &c.intake.privacy.contact, &c.intake.consent_email_text,
                                 &c.intake.consent_sms_text}) {
      if (v->size() > 500 || v->find_first_of("\r\n\t") != std::string::npos ||
          !core::text::is_valid_utf8(*v)) {
        return fail(Errc::config, "[intake] organisation, consent texts and [intake.privacy] values must be one "
                                  "line of UTF-8, at most 500 bytes");
      }
    }
  }
  if (const auto* t = sub(root, "keeper")) {
    if (auto r = refuse_unknown(*t, {"fold_interval_ms", "fold_batch"}, "keeper"); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "keeper", "fold_interval_ms", fold_interval); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "keeper", "fold_batch", fold_batch); !r) return std::unexpected(r.error());
  }
  if (const auto* t = sub(root, "log")) {
    if (auto r = refuse_unknown(*t, {"level"}, "log"); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "log", "level", c.log_level); !r) return std::unexpected(r.error());
  }

  std::string checkpoint_file;
  if (const auto* t = sub(root, "audit")) {
    if (auto r = refuse_unknown(*t, {"checkpoint_every", "checkpoint_seconds", "checkpoint_file", "checkpoint_syslog",
                                     "verify_seconds"},
                                "audit");
        !r) {
      return std::unexpected(r.error());
    }
    if (auto r = read(*t, "audit", "checkpoint_every", c.audit.checkpoint_every); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "audit", "checkpoint_seconds", c.audit.checkpoint_seconds); !r) {
      return std::unexpected(r.error());
    }
    if (auto r = read(*t, "audit", "checkpoint_file", checkpoint_file); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "audit", "checkpoint_syslog", c.audit.checkpoint_syslog); !r) {
      return std::unexpected(r.error());
    }
    if (auto r = read(*t, "audit", "verify_seconds", c.audit.verify_seconds); !r) return std::unexpected(r.error());
  }
  if (c.audit.verify_seconds < 60 || c.audit.verify_seconds > 7 * 86400) {
    return fail(Errc::config, "[audit].verify_seconds must be 60..604800");
  }
  if (c.audit.checkpoint_every < 1 || c.audit.checkpoint_every > 1'000'000) {
    return fail(Errc::config, "[audit].checkpoint_every must be 1..1000000");
  }
  if (c.audit.checkpoint_seconds < 1 || c.audit.checkpoint_seconds > 86400) {
    return fail(Errc::config, "[audit].checkpoint_seconds must be 1..86400");
  }
  c.audit.checkpoint_file = checkpoint_file;
  if (!checkpoint_file.empty() && !c.audit.checkpoint_file.is_absolute()) {
    return fail(Errc::config, "[audit].checkpoint_file must be an absolute path");
  }

  if (data_dir.empty()) return fail(Errc::config, "[storage].data_dir is required");
  if (keys_dir.empty()) return fail(Errc::config, "[keys].dir is required");
  c.data_dir = data_dir;
  c.keys_dir = keys_dir;
  if (key_provider == "pkcs11") {
    if (key_module.empty() || key_token.empty() || key_pin_file.empty()) {
      return fail(Errc::config, "[keys] provider = \"pkcs11\" needs module, token and pin_file");
    }
    Config::Token t{key_module, key_token, key_pin_file};
    if (!t.module.is_absolute() || !t.pin_file.is_absolute()) {
      return fail(Errc::config, "[keys].module and [keys].pin_file must be absolute paths");
    }
    // A copy of the data or of the key directory must not carry the PIN.
    if (crypto::path_is_within(t.pin_file, c.data_dir) || crypto::path_is_within(t.pin_file, c.keys_dir)) {
      return fail(Errc::config, "[keys].pin_file must be outside the data directory and the key directory");
    }
    c.key_token = std::move(t);
  } else if (key_provider != "file") {
    return fail(Errc::config, "[keys].provider must be \"file\" or \"pkcs11\"");
  } else if (!key_module.empty() || !key_token.empty() || !key_pin_file.empty()) {
    return fail(Errc::config, "[keys] module, token and pin_file are for provider = \"pkcs11\"");
  }
  if (c.backend == kPostgres) {
    if (auto r = check_dsn(c.dsn); !r) return std::unexpected(r.error());
    if (auto r = check_role_name("intake_user", c.intake_user); !r) return std::unexpected(r.error());
    if (auto r = check_role_name("keeper_user", c.keeper_user); !r) return std::unexpected(r.error());
    if (c.intake_user == c.keeper_user) {
      return fail(Errc::config, "[storage].intake_user and keeper_user must differ: the intake's role may only add "
                                "to the inbox");
    }
    for (auto [key, text, out] : {std::tuple{"intake_password_file", &intake_password_file, &c.intake_password_file},
                                  std::tuple{"keeper_password_file", &keeper_password_file, &c.keeper_password_file}}) {
      if (text->empty()) continue;
      const std::filesystem::path path(*text);
      *out = path.is_absolute() ? path : origin.parent_path() / path;
      // A copy of the data or of the keys must not carry a database password.
      if (crypto::path_is_within(*out, c.data_dir) || crypto::path_is_within(*out, c.keys_dir)) {
        return fail(Errc::config, "[storage]." + std::string(key) +
                                      " must be outside the data directory and the key directory");
      }
    }
    if (!c.intake_password_file.empty() && c.intake_password_file == c.keeper_password_file) {
      return fail(Errc::config, "[storage].intake_password_file and keeper_password_file must differ: the intake's "
                                "host must not hold the keeper's password");
    }
  }
  auto l = parse_listen(listen);
  if (!l) return std::unexpected(l.error());
  c.intake_listen = *l;
  if (threads < 0 || threads > 256) return fail(Errc::config, "[intake].threads must be 0..256");
  c.threads = static_cast<unsigned>(threads);
  if (fold_interval < 10 || fold_interval > 60000) return fail(Errc::config, "[keeper].fold_interval_ms must be 10..60000");
  c.fold_interval_ms = static_cast<unsigned>(fold_interval);
  if (fold_batch < 1 || fold_batch > 100000) return fail(Errc::config, "[keeper].fold_batch must be 1..100000");
  c.fold_batch = static_cast<std::size_t>(fold_batch);
  if (max_tags < 0 || max_tags > 100) return fail(Errc::config, "[intake].max_tags must be 0..100");
  c.intake.max_tags = static_cast<std::size_t>(max_tags);
  if (!(c.rate_per_minute > 0) || !(c.burst >= 1)) {
    return fail(Errc::config, "[intake].rate_per_minute must be > 0 and burst >= 1");
  }
  if (c.intake.default_region.size() != 2) return fail(Errc::config, "[intake].default_region must be a two-letter region");
  static const Keys known_fields = {"given_name", "family_name", "email", "phone", "street", "postal_code", "locality", "country"};
  for (const auto& f : c.intake.collect) {
    if (!known_fields.contains(f)) return fail(Errc::config, "[intake].collect names an unknown field '" + f + "'");
  }
  for (const auto& f : c.intake.require) {
    if (std::find(c.intake.collect.begin(), c.intake.collect.end(), f) == c.intake.collect.end()) {
      return fail(Errc::config, "[intake].require names '" + f + "', which [intake].collect does not collect");
    }
  }
  if (c.intake.sources.size() > 16) return fail(Errc::config, "[intake].sources may name at most 16 fields");
  for (const auto& f : c.intake.sources) {
    const bool shaped = !f.empty() && f.size() <= 40 && std::all_of(f.begin(), f.end(), [](char ch) {
      return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
    });
    if (!shaped || known_fields.contains(f) || f == "tag" || f.starts_with("consent_")) {
      return fail(Errc::config, "[intake].sources entries must be names of 1..40 of a-z, 0-9, _ and -, "
                                "other than the form's own fields");
    }
  }
  for (const auto& o : c.allowed_origins) {
    if (!(o.starts_with("https://") || o.starts_with("http://")) || o.find('/', 8) != std::string::npos) {
      return fail(Errc::config, "[intake].allowed_origins entries must be origins like https://example.org");
    }
  }
  std::string console_listen = "127.0.0.1:8081";
  int64_t console_workers = c.console.workers;
  if (const auto* t = sub(root, "console")) {
    if (auto r = refuse_unknown(*t, {"listen", "session_idle_minutes", "session_absolute_hours", "enabled",
                                     "hostnames", "workers", "tls_certificate", "tls_key"},
                                "console");
        !r) {
      return std::unexpected(r.error());
    }
    if (auto r = read(*t, "console", "enabled", c.console.enabled); !r) return std::unexpected(r.error());
    if (auto r = read_strings(*t, "console", "hostnames", c.console.hostnames); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "console", "workers", console_workers); !r) return std::unexpected(r.error());
    if (auto r = read_tls(*t, "console", c.console.tls); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "console", "listen", console_listen); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "console", "session_idle_minutes", c.console.session_idle_minutes); !r) {
      return std::unexpected(r.error());
    }
    if (auto r = read(*t, "console", "session_absolute_hours", c.console.session_absolute_hours); !r) {
      return std::unexpected(r.error());
    }
  }
  auto cl = parse_listen(console_listen);
  if (!cl) return std::unexpected(cl.error());
  c.console.listen = *cl;
  if (c.console.session_idle_minutes < 1 || c.console.session_idle_minutes > 24 * 60) {
    return fail(Errc::config, "[console].session_idle_minutes must be 1..1440");
  }
  if (c.console.session_absolute_hours < 1 || c.console.session_absolute_hours > 7 * 24) {
    return fail(Errc::config, "[console].session_absolute_hours must be 1..168");
  }
  if (c.console.session_idle_minutes > c.console.session_absolute_hours * 60) {
    return fail(Errc::config, "[console].session_idle_minutes must not exceed session_absolute_hours");
  }
  if (console_workers < 1 || console_workers > 64) return fail(Errc::config, "[console].workers must be 1..64");
  c.console.workers = static_cast<unsigned>(console_workers);
  if (c.console.enabled && c.console.listen.port != 0 && c.console.listen.host == c.intake_listen.host &&
      c.console.listen.port == c.intake_listen.port) {
    return fail(Errc::config, "[console].listen must differ from [intake].listen: the console is never served "
                              "on the public address");
  }
  for (const auto& h : c.console.hostnames) {
    if (h.empty() || h.size() > 253 || h.find_first_of(":/ ") != std::string::npos) {
      return fail(Errc::config, "[console].hostnames entries must be bare host names");
    }
  }
  if (const auto* t = sub(root, "guard")) {
    if (auto r = read_guard(*t, c.budgets); !r) return std::unexpected(r.error());
  }
  if (const auto* t = sub(root, "alerts")) {
    if (auto r = read_alerts(*t, c.alerts); !r) return std::unexpected(r.error());
  }
  if (const auto* t = sub(root, "accounts")) {
    if (auto r = read_accounts(*t, c.accounts); !r) return std::unexpected(r.error());
  }
  if (const auto* t = sub(root, "retention")) {
    if (auto r = refuse_unknown(*t, {"record_months", "phone_months", "unconfirmed_days"}, "retention"); !r) {
      return std::unexpected(r.error());
    }
    auto& o = c.retention;
    if (auto r = read(*t, "retention", "record_months", o.record_months); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "retention", "phone_months", o.phone_months); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "retention", "unconfirmed_days", o.unconfirmed_days); !r) return std::unexpected(r.error());
    if (o.record_months < 0 || o.record_months > 240) return fail(Errc::config, "[retention].record_months must be 0..240");
    if (o.phone_months < 0 || o.phone_months > 240) return fail(Errc::config, "[retention].phone_months must be 0..240");
    if (o.unconfirmed_days < 0 || o.unconfirmed_days > 3650) {
      return fail(Errc::config, "[retention].unconfirmed_days must be 0..3650");
    }
    if (o.unconfirmed_days != 0 && o.unconfirmed_days < 8) {
      return fail(Errc::config, "[retention].unconfirmed_days must be 0 or at least 8 (a confirmation link works 7)");
    }
  }
  if (const auto* t = sub(root, "mailings")) {
    if (auto r = refuse_unknown(*t, {"approval_above", "batch", "per_hour", "connections"}, "mailings"); !r) {
      return std::unexpected(r.error());
    }
    auto& o = c.mailings;
    std::int64_t batch = static_cast<std::int64_t>(o.batch), connections = static_cast<std::int64_t>(o.connections);
    if (auto r = read(*t, "mailings", "connections", connections); !r) return std::unexpected(r.error());
    if (connections < 1 || connections > 16) return fail(Errc::config, "[mailings].connections must be 1..16");
    o.connections = static_cast<std::size_t>(connections);
    if (auto r = read(*t, "mailings", "approval_above", o.approval_above); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "mailings", "batch", batch); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "mailings", "per_hour", o.per_hour); !r) return std::unexpected(r.error());
    if (o.approval_above < 0) return fail(Errc::config, "[mailings].approval_above must be 0 or more");
    if (batch < 1 || batch > 1000) return fail(Errc::config, "[mailings].batch must be 1..1000");
    if (o.per_hour < 0) return fail(Errc::config, "[mailings].per_hour must be 0 (no limit) or more");
    o.batch = static_cast<std::size_t>(batch);
  }
  if (const auto* t = sub(root, "mail")) {
    MailConfig m;
    if (auto r = read_mail(*t, m); !r) return std::unexpected(r.error());
    c.mail = std::move(m);
  }
  if (const auto* t = sub(root, "bounces")) {
    if (auto r = read_bounces(*t, c.bounces.emplace()); !r) return std::unexpected(r.error());
    if (!c.mail) return fail(Errc::config, "[bounces] needs [mail]: without it nothing is sent to bounce");
    c.mail->supporter.mailto_unsubscribe = true;  // someone reads what comes to the mailto: address
  }
  if (const auto* t = sub(root, "exports")) {
    if (auto r = refuse_unknown(*t, {"dir", "canary_domain", "canaries", "request_hours"}, "exports"); !r) {
      return std::unexpected(r.error());
    }
    std::string dir;
    std::int64_t canaries = static_cast<std::int64_t>(c.exports.canaries), hours = c.exports.ttl_seconds / 3600;
    if (auto r = read(*t, "exports", "dir", dir); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "exports", "canary_domain", c.exports.canary_domain); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "exports", "canaries", canaries); !r) return std::unexpected(r.error());
    if (auto r = read(*t, "exports", "request_hours", hours); !r) return std::unexpected(r.error());
    if (canaries < 1 || canaries > 100) return fail(Errc::config, "[exports].canaries must be 1..100");
    if (hours < 1 || hours > 24 * 7) return fail(Errc::config, "[exports].request_hours must be 1..168");
    if (c.exports.canary_domain.empty() || c.exports.canary_domain.find_first_of("@/ :") != std::string::npos) {
      return fail(Errc::config, "[exports].canary_domain must be a bare domain");
    }
    c.exports.dir = dir;
    c.exports.canaries = static_cast<std::size_t>(canaries);
    c.exports.ttl_seconds = hours * 3600;
  }
  if (c.exports.dir.empty() && !c.data_dir.empty()) c.exports.dir = c.data_dir / "exports";
  static const Keys levels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (!levels.contains(c.log_level)) return fail(Errc::config, "[log].level is not a known level");
  return c;
}

auth::AuthOptions auth_options(const Config& c) {
  auth::AuthOptions o;
  o.session_idle_seconds = c.console.session_idle_minutes * 60;
  o.session_absolute_seconds = c.console.session_absolute_hours * 3600;
  o.approver_cooling_seconds = c.accounts.approver_cooling_hours * 3600;
  o.request_ttl_seconds = c.accounts.request_hours * 3600;
  o.enrolment_seconds = c.accounts.enrolment_hours * 3600;
  return o;
}

Result<void> load_intake_logo(Config& c) {
  if (c.intake_logo.empty()) return {};
  constexpr std::uintmax_t kMaxLogo = 256 * 1024;
  std::error_code ec;
  const auto size = std::filesystem::file_size(c.intake_logo, ec);
  if (ec) return fail(Errc::config, "[intake] logo: cannot read " + c.intake_logo.string());
  if (size > kMaxLogo) return fail(Errc::config, "[intake] logo: the file is larger than 256 KiB");
  std::ifstream in(c.intake_logo, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return fail(Errc::config, "[intake] logo: cannot read " + c.intake_logo.string());
  // The type from the bytes, not the name: what the browser will sniff.
  std::string type;
  if (bytes.starts_with("\x89PNG\r\n\x1a\n")) {
    type = "image/png";
  } else if (bytes.starts_with("\xFF\xD8\xFF")) {
    type = "image/jpeg";
  } else {
    const auto start = bytes.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
    const std::string_view head = std::string_view(bytes).substr(start == std::string::npos ? bytes.size() : start);
    if ((head.starts_with("<svg") || head.starts_with("<?xml")) && bytes.find("<svg") != std::string::npos) {
      type = "image/svg+xml";
    }
  }
  if (type.empty()) return fail(Errc::config, "[intake] logo: the file is not a PNG, JPEG or SVG image");
  c.intake.logo = std::move(bytes);
  c.intake.logo_type = std::move(type);
  return {};
}

Result<Config> load_config(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(Errc::not_found, "cannot read configuration file " + file.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), file);
}

std::string render_config(const Config& c) {
  std::ostringstream o;
  o << "# rempart configuration. Every key is listed; unknown keys are refused.\n"
    << "# This file holds no secret: the keys live in [keys].dir.\n\n"
    << "[storage]\n";
  std::string backends;
  for (const auto n : store::backend_names()) backends += (backends.empty() ? "" : " or ") + quote(n);
  o << "backend = " << quote(c.backend) << "   # " << backends << " (docs/operations.md)\n";
  if (c.backend == kPostgres) {
    o << "data_dir = " << quote(c.data_dir.string()) << "   # local files (exports); mode 0700\n"
      << "dsn = " << quote(c.dsn) << "   # libpq keywords or URI: server(s) and database, never a user or a password\n"
      << "intake_user = " << quote(c.intake_user) << "   # the intake's database role: adds to the inbox only\n"
      << "keeper_user = " << quote(c.keeper_user) << "\n"
      << "intake_password_file = " << quote(c.intake_password_file.string())
      << "   # one line, mode 0600; \"\" = none (peer, certificate or ~/.pgpass)\n"
      << "keeper_password_file = " << quote(c.keeper_password_file.string()) << "\n"
      << "disk_reserve_mib = " << c.disk_reserve_mib
      << "   # alert when less is free in data_dir; watch the database server's disk apart\n\n";
  } else {
    o << "data_dir = " << quote(c.data_dir.string()) << "   # database; mode 0700\n"
      << "disk_reserve_mib = " << c.disk_reserve_mib
      << "   # the intake refuses sign-ups (503) below this much free space, kept for the keeper; 0 = none\n"
      << "# With backend = \"postgresql\", the database is on a server (docs/operations.md):\n"
      << "# dsn = \"host=db.example.org dbname=rempart sslmode=verify-full\"   # never a user or a password\n"
      << "# intake_user = \"rempart_intake\"\n"
      << "# keeper_user = \"rempart_keeper\"\n"
      << "# intake_password_file = \"/etc/rempart/intake/db-password\"   # one line, mode 0600\n"
      << "# keeper_password_file = \"/etc/rempart/keeper/db-password\"\n\n";
  }
  o << "[keys]\n"
    << "dir = " << quote(c.keys_dir.string()) << "   # keyrings; must not be inside data_dir\n"
    << "rewrap_per_second = " << c.rewrap_per_second
    << "   # records moved to a new key version a second after a rotation (docs/key-custody.md)\n"
    << "# keeper.keyring sealed by a PKCS#11 token (docs/key-custody.md; then: rempart keys seal):\n"
    << "# provider = \"pkcs11\"\n"
    << "# module = \"/usr/lib/softhsm/libsofthsm2.so\"\n"
    << "# token = \"rempart\"   # the token's label\n"
    << "# pin_file = \"/etc/rempart/token-pin\"   # one line, mode 0600\n\n"
    << "[ui]\n"
    << "default_language = " << quote(c.default_language)
    << "   # \"en\" or \"fr\": pages and mails when a request names neither\n\n"
    << "[intake]\n"
    << "listen = " << quote(c.intake_listen.host + ":" + std::to_string(c.intake_listen.port)) << "\n"
    << "threads = " << c.threads << "   # 0 = one per core\n"
    << "default_region = " << quote(c.intake.default_region) << "   # for phone numbers without +country code\n"
    << "collect = " << quote_list(c.intake.collect) << "   # fields stored; others are dropped\n"
    << "require = " << quote_list(c.intake.require) << "   # fields a sign-up must fill in (e-mail or phone always)\n"
    << "sources = " << quote_list(c.intake.sources) << "   # extra names kept as where a sign-up came from\n"
    << "allowed_origins = " << quote_list(c.allowed_origins) << "   # websites that may post sign-ups by JavaScript\n"
    << "rate_per_minute = " << c.rate_per_minute << "   # sign-ups per client address\n"
    << "burst = " << c.burst << "\n"
    << "max_tags = " << c.intake.max_tags << "\n"
    << "tls_certificate = " << quote(c.intake_tls.certificate.string()) << "   # PEM; \"\" = plain HTTP (behind a TLS proxy)\n"
    << "tls_key = " << quote(c.intake_tls.key.string()) << "\n"
    << "organisation = " << quote(c.intake.organisation) << "   # named in the sign-up page's title\n"
    << "# The words beside the consent boxes, kept in the consent log by their hash. \"\" = rempart's own,\n"
    << "# in the page's language; a text of yours is shown in every language.\n"
    << "colour = " << quote(c.intake.colour) << "   # \"#rrggbb\" of the page's buttons and links; \"\" = ours\n"
    << "logo = " << quote(c.intake_logo.string())
    << "   # PNG, JPEG or SVG (at most 256 KiB) above the page's heading; beside this file if relative\n"
    << "consent_email_text = " << quote(c.intake.consent_email_text) << "\n"
    << "consent_sms_text = " << quote(c.intake.consent_sms_text) << "\n\n";
  const auto& pn = c.intake.privacy;
  if (pn.controller.empty()) {
    o << "# [intake.privacy]   # the privacy notice under the sign-up form (docs/intake-api.md); none without it\n"
      << "# controller = \"Mouvement Exemple, 1 rue de la Paix, 75002 Paris\"\n"
      << "# purpose = \"keep you informed of our campaigns and invite you to act with us\"\n"
      << "# retention = \"three years after your last contact with us\"\n"
      << "# recipients = \"\"   # \"\" = the controller and the people who work for it\n"
      << "# contact = \"dpo@mouvement.example\"\n\n";
  } else {
    o << "[intake.privacy]   # the privacy notice under the sign-up form (docs/intake-api.md)\n"
      << "controller = " << quote(pn.controller) << "\n"
      << "purpose = " << quote(pn.purpose) << "\n"
      << "retention = " << quote(pn.retention) << "\n"
      << "recipients = " << quote(pn.recipients) << "   # \"\" = the controller and the people who work for it\n"
      << "contact = " << quote(pn.contact) << "\n\n";
  }
  o << "[keeper]\n"
    << "fold_interval_ms = " << c.fold_interval_ms << "\n"
    << "fold_batch = " << c.fold_batch << "\n\n"
    << "[log]\n"
    << "level = " << quote(c.log_level) << "\n\n"
    << "[audit]\n"
    << "checkpoint_every = " << c.audit.checkpoint_every << "   # sign the head of the audit log every N entries\n"
    << "checkpoint_seconds = " << c.audit.checkpoint_seconds << "   # ... or every T seconds\n"
    << "checkpoint_file = " << quote(c.audit.checkpoint_file.string())
    << "   # append-only, outside data_dir; \"\" = none\n"
    << "checkpoint_syslog = " << (c.audit.checkpoint_syslog ? "true" : "false") << "   # also log each checkpoint\n"
    << "verify_seconds = " << c.audit.verify_seconds
    << "   # read the whole chain in the background this often; alert on a fault\n\n"
    << "[console]\n"
    << "listen = " << quote(c.console.listen.host + ":" + std::to_string(c.console.listen.port))
    << "   # admin console (keeper role only); never the intake address\n"
    << "session_idle_minutes = " << c.console.session_idle_minutes << "\n"
    << "session_absolute_hours = " << c.console.session_absolute_hours << "\n"
    << "enabled = " << (c.console.enabled ? "true" : "false") << "   # serve the console with the keeper role\n"
    << "hostnames = " << quote_list(c.console.hostnames) << "   # Host names accepted besides localhost\n"
    << "workers = " << c.console.workers << "   # threads for sign-ins and database work\n"
    << "tls_certificate = " << quote(c.console.tls.certificate.string()) << "   # PEM; \"\" = plain HTTP (loopback only)\n"
    << "tls_key = " << quote(c.console.tls.key.string()) << "\n\n"
    << "[guard]   # reveal budgets per account or API token; crossing one locks it at once (0 = no limit)\n";
  for (const auto k : {guard::Counted::name, guard::Counted::email, guard::Counted::phone, guard::Counted::address}) {
    const std::string n(guard::counted_name(k));
    o << n << "_per_hour = " << c.budgets.of(k).per_hour << "\n" << n << "_per_day = " << c.budgets.of(k).per_day << "\n";
  }
  const auto& rows = c.budgets.of(guard::Counted::masked);
  const auto& misses = c.budgets.of(guard::Counted::miss);
  o << "masked_rows_per_minute = " << rows.per_minute
    << "   # rows shown masked (lists, records, every search, hit or miss)\n"
    << "masked_rows_per_hour = " << rows.per_hour << "\n"
    << "masked_rows_per_day = " << rows.per_day << "\n"
    << "search_misses_per_minute = " << misses.per_minute << "   # searches that found nobody\n"
    << "search_misses_per_hour = " << misses.per_hour << "\n"
    << "search_misses_per_day = " << misses.per_day << "\n";
  for (std::size_t i = 0; i < std::size(guard::kBudgetRoles); ++i) {
    if (!c.budgets.masked_by_role[i]) continue;
    const auto& l = *c.budgets.masked_by_role[i];
    o << "\n[guard." << guard::kBudgetRoles[i] << "]   # masked rows of this role\n"
      << "masked_rows_per_minute = " << l.per_minute << "\n"
      << "masked_rows_per_hour = " << l.per_hour << "\n"
      << "masked_rows_per_day = " << l.per_day << "\n";
  }
  o << "\n[accounts]   # two-person privilege changes (docs/accounts.md)\n"
    << "approver_cooling_hours = " << c.accounts.approver_cooling_hours
    << "   # an approver must have been an admin this long before the request\n"
    << "request_hours = " << c.accounts.request_hours << "   # an undecided request expires after this\n"
    << "enrolment_hours = " << c.accounts.enrolment_hours << "   # an enrolment link works this long\n\n"
    << "[alerts]   # where the guard reports locks; see docs/guard.md for [alerts.webhook] and [alerts.smtp]\n"
    << "stderr_json = " << (c.alerts.stderr_json ? "true" : "false") << "\n"
    << "file = " << quote(c.alerts.file.string()) << "   # append-only JSON lines; \"\" = none\n\n"
    << "[exports]   # two-person bulk exports, encrypted to the requester (docs/exports.md)\n"
    << "dir = " << quote(c.exports.dir.string()) << "   # encrypted files only\n"
    << "canary_domain = " << quote(c.exports.canary_domain)
    << "   # a domain you receive mail for: canary rows use it, so a leak is noticed\n"
    << "canaries = " << c.exports.canaries << "   # canary rows per export\n"
    << "request_hours = " << c.exports.ttl_seconds / 3600 << "   # an unapproved request expires after this\n";
  o << "\n[retention]   # data kept no longer than needed (docs/retention.md); 0 = never\n"
    << "record_months = " << c.retention.record_months << "   # erase a record after this long without activity\n"
    << "phone_months = " << c.retention.phone_months << "   # drop its phone number after this long without activity\n"
    << "unconfirmed_days = " << c.retention.unconfirmed_days
    << "   # erase a sign-up whose e-mail consent was never confirmed\n";
  o << "\n[mailings]   # mailings to segments, sent with [mail] (docs/mailings.md)\n"
    << "approval_above = " << c.mailings.approval_above << "   # recipients above which a second person approves\n"
    << "batch = " << c.mailings.batch << "   # recipients per batch: the most a crash can send twice\n"
    << "per_hour = " << c.mailings.per_hour << "   # messages per hour at most; 0 = only [mail] per_minute\n"
    << "connections = " << c.mailings.connections << "   # connections to the relay at once\n";
  if (c.mail) {
    const auto& m = *c.mail;
    o << "\n[mail]   # mail to supporters: confirmations, welcome, unsubscribe (docs/supporter-mail.md)\n"
      << "smtp_url = " << quote(m.smtp.url) << "\n"
      << "from = " << quote(m.supporter.from) << "\n"
      << "organisation = " << quote(m.supporter.organisation) << "\n"
      << "links_base = " << quote(m.supporter.links_base) << "   # the intake's public address\n"
      << "bounce_address = " << quote(m.supporter.bounce_address)
      << "   # bounces come back to its local part +a record's token (VERP); \"\" = from\n"
      << "require_tls = " << (m.smtp.require_tls ? "true" : "false") << "   # false only for a relay on the loopback\n";
    if (!m.smtp.username.empty()) {
      o << "username = " << quote(m.smtp.username) << "\n"
        << "password_file = " << quote(m.smtp.password_file.string()) << "\n";
    }
    o << "confirm_days = " << m.supporter.confirm_valid.count() / 86400 << "\n"
      << "confirmations_per_day = " << m.supporter.confirmations_per_day << "\n"
      << "per_minute = " << m.supporter.per_minute << "\n"
      << "max_attempts = " << m.supporter.max_attempts << "\n";
    if (c.bounces) {
      const auto& b = *c.bounces;
      o << "\n[bounces]   # the bounce mailbox, read over IMAP (docs/mailings.md)\n"
        << "imap_url = " << quote(b.imap.url) << "\n"
        << "username = " << quote(b.imap.username) << "\n"
        << "password_file = " << quote(b.imap.password_file.string()) << "\n"
        << "require_tls = " << (b.imap.require_tls ? "true" : "false") << "\n"
        << "poll_seconds = " << b.poll.count() << "\n"
        << "hard = " << b.hard << "   # hard bounces that mark an address bouncing\n"
        << "soft = " << b.soft << "   # soft bounces within soft_days that do\n"
        << "soft_days = " << b.soft_days << "\n"
        << "complaints = " << b.complaints << "   # spam complaints that withdraw the e-mail consent\n";
    } else {
      o << "\n# [bounces]   # read bounces and complaints from a mailbox (docs/mailings.md)\n"
        << "# imap_url = \"imaps://mail.example.org/INBOX\"\n"
        << "# username = \"bounces@example.org\"\n"
        << "# password_file = \"/etc/rempart/imap-password\"\n";
    }
  } else {
    o << "\n# [mail]   # mail to supporters; without it nothing is mailed (docs/supporter-mail.md)\n"
      << "# smtp_url = \"smtp://127.0.0.1:25\"\n"
      << "# from = \"news@example.org\"\n"
      << "# organisation = \"Our movement\"\n"
      << "# links_base = \"https://signup.example.org\"\n";
  }
  return o.str();
}

}  // namespace rempart::cli
