#include "services/selfcheck.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include <fmt/args.h>
#include <fmt/format.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/keyring.hpp"
#include "i18n/i18n.hpp"

namespace rempart::services::selfcheck {

namespace fs = std::filesystem;

const char* level_name(Level l) noexcept {
  switch (l) {
    case Level::ok: return "ok";
    case Level::warn: return "warn";
    case Level::fail: return "fail";
  }
  return "fail";
}

namespace {

std::string format_with(const char* pattern, const std::vector<std::string>& args) {
  fmt::dynamic_format_arg_store<fmt::format_context> store;
  for (const auto& a : args) store.push_back(a);
  return fmt::vformat(pattern, store);
}

Finding make(std::string id, Level level, Text finding, Text fix = {}) {
  Finding f;
  f.id = std::move(id);
  f.level = level;
  f.finding = std::move(finding);
  f.fix = std::move(fix);
  return f;
}

std::string octal_mode(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

std::string days_text(std::int64_t seconds) { return std::to_string(seconds / 86400); }

}  // namespace

std::string Text::english() const {
  if (msgid == nullptr || *msgid == '\0') return {};
  try {
    return format_with(msgid, args);
  } catch (const fmt::format_error&) {
    return msgid;
  }
}

std::string Text::translated() const {
  if (msgid == nullptr || *msgid == '\0') return {};
  try {
    return format_with(i18n::tr(msgid), args);
  } catch (const fmt::format_error&) {
    return english();
  }
}

std::size_t Report::count(Level l) const {
  return static_cast<std::size_t>(
      std::count_if(findings.begin(), findings.end(), [l](const Finding& f) { return f.level == l; }));
}

int Report::exit_code(bool strict) const {
  if (count(Level::fail) != 0) return 1;
  if (strict && count(Level::warn) != 0) return 1;
  return 0;
}

nlohmann::json Report::to_json() const {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& f : findings) {
    items.push_back({{"id", f.id},
                     {"group", f.group()},
                     {"level", level_name(f.level)},
                     {"finding", f.finding.english()},
                     {"fix", f.fix.english()},
                     {"msgid", f.finding.msgid},
                     {"args", f.finding.args},
                     {"fix_msgid", f.fix.msgid},
                     {"fix_args", f.fix.args}});
  }
  return {{"version", 1},
          {"at", at},
          {"summary", {{"fail", count(Level::fail)}, {"warn", count(Level::warn)}, {"ok", count(Level::ok)}}},
          {"findings", std::move(items)}};
}

// ---- keys and data ---------------------------------------------------------

namespace {

// The group and other bits of a file or directory that let others read
// or enter it, and its owner; nullopt when it cannot be read.
std::optional<struct stat> stat_of(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return std::nullopt;
  return st;
}

}  // namespace

void check_keys(const Settings& s, std::vector<Finding>& out) {
  const std::string keys = s.keys_dir.string(), data = s.data_dir.string();
  if (crypto::path_is_within(s.keys_dir, s.data_dir) || crypto::path_is_within(s.data_dir, s.keys_dir)) {
    out.push_back(make("keys.location", Level::fail,
                       {N_("the key directory {} and the data directory {} are inside one another"), {keys, data}},
                       {N_("move the keys out of the data directory (a copy of the data must not carry them) and "
                           "set [keys].dir"),
                        {}}));
  } else {
    out.push_back(make("keys.location", Level::ok,
                       {N_("the key directory {} is outside the data directory"), {keys}}));
  }
  const auto dir = stat_of(s.keys_dir);
  if (!dir) {
    out.push_back(make("keys.mode", Level::fail, {N_("the key directory {} cannot be read"), {keys}},
                       {N_("create it, or correct [keys].dir, then run rempart as the user who owns it"), {}}));
    return;
  }
  std::vector<std::string> open_files, foreign_owner;
  if ((dir->st_mode & 077) != 0) open_files.push_back(s.keys_dir.filename().string() + "/ " + octal_mode(dir->st_mode));
  const auto data_owner = stat_of(s.data_dir);
  std::error_code ec;
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(s.keys_dir, ec)) {
    const auto st = stat_of(e.path());
    if (!st || !S_ISREG(st->st_mode)) continue;
    ++files;
    if ((st->st_mode & 077) != 0) open_files.push_back(e.path().filename().string() + " " + octal_mode(st->st_mode));
    if (st->st_uid != dir->st_uid) foreign_owner.push_back(e.path().filename().string());
  }
  if (ec) {
    out.push_back(make("keys.mode", Level::fail, {N_("the key directory {} cannot be listed"), {keys}},
                       {N_("run the self-check as the user rempart runs as"), {}}));
    return;
  }
  if (!open_files.empty()) {
    std::string list;
    for (const auto& f : open_files) list += (list.empty() ? "" : ", ") + f;
    out.push_back(make("keys.mode", Level::fail, {N_("key files open to group or others: {}"), {list}},
                       {N_("chmod 700 {} and chmod 600 every file in it"), {keys}}));
  } else {
    out.push_back(make("keys.mode", Level::ok,
                       {N_("the key directory and its {} files are closed to group and others"),
                        {std::to_string(files)}}));
  }
  if (!foreign_owner.empty() || (data_owner && data_owner->st_uid != dir->st_uid)) {
    std::string list;
    for (const auto& f : foreign_owner) list += (list.empty() ? "" : ", ") + f;
    if (list.empty()) list = s.keys_dir.filename().string() + "/";
    out.push_back(make("keys.owner", Level::warn,
                       {N_("key files not owned by the owner of the key directory and the data directory: {}"), {list}},
                       {N_("chown the key directory and its files to the user rempart runs as"), {}}));
  } else {
    out.push_back(make("keys.owner", Level::ok, {N_("the keys belong to the user who owns the data"), {}}));
  }
  if (s.key_token) {
    out.push_back(make("keys.provider", Level::ok,
                       {N_("the keeper keyring is sealed by a PKCS#11 token"), {}}));
  } else {
    out.push_back(make("keys.provider", Level::ok,
                       {N_("the keeper keyring is a file (no token): a copy of the key directory opens the data"), {}}));
  }
}

