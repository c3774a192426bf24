// `rempart incident changes --since TIME [--until TIME] [--format table|jsonl]`
// (docs/incident.md, "What changed"): from the audit log, every change
// since a time (accounts, roles, tokens, budgets, keys, configuration,
// schema, exports, mailings, segments, locks, bulk runs, backups,
// lockdowns), grouped by kind, after the chain is verified. What is a
// change and the words for it: audit/changes.hpp. This file reads the log
// and prints.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>

#include "audit/changes.hpp"
#include "audit/verify.hpp"
#include "cli/commands.hpp"
#include "cli/incident_command.hpp"
#include "cli/keeper_access.hpp"
#include "services/audit_reader.hpp"
#include "store/store.hpp"

namespace rempart::cli {
namespace {

namespace fs = std::filesystem;
using audit::Change;
using audit::ChangeKind;
using audit::ChangeReport;

struct ChangesArgs {
  fs::path config = "rempart.toml";
  std::string since, until;
  std::string format = "table";
};

// "2026-01-01T10:00:00Z": seconds are enough to read a line at 03:00.
std::string when(std::int64_t at_us) { return format_time(at_us).substr(0, 19) + "Z"; }

// Printable ASCII of a text the log holds (an actor): one line, always.
std::string printable(std::string_view s) {
  std::string out;
  for (const char ch : s) out += (ch >= 0x20 && ch < 0x7f) ? ch : '?';
  return out;
}

const std::string* name_of(const audit::ActorNames& names, const std::string& actor) {
  const auto it = names.find(actor);
  return it == names.end() ? nullptr : &it->second;
}

// The chain as `audit verify` checks it (the outside checkpoint file of the
// configuration too), before anything is read from it.
struct ChainState {
  audit::VerifyReport report;
  // Entries from this seq on may be forged, altered or missing; 0: none.
  std::int64_t first_bad = 0;
};

std::string what_of(const Change& c) {
  if (c.entries <= 1) return c.what;
  return c.what + " (" + std::to_string(c.entries) + " entries, the last " + when(c.last_at_us) + ")";
}

bool after_fault(const ChainState& chain, const Change& c) {
  return chain.first_bad != 0 && c.last_seq >= chain.first_bad;
}

void print_chain_table(const ChainState& chain) {
  const auto& r = chain.report;
  if (!r.ok()) {
    const auto* first = r.first();
    std::cout << "!!! THE AUDIT LOG FAILED VERIFICATION: " << r.fault_count << " fault(s).\n"
              << "!!! First bad entry: seq " << first->seq << ": " << printable(first->reason) << "\n"
              << "!!! Entries from seq " << chain.first_bad
              << " on may be forged, altered or missing, and changes may be hidden. Lines marked ! are among them.\n"
              << "!!! Keep the database and the checkpoint file as they are; docs/audit.md, \"When verification "
                 "fails\".\n\n";
    return;
  }
  std::cout << "Audit log verified: entries 1.." << r.last_seq << ", signed up to seq " << r.covered_seq
            << (r.file_read ? ", held against the outside checkpoint file" : "") << ".\n";
  if (!r.file_read) {
    std::cout << "Warning: no outside checkpoint file is configured: a truncated or rolled-back log would not "
                 "show here.\n";
  }
  if (r.covered_seq < r.last_seq) {
    std::cout << "Note: entries " << r.covered_seq + 1 << ".." << r.last_seq
              << " are not yet signed in a checkpoint (`rempart audit checkpoint` signs them).\n";
  }
}

void print_table(const ChangeReport& rep, const ChainState& chain, const ChangesArgs& a,
                 std::pair<std::int64_t, std::int64_t> window) {
  print_chain_table(chain);
  std::cout << "Changes from " << when(window.first) << " until "
            << (a.until.empty() ? std::string("now") : when(window.second)) << ": " << rep.total()
            << (rep.total() == 1 ? " change" : " changes") << " in " << rep.entries() << " entries read.\n\n";

  // The summary: every kind that changed, then those that did not.
  std::string none;
  for (const ChangeKind k : audit::change_kinds()) {
    if (rep.count(k) == 0) {
      if (k != ChangeKind::unknown) none += (none.empty() ? "" : ", ") + std::string(audit::change_kind_name(k));
      continue;
    }
    std::cout << "  " << std::left << std::setw(16) << audit::change_kind_name(k) << std::right << std::setw(6)
              << rep.count(k) << "\n";
  }
  if (!none.empty()) std::cout << "  no change of: " << none << "\n";

  bool header = false;
  for (const ChangeKind k : audit::change_kinds()) {
    if (rep.count(k) == 0) continue;
    if (!header) {
      std::cout << "\n  " << std::left << std::setw(8) << "seq" << std::setw(22) << "time (UTC)" << std::setw(22)
                << "actor" << std::setw(24) << "action"
                << "what changed\n";
      header = true;
    }
    std::cout << "\n" << audit::change_kind_title(k) << " (" << rep.count(k) << ")\n";
    for (const Change& c : rep.changes()) {
      if (c.kind != k) continue;
      const auto* name = name_of(rep.names(), c.actor);
      const std::string actor = name != nullptr ? *name : printable(c.actor);
      std::cout << (after_fault(chain, c) ? "! " : "  ") << std::left << std::setw(8) << c.seq << std::setw(22)
                << when(c.at_us) << std::setw(22) << (actor.size() > 20 ? actor.substr(0, 19) + "~" : actor)
                << std::setw(24) << c.action << what_of(c) << "\n";
    }
  }
  if (rep.unlisted() > 0) {
    std::cout << "\n"
              << rep.unlisted() << " more changes are counted above but not listed (over " << audit::kMaxListedChanges
              << "): narrow the window with --until.\n";
  }
  if (!rep.not_listed().empty()) {
    std::int64_t n = 0;
    std::string by;
    for (const auto& [action, count] : rep.not_listed()) {
      n += count;
      by += (by.empty() ? "" : ", ") + printable(action) + (action == "service.start" ? " (nothing changed)" : "") +
            " " + std::to_string(count);
    }
    std::cout << "\nNot changes, not listed (reads, reveals, sign-ins, single records, routine): " << n
              << (n == 1 ? " entry" : " entries") << ":\n  " << by << "\n"
              << "  (`rempart audit query --since ...` lists them; `rempart audit blast-radius --since ...` says whose "
                 "data was seen.)\n";
  }
}

// JSON lines keep their members in the order written: `type` first.
using Json = nlohmann::ordered_json;

Json chain_json(const ChainState& chain) {
  const auto& r = chain.report;
  Json j = {{"ok", r.ok()},
            {"fault_count", r.fault_count},
            {"last_seq", r.last_seq},
            {"covered_seq", r.covered_seq},
            {"outside_checkpoints", r.file_read}};
  if (const auto* first = r.first()) {
    j["first_bad_seq"] = first->seq;
    j["first_fault"] = printable(first->reason);
  } else {
    j["first_bad_seq"] = nullptr;
  }
  return j;
}

void print_jsonl(const ChangeReport& rep, const ChainState& chain, const ChangesArgs& a,
                 std::pair<std::int64_t, std::int64_t> window) {
  const auto dump = [](const Json& j) { std::cout << j.dump(-1, ' ', true, Json::error_handler_t::replace) << "\n"; };
  Json by_kind = Json::object();
  for (const ChangeKind k : audit::change_kinds()) by_kind[std::string(audit::change_kind_name(k))] = rep.count(k);
  Json not_listed = Json::object();
  for (const auto& [action, count] : rep.not_listed()) not_listed[printable(action)] = count;
  dump({{"type", "summary"},
        {"since", format_time(window.first)},
        {"until", a.until.empty() ? Json(nullptr) : Json(format_time(window.second))},
        {"chain", chain_json(chain)},
        {"entries", rep.entries()},
        {"changes", rep.total()},
        {"by_kind", std::move(by_kind)},
        {"unlisted", rep.unlisted()},
        {"not_listed", std::move(not_listed)}});
  for (const Change& c : rep.changes()) {
    const auto* name = name_of(rep.names(), c.actor);
    dump({{"type", "change"},
          {"kind", audit::change_kind_name(c.kind)},
          {"seq", c.seq},
          {"time", format_time(c.at_us)},
          {"at_us", c.at_us},
          {"actor", printable(c.actor)},
          {"actor_name", name != nullptr ? Json(*name) : Json(nullptr)},
          {"action", c.action},
          {"what", c.what},
          {"entries", c.entries},
          {"last_seq", c.last_seq},
          {"last_time", format_time(c.last_at_us)},
          {"after_fault", after_fault(chain, c)}});
  }
}

int run_changes(const ChangesArgs& a) {
  if (a.format != "table" && a.format != "jsonl") {
    std::cerr << "rempart: --format must be table or jsonl\n";
    return 2;
  }
  if (a.since.empty()) {
    std::cerr << "rempart: --since is required: unix seconds or YYYY-MM-DD[THH:MM[:SS]][Z] (UTC)\n";
    return 2;
  }
  auto w = time_window(a.since, a.until);
  if (!w) return report(w.error());
  auto k = open_keeper(a.config);
  if (!k) return report(k.error());

  // The chain first: a responder must know whether the log itself was
  // changed before reading what it says changed.
  ChainState chain;
  audit::VerifyOptions opts;
  if (!k->config.audit.checkpoint_file.empty()) opts.checkpoint_file = k->config.audit.checkpoint_file;
  auto verified = audit::verify(*k->store, k->keys, opts);
  if (!verified) return report(verified.error());
  chain.report = std::move(*verified);
  if (const auto* first = chain.report.first()) chain.first_bad = first->seq > 0 ? first->seq : 1;

  auto names = services::account_names(*k->store);
  if (!names) return report(names.error());
  ChangeReport rep(std::move(*names));

  // What the starts before the window said, so the first start in it is
  // compared with its predecessor (the action index: starts only).
  store::AuditFilter starts;
  starts.action = "service.start";
  starts.until = w->first;
  auto before = k->store->scan_audit_filtered(starts, [&](const store::AuditEntryRow& e) {
    rep.before(e);
    return true;
  });
  if (!before) return report(before.error());

  // The window, streamed one entry at a time: memory holds the lines, never
  // the entries.
  store::AuditFilter in_window;
  in_window.since = w->first;
  in_window.until = w->second;
  auto read = k->store->scan_audit_filtered(in_window, [&](const store::AuditEntryRow& e) {
    rep.add(e);
    return true;
  });
  if (!read) return report(read.error());

  if (a.format == "jsonl") {
    print_jsonl(rep, chain, a, *w);
  } else {
    print_table(rep, chain, a, *w);
  }
  std::cout.flush();
  if (!chain.report.ok()) {
    std::cerr << "rempart: the audit log FAILED verification (" << chain.report.fault_count
              << " fault(s), first bad entry seq " << chain.first_bad
              << "): the changes listed are what the log says, and it was changed; `rempart audit verify` tells "
                 "more\n";
    return 1;
  }
  return 0;
}

class Part final : public IncidentPart {
 public:
  explicit Part(CLI::App& incident) {
    cmd_ = incident.add_subcommand(
        "changes",
        "Every account, role, token, budget, key, configuration, schema, export and mailing change since a time, "
        "from the verified audit log");
    cmd_->add_option("--config", args_.config, "Configuration file")->capture_default_str();
    cmd_->add_option("--since", args_.since,
                     "From (inclusive): unix seconds or YYYY-MM-DD[THH:MM[:SS]][Z], UTC; e.g. the first sign of "
                     "the intrusion")
        ->required();
    cmd_->add_option("--until", args_.until, "To (exclusive), same forms; default: now");
    cmd_->add_option("--format", args_.format, "table (grouped by kind) | jsonl (a summary line, then one per change)")
        ->check(CLI::IsMember({"table", "jsonl"}))
        ->capture_default_str();
  }

  std::optional<int> run() const override {
    if (!cmd_->parsed()) return std::nullopt;
    return run_changes(args_);
  }

 private:
  CLI::App* cmd_ = nullptr;
  ChangesArgs args_;
};

}  // namespace

std::unique_ptr<IncidentPart> add_incident_changes(CLI::App& incident) { return std::make_unique<Part>(incident); }

}  // namespace rempart::cli
