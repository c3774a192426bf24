// `rempart incident report` and `rempart incident register …`: the
// notification a controller sends its supervisory authority within 72
// hours of becoming aware of a personal data breach (GDPR article 33), in
// French and English, from the audit log; and the breach register that
// documents every breach, notified or not (article 33(5)). The text and the
// register hold counts and categories only; the people to tell are listed
// by `audit blast-radius --csv` and told by `rempart notify`.
// docs/incident.md.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <tuple>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/blast_radius.hpp"
#include "audit/chain.hpp"
#include "cli/commands.hpp"
#include "cli/incident_command.hpp"
#include "cli/keeper_access.hpp"
#include "core/fd.hpp"
#include "services/audit_reader.hpp"
#include "services/breach_report.hpp"

namespace rempart::cli {
namespace {

namespace fs = std::filesystem;
namespace breach = services::breach;

constexpr std::int64_t kUs = 1'000'000;

int refuse(const std::string& message) {
  std::cerr << "rempart: " << message << "\n";
  return 2;
}

// A time option: parse_time's forms, or "now". Unix µs.
Result<std::int64_t> time_option(const std::string& text, std::string_view option) {
  if (text == "now") return audit::now_us();
  auto t = parse_time(text);
  if (!t) {
    return fail(Errc::invalid_input,
                std::string(option) + " must be \"now\", unix seconds or YYYY-MM-DD[THH:MM[:SS]][Z] (UTC)");
  }
  return *t;
}

// A register time (unix seconds) as the log's times read, to the second.
std::string at_seconds(std::int64_t s) {
  std::string t = format_time(s * kUs);
  const auto dot = t.find('.');
  return dot == std::string::npos ? t : t.substr(0, dot) + "Z";
}

// The organisation's name as its pages and mail give it; "" when neither does.
std::string organisation_of(const Config& c) {
  if (!c.intake.organisation.empty()) return c.intake.organisation;
  if (c.mail) return c.mail->supporter.organisation;
  return "";
}

// Writes `text` to a new or truncated file, readable by its owner only
// (the text holds no personal data, but an incident is nobody else's business).
Result<void> write_private(const fs::path& path, const std::string& text) {
  core::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) return fail(Errc::io, "cannot write " + path.string() + ": " + std::strerror(errno));
  if (::fchmod(fd.get(), 0600) != 0) return fail(Errc::io, "cannot set the mode of " + path.string());
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(Errc::io, "cannot write " + path.string() + ": " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail(Errc::io, "cannot write " + path.string() + ": " + std::strerror(errno));
  return {};
}

// ---- incident report --------------------------------------------------------------------

struct ReportArgs {
  fs::path config = "rempart.toml";
  std::string since, until, actor, aware_at;
  std::string lang = "both";
  std::string contact, nature, measures;
  std::string not_notified_because;
  std::optional<fs::path> out;
  bool record = false;
};

// Reads every measure and alert of the log from the window's start to now.
Result<void> read_measures(store::KeeperStore& st, breach::Facts& facts) {
  const auto all = breach::logged_actions();
  for (std::size_t i = 0; i < all.size(); i += breach::kActionsPerRead) {
    std::vector<std::string> chunk;
    for (std::size_t j = i; j < std::min(all.size(), i + breach::kActionsPerRead); ++j) chunk.emplace_back(all[j]);
    auto r = st.scan_audit_actions(chunk, "", facts.since, std::numeric_limits<std::int64_t>::max(),
                                   [&](const store::AuditEntryRow& e) {
                                     breach::note(facts, e);
                                     return true;
                                   });
    if (!r) return r;
  }
  return {};
}

int run_report(const ReportArgs& a) {
  auto w = time_window(a.since, a.until);
  if (!w) return report(w.error());
  std::optional<std::int64_t> aware;
  if (!a.aware_at.empty()) {
    auto t = time_option(a.aware_at, "--aware-at");
    if (!t) return report(t.error());
    if (*t > audit::now_us() + 300 * kUs) return refuse("--aware-at cannot be in the future");
    aware = *t;
  }
  for (const auto& [text, what] : {std::pair{&a.contact, "--contact"}, std::pair{&a.nature, "--nature"},
                                   std::pair{&a.measures, "--measures"},
                                   std::pair{&a.not_notified_because, "--not-notified-because"}}) {
    if (auto r = breach::check_text(*text, what); !r) return report(r.error());
  }
  auto k = open_keeper(a.config);
  if (!k) return report(k.error());
  auto actor = actor_option(*k->store, a.actor);
  if (!actor) return report(actor.error());

  auto blast = audit::blast_radius(*k->store, {*actor, w->first, w->second, ""});
  if (!blast) return report(blast.error());
  auto decoy_ids = k->store->honeytoken_ids();
  if (!decoy_ids) return report(decoy_ids.error());
  std::set<std::string> decoys;
  for (const auto& id : *decoy_ids) decoys.insert(audit::to_hex(id));

  breach::Notice n;
  n.facts = breach::tally(*blast, decoys);
  n.facts.since = w->first;
  if (!a.until.empty()) n.facts.until = w->second;
  n.facts.one_actor = !actor->empty();
  if (auto r = read_measures(*k->store, n.facts); !r) return report(r.error());
  n.now = audit::now_us();
  if (aware) {
    n.aware_at = *aware;
    n.aware_from = breach::AwareFrom::given;
  } else if (n.facts.first_alert) {
    n.aware_at = *n.facts.first_alert;
    n.aware_from = breach::AwareFrom::alert;
  } else {
    n.aware_at = w->first;
    n.aware_from = breach::AwareFrom::window_start;
  }
  n.organisation = organisation_of(k->config);
  n.nature = a.nature;
  n.measures_note = a.measures;
  n.contact = a.contact;
  if (!a.not_notified_because.empty()) n.not_notified_reason = a.not_notified_because;

  // Reading who was exposed is recorded, as `audit blast-radius` records it
  // (counts only); recording the breach is recorded with it. Neither entry
  // holds the officer's text.
  const std::string me = operator_actor();
  nlohmann::json read = {{"via", "incident.report"},
                         {"actor", *actor},
                         {"session", ""},
                         {"revealed", blast->revealed.size()},
                         {"masked_only", blast->masked_only.size()},
                         {"opened_only", blast->opened_only.size()},
                         {"csv", false},
                         {"since_us", w->first}};
  if (!a.until.empty()) read["until_us"] = w->second;
  auto tx = k->store->transact([&](store::KeeperTx& t) -> Result<void> {
    auto app = audit::Appender::begin(t, k->keys);
    if (!app) return std::unexpected(app.error());
    if (auto e = app->append(audit::Event{me, std::string(audit::action::audit_blast_radius), "", read, ""},
                             audit::now_us());
        !e) {
      return std::unexpected(e.error());
    }
    if (!a.record) return {};
    const auto row = breach::to_row(n, *actor, me);
    auto id = t.insert_breach(row);
    if (!id) return std::unexpected(id.error());
    n.register_id = *id;
    nlohmann::json details = {{"id", *id},
                              {"state", row.state},
                              {"people", row.people},
                              {"people_masked", row.people_masked},
                              {"records", row.records},
                              {"values_revealed", row.values_revealed},
                              {"categories", nlohmann::json::parse(row.categories)},
                              {"consequences", row.consequences},
                              {"since", row.since_at},
                              {"aware_at", row.aware_at},
                              {"actor", row.actor}};
    if (row.until_at) details["until"] = *row.until_at;
    if (auto e = app->append(audit::Event{me, std::string(audit::action::breach_record), "", details, ""},
                             audit::now_us());
        !e) {
      return std::unexpected(e.error());
    }
    return {};
  });
  if (!tx) {
    n.register_id = std::nullopt;
    return report(tx.error());
  }
  k->checkpoint_on_exit();

  std::string text;
  const auto add = [&](breach::Lang l) {
    if (!text.empty()) text += "\n" + std::string(72, '=') + "\n\n";
    text += breach::render(n, l);
  };
  if (a.lang != "en") add(breach::Lang::fr);
  if (a.lang != "fr") add(breach::Lang::en);
  if (a.out) {
    if (auto r = write_private(*a.out, text); !r) return report(r.error());
    std::cout << "rempart: notification written to " << a.out->string() << "\n";
  } else {
    std::cout << text;
  }
  if (n.register_id) {
    std::cerr << "rempart: recorded as breach register entry " << *n.register_id << " ("
              << (n.not_notified_reason ? "not notified" : "open") << ")\n";
    if (!n.not_notified_reason) {
      std::cerr << "rempart: once sent, say so: rempart incident register update " << *n.register_id
                << " --authority-notified-at now --config " << a.config.string() << "\n";
    }
  } else {
    std::cerr << "rempart: not recorded in the breach register; add --record to record it (GDPR article 33(5))\n";
  }
  if (n.facts.records() > 0) {
    std::cerr << "rempart: the people concerned: rempart audit blast-radius --since " << a.since
              << (a.until.empty() ? "" : " --until " + a.until) << (a.actor.empty() ? "" : " --actor " + a.actor)
              << " --csv FILE, then rempart notify --from-blast-radius FILE (docs/mailings.md)\n";
  }
  return 0;
}

// ---- incident register ---------------------------------------------------------------

struct RegisterArgs {
  fs::path config = "rempart.toml";
  std::int64_t id = 0;
  std::size_t limit = 50;
  std::string authority_notified_at, people_notified_at, not_notified_because, reason;
  bool close = false;
};

// The deadline's state of an entry still waiting for its decision.
std::string deadline_note(const store::BreachRow& b, std::int64_t now_s) {
  const std::int64_t deadline = b.aware_at + breach::kDeadlineUs / kUs;
  if (b.state != "open") return "";
  if (now_s > deadline) return "OVERDUE";
  return std::to_string((deadline - now_s) / 3600) + " h left";
}

int run_list(const RegisterArgs& a) {
  auto k = open_keeper(a.config);
  if (!k) return report(k.error());
  auto rows = k->store->breaches(a.limit);
  if (!rows) return report(rows.error());
  if (rows->empty()) {
    std::cout << "rempart: the breach register is empty\n";
    return 0;
  }
  const std::int64_t now_s = audit::now_us() / kUs;
  std::cout << std::left << std::setw(6) << "id" << std::setw(22) << "recorded" << std::setw(14) << "state"
            << std::setw(9) << "people" << std::setw(9) << "masked" << std::setw(22) << "72 h deadline"
            << std::setw(22) << "authority notified" << "\n";
  for (const auto& b : *rows) {
    std::string deadline = at_seconds(b.aware_at + breach::kDeadlineUs / kUs);
    const std::string note = deadline_note(b, now_s);
    std::cout << std::left << std::setw(6) << b.id << std::setw(22) << at_seconds(b.recorded_at) << std::setw(14)
              << b.state << std::setw(9) << b.people << std::setw(9) << b.people_masked << std::setw(22) << deadline
              << std::setw(22)
              << (b.authority_notified_at ? at_seconds(*b.authority_notified_at)
                                          : (b.state == "not_notified" ? "not notified" : "-"))
              << note << "\n";
  }
  return 0;
}

std::string json_counts(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || j.empty()) return "none";
  std::string out;
  for (const auto& [key, value] : j.items()) {
    out += (out.empty() ? "" : ", ") + key + " " + value.dump();
  }
  return out;
}

std::string or_none(const std::string& s) { return s.empty() ? "(not given)" : s; }

int run_show(const RegisterArgs& a) {
  auto k = open_keeper(a.config);
  if (!k) return report(k.error());
  auto found = k->store->find_breach(a.id);
  if (!found) return report(found.error());
  if (!*found) return refuse("no breach register entry " + std::to_string(a.id));
  const auto& b = **found;
  const std::int64_t deadline = b.aware_at + breach::kDeadlineUs / kUs;
  const auto line = [](std::string_view label, const std::string& value) {
    std::cout << std::left << std::setw(24) << (std::string(label) + ":") << value << "\n";
  };
  std::cout << "breach register entry " << b.id << " (" << b.state << ")\n";
  line("recorded", at_seconds(b.recorded_at) + " by " + b.recorded_by);
  line("updated", at_seconds(b.updated_at));
  line("period examined",
       at_seconds(b.since_at) + " .. " + (b.until_at ? at_seconds(*b.until_at) : "the recording"));
  line("actor examined", b.actor.empty() ? "every actor" : b.actor);
  line("became aware", at_seconds(b.aware_at));
  const std::string note = deadline_note(b, audit::now_us() / kUs);
  line("72-hour deadline", at_seconds(deadline) + (note.empty() ? "" : " (" + note + ")"));
  line("nature", or_none(b.nature));
  line("people", std::to_string(b.people) + " revealed or exported, " + std::to_string(b.people_masked) +
                     " seen masked only");
  line("records", std::to_string(b.records) + " records, " + std::to_string(b.values_revealed) +
                      " values displayed in full");
  line("categories (people)", json_counts(b.categories));
  line("consequences", b.consequences.empty() ? "none" : b.consequences);
  line("measures in the log", json_counts(b.measures));
  line("other measures", or_none(b.measures_note));
  line("contact", or_none(b.contact));
  line("authority notified", b.authority_notified_at ? at_seconds(*b.authority_notified_at)
                                                     : (b.not_notified_reason ? "no: " + *b.not_notified_reason
                                                                              : "not yet"));
  line("people notified", b.people_notified_at ? at_seconds(*b.people_notified_at) : "not yet");
  if (b.closed_at) line("closed", at_seconds(*b.closed_at) + ": " + b.close_reason.value_or(""));
  return 0;
}

int run_update(const RegisterArgs& a) {
  breach::Update u;
  for (const auto& [text, slot, option] :
       {std::tuple{&a.authority_notified_at, &u.authority_notified_at, "--authority-notified-at"},
        std::tuple{&a.people_notified_at, &u.people_notified_at, "--people-notified-at"}}) {
    if (text->empty()) continue;
    auto t = time_option(*text, option);
    if (!t) return report(t.error());
    *slot = *t / kUs;
  }
  if (!a.not_notified_because.empty()) u.not_notified_reason = a.not_notified_because;
  u.close = a.close;
  u.close_reason = a.reason;
  for (const auto& [text, what] :
       {std::pair{&a.not_notified_because, "--not-notified-because"}, std::pair{&a.reason, "--reason"}}) {
    if (auto r = breach::check_text(*text, what); !r) return report(r.error());
  }
  auto k = open_keeper(a.config);
  if (!k) return report(k.error());
  const std::string me = operator_actor();
  std::string state;
  std::vector<std::string> changed;
  auto tx = k->store->transact([&](store::KeeperTx& t) -> Result<void> {
    auto found = t.find_breach(a.id);
    if (!found) return std::unexpected(found.error());
    if (!*found) return fail(Errc::invalid_input, "no breach register entry " + std::to_string(a.id));
    store::BreachRow row = **found;
    const std::string from = row.state;
    const std::int64_t now_us = audit::now_us();
    auto c = breach::apply(row, u, now_us / kUs);
    if (!c) return std::unexpected(c.error());
    if (auto r = t.update_breach(row); !r) return r;
    nlohmann::json details = {{"id", row.id}, {"from_state", from}, {"state", row.state}, {"changed", *c}};
    if (u.authority_notified_at) details["authority_notified_at"] = *row.authority_notified_at;
    if (u.people_notified_at) details["people_notified_at"] = *row.people_notified_at;
    if (u.close) details["closed_at"] = *row.closed_at;
    auto e = audit::record(t, k->keys, audit::Event{me, std::string(audit::action::breach_update), "", details, ""});
    if (!e) return std::unexpected(e.error());
    state = row.state;
    changed = std::move(*c);
    return {};
  });
  if (!tx) return report(tx.error());
  k->checkpoint_on_exit();
  std::string list;
  for (const auto& c : changed) list += (list.empty() ? "" : ", ") + c;
  std::cout << "rempart: breach register entry " << a.id << " is " << state << " (" << list << ")\n";
  return 0;
}

// ---- On the command line ----------------------------------------------------------------

class Part final : public IncidentPart {
 public:
  explicit Part(CLI::App& incident) {
    report_ = incident.add_subcommand(
        "report", "The 72-hour notification of a personal data breach to the supervisory authority, in French and "
                  "English, from the audit log (GDPR article 33; docs/incident.md)");
    report_->add_option("--config", r_.config, "Configuration file")->capture_default_str();
    report_->add_option("--since", r_.since, "Start of the period to examine (UTC; unix seconds or YYYY-MM-DD[THH:MM])")
        ->required();
    report_->add_option("--until", r_.until, "End of the period (exclusive; default: now)");
    report_->add_option("--actor", r_.actor, "Only what this account (name, or actor as the log writes it) did");
    report_->add_option("--aware-at", r_.aware_at,
                        "When the organisation became aware (default: the log's first alert in the period, "
                        "else --since); the 72 hours run from it");
    report_->add_option("--lang", r_.lang, "fr, en or both")
        ->check(CLI::IsMember({"fr", "en", "both"}))
        ->capture_default_str();
    report_->add_option("--contact", r_.contact, "The data protection officer's or contact point's name and details");
    report_->add_option("--nature", r_.nature, "How the breach happened, in your words");
    report_->add_option("--measures", r_.measures, "Measures taken outside rempart or planned, in your words");
    report_->add_option("--out", r_.out, "Write the text to this file (mode 0600) instead of the standard output");
    auto* record = report_->add_flag("--record", r_.record, "Record the breach in the breach register (article 33(5))");
    report_->add_option("--not-notified-because", r_.not_notified_because,
                        "With --record: the authority is not notified, and why (article 33(5))")
        ->needs(record);

    auto* reg = incident.add_subcommand("register", "The breach register (GDPR article 33(5); docs/incident.md)");
    reg->require_subcommand(1);
    reg->add_option("--config", g_.config, "Configuration file")->capture_default_str();
    list_ = reg->add_subcommand("list", "Every recorded breach, newest first");
    list_->add_option("--limit", g_.limit, "At most this many")->capture_default_str()->check(CLI::Range(1, 100000));
    show_ = reg->add_subcommand("show", "One recorded breach");
    show_->add_option("id", g_.id, "Its number")->required();
    update_ = reg->add_subcommand("update", "Write down what followed: notified, not notified and why, closed");
    update_->add_option("id", g_.id, "Its number")->required();
    update_->add_option("--authority-notified-at", g_.authority_notified_at,
                        "When the supervisory authority was notified (\"now\", or a time)");
    update_->add_option("--people-notified-at", g_.people_notified_at,
                        "When the people concerned were told (\"now\", or a time)");
    update_->add_option("--not-notified-because", g_.not_notified_because,
                        "The authority is not notified, and why");
    auto* close = update_->add_flag("--close", g_.close, "Close the entry (needs --reason)");
    update_->add_option("--reason", g_.reason, "Why it is closed")->needs(close);
    for (auto* c : {list_, show_, update_}) {
      c->add_option("--config", g_.config, "Configuration file")->capture_default_str();
    }
  }

  std::optional<int> run() const override {
    if (*report_) return run_report(r_);
    if (*list_) return run_list(g_);
    if (*show_) return run_show(g_);
    if (*update_) return run_update(g_);
    return std::nullopt;
  }

 private:
  ReportArgs r_;
  RegisterArgs g_;
  CLI::App* report_ = nullptr;
  CLI::App* list_ = nullptr;
  CLI::App* show_ = nullptr;
  CLI::App* update_ = nullptr;
};

}  // namespace

std::unique_ptr<IncidentPart> add_incident_report(CLI::App& incident) { return std::make_unique<Part>(incident); }

}  // namespace rempart::cli
