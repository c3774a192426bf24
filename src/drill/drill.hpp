#pragma once
// `rempart drill` (docs/drill.md): builds a throwaway instance with
// synthetic supporters and honeytokens, replays the 2026 attack chain
// against it and returns the scorecard. The instance is a temporary
// directory (mode 0700) removed at the end, on failure too, unless kept.
//
// Set-up and the operator's side run this binary's own commands as child
// processes (init, supporters synth, honeytokens plant, admin add, serve,
// audit, canary trace); the attacker's side talks HTTP to the served
// instance on the loopback only, and reads its files as a thief would.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string_view>

#include "core/error.hpp"
#include "drill/scorecard.hpp"

namespace rempart::drill {

struct DrillOptions {
  std::uint64_t supporters = 120000;
  std::uint64_t phones = 20000;  // at most supporters, at most 50,000 (the fiction ranges)
  std::uint64_t seed = 2026;
  // Build the instance here (a new or empty directory) and leave it; none:
  // a temporary directory, removed at the end.
  std::optional<std::filesystem::path> keep;
  // This binary: the drill runs its commands. Default /proc/self/exe.
  std::filesystem::path binary;
  // Where each step is announced (standard error by default); never a value.
  std::function<void(std::string_view)> progress;
};

// Errc::invalid_input for options out of range (nothing is created);
// otherwise the scorecard, whose `failure` says where an incomplete drill
// stopped.
Result<Scorecard> run_drill(const DrillOptions& options);

}  // namespace rempart::drill