void check_data(const Settings& s, std::vector<Finding>& out) {
  const std::string data = s.data_dir.string();
  const auto dir = stat_of(s.data_dir);
  if (!dir) {
    out.push_back(make("data.mode", Level::fail, {N_("the data directory {} cannot be read"), {data}},
                       {N_("run `rempart init`, or correct [storage].data_dir"), {}}));
    return;
  }
  std::vector<std::string> open;
  if ((dir->st_mode & 077) != 0) open.push_back(s.data_dir.filename().string() + "/ " + octal_mode(dir->st_mode));
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(s.data_dir, ec)) {
    const auto st = stat_of(e.path());
    if (!st || !S_ISREG(st->st_mode)) continue;
    if ((st->st_mode & 077) != 0) open.push_back(e.path().filename().string() + " " + octal_mode(st->st_mode));
  }
  if (!open.empty()) {
    std::string list;
    for (const auto& f : open) list += (list.empty() ? "" : ", ") + f;
    out.push_back(make("data.mode", Level::fail, {N_("data files open to group or others: {}"), {list}},
                       {N_("chmod 700 {} and chmod 600 the files in it"), {data}}));
  } else {
    out.push_back(make("data.mode", Level::ok, {N_("the data directory {} is closed to group and others"), {data}}));
  }
  // Secrets named by the configuration: passwords, PINs, webhook keys.
  for (const auto& f : s.secret_files) {
    const auto st = stat_of(f.path);
    const std::string id = "secrets.mode";
    if (!st) {
      out.push_back(make(id, Level::fail, {N_("{} names {}, which cannot be read"), {f.key, f.path.string()}},
                         {N_("create the file (one line, mode 0600) or correct {}"), {f.key}}));
    } else if ((st->st_mode & 077) != 0) {
      out.push_back(make(id, Level::fail,
                         {N_("{} ({}) is open to group or others (mode {})"),
                          {f.key, f.path.string(), octal_mode(st->st_mode)}},
                         {N_("chmod 600 {}"), {f.path.string()}}));
    } else if (crypto::path_is_within(f.path, s.data_dir)) {
      out.push_back(make(id, Level::fail, {N_("{} is inside the data directory"), {f.key}},
                         {N_("move it out of the data directory (a copy of the data must not carry it)"), {}}));
    } else {
      out.push_back(make(id, Level::ok, {N_("{} is closed to group and others"), {f.key}}));
    }
  }
}

