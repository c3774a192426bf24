#pragma once
// Internal to the drill: the throwaway instance the vectors play against,
// its accounts, and the helpers they share. Not for other modules.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "drill/child.hpp"
#include "drill/drill.hpp"
#include "drill/plaintext.hpp"

namespace rempart::drill::detail {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using WallClock = std::chrono::system_clock;

// A console account the drill made with `admin add`, and what its owner
// was shown once. Synthetic; held in memory only.
struct Account {
  std::string name;
  std::string role;
  std::string password;
  std::vector<std::uint8_t> totp_secret;
  std::int64_t last_step = -1;  // the newest TOTP step spent (the server refuses older ones)
  std::string export_key;       // "rmpx1_…"
};

struct Instance {
  DrillOptions options;
  fs::path exe;
  fs::path root, data, keys, config, alerts_file;
  std::uint64_t honeytokens = 0;
  std::int64_t email_budget = 0;  // [guard] email_per_hour
  std::string canary_domain;
  Needles needles;  // every synthetic e-mail and phone, and the attack's own sign-ups'
  std::map<std::string, Account> accounts;
  std::optional<ServeProcess> serve;
  std::uint16_t intake_port = 0, console_port = 0;
  std::int64_t attack_since = 0;      // unix seconds: --since of the blast radius
  std::int64_t accepted_signups = 0;  // the injection vector's, then sought in the inbox
  std::set<std::string> revealed;     // record ids the stolen session got in clear (never printed)

  // `rempart args...` (this binary) to completion.
  Result<ChildResult> rempart(const std::vector<std::string>& args, std::chrono::seconds timeout,
                              const std::string& input = "") const;
  void say(std::string_view what) const;
};

// Waits (at most `timeout`) for a line of the alert file whose kind is one
// of `kinds` and, when `actor` is not empty, whose actor is it; the moment
// the server raised it (its `at`), or now if that does not parse. Lines are
// read as JSON; only kind, actor and at are looked at.
std::optional<WallClock::time_point> wait_alert(const Instance& in, const std::vector<std::string>& kinds,
                                            const std::string& actor, std::chrono::milliseconds timeout);

double seconds_between(Clock::time_point from, Clock::time_point to);
// `x` with `digits` decimals, for the findings.
std::string fixed(double x, int digits = 1);
double seconds_between(WallClock::time_point from, WallClock::time_point to);

// The vectors' names, in the scorecard's order (the 2026 chain's).
struct VectorName {
  const char* label;  // the step of the 2026 chain: "1" … "7", "5a" …
  const char* id;
  const char* title;
};
inline constexpr VectorName kInjection{"1", "injection", "Injection attack on the public sign-up forms"};
inline constexpr VectorName kDataCopy{"2", "data_copy", "A copy of the data directory (stolen disk, backup)"};
inline constexpr VectorName kIntakeTakeover{"3", "intake_takeover", "The internet-facing sign-up server taken over"};
inline constexpr VectorName kStolenPassword{"4", "stolen_password", "A stolen password, without the second factor"};
inline constexpr VectorName kBulkReveal{"5a", "bulk_reveal", "A stolen session revealing e-mails in bulk"};
inline constexpr VectorName kBulkListing{"5b", "bulk_listing", "A stolen session paging through the directory"};
inline constexpr VectorName kHoneytoken{"5c", "honeytoken", "A stolen session touching a decoy record"};
inline constexpr VectorName kInsiderExport{"6", "insider_export", "An insider exporting the whole list"};
inline constexpr VectorName kAuditTampering{"7", "audit_tampering", "Covering tracks: editing the audit log"};
inline constexpr VectorName kAllVectors[] = {kInjection,  kDataCopy,   kIntakeTakeover, kStolenPassword, kBulkReveal,
                                             kBulkListing, kHoneytoken, kInsiderExport,  kAuditTampering};

// A result named `name`, not yet played.
VectorResult start(const VectorName& name);

// The vectors, in the order they are played (each in its own file).
VectorResult injection(Instance& in);         // public_vectors.cpp
VectorResult intake_takeover(Instance& in);   // public_vectors.cpp
VectorResult stolen_password(Instance& in);   // console_vectors.cpp
VectorResult bulk_reveal(Instance& in);       // console_vectors.cpp
VectorResult bulk_listing(Instance& in);      // console_vectors.cpp
VectorResult honeytoken(Instance& in);        // console_vectors.cpp
BlastRadiusResult blast_radius(Instance& in);  // console_vectors.cpp
VectorResult insider_export(Instance& in);    // console_vectors.cpp
VectorResult data_copy(Instance& in);         // file_vectors.cpp
VectorResult audit_tampering(Instance& in);   // file_vectors.cpp

}  // namespace rempart::drill::detail
