#pragma once
// The drill's scorecard: one line per attack vector (records exposed, what
// stopped it, how soon someone was alerted), the time to the list of people
// to warn, and a verdict. Counts and times only: never a value, e-mail,
// phone, name or record id.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rempart::drill {

struct VectorResult {
  std::string label;   // the step of the 2026 chain: "1" … "7", "5a" …
  std::string id;      // stable key for scripts: "injection", "data_copy", ...
  std::string title;   // what the attacker did, in a board member's words
  bool ran = false;    // false: the vector could not be played (see failure)
  std::int64_t exposed = 0;  // records (people) whose e-mail or phone the attacker got in clear
  std::int64_t bound = 0;    // the most the defences should let through
  std::string unit = "people exposed";  // what `exposed` counts, in words
  std::string stopped_by;    // what stopped it, in words
  std::optional<double> first_alert_seconds;  // from the first attempt to the first alert line
  std::string alert_note;                     // why there is no alert time, when there is none
  std::vector<std::string> findings;          // short lines: what happened, counts only
  nlohmann::json counts = nlohmann::json::object();  // the same as numbers, for scripts
  std::string failure;  // non-empty: a check of this vector failed, or it could not run

  bool ok() const { return ran && failure.empty() && exposed <= bound; }
};

struct BlastRadiusResult {
  bool ran = false;
  double seconds = 0;            // `audit blast-radius --since ... --csv`, wall time
  std::int64_t listed = 0;       // records it names as revealed or exported
  std::int64_t expected = 0;     // records the drill's stolen session revealed
  std::int64_t missing = 0;      // revealed by the drill, not listed
  std::int64_t extra = 0;        // listed, not revealed by the drill
  std::int64_t masked_only = 0;  // records it names as seen masked
  std::string failure;
  bool ok() const { return ran && failure.empty() && missing == 0 && extra == 0; }
};

struct Scorecard {
  std::uint64_t supporters = 0;
  std::uint64_t phones = 0;
  std::uint64_t honeytokens = 0;
  double setup_seconds = 0;
  double total_seconds = 0;
  std::string instance;   // the directory, when kept; "" when removed
  bool removed = false;   // the throwaway instance is gone
  std::vector<VectorResult> vectors;
  BlastRadiusResult blast;
  std::string failure;    // the drill itself could not complete (set-up)

  std::int64_t total_exposed() const;
  bool ok() const;
};

std::string render_text(const Scorecard& s);
nlohmann::json render_json(const Scorecard& s);

}  // namespace rempart::drill
