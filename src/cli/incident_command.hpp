#pragma once
// `rempart incident …` and `rempart selfcheck`: the bad day made short
// (docs/incident.md). Each part lives in a file of its own:
//   incident_lockdown.cpp  `incident lockdown`: everyone out, every key new
//   incident_changes.cpp   `incident changes`: what changed since a time
//   incident_report.cpp    `incident report` and `incident register`: the
//                          72-hour notification and the breach register
//   selfcheck_command.cpp  `selfcheck`: the open windows, before an attacker
//   drill_command.cpp      `drill`: the 2026 breach replayed on a throwaway copy
// and this file puts them on the command line.
#include <memory>
#include <optional>

namespace CLI {
class App;
}

namespace rempart::cli {

// Each part adds its subcommands in its constructor (before parsing) and
// runs in run() after: the exit code of its command, nullopt if not given.
class IncidentPart {
 public:
  virtual ~IncidentPart() = default;
  virtual std::optional<int> run() const = 0;
};

std::unique_ptr<IncidentPart> add_incident_lockdown(CLI::App& incident);
std::unique_ptr<IncidentPart> add_incident_changes(CLI::App& incident);
std::unique_ptr<IncidentPart> add_incident_report(CLI::App& incident);
std::unique_ptr<IncidentPart> add_selfcheck(CLI::App& app);
std::unique_ptr<IncidentPart> add_drill(CLI::App& app);

class IncidentCommands {
 public:
  explicit IncidentCommands(CLI::App& app);
  ~IncidentCommands();
  IncidentCommands(const IncidentCommands&) = delete;
  IncidentCommands& operator=(const IncidentCommands&) = delete;

  std::optional<int> run() const;

 private:
  std::unique_ptr<IncidentPart> lockdown_, changes_, report_, selfcheck_, drill_;
};

}  // namespace rempart::cli
