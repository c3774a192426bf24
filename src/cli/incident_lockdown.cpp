// `rempart incident lockdown` and `rempart incident release` on the command
// line; the work is in admin_commands.cpp (auth::AccountService::lock_down).
#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>

#include "cli/admin_commands.hpp"
#include "cli/incident_command.hpp"

namespace rempart::cli {
namespace {

class Lockdown final : public IncidentPart {
 public:
  explicit Lockdown(CLI::App& incident) {
    lockdown_ = incident.add_subcommand(
        "lockdown",
        "Everyone out: end every session, revoke every API token, disable every account but the break-glass "
        "admin, rotate every key, sign a checkpoint, alert");
    lockdown_->add_option("--config", config_, "Configuration file")->capture_default_str();
    lockdown_->add_option("--reason", reason_, "Why (one line, recorded in the audit log; no personal data)")
        ->required();
    lockdown_->add_option("--keep", keep_,
                          "The break-glass admin account that keeps its password and authenticator (its sessions "
                          "end too); without it, no account can sign in until released");
    release_ = incident.add_subcommand(
        "release", "Let one account back in after a lockdown: enabled, with a new enrolment link for its owner");
    release_->add_option("--config", config_, "Configuration file")->capture_default_str();
    release_->add_option("name", name_, "Account name")->required();
    release_->add_option("--reason", reason_, "Why it may come back (one line, recorded in the audit log)")
        ->required();
  }

  std::optional<int> run() const override {
    if (*lockdown_) return run_incident_lockdown(config_, keep_, reason_);
    if (*release_) return run_incident_release(config_, name_, reason_);
    return std::nullopt;
  }

 private:
  CLI::App* lockdown_ = nullptr;
  CLI::App* release_ = nullptr;
  std::filesystem::path config_ = "rempart.toml";
  std::string reason_, keep_, name_;
};

}  // namespace

std::unique_ptr<IncidentPart> add_incident_lockdown(CLI::App& incident) { return std::make_unique<Lockdown>(incident); }

}  // namespace rempart::cli