// ---- listeners ---------------------------------------------------------------

bool is_loopback(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost" || host == "::1" || host == "ip6-localhost") return true;
  if (!host.starts_with("127.")) return false;
  int dots = 0;
  for (const char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

namespace {

// Days until the certificate's notAfter (negative when past); nullopt when
// the file cannot be read as a PEM certificate.
std::optional<std::int64_t> certificate_days_left(const fs::path& file, std::int64_t now) {
  FILE* f = std::fopen(file.c_str(), "rb");
  if (f == nullptr) return std::nullopt;
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (cert == nullptr) return std::nullopt;
  int days = 0, secs = 0;
  ASN1_TIME* at = ASN1_TIME_set(nullptr, static_cast<time_t>(now));
  const int ok = at != nullptr ? ASN1_TIME_diff(&days, &secs, at, X509_get0_notAfter(cert)) : 0;
  ASN1_TIME_free(at);
  X509_free(cert);
  if (ok != 1) return std::nullopt;
  return days;
}

}  // namespace

void check_listeners(const Settings& s, std::vector<Finding>& out, std::int64_t now) {
  for (const auto& l : s.listeners) {
    const std::string id = "listen." + l.name;
    const std::string where = l.host + ":" + std::to_string(l.port);
    if (!l.enabled) {
      out.push_back(make(id, Level::ok, {N_("the {} is not served by this configuration"), {l.name}}));
      continue;
    }
    const bool tls = !l.tls_certificate.empty();
    if (!tls && !is_loopback(l.host)) {
      out.push_back(make(id, Level::fail,
                         {N_("the {} listens on {} without TLS: passwords and sessions cross the network in clear"),
                          {l.name, where}},
                         {N_("set tls_certificate and tls_key in [{}], or listen on 127.0.0.1 behind a TLS reverse "
                             "proxy"),
                          {l.name}}));
      continue;
    }
    if (!tls) {
      out.push_back(make(id, Level::ok,
                         {N_("the {} listens on the loopback ({}): plain HTTP stays on this machine"),
                          {l.name, where}}));
      continue;
    }
    out.push_back(make(id, Level::ok, {N_("the {} listens on {} with TLS"), {l.name, where}}));
    if (const auto key = stat_of(l.tls_key); key && (key->st_mode & 077) != 0) {
      out.push_back(make(id + "_key", Level::fail,
                         {N_("the {}'s TLS private key {} is open to group or others (mode {})"),
                          {l.name, l.tls_key.string(), octal_mode(key->st_mode)}},
                         {N_("chmod 600 {}"), {l.tls_key.string()}}));
    } else if (!key) {
      out.push_back(make(id + "_key", Level::fail,
                         {N_("the {}'s TLS private key {} cannot be read"), {l.name, l.tls_key.string()}},
                         {N_("correct tls_key in [{}]"), {l.name}}));
    }
    const auto left = certificate_days_left(l.tls_certificate, now);
    if (!left) {
      out.push_back(make(id + "_certificate", Level::fail,
                         {N_("the {}'s certificate {} cannot be read"), {l.name, l.tls_certificate.string()}},
                         {N_("correct tls_certificate in [{}] (a PEM chain)"), {l.name}}));
    } else if (*left < 0) {
      out.push_back(make(id + "_certificate", Level::fail,
                         {N_("the {}'s certificate expired {} days ago"), {l.name, std::to_string(-*left)}},
                         {N_("renew it and restart rempart"), {}}));
    } else if (*left < 21) {
      out.push_back(make(id + "_certificate", Level::warn,
                         {N_("the {}'s certificate expires in {} days"), {l.name, std::to_string(*left)}},
                         {N_("renew it and restart rempart"), {}}));
    }
  }
}

// ---- settings --------------------------------------------------------------

namespace {

bool url_on_loopback(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return false;
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find('/'));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (rest.starts_with("[")) return is_loopback(rest.substr(0, rest.find(']') + 1));
  return is_loopback(rest.substr(0, rest.find(':')));
}

}  // namespace

void check_settings(const Settings& s, std::vector<Finding>& out) {
  // Reveal budgets: the guard's lock is what bounds a stolen session.
  {
    const guard::Budgets defaults;
    std::vector<std::string> off, raised;
    for (const auto k : guard::kAllCounted) {
      const auto& l = s.budgets.of(k);
      const auto& d = defaults.of(k);
      const std::string name(guard::counted_name(k));
      if (l.per_minute == 0 && l.per_hour == 0 && l.per_day == 0) {
        off.push_back(name);
      } else if ((d.per_day != 0 && (l.per_day == 0 || l.per_day > 10 * d.per_day)) ||
                 (d.per_hour != 0 && (l.per_hour == 0 || l.per_hour > 10 * d.per_hour))) {
        raised.push_back(name);
      }
    }
    const auto join = [](const std::vector<std::string>& v) {
      std::string joined;
      for (const auto& x : v) joined += (joined.empty() ? "" : ", ") + x;
      return joined;
    };
    if (!off.empty()) {
      out.push_back(make("guard.budgets", off.size() == std::size(guard::kAllCounted) ? Level::fail : Level::warn,
                         {N_("reveal and listing budgets switched off in [guard]: {}"), {join(off)}},
                         {N_("set them back (rempart init writes the defaults): a stolen session is then locked "
                             "after a few dozen records"),
                          {}}));
    } else if (!raised.empty()) {
      out.push_back(make("guard.budgets", Level::warn,
                         {N_("budgets raised more than tenfold, or without a daily or hourly limit, in [guard]: {}"),
                          {join(raised)}},
                         {N_("lower them; grant a raise to one account for a while instead (docs/guard.md)"), {}}));
    } else {
      out.push_back(make("guard.budgets", Level::ok, {N_("every reveal and listing budget is set"), {}}));
    }
  }
  // Alerts: a lock nobody hears of is an incident found weeks later.
  {
    const auto& a = s.alerts;
    const bool outside = a.webhook.has_value() || a.smtp.has_value();
    if (!outside && a.file.empty() && !a.stderr_json) {
      out.push_back(make("alerts.sink", Level::fail, {N_("alerts go nowhere: every sink in [alerts] is off"), {}},
                         {N_("configure [alerts.webhook] or [alerts.smtp] (docs/guard.md)"), {}}));
    } else if (!outside) {
      out.push_back(make("alerts.sink", Level::warn,
                         {N_("alerts only go to this machine's log and files: nobody is told when the guard locks "
                             "someone"),
                          {}},
                         {N_("configure [alerts.webhook] (a chat room) or [alerts.smtp] (a mailbox someone reads)"),
                          {}}));
    } else {
      out.push_back(make("alerts.sink", Level::ok, {N_("alerts are sent off this machine"), {}}));
    }
  }
  // Outside checkpoints: without them a rolled-back log verifies.
  if (s.checkpoint_file.empty() && !s.checkpoint_syslog) {
    out.push_back(make("audit.checkpoint", Level::warn,
                       {N_("no outside checkpoint of the audit log: a truncated or rolled-back log would verify"), {}},
                       {N_("set [audit].checkpoint_file to a file outside the data directory (or checkpoint_syslog)"),
                        {}}));
  } else if (!s.checkpoint_file.empty() && crypto::path_is_within(s.checkpoint_file, s.data_dir)) {
    out.push_back(make("audit.checkpoint", Level::fail,
                       {N_("[audit].checkpoint_file {} is inside the data directory"), {s.checkpoint_file.string()}},
                       {N_("move it outside the data directory: a copy of the data must not carry its checkpoints"),
                        {}}));
  } else if (!s.checkpoint_file.empty()) {
    const auto st = stat_of(s.checkpoint_file);
    if (st && (st->st_mode & 022) != 0) {
      out.push_back(make("audit.checkpoint", Level::fail,
                         {N_("[audit].checkpoint_file {} may be written by group or others (mode {})"),
                          {s.checkpoint_file.string(), octal_mode(st->st_mode)}},
                         {N_("chmod 600 {}"), {s.checkpoint_file.string()}}));
    } else {
      out.push_back(make("audit.checkpoint", Level::ok,
                         {N_("audit checkpoints go to {}, outside the data directory"),
                          {s.checkpoint_file.string()}}));
    }
  } else {
    out.push_back(make("audit.checkpoint", Level::ok, {N_("audit checkpoints go to syslog"), {}}));
  }
  if (s.backend == "sqlite" && s.disk_reserve_mib == 0) {
    out.push_back(make("storage.disk_reserve", Level::warn,
                       {N_("no disk reserve: a flood of sign-ups can fill the disk the keeper needs"), {}},
                       {N_("set [storage].disk_reserve_mib (64 is the default)"), {}}));
  } else {
    out.push_back(make("storage.disk_reserve", Level::ok, {N_("a disk reserve of {} MiB is kept"),
                                                           {std::to_string(s.disk_reserve_mib)}}));
  }
  std::vector<std::string> kept;
  if (s.retention.record_months == 0) kept.emplace_back("record_months");
  if (s.retention.phone_months == 0) kept.emplace_back("phone_months");
  if (s.retention.unconfirmed_days == 0) kept.emplace_back("unconfirmed_days");
  if (!kept.empty()) {
    std::string list;
    for (const auto& k : kept) list += (list.empty() ? "" : ", ") + k;
    out.push_back(make("retention.off", Level::warn, {N_("data kept forever: [retention] {} = 0"), {list}},
                       {N_("set a period (docs/retention.md): what is not kept cannot leak"), {}}));
  } else {
    out.push_back(make("retention.off", Level::ok, {N_("every retention period is set"), {}}));
  }
  for (const auto& m : s.mail_links) {
    if (!m.require_tls && !url_on_loopback(m.url) && !m.url.starts_with("smtps://") &&
        !m.url.starts_with("imaps://")) {
      out.push_back(make("mail.tls", Level::fail,
                         {N_("{} sends over a network without requiring TLS"), {m.key}},
                         {N_("set require_tls = true in {} (false only for a relay on the loopback)"), {m.key}}));
    }
  }
  if (s.log_level == "trace" || s.log_level == "debug") {
    out.push_back(make("log.level", Level::warn, {N_("[log].level is {}: more is logged than operations need"),
                                                  {s.log_level}},
                       {N_("set [log].level = \"info\""), {}}));
  }
}

// ---- accounts --------------------------------------------------------------

void check_accounts(store::KeeperStore& st, std::vector<Finding>& out, std::int64_t now) {
  std::vector<store::AccountRow> rows;
  std::vector<std::int64_t> recovery_left;
  auto r = st.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto a = tx.accounts();
    if (!a) return std::unexpected(a.error());
    rows = std::move(*a);
    for (const auto& row : rows) {
      auto n = tx.count_unused_recovery_codes(row.id);
      if (!n) return std::unexpected(n.error());
      recovery_left.push_back(*n);
    }
    return {};
  });
  if (!r) {
    out.push_back(make("accounts.read", Level::fail, {N_("the accounts cannot be read ({})"),
                                                      {std::string(errc_name(r.error().code))}},
                       {N_("run the self-check as the user rempart runs as, with the configuration it uses"), {}}));
    return;
  }
  std::int64_t admins = 0, active = 0;
  bool any_totp_problem = false;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& a = rows[i];
    if (a.disabled) continue;
    const std::int64_t age = now - a.created_at;
    if (a.state == "enrolling") {
      any_totp_problem = true;
      if (a.enrol_expires_at != 0 && a.enrol_expires_at < now) {
        out.push_back(make("accounts.enrolment", Level::warn,
                           {N_("account {}: invited {} days ago, the enrolment link has expired"),
                            {a.name, days_text(age)}},
                           {N_("disable it (rempart admin disable) or file a new invitation"), {}}));
      } else {
        out.push_back(make("accounts.enrolment", Level::warn,
                           {N_("account {}: invited {} days ago, no password and authenticator yet"),
                            {a.name, days_text(age)}},
                           {N_("remind its owner to enrol, or disable it if nobody will"), {}}));
      }
      continue;
    }
    ++active;
    if (a.role == "admin") ++admins;
    if (a.totp_sealed.empty()) {
      any_totp_problem = true;
      out.push_back(make("accounts.totp", Level::fail, {N_("account {} has no authenticator (TOTP)"), {a.name}},
                         {N_("reset its second factor (rempart admin reset-mfa) or disable it"), {}}));
    } else if (a.totp_last_step < 0 && age > 7 * 86400) {
      out.push_back(make("accounts.totp_unused", Level::warn,
                         {N_("account {} has never signed in with its authenticator ({} days old)"),
                          {a.name, days_text(age)}},
                         {N_("check that its owner has the authenticator, or disable the account"), {}}));
    }
    if (recovery_left[i] == 0) {
      out.push_back(make("accounts.recovery", Level::warn,
                         {N_("account {} has used all its recovery codes"), {a.name}},
                         {N_("its owner replaces the authenticator in the console (new codes come with it)"), {}}));
    }
  }
  if (!any_totp_problem) {
    out.push_back(make("accounts.totp", Level::ok,
                       {N_("every enabled account ({}) has its authenticator"), {std::to_string(active)}}));
  }
  if (admins < 2) {
    out.push_back(make("accounts.admins", Level::warn,
                       {N_("enabled admin accounts: {}; exports and privilege changes need a second admin"),
                        {std::to_string(admins)}},
                       {N_("create a second admin account (rempart admin add NAME --role admin)"), {}}));
  } else {
    out.push_back(make("accounts.admins", Level::ok, {N_("{} enabled admin accounts"), {std::to_string(admins)}}));
  }
}

