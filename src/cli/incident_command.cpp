#include "cli/incident_command.hpp"

#include <CLI/CLI.hpp>

namespace rempart::cli {

IncidentCommands::IncidentCommands(CLI::App& app) {
  auto* incident = app.add_subcommand(
      "incident", "The bad day: lockdown, what changed, the 72-hour notification (docs/incident.md)");
  incident->require_subcommand(1);
  lockdown_ = add_incident_lockdown(*incident);
  changes_ = add_incident_changes(*incident);
  report_ = add_incident_report(*incident);
  selfcheck_ = add_selfcheck(app);
  drill_ = add_drill(app);
}

IncidentCommands::~IncidentCommands() = default;

std::optional<int> IncidentCommands::run() const {
  for (const auto* part : {lockdown_.get(), changes_.get(), report_.get(), selfcheck_.get(), drill_.get()}) {
    if (auto code = part->run()) return code;
  }
  return std::nullopt;
}

}  // namespace rempart::cli
