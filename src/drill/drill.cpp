#include "drill/drill.hpp"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <random>
#include <regex>
#include <thread>

#include <sodium.h>
#include <toml++/toml.h>

#include "drill/instance.hpp"
#include "services/synth.hpp"

namespace rempart::drill {
namespace {

using namespace detail;

// The accounts the attack chain needs, each its own person: a budget that
// locks one must not stop the next vector.
struct AccountPlan {
  const char* name;
  const char* role;
};
constexpr AccountPlan kAccounts[] = {
    {"treasurer", "organiser"},    // its password is stolen (vector 4)
    {"organiser-a", "organiser"},  // its session is stolen and reveals (5)
    {"organiser-b", "organiser"},  // its session is stolen and lists (5)
    {"organiser-c", "organiser"},  // its session is stolen and meets a honeytoken (5)
    {"alice", "admin"},            // an insider who asks for a bulk export (6)
    {"bob", "admin"},              // the second admin who approves it (6)
};

// Removes the instance at the end, on every path, unless it is kept.
class RootGuard {
 public:
  explicit RootGuard(bool keep) : keep_(keep) {}
  ~RootGuard() {
    if (!keep_ && !path_.empty()) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  RootGuard(const RootGuard&) = delete;
  RootGuard& operator=(const RootGuard&) = delete;
  void set(fs::path p) { path_ = std::move(p); }

 private:
  bool keep_;
  fs::path path_;
};

Result<fs::path> make_root(const DrillOptions& o) {
  std::error_code ec;
  if (o.keep) {
    const fs::path dir = fs::absolute(*o.keep).lexically_normal();
    if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
      return fail(Errc::invalid_input, "--keep: " + dir.string() + " exists and is not empty");
    }
    fs::create_directories(dir, ec);
    if (ec) return fail(Errc::io, "--keep: cannot create " + dir.string());
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    if (ec) return fail(Errc::io, "--keep: cannot set mode 0700 on " + dir.string());
    return dir;
  }
  std::string tmpl = (fs::temp_directory_path(ec) / "rempart-drill-XXXXXX").string();
  if (ec) return fail(Errc::io, "no temporary directory");
  if (::mkdtemp(tmpl.data()) == nullptr) return fail(Errc::io, "cannot make a temporary directory");
  return fs::path(tmpl);  // mkdtemp makes it 0700
}

std::string random_password() {
  unsigned char b[18];
  randombytes_buf(b, sizeof b);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "Drill-";
  for (const unsigned char c : b) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out + "-Rempart";
}

// RFC 4648 base32 (no padding), as the otpauth:// URI carries the secret.
std::optional<std::vector<std::uint8_t>> base32_decode(std::string_view text) {
  std::vector<std::uint8_t> out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= '2' && c <= '7') v = c - '2' + 26;
    if (v < 0) return std::nullopt;
    buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

Result<void> step(const Result<ChildResult>& r, const char* what) {
  if (!r) return std::unexpected(r.error());
  if (r->exit_code != 0) {
    // The command's own last line says why (it never holds personal data).
    std::string why = r->err;
    while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
    const auto nl = why.find_last_of("\r\n");
    if (nl != std::string::npos) why = why.substr(nl + 1);
    return fail(Errc::internal, std::string(what) + " failed (exit " + std::to_string(r->exit_code) + "): " + why);
  }
  return {};
}

// The drill's own settings on top of what init wrote: alerts to a file it
// reads, a second admin who may approve at once (made minutes ago), and
// sign-up limits per address out of the way of the injection corpus (they
// would stop a scanner from one address, not one from many). The reveal
// budgets stay as init wrote them: they are what is being tested.
Result<void> adjust_config(Instance& in) {
  toml::table t;
  try {
    t = toml::parse_file(in.config.string());
  } catch (const toml::parse_error&) {
    return fail(Errc::config, "drill: the configuration init wrote does not parse");
  }
  auto* alerts = t["alerts"].as_table();
  auto* accounts = t["accounts"].as_table();
  auto* intake = t["intake"].as_table();
  if (alerts == nullptr || accounts == nullptr || intake == nullptr) {
    return fail(Errc::config, "drill: the configuration init wrote lacks [alerts], [accounts] or [intake]");
  }
  alerts->insert_or_assign("file", in.alerts_file.string());
  alerts->insert_or_assign("stderr_json", false);
  accounts->insert_or_assign("approver_cooling_hours", 0);
  intake->insert_or_assign("rate_per_minute", 1000000.0);
  intake->insert_or_assign("burst", 1000000.0);
  in.email_budget = t["guard"]["email_per_hour"].value_or<std::int64_t>(0);
  in.canary_domain = t["exports"]["canary_domain"].value_or<std::string>("");
  std::ofstream out(in.config, std::ios::trunc);
  out << t << "\n";
  if (!out) return fail(Errc::io, "drill: cannot write the configuration");
  return {};
}

Result<void> add_account(Instance& in, const AccountPlan& plan) {
  Account a;
  a.name = plan.name;
  a.role = plan.role;
  a.password = random_password();
  auto r = in.rempart({"admin", "add", a.name, "--role", a.role, "--password-stdin", "--config", in.config.string()},
                      std::chrono::seconds(120), a.password + "\n");
  if (auto s = step(r, "admin add"); !s) return s;
  static const std::regex secret_re("otpauth://[^\\s]*[?&]secret=([A-Z2-7]+)");
  static const std::regex key_re("(rmpx1_[A-Za-z0-9_-]+)");
  std::smatch m;
  if (!std::regex_search(r->out, m, secret_re)) return fail(Errc::internal, "admin add showed no authenticator secret");
  auto secret = base32_decode(m[1].str());
  if (!secret || secret->empty()) return fail(Errc::internal, "admin add showed an unreadable authenticator secret");
  a.totp_secret = std::move(*secret);
  if (std::regex_search(r->out, m, key_re)) a.export_key = m[1].str();
  in.accounts.emplace(a.name, std::move(a));
  return {};
}

Result<void> set_up(Instance& in) {
  in.data = in.root / "data";
  in.keys = in.root / "keys";
  in.config = in.root / "rempart.toml";
  in.alerts_file = in.root / "alerts.jsonl";
  const auto n = in.options.supporters, m = in.options.phones;

  in.say("building the instance: init");
  auto init = in.rempart({"init", "--data", in.data.string(), "--keys", in.keys.string(), "--config",
                          in.config.string(), "--listen", "127.0.0.1:0", "--console-listen", "127.0.0.1:0"},
                         std::chrono::seconds(120));
  if (auto s = step(init, "init"); !s) return s;
  if (auto s = adjust_config(in); !s) return s;

  in.say("building the instance: " + std::to_string(n) + " synthetic supporters");
  const auto synth_timeout = std::chrono::seconds(120 + static_cast<std::int64_t>(n / 100));
  auto synth = in.rempart({"supporters", "synth", std::to_string(n), "--phones", std::to_string(m), "--seed",
                           std::to_string(in.options.seed), "--config", in.config.string()},
                          synth_timeout);
  if (auto s = step(synth, "supporters synth"); !s) return s;

  // About 0.7 % of the directory, as docs/honeytokens.md advises.
  in.honeytokens = std::clamp<std::uint64_t>(n / 150, 5, 1000);
  in.say("building the instance: " + std::to_string(in.honeytokens) + " honeytokens");
  auto plant = in.rempart({"honeytokens", "plant", std::to_string(in.honeytokens), "--config", in.config.string()},
                          std::chrono::seconds(300));
  if (auto s = step(plant, "honeytokens plant"); !s) return s;

  in.say("building the instance: six console accounts");
  for (const auto& plan : kAccounts) {
    if (auto s = add_account(in, plan); !s) return s;
  }

  // What a thief would look for: every synthetic e-mail and phone.
  for (std::uint64_t i = 0; i < n; ++i) {
    const auto p = services::synth_person(in.options.seed, i, i < m);
    in.needles.add_email(p.email);
    if (!p.phone.empty()) in.needles.add_phone(p.phone);
  }
  return {};
}

// Set-up, then the chain; the scorecard in the 2026 chain's order, with a
// "not played" line for each vector that could not run.
void play(Instance& in, Scorecard& card, Clock::time_point started) {
  auto finish = [&](const std::string& why) {
    for (const auto& name : kAllVectors) {
      const bool played = std::any_of(card.vectors.begin(), card.vectors.end(),
                                      [&](const VectorResult& v) { return v.id == name.id; });
      if (played) continue;
      auto v = start(name);
      v.failure = why;
      card.vectors.push_back(std::move(v));
    }
    std::vector<VectorResult> ordered;
    for (const auto& name : kAllVectors) {
      for (auto& v : card.vectors) {
        if (v.id == name.id) ordered.push_back(std::move(v));
      }
    }
    card.vectors = std::move(ordered);
    if (!card.blast.ran && card.blast.failure.empty()) card.blast.failure = why;
  };
  if (auto s = set_up(in); !s) {
    card.failure = "set-up: " + s.error().internal;
    finish("the set-up failed");
    return;
  }
  card.honeytokens = in.honeytokens;
  card.setup_seconds = seconds_between(started, Clock::now());
  // The attack begins on the next whole second: everything the set-up
  // recorded (the honeytokens' sampling) is before --since.
  const auto now = WallClock::now();
  const auto next = std::chrono::ceil<std::chrono::seconds>(now);
  std::this_thread::sleep_for(next - now);
  in.attack_since = std::chrono::duration_cast<std::chrono::seconds>(next.time_since_epoch()).count();

  card.vectors.push_back(injection(in));
  card.vectors.push_back(intake_takeover(in));
  in.say("starting the keeper and the console");
  auto serve = ServeProcess::start(in.exe, {"serve", "--config", in.config.string()}, in.root / "serve.log");
  if (!serve) {
    card.failure = "serve did not start: " + serve.error().internal;
    finish("serve did not start");
    return;
  }
  in.serve.emplace(std::move(*serve));
  auto ip = in.serve->port("intake", std::chrono::seconds(60));
  auto cp = ip ? in.serve->port("console", std::chrono::seconds(60)) : ip;
  if (!ip || !cp) {
    card.failure = "serve did not start: " + (!ip ? ip : cp).error().internal;
    finish("serve did not start");
    return;
  }
  in.intake_port = *ip;
  in.console_port = *cp;
  card.vectors.push_back(stolen_password(in));
  card.vectors.push_back(bulk_reveal(in));
  card.vectors.push_back(bulk_listing(in));
  card.vectors.push_back(honeytoken(in));
  card.blast = blast_radius(in);
  card.vectors.push_back(insider_export(in));
  card.vectors.push_back(data_copy(in));
  in.say("stopping serve");
  const int stopped = in.serve->stop(std::chrono::seconds(60));
  in.serve.reset();
  if (stopped != 0) card.failure = "serve did not stop cleanly (exit " + std::to_string(stopped) + ")";
  card.vectors.push_back(audit_tampering(in));
  finish("not played");
}

}  // namespace

Result<Scorecard> run_drill(const DrillOptions& options) {
  if (options.supporters < 100 || options.supporters > 2'000'000) {
    return fail(Errc::invalid_input, "--supporters must be 100..2000000");
  }
  if (options.phones > options.supporters || options.phones > 50000) {
    return fail(Errc::invalid_input, "--phones must be at most --supporters, and at most 50000 (the fiction ranges)");
  }
  if (sodium_init() < 0) return fail(Errc::crypto, "libsodium did not start");
  const auto started = Clock::now();
  Scorecard card;
  card.supporters = options.supporters;
  card.phones = options.phones;

  fs::path root_path;
  {
    RootGuard guard(options.keep.has_value());
    Instance in;  // destroyed (its serve stopped) before the guard removes the directory
    in.options = options;
    std::error_code ec;
    in.exe = options.binary.empty() ? fs::read_symlink("/proc/self/exe", ec) : options.binary;
    if (ec || in.exe.empty()) return fail(Errc::io, "drill: cannot find this binary");
    auto root = make_root(options);
    if (!root) return std::unexpected(root.error());
    in.root = *root;
    root_path = in.root;
    guard.set(in.root);
    play(in, card, started);
  }
  card.removed = !options.keep && !root_path.empty() && !fs::exists(root_path);
  card.total_seconds = seconds_between(started, Clock::now());
  if (options.keep) {
    card.instance = fs::absolute(*options.keep).lexically_normal().string();
  }
  return card;
}

}  // namespace rempart::drill