// ---- the recorded scan -------------------------------------------------------

fs::path scan_record_path(const Settings& s) { return s.data_dir / "selfcheck-scan.json"; }

Result<void> record_scan(const Settings& s, const std::vector<Finding>& scan, std::int64_t now) {
  Report r;
  r.findings = scan;
  r.at = now;
  const std::string text = r.to_json().dump() + "\n";
  const fs::path target = scan_record_path(s);
  const fs::path tmp = target.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return fail(Errc::io, "cannot write " + tmp.string());
  // Run as root, the record belongs to the data directory's owner.
  if (const auto dir = stat_of(s.data_dir); dir && ::geteuid() == 0) {
    if (::fchown(fd, dir->st_uid, dir->st_gid) != 0) {
      ::close(fd);
      return fail(Errc::io, "cannot give " + tmp.string() + " to the data directory's owner");
    }
  }
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool closed = ::close(fd) == 0;
  if (!written || !closed || std::rename(tmp.c_str(), target.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return fail(Errc::io, "cannot write " + target.string());
  }
  return {};
}

namespace {

// A text as recorded: its pattern when it is one of `known` (so that it is
// shown again through the catalogue), else its English words as they are.
Text recorded_text(const nlohmann::json& f, const char* msgid_key, const char* args_key, const char* text_key,
                   std::span<const char* const> known) {
  Text t;
  if (f.contains(msgid_key) && f[msgid_key].is_string()) {
    const auto& pattern = f[msgid_key].get_ref<const std::string&>();
    for (const char* k : known) {
      if (pattern == k) t.msgid = k;
    }
  }
  if (*t.msgid != '\0' && f.contains(args_key) && f[args_key].is_array()) {
    for (const auto& a : f[args_key]) t.args.push_back(a.is_string() ? a.get<std::string>() : a.dump());
    return t;
  }
  t.msgid = "";
  if (f.contains(text_key) && f[text_key].is_string() && !f[text_key].get_ref<const std::string&>().empty()) {
    t.msgid = "{}";
    t.args.push_back(f[text_key].get<std::string>());
  }
  return t;
}

}  // namespace

Result<Report> Report::from_json(const nlohmann::json& j, std::span<const char* const> known) {
  if (!j.is_object() || !j.contains("findings") || !j["findings"].is_array() || !j.contains("at") ||
      !j["at"].is_number_integer()) {
    return fail(Errc::invalid_input, "not a self-check record");
  }
  Report r;
  r.at = j["at"].get<std::int64_t>();
  for (const auto& f : j["findings"]) {
    if (!f.is_object() || !f.contains("id") || !f["id"].is_string() || !f.contains("level") ||
        !f["level"].is_string()) {
      return fail(Errc::invalid_input, "not a self-check record");
    }
    Finding out;
    out.id = f["id"].get<std::string>();
    const auto level = f["level"].get<std::string>();
    out.level = level == "ok" ? Level::ok : level == "warn" ? Level::warn : Level::fail;
    out.finding = recorded_text(f, "msgid", "args", "finding", known);
    out.fix = recorded_text(f, "fix_msgid", "fix_args", "fix", known);
    r.findings.push_back(std::move(out));
  }
  return r;
}

void recorded_scan(const Settings& s, std::vector<Finding>& out, std::int64_t now,
                   std::span<const char* const> known) {
  std::ifstream in(scan_record_path(s), std::ios::binary);
  if (!in) {
    out.push_back(make("plaintext.scan", Level::warn,
                       {N_("the scan of the data files for plaintext personal data has never been recorded"), {}},
                       {N_("run `rempart selfcheck` daily from cron: it scans and records the result here"), {}}));
    return;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto r = Report::from_json(nlohmann::json::parse(ss.str(), nullptr, false), known);
  if (!r) {
    out.push_back(make("plaintext.scan", Level::warn, {N_("the recorded plaintext scan cannot be read"), {}},
                       {N_("run `rempart selfcheck` again"), {}}));
    return;
  }
  const std::int64_t age = now - r->at;
  const bool stale = age > 8 * 86400;
  out.push_back(make("plaintext.scan", stale ? Level::warn : Level::ok,
                     {N_("the last plaintext scan, by `rempart selfcheck`, was {} days ago"), {days_text(age)}},
                     stale ? Text{N_("run `rempart selfcheck` daily from cron"), {}} : Text{}));
  for (auto& f : r->findings) out.push_back(std::move(f));
}

// ---- text ------------------------------------------------------------------

std::string render_text(const Report& r, bool all) {
  std::string out;
  std::string group;
  std::size_t width = 0;
  for (const auto& f : r.findings) width = std::max(width, f.id.size());
  for (const auto& f : r.findings) {
    if (!all && f.level == Level::ok) continue;
    if (f.group() != group) {
      group = f.group();
      out += (out.empty() ? "" : "\n") + group + "\n";
    }
    const char* tag = f.level == Level::fail ? "FAIL" : f.level == Level::warn ? "warn" : "ok  ";
    out += "  " + std::string(tag) + "  " + f.id + std::string(width - f.id.size(), ' ') + "  " +
           f.finding.translated() + "\n";
    if (f.level != Level::ok && f.fix.msgid != nullptr && *f.fix.msgid != '\0') {
      out += "        " + std::string(width, ' ') + "  " + i18n::tr("fix:") + " " + f.fix.translated() + "\n";
    }
  }
  const auto fails = r.count(Level::fail), warns = r.count(Level::warn), oks = r.count(Level::ok);
  out += (out.empty() ? "" : "\n") +
         format_with(i18n::tr("{} failed, {} warnings, {} ok"),
                     {std::to_string(fails), std::to_string(warns), std::to_string(oks)}) +
         "\n";
  return out;
}

}  // namespace rempart::services::selfcheck
