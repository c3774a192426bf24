#include "audit/changes.hpp"

#include <algorithm>
#include <array>
#include <ctime>
#include <nlohmann/json.hpp>
#include <utility>

namespace rempart::audit {
namespace {

using nlohmann::json;
using K = ChangeKind;
using C = ActionClass;

constexpr std::array kKinds = {K::accounts,      K::roles,  K::tokens,  K::budgets,  K::keys,
                               K::configuration, K::schema, K::exports, K::mailings, K::segments,
                               K::guard,         K::data,   K::audit,   K::lockdown, K::unknown};

struct Rule {
  std::string_view action;
  ActionClass cls;
  ChangeKind kind;
};

// Every action the code writes (audit/chain.hpp, auth/accounts.hpp), by
// name. An action that is not here is unknown, and shown as such; the test
// beside this file fails while one of the code's names is missing.
constexpr Rule kRules[] = {
    // Accounts, roles, tokens, budgets (docs/accounts.md).
    {"account.create", C::change, K::accounts},
    {"account.disable", C::change, K::accounts},
    {"account.enable", C::change, K::accounts},
    {"account.reset_mfa", C::change, K::accounts},
    {"account.unlock", C::change, K::accounts},
    {"account.invite", C::change, K::accounts},
    {"account.enrol", C::change, K::accounts},
    {"account.enrolled", C::change, K::accounts},
    {"account.password", C::change, K::accounts},
    {"account.authenticator", C::change, K::accounts},
    {"account.test_address", C::change, K::accounts},
    {"account.role", C::change, K::roles},
    {"token.create", C::change, K::tokens},
    {"token.revoke", C::change, K::tokens},
    {"account.budget", C::change, K::budgets},
    // A request's kind moves it to roles, tokens or budgets (describe).
    {"privilege.request", C::change, K::accounts},
    {"privilege.approve", C::change, K::accounts},
    {"privilege.refuse", C::change, K::accounts},
    {"privilege.expire", C::change, K::accounts},
    // Keys (docs/key-custody.md).
    {"keys.rotate", C::change, K::keys},
    {"keys.retire", C::change, K::keys},
    {"keys.rewrap", C::change, K::keys},
    // Configuration and schema: a start compared with the one before it.
    {"service.start", C::change, K::configuration},
    // Exports (docs/exports.md).
    {"export.request", C::change, K::exports},
    {"export.approve", C::change, K::exports},
    {"export.approve_refused", C::change, K::exports},
    {"export.expire", C::change, K::exports},
    {"export.download", C::change, K::exports},
    // Mailings (docs/mailings.md).
    {"mailing.create", C::change, K::mailings},
    {"mailing.edit", C::change, K::mailings},
    {"mailing.draw", C::change, K::mailings},
    {"mailing.approve", C::change, K::mailings},
    {"mailing.start", C::change, K::mailings},
    {"mailing.pause", C::change, K::mailings},
    {"mailing.resume", C::change, K::mailings},
    {"mailing.cancel", C::change, K::mailings},
    // Segments, tags on many records, call lists (docs/console.md).
    {"segment.save", C::change, K::segments},
    {"segment.delete", C::change, K::segments},
    {"tag.rename", C::change, K::segments},
    {"tag.merge", C::change, K::segments},
    {"supporter.tag_bulk", C::change, K::segments},
    {"call_list.create", C::change, K::segments},
    {"call_list.close", C::change, K::segments},
    // The guard (docs/guard.md, docs/honeytokens.md).
    {"guard.lock", C::change, K::guard},
    {"honeytoken.plant", C::change, K::guard},
    // Bulk runs.
    {"import.run", C::change, K::data},
    {"synth.run", C::change, K::data},
    {"retention.run", C::change, K::data},
    // The incident itself: the breach register (lockdowns: any incident.*).
    {"breach.record", C::change, K::lockdown},
    {"breach.update", C::change, K::lockdown},
    // The log itself: backups and restores.
    {"backup.create", C::change, K::audit},
    {"backup.restore", C::change, K::audit},

    // Not changes. Sign-ins and sessions: they end, nothing stays behind
    // (a changed password or authenticator does, above).
    {"login.success", C::not_a_change, K::unknown},
    {"login.failure", C::not_a_change, K::unknown},
    {"mfa.check", C::not_a_change, K::unknown},
    {"mfa.recovery_used", C::not_a_change, K::unknown},
    {"session.revoke", C::not_a_change, K::unknown},
    // Reads and reveals: the blast radius (`audit blast-radius`) is theirs.
    {"supporter.reveal", C::not_a_change, K::unknown},
    {"supporter.export", C::not_a_change, K::unknown},
    {"supporter.list", C::not_a_change, K::unknown},
    {"supporter.lookup_miss", C::not_a_change, K::unknown},
    {"supporter.notes_read", C::not_a_change, K::unknown},
    {"supporter.sample", C::not_a_change, K::unknown},
    {"audit.query", C::not_a_change, K::unknown},
    {"audit.blast_radius", C::not_a_change, K::unknown},
    {"canary.trace", C::not_a_change, K::unknown},
    // Single records, by the people, the staff or the keeper (`audit query
    // --record` follows one).
    {"supporter.create", C::not_a_change, K::unknown},
    {"supporter.merge", C::not_a_change, K::unknown},
    {"supporter.unchanged", C::not_a_change, K::unknown},
    {"supporter.tag", C::not_a_change, K::unknown},
    {"supporter.edit", C::not_a_change, K::unknown},
    {"supporter.consent", C::not_a_change, K::unknown},
    {"supporter.note", C::not_a_change, K::unknown},
    {"supporter.erase", C::not_a_change, K::unknown},
    {"supporter.mail", C::not_a_change, K::unknown},
    {"supporter.confirm", C::not_a_change, K::unknown},
    {"supporter.unsubscribe", C::not_a_change, K::unknown},
    {"supporter.suppressed", C::not_a_change, K::unknown},
    {"supporter.self_service", C::not_a_change, K::unknown},
    {"supporter.retention", C::not_a_change, K::unknown},
    {"self_service.request", C::not_a_change, K::unknown},
    {"call.outcome", C::not_a_change, K::unknown},
    {"mail.report", C::not_a_change, K::unknown},
    // The keeper's routine, and sends that change nothing.
    {"intake.reject", C::not_a_change, K::unknown},
    {"link.refused", C::not_a_change, K::unknown},
    {"search.index", C::not_a_change, K::unknown},
    {"mailing.batch", C::not_a_change, K::unknown},
    {"mailing.sent", C::not_a_change, K::unknown},
    {"mailing.test", C::not_a_change, K::unknown},
    {"service.stop", C::not_a_change, K::unknown},
};

constexpr std::string_view kIncidentPrefix = "incident.";
constexpr std::size_t kTextMax = 64;  // a name or label shown at most this long
constexpr std::size_t kListMax = 5;   // names of a list shown at most

// Printable ASCII only, at most `max` bytes: a log line stays one line
// whatever the log holds.
std::string printable(std::string_view s, std::size_t max = kTextMax) {
  std::string out;
  for (const char ch : s) {
    if (out.size() == max) {
      out += "...";
      break;
    }
    out += (ch >= 0x20 && ch < 0x7f) ? ch : '?';
  }
  return out;
}

std::string in_quotes(std::string_view s) {
  std::string q = printable(s);
  std::replace(q.begin(), q.end(), '"', '\'');
  return "\"" + q + "\"";
}

std::string text(const json& d, std::string_view key) {
  const auto it = d.find(key);
  if (it == d.end() || !it->is_string()) return "";
  return printable(it->get_ref<const std::string&>());
}

std::optional<std::int64_t> number(const json& d, std::string_view key) {
  const auto it = d.find(key);
  if (it == d.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}

std::optional<bool> flag(const json& d, std::string_view key) {
  const auto it = d.find(key);
  if (it == d.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

std::string num_text(const json& d, std::string_view key, std::string_view absent = "?") {
  const auto n = number(d, key);
  return n ? std::to_string(*n) : std::string(absent);
}

// "email, phone": the strings of a list, at most kListMax of them.
std::string list_text(const json& d, std::string_view key) {
  const auto it = d.find(key);
  if (it == d.end() || !it->is_array()) return "";
  std::string out;
  std::size_t n = 0;
  for (const auto& v : *it) {
    if (!v.is_string()) continue;
    if (n == kListMax) {
      out += " and " + std::to_string(it->size() - kListMax) + " more";
      break;
    }
    if (n++ != 0) out += ", ";
    out += printable(v.get_ref<const std::string&>());
  }
  return out;
}

std::optional<std::size_t> list_size(const json& d, std::string_view key) {
  const auto it = d.find(key);
  if (it == d.end() || !it->is_array()) return std::nullopt;
  return it->size();
}

// Unix seconds as "2026-01-01T10:00:00Z" (utc_us: microseconds).
std::string utc(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (::gmtime_r(&t, &tm) == nullptr) return "?";
  char buf[32];
  if (std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) return "?";
  return buf;
}
std::string utc_us(std::int64_t us) { return utc(us / 1'000'000); }

// An account as a person reads it: the name in the details, else the name
// of its id, else the id.
std::string account_of(const json& d, const ActorNames& names) {
  if (auto n = text(d, "account"); !n.empty()) return in_quotes(n);
  if (auto id = text(d, "account_id"); !id.empty()) {
    const auto actor = id.starts_with("account:") ? id : "account:" + id;
    const auto it = names.find(actor);
    return it != names.end() ? in_quotes(it->second) : printable(actor);
  }
  return "an account";
}

std::string actor_text(const std::string& actor, const ActorNames& names) {
  const auto it = names.find(actor);
  return it != names.end() ? in_quotes(it->second) : printable(actor);
}

std::string sessions(const json& d, std::string_view key) {
  const auto n = number(d, key);
  if (!n) return "";
  return *n == 1 ? "1 session ended" : std::to_string(*n) + " sessions ended";
}

// " (a, b)" of the non-empty parts, or "".
std::string parens(std::initializer_list<std::string> parts) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    out += out.empty() ? " (" : ", ";
    out += p;
  }
  return out.empty() ? out : out + ")";
}

std::string prefixed(std::string_view label, const std::string& value) {
  return value.empty() ? "" : std::string(label) + value;
}

// What a line folds into: before + sum of amounts + after.
struct FoldSpec {
  std::string key;
  std::int64_t amount = 0;
  std::string before, after;
};

struct Described {
  Change change;
  std::optional<FoldSpec> fold;
};

// The kind a privilege request's kind (`kind` in its details) belongs to.
ChangeKind privilege_kind(const json& d) {
  const std::string kind = text(d, "kind");
  if (kind == "set_role") return K::roles;
  if (kind == "raise_budget") return K::budgets;
  if (kind == "reveal_token") return K::tokens;
  return K::accounts;
}

std::string privilege_text(std::string_view action, const json& d, const ActorNames& names) {
  const std::string what = printable(text(d, "kind")) + " for " + in_quotes(text(d, "target"));
  const std::string req = "request #" + num_text(d, "request");
  if (action == "privilege.request") {
    std::string role;
    if (const auto p = d.find("params"); p != d.end() && p->is_object()) role = prefixed("role ", text(*p, "role"));
    return "asked for " + what + parens({role}) + ": " + req;
  }
  if (action == "privilege.approve") {
    std::string by;
    if (auto id = text(d, "requester_id"); !id.empty()) by = "asked by " + actor_text("account:" + id, names);
    return req + " approved: " + what + parens({by});
  }
  if (action == "privilege.refuse") {
    return req + (flag(d, "withdrawn").value_or(false) ? " withdrawn: " : " refused: ") + what;
  }
  return req + " expired: " + what;
}

// "label: n=3, flag=true, list: 2": the numbers and flags of `d`, and how
// long its lists are; never its texts.
std::string counts_text(std::string label, const json& d) {
  std::string parts;
  for (const auto& [k, v] : d.items()) {
    std::string part;
    if (v.is_number_integer() || v.is_boolean()) part = printable(k) + "=" + v.dump();
    if (v.is_array()) part = printable(k) + ": " + std::to_string(v.size());
    if (part.empty()) continue;
    parts += parts.empty() ? ": " : ", ";
    parts += part;
  }
  return label + parts;
}

std::string lockdown_text(std::string_view action, const json& d, const ActorNames& names) {
  if (action == "incident.lockdown") {
    // "1 account locked", "2 accounts locked": a count and its noun.
    const auto counted = [](std::optional<std::int64_t> n, std::string_view one, std::string_view many) {
      if (!n) return "? " + std::string(many);
      return std::to_string(*n) + " " + std::string(*n == 1 ? one : many);
    };
    const auto size_of = [&](const char* key) -> std::optional<std::int64_t> {
      if (const auto n = list_size(d, key)) return static_cast<std::int64_t>(*n);
      return std::nullopt;
    };
    std::string out = "lockdown: " + counted(size_of("accounts_locked"), "account locked", "accounts locked");
    out += ", " + counted(number(d, "sessions_ended"), "session ended", "sessions ended");
    if (const auto n = size_of("tokens_revoked")) out += ", " + counted(n, "token revoked", "tokens revoked");
    if (const auto n = size_of("requests_refused")) out += ", " + counted(n, "request refused", "requests refused");
    if (const auto n = number(d, "budgets_ended")) out += ", " + counted(n, "budget ended", "budgets ended");
    if (auto kept = text(d, "kept"); !kept.empty()) out += "; kept " + in_quotes(kept);
    return out;
  }
  if (action == "incident.release") {
    return account_of(d, names) + " let back in after the lockdown (enrols again with a new code)";
  }
  // Another step of an incident: its counts and flags, the size of its
  // lists; no text, which this version cannot vouch for.
  return counts_text(printable(action.substr(kIncidentPrefix.size())), d);
}

// A breach register entry (docs/incident.md): ids, counts and states only.
std::string breach_text(std::string_view action, const json& d) {
  std::string label = action == "breach.record" ? "breach register: entry recorded" : "breach register: entry updated";
  const std::string state = text(d, "state");
  for (std::string_view known : {"open", "not_notified", "notified", "closed"}) {
    if (state == known) label += " (state " + state + ")";
  }
  return counts_text(label, d);
}

std::string field_names(const json& d) {
  std::string out;
  for (const auto& [k, v] : d.items()) {
    (void)v;
    out += out.empty() ? "" : ", ";
    out += printable(k);
  }
  return out.empty() ? "none" : out;
}

std::string onoff(bool b) { return b ? "on" : "off"; }

// The configuration and schema lines of a start, against the role's last.
void describe_start(const Change& base, const json& d, const ServiceStarts& starts, std::vector<Described>& out) {
  const std::string role = text(d, "role").empty() ? "?" : text(d, "role");
  const std::string config = text(d, "config_blake2b");
  const auto found = starts.find(role);
  const ServiceStart* prev = found == starts.end() ? nullptr : &found->second;
  const auto short_fp = [](const std::string& fp) { return fp.empty() ? std::string("(none)") : fp.substr(0, 16); };

  std::string what;
  if (prev == nullptr) {
    what = "role " + role + ": first start seen; configuration " + short_fp(config) +
           prefixed(", rempart ", text(d, "version"));
  } else {
    std::vector<std::string> diffs;
    if (config != prev->config) {
      diffs.push_back("configuration " + short_fp(prev->config) + " -> " + short_fp(config));
    }
    if (const auto v = text(d, "version"); !v.empty() && !prev->version.empty() && v != prev->version) {
      diffs.push_back("rempart " + printable(prev->version) + " -> " + v);
    }
    const auto cf = flag(d, "checkpoint_file");
    if (cf && prev->checkpoint_file && *cf != *prev->checkpoint_file) {
      diffs.push_back("outside checkpoint file " + onoff(*prev->checkpoint_file) + " -> " + onoff(*cf));
    }
    const auto cs = flag(d, "checkpoint_syslog");
    if (cs && prev->checkpoint_syslog && *cs != *prev->checkpoint_syslog) {
      diffs.push_back("checkpoints to syslog " + onoff(*prev->checkpoint_syslog) + " -> " + onoff(*cs));
    }
    const auto vs = number(d, "verify_seconds");
    if (vs && prev->verify_seconds && *vs != *prev->verify_seconds) {
      diffs.push_back("whole verification every " + std::to_string(*prev->verify_seconds) + " s -> " +
                      std::to_string(*vs) + " s");
    }
    if (!diffs.empty()) {
      what = "role " + role + ": ";
      for (std::size_t i = 0; i < diffs.size(); ++i) what += (i == 0 ? "" : "; ") + diffs[i];
      what += " (previous start " + utc_us(prev->at_us) + ", seq " + std::to_string(prev->seq) + ")";
    }
  }
  if (!what.empty()) {
    Described c{base, std::nullopt};
    c.change.kind = K::configuration;
    c.change.what = std::move(what);
    out.push_back(std::move(c));
  }

  const auto schema = number(d, "schema_version");
  if (!schema) return;  // a binary that did not record it
  std::string line;
  if (prev == nullptr) {
    line = "role " + role + ": schema version " + std::to_string(*schema) + " (first start seen)";
  } else if (!prev->schema) {
    line = "role " + role + ": schema version " + std::to_string(*schema) + " (earlier starts did not record it)";
  } else if (*prev->schema != *schema) {
    line = "role " + role + ": schema version " + std::to_string(*prev->schema) + " -> " + std::to_string(*schema) +
           " (previous start " + utc_us(prev->at_us) + ", seq " + std::to_string(prev->seq) + ")";
  }
  if (!line.empty()) {
    Described c{base, std::nullopt};
    c.change.kind = K::schema;
    c.change.what = std::move(line);
    out.push_back(std::move(c));
  }
}

std::vector<Described> describe_entry(const store::AuditEntryRow& e, const ServiceStarts& starts,
                                      const ActorNames& names) {
  std::vector<Described> out;
  const auto cls = classify_action(e.action);
  if (cls.cls == C::not_a_change) return out;
  json parsed = json::parse(e.details, nullptr, false);
  const json d = parsed.is_object() ? std::move(parsed) : json::object();
  const std::string_view a = e.action;

  Described one;
  Change& c = one.change;
  c.kind = cls.kind;
  c.seq = c.last_seq = e.seq;
  c.at_us = c.last_at_us = e.at;
  c.actor = e.actor;
  c.action = printable(e.action);

  if (cls.cls == C::unknown) {
    c.what = "an action this version of rempart does not know; its details hold: " + field_names(d);
  } else if (a == "service.start") {
    describe_start(c, d, starts, out);
    return out;
  } else if (a.starts_with(kIncidentPrefix)) {
    c.what = lockdown_text(a, d, names);
  } else if (a.starts_with("breach.")) {
    c.what = breach_text(a, d);
  } else if (a.starts_with("privilege.")) {
    c.kind = privilege_kind(d);
    c.what = privilege_text(a, d, names);
  } else if (a == "account.create") {
    c.what = "account " + account_of(d, names) + " created" +
             parens({prefixed("role ", text(d, "role")), flag(d, "invite").value_or(false) ? "by invitation" : ""});
  } else if (a == "account.disable") {
    c.what = "account " + account_of(d, names) + " disabled" + parens({sessions(d, "sessions_revoked")});
  } else if (a == "account.enable") {
    c.what = "account " + account_of(d, names) + " enabled again" +
             parens({prefixed("tokens revoked: ", num_text(d, "tokens_revoked", "")),
                     flag(d, "still_locked").value_or(false) ? "still locked" : ""});
  } else if (a == "account.reset_mfa") {
    c.what = "password and authenticator of " + account_of(d, names) + " reset" +
             parens({flag(d, "invite").value_or(false) ? "enrols again with a new code" : "",
                     sessions(d, "sessions_revoked")});
  } else if (a == "account.unlock") {
    c.what =
        "account " + account_of(d, names) + " unlocked" + parens({prefixed("locked for ", text(d, "previous_reason"))});
  } else if (a == "account.invite") {
    c.what = "enrolment code made for " + account_of(d, names);
  } else if (a == "account.enrol") {
    c.what = account_of(d, names) + " set a password and an authenticator (enrolment)";
  } else if (a == "account.enrolled") {
    c.what = account_of(d, names) + " confirmed the enrolment with a first code";
  } else if (a == "account.password" || a == "account.authenticator") {
    const std::string result = text(d, "result");
    c.what = (a == "account.password" ? "password of " : "authenticator of ") + account_of(d, names) + ": " +
             (result.empty() ? std::string("?") : result) +
             parens({prefixed("cause ", text(d, "cause")), sessions(d, "sessions_ended"),
                     flag(d, "locked").value_or(false) ? "account locked" : ""});
  } else if (a == "account.test_address") {
    c.what = std::string("test address of ") + actor_text(e.actor, names) +
             (flag(d, "set").value_or(true) ? " set" : " cleared");
  } else if (a == "account.role") {
    c.what = "role of " + account_of(d, names) + ": " + (text(d, "from").empty() ? "?" : text(d, "from")) + " -> " +
             (text(d, "to").empty() ? "?" : text(d, "to"));
  } else if (a == "token.create") {
    std::string expires;
    if (const auto x = number(d, "expires_at")) expires = "expires " + utc(*x);
    c.what = "API token #" + num_text(d, "token_id") + " " + in_quotes(text(d, "label")) + " created" +
             parens({prefixed("scope ", text(d, "scope")), prefixed("prefix ", text(d, "prefix")), expires});
  } else if (a == "token.revoke") {
    c.what = "API token #" + num_text(d, "token_id") + " revoked";
  } else if (a == "account.budget") {
    std::string until;
    if (const auto x = number(d, "until")) until = " until " + utc(*x);
    c.what = "budget of " + account_of(d, names) + " for " + (text(d, "counted").empty() ? "?" : text(d, "counted")) +
             " raised to " + num_text(d, "per_minute") + "/min, " + num_text(d, "per_hour") + "/h, " +
             num_text(d, "per_day") + "/day" + until;
  } else if (a == "keys.rotate") {
    c.what = "keys rotated: version " + num_text(d, "from_version") + " -> " + num_text(d, "to_version");
  } else if (a == "keys.retire") {
    c.what = "key version " + num_text(d, "version") + " retired (its secrets dropped from the keyring)";
  } else if (a == "keys.rewrap") {
    const std::string to = num_text(d, "to_version");
    one.fold = FoldSpec{"keys.rewrap|" + to, number(d, "records").value_or(0), "",
                        " records' data keys moved to key version " + to};
  } else if (a == "export.request") {
    c.what = "export #" + num_text(d, "export") + " asked for" +
             parens({prefixed("by ", text(d, "requester").empty() ? "" : actor_text(text(d, "requester"), names)),
                     prefixed("fields ", list_text(d, "fields")),
                     prefixed("tag ", text(d, "tag").empty() ? "" : in_quotes(text(d, "tag"))),
                     prefixed("segment ", text(d, "segment").empty() ? "" : in_quotes(text(d, "segment")))});
  } else if (a == "export.approve") {
    c.what = "export #" + num_text(d, "export") + " approved: " + num_text(d, "rows") + " rows" +
             parens({prefixed("for ", text(d, "requester").empty() ? "" : actor_text(text(d, "requester"), names)),
                     prefixed("fields ", list_text(d, "fields")), prefixed("canaries ", num_text(d, "canaries", ""))});
  } else if (a == "export.approve_refused") {
    c.what =
        "approval of export #" + num_text(d, "export") + " refused" + parens({prefixed("cause ", text(d, "cause"))});
  } else if (a == "export.expire") {
    c.what = "export #" + num_text(d, "export") + " expired before approval";
  } else if (a == "export.download") {
    c.what =
        "export #" + num_text(d, "export") + " downloaded" + parens({prefixed("bytes ", num_text(d, "bytes", ""))});
  } else if (a.starts_with("mailing.")) {
    const std::string m = "mailing #" + num_text(d, "mailing");
    const std::string recipients = num_text(d, "recipients");
    if (a == "mailing.create") {
      c.what = m + " " + in_quotes(text(d, "name")) + " written" +
               parens({prefixed("segment ", text(d, "segment").empty() ? "" : in_quotes(text(d, "segment"))),
                       prefixed("audience ", text(d, "audience"))});
    } else if (a == "mailing.edit") {
      c.what = m + " edited" +
               parens({prefixed("segment ", text(d, "segment").empty() ? "" : in_quotes(text(d, "segment")))});
    } else if (a == "mailing.draw") {
      c.what = m + ": " + recipients + " recipients drawn";
    } else if (a == "mailing.approve") {
      c.what = m + " approved for " + recipients + " recipients";
    } else if (a == "mailing.start") {
      c.what = m + ": sending started to " + recipients + " recipients";
    } else if (a == "mailing.pause") {
      c.what = m + " paused";
    } else if (a == "mailing.resume") {
      c.what = m + " resumed";
    } else {
      c.what = m + " cancelled";
    }
  } else if (a == "segment.save") {
    c.what = "segment " + in_quotes(text(d, "name")) + " " + (text(d, "change").empty() ? "saved" : text(d, "change"));
  } else if (a == "segment.delete") {
    c.what = "segment " + in_quotes(text(d, "name")) + " deleted";
  } else if (a == "tag.rename" || a == "tag.merge") {
    c.what = "tag " + in_quotes(text(d, "from")) + (a == "tag.merge" ? " merged into " : " renamed ") +
             in_quotes(text(d, "to")) + " on " + num_text(d, "count") + " supporters";
  } else if (a == "supporter.tag_bulk") {
    const std::string change = text(d, "change");
    const bool added = change == "added";
    one.fold = FoldSpec{"supporter.tag_bulk|" + text(d, "segment") + "|" + text(d, "tag") + "|" + change,
                        number(d, "count").value_or(0),
                        "tag " + in_quotes(text(d, "tag")) + (added ? " added to " : " removed from "),
                        " members of segment " + in_quotes(text(d, "segment"))};
  } else if (a == "call_list.create") {
    std::string window;
    const auto s = number(d, "starts_at");
    const auto t = number(d, "ends_at");
    if (s && t) window = utc(*s) + " .. " + utc(*t);
    c.what = "call list " + in_quotes(text(d, "name")) + " made from segment " + in_quotes(text(d, "segment")) + ": " +
             num_text(d, "entries") + " people" + parens({prefixed("callers ", list_text(d, "callers")), window});
  } else if (a == "call_list.close") {
    c.what = "call list " + in_quotes(text(d, "name")) + " closed";
  } else if (a == "guard.lock") {
    std::string revoked;
    if (const auto t = number(d, "tokens_revoked")) revoked = std::to_string(*t) + " tokens revoked";
    if (const auto t = flag(d, "token_revoked"); t && *t) revoked = "token revoked";
    c.what = actor_text(e.actor, names) + " locked by the guard" +
             parens({prefixed("reason ", text(d, "reason")), sessions(d, "sessions_ended"), revoked});
  } else if (a == "honeytoken.plant") {
    c.what = num_text(d, "count") + " honeytokens planted";
  } else if (a == "import.run") {
    c.what = std::string(flag(d, "dry_run").value_or(false) ? "import (dry run): " : "import: ") + num_text(d, "rows") +
             " rows, " + num_text(d, "created") + " created, " + num_text(d, "merged") + " merged, " +
             num_text(d, "skipped") + " skipped" + parens({prefixed("preset ", text(d, "preset"))});
  } else if (a == "synth.run") {
    c.what = "synthetic supporters: " + num_text(d, "created") + " created, " + num_text(d, "merged") + " merged";
  } else if (a == "retention.run") {
    c.what = std::string(flag(d, "dry_run").value_or(false) ? "retention run (dry run): " : "retention run: ") +
             num_text(d, "inactive") + " inactive and " + num_text(d, "unconfirmed") + " unconfirmed erased, " +
             num_text(d, "phone") + " phones dropped";
  } else if (a == "backup.create") {
    const auto n = list_size(d, "files");
    c.what = "backup taken" + parens({n ? std::to_string(*n) + " files" : ""});
  } else if (a == "backup.restore") {
    std::string taken;
    if (const auto t = number(d, "backup_taken_at")) taken = "taken " + utc_us(*t);
    c.what = "log restored from a backup of seq " + num_text(d, "backup_seq") + parens({taken});
  } else {
    // Classified as a change but given no words here yet: its field names.
    c.what = "details hold: " + field_names(d);
  }
  if (one.fold) c.what = one.fold->before + std::to_string(one.fold->amount) + one.fold->after;
  out.push_back(std::move(one));
  return out;
}

}  // namespace

std::span<const ChangeKind> change_kinds() noexcept { return kKinds; }

std::string_view change_kind_name(ChangeKind k) noexcept {
  switch (k) {
    case K::accounts:
      return "accounts";
    case K::roles:
      return "roles";
    case K::tokens:
      return "tokens";
    case K::budgets:
      return "budgets";
    case K::keys:
      return "keys";
    case K::configuration:
      return "configuration";
    case K::schema:
      return "schema";
    case K::exports:
      return "exports";
    case K::mailings:
      return "mailings";
    case K::segments:
      return "segments";
    case K::guard:
      return "guard";
    case K::data:
      return "data";
    case K::audit:
      return "audit";
    case K::lockdown:
      return "lockdown";
    case K::unknown:
      return "unknown";
  }
  return "unknown";
}

std::string_view change_kind_title(ChangeKind k) noexcept {
  switch (k) {
    case K::accounts:
      return "Accounts";
    case K::roles:
      return "Roles";
    case K::tokens:
      return "API tokens";
    case K::budgets:
      return "Budgets";
    case K::keys:
      return "Keys";
    case K::configuration:
      return "Configuration and binary";
    case K::schema:
      return "Database schema";
    case K::exports:
      return "Exports";
    case K::mailings:
      return "Mailings";
    case K::segments:
      return "Segments, tags and call lists";
    case K::guard:
      return "Guard locks and honeytokens";
    case K::data:
      return "Bulk runs: imports and retention";
    case K::audit:
      return "Audit log: backups and restores";
    case K::lockdown:
      return "Lockdown";
    case K::unknown:
      return "Actions this version does not know";
  }
  return "?";
}

ActionClassification classify_action(std::string_view action) noexcept {
  for (const Rule& r : kRules) {
    if (r.action == action) return {r.cls, r.kind};
  }
  if (action.starts_with(kIncidentPrefix) && action.size() > kIncidentPrefix.size()) {
    return {C::change, K::lockdown};
  }
  return {C::unknown, K::unknown};
}

void note_service_start(const store::AuditEntryRow& e, ServiceStarts& starts) {
  if (e.action != "service.start") return;
  json parsed = json::parse(e.details, nullptr, false);
  const json d = parsed.is_object() ? std::move(parsed) : json::object();
  const std::string role = text(d, "role").empty() ? "?" : text(d, "role");
  ServiceStart s;
  s.seq = e.seq;
  s.at_us = e.at;
  s.config = text(d, "config_blake2b");
  s.schema = number(d, "schema_version");
  s.version = text(d, "version");
  s.checkpoint_file = flag(d, "checkpoint_file");
  s.checkpoint_syslog = flag(d, "checkpoint_syslog");
  s.verify_seconds = number(d, "verify_seconds");
  starts[role] = std::move(s);
}

std::vector<Change> describe_change(const store::AuditEntryRow& e, const ServiceStarts& starts,
                                    const ActorNames& names) {
  std::vector<Change> out;
  for (auto& d : describe_entry(e, starts, names)) out.push_back(std::move(d.change));
  return out;
}

ChangeReport::ChangeReport(ActorNames names, std::size_t max_listed)
    : names_(std::move(names)), max_listed_(max_listed) {}

std::size_t ChangeReport::total() const noexcept {
  std::size_t n = 0;
  for (const std::size_t c : counts_) n += c;
  return n;
}

void ChangeReport::before(const store::AuditEntryRow& e) { note_service_start(e, starts_); }

void ChangeReport::keep(Change c) {
  ++counts_[static_cast<std::size_t>(c.kind)];
  if (changes_.size() >= max_listed_) {
    ++unlisted_;
    return;
  }
  changes_.push_back(std::move(c));
}

void ChangeReport::count_not_listed(const std::string& action) { ++not_listed_[action]; }

void ChangeReport::add(const store::AuditEntryRow& e) {
  ++entries_;
  auto lines = describe_entry(e, starts_, names_);
  note_service_start(e, starts_);
  if (lines.empty()) {
    count_not_listed(e.action);
    return;
  }
  for (auto& l : lines) {
    if (!l.fold) {
      keep(std::move(l.change));
      continue;
    }
    auto f = folds_.find(l.fold->key);
    if (f != folds_.end()) {
      Change& c = changes_[f->second.index];
      f->second.amount += l.fold->amount;
      c.what = f->second.before + std::to_string(f->second.amount) + f->second.after;
      ++c.entries;
      c.last_seq = e.seq;
      c.last_at_us = e.at;
      continue;
    }
    // Past max_listed a folded line is counted like any other (each entry
    // once), so the folds kept stay as few as the lines.
    if (changes_.size() < max_listed_) {
      folds_.emplace(l.fold->key, Fold{changes_.size(), l.fold->amount, l.fold->before, l.fold->after});
    }
    keep(std::move(l.change));
  }
}

}  // namespace rempart::audit
